import { describe, expect, it } from '@jest/globals';
import { CompiledTable } from './runtime';
import { checkRouteTable } from './table/check';
import { createRouteTable, tableDerivation, tableIds } from './table/create';
import {
  type AcceptedRouteTable,
  type BackendSet,
  type HostRoutes,
  type RouteTable,
} from './table/types';
import { compileContext, plainSet, problemsOf } from '../../../test/support/dataplane';

/*
 * Tables with hosts added or removed are checked by their changes: these tests hold such a
 * check to what a check of the whole table accepts, refuses, indexes and routes.
 */

function host(name: string, s: BackendSet, many = false): HostRoutes {
  return {
    host: name,
    ...(many ? { wildcardLabels: 'many' as const } : {}),
    paths: [
      { path: '/', pathType: 'Prefix', backendSet: s },
      { path: '/api', pathType: 'Exact', backendSet: plainSet(`${s.id}-api`) },
    ],
  };
}

/** The HTTP and HTTPS listeners, each with its own list (and, as the controller makes them, its own hosts). */
function table(version: string, http: HostRoutes[], https = http): RouteTable {
  return {
    version,
    listeners: [
      { protocol: 'HTTP', hosts: http.slice() },
      { protocol: 'HTTPS', hosts: https.slice() },
    ],
  };
}

/** New objects for the table, its listeners, hosts and routes; the same set objects. */
function copyOf(t: RouteTable): RouteTable {
  return {
    version: t.version,
    listeners: t.listeners.map((l) => ({
      ...l,
      hosts: l.hosts.map((h) => ({ ...h, paths: h.paths.map((p) => ({ ...p })) })),
    })),
  };
}

const PROBES: readonly [string, string][] = [
  ['a.example.com', '/'],
  ['a.example.com', '/api'],
  ['b.example.com', '/x'],
  ['c.example.com', '/api'],
  ['d.example.com', '/'],
  ['e.example.com', '/'],
  ['new.example.com', '/'],
  ['new.example.com', '/api'],
  ['x.w.example.com', '/'],
  ['x.y.w.example.com', '/'],
  ['x.y.m.example.com', '/api'],
  ['x.n.example.com', '/'],
  ['elsewhere.example.org', '/'],
];

/** Set id per probe and listener, from a compiled table. */
function routes(compiled: CompiledTable): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (const [protocol, port] of [
    ['HTTP', 80],
    ['HTTPS', 443],
  ] as const) {
    const m = compiled.matcher(protocol, port);
    for (const [h, p] of PROBES) out.push(m.match(h, p)?.id);
  }
  return out;
}

/** Set id → [routes naming it, the set] of an accepted table. */
function idsOf(t: RouteTable): [string, number, BackendSet][] {
  return [...(tableIds(t) ?? new Map())]
    .map(([id, use]): [string, number, BackendSet] => [id, use.refs, use.set])
    .sort((x, y) => (x[0] < y[0] ? -1 : 1));
}

/** What checking `next` whole accepts, indexes and routes; `next` itself is left alone. */
function whole(next: RouteTable): { ids: [string, number, BackendSet][]; routes: unknown[] } {
  const t = createRouteTable(copyOf(next));
  expect(tableDerivation(t)?.previous).toBeUndefined();
  return { ids: idsOf(t), routes: routes(new CompiledTable(t, compileContext())) };
}

const base = (): HostRoutes[] => [
  host('a.example.com', plainSet('a')),
  host('b.example.com', plainSet('b')),
  host('*.w.example.com', plainSet('w')),
  host('c.example.com', plainSet('c')),
  host('*.m.example.com', plainSet('m'), true),
  host('d.example.com', plainSet('d')),
];

/** A proxy-like line of swaps: accepted tables compiled against the one before, matchers built. */
class Line {
  readonly ctx = compileContext();
  table: AcceptedRouteTable;
  compiled: CompiledTable;
  constructor(first: RouteTable) {
    this.table = createRouteTable(first);
    this.compiled = new CompiledTable(this.table, this.ctx);
    routes(this.compiled); // builds both matchers, so that the next swap patches them
  }

  swap(next: RouteTable): void {
    const t = createRouteTable(next, this.table);
    this.compiled = new CompiledTable(t, this.ctx, this.compiled);
    this.table = t;
  }
}

type Edit = (hosts: HostRoutes[]) => HostRoutes[];

const EDITS: [string, Edit][] = [
  ['added at the end', (h) => [...h, host('new.example.com', plainSet('new'))]],
  ['added at the start', (h) => [host('new.example.com', plainSet('new')), ...h]],
  [
    'added in the middle',
    (h) => [...h.slice(0, 3), host('new.example.com', plainSet('new')), ...h.slice(3)],
  ],
  [
    'a wildcard added',
    (h) => [...h.slice(0, 1), host('*.n.example.com', plainSet('n')), ...h.slice(1)],
  ],
  ['the any host added', (h) => [...h, host('*', plainSet('any'))]],
  ['the first removed', (h) => h.slice(1)],
  ['one in the middle removed', (h) => [...h.slice(0, 3), ...h.slice(4)]],
  ['the last removed', (h) => h.slice(0, -1)],
  ['a wildcard removed', (h) => [...h.slice(0, 2), ...h.slice(3)]],
  ['a many-label wildcard removed', (h) => [...h.slice(0, 4), ...h.slice(5)]],
  [
    'two removed and two added',
    (h) => [
      host('new.example.com', plainSet('new')),
      ...h.slice(1, 3),
      host('e.example.com', plainSet('e')),
      ...h.slice(4),
    ],
  ],
  [
    'one removed, another under its name added further on',
    (h) => [...h.slice(1, 4), host('a.example.com', plainSet('a2', '10.0.0.2')), ...h.slice(4)],
  ],
  [
    'one removed, its set id taken by a different set on a new host',
    (h) => [h[0] as HostRoutes, ...h.slice(2), host('new.example.com', plainSet('b', '10.0.0.9'))],
  ],
  [
    'one added naming a kept set',
    (h) => [...h, host('new.example.com', h[1]?.paths[0]?.backendSet ?? plainSet('missing'))],
  ],
];

describe('a table with hosts added or removed', () => {
  it.each(EDITS)(
    '%s: checked by changes, indexed and routed as a whole check would, and back again',
    (_name, edit) => {
      const http = base();
      const https = base();
      const line = new Line(table('1', http, https));
      const first = line.table;
      const next = table('2', edit(http), edit(https));
      expect(checkRouteTable(next)).toEqual([]);
      const expected = whole(next);
      line.swap(next);
      expect(tableDerivation(next)?.previous).toBe(first);
      expect(idsOf(next)).toEqual(expected.ids);
      expect(routes(line.compiled)).toEqual(expected.routes);
      // Back to the hosts of the first table (accepted objects): again by changes.
      const back = table('3', http, https);
      line.swap(back);
      expect(tableDerivation(back)?.previous).toBe(next);
      expect(idsOf(back)).toEqual(whole(back).ids);
      expect(routes(line.compiled)).toEqual(whole(back).routes);
      expect(line.compiled.sets.size).toBe(idsOf(back).length);
    },
  );

  it('a host moved is checked whole, with the same result', () => {
    const http = base();
    const line = new Line(table('1', http, http.slice()));
    const moved = [...http.slice(1, 4), http[0] as HostRoutes, ...http.slice(4)];
    const next = table('2', moved);
    const expected = whole(next);
    line.swap(next);
    expect(tableDerivation(next)?.previous).toBeUndefined();
    expect(idsOf(next)).toEqual(expected.ids);
    expect(routes(line.compiled)).toEqual(expected.routes);
  });

  it('a removed host no longer routes; its sets leave the index and the compiled table', () => {
    const http = base();
    const line = new Line(table('1', http));
    const before = routes(line.compiled);
    expect(before[PROBES.findIndex(([h]) => h === 'b.example.com')]).toBe('b');
    const next = table('2', [...http.slice(0, 1), ...http.slice(2)]);
    line.swap(next);
    const m = line.compiled.matcher('HTTPS', 443);
    expect(m.match('b.example.com', '/x')).toBeUndefined();
    expect(m.match('a.example.com', '/x')?.id).toBe('a');
    expect(tableIds(next)?.has('b')).toBe(false);
    expect(tableIds(next)?.has('b-api')).toBe(false);
    expect(line.compiled.sets.has('b')).toBe(false);
    expect(line.compiled.left.map((s) => s.id).sort()).toEqual(['b', 'b-api']);
  });

  it('an added host routes to its newly compiled sets, and only those are compiled', () => {
    const http = base();
    const line = new Line(table('1', http));
    line.swap(table('2', [...http, host('new.example.com', plainSet('new'))]));
    expect(line.compiled.fresh.map((s) => s.id).sort()).toEqual(['new', 'new-api']);
    expect(line.compiled.matcher('HTTP', 80).match('new.example.com', '/api')?.id).toBe('new-api');
    expect(line.compiled.matcherHosts).toBe(2); // one per listener
  });
});

describe('refusing a table with hosts added', () => {
  const REFUSED: [string, Edit][] = [
    ['a new host under a kept host’s name', (h) => [...h, host('B.example.com', plainSet('b2'))]],
    [
      'a new wildcard under a kept wildcard’s name',
      (h) => [host('*.W.example.com', plainSet('w2')), ...h],
    ],
    [
      'two new hosts under one name',
      (h) => [...h, host('n.example.com', plainSet('n1')), host('n.example.com', plainSet('n2'))],
    ],
    [
      'an invalid host name',
      (h) => [...h.slice(0, 2), host('bad_name.example.com', plainSet('bad')), ...h.slice(2)],
    ],
    [
      'a kept set’s id on a different set',
      (h) => [...h, host('new.example.com', plainSet('c', '10.9.9.9'))],
    ],
    ['a kept host listed twice', (h) => [...h, h[1] as HostRoutes]],
    [
      'a removed host’s name taken while it is also kept elsewhere',
      (h) => [h[0] as HostRoutes, host('c.example.com', plainSet('c3')), ...h.slice(2)],
    ],
  ];

  it.each(REFUSED)(
    '%s: the same problems as a whole check, and the last good table stays in force',
    (_name, edit) => {
      const http = base();
      const line = new Line(table('1', http));
      const first = line.table;
      const compiled = line.compiled;
      const candidate = table('2', edit(http));
      const expected = checkRouteTable(candidate);
      expect(expected.length).toBeGreaterThan(0);
      expect(problemsOf(() => line.swap(candidate))).toEqual(expected);
      expect(line.table).toBe(first);
      expect(line.compiled).toBe(compiled);
      expect(Object.isFrozen(candidate.listeners[0]?.hosts)).toBe(false);
      // Indexes and matchers untouched: a good table still goes by changes, and routes right.
      const good = table('3', [...http, host('new.example.com', plainSet('new'))]);
      line.swap(good);
      expect(tableDerivation(good)?.previous).toBe(first);
      expect(idsOf(good)).toEqual(whole(good).ids);
      expect(routes(line.compiled)).toEqual(whole(good).routes);
    },
  );
});

describe('new host objects equal to accepted ones', () => {
  it('are swapped for the accepted hosts, so a full rebuild with one host more goes by changes', () => {
    const http = base();
    const line = new Line(table('1', http));
    const first = line.table;
    const rebuilt = copyOf(
      table('2', [...http.slice(0, 2), host('new.example.com', plainSet('new')), ...http.slice(2)]),
    );
    const expected = whole(rebuilt);
    line.swap(rebuilt);
    expect(tableDerivation(rebuilt)).toMatchObject({
      previous: first,
      equalHosts: 12,
      checkedHosts: 2, // the copy has a host object per listener
      indexedHosts: 2,
    });
    expect(rebuilt.listeners[0]?.hosts[3]).toBe(first.listeners[0]?.hosts[2]);
    expect(rebuilt.listeners[1]?.hosts[0]).toBe(first.listeners[1]?.hosts[0]);
    expect(Object.isFrozen(rebuilt.listeners[0]?.hosts[2])).toBe(true);
    expect(idsOf(rebuilt)).toEqual(expected.ids);
    expect(routes(line.compiled)).toEqual(expected.routes);
    expect(line.compiled.fresh.map((s) => s.id).sort()).toEqual(['new', 'new-api']);
  });

  it('are not taken when a route differs in path, type or set object', () => {
    const http = base();
    const line = new Line(table('1', http));
    const a = http[0] as HostRoutes;
    const [root, api] = a.paths as [HostRoutes['paths'][number], HostRoutes['paths'][number]];
    const variants: HostRoutes[] = [
      { host: a.host, paths: [{ ...root, path: '/other' }, api] },
      { host: a.host, paths: [{ ...root, pathType: 'Exact' }, api] },
      { host: a.host, paths: [{ ...root, backendSet: plainSet('a') }, api] }, // equal set, new object
      { host: a.host, paths: [root] },
      { host: a.host, wildcardLabels: 'many', paths: [root, api] },
    ];
    for (const [i, variant] of variants.entries()) {
      const next = table(`v${i}`, [variant, ...http.slice(1)]);
      const expected = whole(next);
      line.swap(next);
      expect(tableDerivation(next)).toMatchObject({ equalHosts: 0, checkedHosts: 1 });
      expect(next.listeners[0]?.hosts[0]).toBe(variant);
      expect(routes(line.compiled)).toEqual(expected.routes);
    }
  });

  it('in a frozen or shared host list are not swapped: the table is checked whole', () => {
    const http = base();
    for (const shared of [false, true]) {
      const line = new Line(table('1', http));
      const copied = copyOf(table('2', http)).listeners[0]?.hosts ?? [];
      const hosts = copied.slice();
      if (!shared) Object.freeze(hosts);
      const next: RouteTable = {
        version: '2',
        listeners: [
          { protocol: 'HTTP', hosts },
          { protocol: 'HTTPS', hosts: shared ? hosts : copied.slice() },
        ],
      };
      const expected = whole(next);
      line.swap(next);
      expect(tableDerivation(next)?.previous).toBeUndefined();
      expect(routes(line.compiled)).toEqual(expected.routes);
    }
  });
});
