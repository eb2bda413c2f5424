import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@tether/dialects';
import { createRouteTable, type BackendSet, type RouteTable } from '@tether/dataplane';
import { ReconcileState } from './state';
import { reconcile, type ReconcileResult } from './reconcile';
import { CONTROLLER_NAME, type ServingOptions } from '../serving';

const serving: ServingOptions = {
  ingressClass: 'tether',
  controllerName: CONTROLLER_NAME,
  serveAll: false,
};

function service(name: string, port = 80): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop' },
    spec: { ports: [{ name: 'http', port, targetPort: 8080 }] },
  };
}

function slice(
  service: string,
  addresses: string[],
  conditions: Record<string, boolean> = { ready: true },
): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-abc`,
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions })),
  };
}

function ingress(
  name: string,
  annotations: Record<string, string>,
  opts: {
    cls?: string | false;
    host?: string;
    path?: string;
    backend?: string;
    created?: string;
  } = {},
): KubeObject {
  const spec: Record<string, unknown> = {
    rules: [
      {
        host: opts.host ?? 'shop.example',
        http: {
          paths: [
            {
              path: opts.path ?? '/',
              pathType: 'Prefix',
              backend: { service: { name: opts.backend ?? 'web', port: { number: 80 } } },
            },
          ],
        },
      },
    ],
  };
  // `cls: false` leaves the class out, as an Ingress written for the default class does.
  if (opts.cls !== false) spec.ingressClassName = opts.cls ?? 'tether';
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: 'shop',
      annotations,
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
    },
    spec,
  };
}

const sticky = {
  'nginx.ingress.kubernetes.io/affinity': 'cookie',
  'nginx.ingress.kubernetes.io/session-cookie-name': 'sid',
};

/**
 * The routes of the plain HTTP listener (ingress-nginx serves every host on HTTPS as well,
 * with the same sets: those are checked where it matters).
 */
function sets(table: RouteTable): { host: string; path: string; set: BackendSet }[] {
  return table.listeners
    .filter((l) => l.protocol === 'HTTP')
    .flatMap((l) =>
      l.hosts.flatMap((h) =>
        h.paths.map((p) => ({ host: h.host, path: p.path, set: p.backendSet })),
      ),
    );
}

function run(
  objects: KubeObject[],
  previous?: ReconcileResult,
  options: ServingOptions = serving,
): ReconcileResult {
  return reconcile({ generation: 1, objects }, previous, options);
}

describe('reconcile', () => {
  it('turns an annotated Ingress, its Service and EndpointSlice into a valid table', () => {
    const result = run([
      service('web'),
      slice('web', ['10.0.0.1', '10.0.0.2']),
      ingress('web', sticky),
    ]);
    expect(() => createRouteTable(result.table)).not.toThrow();
    const [route] = sets(result.table);
    expect(route?.host).toBe('shop.example');
    expect(route?.set.policy.mode).toBe('cookie');
    expect(route?.set.policy.cookie?.name).toBe('sid');
    expect(route?.set.backends[0]?.endpoints.map((e) => `${e.address}:${e.port}`)).toEqual([
      '10.0.0.1:8080',
      '10.0.0.2:8080',
    ]);
    expect(result.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
  });

  it('keeps the last good policy of a refused entry point and reports the error', () => {
    const good = run([service('web'), slice('web', ['10.0.0.1']), ingress('web', sticky)]);
    const conflicting = {
      ...sticky,
      'oci-native-ingress.oraclecloud.com/session-persistence-config':
        '{"cookieName":"JSESSIONID"}',
    };
    const refused = run(
      [service('web'), slice('web', ['10.0.0.1', '10.0.0.9']), ingress('web', conflicting)],
      good,
    );
    expect(refused.diagnostics.map((d) => d.reason)).toContain('ConflictingPersistence');
    const [route] = sets(refused.table);
    expect(route?.set.policy).toEqual(sets(good.table)[0]?.set.policy);
    // Endpoints still follow the cluster: only the policy is held back.
    expect(route?.set.backends[0]?.endpoints).toHaveLength(2);
  });

  it('does not serve an entry point that never had a good configuration', () => {
    const bad = { ...sticky, 'nginx.ingress.kubernetes.io/load-balance': 'fastest' };
    const result = run([service('web'), slice('web', ['10.0.0.1']), ingress('web', bad)]);
    expect(result.diagnostics.map((d) => d.reason)).toContain('InvalidAnnotation');
    expect(sets(result.table)).toEqual([]);
  });

  it('serves only Ingresses of its class, unless told to serve everything', () => {
    const objects = [
      service('web'),
      slice('web', ['10.0.0.1']),
      ingress('web', sticky, { cls: 'nginx' }),
    ];
    expect(sets(run(objects).table)).toEqual([]);
    expect(sets(run(objects, undefined, { ...serving, serveAll: true }).table)).toHaveLength(1);
    const ourClass: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'nginx' },
      spec: { controller: CONTROLLER_NAME },
    };
    expect(sets(run([...objects, ourClass]).table)).toHaveLength(1);
  });

  it('serves an Ingress without a class only when our IngressClass is the default', () => {
    const unclassed = ingress('web', sticky, { cls: false });
    const base = [service('web'), slice('web', ['10.0.0.1']), unclassed];
    expect(sets(run(base).table)).toEqual([]);
    const defaultClass: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: {
        name: 'tether',
        annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' },
      },
      spec: { controller: CONTROLLER_NAME },
    };
    expect(sets(run([...base, defaultClass]).table)).toHaveLength(1);
  });

  it('gives a weighted split one backend set with the weights of its backends', () => {
    const route: KubeObject = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'split', namespace: 'shop' },
      spec: {
        hostnames: ['shop.example'],
        rules: [
          {
            backendRefs: [
              { name: 'web', port: 80, weight: 70 },
              { name: 'beta', port: 80, weight: 30 },
            ],
            sessionPersistence: { sessionName: 'sid' },
          },
        ],
      },
    };
    const result = run(
      [
        service('web'),
        service('beta'),
        slice('web', ['10.0.0.1']),
        slice('beta', ['10.0.1.1']),
        route,
      ],
      undefined,
      { ...serving, serveAll: true },
    );
    const [only] = sets(result.table);
    expect(only?.set.backends.map((b) => [b.ref.service, b.weight])).toEqual([
      ['beta', 30],
      ['web', 70],
    ]);
  });

  it('folds an ingress-nginx canary into the primary of the same host and path', () => {
    const primary = ingress('web', sticky);
    const canary = ingress(
      'web-canary',
      {
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '20',
      },
      { backend: 'beta', created: '2026-02-01T00:00:00Z' },
    );
    const result = run([
      service('web'),
      service('beta'),
      slice('web', ['10.0.0.1']),
      slice('beta', ['10.0.1.1']),
      primary,
      canary,
    ]);
    const routes = sets(result.table);
    expect(routes).toHaveLength(1);
    expect(routes[0]?.set.backends.map((b) => [b.ref.service, b.canary?.weight])).toEqual([
      ['web', undefined],
      ['beta', 20],
    ]);
  });

  it('serves the older of two Ingresses claiming one host and path and warns', () => {
    const older = ingress('first', sticky, { created: '2026-01-01T00:00:00Z' });
    const newer = ingress('second', {}, { created: '2026-03-01T00:00:00Z' });
    const result = run([service('web'), slice('web', ['10.0.0.1']), newer, older]);
    expect(sets(result.table).map((r) => r.set.id)).toEqual([
      'Ingress/shop/first#rules[0].paths[0]',
    ]);
    expect(result.diagnostics.map((d) => d.reason)).toContain('DuplicateRoute');
  });

  describe('a Gateway route and an Ingress on one host and path of the proxy port', () => {
    const gatewayObjects: KubeObject[] = [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'GatewayClass',
        metadata: { name: 'tether' },
        spec: { controllerName: CONTROLLER_NAME },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'public', namespace: 'shop' },
        spec: {
          gatewayClassName: 'tether',
          listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }],
        },
      },
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'web', namespace: 'shop', creationTimestamp: '2026-05-01T00:00:00Z' },
        spec: {
          parentRefs: [{ name: 'public' }],
          hostnames: ['shop.example'],
          rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
        },
      },
    ];
    const base = [service('web'), slice('web', ['10.0.0.1']), ...gatewayObjects];
    // Older than the route: were it a contest the older wins, the Ingress would be served.
    const old = ingress('legacy', sticky, { created: '2026-01-01T00:00:00Z' });

    function shadowWarnings(result: ReconcileResult): string[] {
      return result.diagnostics
        .filter((d) => d.reason === 'DuplicateRoute')
        .map((d) => d.sources.map((s) => `${s.kind}/${s.name}`).join(' < '));
    }

    it('serves the Gateway route, matched first, and warns naming both', () => {
      const result = run([...base, old], undefined, { ...serving, serveAll: true });
      expect(shadowWarnings(result)).toEqual(['Ingress/legacy < HTTPRoute/web']);
      const accepted = createRouteTable(result.table);
      const gatewayListener = accepted.listeners.find((l) => l.hostname === '*');
      expect(gatewayListener?.hosts.map((h) => h.host)).toEqual(['shop.example']);
    });

    it('gives the same warning when the Ingress comes after the route is served', () => {
      const state = new ReconcileState();
      const options = { ...serving, serveAll: true, state };
      // Another Ingress makes the listeners an Ingress goes to: the next one can go in place.
      const objects = [...base, ingress('other', sticky, { host: 'other.example' })];
      const first = reconcile({ generation: 1, objects }, undefined, options);
      expect(shadowWarnings(first)).toEqual([]);
      // Newer than the route: it would go at the end of the table, in place.
      const newer = ingress('legacy', sticky, { created: '2026-06-01T00:00:00Z' });
      const second = reconcile({ generation: 2, objects: [...objects, newer] }, first, options);
      expect(shadowWarnings(second)).toEqual(['Ingress/legacy < HTTPRoute/web']);
      const third = reconcile({ generation: 3, objects }, second, options);
      expect(shadowWarnings(third)).toEqual([]);
    });

    it('warns for an Ingress path inside the route path, not for one around it', () => {
      const all = { ...serving, serveAll: true };
      const inside = ingress('legacy', sticky, { path: '/api' });
      expect(shadowWarnings(run([...base, inside], undefined, all))).toEqual([
        'Ingress/legacy < HTTPRoute/web',
      ]);
      // The route takes /api of an Ingress of /: the rest of / still reaches the Ingress.
      const narrow = structuredClone(gatewayObjects);
      const rule = (narrow[2]!.spec as { rules: Record<string, unknown>[] }).rules[0]!;
      rule.matches = [{ path: { type: 'PathPrefix', value: '/api' } }];
      const around = ingress('legacy', sticky, { path: '/' });
      const objects = [service('web'), slice('web', ['10.0.0.1']), ...narrow, around];
      expect(shadowWarnings(run(objects, undefined, all))).toEqual([]);
      // Nor for a path beside it: /apix is not under /api.
      const beside = ingress('legacy', sticky, { path: '/apix' });
      const besides = [service('web'), slice('web', ['10.0.0.1']), ...narrow, beside];
      expect(shadowWarnings(run(besides, undefined, all))).toEqual([]);
    });

    it('does not warn when a listener of the exact hostname takes the host', () => {
      // shop.example goes to that listener; it has no route for /, so the Ingress answers.
      const two = structuredClone(gatewayObjects);
      const spec = two[1]!.spec as { listeners: Record<string, unknown>[] };
      spec.listeners.push({ name: 'shop', protocol: 'HTTP', port: 80, hostname: 'shop.example' });
      two.push({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'other', namespace: 'shop' },
        spec: {
          parentRefs: [{ name: 'public', sectionName: 'shop' }],
          rules: [
            {
              matches: [{ path: { type: 'PathPrefix', value: '/other' } }],
              backendRefs: [{ name: 'web', port: 80 }],
            },
          ],
        },
      });
      (two[2]!.spec as Record<string, unknown>).parentRefs = [
        { name: 'public', sectionName: 'http' },
      ];
      const objects = [service('web'), slice('web', ['10.0.0.1']), ...two, old];
      const result = run(objects, undefined, { ...serving, serveAll: true });
      expect(shadowWarnings(result)).toEqual([]);
      // The scenario holds: the shop.example listener is in the table (its route is /other).
      const listeners = createRouteTable(result.table).listeners;
      expect(
        listeners.find((l) => l.hostname === 'shop.example')?.hosts.map((h) => h.host),
      ).toEqual(['shop.example']);
    });
  });

  it('warns when a route names a Service that does not exist, and answers it with no endpoints', () => {
    const result = run([ingress('web', sticky, { backend: 'ghost' })]);
    expect(result.diagnostics.map((d) => d.reason)).toContain('BackendNotFound');
    expect(sets(result.table)[0]?.set.backends[0]?.endpoints).toEqual([]);
  });

  it('reads draining endpoints from EndpointSlice conditions', () => {
    const draining = slice('web', ['10.0.0.3'], { ready: false, serving: true, terminating: true });
    const result = run([service('web'), draining, ingress('web', sticky)]);
    expect(sets(result.table)[0]?.set.backends[0]?.endpoints).toEqual([
      {
        address: '10.0.0.3',
        port: 8080,
        portName: 'http',
        ready: false,
        serving: true,
        terminating: true,
      },
    ]);
  });

  it('keeps the Pod and port name of an endpoint, which the OpenShift cookie is made of', () => {
    const withPods = slice('web', ['10.0.0.4', '10.0.0.5']);
    (withPods.endpoints as Record<string, unknown>[])[0]!.targetRef = {
      kind: 'Pod',
      name: 'web-1',
    };
    (withPods.endpoints as Record<string, unknown>[])[1]!.targetRef = { kind: 'Node', name: 'n1' };
    const result = run([service('web'), withPods, ingress('web', sticky)]);
    expect(
      sets(result.table)[0]?.set.backends[0]?.endpoints.map((e) => [e.address, e.pod, e.portName]),
    ).toEqual([
      ['10.0.0.4', 'web-1', 'http'],
      ['10.0.0.5', undefined, 'http'],
    ]);
  });

  it('parses again only the objects that changed', () => {
    const state = new ReconcileState();
    const cache = state.cache;
    const objects = [
      service('web'),
      slice('web', ['10.0.0.1']),
      ingress('a', sticky, { host: 'a.example' }),
      ingress('b', sticky, { host: 'b.example' }),
    ];
    reconcile({ generation: 1, objects }, undefined, { ...serving, state });
    const misses = cache.misses;
    const changed = objects.map((o) =>
      o.metadata.name === 'b'
        ? {
            ...o,
            metadata: {
              ...o.metadata,
              annotations: {
                ...sticky,
                'nginx.ingress.kubernetes.io/session-cookie-name': 'other',
              },
            },
          }
        : o,
    );
    const result = reconcile({ generation: 2, objects: changed }, undefined, { ...serving, state });
    expect(cache.misses - misses).toBe(1);
    expect(sets(result.table).find((r) => r.host === 'b.example')?.set.policy.cookie?.name).toBe(
      'other',
    );
  });
});
