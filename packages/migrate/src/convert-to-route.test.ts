import { describe, expect, it } from '@jest/globals';
import type { Diagnostic, ResolvedEntry } from '@tether/model';
import { migrate } from './index';
import type { Conversion } from './conversion';
import { httpRouteToRoutes, ingressToRoutes } from './convert-to-route';
import { findDialect } from '@tether/dialects';
import {
  analyze,
  applyToObject,
  entriesOf,
  flatOf,
  namespaceOf,
  readManifestText,
  type KubeObject,
} from '@tether/dialects';

function ingress(annotations: Record<string, string> = {}, tls = false): KubeObject {
  const backend = (name: string, port: Record<string, unknown>) => ({
    service: { name, port },
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'shop', namespace: 'shop', annotations, labels: { app: 'shop' } },
    spec: {
      ...(tls ? { tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }] } : {}),
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: backend('web', { name: 'http' }) },
              { path: '/api', pathType: 'Exact', backend: backend('api', { number: 8080 }) },
            ],
          },
        },
      ],
    },
  };
}

describe('Ingress to Routes', () => {
  it('writes one Route per path, edge with Redirect for TLS hosts', () => {
    const conversion = ingressToRoutes(ingress({}, true));
    expect(conversion?.objects).toEqual([
      {
        apiVersion: 'route.openshift.io/v1',
        kind: 'Route',
        metadata: { name: 'shop-0', namespace: 'shop', labels: { app: 'shop' } },
        spec: {
          host: 'shop.example.com',
          path: '/',
          to: { kind: 'Service', name: 'web' },
          port: { targetPort: 'http' },
          tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' },
        },
      },
      {
        apiVersion: 'route.openshift.io/v1',
        kind: 'Route',
        metadata: { name: 'shop-1', namespace: 'shop', labels: { app: 'shop' } },
        spec: {
          host: 'shop.example.com',
          path: '/api',
          to: { kind: 'Service', name: 'api' },
          port: { targetPort: 8080 },
          tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' },
        },
      },
    ]);
    expect([...(conversion?.ruleMap ?? [])]).toEqual([
      ['shop-0#route', 'rules[0].paths[0]'],
      ['shop-1#route', 'rules[0].paths[1]'],
    ]);
    expect(conversion?.notes.join('\n')).toMatch(/Exact path \/api/);
    expect(conversion?.notes.join('\n')).toMatch(/certificate/);
  });

  it('keeps the Ingress name for a single path and leaves plain HTTP plain', () => {
    const one = ingress();
    const spec = one.spec as { rules: { http: { paths: unknown[] } }[] };
    spec.rules[0]?.http.paths.splice(1);
    const conversion = ingressToRoutes(one);
    expect(conversion?.objects.map((o) => o.metadata.name)).toEqual(['shop']);
    expect(conversion?.objects[0]?.spec).not.toHaveProperty('tls');
  });

  it('refuses nothing it cannot read: a malformed Ingress gives no conversion', () => {
    expect(ingressToRoutes({ ...ingress(), spec: { rules: 'x' } })).toBeUndefined();
  });
});

function httpRoute(rules: unknown[], hostnames: string[] = ['shop.example.com']): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { parentRefs: [{ name: 'gw' }], hostnames, rules },
  };
}

describe('HTTPRoute to Routes', () => {
  it('writes one Route per rule and hostname with weighted alternates', () => {
    const conversion = httpRouteToRoutes(
      httpRoute(
        [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [
              { name: 'web', port: 8080, weight: 90 },
              { name: 'canary', port: 8080, weight: 10 },
            ],
          },
        ],
        ['a.example.com', 'b.example.com'],
      ),
    );
    expect(conversion?.objects.map((o) => [o.metadata.name, o.spec])).toEqual([
      [
        'web-0',
        {
          host: 'a.example.com',
          path: '/',
          to: { kind: 'Service', name: 'web', weight: 90 },
          alternateBackends: [{ kind: 'Service', name: 'canary', weight: 10 }],
          port: { targetPort: 8080 },
        },
      ],
      [
        'web-1',
        {
          host: 'b.example.com',
          path: '/',
          to: { kind: 'Service', name: 'web', weight: 90 },
          alternateBackends: [{ kind: 'Service', name: 'canary', weight: 10 }],
          port: { targetPort: 8080 },
        },
      ],
    ]);
    expect(conversion?.ruleMap.get('web-1#route')).toBe('rules[0]');
  });

  it('scales large weights into 0–256 and keeps at most three alternates', () => {
    const refs = [1_000_000, 500_000, 0, 1, 7].map((weight, i) => ({
      name: `s${i}`,
      port: 80,
      weight,
    }));
    const conversion = httpRouteToRoutes(httpRoute([{ backendRefs: refs }], []));
    const spec = conversion?.objects[0]?.spec as Record<string, unknown>;
    expect(spec.to).toEqual({ kind: 'Service', name: 's0', weight: 256 });
    expect(spec.alternateBackends).toEqual([
      { kind: 'Service', name: 's1', weight: 128 },
      { kind: 'Service', name: 's2', weight: 0 },
      { kind: 'Service', name: 's3', weight: 1 },
    ]);
    expect(spec).not.toHaveProperty('host');
    expect(conversion?.notes.join('\n')).toMatch(/scaled/);
    expect(conversion?.notes.join('\n')).toMatch(/at most 3 alternate/);
  });
});

/**
 * What the migration does with a conversion (migrate/plan.ts `converted`): the new objects'
 * entries take the policy of the source entry their rule maps back to, and the emitter
 * writes it.
 */
function emitConverted(
  source: KubeObject,
  conversion: Conversion,
  sourceEntries: readonly ResolvedEntry[],
): { objects: KubeObject[]; pairs: [ResolvedEntry, string, string][]; diagnostics: Diagnostic[] } {
  const objects: KubeObject[] = [];
  const pairs: [ResolvedEntry, string, string][] = [];
  const diagnostics: Diagnostic[] = [];
  for (const n of conversion.objects) {
    const entries: ResolvedEntry[] = [];
    for (const item of entriesOf(n).spec ?? []) {
      const rule = conversion.ruleMap.get(`${n.metadata.name}#${item.entry.rule}`);
      const from = sourceEntries.find(
        (e) =>
          e.entry.name === source.metadata.name &&
          e.entry.rule === rule &&
          e.backend.service === item.backend.service,
      );
      if (!from) continue;
      entries.push({ ...from, entry: item.entry, backend: item.backend });
      pairs.push([from, n.metadata.name, item.backend.service]);
    }
    const out = findDialect('openshift')!.emit!({ object: n, entries, explicit: false });
    diagnostics.push(...out.diagnostics);
    objects.push(
      applyToObject(n, { removeAnnotations: [], setAnnotations: out.annotations, spec: [] }),
    );
  }
  return { objects, pairs, diagnostics };
}

/** Each converted entry against its source: every field that differs must be reported. */
function checkCarried(
  before: readonly ResolvedEntry[],
  objects: readonly KubeObject[],
  pairs: readonly [ResolvedEntry, string, string][],
  diagnostics: readonly Diagnostic[],
): string[] {
  const after = analyze(objects);
  expect(after.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const differing: string[] = [];
  for (const [from, name, service] of pairs) {
    const now = after.entries.find((e) => e.entry.name === name && e.backend.service === service);
    expect(now?.accepted).toBe(true);
    const a = flatOf(from);
    const b = flatOf(now);
    for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const key = field as keyof typeof a;
      if (a[key] === b[key]) continue;
      differing.push(field);
      expect(diagnostics.some((d) => d.message.startsWith(`${field} `))).toBe(true);
    }
  }
  expect(before.length).toBeGreaterThan(0);
  return [...new Set(differing)].sort();
}

describe('anything to OpenShift, once these conversions are registered', () => {
  const N = 'nginx.ingress.kubernetes.io/';
  it('an ingress-nginx Ingress: name, SameSite and balance carry; the rest is reported', () => {
    const source = ingress(
      {
        [`${N}affinity`]: 'cookie',
        [`${N}session-cookie-name`]: 'SESSION',
        [`${N}session-cookie-samesite`]: 'Strict',
        [`${N}session-cookie-path`]: '/',
        [`${N}load-balance`]: 'round_robin',
      },
      true,
    );
    const before = analyze([source]).entries;
    const conversion = ingressToRoutes(source);
    if (!conversion) throw new Error('no conversion');
    const { objects, pairs, diagnostics } = emitConverted(source, conversion, before);
    expect(objects[0]?.metadata.annotations).toEqual({
      'router.openshift.io/cookie_name': 'SESSION',
      'router.openshift.io/cookie-same-site': 'Strict',
      'haproxy.router.openshift.io/balance': 'roundrobin',
    });
    // nginx sets Secure on HTTPS requests only, sends no Cache-Control and defaults to the
    // balanced mode; the router always marks the cookie Secure on an edge route, adds
    // Cache-Control: private and keeps a client on its endpoint.
    expect(checkCarried(before, objects, pairs, diagnostics)).toEqual([
      'canaryBehavior',
      'cookie.nocache',
      'cookie.secure',
      'onFailure',
      'rebalance',
      'route.sslRedirect',
    ]);
  });

  it('a Route through Gateway API and back keeps what both can say', () => {
    const text = `apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: web
  namespace: shop
  annotations:
    router.openshift.io/cookie_name: shop_session
    haproxy.router.openshift.io/balance: leastconn
spec:
  host: shop.example.com
  to:
    kind: Service
    name: web
  port:
    targetPort: 8080
`;
    const original = readManifestText(text, 'route.yaml').objects.map((o) => o.object);
    const first = migrate([{ file: 'route.yaml', text }], { to: 'gateway-api' });
    const lostOnTheWay = first.reports.flatMap((r) => r.lost.map((l) => l.field));
    expect(lostOnTheWay.sort()).toEqual([
      'cookie.nocache',
      'cookie.secure',
      'loadBalancing.algorithm',
    ]);
    const [gateway] = first.objects;
    if (!gateway) throw new Error('no HTTPRoute');
    const conversion = httpRouteToRoutes(gateway);
    if (!conversion) throw new Error('no conversion');
    const { objects } = emitConverted(gateway, conversion, analyze(first.objects).entries);
    const back = analyze(objects).entries.map(flatOf);
    const start = analyze(original).entries.map(flatOf);
    expect(objects[0]?.metadata.name).toBe('web');
    expect(namespaceOf(objects[0] ?? gateway)).toBe('shop');
    // Only the balancing differs after the round trip: Gateway API cannot carry leastconn,
    // and Tether balances a Gateway API route round robin, which the Route then says.
    expect(back).toEqual(start.map((f) => ({ ...f, 'loadBalancing.algorithm': 'roundRobin' })));
    expect(objects[0]?.metadata.annotations).toEqual({
      'router.openshift.io/cookie_name': 'shop_session',
      'haproxy.router.openshift.io/balance': 'roundrobin',
    });
  });
});
