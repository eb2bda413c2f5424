/**
 * Load balancing of requests that no session pins.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startEcho, startEchoes, type EchoServer } from '@tether/echo';
import type { LoadBalancing, PersistencePolicy } from '@tether/model';
import type { Proxy, WeightedBackend } from '@tether/dataplane';
import { backend, backendSet, call, endpointOf, simpleTable, spread, startProxy } from './support';

const none: PersistencePolicy = { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' };
let echoes: EchoServer[];
const proxies: Proxy[] = [];

beforeAll(async () => {
  echoes = await startEchoes(3);
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

async function proxyWith(
  loadBalancing: LoadBalancing,
  backends: WeightedBackend[] = [backend(echoes)],
): Promise<Proxy & { port: number }> {
  const p = await startProxy(simpleTable(backendSet(backends, { policy: none, loadBalancing })));
  proxies.push(p);
  return p;
}

describe('load balancing', () => {
  it('round robin spreads evenly and honours endpoint weights', async () => {
    const even = await proxyWith({ algorithm: 'roundRobin' });
    expect([...(await spread(even.port, 9)).values()]).toEqual([3, 3, 3]);
    const [a, b, c] = echoes as [EchoServer, EchoServer, EchoServer];
    const weighted = await proxyWith({ algorithm: 'roundRobin' }, [
      backend([], { endpoints: [endpointOf(a, { weight: 2 }), endpointOf(b), endpointOf(c)] }),
    ]);
    const counts = await spread(weighted.port, 8);
    expect(counts.get(a.name)).toBe(4);
    expect(counts.get(b.name)).toBe(2);
  });

  it('least connections sends new requests to the endpoint with fewest in flight', async () => {
    const p = await proxyWith({ algorithm: 'leastConnections' });
    const slow = [call(p.port, '/?delay=700'), call(p.port, '/?delay=700')];
    await new Promise((r) => setTimeout(r, 150));
    const counts = await spread(p.port, 4);
    const replies = await Promise.all(slow);
    const busy = new Set(replies.map((r) => r.endpoint));
    expect(busy.size).toBe(2);
    expect(counts.size).toBe(1);
    expect(busy.has([...counts.keys()][0])).toBe(false);
  });

  it('random reaches every endpoint', async () => {
    const p = await proxyWith({ algorithm: 'random' });
    expect((await spread(p.port, 45)).size).toBe(3);
  });

  it('EWMA moves load away from a slow endpoint', async () => {
    const slow = await startEcho({ name: 'slow', delayMs: 60 });
    try {
      const [a, b] = echoes as [EchoServer, EchoServer];
      const p = await proxyWith({ algorithm: 'ewma' }, [backend([slow, a, b])]);
      const counts = await spread(p.port, 60);
      expect(counts.get('slow') ?? 0).toBeLessThan(12);
    } finally {
      await slow.close();
    }
  });

  it('source-IP hash keeps one client on one endpoint', async () => {
    const p = await proxyWith({ algorithm: 'sourceIpHash' });
    expect((await spread(p.port, 10)).size).toBe(1);
  });

  it('consistent hash on a request value: one value, one endpoint; many values, many endpoints', async () => {
    const p = await proxyWith({ algorithm: 'hash', hashKey: '$http_x_user' });
    const placement = new Map<string, string | undefined>();
    for (let u = 0; u < 30; u++) {
      const user = `user-${u}`;
      const r = await call(p.port, '/', { headers: { 'x-user': user } });
      placement.set(user, r.endpoint);
      expect((await call(p.port, '/', { headers: { 'x-user': user } })).endpoint).toBe(r.endpoint);
    }
    expect(new Set(placement.values()).size).toBe(3);
    // Scale from 3 to 4 endpoints: about a quarter of the users move, all to the new one.
    const extra = await startEcho({ name: 'extra' });
    try {
      p.swap(
        simpleTable(
          backendSet([backend([...echoes, extra])], {
            policy: none,
            loadBalancing: { algorithm: 'hash', hashKey: '$http_x_user' },
          }),
          '2',
        ),
      );
      let moved = 0;
      for (const [user, before] of placement) {
        const now = (await call(p.port, '/', { headers: { 'x-user': user } })).endpoint;
        if (now !== before) {
          moved++;
          expect(now).toBe('extra');
        }
      }
      expect(moved).toBeGreaterThan(1);
      expect(moved).toBeLessThan(16);
    } finally {
      await extra.close();
    }
  });

  it('splits new requests between backends by weight', async () => {
    const [a, b] = echoes as [EchoServer, EchoServer];
    const p = await proxyWith({ algorithm: 'roundRobin' }, [
      backend([a], { weight: 3 }, 'v1'),
      backend([b], { weight: 1 }, 'v2'),
    ]);
    const counts = await spread(p.port, 80);
    expect(counts.get(a.name) ?? 0).toBeGreaterThan(45);
    expect(counts.get(b.name) ?? 0).toBeGreaterThan(8);
  });
});
