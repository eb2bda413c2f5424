import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type {
  CookieSpec,
  LoadBalancing,
  PersistencePolicy,
  PolicyField,
  RouteSettings,
} from '@tether/model';
import {
  EntryParts,
  NO_POLICY,
  cookiePolicy,
  flat,
  roundTrip,
} from '../../../../test/support/dialects/ingress-nginx-emit';
import { ingress } from '../../../../test/support/dialects/ingress-nginx';

// Text inside the controller's character classes (annotations.ts), never empty.
const basic = fc.stringMatching(/^[A-Za-z0-9\-._~/:]{1,24}$/);
const url = fc.stringMatching(/^[A-Za-z0-9\-._~/:?&=]{1,24}$/);
const hashKey = fc.stringMatching(/^[A-Za-z0-9\-_${}]{1,24}$/);
const seconds = fc.integer({ min: -100_000, max: 2 ** 40 });
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(arb, { nil: undefined });

const PATHS = ['/', '/shop', '/api/v1'] as const;

function cookieArb(tls: boolean, entryPath: string): fc.Arbitrary<CookieSpec> {
  return fc
    .record({
      name: basic,
      path: fc.oneof(fc.constant(entryPath), url),
      domain: maybe(basic),
      secure: tls
        ? fc.constantFrom('always' as const, 'https' as const)
        : fc.constant('https' as const),
      sameSite: maybe(fc.constantFrom('Strict' as const, 'Lax' as const, 'None' as const)),
      omitOld: fc.boolean(),
      maxAgeSeconds: maybe(seconds),
      expiresSeconds: maybe(seconds),
    })
    .map(({ omitOld, ...c }) => ({
      ...c,
      httpOnly: true,
      // ingress-nginx leaves SameSite out for old clients only when it is "None".
      omitSameSiteNoneForOldClients: omitOld && c.sameSite === 'None',
      lifetime:
        c.maxAgeSeconds !== undefined || c.expiresSeconds !== undefined ? 'permanent' : 'session',
      nocache: false,
    }));
}

function routeArb(tls: boolean): fc.Arbitrary<RouteSettings> {
  const canary = fc
    .record({
      weight: fc.nat(1000),
      weightTotal: fc.integer({ min: 1, max: 100_000 }),
      header: maybe(basic),
      headerValue: maybe(basic),
      cookie: maybe(basic),
    })
    .map((c) => (c.header === undefined ? { ...c, headerValue: undefined } : c));
  return fc.record({
    pathRegex: maybe(fc.boolean()),
    // Without TLS the controller never redirects: only "false" or nothing can be said.
    sslRedirect: tls ? fc.boolean() : maybe(fc.constant(false)),
    canary: maybe(canary),
  });
}

const balancingArb: fc.Arbitrary<LoadBalancing> = fc.oneof(
  fc.constant<LoadBalancing>({ algorithm: 'roundRobin' }),
  fc.constant<LoadBalancing>({ algorithm: 'ewma' }),
  hashKey.map<LoadBalancing>((key) => ({ algorithm: 'hash', hashKey: key })),
);

function partsArb(tls: boolean, entryPath: string): fc.Arbitrary<EntryParts> {
  const cookie = fc
    .record({
      cookie: cookieArb(tls, entryPath),
      rebalance: fc.constantFrom('persistent' as const, 'balanced' as const),
      onFailure: fc.constantFrom('retryPinned' as const, 'retryElsewhere' as const),
      canaryBehavior: fc.constantFrom('sticky' as const, 'legacy' as const),
      route: routeArb(tls),
    })
    .map<EntryParts>(({ cookie: c, route, ...rest }) => ({
      policy: { mode: 'cookie', cookie: c, ...rest },
      route,
    }));
  const none = fc
    .record({
      canaryBehavior: maybe(fc.constantFrom('sticky' as const, 'legacy' as const)),
      loadBalancing: balancingArb,
      route: routeArb(tls),
    })
    .map<EntryParts>(({ canaryBehavior, loadBalancing, route }) => ({
      policy: { ...NO_POLICY, canaryBehavior },
      loadBalancing,
      route,
    }));
  return fc.oneof(cookie, none);
}

const scenario = fc
  .record({ tls: fc.boolean(), path: fc.constantFrom(...PATHS), explicit: fc.boolean() })
  .chain((s) => partsArb(s.tls, s.path).map((parts) => ({ ...s, parts })));

describe('emit → parse: what ingress-nginx can say comes back unchanged', () => {
  it('holds for random policies', () => {
    fc.assert(
      fc.property(scenario, ({ tls, path, explicit, parts }) => {
        const { out, after, accepted } = roundTrip(
          ingress({}, { tls, paths: [path] }),
          parts,
          explicit,
        );
        expect(out.diagnostics.filter((d) => d.reason === 'UnsupportedByTarget')).toEqual([]);
        expect(accepted).toEqual([true]);
        expect(after[0]).toEqual(flat(parts));
      }),
      { numRuns: 300 },
    );
  });
});

/** One thing ingress-nginx cannot say, made on a cookie policy served over HTTPS. */
interface Loss {
  field: PolicyField;
  apply(
    p: PersistencePolicy,
    cookie: CookieSpec,
  ): { policy: PersistencePolicy; lb?: LoadBalancing };
}

const LOSSES: Loss[] = [
  {
    field: 'cookie.httpOnly',
    apply: (p, c) => ({ policy: { ...p, cookie: { ...c, httpOnly: false } } }),
  },
  {
    field: 'cookie.secure',
    apply: (p, c) => ({ policy: { ...p, cookie: { ...c, secure: 'never' } } }),
  },
  {
    field: 'cookie.nocache',
    apply: (p, c) => ({ policy: { ...p, cookie: { ...c, nocache: true } } }),
  },
  {
    field: 'cookie.path',
    apply: (p, c) => ({ policy: { ...p, cookie: { ...c, path: undefined } } }),
  },
  { field: 'cookie.name', apply: (p, c) => ({ policy: { ...p, cookie: { ...c, name: 'a;b' } } }) },
  {
    field: 'cookie.lifetime',
    apply: (p, c) => ({ policy: { ...p, cookie: { ...c, lifetime: 'permanent' } } }),
  },
  {
    field: 'cookie.omitSameSiteNoneForOldClients',
    apply: (p, c) => ({
      policy: { ...p, cookie: { ...c, sameSite: 'Lax', omitSameSiteNoneForOldClients: true } },
    }),
  },
  { field: 'onFailure', apply: (p) => ({ policy: { ...p, onFailure: 'fail' } }) },
  {
    field: 'absoluteTimeoutSeconds',
    apply: (p) => ({ policy: { ...p, absoluteTimeoutSeconds: 60 } }),
  },
  { field: 'idleTimeoutSeconds', apply: (p) => ({ policy: { ...p, idleTimeoutSeconds: 60 } }) },
  {
    field: 'loadBalancing.algorithm',
    apply: (p) => ({ policy: p, lb: { algorithm: 'leastConnections' } }),
  },
];

describe('emit: what ingress-nginx cannot say is reported against its source', () => {
  it('names every lost field and keeps every other one', () => {
    fc.assert(
      fc.property(fc.subarray(LOSSES, { minLength: 1 }), (losses) => {
        let policy = cookiePolicy({ name: 'shop', path: '/' }, { rebalance: 'persistent' });
        let lb: LoadBalancing = { algorithm: 'roundRobin' };
        for (const loss of losses) {
          const cookie = policy.cookie ?? cookiePolicy().cookie;
          if (!cookie) throw new Error('a cookie policy has a cookie');
          const next = loss.apply(policy, cookie);
          policy = next.policy;
          lb = next.lb ?? lb;
        }
        const fields = losses.map((l) => l.field);
        const parts: EntryParts = {
          policy,
          loadBalancing: lb,
          route: { sslRedirect: true },
          sourced: fields,
        };
        const { out, after, accepted } = roundTrip(ingress({}, { tls: true }), parts);
        expect(accepted).toEqual([true]);
        for (const field of fields) {
          const named = out.diagnostics.some(
            (d) =>
              d.reason === 'UnsupportedByTarget' &&
              d.sources.some((s) => s.field === `source/${field}`),
          );
          expect(named).toBe(true);
        }
        const before = flat(parts);
        const now = after[0] ?? {};
        for (const field of new Set([
          ...Object.keys(before),
          ...Object.keys(now),
        ]) as Set<PolicyField>) {
          if (!fields.includes(field)) expect([field, now[field]]).toEqual([field, before[field]]);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('emit → parse: the TLS redirect alone', () => {
  it('is written when nothing else would make the Ingress ingress-nginx’s', () => {
    const parts: EntryParts = {
      policy: { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
      loadBalancing: { algorithm: 'roundRobin' },
      route: { sslRedirect: true },
    };
    const { out, after } = roundTrip(ingress({}, { tls: true, paths: ['/'] }), parts);
    expect(out.annotations).toEqual({ 'nginx.ingress.kubernetes.io/ssl-redirect': 'true' });
    expect(after[0]).toEqual(flat(parts));
  });
});
