import { describe, expect, it } from '@jest/globals';
import type { PolicyField } from '@tether/model';
import { KEY } from './annotations';
import { emit } from './emit';
import {
  EntryParts,
  NO_POLICY,
  cookiePolicy,
  emitFor,
  entriesFor,
  flat,
  roundTrip,
  shortAnnotations,
  sourceFor,
} from '../../../../test/support/dialects/ingress-nginx-emit';
import { ingressNginx } from './index';
import { ingress } from '../../../../test/support/dialects/ingress-nginx';

interface CanonicalCase {
  name: string;
  parts: EntryParts;
  tls?: boolean;
  paths?: string[];
  explicit?: boolean;
  expected: Record<string, string>;
  /** The policy reads back differently (and the emitter says so). */
  lossy?: boolean;
}

const CANONICAL: CanonicalCase[] = [
  {
    name: 'the defaults: affinity alone',
    parts: { policy: cookiePolicy() },
    expected: { affinity: 'cookie' },
  },
  {
    name: 'the defaults, explicit',
    parts: { policy: cookiePolicy(), route: { sslRedirect: true } },
    tls: true,
    explicit: true,
    expected: {
      affinity: 'cookie',
      'affinity-mode': 'balanced',
      'affinity-canary-behavior': 'sticky',
      'session-cookie-name': 'INGRESSCOOKIE',
      'session-cookie-path': '/',
      'session-cookie-secure': 'false',
      'session-cookie-conditional-samesite-none': 'false',
      'session-cookie-change-on-failure': 'false',
      'ssl-redirect': 'true',
    },
  },
  {
    name: 'every cookie attribute',
    tls: true,
    parts: {
      policy: cookiePolicy(
        {
          name: 'shop_session',
          path: '/cart',
          domain: '.example.com',
          secure: 'always',
          sameSite: 'None',
          omitSameSiteNoneForOldClients: true,
          maxAgeSeconds: 3600,
          expiresSeconds: 7200,
          lifetime: 'permanent',
        },
        { rebalance: 'persistent', onFailure: 'retryElsewhere', canaryBehavior: 'legacy' },
      ),
      route: { sslRedirect: true },
    },
    expected: {
      affinity: 'cookie',
      'affinity-mode': 'persistent',
      'affinity-canary-behavior': 'legacy',
      'session-cookie-name': 'shop_session',
      'session-cookie-path': '/cart',
      'session-cookie-domain': '.example.com',
      'session-cookie-secure': 'true',
      'session-cookie-samesite': 'None',
      'session-cookie-conditional-samesite-none': 'true',
      'session-cookie-max-age': '3600',
      'session-cookie-expires': '7200',
      'session-cookie-change-on-failure': 'true',
    },
  },
  {
    name: 'a Path equal to the entry path is the default',
    paths: ['/shop'],
    parts: { policy: cookiePolicy({ path: '/shop', sameSite: 'Lax' }) },
    expected: { affinity: 'cookie', 'session-cookie-samesite': 'Lax' },
  },
  {
    name: 'a Path other than the entry path is written',
    paths: ['/shop'],
    parts: { policy: cookiePolicy({ path: '/' }) },
    expected: { affinity: 'cookie', 'session-cookie-path': '/' },
  },
  {
    name: 'negative and zero seconds pass as written',
    parts: {
      policy: cookiePolicy({ maxAgeSeconds: -1, expiresSeconds: 0, lifetime: 'permanent' }),
    },
    expected: { affinity: 'cookie', 'session-cookie-max-age': '-1', 'session-cookie-expires': '0' },
  },
  { name: 'no persistence, round robin', parts: { policy: NO_POLICY }, expected: {} },
  {
    name: 'no persistence, round robin, explicit',
    parts: { policy: NO_POLICY },
    explicit: true,
    expected: { 'load-balance': 'round_robin' },
  },
  {
    name: 'ewma',
    parts: { policy: NO_POLICY, loadBalancing: { algorithm: 'ewma' } },
    expected: { 'load-balance': 'ewma' },
  },
  {
    name: 'hash on a header',
    parts: { policy: NO_POLICY, loadBalancing: { algorithm: 'hash', hashKey: '$http_x_user' } },
    expected: { 'upstream-hash-by': '$http_x_user' },
  },
  {
    name: 'source-IP hash',
    parts: { policy: NO_POLICY, loadBalancing: { algorithm: 'sourceIpHash' } },
    expected: { 'upstream-hash-by': '$remote_addr' },
  },
  {
    name: 'source-IP persistence becomes a hash of the client address',
    parts: { policy: { ...NO_POLICY, mode: 'sourceIp', sourceIp: {} } },
    expected: { 'upstream-hash-by': '$remote_addr' },
    lossy: true,
  },
  {
    name: 'canary behaviour without affinity is written',
    parts: { policy: { ...NO_POLICY, canaryBehavior: 'sticky' } },
    expected: { 'affinity-canary-behavior': 'sticky' },
  },
  {
    name: 'route settings',
    tls: true,
    parts: {
      policy: NO_POLICY,
      route: {
        pathRegex: false,
        sslRedirect: false,
        canary: {
          weight: 10,
          weightTotal: 1000,
          header: 'X-Canary',
          headerValue: 'yes',
          cookie: 'canary',
        },
      },
    },
    expected: {
      canary: 'true',
      'canary-weight': '10',
      'canary-weight-total': '1000',
      'canary-by-header': 'X-Canary',
      'canary-by-header-value': 'yes',
      'canary-by-cookie': 'canary',
      'use-regex': 'false',
      'ssl-redirect': 'false',
    },
  },
  {
    name: 'canary defaults',
    parts: { policy: NO_POLICY, route: { canary: { weight: 0, weightTotal: 100 } } },
    expected: { canary: 'true' },
  },
  {
    name: 'canary defaults, explicit',
    parts: { policy: NO_POLICY, route: { canary: { weight: 0, weightTotal: 100 } } },
    explicit: true,
    expected: {
      'load-balance': 'round_robin',
      canary: 'true',
      'canary-weight': '0',
      'canary-weight-total': '100',
    },
  },
];

describe('emit: canonical form', () => {
  it.each(CANONICAL)('$name', ({ parts, tls, paths, explicit, expected, lossy }) => {
    const object = ingress({}, { tls, paths });
    const { out, after, accepted } = roundTrip(object, parts, explicit);
    expect(shortAnnotations(out)).toEqual(expected);
    // Key order is the table's: affinity first, route settings last.
    expect(Object.keys(shortAnnotations(out))).toEqual(Object.keys(expected));
    expect(out.spec).toEqual([]);
    expect(accepted).toEqual([true]);
    if (lossy) {
      expect(after[0]).toMatchObject({ 'loadBalancing.algorithm': 'sourceIpHash', mode: 'none' });
      expect(out.diagnostics.map((d) => d.reason)).toEqual(['UnsupportedByTarget']);
    } else {
      expect(after[0]).toEqual(flat(parts));
      expect(out.diagnostics).toEqual([]);
    }
  });

  it('declares the kinds it writes on', () => {
    expect(ingressNginx.targetKinds).toEqual(['Ingress']);
    expect(ingressNginx.emit).toBe(emit);
  });
});

interface LossCase {
  name: string;
  parts: EntryParts;
  tls?: boolean;
  annotations?: Record<string, string>;
  /** The source fields every one of which an UnsupportedByTarget diagnostic must name. */
  named: PolicyField[];
  /** Annotations that must not be written. */
  absent?: string[];
  severity?: 'warning' | 'info';
}

const LOSSES: LossCase[] = [
  {
    name: 'HttpOnly off',
    parts: { policy: cookiePolicy({ httpOnly: false }), sourced: ['cookie.httpOnly'] },
    named: ['cookie.httpOnly'],
  },
  {
    name: 'never Secure on HTTPS',
    tls: true,
    parts: { policy: cookiePolicy({ secure: 'never' }), sourced: ['cookie.secure'] },
    named: ['cookie.secure'],
    absent: ['session-cookie-secure'],
  },
  {
    name: 'never Secure on plain HTTP only is the same behaviour',
    parts: { policy: cookiePolicy({ secure: 'never' }), sourced: ['cookie.secure'] },
    named: ['cookie.secure'],
    severity: 'info',
  },
  {
    name: 'always Secure on plain HTTP only',
    parts: { policy: cookiePolicy({ secure: 'always' }), sourced: ['cookie.secure'] },
    named: ['cookie.secure'],
    absent: ['session-cookie-secure'],
  },
  {
    name: 'failing closed',
    parts: { policy: cookiePolicy({}, { onFailure: 'fail' }), sourced: ['onFailure'] },
    named: ['onFailure'],
    absent: ['session-cookie-change-on-failure'],
  },
  {
    name: 'no-cache',
    parts: { policy: cookiePolicy({ nocache: true }), sourced: ['cookie.nocache'] },
    named: ['cookie.nocache'],
  },
  {
    name: 'a cookie without Path',
    parts: { policy: cookiePolicy({ path: undefined }), sourced: ['cookie.path'] },
    named: ['cookie.path'],
  },
  {
    name: 'a cookie name nginx refuses',
    parts: { policy: cookiePolicy({ name: 'shop=session' }), sourced: ['cookie.name'] },
    named: ['cookie.name'],
    absent: ['session-cookie-name'],
  },
  {
    name: 'SameSite left out for old clients when it is not None',
    parts: {
      policy: cookiePolicy({ sameSite: 'Lax', omitSameSiteNoneForOldClients: true }),
      sourced: ['cookie.omitSameSiteNoneForOldClients'],
    },
    named: ['cookie.omitSameSiteNoneForOldClients'],
    absent: ['session-cookie-conditional-samesite-none'],
  },
  {
    name: 'a permanent cookie without Max-Age',
    parts: { policy: cookiePolicy({ lifetime: 'permanent' }), sourced: ['cookie.lifetime'] },
    named: ['cookie.lifetime'],
  },
  {
    name: 'absolute and idle timeouts',
    parts: {
      policy: cookiePolicy({}, { absoluteTimeoutSeconds: 3600, idleTimeoutSeconds: 600 }),
      sourced: ['absoluteTimeoutSeconds', 'idleTimeoutSeconds'],
    },
    named: ['absoluteTimeoutSeconds', 'idleTimeoutSeconds'],
  },
  {
    name: 'balancing next to cookie affinity',
    parts: {
      policy: cookiePolicy(),
      loadBalancing: { algorithm: 'leastConnections' },
      sourced: ['loadBalancing.algorithm'],
    },
    named: ['loadBalancing.algorithm'],
    absent: ['load-balance'],
  },
  {
    name: 'application cookie',
    parts: {
      policy: {
        ...cookiePolicy({ name: 'X-Oracle-BMC-LBS-Route' }),
        mode: 'appCookie',
        appCookie: { name: 'JSESSIONID' },
      },
      sourced: ['mode', 'appCookie.name', 'cookie.name'],
    },
    named: ['mode', 'appCookie.name', 'cookie.name'],
    absent: ['affinity'],
  },
  {
    name: 'header persistence',
    parts: {
      policy: { ...NO_POLICY, mode: 'header', header: { name: 'X-Session' } },
      sourced: ['mode', 'header.name'],
    },
    named: ['mode', 'header.name'],
    absent: ['affinity', 'upstream-hash-by'],
  },
  {
    name: 'source-IP persistence with a timeout',
    parts: {
      policy: { ...NO_POLICY, mode: 'sourceIp', sourceIp: { timeoutSeconds: 1800 } },
      sourced: ['mode', 'sourceIp.timeoutSeconds'],
    },
    named: ['mode', 'sourceIp.timeoutSeconds'],
  },
  {
    name: 'least connections',
    parts: {
      policy: NO_POLICY,
      loadBalancing: { algorithm: 'leastConnections' },
      sourced: ['loadBalancing.algorithm'],
    },
    named: ['loadBalancing.algorithm'],
    absent: ['load-balance', 'upstream-hash-by'],
  },
  {
    name: 'random balancing',
    parts: {
      policy: NO_POLICY,
      loadBalancing: { algorithm: 'random' },
      sourced: ['loadBalancing.algorithm'],
    },
    named: ['loadBalancing.algorithm'],
    absent: ['load-balance'],
  },
  {
    name: 'a hash key nginx refuses',
    parts: {
      policy: NO_POLICY,
      loadBalancing: { algorithm: 'hash', hashKey: '$http_x user' },
      sourced: ['loadBalancing.hashKey'],
    },
    named: ['loadBalancing.hashKey'],
    absent: ['upstream-hash-by'],
  },
  {
    name: 'rebalancing without affinity',
    parts: {
      policy: { ...NO_POLICY, rebalance: 'balanced', onFailure: 'fail' },
      sourced: ['rebalance', 'onFailure'],
    },
    named: ['rebalance', 'onFailure'],
  },
  {
    name: 'an HTTPS redirect on a host without TLS',
    parts: { policy: NO_POLICY, route: { sslRedirect: true }, sourced: ['route.sslRedirect'] },
    named: ['route.sslRedirect'],
    absent: ['ssl-redirect'],
  },
  {
    name: 'a canary header value without the header',
    parts: {
      policy: NO_POLICY,
      route: { canary: { weight: 5, weightTotal: 100, headerValue: 'yes' } },
      sourced: ['route.canary.headerValue'],
    },
    named: ['route.canary.headerValue'],
    absent: ['canary-by-header-value'],
  },
  {
    name: 'cookie affinity on an Ingress with service-upstream',
    annotations: { 'service-upstream': 'true' },
    parts: { policy: cookiePolicy({ name: 'shop' }), sourced: ['mode', 'cookie.name'] },
    named: ['mode', 'cookie.name'],
    absent: ['affinity', 'session-cookie-name'],
  },
];

describe('emit: what ingress-nginx cannot say', () => {
  it.each(LOSSES)('$name', ({ parts, tls, annotations, named, absent, severity }) => {
    const out = emitFor(ingress(annotations ?? {}, { tls }), parts);
    const reported = out.diagnostics.filter((d) => d.reason === 'UnsupportedByTarget');
    for (const field of named) {
      const naming = reported.filter((d) => d.sources.some((s) => s.field === `source/${field}`));
      expect(naming.length).toBeGreaterThan(0);
      for (const d of naming) expect(d.severity).toBe(severity ?? 'warning');
    }
    for (const key of absent ?? []) expect(shortAnnotations(out)).not.toHaveProperty(key);
  });

  it('names the mode when only the model filled a field', () => {
    const out = emitFor(ingress({}), {
      policy: cookiePolicy({ httpOnly: false }),
      sourced: ['mode'],
    });
    const [d] = out.diagnostics;
    expect(d?.message).toMatch(/HttpOnly/);
    expect(d?.sources.map((s) => s.field)).toEqual(['source/mode']);
  });

  it('explains that a Max-Age equal to the absolute timeout still ends sessions', () => {
    const out = emitFor(ingress({}), {
      policy: cookiePolicy(
        { maxAgeSeconds: 5400, lifetime: 'permanent' },
        { absoluteTimeoutSeconds: 5400 },
      ),
    });
    expect(shortAnnotations(out)['session-cookie-max-age']).toBe('5400');
    expect(out.diagnostics.map((d) => d.message).join()).toMatch(/Max-Age of 5400 s still ends/);
  });
});

describe('emit: one set of annotations per Ingress', () => {
  it('leaves each entry its own path as the cookie Path', () => {
    const object = ingress({}, { paths: ['/a', '/b'] });
    const entries = entriesFor(object, { policy: cookiePolicy() }).map((e) => ({
      ...e,
      policy: cookiePolicy({ path: e.entry.path }),
    }));
    const out = emit({ object, entries, explicit: true });
    expect(out.annotations).not.toHaveProperty(KEY.cookiePath);
    expect(out.diagnostics).toEqual([]);
  });

  it('writes a Path that is one entry’s default when another entry needs it', () => {
    const object = ingress({}, { paths: ['/', '/api'] });
    const { out, after } = roundTrip(object, { policy: cookiePolicy({ path: '/' }) });
    expect(shortAnnotations(out)['session-cookie-path']).toBe('/');
    expect(out.diagnostics).toEqual([]);
    expect(after.map((a) => a['cookie.path'])).toEqual(['/', '/']);
  });

  it('writes the first entry and names the source of every entry that differs', () => {
    const object = ingress({}, { paths: ['/a', '/b'] });
    const [a, b] = entriesFor(object, { policy: cookiePolicy() });
    if (!a || !b) throw new Error('two entries expected');
    const out = emit({
      object,
      explicit: false,
      entries: [
        { ...a, policy: cookiePolicy({ name: 'first', path: '/a' }) },
        {
          ...b,
          policy: cookiePolicy({ name: 'second', path: '/b' }),
          sources: { 'cookie.name': [sourceFor('second-name')] },
        },
      ],
    });
    expect(shortAnnotations(out)).toEqual({ affinity: 'cookie', 'session-cookie-name': 'first' });
    expect(out.diagnostics).toHaveLength(1);
    expect(out.diagnostics[0]?.message).toMatch(/session-cookie-name "second"/);
    expect(out.diagnostics[0]?.sources.map((s) => s.field)).toEqual(['source/second-name']);
  });
});

describe('emit: keys the Ingress already carries', () => {
  it('does not rewrite a key that already holds the value', () => {
    const object = ingress({ 'use-regex': 'true' });
    const out = emitFor(object, { policy: NO_POLICY, route: { pathRegex: true } });
    expect(out.annotations).toEqual({});
  });

  it('sets a lingering key back to the default the policy needs', () => {
    const object = ingress({ 'affinity-mode': 'persistent' });
    const out = emitFor(object, { policy: cookiePolicy({}, { rebalance: 'balanced' }) });
    expect(shortAnnotations(out)).toEqual({ affinity: 'cookie', 'affinity-mode': 'balanced' });
  });

  it('judges Secure by the Ingress’s own TLS, not by the listeners of the source vendor', () => {
    const object = ingress({});
    const entries = entriesFor(object, { policy: cookiePolicy({ secure: 'always' }) }).map((e) => ({
      ...e,
      entry: { ...e.entry, listeners: [{ protocol: 'HTTPS' as const, port: 443 }] },
    }));
    const out = emit({ object, entries, explicit: false });
    expect(out.annotations).not.toHaveProperty(KEY.cookieSecure);
    expect(out.diagnostics.map((d) => d.message).join()).toMatch(/plain HTTP only/);
  });
});

describe('emit: hostile input', () => {
  it.each([
    ['no entries', []],
    ['a refused entry', [{ policy: null, loadBalancing: null, accepted: false }]],
  ])('writes nothing for %s', (_name, overrides) => {
    const object = ingress({});
    const [base] = entriesFor(object, { policy: NO_POLICY });
    if (!base) throw new Error('one entry expected');
    const entries = overrides.map((o) => ({ ...base, ...o }));
    expect(emit({ object, entries, explicit: true })).toEqual({
      annotations: {},
      spec: [],
      diagnostics: [],
      covers: [],
    });
  });

  it('copes with annotations that are not a map and values that are not strings', () => {
    const object = ingress({});
    const entries = entriesFor(object, { policy: cookiePolicy() });
    const broken = {
      ...object,
      metadata: { ...object.metadata, annotations: ['x'] as unknown as Record<string, string> },
    };
    expect(emit({ object: broken, entries, explicit: false }).annotations).toEqual({
      [KEY.affinity]: 'cookie',
    });
    const odd = ingress({ affinity: 7, 'service-upstream': { yes: true } });
    expect(emit({ object: odd, entries, explicit: false }).annotations).toEqual({
      [KEY.affinity]: 'cookie',
    });
  });

  it('writes nothing on an object without metadata', () => {
    const object = ingress({});
    const entries = entriesFor(object, { policy: cookiePolicy() });
    const bare = { ...object, metadata: undefined } as unknown as typeof object;
    expect(emit({ object: bare, entries, explicit: false })).toEqual({
      annotations: {},
      spec: [],
      diagnostics: [],
      covers: [],
    });
  });

  it('refuses unicode, line breaks and overlong text instead of writing them', () => {
    for (const name of ['séance', 'a\r\nSet-Cookie: x=1', 'x'.repeat(5000), ' ']) {
      const out = emitFor(ingress({}), { policy: cookiePolicy({ name, domain: name }) });
      expect(out.annotations).not.toHaveProperty(KEY.cookieName);
      expect(out.annotations).not.toHaveProperty(KEY.cookieDomain);
      expect(out.diagnostics.filter((d) => d.reason === 'UnsupportedByTarget')).toHaveLength(2);
    }
  });
});
