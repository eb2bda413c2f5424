/**
 * Incremental table swaps: backend set objects kept from the table in force are not compiled
 * again, changed ones are, and an invalid new set refuses the whole table. Whatever a swap
 * reuses or rebuilds, sessions, balancing state and source-IP memory carry on.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEchoes, type EchoServer } from '@tether/echo';
import { RouteTableError, type BackendSet, type RouteTable } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  cookiePair,
  cookiePolicy,
  startProxy,
  type CallOptions,
} from './support';

let echoes: EchoServer[];

beforeAll(async () => {
  echoes = await startEchoes(3);
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

/** One host per set (`<n>.example` for the n-th set), each with a `/` prefix route. */
function tableOf(version: string, sets: BackendSet[]): RouteTable {
  return {
    version,
    listeners: [
      {
        protocol: 'HTTP',
        hosts: sets.map((set, i) => ({
          host: `s${i}.example`,
          paths: [{ path: '/', pathType: 'Prefix' as const, backendSet: set }],
        })),
      },
    ],
  };
}

function at(i: number, cookie?: string): CallOptions {
  const headers: Record<string, string> = { host: `s${i}.example` };
  if (cookie) headers.cookie = cookie;
  return { headers };
}

describe('incremental table swaps', () => {
  it('keeps a set object from the table in force without compiling it; its sessions and counters carry on', async () => {
    const [a, b, c] = echoes as [EchoServer, EchoServer, EchoServer];
    const kept = backendSet([backend([a, b])], {
      id: 'kept',
      policy: cookiePolicy(),
      loadBalancing: { algorithm: 'leastConnections' },
    });
    const other = (servers: EchoServer[]) => backendSet([backend(servers)], { id: 'other' });
    const proxy = await startProxy(tableOf('v1', [kept, other([c])]));
    try {
      expect(proxy.tableSets).toEqual({ total: 2, compiled: 2 });
      const first = await call(proxy.port, '/', at(0));
      const pair = cookiePair(first) ?? '';
      expect(pair).not.toBe('');
      const slow = call(proxy.port, '/?delay=600', at(0));
      await new Promise((r) => setTimeout(r, 150));

      proxy.swap(tableOf('v2', [kept, other([a, c])]));
      expect(proxy.tableSets).toEqual({ total: 2, compiled: 1 });
      const again = await call(proxy.port, '/', at(0, pair));
      expect(again.endpoint).toBe(first.endpoint);
      expect(again.setCookies).toEqual([]);
      // The request in flight still counts on the kept set: a new client goes elsewhere.
      const fresh = await call(proxy.port, '/', at(0));
      const busy = (await slow).endpoint;
      expect([a.name, b.name]).toContain(busy);
      expect([a.name, b.name]).toContain(fresh.endpoint);
      expect(fresh.endpoint).not.toBe(busy);
      // The changed set serves its new endpoints.
      const seen = new Set<string | undefined>();
      for (let i = 0; i < 4; i++) seen.add((await call(proxy.port, '/', at(1))).endpoint);
      expect(seen).toEqual(new Set([a.name, c.name]));
    } finally {
      await proxy.stop();
    }
  });

  it('compiles a changed set object again and keeps its sessions (same id)', async () => {
    const [a, b, c] = echoes as [EchoServer, EchoServer, EchoServer];
    const before = backendSet([backend([a, b])], { id: 'web', policy: cookiePolicy() });
    const proxy = await startProxy(tableOf('v1', [before]));
    try {
      const first = await call(proxy.port, '/', at(0));
      const pair = cookiePair(first) ?? '';
      const after = backendSet([backend([c, b, a])], { id: 'web', policy: cookiePolicy() });
      proxy.swap(tableOf('v2', [after]));
      expect(proxy.tableSets).toEqual({ total: 1, compiled: 1 });
      for (let i = 0; i < 3; i++) {
        const r = await call(proxy.port, '/', at(0, pair));
        expect(r.endpoint).toBe(first.endpoint);
        expect(r.setCookies).toEqual([]);
      }
    } finally {
      await proxy.stop();
    }
  });

  it('refuses the whole table when a new set is invalid, naming every problem; the old table serves on', async () => {
    const [a, b] = echoes as [EchoServer, EchoServer];
    const kept = backendSet([backend([a])], { id: 'kept' });
    const proxy = await startProxy(tableOf('v1', [kept]));
    try {
      const noBackends = backendSet([], { id: 'empty' });
      const badEndpoint = backendSet(
        [backend([b], { endpoints: [{ address: b.host, port: 0, ready: true }] })],
        { id: 'port' },
      );
      let problems: readonly string[] = [];
      try {
        proxy.swap(tableOf('v2', [kept, noBackends, badEndpoint]));
      } catch (err) {
        expect(err).toBeInstanceOf(RouteTableError);
        problems = (err as RouteTableError).problems;
      }
      expect(problems).toEqual([
        'listeners[0].hosts[1].paths[0].backendSet.backends: needs at least one backend',
        'listeners[0].hosts[2].paths[0].backendSet.backends[0].endpoints[0].port: must be an integer 1..65535',
      ]);
      expect(proxy.table?.version).toBe('v1');
      expect(proxy.tableSets).toEqual({ total: 1, compiled: 1 });
      expect((await call(proxy.port, '/', at(0))).endpoint).toBe(a.name);
      expect((await call(proxy.port, '/', at(1))).status).toBe(404);
    } finally {
      await proxy.stop();
    }
  });

  it('remembers source addresses across swaps that replace the set object', async () => {
    const [a, b, c] = echoes as [EchoServer, EchoServer, EchoServer];
    const policy = {
      mode: 'sourceIp' as const,
      sourceIp: { timeoutSeconds: 60 },
      rebalance: 'persistent' as const,
      onFailure: 'rebalance' as const,
    };
    const proxy = await startProxy(
      tableOf('v1', [backendSet([backend([a, b, c])], { id: 'ip', policy })]),
    );
    try {
      const first = (await call(proxy.port, '/', at(0))).endpoint;
      for (let v = 2; v < 5; v++) {
        proxy.swap(tableOf(`v${v}`, [backendSet([backend([c, b, a])], { id: 'ip', policy })]));
        expect((await call(proxy.port, '/', at(0))).endpoint).toBe(first);
      }
    } finally {
      await proxy.stop();
    }
  });

  it('checks, indexes and matches again only the hosts a table replaced; sessions on kept hosts carry on', async () => {
    const [a, b, c] = echoes as [EchoServer, EchoServer, EchoServer];
    const sets = [0, 1, 2, 3].map((i) =>
      backendSet([backend([a, b])], { id: `set-${i}`, policy: cookiePolicy() }),
    );
    const first = tableOf('v1', sets);
    const proxy = await startProxy(first);
    try {
      const pinned = await call(proxy.port, '/', at(0));
      const pair = cookiePair(pinned) ?? '';
      expect(pair).not.toBe('');
      expect(proxy.swapWork).toMatchObject({ checkedHosts: 4, indexedHosts: 4, byChanges: false });

      // The controller's way: a new listener and host where a set changed, the rest the same objects.
      const changed = backendSet([backend([c])], { id: 'set-2', policy: cookiePolicy() });
      const [listener] = first.listeners;
      if (!listener) throw new Error('no listener');
      const hosts = listener.hosts.slice();
      const old = hosts[2];
      if (!old) throw new Error('no host');
      hosts[2] = {
        ...old,
        paths: [{ ...old.paths[0], path: '/', pathType: 'Prefix', backendSet: changed }],
      };
      proxy.swap({ version: 'v2', listeners: [{ ...listener, hosts }] });
      expect(proxy.swapWork).toEqual({
        checkedHosts: 1,
        indexedHosts: 1,
        matcherHosts: 1, // the matcher served a request before: patched at swap time
        byChanges: true,
      });
      expect(proxy.tableSets).toEqual({ total: 4, compiled: 1 });
      expect((await call(proxy.port, '/', at(2))).endpoint).toBe(c.name);
      const again = await call(proxy.port, '/', at(0, pair));
      expect(again.endpoint).toBe(pinned.endpoint);
      expect(again.setCookies).toEqual([]);

      // A replaced host that collides with kept ones is refused with every problem; v2 serves on.
      const current = proxy.table;
      const [l2] = current?.listeners ?? [];
      if (!current || !l2) throw new Error('no table');
      const bad = l2.hosts.slice();
      bad[3] = {
        host: 'S0.example',
        paths: [{ path: 'x', pathType: 'Prefix', backendSet: backendSet([], { id: 'set-1' }) }],
      };
      let problems: readonly string[] = [];
      try {
        proxy.swap({ version: 'v3', listeners: [{ ...l2, hosts: bad }] });
      } catch (err) {
        expect(err).toBeInstanceOf(RouteTableError);
        problems = (err as RouteTableError).problems;
      }
      expect(problems).toEqual([
        'listeners[0].hosts[3].paths[0].path: must start with /',
        'listeners[0].hosts[3].paths[0].backendSet.backends: needs at least one backend',
        'listeners[0].hosts[3].host: S0.example is listed twice',
        'listeners[0].hosts[3].paths[0].backendSet.id: "set-1" names two different backend sets',
      ]);
      expect(proxy.table?.version).toBe('v2');
      expect((await call(proxy.port, '/', at(3))).status).toBe(200);
      expect((await call(proxy.port, '/', at(2))).endpoint).toBe(c.name);
    } finally {
      await proxy.stop();
    }
  });
});
