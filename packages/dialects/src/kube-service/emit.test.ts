import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { flattenPolicy, type FlatValues } from '@tether/model';
import {
  anyPolicy,
  entriesWith,
  loadBalancerService,
  policies,
  sourceKey,
  tweak,
  type SourcePolicy,
} from '../../../../test/support/dialects/huawei-cce-emit';
import { analyze } from '../index';
import { applyToObject } from '../edits';
import type { EmitOutput, KubeObject, SpecEdit } from '../types';
import { kubeService } from './index';

function service(spec: Record<string, unknown> = {}, ports: readonly number[] = [80]): KubeObject {
  const object = loadBalancerService({}, ports);
  object.spec = { ...(object.spec as Record<string, unknown>), ...spec };
  delete object.metadata.annotations;
  return object;
}

function emit(object: KubeObject, explicit: boolean, ...p: SourcePolicy[]): EmitOutput {
  const out = kubeService.emit?.({ object, entries: entriesWith(object, ...p), explicit });
  if (!out) throw new Error('kube-service has no emitter');
  return out;
}

/** `field ← source key` for each diagnostic, sorted; the fields named are the ones covered. */
function lost(out: EmitOutput): string[] {
  const fields = new Set<string>();
  const found = out.diagnostics
    .map((d) => {
      expect([d.severity, d.reason]).toEqual(['warning', 'UnsupportedByTarget']);
      const field = d.message.slice(0, d.message.indexOf(' '));
      fields.add(field);
      return `${field} ← ${d.sources.map((s) => s.field).join(',')}`;
    })
    .sort();
  expect([...out.covers].sort()).toEqual([...fields].sort());
  return found;
}

const written = (object: KubeObject, spec: readonly SpecEdit[]): KubeObject =>
  applyToObject(object, { removeAnnotations: [], setAnnotations: {}, spec: [...spec] });

/** The Service with the edits, resolved again: each entry's flat policy. */
function reread(object: KubeObject, out: EmitOutput): FlatValues[] {
  const { entries, diagnostics } = analyze([written(object, out.spec)]);
  expect(diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
  return entries.map((e) => (e.policy ? flattenPolicy(e.policy, e.loadBalancing, e.route) : {}));
}

const flatOf = (p: SourcePolicy): FlatValues => flattenPolicy(p.policy, p.loadBalancing, p.route);

/** What kube-service reads back: the timeout is also the idle timeout. */
const clientIp = (seconds: number): SourcePolicy =>
  policies.sourceIp(seconds, { idleTimeoutSeconds: seconds });

describe('kube-service emit: canonical form', () => {
  it.each<[string, KubeObject, boolean, SourcePolicy, SpecEdit[]]>([
    [
      'ClientIP for 30 minutes',
      service(),
      false,
      clientIp(1800),
      [
        { path: ['spec', 'sessionAffinity'], value: 'ClientIP' },
        { path: ['spec', 'sessionAffinityConfig'], value: { clientIP: { timeoutSeconds: 1800 } } },
      ],
    ],
    [
      "ClientIP with the API server's default leaves the config out",
      service(),
      false,
      clientIp(10_800),
      [{ path: ['spec', 'sessionAffinity'], value: 'ClientIP' }],
    ],
    [
      'ClientIP with the default written when explicit',
      service(),
      true,
      clientIp(10_800),
      [
        { path: ['spec', 'sessionAffinity'], value: 'ClientIP' },
        {
          path: ['spec', 'sessionAffinityConfig'],
          value: { clientIP: { timeoutSeconds: 10_800 } },
        },
      ],
    ],
    [
      'the longest accepted timeout, one day',
      service(),
      false,
      clientIp(86_400),
      [
        { path: ['spec', 'sessionAffinity'], value: 'ClientIP' },
        {
          path: ['spec', 'sessionAffinityConfig'],
          value: { clientIP: { timeoutSeconds: 86_400 } },
        },
      ],
    ],
    [
      'only the timeout where a clientIP config is already there',
      service({ sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }),
      false,
      clientIp(10_800),
      [
        { path: ['spec', 'sessionAffinity'], value: 'ClientIP' },
        {
          path: ['spec', 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds'],
          value: 10_800,
        },
      ],
    ],
    [
      'a whole config in place of one that is null',
      service({ sessionAffinityConfig: null }),
      false,
      clientIp(600),
      [
        { path: ['spec', 'sessionAffinity'], value: 'ClientIP' },
        { path: ['spec', 'sessionAffinityConfig'], value: { clientIP: { timeoutSeconds: 600 } } },
      ],
    ],
    ['nothing without stickiness', service(), false, policies.none(), []],
    [
      'None when explicit',
      service(),
      true,
      policies.none(),
      [{ path: ['spec', 'sessionAffinity'], value: 'None' }],
    ],
    [
      'nothing over an explicit None already there',
      service({ sessionAffinity: 'None' }),
      false,
      policies.none(),
      [],
    ],
  ])('%s', (_name, object, explicit, policy, spec) => {
    const out = emit(object, explicit, policy);
    expect(out.spec).toEqual(spec);
    expect(out.annotations).toEqual({});
    expect(lost(out)).toEqual([]);
    for (const flat of reread(object, out)) expect(flat).toEqual(flatOf(policy));
  });
});

describe('kube-service emit: what a Service cannot say, and the source it came from', () => {
  it.each<[string, SourcePolicy, number | undefined, string[]]>([
    [
      'source-IP stickiness that is not idle-style',
      policies.sourceIp(1800),
      1800,
      ['idleTimeoutSeconds ← source/sourceIp.timeoutSeconds'],
    ],
    [
      'different source-IP and idle timeouts',
      policies.sourceIp(1800, { idleTimeoutSeconds: 10_800 }),
      1800,
      ['idleTimeoutSeconds ← source/idleTimeoutSeconds'],
    ],
    [
      'more than a day',
      clientIp(100_000),
      86_400,
      [
        'idleTimeoutSeconds ← source/idleTimeoutSeconds',
        'sourceIp.timeoutSeconds ← source/sourceIp.timeoutSeconds',
      ],
    ],
    [
      'no timeout at all: the default window',
      policies.sourceIp(undefined),
      10_800,
      ['idleTimeoutSeconds ← source/mode', 'sourceIp.timeoutSeconds ← source/mode'],
    ],
    [
      'an absolute timeout only',
      policies.sourceIp(undefined, { absoluteTimeoutSeconds: 600 }),
      600,
      [
        'absoluteTimeoutSeconds ← source/absoluteTimeoutSeconds',
        'idleTimeoutSeconds ← source/absoluteTimeoutSeconds',
        'sourceIp.timeoutSeconds ← source/absoluteTimeoutSeconds',
      ],
    ],
    [
      'a balancing algorithm, fail-closed, balanced rebalance and canary behaviour',
      tweak(
        clientIp(600),
        { onFailure: 'fail', rebalance: 'balanced', canaryBehavior: 'sticky' },
        { algorithm: 'leastConnections' },
      ),
      600,
      [
        'canaryBehavior ← source/canaryBehavior',
        'loadBalancing.algorithm ← source/loadBalancing.algorithm',
        'onFailure ← source/onFailure',
        'rebalance ← source/rebalance',
      ],
    ],
    [
      'cookie stickiness',
      policies.cookie({ maxAgeSeconds: 600, path: '/' }),
      undefined,
      [
        'cookie.httpOnly ← source/cookie.httpOnly',
        'cookie.lifetime ← source/cookie.lifetime',
        'cookie.maxAgeSeconds ← source/cookie.maxAgeSeconds',
        'cookie.name ← source/cookie.name',
        'cookie.nocache ← source/cookie.nocache',
        'cookie.omitSameSiteNoneForOldClients ← source/cookie.omitSameSiteNoneForOldClients',
        'cookie.path ← source/cookie.path',
        'cookie.secure ← source/cookie.secure',
        'mode ← source/mode',
      ],
    ],
    [
      'header stickiness and a hash key',
      tweak(policies.header('x-user'), {}, { algorithm: 'hash', hashKey: '$http_x_user' }),
      undefined,
      [
        'header.name ← source/header.name',
        'loadBalancing.algorithm ← source/loadBalancing.algorithm',
        'loadBalancing.hashKey ← source/loadBalancing.hashKey',
        'mode ← source/mode',
      ],
    ],
  ])('%s', (_name, policy, timeout, reported) => {
    const object = service();
    const out = emit(object, false, policy);
    expect(lost(out)).toEqual(reported);
    const spec = written(object, out.spec).spec as Record<string, unknown>;
    expect(spec.sessionAffinity).toBe(timeout === undefined ? undefined : 'ClientIP');
    if (timeout !== undefined && timeout !== 10_800)
      expect(spec.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: timeout } });
  });

  it('writes one affinity for every port and reports a port whose policy differs', () => {
    const object = service({}, [80, 443]);
    const out = emit(object, false, clientIp(600), clientIp(1200));
    expect(out.spec).toContainEqual({
      path: ['spec', 'sessionAffinityConfig'],
      value: { clientIP: { timeoutSeconds: 600 } },
    });
    expect(lost(out)).toEqual([
      'idleTimeoutSeconds ← source/port 443/idleTimeoutSeconds',
      'sourceIp.timeoutSeconds ← source/port 443/sourceIp.timeoutSeconds',
    ]);
  });

  it('writes nothing on a kind other than Service', () => {
    const object = { ...service(), kind: 'Ingress' };
    const entries = entriesWith(service(), clientIp(600));
    expect(kubeService.emit?.({ object, entries, explicit: true })).toEqual({
      annotations: {},
      spec: [],
      diagnostics: [],
      covers: [],
    });
  });
});

describe('kube-service ownedSpec', () => {
  const removeBoth: SpecEdit[] = [
    { path: ['spec', 'sessionAffinity'], value: undefined },
    { path: ['spec', 'sessionAffinityConfig'], value: undefined },
  ];
  it.each<[string, KubeObject, SpecEdit[]]>([
    [
      'both fields of a LoadBalancer Service',
      service({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: {} } }),
      removeBoth,
    ],
    [
      'the affinity alone',
      service({ sessionAffinity: 'ClientIP' }),
      [{ path: ['spec', 'sessionAffinity'], value: undefined }],
    ],
    ['nothing when neither is set', service(), []],
    [
      'nothing on a ClusterIP Service, where kube-proxy keeps applying it',
      service({ type: 'ClusterIP', sessionAffinity: 'ClientIP' }),
      [],
    ],
    ['nothing on an Ingress', { ...service({ sessionAffinity: 'ClientIP' }), kind: 'Ingress' }, []],
    ['nothing on a spec that is not an object', { ...service(), spec: 'ClientIP' }, []],
  ])('%s', (_name, object, edits) => {
    expect(kubeService.ownedSpec?.(object)).toEqual(edits);
  });
});

describe('kube-service emit: properties', () => {
  const expressible = fc.oneof(
    fc.integer({ min: 1, max: 86_400 }).map(clientIp),
    fc.constant(policies.none()),
  );

  it('emit then parse gives the same policy for everything a Service can say', () => {
    fc.assert(
      fc.property(expressible, fc.boolean(), (policy, explicit) => {
        const object = service({}, [80, 443]);
        const out = emit(object, explicit, policy);
        expect(out.diagnostics).toEqual([]);
        for (const flat of reread(object, out)) expect(flat).toEqual(flatOf(policy));
      }),
      { numRuns: 300 },
    );
  });

  it('reports exactly the fields that change, each naming its source', () => {
    fc.assert(
      fc.property(anyPolicy, fc.boolean(), (policy, explicit) => {
        const object = service();
        const out = emit(object, explicit, policy);
        const after = reread(object, out)[0] ?? {};
        const before = flatOf(policy);
        const reported = new Map(
          out.diagnostics.map((d) => [d.message.slice(0, d.message.indexOf(' ')), d]),
        );
        for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
          const key = field as keyof FlatValues;
          const changed = before[key] !== after[key];
          const d = reported.get(field);
          expect([field, d !== undefined]).toEqual([field, changed]);
          if (d && before[key] !== undefined)
            expect(d.sources.map((s) => s.field)).toContain(sourceKey(field));
        }
      }),
      { numRuns: 400 },
    );
  });
});
