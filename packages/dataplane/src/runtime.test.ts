import { describe, expect, it } from '@jest/globals';
import { CompiledTable, countOrigins, endpointById, hostPortOf } from './runtime';
import { createRouteTable } from './table/create';
import {
  type AcceptedRouteTable,
  type BackendSet,
  type HostRoutes,
  type RouteTable,
  type WeightedBackend,
} from './table/types';
import { compileContext, plainSet } from '../../../test/support/dataplane';

/** A table with one host per set, made the way the proxy receives it (checked and frozen). */
function table(version: string, sets: BackendSet[]): AcceptedRouteTable {
  return createRouteTable({
    version,
    listeners: [
      {
        protocol: 'HTTP',
        hosts: sets.map((s) => ({
          host: `${s.id}.example.com`,
          paths: [{ path: '/', pathType: 'Prefix' as const, backendSet: s }],
        })),
      },
    ],
  });
}

describe('compiled table', () => {
  it('takes over the compiled form of set objects from the previous table and compiles the others', () => {
    const ctx = compileContext();
    const a = plainSet('a', '10.0.0.1');
    const b = plainSet('b', '10.0.0.2');
    const first = new CompiledTable(table('1', [a, b]), ctx);
    expect(first.compiledSets).toBe(2);

    const changedB = plainSet('b', '10.0.0.3');
    const second = new CompiledTable(table('2', [a, changedB]), ctx, first);
    expect(second.compiledSets).toBe(1);
    expect(second.sets.get('a')).toBe(first.sets.get('a'));
    expect(second.sets.get('b')).not.toBe(first.sets.get('b'));
    expect((second.sets.get('b')?.endpoints ?? []).map((e) => e.origin)).toEqual([
      'http://10.0.0.3:8080',
    ]);
    expect([...second.origins()].sort()).toEqual(['http://10.0.0.1:8080', 'http://10.0.0.3:8080']);
    // The matcher routes to the kept and to the new compiled sets.
    const m = second.matcher('HTTP', 80);
    expect(m.match('a.example.com', '/')).toBe(first.sets.get('a'));
    expect(m.match('b.example.com', '/x')).toBe(second.sets.get('b'));
  });

  it('an equal but different set object is compiled again', () => {
    const ctx = compileContext();
    const first = new CompiledTable(table('1', [plainSet('a', '10.0.0.1')]), ctx);
    const second = new CompiledTable(table('2', [plainSet('a', '10.0.0.1')]), ctx, first);
    expect(second.compiledSets).toBe(1);
    expect(second.sets.get('a')).not.toBe(first.sets.get('a'));
  });

  it('reuses only from the table just before, never from older ones', () => {
    const ctx = compileContext();
    const a = plainSet('a', '10.0.0.1');
    const b = plainSet('b', '10.0.0.2');
    const first = new CompiledTable(table('1', [a, b]), ctx);
    const second = new CompiledTable(table('2', [a]), ctx, first);
    expect(second.compiledSets).toBe(0);
    const third = new CompiledTable(table('3', [a, b]), ctx, second);
    expect(third.compiledSets).toBe(1);
    expect(third.sets.get('b')).not.toBe(first.sets.get('b'));
    expect(third.sets.get('a')).toBe(first.sets.get('a'));
  });
});

describe('compiled table after a check by changes', () => {
  const hostOf = (name: string, s: BackendSet): HostRoutes => ({
    host: name,
    paths: [{ path: '/', pathType: 'Prefix', backendSet: s }],
  });
  const replaced = (t: RouteTable, version: string, at: number, h: HostRoutes): RouteTable => ({
    version,
    listeners: t.listeners.map((l) => ({
      ...l,
      hosts: l.hosts.map((x, i) => (i === at ? h : x)),
    })),
  });

  it('rebuilds the matcher only for replaced hosts, at swap time, and keeps the other sets', () => {
    const ctx = compileContext();
    const [a, b, w] = [
      plainSet('a', '10.0.0.1'),
      plainSet('b', '10.0.0.2'),
      plainSet('w', '10.0.0.3'),
    ];
    const first = createRouteTable({
      version: '1',
      listeners: [
        {
          protocol: 'HTTP',
          hosts: [
            hostOf('a.example.com', a),
            hostOf('b.example.com', b),
            hostOf('*.w.example.com', w),
          ],
        },
      ],
    });
    const c1 = new CompiledTable(first, ctx);
    expect(c1.matcher('HTTP', 80).match('b.example.com', '/')?.id).toBe('b');
    expect(c1.matcherHosts).toBe(3);
    const keptA = c1.sets.get('a');

    // b is renamed and gets a new set; the wildcard then gets a new set.
    const second = createRouteTable(
      replaced(first, '2', 1, hostOf('b2.example.com', plainSet('b', '10.0.0.4'))),
      first,
    );
    const c2 = new CompiledTable(second, ctx, c1);
    expect(c2.matcherHosts).toBe(1);
    expect(c2.compiledSets).toBe(1);
    expect(c2.left.map((s) => s.endpoints.length)).toEqual([1]);
    const m2 = c2.matcher('HTTP', 80);
    expect(m2.match('b.example.com', '/')).toBeUndefined();
    expect(m2.match('b2.example.com', '/')).toBe(c2.sets.get('b'));
    expect((c2.sets.get('b')?.endpoints ?? []).map((e) => e.origin)).toEqual([
      'http://10.0.0.4:8080',
    ]);
    expect(m2.match('a.example.com', '/x')).toBe(keptA);
    expect(m2.match('x.w.example.com', '/')?.id).toBe('w');
    // The table before handed its matchers over: it is no longer used for lookups.
    expect(() => c1.matcher('HTTP', 80)).toThrow(/replaced/);

    const third = createRouteTable(
      replaced(second, '3', 2, hostOf('*.w.example.com', plainSet('w2', '10.0.0.5'))),
      second,
    );
    const c3 = new CompiledTable(third, ctx, c2);
    expect(c3.matcherHosts).toBe(1);
    expect(c3.sets.has('w')).toBe(false);
    expect(c3.matcher('HTTP', 80).match('x.w.example.com', '/')?.id).toBe('w2');
    expect(c3.matcher('HTTP', 80).match('b2.example.com', '/')).toBe(c2.sets.get('b'));
    expect(c3.sets.get('a')).toBe(keptA);
  });

  it('builds every host again when the table was checked whole', () => {
    const ctx = compileContext();
    const c1 = new CompiledTable(
      table('1', [plainSet('a', '10.0.0.1'), plainSet('b', '10.0.0.2')]),
      ctx,
    );
    c1.matcher('HTTP', 80);
    const c2 = new CompiledTable(
      table('2', [plainSet('a', '10.0.0.1'), plainSet('b', '10.0.0.2')]),
      ctx,
      c1,
    );
    expect(c2.matcherHosts).toBe(2); // built at swap time, for the listener the table before served
    expect(c2.matcher('HTTP', 80).match('b.example.com', '/')).toBe(c2.sets.get('b'));
  });
});

describe('compiled set layout', () => {
  /** A set whose one backend has `n` ready endpoints 10.0.<n>.1 .. 10.0.<n>.n. */
  const wide = (id: string, n: number): BackendSet => ({
    ...plainSet(id, '10.0.0.1'),
    backends: [
      {
        ref: { namespace: 'default', service: id, port: 80 },
        endpoints: Array.from({ length: n }, (_, i) => ({
          address: `10.0.${n}.${i + 1}`,
          port: 8080,
          ready: true,
        })),
      },
    ],
  });

  it.each([1, 8, 9, 40])('finds each of %i endpoints by id, and no other id', (n) => {
    const compiled = new CompiledTable(table('1', [wide('s', n)]), compileContext());
    const s = compiled.sets.get('s');
    if (!s) throw new Error('set not compiled');
    expect(s.endpoints).toHaveLength(n);
    for (const ep of s.endpoints) expect(endpointById(s, ep.id)).toBe(ep);
    expect(endpointById(s, 'AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
    expect(endpointById(s, '')).toBeUndefined();
  });

  it.each([2, 9])(
    'a backend listed twice: an id names the endpoint of the later one (%i endpoints each)',
    (n) => {
      const once = wide('s', n);
      const twice: BackendSet = {
        ...once,
        backends: [...once.backends, { ...(once.backends[0] as WeightedBackend), weight: 3 }],
      };
      const s = new CompiledTable(table('1', [twice]), compileContext()).sets.get('s');
      if (!s) throw new Error('set not compiled');
      expect(s.endpoints).toHaveLength(2 * n);
      for (const ep of s.endpoints) expect(endpointById(s, ep.id)?.backend.weight).toBe(3);
    },
  );

  it('one backend: its endpoints are the ring and the set endpoints; a canary has its own ring', () => {
    const single = new CompiledTable(table('1', [wide('s', 3)]), compileContext()).sets.get('s');
    expect(single?.primary.ring).toBe(single?.primary.backends[0]?.endpoints);
    expect(single?.endpoints).toBe(single?.primary.ring);
    expect(single?.endpoints.map((ep) => hostPortOf(ep))).toEqual([
      '10.0.3.1:8080',
      '10.0.3.2:8080',
      '10.0.3.3:8080',
    ]);

    const base = wide('c', 2);
    const canaryFirst: BackendSet = {
      ...base,
      backends: [
        {
          ref: { namespace: 'default', service: 'canary', port: 80 },
          canary: { weight: 10 },
          endpoints: [{ address: 'fd00::1', port: 8080, ready: true }],
        },
        ...base.backends,
      ],
    };
    const c = new CompiledTable(table('1', [canaryFirst]), compileContext()).sets.get('c');
    expect(c?.primary.ring.map((ep) => ep.origin)).toEqual([
      'http://10.0.2.1:8080',
      'http://10.0.2.2:8080',
    ]);
    expect(c?.canary?.ring.map((ep) => ep.origin)).toEqual(['http://[fd00::1]:8080']);
    expect(c?.canary?.ring.map((ep) => hostPortOf(ep))).toEqual(['[fd00::1]:8080']);
    // Table order, canary included: what tokens and source-IP sessions are resolved against.
    expect(c?.endpoints.map((ep) => ep.origin)).toEqual([
      'http://[fd00::1]:8080',
      'http://10.0.2.1:8080',
      'http://10.0.2.2:8080',
    ]);
    for (const ep of c?.endpoints ?? []) expect(c && endpointById(c, ep.id)).toBe(ep);
  });

  it('sets leading to the same origin share its counters and its origin string', () => {
    const compiled = new CompiledTable(
      table('1', [plainSet('a', '10.0.0.1'), plainSet('b', '10.0.0.1')]),
      compileContext(),
    );
    const [a, b] = [compiled.sets.get('a')?.endpoints[0], compiled.sets.get('b')?.endpoints[0]];
    expect(a?.id).not.toBe(b?.id);
    expect(a?.stats).toBe(b?.stats);
    expect(a?.origin).toBe('http://10.0.0.1:8080');
    expect(a?.stats.origin).toBe(a?.origin);
  });
});

describe('origin counts across swaps', () => {
  it('counts endpoints per origin and reports origins that gain their first or lose their last', () => {
    const ctx = compileContext();
    const events: string[] = [];
    const swap = (compiled: CompiledTable): CompiledTable => {
      countOrigins(
        compiled,
        (o) => events.push(`used ${o}`),
        (o) => events.push(`unused ${o}`),
      );
      return compiled;
    };
    const [a, b] = [plainSet('a', '10.0.0.1'), plainSet('b', '10.0.0.1')];
    const c1 = swap(new CompiledTable(table('1', [a, b]), ctx));
    expect(events.splice(0)).toEqual(['used http://10.0.0.1:8080']);
    const shared = c1.sets.get('a')?.endpoints[0]?.stats;
    expect(shared?.refs).toBe(2);

    // b moves to another origin: 10.0.0.1 keeps a's endpoint.
    const c2 = swap(new CompiledTable(table('2', [a, plainSet('b', '10.0.0.2')]), ctx, c1));
    expect(events.splice(0)).toEqual(['used http://10.0.0.2:8080']);
    expect(shared?.refs).toBe(1);

    // a leaves: 10.0.0.1 has no endpoint left; b is replaced by an equal set (same origin).
    const c3 = swap(new CompiledTable(table('3', [plainSet('b', '10.0.0.2')]), ctx, c2));
    expect(events.splice(0)).toEqual(['unused http://10.0.0.1:8080']);
    expect(shared?.refs).toBe(0);
    expect(c3.sets.get('b')?.endpoints[0]?.stats.refs).toBe(1);

    // a comes back: the same counters, counted again.
    swap(new CompiledTable(table('4', [a, plainSet('b', '10.0.0.2')]), ctx, c3));
    expect(events.splice(0)).toEqual(['used http://10.0.0.1:8080']);
    expect(shared?.refs).toBe(1);
  });
});
