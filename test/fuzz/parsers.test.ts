import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DIALECTS, analyze, type KubeObject } from '@tether/dialects';
import { Diagnostic, Fragment, LoadBalancing, PersistencePolicy } from '@tether/model';

/** Keys every dialect reads, plus look-alikes under the same prefixes. */
const knownKeys = DIALECTS.flatMap((d) =>
  d.table.filter((k) => k.type === 'annotation').map((k) => k.key),
);
const prefixes = DIALECTS.flatMap((d) => d.prefixes);

const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '\t',
    'true',
    'false',
    'cookie',
    'Cookie',
    '0',
    '-1',
    '1e309',
    '99999999999999999999',
    'NaN',
    'null',
    '{}',
    '[]',
    '""',
  ),
  fc.constantFrom(
    'a\r\nSet-Cookie: x=y',
    'é\u0000\u202e',
    '*',
    '$remote_addr',
    '/(a|b)+',
    'None',
    'Lax',
    'HTTP_COOKIE',
    'APP_COOKIE',
    'SOURCE_IP',
    'IP_HASH',
  ),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.constant('x'.repeat(70_000)),
);

const key = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...knownKeys) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...prefixes), fc.string({ maxLength: 12 }))
      .map(([p, s]) => p + s),
  },
);

const annotations = fc.dictionary(key, hostileString, { maxKeys: 8 });

const anyValue = fc.oneof(
  hostileString,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown),
);

function objectsFor(a: Record<string, string>, spec: Record<string, unknown>): KubeObject[] {
  const metadata = { name: 'fuzz', namespace: 'ns', annotations: a };
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        type: 'LoadBalancer',
        ports: [{ port: 80 }, { port: 443, protocol: 'TCP' }],
        sessionAffinity: spec.sessionAffinity,
        sessionAffinityConfig: spec.config,
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata,
      spec: {
        tls: spec.tls,
        rules: [
          {
            host: 'a.example',
            http: {
              paths: [
                {
                  path: spec.path,
                  pathType: 'Prefix',
                  backend: { service: { name: 'fuzz', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    {
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata,
      spec: { host: 'a.example', to: { kind: 'Service', name: 'fuzz' }, tls: spec.tls },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata,
      spec: {
        rules: [
          { backendRefs: [{ name: 'fuzz', port: 80 }], sessionPersistence: spec.persistence },
        ],
      },
    },
  ];
}

const RUNS = 100_000;

describe('fuzz: random annotation maps and spec values through every parser', () => {
  it(`never throws and always returns model-valid results (${RUNS} maps)`, () => {
    const fragmentList = Fragment.array();
    const diagnosticList = Diagnostic.array();
    let checked = 0;
    fc.assert(
      fc.property(
        annotations,
        fc.record({
          sessionAffinity: anyValue,
          config: anyValue,
          tls: anyValue,
          path: anyValue,
          persistence: anyValue,
        }),
        (a, spec) => {
          const analysis = analyze(objectsFor(a, spec));
          // Validating every result is the slow part, so every 50th is checked against the schemas
          // in full; every result is checked for the invariants that matter most.
          if (checked++ % 50 === 0) {
            fragmentList.parse(analysis.fragments);
            diagnosticList.parse(analysis.diagnostics);
          }
          for (const e of analysis.entries) {
            if (e.accepted) {
              PersistencePolicy.parse(e.policy);
              LoadBalancing.parse(e.loadBalancing);
            } else {
              expect(e.policy).toBeNull();
              expect(analysis.diagnostics.some((d) => d.severity === 'error')).toBe(true);
            }
            const cookie = e.policy?.cookie;
            if (cookie)
              expect(`${cookie.name}${cookie.path ?? ''}${cookie.domain ?? ''}`).not.toMatch(
                /[;]|\p{Cc}/u,
              );
          }
        },
      ),
      { numRuns: RUNS, seed: Number(process.env.FUZZ_SEED ?? 20261122) },
    );
  }, 300_000);
});
