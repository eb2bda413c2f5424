import { describe, expect, it } from '@jest/globals';
import { createRouteTable, tableDerivation } from './table/create';
import {
  type AcceptedRouteTable,
  type BackendSet,
  type HostRoutes,
  type RouteTable,
} from './table/types';
import { plainSet, problemsOf } from '../../../test/support/dataplane';

function host(name: string, s: BackendSet, path = '/'): HostRoutes {
  return { host: name, paths: [{ path, pathType: 'Prefix', backendSet: s }] };
}

/** The same hosts on the HTTP and the HTTPS listener, as the controller lays out an Ingress. */
function table(version: string, hosts: HostRoutes[]): RouteTable {
  return {
    version,
    listeners: [
      { protocol: 'HTTP', hosts: hosts.slice() },
      { protocol: 'HTTPS', hosts: hosts.slice() },
    ],
  };
}

/** The next table: hosts replaced at their places on both listeners, the rest the same objects. */
function patched(
  previous: RouteTable,
  version: string,
  replace: Map<number, HostRoutes>,
): RouteTable {
  return {
    version,
    listeners: previous.listeners.map((l) => ({
      ...l,
      hosts: l.hosts.map((h, i) => replace.get(i) ?? h),
    })),
  };
}

function accepted(n: number): AcceptedRouteTable {
  return createRouteTable(
    table(
      '1',
      Array.from({ length: n }, (_, i) => host(`h${i}.example.com`, plainSet(`s${i}`))),
    ),
  );
}

describe('checking a table by its changes', () => {
  it('forgets what a table derived from once the next table derives from it', () => {
    // Otherwise each table would hold the one before it alive, one link per swap.
    const a = createRouteTable(
      table('1', [host('a.example', plainSet('a')), host('b.example', plainSet('b'))]),
    );
    const b = createRouteTable(
      patched(a, '2', new Map([[0, host('a.example', plainSet('a', '10.0.0.2'))]])),
      a,
    );
    expect(tableDerivation(b)?.previous).toBe(a);
    const c = createRouteTable(
      patched(b, '3', new Map([[1, host('b.example', plainSet('b', '10.0.0.3'))]])),
      b,
    );
    expect(tableDerivation(c)?.previous).toBe(b);
    expect(tableDerivation(b)).toBeUndefined();
  });

  it('checks and indexes only the replaced hosts; the kept ones are the same frozen objects', () => {
    const first = accepted(50);
    expect(tableDerivation(first)).toMatchObject({
      previous: undefined,
      checkedHosts: 50,
      indexedHosts: 100,
    });
    const changed = host('h7.example.com', plainSet('s7', '10.0.0.9'));
    const second = createRouteTable(patched(first, '2', new Map([[7, changed]])), first);
    expect(tableDerivation(second)).toMatchObject({
      previous: first,
      checkedHosts: 1, // one new host object, on two listeners
      indexedHosts: 2,
    });
    expect(tableDerivation(second)?.changes.map((c) => [c.listener, c.after])).toEqual([
      [0, changed],
      [1, changed],
    ]);
    expect(Object.isFrozen(changed)).toBe(true);
    expect(Object.isFrozen(changed.paths[0]?.backendSet.backends[0]?.endpoints[0])).toBe(true);
    expect(Object.isFrozen(second.listeners[1]?.hosts)).toBe(true);
    expect(second.listeners[0]?.hosts[6]).toBe(first.listeners[0]?.hosts[6]);
  });

  it('checks a table whole without a previous one, but hosts accepted before skip their own checks', () => {
    const first = accepted(5);
    const again = createRouteTable(table('2', first.listeners[0]?.hosts.slice() ?? []));
    expect(tableDerivation(again)).toMatchObject({
      previous: undefined,
      checkedHosts: 0,
      indexedHosts: 10,
    });
  });

  it('checks by changes when a host was added: only the new host is checked and indexed', () => {
    const first = accepted(3);
    const grown = table('2', [
      ...(first.listeners[0]?.hosts ?? []),
      host('new.example.com', plainSet('n')),
    ]);
    expect(createRouteTable(grown, first)).toBe(grown);
    expect(tableDerivation(grown)).toMatchObject({
      previous: first,
      checkedHosts: 1,
      indexedHosts: 2, // one per listener
    });
  });

  it('checks whole, and still accepts, when a listener was added', () => {
    const first = accepted(3);
    const hosts = first.listeners[0]?.hosts ?? [];
    const more: RouteTable = {
      version: '2',
      listeners: [...first.listeners, { protocol: 'HTTP', port: 8080, hosts: hosts.slice() }],
    };
    expect(createRouteTable(more, first)).toBe(more);
    expect(tableDerivation(more)).toMatchObject({
      previous: undefined,
      checkedHosts: 0,
      indexedHosts: 9,
    });
  });

  it('lets two replaced hosts swap their names, and a set move from one host to another', () => {
    const first = accepted(4);
    const s1 = first.listeners[0]?.hosts[1]?.paths[0]?.backendSet ?? plainSet('missing');
    const replace = new Map([
      [1, host('h2.example.com', plainSet('s2', '10.0.0.5'))],
      [2, host('h1.example.com', s1)],
    ]);
    const next = createRouteTable(patched(first, '2', replace), first);
    expect(tableDerivation(next)?.previous).toBe(first);
  });

  it('refuses a replaced host that takes a kept host’s name or a kept set’s id, listing every problem', () => {
    const first = accepted(4);
    const bad: HostRoutes = {
      host: 'H3.example.com', // h3 is kept: listed twice
      paths: [
        { path: 'no-slash', pathType: 'Prefix', backendSet: plainSet('s0', '10.0.0.8') }, // s0 is kept
        { path: '/x', pathType: 'Prefix', backendSet: { ...plainSet('x'), backends: [] } },
      ],
    };
    const candidate = patched(first, '2', new Map([[1, bad]]));
    expect(problemsOf(() => createRouteTable(candidate, first))).toEqual([
      'listeners[0].hosts[1].paths[0].path: must start with /',
      'listeners[0].hosts[1].paths[1].backendSet.backends: needs at least one backend',
      'listeners[0].hosts[1].paths[0].backendSet.id: "s0" names two different backend sets',
      'listeners[0].hosts[3].host: h3.example.com is listed twice',
      'listeners[1].hosts[1].paths[0].path: must start with /',
      'listeners[1].hosts[1].paths[0].backendSet.id: "s0" names two different backend sets',
      'listeners[1].hosts[3].host: h3.example.com is listed twice',
    ]);
    expect(Object.isFrozen(bad)).toBe(false);
    // The refused table left the previous one's indexes alone: a good change still goes by changes.
    const good = patched(
      first,
      '3',
      new Map([[1, host('h1.example.com', plainSet('s1', '10.0.0.7'))]]),
    );
    expect(createRouteTable(good, first)).toBe(good);
    expect(tableDerivation(good)).toMatchObject({ previous: first, checkedHosts: 1 });
  });

  it('keeps an id named by a kept host: a replaced host may only name an equal set under it', () => {
    const shared = plainSet('shared');
    const first = createRouteTable(
      table('1', [host('a.example.com', shared), host('b.example.com', shared)]),
    );
    const equal = createRouteTable(
      patched(first, '2', new Map([[1, host('b.example.com', plainSet('shared'), '/b')]])),
      first,
    );
    expect(tableDerivation(equal)?.previous).toBe(first);
    const different = patched(
      equal,
      '3',
      new Map([[1, host('b.example.com', plainSet('shared', '10.9.9.9'))]]),
    );
    expect(problemsOf(() => createRouteTable(different, equal))).toEqual([
      'listeners[0].hosts[1].paths[0].backendSet.id: "shared" names two different backend sets',
      'listeners[1].hosts[1].paths[0].backendSet.id: "shared" names two different backend sets',
    ]);
    // Once no kept host names it, the id may go to a different set.
    const both = patched(
      equal,
      '4',
      new Map([
        [0, host('a.example.com', plainSet('shared', '10.9.9.9'))],
        [1, host('b.example.com', plainSet('other'))],
      ]),
    );
    expect(createRouteTable(both, equal)).toBe(both);
  });
});
