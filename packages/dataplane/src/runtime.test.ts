import { describe, expect, it } from '@jest/globals';
import { CompiledTable, EndpointStats, type CompileContext } from './runtime';
import { createRouteTable, type BackendSet, type RouteTable } from './table';
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
