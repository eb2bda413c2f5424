/**
 * Helpers for the controller integration tests: object builders for the stand-in API server,
 * a snapshot recorder, and polling.
 */
import type { KubeObject } from '@tether/dialects';
import type { Snapshot } from '@tether/controller';
import type { JsonObject } from '@tether/testkit';

export const CONTROLLER = 'tether.dev/ingress-controller';
export const NS = 'shop';

/** Polls until `check` returns true (or a truthy value) or `timeoutMs` passes. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 3000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`${what} not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function ingressClass(name = 'tether', controller = CONTROLLER): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name },
    spec: { controller },
  };
}

export function service(name: string, annotations: Record<string, string> = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: NS, annotations },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }], selector: { app: name } },
  };
}

/**
 * An EndpointSlice of `serviceName` with one loopback endpoint (an echo backend's port). A
 * slice has one port list, so each echo backend gets its own slice; `name` picks which slice.
 */
export function slice(
  serviceName: string,
  port: number,
  opts: { name?: string; ready?: boolean; terminating?: boolean; address?: string } = {},
): JsonObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: opts.name ?? `${serviceName}-${port}`,
      namespace: NS,
      labels: { 'kubernetes.io/service-name': serviceName },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: [
      {
        addresses: [opts.address ?? '127.0.0.1'],
        conditions: {
          ready: opts.ready ?? true,
          serving: true,
          terminating: opts.terminating ?? false,
        },
      },
    ],
  };
}

export function ingress(
  name: string,
  opts: {
    host: string;
    service: string;
    path?: string;
    annotations?: Record<string, string>;
    className?: string;
  },
): JsonObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: NS, annotations: opts.annotations ?? {} },
    spec: {
      ingressClassName: opts.className ?? 'tether',
      rules: [
        {
          host: opts.host,
          http: {
            paths: [
              {
                path: opts.path ?? '/',
                pathType: 'Prefix',
                backend: { service: { name: opts.service, port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  };
}

export function gatewayClass(name = 'tether', controller = CONTROLLER): JsonObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name },
    spec: { controllerName: controller },
  };
}

export function gateway(name = 'web', className = 'tether'): JsonObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name, namespace: NS },
    spec: {
      gatewayClassName: className,
      listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
    },
  };
}

export function httpRoute(
  name: string,
  opts: {
    host: string;
    service: string;
    gateway?: string;
    extraParents?: JsonObject[];
    sessionPersistence?: JsonObject;
  },
): JsonObject {
  const rule: JsonObject = {
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    backendRefs: [{ name: opts.service, port: 80 }],
  };
  if (opts.sessionPersistence) rule.sessionPersistence = opts.sessionPersistence;
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: NS },
    spec: {
      parentRefs: [{ name: opts.gateway ?? 'web' }, ...(opts.extraParents ?? [])],
      hostnames: [opts.host],
      rules: [rule],
    },
  };
}

/** Collects the snapshots a source delivers. */
export class SnapshotLog {
  readonly snapshots: Snapshot[] = [];
  readonly callback = (snapshot: Snapshot): void => {
    this.snapshots.push(snapshot);
  };

  get latest(): Snapshot | undefined {
    return this.snapshots.at(-1);
  }

  find(kind: string, name: string, namespace = NS): KubeObject | undefined {
    return this.latest?.objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.name === name &&
        (o.metadata.namespace ?? '') === (kind.endsWith('Class') ? '' : namespace),
    );
  }
}
