import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  flattenPolicy,
  type Diagnostic,
  type LoadBalancing,
  type PersistencePolicy,
  type PolicyField,
  type ResolvedEntry,
  type SameSite,
  type SourceRef,
} from '@tether/model';
import { analyze } from '../index';
import { readRoute, routeEntries } from '../kube';
import { applyToObject } from '../edits';
import type { KubeObject } from '../types';
import { BALANCE, COOKIE_NAME, COOKIE_SAME_SITE, DISABLE_COOKIES } from './annotations';
import { emit } from './emit';
import { openshift } from './index';
import { defaultCookieName } from './features/cookie';

/** `printf ' shop:web' | md5sum`: the router's name for the cookie of Route shop/web. */
const SHOP_WEB_COOKIE = '4376cfb81fc9447e2fc4f7b5ba62dff0';

type Tls = { termination: string; insecureEdgeTerminationPolicy?: string } | undefined;

function route(
  tls: Tls = undefined,
  alternates: { name: string; weight?: number }[] = [],
  annotations: Record<string, string> = {},
): KubeObject {
  const spec: Record<string, unknown> = {
    host: 'shop.example.com',
    to: { kind: 'Service', name: 'web' },
    port: { targetPort: 'http' },
  };
  if (tls) spec.tls = tls;
  if (alternates.length > 0)
    spec.alternateBackends = alternates.map((a) => ({ kind: 'Service', ...a }));
  return {
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec,
  };
}

const EDGE = { termination: 'edge' };
const PASSTHROUGH = { termination: 'passthrough' };

/** The router's own cookie, as the OpenShift parser reads it. */
function routerCookie(secure: boolean, extra: Partial<PersistencePolicy['cookie']> = {}) {
  const cookie: NonNullable<PersistencePolicy['cookie']> = {
    name: SHOP_WEB_COOKIE,
    path: '/',
    httpOnly: true,
    secure: secure ? 'always' : 'never',
    omitSameSiteNoneForOldClients: false,
    lifetime: 'session',
    nocache: true,
    ...extra,
  };
  if (secure && cookie.sameSite === undefined) cookie.sameSite = 'None';
  return cookie;
}

const cookiePolicy = (cookie: PersistencePolicy['cookie']): PersistencePolicy => ({
  mode: 'cookie',
  cookie,
  rebalance: 'persistent',
  onFailure: 'rebalance',
});

const NONE: PersistencePolicy = { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' };

/** The entries of a Route carrying the given policy, as the migration hands them over. */
function entriesOn(
  object: KubeObject,
  policy: PersistencePolicy,
  loadBalancing: LoadBalancing,
  sources: ResolvedEntry['sources'] = {},
): ResolvedEntry[] {
  const { spec } = readRoute(object);
  if (!spec) throw new Error('not a Route');
  return routeEntries(object, spec).map((item) => ({
    entry: item.entry,
    backend: item.backend,
    accepted: true,
    policy,
    loadBalancing,
    route: {},
    sources,
  }));
}

function emitOn(
  object: KubeObject,
  policy: PersistencePolicy,
  loadBalancing: LoadBalancing,
  explicit = false,
  sources: ResolvedEntry['sources'] = {},
) {
  return emit({ object, entries: entriesOn(object, policy, loadBalancing, sources), explicit });
}

function written(object: KubeObject, annotations: Record<string, string>): KubeObject {
  return applyToObject(object, { removeAnnotations: [], setAnnotations: annotations, spec: [] });
}

const lossFields = (diagnostics: readonly Diagnostic[]): string[] =>
  diagnostics
    .filter((d) => d.reason === 'UnsupportedByTarget')
    .map((d) => d.message.split(' ')[0] ?? '')
    .sort();

describe('openshift emit: canonical annotations', () => {
  const cases: {
    name: string;
    object: KubeObject;
    policy: PersistencePolicy;
    algorithm: LoadBalancing['algorithm'];
    explicit?: boolean;
    annotations: Record<string, string>;
  }[] = [
    {
      name: 'the router default on a plain route writes nothing',
      object: route(),
      policy: cookiePolicy(routerCookie(false)),
      algorithm: 'random',
      annotations: {},
    },
    {
      name: 'a named cookie',
      object: route(),
      policy: cookiePolicy(routerCookie(false, { name: 'shop_session' })),
      algorithm: 'random',
      annotations: { [COOKIE_NAME]: 'shop_session' },
    },
    {
      name: 'the default name, written out when explicit',
      object: route(),
      policy: cookiePolicy(routerCookie(false)),
      algorithm: 'random',
      explicit: true,
      annotations: {
        [DISABLE_COOKIES]: 'false',
        [COOKIE_NAME]: SHOP_WEB_COOKIE,
        [BALANCE]: 'random',
      },
    },
    {
      name: 'no persistence turns the cookie off',
      object: route(),
      policy: NONE,
      algorithm: 'random',
      annotations: { [DISABLE_COOKIES]: 'true' },
    },
    {
      name: 'SameSite Strict on an edge route',
      object: route(EDGE),
      policy: cookiePolicy(routerCookie(true, { sameSite: 'Strict' })),
      algorithm: 'random',
      annotations: { [COOKIE_SAME_SITE]: 'Strict' },
    },
    {
      name: 'SameSite None is the router default on an edge route',
      object: route(EDGE),
      policy: cookiePolicy(routerCookie(true)),
      algorithm: 'random',
      annotations: {},
    },
    {
      name: 'SameSite None written out when explicit',
      object: route({ termination: 'reencrypt' }),
      policy: cookiePolicy(routerCookie(true)),
      algorithm: 'random',
      explicit: true,
      annotations: {
        [DISABLE_COOKIES]: 'false',
        [COOKIE_NAME]: SHOP_WEB_COOKIE,
        [COOKIE_SAME_SITE]: 'None',
        [BALANCE]: 'random',
      },
    },
    {
      name: 'least connections',
      object: route(),
      policy: cookiePolicy(routerCookie(false)),
      algorithm: 'leastConnections',
      annotations: { [BALANCE]: 'leastconn' },
    },
    {
      name: 'round robin on one Service (the default there is random)',
      object: route(),
      policy: cookiePolicy(routerCookie(false)),
      algorithm: 'roundRobin',
      annotations: { [BALANCE]: 'roundrobin' },
    },
    {
      name: 'round robin on a split is the default there',
      object: route(undefined, [{ name: 'canary', weight: 10 }]),
      policy: cookiePolicy(routerCookie(false)),
      algorithm: 'roundRobin',
      annotations: {},
    },
    {
      name: 'random on a split',
      object: route(undefined, [{ name: 'canary', weight: 10 }]),
      policy: cookiePolicy(routerCookie(false)),
      algorithm: 'random',
      annotations: { [BALANCE]: 'random' },
    },
    {
      name: 'passthrough: source is the default, and nothing about cookies',
      object: route(PASSTHROUGH),
      policy: NONE,
      algorithm: 'sourceIpHash',
      annotations: {},
    },
    {
      name: 'passthrough: round robin',
      object: route(PASSTHROUGH),
      policy: NONE,
      algorithm: 'roundRobin',
      annotations: { [BALANCE]: 'roundrobin' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const out = emitOn(c.object, c.policy, { algorithm: c.algorithm }, c.explicit ?? false);
      expect(out.annotations).toEqual(c.annotations);
      expect(out.spec).toEqual([]);
      expect(out.diagnostics).toEqual([]);
      const after = analyze([written(c.object, out.annotations)]);
      expect(after.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
      for (const e of after.entries) {
        expect(e.policy).toEqual(c.policy);
        expect(e.loadBalancing).toEqual({ algorithm: c.algorithm });
      }
    });
  }

  it('rewrites annotations already on the Route that would say something else', () => {
    const object = route(EDGE, [], {
      [DISABLE_COOKIES]: 'true',
      [COOKIE_NAME]: 'old',
      [COOKIE_SAME_SITE]: 'Lax',
      [BALANCE]: 'leastconn',
    });
    const out = emitOn(object, cookiePolicy(routerCookie(true)), { algorithm: 'random' });
    expect(out.annotations).toEqual({
      [DISABLE_COOKIES]: 'false',
      [COOKIE_NAME]: SHOP_WEB_COOKIE,
      [COOKIE_SAME_SITE]: 'None',
      [BALANCE]: 'random',
    });
    expect(out.diagnostics).toEqual([]);
  });

  it('uses the hash of the target Route, not of the source object', () => {
    const other = { ...route(), metadata: { name: 'api', namespace: 'shop' } };
    const out = emitOn(other, cookiePolicy(routerCookie(false)), { algorithm: 'random' });
    expect(out.annotations).toEqual({ [COOKIE_NAME]: SHOP_WEB_COOKIE });
    expect(defaultCookieName('shop', 'api')).not.toBe(SHOP_WEB_COOKIE);
  });

  it('writes nothing for other kinds or entries without a policy', () => {
    const ingress: KubeObject = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'x' },
    };
    expect(emit({ object: ingress, entries: [], explicit: true })).toEqual({
      annotations: {},
      spec: [],
      diagnostics: [],
      covers: [],
    });
    const refused = entriesOn(route(), NONE, { algorithm: 'random' }).map((e) => ({
      ...e,
      accepted: false,
      policy: null,
    }));
    expect(emit({ object: route(), entries: refused, explicit: false }).annotations).toEqual({});
  });
});

describe('openshift emit: approximations', () => {
  it('source-IP persistence becomes balance source with the cookie off', () => {
    const policy: PersistencePolicy = {
      ...NONE,
      mode: 'sourceIp',
      sourceIp: { timeoutSeconds: 600 },
    };
    const out = emitOn(route(), policy, { algorithm: 'roundRobin' });
    expect(out.annotations).toEqual({ [DISABLE_COOKIES]: 'true', [BALANCE]: 'source' });
    expect(lossFields(out.diagnostics)).toEqual([
      'loadBalancing.algorithm',
      'mode',
      'sourceIp.timeoutSeconds',
    ]);
  });

  it('an application cookie becomes the router cookie', () => {
    const policy: PersistencePolicy = {
      ...cookiePolicy({ ...routerCookie(false), name: 'X-Oracle-BMC-LBS-Route' }),
      mode: 'appCookie',
      appCookie: { name: 'JSESSIONID' },
    };
    const out = emitOn(route(), policy, { algorithm: 'random' });
    expect(out.annotations).toEqual({ [COOKIE_NAME]: 'X-Oracle-BMC-LBS-Route' });
    expect(lossFields(out.diagnostics)).toEqual(['appCookie.name', 'mode']);
  });

  it('header persistence keeps the router cookie on', () => {
    const policy: PersistencePolicy = { ...NONE, mode: 'header', header: { name: 'X-Session' } };
    const out = emitOn(route(), policy, { algorithm: 'random' });
    expect(out.annotations).toEqual({});
    expect(lossFields(out.diagnostics)).toContain('header.name');
    expect(lossFields(out.diagnostics)).toContain('mode');
  });

  const balances: [LoadBalancing, string | undefined, string[]][] = [
    [{ algorithm: 'ewma' }, 'leastconn', ['loadBalancing.algorithm']],
    [
      { algorithm: 'hash', hashKey: '$remote_addr' },
      'source',
      ['loadBalancing.algorithm', 'loadBalancing.hashKey'],
    ],
    [
      { algorithm: 'hash', hashKey: '$binary_remote_addr' },
      'source',
      ['loadBalancing.algorithm', 'loadBalancing.hashKey'],
    ],
    [
      { algorithm: 'hash', hashKey: '$http_x_user' },
      undefined,
      ['loadBalancing.algorithm', 'loadBalancing.hashKey'],
    ],
  ];
  for (const [lb, balance, lost] of balances) {
    it(`${lb.algorithm} ${lb.hashKey ?? ''} is written as ${balance ?? 'nothing'}`, () => {
      const out = emitOn(route(), NONE, lb);
      expect(out.annotations[BALANCE]).toBe(balance);
      expect(lossFields(out.diagnostics)).toEqual(lost);
    });
  }

  it('a cookie name the router would ignore is left to the router default', () => {
    const policy = cookiePolicy(routerCookie(false, { name: 'session.id' }));
    const out = emitOn(route(), policy, { algorithm: 'random' });
    expect(out.annotations).toEqual({});
    expect(lossFields(out.diagnostics)).toEqual(['cookie.name']);
  });

  it('a passthrough route cannot carry a cookie', () => {
    const out = emitOn(route(PASSTHROUGH), cookiePolicy(routerCookie(false)), {
      algorithm: 'sourceIpHash',
    });
    expect(out.annotations).toEqual({});
    expect(lossFields(out.diagnostics)).toContain('mode');
    expect(out.diagnostics.find((d) => d.message.startsWith('mode'))?.message).toMatch(
      /passthrough/,
    );
  });

  it('writes the first backend policy and reports the backends that differ', () => {
    const object = route(undefined, [{ name: 'canary', weight: 10 }]);
    const [web, canary] = entriesOn(object, cookiePolicy(routerCookie(false)), {
      algorithm: 'roundRobin',
    });
    if (!web || !canary) throw new Error('two backends expected');
    const named = cookiePolicy(routerCookie(false, { name: 'canary_session' }));
    const out = emit({ object, entries: [web, { ...canary, policy: named }], explicit: false });
    expect(out.annotations).toEqual({});
    expect(out.diagnostics).toHaveLength(1);
    expect(out.diagnostics[0]?.message).toMatch(
      /^cookie\.name = "canary_session" for Service canary/,
    );
  });
});

/** A source ingress-nginx Ingress, resolved, its policy carried onto a Route as the migration does. */
function carriedFromNginx(annotations: Record<string, string>, target: KubeObject, tls = false) {
  const ingress: KubeObject = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec: {
      ...(tls ? { tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }] } : {}),
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              {
                path: '/shop',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { name: 'http' } } },
              },
            ],
          },
        },
      ],
    },
  };
  const [source] = analyze([ingress]).entries;
  if (!source?.policy) throw new Error('the source is refused');
  const { spec } = readRoute(target);
  if (!spec) throw new Error('not a Route');
  const entries = routeEntries(target, spec).map((item) => ({
    ...source,
    entry: item.entry,
    backend: item.backend,
  }));
  return emit({ object: target, entries, explicit: false });
}

describe('openshift emit: losses name their source annotation', () => {
  const N = 'nginx.ingress.kubernetes.io/';
  it('every cookie attribute the router decides itself', () => {
    const out = carriedFromNginx(
      {
        [`${N}affinity`]: 'cookie',
        [`${N}affinity-mode`]: 'balanced',
        [`${N}session-cookie-name`]: 'SESSION',
        [`${N}session-cookie-domain`]: '.example.com',
        [`${N}session-cookie-max-age`]: '3600',
        [`${N}session-cookie-expires`]: '7200',
        [`${N}session-cookie-samesite`]: 'Strict',
        [`${N}session-cookie-change-on-failure`]: 'true',
      },
      route(),
    );
    expect(out.annotations).toEqual({ [COOKIE_NAME]: 'SESSION', [BALANCE]: 'roundrobin' });
    const sourceOf = (field: string) =>
      out.diagnostics
        .filter((d) => d.message.startsWith(`${field} `))
        .flatMap((d) => d.sources.map((s) => s.field));
    expect(sourceOf('cookie.domain')).toEqual([`${N}session-cookie-domain`]);
    expect(sourceOf('cookie.maxAgeSeconds')).toEqual([`${N}session-cookie-max-age`]);
    expect(sourceOf('cookie.expiresSeconds')).toEqual([`${N}session-cookie-expires`]);
    expect(sourceOf('cookie.sameSite')).toEqual([`${N}session-cookie-samesite`]);
    expect(sourceOf('onFailure')).toEqual([`${N}session-cookie-change-on-failure`]);
    expect(sourceOf('rebalance')).toEqual([`${N}affinity-mode`]);
    // nginx defaults the Path to the Ingress path; the router always uses "/".
    expect(sourceOf('cookie.path')).toEqual([`${N}session-cookie-path`]);
    expect(out.diagnostics.every((d) => d.reason === 'UnsupportedByTarget')).toBe(true);
    expect(out.diagnostics.find((d) => d.message.startsWith('cookie.sameSite'))?.message).toMatch(
      /only together with Secure/,
    );
  });

  it('Secure follows the termination', () => {
    const out = carriedFromNginx(
      { [`${N}affinity`]: 'cookie', [`${N}session-cookie-secure`]: 'true' },
      route(),
      true,
    );
    const secure = out.diagnostics.find((d) => d.message.startsWith('cookie.secure'));
    expect(secure?.message).toMatch(/plain HTTP/);
    expect(secure?.sources.map((s) => s.field)).toEqual([`${N}session-cookie-secure`]);
  });
});

/** Cookie names the router accepts: letters, digits, "_" and "-". */
const routerName = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);

const algorithms = fc.constantFrom<LoadBalancing['algorithm']>(
  'roundRobin',
  'leastConnections',
  'sourceIpHash',
  'random',
);

const TERMINATIONS: Tls[] = [
  undefined,
  { termination: 'edge' },
  { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' },
  { termination: 'edge', insecureEdgeTerminationPolicy: 'Allow' },
  { termination: 'reencrypt' },
  { termination: 'reencrypt', insecureEdgeTerminationPolicy: 'None' },
  { termination: 'passthrough' },
];

/** A Route and a policy the router can express on it. */
const expressible = fc
  .record({
    tls: fc.constantFrom(...TERMINATIONS),
    alternates: fc.array(
      fc.record({
        name: fc.constantFrom('canary', 'blue', 'green'),
        weight: fc.integer({ min: 0, max: 300 }),
      }),
      { maxLength: 2 },
    ),
    cookie: fc.boolean(),
    name: fc.option(routerName, { nil: undefined }),
    sameSite: fc.constantFrom<SameSite>('Lax', 'Strict', 'None'),
    algorithm: algorithms,
    explicit: fc.boolean(),
  })
  .map((r) => {
    const object = route(r.tls, r.alternates);
    const passthrough = r.tls?.termination === 'passthrough';
    const secure =
      r.tls !== undefined && !passthrough && r.tls.insecureEdgeTerminationPolicy !== 'Allow';
    const policy =
      r.cookie && !passthrough
        ? cookiePolicy(
            routerCookie(secure, {
              name: r.name ?? SHOP_WEB_COOKIE,
              ...(secure ? { sameSite: r.sameSite } : {}),
            }),
          )
        : NONE;
    return { object, policy, algorithm: r.algorithm, explicit: r.explicit };
  });

describe('openshift emit: properties', () => {
  it('emit then parse gives back every policy the router can express', () => {
    fc.assert(
      fc.property(expressible, ({ object, policy, algorithm, explicit }) => {
        const out = emitOn(object, policy, { algorithm }, explicit);
        expect(out.diagnostics).toEqual([]);
        const after = analyze([written(object, out.annotations)]);
        expect(after.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
        for (const e of after.entries) {
          expect(e.accepted).toBe(true);
          expect(e.policy ? flattenPolicy(e.policy, e.loadBalancing) : {}).toEqual(
            flattenPolicy(policy, { algorithm }),
          );
        }
      }),
      { numRuns: 300 },
    );
  });

  /** One change the router cannot make, with the field it lands on. */
  const inexpressible: fc.Arbitrary<{
    field: PolicyField;
    change: (p: PersistencePolicy, lb: LoadBalancing) => [PersistencePolicy, LoadBalancing];
  }> = fc.constantFrom(
    ...(
      [
        ['cookie.path', { path: '/shop' }],
        ['cookie.domain', { domain: 'example.com' }],
        ['cookie.maxAgeSeconds', { maxAgeSeconds: 60, lifetime: 'permanent' }],
        ['cookie.expiresSeconds', { expiresSeconds: 60, lifetime: 'permanent' }],
        ['cookie.httpOnly', { httpOnly: false }],
        ['cookie.nocache', { nocache: false }],
        ['cookie.omitSameSiteNoneForOldClients', { omitSameSiteNoneForOldClients: true }],
        ['cookie.secure', { secure: 'https' }],
      ] as [PolicyField, Partial<NonNullable<PersistencePolicy['cookie']>>][]
    ).map(([field, cookie]) => ({
      field,
      change: (p: PersistencePolicy, lb: LoadBalancing): [PersistencePolicy, LoadBalancing] => [
        { ...p, cookie: { ...routerCookie(false), ...p.cookie, ...cookie } },
        lb,
      ],
    })),
    ...(
      [
        ['rebalance', { rebalance: 'balanced' }],
        ['onFailure', { onFailure: 'fail' }],
        ['onFailure', { onFailure: 'retryElsewhere' }],
        ['absoluteTimeoutSeconds', { absoluteTimeoutSeconds: 60 }],
        ['idleTimeoutSeconds', { idleTimeoutSeconds: 60 }],
        ['canaryBehavior', { canaryBehavior: 'legacy' }],
      ] as [PolicyField, Partial<PersistencePolicy>][]
    ).map(([field, part]) => ({
      field,
      change: (p: PersistencePolicy, lb: LoadBalancing): [PersistencePolicy, LoadBalancing] => [
        { ...p, ...part },
        lb,
      ],
    })),
    {
      field: 'loadBalancing.hashKey',
      change: (p: PersistencePolicy): [PersistencePolicy, LoadBalancing] => [
        p,
        { algorithm: 'hash', hashKey: '$http_x_user' },
      ],
    },
  );

  it('every field the router cannot express is reported, naming its source', () => {
    fc.assert(
      fc.property(routerName, algorithms, inexpressible, (name, algorithm, { field, change }) => {
        const base = cookiePolicy(routerCookie(false, { name }));
        const [changed, lb] = change(base, { algorithm });
        const sources: ResolvedEntry['sources'] = {};
        for (const f of Object.keys(flattenPolicy(changed, lb)) as PolicyField[]) {
          const ref: SourceRef = {
            dialect: 'ingress-nginx',
            kind: 'Ingress',
            namespace: 'shop',
            name: 'web',
            field: `source of ${f}`,
          };
          sources[f] = [ref];
        }
        const out = emitOn(route(), changed, lb, false, sources);
        const named = out.diagnostics
          .filter((d) => d.reason === 'UnsupportedByTarget')
          .flatMap((d) => d.sources.map((s) => s.field));
        expect(named).toContain(`source of ${field}`);
      }),
      { numRuns: 200 },
    );
  });
});

describe('openshift dialect wiring', () => {
  it('is written on Routes', () => {
    expect(openshift.targetKinds).toEqual(['Route']);
    expect(openshift.emit).toBe(emit);
  });
});

describe('openshift emit: hostile targets', () => {
  it('reports a Route the router would refuse instead of pretending the settings apply', () => {
    const object = route({ termination: 'Edge' });
    const out = emitOn(object, cookiePolicy(routerCookie(false, { name: 'shop' })), {
      algorithm: 'random',
    });
    expect(out.diagnostics.length).toBeGreaterThan(0);
    expect(out.diagnostics.every((d) => /refused by its own checks/.test(d.message))).toBe(true);
  });

  it('never throws, whatever the Route spec holds', () => {
    const entries = entriesOn(route(), cookiePolicy(routerCookie(false)), { algorithm: 'random' });
    fc.assert(
      fc.property(fc.anything(), fc.boolean(), (spec, explicit) => {
        const object: KubeObject = { ...route(), spec };
        const out = emit({ object, entries, explicit });
        expect(Object.values(out.annotations).every((v) => typeof v === 'string')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
