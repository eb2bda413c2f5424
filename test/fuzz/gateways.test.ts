/**
 * Hostile Gateways, routes and ReferenceGrants through attachment, the pipeline and the
 * Gateway status: nothing throws, what is served is model-valid, and the listeners left
 * serving are distinct (no two on one port that the proxy could not tell apart).
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { analyze, gatewayIndex, listenerServes, parseContext } from '@tether/dialects';
import { desiredGatewayStatus } from '../../packages/controller/src/gateway-status';
import { EntryRef } from '@tether/model';

const GW = 'gateway.networking.k8s.io/v1';

const junk = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer(),
  fc.string({ maxLength: 12 }),
  fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown),
);
const hostname = fc.oneof(
  fc.constantFrom('a.example', '*.example', 'b.a.example', '*.a.example', 'A.EXAMPLE', '*', ''),
  fc.string({ maxLength: 10 }),
);
const listener = fc.record(
  {
    name: fc.oneof(fc.constantFrom('l1', 'l2', 'l3'), junk),
    protocol: fc.oneof(fc.constantFrom('HTTP', 'HTTPS', 'TLS', 'TCP', 'http'), junk),
    port: fc.oneof(fc.constantFrom(80, 443, 8000, 8001), fc.integer(), junk),
    hostname: fc.oneof(hostname, junk),
    tls: fc.oneof(
      fc.record({
        mode: fc.constantFrom('Terminate', 'Passthrough', 'x'),
        certificateRefs: fc.oneof(
          fc.constant([{ name: 'cert' }]),
          fc.constant([{ name: 'cert', namespace: 'other' }]),
          junk,
        ),
      }),
      junk,
    ),
    allowedRoutes: fc.oneof(
      fc.record({
        namespaces: fc.oneof(
          fc.record({
            from: fc.constantFrom('All', 'Same', 'Selector', 'None'),
            selector: fc.oneof(fc.constant({ matchLabels: { team: 'a' } }), junk),
          }),
          junk,
        ),
        kinds: fc.oneof(
          fc.constant([{ kind: 'HTTPRoute' }]),
          fc.constant([{ kind: 'Bogus' }]),
          junk,
        ),
      }),
      junk,
    ),
  },
  { requiredKeys: [] },
);
const parentRef = fc.record(
  {
    name: fc.oneof(fc.constantFrom('g1', 'g2'), junk),
    namespace: fc.oneof(fc.constantFrom('web', 'other'), junk),
    sectionName: fc.oneof(fc.constantFrom('l1', 'l2', 'l3'), junk),
    port: fc.oneof(fc.constantFrom(80, 8000), junk),
    kind: fc.oneof(fc.constant('Gateway'), junk),
  },
  { requiredKeys: [] },
);
const route = fc.record({
  kind: fc.constantFrom('HTTPRoute', 'GRPCRoute', 'TLSRoute'),
  namespace: fc.constantFrom('web', 'other'),
  parentRefs: fc.oneof(fc.array(parentRef, { maxLength: 3 }), junk),
  hostnames: fc.oneof(fc.array(hostname, { maxLength: 3 }), junk),
  matches: fc.oneof(
    fc.array(
      fc.oneof(
        fc.record({
          path: fc.record({
            type: fc.constantFrom('Exact', 'PathPrefix'),
            value: fc.constantFrom('/', '/a'),
          }),
        }),
        fc.record({ headers: fc.constant([{ name: 'x', value: 'y' }]) }),
        junk,
      ),
      { maxLength: 3 },
    ),
    junk,
  ),
  backendNamespace: fc.oneof(fc.constantFrom('web', 'other'), fc.constant(undefined)),
});

describe('fuzz: hostile Gateways and routes', () => {
  it('never throw, serve model-valid entries on distinct listeners, and give a status', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(listener, { maxLength: 4 }), { minLength: 1, maxLength: 2 }),
        fc.array(route, { maxLength: 3 }),
        (gateways, routes) => {
          const objects = [
            ...gateways.map((listeners, i) => ({
              apiVersion: GW,
              kind: 'Gateway',
              metadata: {
                name: `g${i + 1}`,
                namespace: 'web',
                creationTimestamp: `2026-0${i + 1}-01T00:00:00Z`,
              },
              spec: { gatewayClassName: 'tether', listeners },
            })),
            {
              apiVersion: 'v1',
              kind: 'Secret',
              type: 'kubernetes.io/tls',
              metadata: { name: 'cert', namespace: 'web' },
              data: { 'tls.crt': '', 'tls.key': '' },
            },
            {
              apiVersion: 'v1',
              kind: 'Namespace',
              metadata: { name: 'other', labels: { team: 'a' } },
            },
            ...routes.map((r, i) => ({
              apiVersion: GW,
              kind: r.kind,
              metadata: { name: `r${i}`, namespace: r.namespace },
              spec: {
                parentRefs: r.parentRefs,
                hostnames: r.hostnames,
                rules: [
                  {
                    matches: r.matches,
                    backendRefs: [
                      {
                        name: 'svc',
                        port: 80,
                        ...(r.backendNamespace ? { namespace: r.backendNamespace } : {}),
                      },
                    ],
                  },
                ],
              },
            })),
          ];
          const analysis = analyze(objects);
          for (const e of analysis.entries) EntryRef.parse(e.entry);
          const context = parseContext(objects);
          const serving = [...gatewayIndex(context).byKey.values()]
            .flatMap((g) => g.listeners)
            .filter(listenerServes);
          for (const a of serving)
            for (const b of serving) {
              if (a === b || a.port !== b.port) continue;
              expect(a.protocol === 'HTTP').toBe(b.protocol === 'HTTP');
              expect(a.hostname).not.toBe(b.hostname);
            }
          for (const g of objects.filter((o) => o.kind === 'Gateway'))
            expect(() =>
              desiredGatewayStatus({
                gateway: g,
                context,
                routes: objects.filter((o) => o.kind.endsWith('Route')),
                addresses: ['127.0.0.1'],
                now: new Date(0),
              }),
            ).not.toThrow();
        },
      ),
      { numRuns: 3000, seed: Number(process.env.FUZZ_SEED ?? 20261206) },
    );
  }, 120_000);
});
