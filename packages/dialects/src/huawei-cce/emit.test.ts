import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { flattenPolicy, type FlatValues, type ResolvedEntry } from '@tether/model';
import { analyze } from '../index';
import { applyToObject } from '../edits';
import type { EmitOutput, KubeObject } from '../types';
import {
  anyPolicy,
  entriesWith,
  ingress,
  loadBalancerService,
  policies,
  sourceKey,
  tweak,
  type SourcePolicy,
} from '../../../../test/support/dialects/huawei-cce-emit';
import { huaweiCce } from './index';

const MODE = 'kubernetes.io/elb.session-affinity-mode';
const OPTION = 'kubernetes.io/elb.session-affinity-option';
const ALGORITHM = 'kubernetes.io/elb.lb-algorithm';
const CLASS = 'kubernetes.io/elb.class';

function emit(object: KubeObject, explicit: boolean, ...p: SourcePolicy[]): EmitOutput {
  const out = huaweiCce.emit?.({ object, entries: entriesWith(object, ...p), explicit });
  if (!out) throw new Error('huawei-cce has no emitter');
  return out;
}

/**
 * `field ← source key` for each diagnostic, sorted: what a test asserts, never the prose.
 * The fields named are exactly the ones the output covers.
 */
function lost(out: EmitOutput): string[] {
  const fields = new Set<string>();
  const found = out.diagnostics
    .map((d) => {
      expect(d.reason).toBe('UnsupportedByTarget');
      expect(d.severity).toBe('warning');
      const field = d.message.slice(0, d.message.indexOf(' '));
      fields.add(field);
      return `${field} ← ${d.sources.map((s) => s.field).join(',')}`;
    })
    .sort();
  expect([...out.covers].sort()).toEqual([...fields].sort());
  return found;
}

/** The object with the emitted annotations, resolved again: each entry's flat policy. */
function reread(object: KubeObject, out: EmitOutput): FlatValues[] {
  const written = applyToObject(object, {
    removeAnnotations: [],
    setAnnotations: out.annotations,
    spec: out.spec,
  });
  const { entries } = analyze([written]);
  return entries.map((e: ResolvedEntry) => {
    expect(e.accepted).toBe(true);
    return e.policy ? flattenPolicy(e.policy, e.loadBalancing, e.route) : {};
  });
}

const flatOf = (p: SourcePolicy): FlatValues => flattenPolicy(p.policy, p.loadBalancing, p.route);

describe('huawei-cce emit: canonical form', () => {
  it.each<[string, KubeObject, boolean, SourcePolicy, Record<string, string>]>([
    [
      'HTTP_COOKIE for 30 minutes',
      ingress(),
      false,
      policies.cookie({ maxAgeSeconds: 1800 }),
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "30"}' },
    ],
    [
      "HTTP_COOKIE for ELB's default 20 minutes leaves the option out",
      ingress(),
      false,
      policies.cookie({ maxAgeSeconds: 1200 }),
      { [MODE]: 'HTTP_COOKIE' },
    ],
    [
      'HTTP_COOKIE with every default written when explicit',
      ingress(),
      true,
      policies.cookie({ maxAgeSeconds: 1200 }),
      {
        [ALGORITHM]: 'ROUND_ROBIN',
        [MODE]: 'HTTP_COOKIE',
        [OPTION]: '{"persistence_timeout": "20"}',
      },
    ],
    [
      'HTTP_COOKIE for the longest 1440 minutes',
      ingress(),
      false,
      policies.cookie({ maxAgeSeconds: 86_400 }),
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "1440"}' },
    ],
    [
      'APP_COOKIE with the backend cookie name',
      ingress(),
      false,
      policies.appCookie('JSESSIONID'),
      { [MODE]: 'APP_COOKIE', [OPTION]: '{"app_cookie_name": "JSESSIONID"}' },
    ],
    [
      'APP_COOKIE on an ELB named shared',
      ingress({ [CLASS]: 'union' }),
      false,
      policies.appCookie('sid'),
      { [MODE]: 'APP_COOKIE', [OPTION]: '{"app_cookie_name": "sid"}' },
    ],
    [
      'LEAST_CONNECTIONS with a cookie',
      ingress(),
      false,
      tweak(policies.cookie({ maxAgeSeconds: 600 }), {}, { algorithm: 'leastConnections' }),
      {
        [ALGORITHM]: 'LEAST_CONNECTIONS',
        [MODE]: 'HTTP_COOKIE',
        [OPTION]: '{"persistence_timeout": "10"}',
      },
    ],
    [
      'SOURCE_IP for the default 60 minutes on a LoadBalancer Service',
      loadBalancerService(),
      false,
      policies.sourceIp(3600),
      { [MODE]: 'SOURCE_IP' },
    ],
    [
      'SOURCE_IP for 60 minutes, explicit',
      loadBalancerService(),
      true,
      policies.sourceIp(3600),
      {
        [ALGORITHM]: 'ROUND_ROBIN',
        [MODE]: 'SOURCE_IP',
        [OPTION]: '{"persistence_timeout": "60"}',
      },
    ],
    [
      'SOURCE_IP for 10 minutes',
      loadBalancerService(),
      false,
      policies.sourceIp(600),
      { [MODE]: 'SOURCE_IP', [OPTION]: '{"persistence_timeout": "10"}' },
    ],
    [
      'the SOURCE_IP algorithm without stickiness',
      loadBalancerService(),
      false,
      policies.none('sourceIpHash'),
      { [ALGORITHM]: 'SOURCE_IP' },
    ],
    ['nothing for no stickiness and ROUND_ROBIN', ingress(), false, policies.none(), {}],
    [
      'only the algorithm when explicit and without stickiness',
      ingress(),
      true,
      policies.none(),
      { [ALGORITHM]: 'ROUND_ROBIN' },
    ],
    [
      'a default value over a CCE key the object already carries, so the old value goes',
      ingress({ [OPTION]: '{"persistence_timeout": "45"}', [ALGORITHM]: 'LEAST_CONNECTIONS' }),
      false,
      policies.cookie({ maxAgeSeconds: 1200 }),
      {
        [ALGORITHM]: 'ROUND_ROBIN',
        [MODE]: 'HTTP_COOKIE',
        [OPTION]: '{"persistence_timeout": "20"}',
      },
    ],
  ])('%s', (_name, object, explicit, policy, annotations) => {
    const out = emit(object, explicit, policy);
    expect(out.annotations).toEqual(annotations);
    expect(out.spec).toEqual([]);
    expect(lost(out)).toEqual([]);
    // The written object says exactly what the source said.
    for (const flat of reread(object, out)) expect(flat).toEqual(flatOf(policy));
  });

  it('writes JSON that escapes a name CCE accepts but JSON quotes', () => {
    const out = emit(ingress(), false, policies.appCookie("a'b|c"));
    expect(out.annotations[OPTION]).toBe('{"app_cookie_name": "a\'b|c"}');
    expect(reread(ingress(), out)[0]?.['appCookie.name']).toBe("a'b|c");
  });
});

describe('huawei-cce emit: what CCE cannot say, and the source it came from', () => {
  const cookie = policies.cookie;
  it.each<[string, KubeObject, SourcePolicy, Record<string, string>, string[]]>([
    [
      'a timeout that is not whole minutes is rounded up',
      ingress(),
      cookie({ maxAgeSeconds: 90 }),
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "2"}' },
      ['cookie.maxAgeSeconds ← source/cookie.maxAgeSeconds'],
    ],
    [
      'less than a minute becomes the shortest, 1',
      ingress(),
      cookie({ maxAgeSeconds: 30 }),
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "1"}' },
      ['cookie.maxAgeSeconds ← source/cookie.maxAgeSeconds'],
    ],
    [
      'a negative Max-Age becomes the shortest, 1',
      ingress(),
      cookie({ maxAgeSeconds: -1 }),
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "1"}' },
      ['cookie.maxAgeSeconds ← source/cookie.maxAgeSeconds'],
    ],
    [
      'more than a day becomes the longest, 1440',
      ingress(),
      cookie({ maxAgeSeconds: 100_000 }),
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "1440"}' },
      ['cookie.maxAgeSeconds ← source/cookie.maxAgeSeconds'],
    ],
    [
      'a session cookie gets the default lifetime',
      ingress(),
      cookie({ maxAgeSeconds: undefined, lifetime: 'session' }),
      { [MODE]: 'HTTP_COOKIE' },
      ['cookie.lifetime ← source/cookie.lifetime', 'cookie.maxAgeSeconds ← source/cookie.lifetime'],
    ],
    [
      'Expires alone is written as persistence_timeout',
      ingress(),
      cookie({ maxAgeSeconds: undefined, expiresSeconds: 7200 }),
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "120"}' },
      [
        'cookie.expiresSeconds ← source/cookie.expiresSeconds',
        'cookie.maxAgeSeconds ← source/cookie.expiresSeconds',
      ],
    ],
    [
      'cookie attributes CCE has no annotation for',
      ingress(),
      cookie({
        name: 'SESSION',
        path: '/app',
        domain: '.example.com',
        httpOnly: true,
        secure: 'always',
        sameSite: 'Lax',
        omitSameSiteNoneForOldClients: true,
        nocache: true,
      }),
      { [MODE]: 'HTTP_COOKIE' },
      [
        'cookie.name ← source/cookie.name',
        'cookie.path ← source/cookie.path',
        'cookie.domain ← source/cookie.domain',
        'cookie.httpOnly ← source/cookie.httpOnly',
        'cookie.secure ← source/cookie.secure',
        'cookie.sameSite ← source/cookie.sameSite',
        'cookie.omitSameSiteNoneForOldClients ← source/cookie.omitSameSiteNoneForOldClients',
        'cookie.nocache ← source/cookie.nocache',
      ],
    ],
    [
      'balanced rebalance, fail-closed, timeouts and canary behaviour',
      ingress(),
      tweak(cookie(), {
        rebalance: 'balanced',
        onFailure: 'fail',
        absoluteTimeoutSeconds: 600,
        idleTimeoutSeconds: 60,
        canaryBehavior: 'legacy',
      }),
      { [MODE]: 'HTTP_COOKIE' },
      [
        'rebalance ← source/rebalance',
        'onFailure ← source/onFailure',
        'absoluteTimeoutSeconds ← source/absoluteTimeoutSeconds',
        'idleTimeoutSeconds ← source/idleTimeoutSeconds',
        'canaryBehavior ← source/canaryBehavior',
      ],
    ],
    [
      'retrying elsewhere, a hash key and route settings',
      ingress(),
      tweak(
        cookie(),
        { onFailure: 'retryElsewhere' },
        { algorithm: 'hash', hashKey: '$remote_addr' },
        { sslRedirect: true },
      ),
      { [MODE]: 'HTTP_COOKIE' },
      [
        'onFailure ← source/onFailure',
        'loadBalancing.algorithm ← source/loadBalancing.algorithm',
        'loadBalancing.hashKey ← source/loadBalancing.hashKey',
        'route.sslRedirect ← source/route.sslRedirect',
      ],
    ],
    [
      'the SOURCE_IP algorithm with a cookie: the cookie is kept',
      ingress(),
      tweak(cookie(), {}, { algorithm: 'sourceIpHash' }),
      { [MODE]: 'HTTP_COOKIE' },
      ['loadBalancing.algorithm ← source/loadBalancing.algorithm'],
    ],
    [
      'APP_COOKIE for any cookie (OCI "*") has no CCE form',
      ingress(),
      policies.appCookie('*'),
      {},
      [
        'mode ← source/mode',
        'cookie.name ← source/cookie.name',
        'cookie.httpOnly ← source/cookie.httpOnly',
        'cookie.secure ← source/cookie.secure',
        'cookie.omitSameSiteNoneForOldClients ← source/cookie.omitSameSiteNoneForOldClients',
        'cookie.lifetime ← source/cookie.lifetime',
        'cookie.nocache ← source/cookie.nocache',
        'appCookie.name ← source/appCookie.name',
      ],
    ],
    [
      'APP_COOKIE on an Ingress that names a dedicated ELB',
      ingress({ [CLASS]: 'performance' }),
      policies.appCookie('JSESSIONID'),
      {},
      [
        'mode ← source/mode',
        'cookie.name ← source/cookie.name',
        'cookie.httpOnly ← source/cookie.httpOnly',
        'cookie.secure ← source/cookie.secure',
        'cookie.omitSameSiteNoneForOldClients ← source/cookie.omitSameSiteNoneForOldClients',
        'cookie.lifetime ← source/cookie.lifetime',
        'cookie.nocache ← source/cookie.nocache',
        'appCookie.name ← source/appCookie.name',
      ],
    ],
    [
      'a cookie on a LoadBalancer Service: only its algorithm is written',
      loadBalancerService(),
      tweak(cookie({ maxAgeSeconds: 1800 }), {}, { algorithm: 'leastConnections' }),
      { [ALGORITHM]: 'LEAST_CONNECTIONS' },
      [
        'mode ← source/mode',
        'cookie.name ← source/cookie.name',
        'cookie.maxAgeSeconds ← source/cookie.maxAgeSeconds',
        'cookie.httpOnly ← source/cookie.httpOnly',
        'cookie.secure ← source/cookie.secure',
        'cookie.omitSameSiteNoneForOldClients ← source/cookie.omitSameSiteNoneForOldClients',
        'cookie.lifetime ← source/cookie.lifetime',
        'cookie.nocache ← source/cookie.nocache',
      ],
    ],
    [
      'source-IP stickiness on an Ingress',
      ingress(),
      policies.sourceIp(600),
      {},
      ['mode ← source/mode', 'sourceIp.timeoutSeconds ← source/sourceIp.timeoutSeconds'],
    ],
    [
      'header stickiness',
      ingress(),
      policies.header('x-user'),
      {},
      ['mode ← source/mode', 'header.name ← source/header.name'],
    ],
    [
      "a Service's three hours of ClientIP, idle-style, on CCE's 60-minute window",
      loadBalancerService(),
      policies.sourceIp(10_800, { idleTimeoutSeconds: 10_800 }),
      { [MODE]: 'SOURCE_IP' },
      [
        'sourceIp.timeoutSeconds ← source/sourceIp.timeoutSeconds',
        'idleTimeoutSeconds ← source/idleTimeoutSeconds',
      ],
    ],
    [
      'source-IP stickiness without a timeout gets the default window',
      loadBalancerService(),
      policies.sourceIp(undefined),
      { [MODE]: 'SOURCE_IP' },
      ['sourceIp.timeoutSeconds ← source/mode'],
    ],
  ])('%s', (_name, object, policy, annotations, reported) => {
    const out = emit(object, false, policy);
    expect(out.annotations).toEqual(annotations);
    expect(lost(out)).toEqual([...reported].sort());
  });

  it('writes the first entry and reports each other entry that differs', () => {
    const object = ingress({}, 3);
    const out = emit(
      object,
      false,
      policies.cookie({ maxAgeSeconds: 1800 }),
      policies.cookie({ maxAgeSeconds: 1800 }),
      policies.cookie({ maxAgeSeconds: 3600, path: '/p2' }),
    );
    expect(out.annotations).toEqual({
      [MODE]: 'HTTP_COOKIE',
      [OPTION]: '{"persistence_timeout": "30"}',
    });
    expect(lost(out)).toEqual([
      'cookie.maxAgeSeconds ← source/rules[0].paths[2]/cookie.maxAgeSeconds',
      'cookie.path ← source/rules[0].paths[2]/cookie.path',
    ]);
    expect(out.diagnostics[0]?.message).toContain('one setting per object');
  });

  it.each<[string, KubeObject, ResolvedEntry[]]>([
    ['no entries', ingress(), []],
    [
      'refused entries only',
      ingress(),
      entriesWith(ingress(), policies.cookie()).map((e) => ({ ...e, policy: null })),
    ],
    [
      'a kind CCE is not written on',
      { ...ingress(), kind: 'HTTPRoute' },
      entriesWith(ingress(), policies.cookie()),
    ],
  ])('writes nothing for %s', (_name, object, entries) => {
    expect(huaweiCce.emit?.({ object, entries, explicit: true })).toEqual({
      annotations: {},
      spec: [],
      diagnostics: [],
      covers: [],
    });
  });
});

/** Policies CCE can say exactly on an Ingress: cookie modes in whole minutes, two algorithms. */
const expressibleOnIngress = fc
  .record({
    kind: fc.constantFrom('none', 'cookie', 'appCookie'),
    minutes: fc.integer({ min: 1, max: 1440 }),
    name: fc.stringMatching(/^[A-Za-z0-9!#$%&'+.^_`|~-]{1,40}$/),
    algorithm: fc.constantFrom('roundRobin', 'leastConnections'),
  })
  .map(({ kind, minutes, name, algorithm }) => {
    const p =
      kind === 'cookie'
        ? policies.cookie({ maxAgeSeconds: minutes * 60 })
        : kind === 'appCookie'
          ? policies.appCookie(name)
          : policies.none();
    return tweak(p, {}, { algorithm });
  });

/** Policies CCE can say exactly on a LoadBalancer Service. */
const expressibleOnService = fc.oneof(
  fc
    .record({
      minutes: fc.integer({ min: 1, max: 60 }),
      algorithm: fc.constantFrom('roundRobin', 'leastConnections'),
    })
    .map(({ minutes, algorithm }) => tweak(policies.sourceIp(minutes * 60), {}, { algorithm })),
  fc
    .constantFrom('roundRobin', 'leastConnections', 'sourceIpHash')
    .map((algorithm) => policies.none(algorithm)),
);

describe('huawei-cce emit: properties', () => {
  it('emit then parse gives the same policy for everything CCE can say', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.constant(ingress()), expressibleOnIngress),
          fc.tuple(fc.constant(loadBalancerService({}, [80, 443])), expressibleOnService),
        ),
        fc.boolean(),
        ([object, policy], explicit) => {
          const out = emit(object, explicit, policy);
          expect(out.diagnostics).toEqual([]);
          for (const flat of reread(object, out)) expect(flat).toEqual(flatOf(policy));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports exactly the fields that change, each naming its source', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(ingress(), loadBalancerService(), ingress({ [CLASS]: 'performance' })),
        anyPolicy,
        fc.boolean(),
        (object, policy, explicit) => {
          const out = emit(object, explicit, policy);
          const [after] = reread(object, out);
          const before = flatOf(policy);
          const reported = new Map(
            out.diagnostics.map((d) => [d.message.slice(0, d.message.indexOf(' ')), d]),
          );
          const fields = new Set([...Object.keys(before), ...Object.keys(after ?? {})]);
          for (const field of fields) {
            const key = field as keyof FlatValues;
            const changed = before[key] !== after?.[key];
            const d = reported.get(field);
            // A field that only follows a dropped mode, with no source, may go unreported.
            if (changed && !d && key !== 'mode' && before.mode !== after?.mode) continue;
            expect([field, d !== undefined]).toEqual([field, changed]);
            if (d && before[key] !== undefined)
              expect(d.sources.map((s) => s.field)).toContain(sourceKey(field));
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
