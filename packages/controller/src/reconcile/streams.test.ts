import { describe, expect, it } from '@jest/globals';
import { createRouteTable } from '@tether/dataplane';
import type { KubeObject } from '@tether/dialects';
import { CONTROLLER_NAME, SERVICE_LB_CLASS, type ServingOptions } from '../serving';
import { reconcile } from './reconcile';
import { ReconcileState } from './state';

const CLUSTER: ServingOptions = {
  ingressClass: 'tether',
  controllerName: CONTROLLER_NAME,
  serveAll: false,
};

function service(
  name: string,
  port: number,
  over: { loadBalancerClass?: string; created?: string; protocol?: string } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: 'games',
      creationTimestamp: over.created ?? '2026-01-01T00:00:00Z',
    },
    spec: {
      type: 'LoadBalancer',
      ...(over.loadBalancerClass ? { loadBalancerClass: over.loadBalancerClass } : {}),
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'game', port, protocol: over.protocol ?? 'TCP' }],
    },
  };
}

function slice(name: string, addresses: string[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${name}-abc`,
      namespace: 'games',
      labels: { 'kubernetes.io/service-name': name },
    },
    addressType: 'IPv4',
    ports: [{ name: 'game', port: 7000, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  } as KubeObject;
}

const snapshot = (objects: KubeObject[], generation = 1) => ({ generation, objects });

describe('Service listeners in the table', () => {
  it('serves a Service of our loadBalancerClass, and one without a class only when told to', () => {
    const theirs = service('arena', 7777);
    const ours = service('arena', 7777, { loadBalancerClass: SERVICE_LB_CLASS });
    const other = service('arena', 7777, { loadBalancerClass: 'example.com/lb' });
    const endpoints = slice('arena', ['10.0.0.1']);
    const streams = (objects: KubeObject[], options: ServingOptions) =>
      reconcile(snapshot(objects), undefined, options).table.streams?.map(
        (s) => `${s.protocol}:${s.port} ${s.backendSet.policy.mode}`,
      );
    expect(streams([theirs, endpoints], CLUSTER)).toBeUndefined();
    expect(
      streams([other, endpoints], { ...CLUSTER, serviceLoadBalancers: 'all' }),
    ).toBeUndefined();
    expect(streams([ours, endpoints], CLUSTER)).toEqual(['TCP:7777 sourceIp']);
    expect(streams([theirs, endpoints], { ...CLUSTER, serviceLoadBalancers: 'all' })).toEqual([
      'TCP:7777 sourceIp',
    ]);
    expect(streams([other, endpoints], { ...CLUSTER, serveAll: true })).toEqual([
      'TCP:7777 sourceIp',
    ]);
  });

  it('refuses a Service whose port is out of range and still serves the others', () => {
    const bad = service('broken', 0);
    const result = reconcile(snapshot([bad, service('arena', 7777)]), undefined, {
      ...CLUSTER,
      serveAll: true,
    });
    expect(result.table.streams?.map((s) => s.port)).toEqual([7777]);
    expect(createRouteTable(result.table).streams).toHaveLength(1);
    expect(
      result.diagnostics
        .filter((d) => d.reason === 'InvalidObject')
        .map((d) => d.sources.map((s) => `${s.name} ${s.field}`)),
    ).toEqual([['broken spec.ports.0.port']]);
  });

  it('gives a port two Services claim to the older one and warns about both', () => {
    const older = service('arena', 7777, { created: '2026-01-01T00:00:00Z' });
    const newer = service('lobby', 7777, { created: '2026-02-01T00:00:00Z' });
    const result = reconcile(snapshot([newer, older]), undefined, { ...CLUSTER, serveAll: true });
    expect(result.table.streams?.map((s) => s.backendSet.id)).toEqual([
      expect.stringContaining('Service/games/arena'),
    ]);
    const duplicate = result.diagnostics.filter((d) => d.reason === 'DuplicateRoute');
    expect(duplicate.map((d) => d.sources.map((s) => s.name))).toEqual([['arena', 'lobby']]);
  });

  it('follows an endpoint change in place and keeps the same list when no Service changed', () => {
    const state = new ReconcileState();
    const options = { ...CLUSTER, serveAll: true, state };
    const arena = service('arena', 7777);
    const first = reconcile(snapshot([arena, slice('arena', ['10.0.0.1'])]), undefined, options);
    const moved = reconcile(snapshot([arena, slice('arena', ['10.0.0.2'])], 2), first, options);
    expect(state.cache.patched).toBe(1);
    expect(
      moved.table.streams?.[0]?.backendSet.backends[0]?.endpoints.map((e) => e.address),
    ).toEqual(['10.0.0.2']);
    const ingress: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: 'games' },
      spec: { defaultBackend: { service: { name: 'arena', port: { number: 7777 } } } },
    };
    const withIngress = reconcile(
      snapshot([arena, slice('arena', ['10.0.0.2']), ingress], 3),
      moved,
      options,
    );
    expect(withIngress.table.streams).toBe(moved.table.streams);
  });
});

describe('TLS passthrough routes in the table', () => {
  const nginx = (
    name: string,
    annotations: Record<string, string>,
    created: string,
  ): KubeObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: 'games',
      creationTimestamp: created,
      annotations: { 'nginx.ingress.kubernetes.io/ssl-passthrough': 'true', ...annotations },
    },
    spec: {
      ingressClassName: 'tether',
      rules: [
        {
          host: 'Vault.Example.test',
          http: {
            paths: [
              {
                path: '/',
                pathType: Prefix,
                backend: { service: { name: 'arena', port: { number: 7777 } } },
              },
            ],
          },
        },
      ],
    },
  });
  const Prefix = 'Prefix';

  it('serves an ingress-nginx ssl-passthrough host, the older Ingress of two, without cookies', () => {
    const result = reconcile(
      snapshot([
        service('arena', 7777),
        slice('arena', ['10.0.0.1']),
        nginx('first', {}, '2026-01-01T00:00:00Z'),
        nginx(
          'second',
          { 'nginx.ingress.kubernetes.io/affinity': 'cookie' },
          '2026-02-01T00:00:00Z',
        ),
      ]),
      undefined,
      { ...CLUSTER, serveAll: true },
    );
    expect(
      result.table.passthrough?.map((p) => [p.host, p.backendSet.id, p.backendSet.policy.mode]),
    ).toEqual([['vault.example.test', 'Ingress/games/first#rules[0].paths[0]', 'none']]);
    // The younger Ingress's cookie cannot apply to passthrough, and it loses the host.
    expect(
      result.diagnostics
        .filter((d) => d.message.includes('passthrough'))
        .map((d) => [d.reason, d.sources.map((x) => x.name)]),
    ).toEqual([
      ['IneffectiveSetting', ['second']],
      ['DuplicateRoute', ['first', 'second']],
    ]);
    expect(() => createRouteTable(result.table)).not.toThrow();
  });
});
