import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@tether/dialects';
import type { ResolvedEntry } from '@tether/model';
import type { ReconcileResult } from './reconcile/reconcile';
import { CONTROLLER_NAME } from './serving';
import {
  desiredParents,
  isOurParent,
  loadBalancerIngress,
  rfc3339,
  sameJson,
  type ObjectLookup,
  type RouteParentStatus,
} from './status-desired';

const objects: KubeObject[] = [
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'ours' },
    spec: { controllerName: CONTROLLER_NAME },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GatewayClass',
    metadata: { name: 'theirs' },
    spec: { controllerName: 'example.com/other' },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'shop' },
    spec: { gatewayClassName: 'ours' },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'gw', namespace: 'infra' },
    spec: { gatewayClassName: 'ours' },
  },
  {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'other', namespace: 'shop' },
    spec: { gatewayClassName: 'theirs' },
  },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } },
];

const lookup: ObjectLookup = (kind, namespace, name) =>
  objects.find(
    (o) =>
      o.kind === kind && (o.metadata.namespace ?? '') === namespace && o.metadata.name === name,
  );

function route(parentRefs: unknown[], status?: unknown, generation = 3): KubeObject {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'r', namespace: 'shop', generation } as KubeObject['metadata'],
    spec: { parentRefs },
    ...(status ? { status } : {}),
  };
}

function entry(accepted: boolean, service = 'web'): ResolvedEntry {
  return {
    entry: { kind: 'HTTPRoute', namespace: 'shop', name: 'r', rule: 'rules[0]', listeners: [] },
    backend: { namespace: 'shop', service, port: 80 },
    accepted,
    policy: null,
    loadBalancing: null,
    route: {},
    sources: {},
  };
}

function result(entries: ResolvedEntry[]): ReconcileResult {
  return {
    table: { version: '1', listeners: [] },
    entries,
    diagnostics: [],
    served: ['HTTPRoute/shop/r'],
    lastGood: new Map(),
  };
}

describe('loadBalancerIngress', () => {
  it.each([
    [['127.0.0.1'], [{ ip: '127.0.0.1' }]],
    [['::1'], [{ ip: '::1' }]],
    [['lb.example.com'], [{ hostname: 'lb.example.com' }]],
    [[' 10.0.0.1 ', '10.0.0.1', ''], [{ ip: '10.0.0.1' }]],
    [['   ', ''], []],
    [[], []],
  ])('%j → %j', (addresses, expected) => {
    expect(loadBalancerIngress(addresses)).toEqual(expected);
  });
});

describe('sameJson', () => {
  it.each([
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [[1, 2], [2, 1], false],
    [{ a: 1 }, { a: '1' }, false],
    [[], {}, false],
    [null, undefined, false],
    [undefined, [], false],
  ])('%j vs %j → %p', (a, b, expected) => {
    expect(sameJson(a, b)).toBe(expected);
  });
});

describe('rfc3339', () => {
  it('writes whole seconds in UTC', () => {
    expect(rfc3339(new Date('2026-03-04T05:06:07.890Z'))).toBe('2026-03-04T05:06:07Z');
  });
});

describe('isOurParent', () => {
  const r = route([]);
  it.each([
    [{ name: 'gw' }, true],
    [{ name: 'gw', group: 'gateway.networking.k8s.io', kind: 'Gateway' }, true],
    [{ name: 'gw', namespace: 'infra' }, true],
    [{ name: 'gw', namespace: 'nowhere' }, false],
    [{ name: 'other' }, false],
    [{ name: 'missing' }, false],
    [{ name: 'gw', kind: 'Service', group: '' }, false],
    [{ name: 'gw', group: 'example.com' }, false],
    [{}, false],
    [{ name: 42 }, false],
  ])('%j → %p', (ref, expected) => {
    expect(isOurParent(r, ref as Record<string, unknown>, lookup, CONTROLLER_NAME)).toBe(expected);
  });
});

describe('desiredParents', () => {
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T01:00:00Z');
  const theirs: RouteParentStatus = {
    parentRef: { name: 'other' },
    controllerName: 'example.com/other',
    conditions: [],
  };

  it('adds one entry per parent of ours, after the other controllers’ entries', () => {
    const r = route([{ name: 'gw' }, { name: 'other' }, { name: 'gw', namespace: 'infra' }], {
      parents: [theirs],
    });
    const parents = desiredParents(r, result([entry(true)]), true, lookup, CONTROLLER_NAME, t0);
    expect(parents.map((p) => [p.controllerName, p.parentRef])).toEqual([
      ['example.com/other', { name: 'other' }],
      [CONTROLLER_NAME, { name: 'gw' }],
      [CONTROLLER_NAME, { name: 'gw', namespace: 'infra' }],
    ]);
    expect(parents[1]?.conditions.map((c) => [c.type, c.status, c.observedGeneration])).toEqual([
      ['Accepted', 'True', 3],
      ['ResolvedRefs', 'True', 3],
    ]);
  });

  it('keeps a transition time while the status stays, and moves it when it changes', () => {
    const first = desiredParents(
      route([{ name: 'gw' }]),
      result([entry(true)]),
      true,
      lookup,
      CONTROLLER_NAME,
      t0,
    );
    const same = desiredParents(
      route([{ name: 'gw' }], { parents: first }),
      result([entry(true)]),
      true,
      lookup,
      CONTROLLER_NAME,
      t1,
    );
    expect(sameJson(same, first)).toBe(true);
    const refused = desiredParents(
      route([{ name: 'gw' }], { parents: first }),
      result([entry(false, 'gone')]),
      true,
      lookup,
      CONTROLLER_NAME,
      t1,
    );
    const conditions = refused[0]?.conditions ?? [];
    expect(conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime])).toEqual([
      ['Accepted', 'False', 'UnsupportedValue', '2026-01-01T01:00:00Z'],
      ['ResolvedRefs', 'False', 'BackendNotFound', '2026-01-01T01:00:00Z'],
    ]);
    expect(conditions[1]?.message).toBe('Service shop/gone does not exist');
  });

  it('removes only our entries from a route that is no longer served', () => {
    const ours = desiredParents(
      route([{ name: 'gw' }]),
      result([entry(true)]),
      true,
      lookup,
      CONTROLLER_NAME,
      t0,
    );
    const r = route([{ name: 'gw' }], { parents: [theirs, ...ours] });
    expect(desiredParents(r, result([]), false, lookup, CONTROLLER_NAME, t1)).toEqual([theirs]);
  });

  it('tolerates a status that is not a list of objects', () => {
    const r = route([{ name: 'gw' }], { parents: [null, 'x', 7] });
    expect(
      desiredParents(r, result([entry(true)]), true, lookup, CONTROLLER_NAME, t0),
    ).toHaveLength(1);
  });
});
