import type { KubeObject } from '../../../packages/dialects/src/types';

export interface IngressOptions {
  name?: string;
  host?: string;
  tlsHosts?: string[];
  service?: string;
  port?: number | string;
  className?: string;
}

/** A small Ingress with one rule and one path, for tests. */
export function ingress(annotations: Record<string, string>, o: IngressOptions = {}): KubeObject {
  const port = typeof o.port === 'string' ? { name: o.port } : { number: o.port ?? 80 };
  const rule: Record<string, unknown> = {
    http: {
      paths: [
        {
          path: '/',
          pathType: 'Prefix',
          backend: { service: { name: o.service ?? 'web', port } },
        },
      ],
    },
  };
  if (o.host !== undefined) rule.host = o.host;
  const spec: Record<string, unknown> = { rules: [rule] };
  if (o.tlsHosts) spec.tls = [{ hosts: o.tlsHosts, secretName: 'tls' }];
  if (o.className) spec.ingressClassName = o.className;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: o.name ?? 'shop', namespace: 'shop', annotations },
    spec,
  };
}

export function clusterService(name: string, ports: { port: number; name?: string }[]): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { ports },
  };
}
