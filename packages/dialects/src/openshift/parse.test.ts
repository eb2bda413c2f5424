import { describe, expect, it } from '@jest/globals';
import type { Diagnostic, ResolvedEntry } from '@tether/model';
import { analyze, parseContext } from '../index';
import type { KubeObject } from '../types';
import { openshift } from './index';
import { defaultCookieName } from './features/cookie';

/** `printf ' shop:web' | md5sum`: the router hashes the route key with an empty termination. */
const SHOP_WEB_COOKIE = '4376cfb81fc9447e2fc4f7b5ba62dff0';

function route(
  annotations: Record<string, string> = {},
  spec: Record<string, unknown> = {},
  name = 'web',
): KubeObject {
  return {
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: { name, namespace: 'shop', annotations },
    spec: { host: 'shop.example.com', to: { kind: 'Service', name: 'web' }, ...spec },
  };
}

const edge = { tls: { termination: 'edge' } };

function parse(object: KubeObject) {
  return openshift.parse(object, parseContext([object]));
}

function resolved(object: KubeObject): { entries: ResolvedEntry[]; diagnostics: Diagnostic[] } {
  return analyze([object]);
}

function first(object: KubeObject): ResolvedEntry {
  const entry = resolved(object).entries[0];
  if (!entry) throw new Error('no entry');
  return entry;
}

function reasons(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map(
    (d) => `${d.severity} ${d.reason} ${d.sources.map((s) => s.field).join(',')}`,
  );
}

describe('openshift: default cookie name', () => {
  it('is the md5 hex of the route key with an empty termination', () => {
    expect(defaultCookieName('shop', 'web')).toBe(SHOP_WEB_COOKIE);
    expect(first(route()).policy?.cookie?.name).toBe(SHOP_WEB_COOKIE);
  });

  it('does not change with the termination (the router hashes before reading it)', () => {
    for (const termination of ['edge', 'reencrypt'])
      expect(first(route({}, { tls: { termination } })).policy?.cookie?.name).toBe(SHOP_WEB_COOKIE);
  });

  it('differs per route', () => {
    expect(defaultCookieName('shop', 'api')).not.toBe(SHOP_WEB_COOKIE);
    expect(defaultCookieName('other', 'web')).not.toBe(SHOP_WEB_COOKIE);
  });
});

describe('openshift: defaults by TLS termination', () => {
  const cases: {
    name: string;
    tls?: Record<string, string>;
    secure: string;
    sameSite?: string;
    listeners: string[];
  }[] = [
    { name: 'plain HTTP', secure: 'never', listeners: ['HTTP'] },
    {
      name: 'edge',
      tls: { termination: 'edge' },
      secure: 'always',
      sameSite: 'None',
      listeners: ['HTTPS'],
    },
    {
      name: 'edge, None',
      tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'None' },
      secure: 'always',
      sameSite: 'None',
      listeners: ['HTTPS'],
    },
    {
      name: 'edge, Redirect',
      tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' },
      secure: 'always',
      sameSite: 'None',
      listeners: ['HTTP', 'HTTPS'],
    },
    {
      name: 'edge, Allow',
      tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Allow' },
      secure: 'never',
      listeners: ['HTTP', 'HTTPS'],
    },
    {
      name: 'reencrypt',
      tls: { termination: 'reencrypt' },
      secure: 'always',
      sameSite: 'None',
      listeners: ['HTTPS'],
    },
    {
      name: 'reencrypt, Allow',
      tls: { termination: 'reencrypt', insecureEdgeTerminationPolicy: 'Allow' },
      secure: 'never',
      listeners: ['HTTP', 'HTTPS'],
    },
  ];
  for (const c of cases) {
    it(`${c.name}: session cookie, HttpOnly, Path /, nocache, redispatch, random balancing`, () => {
      const e = first(route({}, c.tls ? { tls: c.tls } : {}));
      expect(e.accepted).toBe(true);
      expect(e.entry.listeners.map((l) => l.protocol)).toEqual(c.listeners);
      const cookie: Record<string, unknown> = {
        name: SHOP_WEB_COOKIE,
        path: '/',
        httpOnly: true,
        secure: c.secure,
        omitSameSiteNoneForOldClients: false,
        lifetime: 'session',
        nocache: true,
      };
      if (c.sameSite) cookie.sameSite = c.sameSite;
      expect(e.policy).toEqual({
        mode: 'cookie',
        cookie,
        rebalance: 'persistent',
        onFailure: 'rebalance',
      });
      expect(e.loadBalancing).toEqual({ algorithm: 'random' });
      expect(e.sources.mode?.[0]?.isDefault).toBe(true);
    });
  }

  it('passthrough: no cookie at all, source balancing, TCP listener', () => {
    const e = first(route({}, { tls: { termination: 'passthrough' } }));
    expect(e.accepted).toBe(true);
    expect(e.policy).toEqual({ mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' });
    expect(e.loadBalancing).toEqual({ algorithm: 'sourceIpHash' });
    expect(e.entry.listeners).toEqual([{ protocol: 'TCP', port: 443 }]);
  });
});

describe('openshift: disable_cookies (Go ParseBool)', () => {
  for (const raw of ['true', 'TRUE', 'True', '1', 't', 'T']) {
    it(`${JSON.stringify(raw)} turns the cookie off`, () => {
      const e = first(route({ 'haproxy.router.openshift.io/disable_cookies': raw }));
      expect(e.policy?.mode).toBe('none');
      expect(e.sources.mode?.[0]?.isDefault).toBeUndefined();
      expect(e.loadBalancing).toEqual({ algorithm: 'random' });
    });
  }
  for (const raw of ['false', 'FALSE', 'False', '0', 'f', 'F']) {
    it(`${JSON.stringify(raw)} keeps the cookie, as an explicit choice`, () => {
      const e = first(route({ 'haproxy.router.openshift.io/disable_cookies': raw }));
      expect(e.policy?.mode).toBe('cookie');
      expect(e.sources.mode?.[0]?.isDefault).toBeUndefined();
    });
  }
  for (const raw of [
    'yes',
    ' true',
    'true ',
    '',
    'true\r\n',
    'ｔｒｕｅ',
    '2',
    '-1',
    'x'.repeat(10_000),
  ]) {
    it(`${JSON.stringify(raw.slice(0, 12))} is not a Go boolean: warned, cookie stays on`, () => {
      const object = route({ 'haproxy.router.openshift.io/disable_cookies': raw });
      const { diagnostics } = parse(object);
      expect(reasons(diagnostics)).toEqual([
        'warning InvalidAnnotation haproxy.router.openshift.io/disable_cookies',
      ]);
      expect(diagnostics[0]?.message.length).toBeLessThan(400);
      expect(first(object).policy?.mode).toBe('cookie');
    });
  }
});

describe('openshift: cookie_name', () => {
  for (const raw of ['SESSION', 'my_cookie-1', 'A', '0', 'x'.repeat(4096)]) {
    it(`${JSON.stringify(raw.slice(0, 12))} is used as given`, () => {
      const e = first(route({ 'router.openshift.io/cookie_name': raw }));
      expect(e.policy?.cookie?.name).toBe(raw);
      expect(e.sources['cookie.name']?.[0]?.isDefault).toBeUndefined();
    });
  }
  const invalid = [
    '',
    ' ',
    ' SESSION',
    'a b',
    'a;b',
    'a=b',
    'a.b',
    'name\r\nSet-Cookie: evil=1',
    'ümlaut',
    '名前',
    'SESSION\n',
  ];
  for (const raw of invalid) {
    it(`${JSON.stringify(raw)} falls back silently at the vendor: warned, default name`, () => {
      const object = route({ 'router.openshift.io/cookie_name': raw });
      const { diagnostics } = parse(object);
      expect(reasons(diagnostics)).toEqual([
        'warning InvalidAnnotation router.openshift.io/cookie_name',
      ]);
      expect(diagnostics[0]?.message).not.toContain('\n');
      const e = first(object);
      expect(e.policy?.cookie?.name).toBe(SHOP_WEB_COOKIE);
      expect(e.sources['cookie.name']?.[0]?.isDefault).toBe(true);
    });
  }

  it('the old haproxy.router.openshift.io/cookie_name is never read: warned, default name', () => {
    const object = route({ 'haproxy.router.openshift.io/cookie_name': 'OLD' });
    expect(reasons(resolved(object).diagnostics)).toEqual([
      'warning IneffectiveSetting haproxy.router.openshift.io/cookie_name',
    ]);
    expect(first(object).policy?.cookie?.name).toBe(SHOP_WEB_COOKIE);
  });
});

describe('openshift: cookie-same-site', () => {
  for (const raw of ['Lax', 'Strict', 'None']) {
    it(`${raw} on an edge route is emitted with Secure`, () => {
      const e = first(route({ 'router.openshift.io/cookie-same-site': raw }, edge));
      expect(e.policy?.cookie?.sameSite).toBe(raw);
      expect(e.policy?.cookie?.secure).toBe('always');
    });
  }
  for (const raw of ['lax', 'STRICT', '', 'None ', 'Lax\r\n', 'Ничего']) {
    it(`${JSON.stringify(raw)} is not a value the router accepts: warned, None`, () => {
      const object = route({ 'router.openshift.io/cookie-same-site': raw }, edge);
      expect(reasons(parse(object).diagnostics)).toEqual([
        'warning InvalidAnnotation router.openshift.io/cookie-same-site',
      ]);
      expect(first(object).policy?.cookie?.sameSite).toBe('None');
    });
  }

  it('on a plain HTTP route is dropped (row 32)', () => {
    const object = route({ 'router.openshift.io/cookie-same-site': 'Lax' });
    expect(reasons(parse(object).diagnostics)).toEqual([
      'warning IneffectiveSetting router.openshift.io/cookie-same-site',
    ]);
    const cookie = first(object).policy?.cookie;
    expect(cookie?.sameSite).toBeUndefined();
    expect(cookie?.secure).toBe('never');
  });

  it('on an edge route that allows plain HTTP is dropped and names the policy (row 32)', () => {
    const object = route(
      { 'router.openshift.io/cookie-same-site': 'Strict' },
      { tls: { termination: 'edge', insecureEdgeTerminationPolicy: 'Allow' } },
    );
    expect(reasons(parse(object).diagnostics)).toEqual([
      'warning IneffectiveSetting router.openshift.io/cookie-same-site,spec.tls.insecureEdgeTerminationPolicy',
    ]);
    expect(first(object).policy?.cookie?.sameSite).toBeUndefined();
  });
});

describe('openshift: balance', () => {
  const map: [string, string][] = [
    ['roundrobin', 'roundRobin'],
    ['leastconn', 'leastConnections'],
    ['source', 'sourceIpHash'],
    ['random', 'random'],
  ];
  for (const [raw, algorithm] of map) {
    it(`${raw} → ${algorithm}`, () => {
      const e = first(route({ 'haproxy.router.openshift.io/balance': raw }));
      expect(e.loadBalancing).toEqual({ algorithm });
      expect(e.sources['loadBalancing.algorithm']?.[0]?.isDefault).toBeUndefined();
    });
  }
  for (const raw of ['round-robin', 'ROUNDROBIN', 'Random', '', ' source', 'leastconn\n', 'uri']) {
    it(`${JSON.stringify(raw)} falls back: warned, default algorithm`, () => {
      const object = route({ 'haproxy.router.openshift.io/balance': raw });
      expect(reasons(parse(object).diagnostics)).toEqual([
        'warning InvalidAnnotation haproxy.router.openshift.io/balance',
      ]);
      expect(first(object).loadBalancing).toEqual({ algorithm: 'random' });
    });
  }

  const splits: { name: string; spec: Record<string, unknown>; algorithm: string }[] = [
    {
      name: 'two Services with default weights',
      spec: { alternateBackends: [{ kind: 'Service', name: 'canary' }] },
      algorithm: 'roundRobin',
    },
    {
      name: 'an alternate with weight 0 is not active',
      spec: { alternateBackends: [{ kind: 'Service', name: 'canary', weight: 0 }] },
      algorithm: 'random',
    },
    {
      name: 'the primary at weight 0 leaves one active Service',
      spec: {
        to: { kind: 'Service', name: 'web', weight: 0 },
        alternateBackends: [{ kind: 'Service', name: 'canary', weight: 10 }],
      },
      algorithm: 'random',
    },
    {
      name: 'a negative weight counts as 0, an overflowing one as 256',
      spec: {
        to: { kind: 'Service', name: 'web', weight: 1_000_000 },
        alternateBackends: [{ kind: 'Service', name: 'canary', weight: -5 }],
      },
      algorithm: 'random',
    },
    {
      name: 'the same Service twice is one Service',
      spec: { alternateBackends: [{ kind: 'Service', name: 'web', weight: 5 }] },
      algorithm: 'random',
    },
    {
      name: 'passthrough split',
      spec: {
        tls: { termination: 'passthrough' },
        alternateBackends: [{ kind: 'Service', name: 'canary' }],
      },
      algorithm: 'roundRobin',
    },
  ];
  for (const s of splits) {
    it(`default with ${s.name}: ${s.algorithm}`, () => {
      const { entries } = resolved(route({}, s.spec));
      expect(entries.length).toBeGreaterThan(0);
      for (const e of entries) {
        expect(e.loadBalancing).toEqual({ algorithm: s.algorithm });
        expect(e.sources['loadBalancing.algorithm']?.[0]?.isDefault).toBe(true);
      }
    });
  }

  it('an explicit balance beats the split default', () => {
    const { entries } = resolved(
      route(
        { 'haproxy.router.openshift.io/balance': 'leastconn' },
        { alternateBackends: [{ kind: 'Service', name: 'canary' }] },
      ),
    );
    expect(entries.map((e) => e.loadBalancing?.algorithm)).toEqual([
      'leastConnections',
      'leastConnections',
    ]);
  });

  it('source with the cookie on notes that the cookie decides for pinned clients', () => {
    const { diagnostics } = parse(route({ 'haproxy.router.openshift.io/balance': 'source' }));
    expect(reasons(diagnostics)).toEqual([
      'info BalancingOverriddenByPersistence haproxy.router.openshift.io/balance',
    ]);
  });

  it('source with the cookie off needs no note', () => {
    const { diagnostics } = parse(
      route({
        'haproxy.router.openshift.io/balance': 'source',
        'haproxy.router.openshift.io/disable_cookies': 'true',
      }),
    );
    expect(diagnostics).toEqual([]);
  });
});

describe('openshift: conflicts', () => {
  it('row 31: cookie_name on a passthrough route is refused', () => {
    const object = route(
      { 'router.openshift.io/cookie_name': 'SESSION' },
      { tls: { termination: 'passthrough' } },
    );
    expect(reasons(parse(object).diagnostics)).toEqual([
      'error PersistenceOnTcpListener router.openshift.io/cookie_name',
    ]);
    const e = first(object);
    expect(e.accepted).toBe(false);
    expect(e.policy).toBeNull();
  });

  it('row 31: with the cookie disabled the name is only a leftover (warning)', () => {
    const object = route(
      {
        'router.openshift.io/cookie_name': 'SESSION',
        'haproxy.router.openshift.io/disable_cookies': 'true',
      },
      { tls: { termination: 'passthrough' } },
    );
    expect(reasons(parse(object).diagnostics)).toEqual([
      'warning IneffectiveSetting router.openshift.io/cookie_name',
    ]);
  });

  it('cookie-same-site on a passthrough route has no effect', () => {
    const object = route(
      { 'router.openshift.io/cookie-same-site': 'Lax' },
      { tls: { termination: 'passthrough' } },
    );
    expect(reasons(parse(object).diagnostics)).toEqual([
      'warning IneffectiveSetting router.openshift.io/cookie-same-site',
    ]);
  });

  it('row 34: disable_cookies with cookie_name and cookie-same-site', () => {
    const object = route(
      {
        'haproxy.router.openshift.io/disable_cookies': 'true',
        'router.openshift.io/cookie_name': 'SESSION',
        'router.openshift.io/cookie-same-site': 'Lax',
      },
      edge,
    );
    expect(reasons(parse(object).diagnostics)).toEqual([
      'warning IneffectiveSetting router.openshift.io/cookie_name,haproxy.router.openshift.io/disable_cookies',
      'warning IneffectiveSetting router.openshift.io/cookie-same-site,haproxy.router.openshift.io/disable_cookies',
    ]);
    expect(first(object).policy?.mode).toBe('none');
  });
});

describe('openshift: TLS spec the API server refuses', () => {
  const refused: [string, Record<string, unknown>, string][] = [
    ['termination in upper case', { termination: 'Edge' }, 'spec.tls.termination'],
    ['unknown termination', { termination: 'mtls' }, 'spec.tls.termination'],
    ['tls without termination', {}, 'spec.tls.termination'],
    ['empty termination', { termination: '' }, 'spec.tls.termination'],
    [
      'passthrough with Allow',
      { termination: 'passthrough', insecureEdgeTerminationPolicy: 'Allow' },
      'spec.tls.insecureEdgeTerminationPolicy',
    ],
    [
      'unknown insecure policy',
      { termination: 'edge', insecureEdgeTerminationPolicy: 'allow' },
      'spec.tls.insecureEdgeTerminationPolicy',
    ],
  ];
  for (const [name, tls, field] of refused) {
    it(`${name}: error and no fragments`, () => {
      const result = parse(route({}, { tls }));
      expect(result.fragments).toEqual([]);
      expect(reasons(result.diagnostics)).toEqual([`error InvalidAnnotation ${field}`]);
    });
  }

  it('passthrough with Redirect is accepted', () => {
    const result = parse(
      route({}, { tls: { termination: 'passthrough', insecureEdgeTerminationPolicy: 'Redirect' } }),
    );
    expect(result.diagnostics).toEqual([]);
    expect(result.fragments).toHaveLength(1);
  });
});

describe('openshift: other router annotations', () => {
  it('well-known settings Tether does not enforce get an info note, not a warning', () => {
    const object = route({
      'haproxy.router.openshift.io/timeout': '30s',
      'haproxy.router.openshift.io/ip_allowlist': '10.0.0.0/8',
      'router.openshift.io/haproxy.health.check.interval': '5s',
    });
    const { diagnostics } = resolved(object);
    expect(reasons(diagnostics).sort()).toEqual([
      'info NotReproduced haproxy.router.openshift.io/ip_allowlist',
      'info NotReproduced haproxy.router.openshift.io/timeout',
      'info NotReproduced router.openshift.io/haproxy.health.check.interval',
    ]);
  });

  it('an unknown key under a router prefix is a warning', () => {
    const { diagnostics } = resolved(route({ 'haproxy.router.openshift.io/cookie-name': 'X' }));
    expect(reasons(diagnostics)).toEqual([
      'warning UnknownAnnotation haproxy.router.openshift.io/cookie-name',
    ]);
  });
});

describe('openshift: scope and hostile input', () => {
  it('applies to OpenShift Routes only', () => {
    expect(openshift.appliesTo(route())).toBe(true);
    expect(openshift.appliesTo({ ...route(), apiVersion: 'example.com/v1' })).toBe(false);
    expect(openshift.appliesTo({ ...route(), kind: 'Ingress' })).toBe(false);
  });

  it('gives every backend of a split the same route-wide settings', () => {
    const result = parse(
      route(
        { 'router.openshift.io/cookie_name': 'S' },
        { alternateBackends: [{ kind: 'Service', name: 'canary', weight: 20 }] },
      ),
    );
    expect(result.fragments.map((f) => (f.type === 'entry' ? f.backend.service : ''))).toEqual([
      'web',
      'canary',
    ]);
    expect(result.fragments.map((f) => f.values['cookie.name']?.value)).toEqual(['S', 'S']);
  });

  const hostile: [string, KubeObject][] = [
    ['spec is a string', { ...route(), spec: 'nope' }],
    ['spec is missing', { ...route(), spec: undefined }],
    ['to is missing', { ...route(), spec: { host: 'x' } }],
    ['tls is a number', { ...route(), spec: { to: { name: 'web' }, tls: 7 } }],
    [
      'annotation values of the wrong type',
      route({
        'router.openshift.io/cookie_name': 42 as unknown as string,
        'haproxy.router.openshift.io/disable_cookies': null as unknown as string,
        'haproxy.router.openshift.io/balance': {} as unknown as string,
      }),
    ],
  ];
  for (const [name, object] of hostile) {
    it(`${name}: never throws`, () => {
      expect(() => parse(object)).not.toThrow();
      expect(() => analyze([object])).not.toThrow();
    });
  }
});
