import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  flattenPolicy,
  type CookieSpec,
  type Diagnostic,
  type LoadBalancing,
  type PersistencePolicy,
  type PolicyField,
  type ResolvedEntry,
  type SourceRef,
} from '@tether/model';
import { analyze } from '../index';
import { httpRouteEntries, readHTTPRoute } from '../kube';
import { applyToObject } from '../edits';
import type { KubeObject, SpecEdit } from '../types';
import { emit, ownedSpec } from './emit';
import { gatewayApi } from './index';
import { generatedSessionName } from './names';

function rule(backends: string[] = ['web'], extra: Record<string, unknown> = {}) {
  return {
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    backendRefs: backends.map((name) => ({ name, port: 8080 })),
    ...extra,
  };
}

function httpRoute(rules: Record<string, unknown>[] = [rule()]): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: ['shop.example.com'], rules },
  };
}

const generated = (rule = 'rules[0]', mode: 'cookie' | 'header' = 'cookie') =>
  generatedSessionName(mode, 'shop', 'web', rule);

/** A session cookie as the Gateway API parser reads it. */
function gatewayCookie(name: string, extra: Partial<CookieSpec> = {}): CookieSpec {
  return {
    name,
    path: '/',
    httpOnly: true,
    secure: 'https',
    sameSite: 'Strict',
    omitSameSiteNoneForOldClients: false,
    lifetime: 'session',
    nocache: false,
    ...extra,
  };
}

const cookiePolicy = (cookie: CookieSpec, extra: Partial<PersistencePolicy> = {}) =>
  ({ mode: 'cookie', cookie, rebalance: 'persistent', onFailure: 'rebalance', ...extra }) as const;

const NONE: PersistencePolicy = { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' };
const ROUND_ROBIN: LoadBalancing = { algorithm: 'roundRobin' };

/** The entries of a route, each rule carrying its policy, as the migration hands them over. */
function entriesOn(
  object: KubeObject,
  policies: readonly PersistencePolicy[],
  loadBalancing: LoadBalancing = ROUND_ROBIN,
  sources: ResolvedEntry['sources'] = {},
): ResolvedEntry[] {
  const { spec } = readHTTPRoute(object);
  if (!spec) throw new Error('not an HTTPRoute');
  return httpRouteEntries(object, spec).map((item) => {
    const index = Number(/\d+/.exec(item.entry.rule)?.[0]);
    return {
      entry: item.entry,
      backend: item.backend,
      accepted: true,
      policy: policies[index] ?? NONE,
      loadBalancing,
      route: {},
      sources,
    };
  });
}

function written(object: KubeObject, spec: SpecEdit[]): KubeObject {
  return applyToObject(object, { removeAnnotations: [], setAnnotations: {}, spec });
}

const lossFields = (diagnostics: readonly Diagnostic[]): string[] =>
  diagnostics
    .filter((d) => d.reason === 'UnsupportedByTarget')
    .map((d) => d.message.split(' ')[0] ?? '')
    .sort();

const at = (index: number) => ['spec', 'rules', index, 'sessionPersistence'];

describe('gateway-api emit: canonical sessionPersistence (v1.6 shape)', () => {
  const cases: {
    name: string;
    policy: PersistencePolicy;
    explicit?: boolean;
    session: Record<string, unknown> | undefined;
  }[] = [
    {
      name: 'a cookie with the generated name is an empty session',
      policy: cookiePolicy(gatewayCookie(generated())),
      session: {},
    },
    {
      name: 'a named cookie',
      policy: cookiePolicy(gatewayCookie('shop-session')),
      session: { sessionName: 'shop-session' },
    },
    {
      name: 'a Permanent cookie takes its Max-Age from absoluteTimeout',
      policy: cookiePolicy(
        gatewayCookie('shop-session', { lifetime: 'permanent', maxAgeSeconds: 5400 }),
        { absoluteTimeoutSeconds: 5400 },
      ),
      session: {
        sessionName: 'shop-session',
        absoluteTimeout: '1h30m',
        cookieConfig: { lifetimeType: 'Permanent' },
      },
    },
    {
      name: 'a session cookie with an absolute limit',
      policy: cookiePolicy(gatewayCookie(generated()), { absoluteTimeoutSeconds: 90 }),
      session: { absoluteTimeout: '1m30s' },
    },
    {
      name: 'a header session',
      policy: {
        mode: 'header',
        header: { name: 'X-Shop-Session' },
        rebalance: 'persistent',
        onFailure: 'rebalance',
        absoluteTimeoutSeconds: 1800,
      },
      session: { sessionName: 'X-Shop-Session', absoluteTimeout: '30m', type: 'Header' },
    },
    {
      name: 'a header session with the generated name',
      policy: {
        mode: 'header',
        header: { name: generated('rules[0]', 'header') },
        rebalance: 'persistent',
        onFailure: 'rebalance',
      },
      session: { type: 'Header' },
    },
    {
      name: 'defaults written out when explicit',
      policy: cookiePolicy(gatewayCookie(generated())),
      explicit: true,
      session: {
        sessionName: generated(),
        type: 'Cookie',
        cookieConfig: { lifetimeType: 'Session' },
      },
    },
    { name: 'no persistence writes nothing', policy: NONE, session: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const object = httpRoute();
      const out = emit({ object, entries: entriesOn(object, [c.policy]), explicit: !!c.explicit });
      expect(out.annotations).toEqual({});
      expect(out.diagnostics).toEqual([]);
      expect(out.spec).toEqual(c.session ? [{ path: at(0), value: c.session }] : []);
      // The API's field order: sessionName, absoluteTimeout, type, cookieConfig.
      if (c.session) expect(Object.keys(out.spec[0]?.value ?? {})).toEqual(Object.keys(c.session));
      const after = analyze([written(object, out.spec)]);
      expect(after.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
      expect(after.entries[0]?.policy).toEqual(c.policy);
    });
  }

  it('a named rule keeps its generated name when rules move', () => {
    const object = httpRoute([rule(['api']), rule(['web'], { name: 'login' })]);
    const policies = [NONE, cookiePolicy(gatewayCookie(generated('login')))];
    const out = emit({ object, entries: entriesOn(object, policies), explicit: false });
    expect(out.spec).toEqual([{ path: at(1), value: {} }]);
    expect(out.diagnostics).toEqual([]);
  });

  it('replaces a session already on the rule, and removes it for no persistence', () => {
    const object = httpRoute([
      rule(['web'], { sessionPersistence: { sessionName: 'old', idleTimeout: '5m' } }),
      rule(['api'], { sessionPersistence: { sessionName: 'older' } }),
    ]);
    const policies = [cookiePolicy(gatewayCookie('new')), NONE];
    const out = emit({ object, entries: entriesOn(object, policies), explicit: false });
    expect(out.spec).toEqual([
      { path: at(0), value: { sessionName: 'new' } },
      { path: at(1), value: undefined },
    ]);
  });

  it('writes nothing on other kinds', () => {
    const ingress: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'x' },
    };
    expect(emit({ object: ingress, entries: [], explicit: true }).spec).toEqual([]);
  });
});

describe('gateway-api emit: what the v1.6 shape cannot say', () => {
  const emitOne = (policy: PersistencePolicy, lb: LoadBalancing = ROUND_ROBIN) => {
    const object = httpRoute();
    return emit({ object, entries: entriesOn(object, [policy], lb), explicit: false });
  };

  it('Max-Age without an absolute limit becomes both', () => {
    const out = emitOne(
      cookiePolicy(gatewayCookie('s', { lifetime: 'permanent', maxAgeSeconds: 3600 })),
    );
    expect(out.spec[0]?.value).toEqual({
      sessionName: 's',
      absoluteTimeout: '1h',
      cookieConfig: { lifetimeType: 'Permanent' },
    });
    expect(lossFields(out.diagnostics)).toEqual(['absoluteTimeoutSeconds']);
  });

  it('Expires alone is written as Max-Age', () => {
    const out = emitOne(
      cookiePolicy(gatewayCookie('s', { lifetime: 'permanent', expiresSeconds: 7200 })),
    );
    expect(out.spec[0]?.value).toMatchObject({ absoluteTimeout: '2h' });
    expect(lossFields(out.diagnostics)).toEqual([
      'absoluteTimeoutSeconds',
      'cookie.expiresSeconds',
      'cookie.maxAgeSeconds',
    ]);
  });

  it('a lifetime longer than any Duration is capped', () => {
    const out = emitOne(cookiePolicy(gatewayCookie('s'), { absoluteTimeoutSeconds: 2 ** 31 }));
    expect(out.spec[0]?.value).toEqual({ sessionName: 's', absoluteTimeout: '99999h59m59s' });
    expect(out.diagnostics[0]?.message).toMatch(/^absoluteTimeoutSeconds .*capped/);
  });

  it('idleTimeout is not written: the v1.6 CRDs prune it', () => {
    const out = emitOne(cookiePolicy(gatewayCookie('s'), { idleTimeoutSeconds: 900 }));
    expect(out.spec[0]?.value).toEqual({ sessionName: 's' });
    expect(lossFields(out.diagnostics)).toEqual(['idleTimeoutSeconds']);
  });

  it('source-IP persistence gets no session', () => {
    const out = emitOne({ ...NONE, mode: 'sourceIp', sourceIp: { timeoutSeconds: 60 } });
    expect(out.spec).toEqual([]);
    expect(lossFields(out.diagnostics)).toEqual(['mode', 'sourceIp.timeoutSeconds']);
  });

  it('an application cookie becomes a gateway cookie with the companion name', () => {
    const out = emitOne({
      ...cookiePolicy(gatewayCookie('X-Oracle-BMC-LBS-Route')),
      mode: 'appCookie',
      appCookie: { name: 'JSESSIONID' },
    });
    expect(out.spec[0]?.value).toEqual({ sessionName: 'X-Oracle-BMC-LBS-Route' });
    expect(lossFields(out.diagnostics)).toEqual(['appCookie.name', 'mode']);
  });

  for (const name of ['session id', 'a;b', 'x'.repeat(129), 'é']) {
    it(`${JSON.stringify(name.slice(0, 12))} cannot be a sessionName: a name is generated`, () => {
      const out = emitOne(cookiePolicy(gatewayCookie(name)));
      expect(out.spec[0]?.value).toEqual({});
      expect(lossFields(out.diagnostics)).toEqual(['cookie.name']);
    });
  }

  it('balancing algorithms are not carried', () => {
    const out = emitOne(cookiePolicy(gatewayCookie('s')), { algorithm: 'leastConnections' });
    expect(lossFields(out.diagnostics)).toEqual(['loadBalancing.algorithm']);
  });
});

describe('gateway-api emit: one name per session', () => {
  it('a second rule for other Services gets its own name', () => {
    const object = httpRoute([rule(['web']), rule(['api'])]);
    const same = cookiePolicy(gatewayCookie('INGRESSCOOKIE'));
    const out = emit({ object, entries: entriesOn(object, [same, same]), explicit: false });
    expect(out.spec).toEqual([
      { path: at(0), value: { sessionName: 'INGRESSCOOKIE' } },
      { path: at(1), value: {} },
    ]);
    expect(lossFields(out.diagnostics)).toEqual(['cookie.name']);
    const after = analyze([written(object, out.spec)]);
    expect(after.entries.every((e) => e.accepted)).toBe(true);
  });

  it('two rules of one Service keep the shared name, as the source shared the session', () => {
    const object = httpRoute([rule(['web']), rule(['web'])]);
    const same = cookiePolicy(gatewayCookie('INGRESSCOOKIE'));
    const out = emit({ object, entries: entriesOn(object, [same, same]), explicit: false });
    expect(out.spec.map((e) => e.value)).toEqual([
      { sessionName: 'INGRESSCOOKIE' },
      { sessionName: 'INGRESSCOOKIE' },
    ]);
    expect(out.diagnostics).toEqual([]);
  });

  it('a split rule holds one session, written from its first backend', () => {
    const object = httpRoute([rule(['web', 'canary'])]);
    const [web, canary] = entriesOn(object, [cookiePolicy(gatewayCookie('a'))]);
    if (!web || !canary) throw new Error('two backends expected');
    const other = { ...canary, policy: cookiePolicy(gatewayCookie('b')) };
    const out = emit({ object, entries: [web, other], explicit: false });
    expect(out.spec).toEqual([{ path: at(0), value: { sessionName: 'a' } }]);
    expect(out.diagnostics.map((d) => d.message)).toEqual([
      expect.stringMatching(/^cookie\.name = "b" for Service canary becomes "a": a route rule/),
    ]);
  });
});

describe('gateway-api ownedSpec', () => {
  it('removes every rule session and nothing else', () => {
    const object = httpRoute([
      rule(['web'], { sessionPersistence: { sessionName: 'a' } }),
      rule(['api']),
      rule(['web'], { sessionPersistence: {} }),
    ]);
    expect(ownedSpec(object)).toEqual([
      { path: at(0), value: undefined },
      { path: at(2), value: undefined },
    ]);
    const stripped = written(object, ownedSpec(object));
    expect(analyze([stripped]).entries.every((e) => e.policy?.mode === 'none')).toBe(true);
  });

  for (const spec of [undefined, 'x', { rules: 'x' }, { rules: [null, 1, 'a'] }]) {
    it(`reads a malformed spec (${JSON.stringify(spec)}) without throwing`, () => {
      const object: KubeObject = { ...httpRoute(), spec };
      expect(ownedSpec(object)).toEqual([]);
    });
  }
});

/** Token characters, as sessionName must be sent as a cookie or header name. */
const sessionName = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/);
const seconds = fc.integer({ min: 1, max: 10_000_000 });

/** A policy Gateway API can express for a rule, given the rule's generated names. */
function expressiblePolicy(ruleId: string): fc.Arbitrary<PersistencePolicy> {
  const cookie = fc
    .record({
      name: fc.option(sessionName, { nil: undefined }),
      permanent: fc.option(seconds, { nil: undefined }),
      absolute: fc.option(seconds, { nil: undefined }),
    })
    .map(({ name, permanent, absolute }) => {
      const n = name ?? generated(ruleId);
      return permanent === undefined
        ? cookiePolicy(gatewayCookie(n), absolute ? { absoluteTimeoutSeconds: absolute } : {})
        : cookiePolicy(gatewayCookie(n, { lifetime: 'permanent', maxAgeSeconds: permanent }), {
            absoluteTimeoutSeconds: permanent,
          });
    });
  const header = fc
    .record({
      name: fc.option(sessionName, { nil: undefined }),
      absolute: fc.option(seconds, { nil: undefined }),
    })
    .map(({ name, absolute }): PersistencePolicy => ({
      mode: 'header',
      header: { name: name ?? generated(ruleId, 'header') },
      rebalance: 'persistent',
      onFailure: 'rebalance',
      ...(absolute ? { absoluteTimeoutSeconds: absolute } : {}),
    }));
  return fc.oneof(cookie, header, fc.constant(NONE));
}

describe('gateway-api emit: properties', () => {
  it('emit then parse gives back every policy a rule can express', () => {
    const routes = fc.integer({ min: 1, max: 3 }).chain((n) =>
      fc.record({
        policies: fc.tuple(
          ...Array.from({ length: n }, (_, i) => expressiblePolicy(`rules[${i}]`)),
        ),
        explicit: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(routes, ({ policies, explicit }) => {
        // One Service per rule, so that a repeated name would be a real clash.
        const object = httpRoute(policies.map((_, i) => rule([`svc-${i}`])));
        const names = policies.map((p) => p.cookie?.name ?? p.header?.name);
        fc.pre(new Set(names.filter(Boolean)).size === names.filter(Boolean).length);
        const out = emit({ object, entries: entriesOn(object, policies), explicit });
        expect(out.diagnostics).toEqual([]);
        const after = analyze([written(object, out.spec)]);
        expect(after.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
        after.entries.forEach((e, i) => {
          const policy = policies[i] ?? NONE;
          expect(e.policy ? flattenPolicy(e.policy, e.loadBalancing) : {}).toEqual(
            flattenPolicy(policy, ROUND_ROBIN),
          );
        });
      }),
      { numRuns: 300 },
    );
  });

  const changes: [PolicyField, (p: PersistencePolicy) => [PersistencePolicy, LoadBalancing]][] = [
    ...(
      [
        ['cookie.path', { path: '/shop' }],
        ['cookie.domain', { domain: 'example.com' }],
        ['cookie.httpOnly', { httpOnly: false }],
        ['cookie.secure', { secure: 'always' }],
        ['cookie.secure', { secure: 'never' }],
        ['cookie.sameSite', { sameSite: 'Lax' }],
        ['cookie.sameSite', { sameSite: 'None' }],
        ['cookie.omitSameSiteNoneForOldClients', { omitSameSiteNoneForOldClients: true }],
        ['cookie.nocache', { nocache: true }],
        ['cookie.expiresSeconds', { expiresSeconds: 60 }],
      ] as [PolicyField, Partial<CookieSpec>][]
    ).map(
      ([field, part]): [
        PolicyField,
        (p: PersistencePolicy) => [PersistencePolicy, LoadBalancing],
      ] => [
        field,
        (p) => [{ ...p, cookie: { ...gatewayCookie('s'), ...p.cookie, ...part } }, ROUND_ROBIN],
      ],
    ),
    ...(
      [
        ['idleTimeoutSeconds', { idleTimeoutSeconds: 60 }],
        ['rebalance', { rebalance: 'balanced' }],
        ['onFailure', { onFailure: 'fail' }],
        ['onFailure', { onFailure: 'retryElsewhere' }],
        ['canaryBehavior', { canaryBehavior: 'sticky' }],
        ['appCookie.name', { mode: 'appCookie', appCookie: { name: 'JSESSIONID' } }],
      ] as [PolicyField, Partial<PersistencePolicy>][]
    ).map(
      ([field, part]): [
        PolicyField,
        (p: PersistencePolicy) => [PersistencePolicy, LoadBalancing],
      ] => [field, (p) => [{ ...p, ...part }, ROUND_ROBIN]],
    ),
    ['loadBalancing.algorithm', (p) => [p, { algorithm: 'leastConnections' }]],
    [
      'sourceIp.timeoutSeconds',
      () => [{ ...NONE, mode: 'sourceIp', sourceIp: { timeoutSeconds: 60 } }, ROUND_ROBIN],
    ],
  ];

  it('every field a session cannot express is reported, naming its source', () => {
    fc.assert(
      fc.property(sessionName, fc.constantFrom(...changes), (name, [field, change]) => {
        const [policy, lb] = change(cookiePolicy(gatewayCookie(name)));
        const sources: ResolvedEntry['sources'] = {};
        for (const f of Object.keys(flattenPolicy(policy, lb)) as PolicyField[]) {
          const ref: SourceRef = {
            dialect: 'ingress-nginx',
            kind: 'Ingress',
            namespace: 'shop',
            name: 'web',
            field: `source of ${f}`,
          };
          sources[f] = [ref];
        }
        const object = httpRoute();
        const out = emit({
          object,
          entries: entriesOn(object, [policy], lb, sources),
          explicit: false,
        });
        const named = out.diagnostics
          .filter((d) => d.reason === 'UnsupportedByTarget')
          .flatMap((d) => d.sources.map((s) => s.field));
        expect(named).toContain(`source of ${field}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('gateway-api dialect wiring', () => {
  it('is written on HTTPRoutes and owns their rule sessions', () => {
    expect(gatewayApi.targetKinds).toEqual(['HTTPRoute']);
    expect(gatewayApi.emit).toBe(emit);
    expect(gatewayApi.ownedSpec).toBe(ownedSpec);
  });
});

describe('gateway-api emit: hostile targets', () => {
  it('never throws, whatever the HTTPRoute spec holds', () => {
    const entries = entriesOn(httpRoute([rule(), rule(['api'])]), [
      cookiePolicy(gatewayCookie('a')),
      cookiePolicy(gatewayCookie('b')),
    ]);
    const rules = fc.array(fc.oneof(fc.anything(), fc.constant(rule())), { maxLength: 3 });
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ rules })), fc.boolean(), (spec, explicit) => {
        const object: KubeObject = { ...httpRoute(), spec };
        const out = emit({ object, entries, explicit });
        expect(out.annotations).toEqual({});
        expect(ownedSpec(object).every((e) => e.value === undefined)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
