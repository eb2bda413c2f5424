import { describe, expect, it } from '@jest/globals';
import { CompiledTable, EndpointStats, type CompileContext } from './runtime';
import { createRouteTable, type BackendSet, type HostRoutes, type RouteTable } from './table';
import { TokenCodec } from './token';

function context(): CompileContext {
  const stats = new Map<string, EndpointStats>();
  return {
    codec: new TokenCodec(Buffer.from('0123456789abcdef0123456789abcdef')),
    stats: (origin) => {
      let s = stats.get(origin);
      if (!s) {
        s = new EndpointStats(origin);
        stats.set(origin, s);
      }
      return s;
    },
  };
}

function set(id: string, address: string): BackendSet {
  return {
    id,
    policy: { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
    loadBalancing: { algorithm: 'roundRobin' },
    route: {},
    backends: [
      {
        ref: { namespace: 'default', service: id, port: 80 },
        endpoints: [{ address, port: 8080, ready: true }],
      },
    ],
  };
}

/** A table with one host per set, made the way the proxy receives it (checked and frozen). */
function table(version: string, sets: BackendSet[]): RouteTable {
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
    const ctx = context();
    const a = set('a', '10.0.0.1');
    const b = set('b', '10.0.0.2');
    const first = new CompiledTable(table('1', [a, b]), ctx);
    expect(first.compiledSets).toBe(2);

    const changedB = set('b', '10.0.0.3');
    const second = new CompiledTable(table('2', [a, changedB]), ctx, first);
    expect(second.compiledSets).toBe(1);
    expect(second.sets.get('a')).toBe(first.sets.get('a'));
    expect(second.sets.get('b')).not.toBe(first.sets.get('b'));
    expect([...(second.sets.get('b')?.byId.values() ?? [])].map((e) => e.origin)).toEqual([
      'http://10.0.0.3:8080',
    ]);
    expect([...second.origins()].sort()).toEqual(['http://10.0.0.1:8080', 'http://10.0.0.3:8080']);
    // The matcher routes to the kept and to the new compiled sets.
    const m = second.matcher('HTTP', 80);
    expect(m.match('a.example.com', '/')).toBe(first.sets.get('a'));
    expect(m.match('b.example.com', '/x')).toBe(second.sets.get('b'));
  });

  it('an equal but different set object is compiled again', () => {
    const ctx = context();
    const first = new CompiledTable(table('1', [set('a', '10.0.0.1')]), ctx);
    const second = new CompiledTable(table('2', [set('a', '10.0.0.1')]), ctx, first);
    expect(second.compiledSets).toBe(1);
    expect(second.sets.get('a')).not.toBe(first.sets.get('a'));
  });

  it('reuses only from the table just before, never from older ones', () => {
    const ctx = context();
    const a = set('a', '10.0.0.1');
    const b = set('b', '10.0.0.2');
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
    const ctx = context();
    const [a, b, w] = [set('a', '10.0.0.1'), set('b', '10.0.0.2'), set('w', '10.0.0.3')];
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
      replaced(first, '2', 1, hostOf('b2.example.com', set('b', '10.0.0.4'))),
      first,
    );
    const c2 = new CompiledTable(second, ctx, c1);
    expect(c2.matcherHosts).toBe(1);
    expect(c2.compiledSets).toBe(1);
    expect(c2.left.map((s) => s.byId.size)).toEqual([1]);
    const m2 = c2.matcher('HTTP', 80);
    expect(m2.match('b.example.com', '/')).toBeUndefined();
    expect(m2.match('b2.example.com', '/')).toBe(c2.sets.get('b'));
    expect([...(c2.sets.get('b')?.byId.values() ?? [])].map((e) => e.origin)).toEqual([
      'http://10.0.0.4:8080',
    ]);
    expect(m2.match('a.example.com', '/x')).toBe(keptA);
    expect(m2.match('x.w.example.com', '/')?.id).toBe('w');
    // The table before handed its matchers over: it is no longer used for lookups.
    expect(() => c1.matcher('HTTP', 80)).toThrow(/replaced/);

    const third = createRouteTable(
      replaced(second, '3', 2, hostOf('*.w.example.com', set('w2', '10.0.0.5'))),
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
    const ctx = context();
    const c1 = new CompiledTable(table('1', [set('a', '10.0.0.1'), set('b', '10.0.0.2')]), ctx);
    c1.matcher('HTTP', 80);
    const c2 = new CompiledTable(table('2', [set('a', '10.0.0.1'), set('b', '10.0.0.2')]), ctx, c1);
    expect(c2.matcherHosts).toBe(2); // built at swap time, for the listener the table before served
    expect(c2.matcher('HTTP', 80).match('b.example.com', '/')).toBe(c2.sets.get('b'));
  });
});
