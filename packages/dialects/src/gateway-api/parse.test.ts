import { describe, expect, it } from '@jest/globals';
import type { Diagnostic, ResolvedEntry } from '@tether/model';
import { analyze, parseContext } from '../index';
import type { KubeObject } from '../types';
import { gatewayApi } from './index';
import { gatewayDependencies } from './dependencies';
import { generatedSessionName } from './names';

const BASE = 'spec.rules[0].sessionPersistence';

function rule(
  sessionPersistence?: unknown,
  backends: string[] = ['web'],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const r: Record<string, unknown> = {
    matches: [{ path: { type: 'PathPrefix', value: '/' } }],
    backendRefs: backends.map((name) => ({ name, port: 8080 })),
    ...extra,
  };
  if (sessionPersistence !== undefined) r.sessionPersistence = sessionPersistence;
  return r;
}

function httpRoute(
  rules: Record<string, unknown>[],
  name = 'web',
  hostnames: string[] = ['shop.example.com'],
): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'shop' },
    spec: { parentRefs: [{ name: 'gw' }], hostnames, rules },
  };
}

function policy(
  sessionPersistence: unknown,
  services: string[] = ['web'],
  name = 'sticky',
  kind = 'XBackendTrafficPolicy',
  apiVersion = 'gateway.networking.x-k8s.io/v1alpha1',
  creationTimestamp?: string,
): KubeObject {
  const metadata: KubeObject['metadata'] = { name, namespace: 'shop' };
  if (creationTimestamp) metadata.creationTimestamp = creationTimestamp;
  return {
    apiVersion,
    kind,
    metadata,
    spec: {
      targetRefs: services.map((s) => ({ group: '', kind: 'Service', name: s })),
      sessionPersistence,
    },
  };
}

function parse(object: KubeObject, others: KubeObject[] = []) {
  return gatewayApi.parse(object, parseContext([object, ...others]));
}

function entries(objects: KubeObject[]): ResolvedEntry[] {
  return analyze(objects).entries;
}

function only(objects: KubeObject[]): ResolvedEntry {
  const [entry, ...rest] = entries(objects);
  if (!entry || rest.length > 0) throw new Error(`expected one entry, got ${rest.length + 1}`);
  return entry;
}

function reasons(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.severity !== 'info')
    .map((d) => `${d.severity} ${d.reason} ${d.sources.map((s) => s.field).join(',')}`);
}

const WEB_RULE0 = generatedSessionName('cookie', 'shop', 'web', 'rules[0]');

describe('gateway-api: generated names', () => {
  it('are stable, token-safe and unique per route rule', () => {
    expect(WEB_RULE0).toMatch(/^gw-[0-9a-f]{16}$/);
    expect(generatedSessionName('cookie', 'shop', 'web', 'rules[0]')).toBe(WEB_RULE0);
    const others = [
      generatedSessionName('cookie', 'shop', 'web', 'rules[1]'),
      generatedSessionName('cookie', 'shop', 'api', 'rules[0]'),
      generatedSessionName('cookie', 'other', 'web', 'rules[0]'),
    ];
    expect(new Set([WEB_RULE0, ...others]).size).toBe(4);
    expect(generatedSessionName('header', 'shop', 'web', 'rules[0]')).toMatch(
      /^x-gw-session-[0-9a-f]{16}$/,
    );
  });

  it('follow the rule name when the rule has one', () => {
    const e = only([httpRoute([rule({}, ['web'], { name: 'checkout' })])]);
    expect(e.policy?.cookie?.name).toBe(generatedSessionName('cookie', 'shop', 'web', 'checkout'));
  });
});

describe('gateway-api: defaults of a route rule session', () => {
  it('an empty sessionPersistence is a session cookie with the recommended attributes', () => {
    const e = only([httpRoute([rule({})])]);
    expect(e.accepted).toBe(true);
    expect(e.policy).toEqual({
      mode: 'cookie',
      cookie: {
        name: WEB_RULE0,
        path: '/',
        httpOnly: true,
        secure: 'https',
        sameSite: 'Strict',
        omitSameSiteNoneForOldClients: false,
        lifetime: 'session',
        nocache: false,
      },
      rebalance: 'persistent',
      onFailure: 'rebalance',
    });
    expect(e.sources['cookie.name']?.[0]).toMatchObject({
      kind: 'HTTPRoute',
      field: `${BASE}.sessionName`,
      isDefault: true,
    });
    expect(e.sources.mode?.[0]?.isDefault).toBeUndefined();
  });

  it('gives each rule its own session, even to the same Service', () => {
    const list = entries([httpRoute([rule({}), rule({})])]);
    const names = list.map((e) => e.policy?.cookie?.name);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });

  it('shares one session across the backends of one rule', () => {
    const list = entries([httpRoute([rule({ sessionName: 'S' }, ['web', 'canary'])])]);
    expect(list.map((e) => [e.backend.service, e.policy?.cookie?.name])).toEqual([
      ['canary', 'S'],
      ['web', 'S'],
    ]);
  });

  it('a rule without sessionPersistence and no policy has none', () => {
    expect(only([httpRoute([rule()])]).policy?.mode).toBe('none');
  });

  it('a null sessionPersistence counts as absent', () => {
    const result = parse(httpRoute([rule(null)]));
    expect(result.fragments).toEqual([]);
    expect(result.diagnostics).toEqual([]);
  });
});

describe('gateway-api: v1.1–v1.6 shape', () => {
  it('sessionName names the cookie', () => {
    const e = only([httpRoute([rule({ sessionName: 'JSESSIONID', type: 'Cookie' })])]);
    expect(e.policy?.cookie?.name).toBe('JSESSIONID');
    expect(e.sources['cookie.name']?.[0]?.field).toBe(`${BASE}.sessionName`);
  });

  it('Session lifetime: absoluteTimeout is kept by the gateway, no Max-Age', () => {
    const e = only([
      httpRoute([rule({ absoluteTimeout: '1h30m', cookieConfig: { lifetimeType: 'Session' } })]),
    ]);
    expect(e.policy?.absoluteTimeoutSeconds).toBe(5400);
    expect(e.policy?.cookie?.maxAgeSeconds).toBeUndefined();
    expect(e.policy?.cookie?.lifetime).toBe('session');
  });

  it('Permanent lifetime: Max-Age from absoluteTimeout', () => {
    const e = only([
      httpRoute([rule({ absoluteTimeout: '5m', cookieConfig: { lifetimeType: 'Permanent' } })]),
    ]);
    expect(e.policy?.cookie?.maxAgeSeconds).toBe(300);
    expect(e.policy?.cookie?.lifetime).toBe('permanent');
    expect(e.policy?.absoluteTimeoutSeconds).toBe(300);
  });

  it('type Header: sessionName names the header', () => {
    const e = only([httpRoute([rule({ type: 'Header', sessionName: 'X-Session' })])]);
    expect(e.policy).toEqual({
      mode: 'header',
      header: { name: 'X-Session' },
      rebalance: 'persistent',
      onFailure: 'rebalance',
    });
  });

  it('type Header without a name gets a generated header name', () => {
    const e = only([httpRoute([rule({ type: 'Header', absoluteTimeout: '10m' })])]);
    expect(e.policy?.header?.name).toBe(generatedSessionName('header', 'shop', 'web', 'rules[0]'));
    expect(e.policy?.absoluteTimeoutSeconds).toBe(600);
  });

  it('sub-second durations round up to whole seconds with a note', () => {
    const result = parse(httpRoute([rule({ absoluteTimeout: '1500ms' })]));
    expect(result.fragments[0]?.values.absoluteTimeoutSeconds?.value).toBe(2);
    expect(result.diagnostics.map((d) => `${d.severity} ${d.reason}`)).toEqual([
      'info NotReproduced',
    ]);
  });

  it('row 39: idleTimeout is honoured with a warning that v1.6+ CRDs prune it', () => {
    const object = httpRoute([rule({ idleTimeout: '15m' })]);
    expect(reasons(parse(object).diagnostics)).toEqual([
      `warning UnknownField ${BASE}.idleTimeout`,
    ]);
    expect(only([object]).policy?.idleTimeoutSeconds).toBe(900);
  });

  it('an empty sessionName is warned and replaced by a generated name', () => {
    const object = httpRoute([rule({ sessionName: '' })]);
    expect(reasons(parse(object).diagnostics)).toEqual([
      `warning InvalidAnnotation ${BASE}.sessionName`,
    ]);
    expect(only([object]).policy?.cookie?.name).toBe(WEB_RULE0);
  });
});

describe('gateway-api: cookie/header union shape', () => {
  it('cookie name, path and Permanent lifetime', () => {
    const e = only([
      httpRoute([
        rule({
          type: 'Cookie',
          absoluteTimeout: '1h',
          cookie: { name: 'sticky', path: '/shop', lifetimeType: 'Permanent' },
        }),
      ]),
    ]);
    expect(e.policy?.cookie).toMatchObject({
      name: 'sticky',
      path: '/shop',
      lifetime: 'permanent',
      maxAgeSeconds: 3600,
    });
    expect(e.sources['cookie.path']?.[0]?.field).toBe(`${BASE}.cookie.path`);
    expect(e.sources['cookie.lifetime']?.[0]?.field).toBe(`${BASE}.cookie.lifetimeType`);
  });

  it('cookie without a name: generated, path defaults to /', () => {
    const e = only([httpRoute([rule({ type: 'Cookie', cookie: {} })])]);
    expect(e.policy?.cookie?.name).toBe(WEB_RULE0);
    expect(e.policy?.cookie?.path).toBe('/');
    expect(e.sources['cookie.name']?.[0]?.field).toBe(`${BASE}.cookie.name`);
  });

  it('header name', () => {
    const e = only([httpRoute([rule({ type: 'Header', header: { name: 'x-session' } })])]);
    expect(e.policy?.header).toEqual({ name: 'x-session' });
  });

  it('fields of the older shape are pruned by the newer CRDs', () => {
    const object = httpRoute([
      rule({ cookie: { name: 'new' }, sessionName: 'old', idleTimeout: '1m', cookieConfig: {} }),
    ]);
    expect(reasons(parse(object).diagnostics).sort()).toEqual([
      `warning UnknownField ${BASE}.cookieConfig`,
      `warning UnknownField ${BASE}.idleTimeout`,
      `warning UnknownField ${BASE}.sessionName`,
    ]);
    const e = only([object]);
    expect(e.policy?.cookie?.name).toBe('new');
    expect(e.policy?.idleTimeoutSeconds).toBeUndefined();
  });
});

describe('gateway-api: refused configurations', () => {
  const cases: [string, unknown, string[]][] = [
    [
      'row 35: Permanent without absoluteTimeout',
      { cookieConfig: { lifetimeType: 'Permanent' } },
      [`error MissingValue ${BASE}.cookieConfig.lifetimeType,${BASE}.absoluteTimeout`],
    ],
    [
      'row 35: Permanent without absoluteTimeout (union)',
      { type: 'Cookie', cookie: { lifetimeType: 'Permanent' } },
      [`error MissingValue ${BASE}.cookie.lifetimeType,${BASE}.absoluteTimeout`],
    ],
    [
      'row 36: cookieConfig with type Header',
      { type: 'Header', sessionName: 'x', cookieConfig: { lifetimeType: 'Session' } },
      [`error IncompatibleSettings ${BASE}.cookieConfig,${BASE}.type`],
    ],
    [
      'row 36: cookie with type Header',
      { type: 'Header', cookie: { name: 'x' } },
      [`error IncompatibleSettings ${BASE}.cookie,${BASE}.type`, `error MissingValue ${BASE}`],
    ],
    [
      'row 36: header with type Cookie, no cookie',
      { type: 'Cookie', header: { name: 'x' } },
      [`error IncompatibleSettings ${BASE}.header,${BASE}.type`, `error MissingValue ${BASE}`],
    ],
    [
      'row 36: header without a name',
      { type: 'Header', header: {} },
      [`error MissingValue ${BASE}.header`],
    ],
    [
      'row 37: sessionName longer than 128',
      { sessionName: 'a'.repeat(129) },
      [`error InvalidAnnotation ${BASE}.sessionName`],
    ],
    [
      'row 37: sessionName with a space',
      { sessionName: 'my session' },
      [`error InvalidAnnotation ${BASE}.sessionName`],
    ],
    [
      'row 37: sessionName with CR/LF',
      { sessionName: 'a\r\nSet-Cookie: x=1' },
      [`error InvalidAnnotation ${BASE}.sessionName`],
    ],
    [
      'row 37: sessionName in unicode',
      { sessionName: 'sésame' },
      [`error InvalidAnnotation ${BASE}.sessionName`],
    ],
    [
      'row 37: sessionName a number',
      { sessionName: 42 },
      [`error InvalidAnnotation ${BASE}.sessionName`],
    ],
    [
      'row 37: cookie name with ";"',
      { cookie: { name: 'a;b' } },
      [`error InvalidAnnotation ${BASE}.cookie.name`],
    ],
    [
      'row 37: cookie name of 257 characters',
      { cookie: { name: 'a'.repeat(257) } },
      [`error InvalidAnnotation ${BASE}.cookie.name`],
    ],
    [
      'row 37: empty cookie name',
      { cookie: { name: '' } },
      [`error InvalidAnnotation ${BASE}.cookie.name`],
    ],
    [
      'row 37: header name with a colon',
      { type: 'Header', header: { name: 'x-a:b' } },
      [`error InvalidAnnotation ${BASE}.header.name`],
    ],
    [
      'row 37: bad absoluteTimeout',
      { absoluteTimeout: '1d' },
      [`error InvalidAnnotation ${BASE}.absoluteTimeout`],
    ],
    [
      'row 37: negative absoluteTimeout',
      { absoluteTimeout: '-5s' },
      [`error InvalidAnnotation ${BASE}.absoluteTimeout`],
    ],
    [
      'row 37: overflowing absoluteTimeout',
      { absoluteTimeout: '999999h' },
      [`error InvalidAnnotation ${BASE}.absoluteTimeout`],
    ],
    [
      'a zero absoluteTimeout',
      { absoluteTimeout: '0s' },
      [`error InvalidAnnotation ${BASE}.absoluteTimeout`],
    ],
    [
      'row 37: bad idleTimeout',
      { idleTimeout: '10 minutes' },
      [`error InvalidAnnotation ${BASE}.idleTimeout`],
    ],
    [
      'a relative cookie path',
      { cookie: { path: 'shop' } },
      [`error InvalidAnnotation ${BASE}.cookie.path`],
    ],
    [
      'a cookie path with ";"',
      { cookie: { path: '/a;Domain=evil' } },
      [`error InvalidAnnotation ${BASE}.cookie.path`],
    ],
    [
      'a cookie path with CR/LF',
      { cookie: { path: '/a\r\n' } },
      [`error InvalidAnnotation ${BASE}.cookie.path`],
    ],
    [
      'a cookie path over 1024 characters',
      { cookie: { path: `/${'a'.repeat(1024)}` } },
      [`error InvalidAnnotation ${BASE}.cookie.path`],
    ],
    ['type in lower case', { type: 'cookie' }, [`error InvalidAnnotation ${BASE}.type`]],
    [
      'unknown lifetimeType',
      { cookieConfig: { lifetimeType: 'Forever' } },
      [`error InvalidAnnotation ${BASE}.cookieConfig.lifetimeType`],
    ],
    [
      'cookieConfig a string',
      { cookieConfig: 'Session' },
      [`error InvalidAnnotation ${BASE}.cookieConfig`],
    ],
    ['sessionPersistence a string', 'Cookie', [`error InvalidAnnotation ${BASE}`]],
    ['sessionPersistence a list', [{ type: 'Cookie' }], [`error InvalidAnnotation ${BASE}`]],
    ['sessionPersistence a number', 1, [`error InvalidAnnotation ${BASE}`]],
  ];
  for (const [name, value, expected] of cases) {
    it(`${name}: errors, no session, the route is refused`, () => {
      const object = httpRoute([rule(value)]);
      const result = parse(object);
      expect(reasons(result.diagnostics)).toEqual(expected);
      expect(result.fragments).toEqual([]);
      const e = only([object]);
      expect(e.accepted).toBe(false);
      expect(e.policy).toBeNull();
    });
  }

  it('a sessionName of exactly 128 characters is accepted', () => {
    const name = 'a'.repeat(128);
    expect(only([httpRoute([rule({ sessionName: name })])]).policy?.cookie?.name).toBe(name);
  });

  it('unknown fields are pruned, with a warning', () => {
    const object = httpRoute([rule({ sessionname: 'x', cookieConfig: { lifetime: 'Session' } })]);
    expect(reasons(parse(object).diagnostics).sort()).toEqual([
      `warning UnknownField ${BASE}.cookieConfig.lifetime`,
      `warning UnknownField ${BASE}.sessionname`,
    ]);
    expect(only([object]).policy?.mode).toBe('cookie');
  });
});

describe('gateway-api: backend policies', () => {
  it('XBackendTrafficPolicy gives rules without their own config its session', () => {
    const p = policy({ sessionName: 'svc-cookie', absoluteTimeout: '10m' });
    const e = only([httpRoute([rule()]), p]);
    expect(e.policy?.mode).toBe('cookie');
    expect(e.policy?.cookie?.name).toBe('svc-cookie');
    expect(e.policy?.absoluteTimeoutSeconds).toBe(600);
    expect(e.sources['cookie.name']?.[0]).toMatchObject({
      kind: 'XBackendTrafficPolicy',
      name: 'sticky',
      field: 'spec.sessionPersistence.sessionName',
    });
  });

  it('BackendLBPolicy (v1alpha2) works the same way', () => {
    const p = policy(
      { type: 'Header', sessionName: 'x-s' },
      ['web'],
      'lb',
      'BackendLBPolicy',
      'gateway.networking.k8s.io/v1alpha2',
    );
    expect(only([httpRoute([rule()]), p]).policy?.header?.name).toBe('x-s');
  });

  it("another project's BackendTrafficPolicy of the same kind name is not read", () => {
    const p = policy({}, ['web'], 'eg', 'BackendTrafficPolicy', 'gateway.envoyproxy.io/v1alpha1');
    expect(gatewayApi.appliesTo(p)).toBe(false);
    expect(only([httpRoute([rule()]), p]).policy?.mode).toBe('none');
  });

  it('a policy without a name still gives each rule its own generated cookie', () => {
    const list = entries([httpRoute([rule(), rule()]), policy({})]);
    const names = list.map((e) => e.policy?.cookie?.name);
    expect(names).toEqual([
      generatedSessionName('cookie', 'shop', 'web', 'rules[0]'),
      generatedSessionName('cookie', 'shop', 'web', 'rules[1]'),
    ]);
    expect(list[0]?.sources['cookie.name']?.[0]).toMatchObject({
      kind: 'HTTPRoute',
      field: 'spec.rules[0]',
      isDefault: true,
    });
  });

  it('route-rule config replaces the policy entirely, with a warning', () => {
    const p = policy({ sessionName: 'svc', absoluteTimeout: '1h', idleTimeout: '5m' });
    const route = httpRoute([rule({ type: 'Cookie' })]);
    const e = only([route, p]);
    expect(e.policy?.cookie?.name).toBe(WEB_RULE0);
    expect(e.policy?.absoluteTimeoutSeconds).toBeUndefined();
    expect(e.policy?.idleTimeoutSeconds).toBeUndefined();
    expect(reasons(parse(route, [p]).diagnostics)).toEqual([
      `warning ValueOverridden ${BASE},spec.sessionPersistence`,
    ]);
  });

  it('the oldest of two policies on one Service applies; the other is warned', () => {
    const older = policy(
      { sessionName: 'old' },
      ['web'],
      'zeta',
      undefined,
      undefined,
      '2024-01-01T00:00:00Z',
    );
    const newer = policy(
      { sessionName: 'new' },
      ['web'],
      'alpha',
      undefined,
      undefined,
      '2025-01-01T00:00:00Z',
    );
    const route = httpRoute([rule()]);
    expect(only([route, newer, older]).policy?.cookie?.name).toBe('old');
    expect(reasons(parse(newer, [route, older]).diagnostics)).toEqual([
      'warning ValueOverridden spec.sessionPersistence,spec.sessionPersistence',
    ]);
    expect(parse(older, [route, newer]).diagnostics).toEqual([]);
  });

  it('without timestamps the first by namespace/name applies', () => {
    const route = httpRoute([rule()]);
    const b = policy({ sessionName: 'b' }, ['web'], 'b');
    const a = policy({ sessionName: 'a' }, ['web'], 'a');
    expect(only([route, b, a]).policy?.cookie?.name).toBe('a');
  });

  it('a refused policy session applies nowhere', () => {
    const p = policy({ cookieConfig: { lifetimeType: 'Permanent' } });
    expect(reasons(parse(p).diagnostics)).toEqual([
      'error MissingValue spec.sessionPersistence.cookieConfig.lifetimeType,spec.sessionPersistence.absoluteTimeout',
    ]);
    expect(only([httpRoute([rule()]), p]).policy?.mode).toBe('none');
  });

  it('a split where only some Services have a policy pins only those, with a note', () => {
    const route = httpRoute([rule(undefined, ['web', 'canary'])]);
    const result = parse(route, [policy({})]);
    expect(result.fragments.map((f) => (f.type === 'entry' ? f.backend.service : ''))).toEqual([
      'web',
    ]);
    expect(result.diagnostics.map((d) => `${d.severity} ${d.reason}`)).toEqual([
      'info IncompatibleSettings',
    ]);
  });

  const badTargets: [string, unknown, string][] = [
    ['no targetRefs', undefined, 'spec.targetRefs'],
    ['empty targetRefs', [], 'spec.targetRefs'],
    [
      'seventeen targetRefs',
      Array.from({ length: 17 }, (_, i) => ({ group: '', kind: 'Service', name: `s${i}` })),
      'spec.targetRefs',
    ],
    ['a target without group', [{ kind: 'Service', name: 'web' }], 'spec.targetRefs[0]'],
    [
      'a target with an empty name',
      [{ group: '', kind: 'Service', name: '' }],
      'spec.targetRefs[0]',
    ],
    ['a target that is a string', ['web'], 'spec.targetRefs[0]'],
  ];
  for (const [name, targetRefs, field] of badTargets) {
    it(`${name}: refused`, () => {
      const p: KubeObject = { ...policy({}), spec: { targetRefs, sessionPersistence: {} } };
      expect(reasons(parse(p).diagnostics)).toEqual([`error InvalidAnnotation ${field}`]);
      expect(only([httpRoute([rule()]), p]).policy?.mode).toBe('none');
    });
  }

  it('targets other than Services are left alone, with a warning', () => {
    const p: KubeObject = {
      ...policy({}),
      spec: {
        targetRefs: [{ group: 'multicluster.x-k8s.io', kind: 'ServiceImport', name: 'web' }],
        sessionPersistence: {},
      },
    };
    expect(reasons(parse(p).diagnostics)).toEqual([
      'warning IneffectiveSetting spec.targetRefs[0]',
    ]);
  });

  it('unknown policy fields are pruned; retryConstraint is noted as not enforced', () => {
    const p: KubeObject = {
      ...policy({}),
      spec: { ...(policy({}).spec as object), retryConstraint: {}, foo: 1 },
    };
    const { diagnostics } = parse(p);
    expect(
      diagnostics.map((d) => `${d.severity} ${d.reason} ${d.sources[0]?.field ?? ''}`),
    ).toEqual(['info NotReproduced spec.retryConstraint', 'warning UnknownField spec.foo']);
  });
});

describe('gateway-api: row 38, one cookie name for several sessions', () => {
  function crossCheck(objects: KubeObject[]): string[] {
    return reasons(analyze(objects).diagnostics.filter((d) => d.reason === 'DuplicateCookieName'));
  }

  it('two policies naming the same cookie for two Services of one split: error', () => {
    const objects = [
      httpRoute([rule(undefined, ['v1', 'v2'])]),
      policy({ sessionName: 'split' }, ['v1'], 'p1'),
      policy({ sessionName: 'split' }, ['v2'], 'p2'),
    ];
    expect(crossCheck(objects)).toEqual([
      'error DuplicateCookieName spec.sessionPersistence.sessionName,spec.rules[0],spec.sessionPersistence.sessionName',
    ]);
    const refused = entries(objects);
    expect(refused.map((e) => e.accepted)).toEqual([false, false]);
  });

  it('two rules naming the same cookie for different Services: error', () => {
    const objects = [
      httpRoute([rule({ sessionName: 'S' }, ['a']), rule({ sessionName: 'S' }, ['b'])]),
    ];
    expect(crossCheck(objects)).toEqual([
      `error DuplicateCookieName ${BASE}.sessionName,spec.rules[1].sessionPersistence.sessionName`,
    ]);
  });

  it('two rules naming the same header for different Services: error', () => {
    const header = { type: 'Header', sessionName: 'x-s' };
    const objects = [httpRoute([rule(header, ['a']), rule(header, ['b'])])];
    expect(crossCheck(objects)).toEqual([
      `error DuplicateCookieName ${BASE}.sessionName,spec.rules[1].sessionPersistence.sessionName`,
    ]);
  });

  it('a cookie and a header of the same name do not clash', () => {
    const objects = [
      httpRoute([
        rule({ sessionName: 'S' }, ['a']),
        rule({ type: 'Header', sessionName: 'S' }, ['b']),
      ]),
    ];
    expect(crossCheck(objects)).toEqual([]);
  });

  it('two routes on the same host naming the same cookie: error', () => {
    const objects = [
      httpRoute([rule({ sessionName: 'S' }, ['a'])], 'one'),
      httpRoute([rule({ sessionName: 'S' }, ['b'])], 'two'),
    ];
    expect(crossCheck(objects)).toHaveLength(1);
  });

  it('two rules of one Service sharing a cookie name: warning', () => {
    const objects = [httpRoute([rule({ sessionName: 'S' }), rule({ sessionName: 'S' })])];
    expect(crossCheck(objects)).toEqual([
      `warning DuplicateCookieName ${BASE}.sessionName,spec.rules[1].sessionPersistence.sessionName`,
    ]);
  });

  it('one policy with a fixed name on a Service used by two rules: warning', () => {
    const objects = [httpRoute([rule(), rule()]), policy({ sessionName: 'svc' })];
    expect(crossCheck(objects)).toEqual([
      'warning DuplicateCookieName spec.sessionPersistence.sessionName,spec.rules[0],spec.rules[1]',
    ]);
  });

  const apart: [string, KubeObject[]][] = [
    [
      'different hosts',
      [
        httpRoute([rule({ sessionName: 'S' }, ['a'])], 'one', ['a.example.com']),
        httpRoute([rule({ sessionName: 'S' }, ['b'])], 'two', ['b.example.com']),
      ],
    ],
    [
      'disjoint cookie paths',
      [
        httpRoute([
          rule({ cookie: { name: 'S', path: '/a' } }, ['a']),
          rule({ cookie: { name: 'S', path: '/b' } }, ['b']),
        ]),
      ],
    ],
    [
      'one rule, one configuration, two backends',
      [httpRoute([rule({ sessionName: 'S' }, ['a', 'b'])])],
    ],
    ['generated names', [httpRoute([rule({}, ['a']), rule({}, ['b'])])]],
  ];
  for (const [name, objects] of apart) {
    it(`${name}: no clash`, () => expect(crossCheck(objects)).toEqual([]));
  }

  it('a wildcard hostname overlaps the hosts it covers', () => {
    const objects = [
      httpRoute([rule({ sessionName: 'S' }, ['a'])], 'one', ['*.example.com']),
      httpRoute([rule({ sessionName: 'S' }, ['b'])], 'two', ['shop.example.com']),
    ];
    expect(crossCheck(objects)).toHaveLength(1);
  });
});

describe('gateway-api: scope and hostile input', () => {
  it('applies to Gateway API routes and policies', () => {
    expect(gatewayApi.appliesTo(httpRoute([]))).toBe(true);
    expect(gatewayApi.appliesTo(policy({}))).toBe(true);
    expect(gatewayApi.appliesTo({ ...httpRoute([]), apiVersion: 'example.com/v1' })).toBe(false);
    expect(gatewayApi.appliesTo({ ...httpRoute([]), kind: 'GRPCRoute' })).toBe(true);
    expect(gatewayApi.appliesTo({ ...httpRoute([]), kind: 'TLSRoute' })).toBe(true);
    expect(gatewayApi.appliesTo({ ...httpRoute([]), kind: 'Gateway' })).toBe(false);
    expect(
      gatewayApi.appliesTo({
        ...policy({}),
        kind: 'BackendTLSPolicy',
        apiVersion: 'gateway.networking.k8s.io/v1',
      }),
    ).toBe(true);
  });

  const hostile: [string, KubeObject][] = [
    ['rules not a list', { ...httpRoute([]), spec: { rules: 'x' } }],
    ['spec a number', { ...httpRoute([]), spec: 5 }],
    ['a rule without backends', httpRoute([{ sessionPersistence: { sessionName: 'S' } }])],
    [
      'a deeply nested sessionPersistence',
      httpRoute([rule({ cookie: { name: { a: { b: { c: [1, 2, 3] } } } } })]),
    ],
    ['a policy with spec null', { ...policy({}), spec: null }],
    ['a policy with a huge name', policy({ sessionName: 'x'.repeat(100_000) })],
  ];
  for (const [name, object] of hostile) {
    it(`${name}: never throws`, () => {
      expect(() => parse(object)).not.toThrow();
      expect(() => analyze([object, httpRoute([rule()])])).not.toThrow();
    });
  }

  it('diagnostic messages stay short and on one line', () => {
    const { diagnostics } = parse(httpRoute([rule({ sessionName: `${'x'.repeat(5000)}\r\n` })]));
    for (const d of diagnostics) {
      expect(d.message.length).toBeLessThan(500);
      expect(d.message).not.toMatch(/[\r\n]/);
    }
  });
});

describe('gateway-api: what a parse depends on', () => {
  it('a route depends on the policies of its Services; a policy on the others of its Services', () => {
    const route = httpRoute([rule(undefined, ['web'])]);
    const mine = policy({}, ['web'], 'mine');
    const rival = policy({}, ['web'], 'rival');
    const elsewhere = policy({}, ['other'], 'elsewhere');
    const refused = policy({ type: 'cookie' }, ['web'], 'refused');
    const context = parseContext([route, mine, rival, elsewhere, refused]);
    const names = (objects: KubeObject[]) => objects.map((o) => o.metadata.name).sort();
    expect(names(gatewayDependencies(route, context))).toEqual(['mine', 'rival']);
    expect(names(gatewayDependencies(mine, context))).toEqual(['rival']);
    expect(names(gatewayDependencies(elsewhere, context))).toEqual([]);
    expect(gatewayDependencies(httpRoute([rule({})], 'x'), parseContext([]))).toEqual([]);
  });
});
