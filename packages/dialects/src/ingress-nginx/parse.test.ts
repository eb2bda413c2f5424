import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Fragment, PersistencePolicy } from '@tether/model';
import { KEY, KEYS, SPEC, TABLE } from './annotations';
import { ingressNginx } from './index';
import { parse } from './parse';
import { ingress, run, summary } from '../../../../test/support/dialects/ingress-nginx';

/** The policy of `affinity: cookie` and nothing else, on the path `/`. */
const DEFAULT_POLICY: PersistencePolicy = {
  mode: 'cookie',
  cookie: {
    name: 'INGRESSCOOKIE',
    path: '/',
    httpOnly: true,
    secure: 'https',
    omitSameSiteNoneForOldClients: false,
    lifetime: 'session',
    nocache: false,
  },
  rebalance: 'balanced',
  onFailure: 'retryPinned',
  canaryBehavior: 'sticky',
};

function only(object: ReturnType<typeof ingress>) {
  const outcome = run(object);
  expect(outcome.entries).toHaveLength(1);
  return { ...outcome, entry: outcome.entries[0]! };
}

describe('the table', () => {
  it('has one row per key, each with a doc line and a fallback', () => {
    expect(new Set(KEYS).size).toBe(TABLE.length);
    for (const key of Object.values(KEY)) {
      expect(SPEC[key]?.key).toBe(key);
      expect(SPEC[key].doc.length).toBeGreaterThan(10);
      expect(SPEC[key].kinds).toEqual(['Ingress']);
    }
  });

  it.each([
    [KEY.affinity, ' cookie ', true],
    [KEY.affinity, 'Cookie', false],
    [KEY.cookieName, 'a b', true], // the controller drops spaces before checking
    [KEY.cookieName, 'a;b', false],
    [KEY.cookieSameSite, 'LAX', true],
    [KEY.cookieMaxAge, 'abc12', true], // the half-anchored check
    [KEY.cookieMaxAge, ' 60', true],
    [KEY.cookieMaxAge, '60 ', false],
    [KEY.cookieExpires, '60 ', true],
    [KEY.loadBalance, 'least_conn', false],
    [KEY.upstreamHashBy, '$remote_addr', true],
    [KEY.upstreamHashBy, '$(rm)', false],
    [KEY.canaryWeight, '+5', true],
    [KEY.canaryWeight, '9223372036854775808', false],
    [KEY.useRegex, 'True', true],
    [KEY.useRegex, ' true', false],
  ])('checks %s = %j as the controller does (%s)', (key, raw, accepted) => {
    expect(SPEC[key].schema.safeParse(raw).success).toBe(accepted);
  });
});

describe('defaults of cookie affinity', () => {
  it('gives INGRESSCOOKIE, the Ingress path, HttpOnly, Secure on HTTPS, balanced, sticky canaries', () => {
    const { entry, parsed, resolved } = only(ingress({ affinity: 'cookie' }));
    expect(entry.accepted).toBe(true);
    expect(entry.policy).toEqual(DEFAULT_POLICY);
    expect(entry.loadBalancing).toEqual({ algorithm: 'roundRobin' });
    expect(entry.route).toEqual({});
    expect(parsed).toEqual([]);
    expect(resolved).toEqual([]);
  });

  it('marks every default as a default of ingress-nginx', () => {
    const { entry } = only(ingress({ affinity: 'cookie' }));
    expect(entry.sources.mode?.[0]).toMatchObject({ field: KEY.affinity });
    expect(entry.sources.mode?.[0]?.isDefault).toBeUndefined();
    for (const field of ['cookie.name', 'cookie.path', 'cookie.secure', 'rebalance'] as const) {
      expect(entry.sources[field]?.[0]).toMatchObject({
        dialect: 'ingress-nginx',
        isDefault: true,
      });
    }
  });

  it('takes the default cookie Path from each path of the Ingress, verbatim', () => {
    const { entries } = run(ingress({ affinity: 'cookie' }, { paths: ['/shop', '/api/v1/'] }));
    expect(entries.map((e) => e.policy?.cookie?.path)).toEqual(['/shop', '/api/v1/']);
  });

  it('sets no persistence defaults where affinity is off', () => {
    const { entry, parsed } = only(ingress({ 'ssl-redirect': 'false' }));
    expect(entry.policy).toEqual({ mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' });
    expect(entry.loadBalancing).toEqual({ algorithm: 'roundRobin' });
    expect(entry.sources['loadBalancing.algorithm']?.[0]).toMatchObject({
      field: KEY.loadBalance,
      isDefault: true,
    });
    expect(parsed).toEqual([]);
  });
});

describe('affinity (row 15)', () => {
  it.each([
    ['cookie', 'cookie', []],
    [' cookie\t', 'cookie', []],
    ['cookie\r', 'cookie', []],
    ['Cookie', 'none', ['warning InvalidAnnotation affinity']],
    ['ip', 'none', ['warning InvalidAnnotation affinity']],
    ['cookie\n', 'none', ['warning InvalidAnnotation affinity']],
    ['', 'none', ['warning InvalidAnnotation affinity']],
    ['   ', 'none', ['warning InvalidAnnotation affinity']],
    ['ｃookie', 'none', ['warning InvalidAnnotation affinity']],
  ])('%j gives mode %s', (value, mode, diagnostics) => {
    const { entry, parsed } = only(ingress({ affinity: value }));
    expect(entry.policy?.mode).toBe(mode);
    expect(summary(parsed)).toEqual(diagnostics);
  });

  it('says that ingress-nginx would silently leave affinity off', () => {
    const { parsed } = only(ingress({ affinity: 'Cookie' }));
    expect(parsed[0]?.message).toMatch(/ingress-nginx would silently leave session affinity off/);
  });

  it('warns about every cookie setting written without affinity', () => {
    const { parsed } = only(
      ingress({ affinity: 'ip', 'session-cookie-name': 'X', 'affinity-mode': 'persistent' }),
    );
    expect(summary(parsed)).toEqual([
      'warning IneffectiveSetting affinity-mode,affinity',
      'warning IneffectiveSetting session-cookie-name,affinity',
      'warning InvalidAnnotation affinity',
    ]);
  });
});

describe('cookie attributes (row 16: invalid values fall back with a warning)', () => {
  const huge = 'a'.repeat(5000);
  it.each([
    ['session-cookie-name', 'SESSION', 'name', 'SESSION', false],
    ['session-cookie-name', 'a.b-c_d~e/f:g', 'name', 'a.b-c_d~e/f:g', false],
    ['session-cookie-name', 'my cookie', 'name', 'INGRESSCOOKIE', true],
    ['session-cookie-name', 'a\r\nSet-Cookie: x=1', 'name', 'INGRESSCOOKIE', true],
    ['session-cookie-name', 'a;b', 'name', 'INGRESSCOOKIE', true],
    ['session-cookie-name', 'söhne', 'name', 'INGRESSCOOKIE', true],
    ['session-cookie-name', '', 'name', 'INGRESSCOOKIE', true],
    ['session-cookie-name', huge, 'name', 'INGRESSCOOKIE', true],
    ['session-cookie-path', '/app', 'path', '/app', false],
    ['session-cookie-path', '/api/(.*)', 'path', '/', true],
    ['session-cookie-path', '/a\nb', 'path', '/', true],
    ['session-cookie-domain', '.example.com', 'domain', '.example.com', false],
    ['session-cookie-domain', '  example.com  ', 'domain', 'example.com', false],
    ['session-cookie-domain', 'exa mple.com', 'domain', undefined, true],
    ['session-cookie-domain', 'example.com\r\n', 'domain', undefined, true],
    ['session-cookie-domain', 'evil.com\r\nX: y', 'domain', undefined, true],
    ['session-cookie-samesite', 'Strict', 'sameSite', 'Strict', false],
    ['session-cookie-samesite', ' lax ', 'sameSite', 'Lax', false],
    ['session-cookie-samesite', 'NONE', 'sameSite', 'None', false],
    ['session-cookie-samesite', 'sometimes', 'sameSite', undefined, true],
    ['session-cookie-max-age', '3600', 'maxAgeSeconds', 3600, false],
    ['session-cookie-max-age', '007', 'maxAgeSeconds', 7, false],
    ['session-cookie-max-age', ' 60', 'maxAgeSeconds', 60, false],
    ['session-cookie-max-age', '-5', 'maxAgeSeconds', -5, true],
    ['session-cookie-max-age', '0', 'maxAgeSeconds', 0, true],
    ['session-cookie-max-age', 'abc12', 'maxAgeSeconds', undefined, true],
    ['session-cookie-max-age', '1.5', 'maxAgeSeconds', undefined, true],
    ['session-cookie-max-age', '0x1F', 'maxAgeSeconds', undefined, true],
    ['session-cookie-max-age', 'abc', 'maxAgeSeconds', undefined, true],
    ['session-cookie-max-age', '60 ', 'maxAgeSeconds', undefined, true],
    ['session-cookie-max-age', '99999999999999999999', 'maxAgeSeconds', undefined, true],
    ['session-cookie-expires', '86400', 'expiresSeconds', 86400, false],
    ['session-cookie-expires', '60 ', 'expiresSeconds', 60, false],
    ['session-cookie-expires', '1 0', 'expiresSeconds', undefined, true],
    ['session-cookie-expires', '-1', 'expiresSeconds', -1, true],
  ])('%s %j gives cookie.%s %j (warning: %s)', (key, value, field, expected, warns) => {
    const { entry, parsed } = only(ingress({ affinity: 'cookie', [key]: value }));
    expect(entry.accepted).toBe(true);
    const cookie = entry.policy?.cookie as Record<string, unknown> | undefined;
    expect(cookie?.[field]).toEqual(expected);
    expect(summary(parsed)).toEqual(warns ? [`warning InvalidAnnotation ${key}`] : []);
    expect(JSON.stringify(entry.policy)).not.toMatch(/\\r|\\n/);
  });

  it('makes a cookie with Max-Age or Expires permanent', () => {
    const { entry } = only(ingress({ affinity: 'cookie', 'session-cookie-max-age': '60' }));
    expect(entry.policy?.cookie?.lifetime).toBe('permanent');
  });

  it.each([
    ['true', 'always'],
    ['1', 'always'],
    ['false', 'https'],
    ['yes', 'https'],
    [' true', 'https'],
  ])('session-cookie-secure %j gives secure %s', (value, secure) => {
    const { entry } = only(
      ingress({ affinity: 'cookie', 'session-cookie-secure': value }, { tls: true }),
    );
    expect(entry.policy?.cookie?.secure).toBe(secure);
    expect(entry.sources['cookie.secure']?.[0]?.isDefault).toBe(
      value === 'yes' || value === ' true' ? true : undefined,
    );
  });

  it('serves a Secure-only cookie on a host without TLS, which ingress-nginx also serves over HTTPS', () => {
    const { entry, resolved } = only(
      ingress({
        affinity: 'cookie',
        'session-cookie-secure': 'true',
        'session-cookie-samesite': 'Lax',
      }),
    );
    expect(entry.accepted).toBe(true);
    expect(entry.policy?.cookie).toMatchObject({ secure: 'always', sameSite: 'Lax' });
    // Every server listens on the HTTPS port too (template.go buildHTTPSListener), so the
    // cookie comes back over HTTPS: no warning.
    expect(entry.entry.listeners.map((l) => l.protocol)).toEqual(['HTTP', 'HTTPS']);
    expect(summary(resolved)).toEqual([]);
  });

  it.each([
    ['None', 'true', true, []],
    ['None', 'false', false, []],
    [
      'none',
      'true',
      false,
      [
        'warning IneffectiveSetting session-cookie-conditional-samesite-none,session-cookie-samesite',
      ],
    ],
    [
      'Lax',
      'true',
      false,
      [
        'warning IneffectiveSetting session-cookie-conditional-samesite-none,session-cookie-samesite',
      ],
    ],
    [
      undefined,
      'true',
      false,
      ['warning IneffectiveSetting session-cookie-conditional-samesite-none'],
    ],
    ['None', 'sure', false, ['warning InvalidAnnotation session-cookie-conditional-samesite-none']],
  ])(
    'samesite %j with conditional %j omits None for old clients: %s',
    (sameSite, conditional, omit, diagnostics) => {
      const annotations: Record<string, string> = {
        affinity: 'cookie',
        'session-cookie-conditional-samesite-none': conditional,
      };
      if (sameSite !== undefined) annotations['session-cookie-samesite'] = sameSite;
      const { entry, parsed } = only(ingress(annotations));
      expect(entry.policy?.cookie?.omitSameSiteNoneForOldClients).toBe(omit);
      expect(summary(parsed)).toEqual(diagnostics);
    },
  );

  it('notes (as info only) that a re-cased SameSite is sent as written', () => {
    const { parsed } = only(ingress({ affinity: 'cookie', 'session-cookie-samesite': 'lax' }));
    expect(parsed.map((d) => d.severity)).toEqual(['info']);
  });

  it.each([
    ['persistent', 'persistent', []],
    ['balanced', 'balanced', []],
    ['Persistent', 'balanced', ['warning InvalidAnnotation affinity-mode']],
    ['persistent\n', 'balanced', ['warning InvalidAnnotation affinity-mode']],
  ])('affinity-mode %j gives rebalance %s', (value, rebalance, diagnostics) => {
    const { entry, parsed } = only(ingress({ affinity: 'cookie', 'affinity-mode': value }));
    expect(entry.policy?.rebalance).toBe(rebalance);
    expect(summary(parsed)).toEqual(diagnostics);
  });

  it.each([
    ['true', 'retryElsewhere', undefined],
    ['false', 'retryPinned', undefined],
    ['maybe', 'retryPinned', true],
  ])('session-cookie-change-on-failure %j gives onFailure %s', (value, onFailure, isDefault) => {
    const { entry } = only(
      ingress({ affinity: 'cookie', 'session-cookie-change-on-failure': value }),
    );
    expect(entry.policy?.onFailure).toBe(onFailure);
    expect(entry.sources.onFailure?.[0]?.isDefault).toBe(isDefault);
  });

  it.each([
    [{ affinity: 'cookie', 'affinity-canary-behavior': 'legacy' }, 'legacy', []],
    [
      { affinity: 'cookie', 'affinity-canary-behavior': 'Legacy' },
      'sticky',
      ['warning InvalidAnnotation affinity-canary-behavior'],
    ],
    [{ canary: 'true', 'affinity-canary-behavior': 'legacy' }, 'legacy', []],
    [
      { 'affinity-canary-behavior': 'legacy' },
      'legacy',
      ['warning IneffectiveSetting affinity-canary-behavior'],
    ],
  ])('%j gives canaryBehavior %s', (annotations, behavior, diagnostics) => {
    const { entry, parsed } = only(ingress(annotations));
    expect(entry.policy?.canaryBehavior).toBe(behavior);
    expect(summary(parsed)).toEqual(diagnostics);
  });

  it('warns that Max-Age 0 or below drops the cookie at once, and keeps the value', () => {
    const { entry, parsed } = only(ingress({ affinity: 'cookie', 'session-cookie-max-age': '-5' }));
    expect(entry.policy?.cookie?.maxAgeSeconds).toBe(-5);
    expect(parsed[0]?.message).toMatch(/discard the cookie at once/);
  });
});

describe('balancing', () => {
  it.each([
    [{ 'load-balance': 'round_robin' }, { algorithm: 'roundRobin' }, []],
    [{ 'load-balance': ' ewma ' }, { algorithm: 'ewma' }, []],
    [
      { 'load-balance': 'chash' },
      { algorithm: 'roundRobin' },
      ['warning MissingValue load-balance'],
    ],
    [
      { 'load-balance': 'sticky_balanced' },
      { algorithm: 'random' },
      ['warning IneffectiveSetting load-balance'],
    ],
    [
      { 'load-balance': 'sticky_persistent' },
      { algorithm: 'random' },
      ['warning IneffectiveSetting load-balance'],
    ],
    [
      { 'load-balance': 'round_robin\n' },
      { algorithm: 'roundRobin' },
      ['warning InvalidAnnotation load-balance'],
    ],
    [
      { 'load-balance': '' },
      { algorithm: 'roundRobin' },
      ['warning InvalidAnnotation load-balance'],
    ],
    [{ 'upstream-hash-by': '$remote_addr' }, { algorithm: 'sourceIpHash' }, []],
    [
      { 'upstream-hash-by': '${request_uri}-text' },
      { algorithm: 'hash', hashKey: '${request_uri}-text' },
      [],
    ],
    [
      { 'upstream-hash-by': '$request_uri', 'load-balance': 'ewma' },
      { algorithm: 'hash', hashKey: '$request_uri' },
      ['warning ValueOverridden upstream-hash-by,load-balance'],
    ],
    [
      { 'upstream-hash-by': '$request_uri', 'load-balance': 'chash' },
      { algorithm: 'hash', hashKey: '$request_uri' },
      [],
    ],
    [
      {
        'upstream-hash-by': '$remote_addr',
        'upstream-hash-by-subset': 'true',
        'upstream-hash-by-subset-size': '5',
      },
      { algorithm: 'sourceIpHash' },
      ['warning NotReproduced upstream-hash-by-subset,upstream-hash-by-subset-size'],
    ],
    [
      { 'upstream-hash-by': '$remote_addr', 'upstream-hash-by-subset-size': '5' },
      { algorithm: 'sourceIpHash' },
      ['warning IneffectiveSetting upstream-hash-by-subset-size'],
    ],
    [
      { 'upstream-hash-by-subset': 'true' },
      { algorithm: 'roundRobin' },
      ['warning IneffectiveSetting upstream-hash-by-subset'],
    ],
  ])('%j gives %j', (annotations, loadBalancing, diagnostics) => {
    const { entry, parsed } = only(ingress(annotations));
    expect(entry.loadBalancing).toEqual(loadBalancing);
    expect(entry.policy?.mode).toBe('none');
    expect(summary(parsed)).toEqual(diagnostics);
  });

  it.each([
    [{ 'load-balance': 'least_conn' }, 'load-balance'],
    [{ 'load-balance': 'Round_Robin' }, 'load-balance'],
    [{ 'load-balance': ' ' }, 'load-balance'],
    [{ 'upstream-hash-by': '$(rm -rf)' }, 'upstream-hash-by'],
    [{ 'upstream-hash-by': '$remote_addr\n$host' }, 'upstream-hash-by'],
    [{ 'upstream-hash-by': '$host', 'upstream-hash-by-subset': 'yes' }, 'upstream-hash-by-subset'],
    [
      { 'upstream-hash-by': '$host', 'upstream-hash-by-subset-size': 'three' },
      'upstream-hash-by-subset-size',
    ],
  ])('row 17: %j makes the controller refuse the whole Ingress', (annotations, key) => {
    const { entry, parsed, fragments } = only(
      ingress({ ...annotations, affinity: 'cookie', 'ssl-redirect': 'false' }),
    );
    expect(fragments).toBe(0);
    expect(summary(parsed.filter((d) => d.severity === 'error'))).toEqual([
      `error InvalidAnnotation ${key}`,
    ]);
    expect(parsed.find((d) => d.severity === 'error')?.message).toMatch(
      /refuses the whole Ingress/,
    );
    expect(entry.policy?.mode).toBe('none');
  });

  it('row 21: cookie affinity overrides upstream-hash-by and load-balance, with a warning', () => {
    const { entry, parsed } = only(
      ingress({ affinity: 'cookie', 'upstream-hash-by': '$remote_addr', 'load-balance': 'ewma' }),
    );
    expect(entry.policy).toEqual(DEFAULT_POLICY);
    expect(entry.sources['loadBalancing.algorithm']).toBeUndefined();
    expect(summary(parsed)).toEqual([
      'warning BalancingOverriddenByPersistence affinity,load-balance,upstream-hash-by',
    ]);
  });

  it('row 21: says that sticky_persistent does not choose persistent mode', () => {
    const { entry, parsed } = only(
      ingress({ affinity: 'cookie', 'load-balance': 'sticky_persistent' }),
    );
    expect(entry.policy?.rebalance).toBe('balanced');
    expect(parsed[0]?.message).toMatch(/affinity-mode does/);
  });
});

describe('service-upstream', () => {
  it('row 20: refuses cookie affinity together with service-upstream', () => {
    const { entry, parsed, fragments } = only(
      ingress({ affinity: 'cookie', 'service-upstream': 'true' }),
    );
    expect(fragments).toBe(0);
    expect(entry.policy?.mode).toBe('none');
    expect(summary(parsed)).toEqual(['error IncompatibleSettings affinity,service-upstream']);
  });

  it('lets affinity work when service-upstream is false', () => {
    const { entry, parsed } = only(ingress({ affinity: 'cookie', 'service-upstream': 'false' }));
    expect(entry.policy).toEqual(DEFAULT_POLICY);
    expect(parsed).toEqual([]);
  });

  it('says that balancing settings have no effect on a ClusterIP upstream', () => {
    const { entry, parsed } = only(ingress({ 'service-upstream': 'true', 'load-balance': 'ewma' }));
    expect(entry.sources['loadBalancing.algorithm']).toBeUndefined();
    expect(summary(parsed)).toEqual(['warning IneffectiveSetting service-upstream,load-balance']);
  });
});

describe('routing settings', () => {
  it('row 18: regular-expression paths make the cookie Path the expression text, with a warning', () => {
    const { entry, parsed } = only(
      ingress({ affinity: 'cookie', 'use-regex': 'true' }, { paths: ['/api/v[0-9]+/(.*)'] }),
    );
    expect(entry.policy?.cookie?.path).toBe('/api/v[0-9]+/(.*)');
    expect(entry.route).toEqual({ pathRegex: true });
    expect(summary(parsed)).toEqual(['warning CookiePathIsRegex use-regex,affinity']);
  });

  it('row 18: an explicit session-cookie-path silences the warning', () => {
    const { entry, parsed } = only(
      ingress(
        { affinity: 'cookie', 'use-regex': 'true', 'session-cookie-path': '/api' },
        { paths: ['/api/(.*)'] },
      ),
    );
    expect(entry.policy?.cookie?.path).toBe('/api');
    expect(parsed).toEqual([]);
  });

  it('row 18: an invalid session-cookie-path counts as missing', () => {
    const { parsed } = only(
      ingress(
        { affinity: 'cookie', 'use-regex': 'true', 'session-cookie-path': '/api/(.*)' },
        { paths: ['/api/(.*)'] },
      ),
    );
    expect(summary(parsed)).toEqual([
      'warning CookiePathIsRegex use-regex,affinity,session-cookie-path',
      'warning InvalidAnnotation session-cookie-path',
    ]);
  });

  it.each([
    [{}, true, { sslRedirect: true }, []],
    [{ 'ssl-redirect': 'false' }, true, { sslRedirect: false }, []],
    [{ 'ssl-redirect': 'true' }, true, { sslRedirect: true }, []],
    [{ 'ssl-redirect': 'true' }, false, {}, ['warning IneffectiveSetting ssl-redirect']],
    [
      { 'ssl-redirect': 'no' },
      true,
      { sslRedirect: true },
      ['warning InvalidAnnotation ssl-redirect'],
    ],
    [{ 'use-regex': 'false' }, false, { pathRegex: false }, []],
  ])('%j with TLS %s gives route %j', (annotations, tls, route, diagnostics) => {
    const { entry, parsed } = only(ingress({ 'load-balance': 'ewma', ...annotations }, { tls }));
    expect(entry.route).toEqual(route);
    expect(summary(parsed)).toEqual(diagnostics);
  });

  it('carries every canary setting into the route', () => {
    const { entry, parsed } = only(
      ingress({
        canary: 'true',
        'canary-weight': '20',
        'canary-weight-total': '1000',
        'canary-by-header': 'X-Canary',
        'canary-by-header-value': 'yes',
        'canary-by-cookie': 'canary',
      }),
    );
    expect(entry.route).toEqual({
      canary: {
        weight: 20,
        weightTotal: 1000,
        header: 'X-Canary',
        headerValue: 'yes',
        cookie: 'canary',
      },
    });
    expect(parsed).toEqual([]);
  });

  it.each([
    [{ canary: 'true' }, { weight: 0, weightTotal: 100 }, []],
    [
      { canary: 'true', 'canary-weight': '-5' },
      { weight: 0, weightTotal: 100 },
      ['warning InvalidAnnotation canary-weight'],
    ],
    [
      { canary: 'true', 'canary-weight-total': '0' },
      { weight: 0, weightTotal: 100 },
      ['warning InvalidAnnotation canary-weight-total'],
    ],
    [
      { canary: 'true', 'canary-weight': '150' },
      { weight: 150, weightTotal: 100 },
      ['warning InvalidAnnotation canary-weight'],
    ],
    [
      { canary: 'true', 'canary-weight': 'ten' },
      { weight: 0, weightTotal: 100 },
      ['warning InvalidAnnotation canary-weight'],
    ],
    [
      { canary: 'true', 'canary-weight': '99999999999999999' },
      { weight: 0, weightTotal: 100 },
      ['warning InvalidAnnotation canary-weight'],
    ],
    [
      { canary: 'true', 'canary-by-header-value': 'yes' },
      { weight: 0, weightTotal: 100 },
      ['warning IneffectiveSetting canary-by-header-value'],
    ],
    [
      { canary: 'true', 'canary-by-header': 'X-Canary\r\nX-Evil: 1' },
      { weight: 0, weightTotal: 100 },
      ['warning InvalidAnnotation canary-by-header'],
    ],
  ])('%j gives canary %j', (annotations, canary, diagnostics) => {
    const { entry, parsed } = only(ingress(annotations));
    expect(entry.route.canary).toEqual(canary);
    expect(summary(parsed)).toEqual(diagnostics);
  });

  it('ignores canary settings on an Ingress that is not a canary, with a warning', () => {
    const { entry, parsed } = only(
      ingress({ canary: 'false', 'canary-weight': '20', 'canary-by-cookie': 'c' }),
    );
    expect(entry.route).toEqual({});
    expect(summary(parsed)).toEqual([
      'warning IneffectiveSetting canary-weight,canary-by-cookie,canary',
    ]);
  });
});

describe('hostile input', () => {
  it('reads a value that is not a string as invalid', () => {
    const { entry, parsed } = only(ingress({ affinity: 'cookie', 'session-cookie-max-age': 3600 }));
    expect(entry.policy?.cookie?.maxAgeSeconds).toBeUndefined();
    expect(summary(parsed)).toEqual(['warning InvalidAnnotation session-cookie-max-age']);
  });

  it('survives annotations that are not a map', () => {
    const object = ingress({});
    (object.metadata as { annotations: unknown }).annotations = ['affinity'];
    expect(ingressNginx.appliesTo(object)).toBe(false);
    const { entry, parsed } = only(object);
    expect(entry.policy?.mode).toBe('none');
    expect(parsed).toEqual([]);
  });

  it('leaves out a default cookie Path that would break the header', () => {
    const { entry, parsed } = only(ingress({ affinity: 'cookie' }, { paths: ['/a b;\r\nX: y'] }));
    expect(entry.policy?.cookie?.path).toBeUndefined();
    expect(summary(parsed)).toEqual(['warning InvalidObject spec.rules[0].http.paths[0].path']);
  });

  it('reads an annotation on another kind as having no effect', () => {
    const service = { ...ingress({ affinity: 'cookie' }), kind: 'Service', spec: {} };
    const result = parse(service);
    expect(result.fragments).toEqual([]);
    expect(summary(result.diagnostics)).toEqual(['warning IneffectiveSetting affinity']);
  });

  it('never throws, and every fragment holds only values the model accepts', () => {
    const value = fc.oneof(
      fc.constantFrom(
        'cookie',
        'true',
        'false',
        '0',
        '-1',
        'None',
        'ewma',
        'chash',
        '$remote_addr',
        '',
      ),
      fc.string({ maxLength: 40 }),
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.integer().map(String),
      fc.constantFrom(null, 42, true, { a: 1 }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...KEYS), value), (annotations) => {
        const result = parse(ingress(annotations, { tls: true }));
        for (const f of result.fragments) expect(Fragment.safeParse(f).success).toBe(true);
        for (const f of result.fragments) {
          for (const setting of Object.values(f.values)) {
            if (typeof setting?.value === 'string') expect(setting.value).not.toMatch(/[\r\n]/);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
