import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEchoes, type EchoServer } from '@tether/testkit';
import { backend, backendSet, call, cookiePair, simpleTable, spread, startProxy } from './support';
import type { Proxy } from '@tether/dataplane';

describe('smoke', () => {
  let echoes: EchoServer[];
  let proxy: Proxy & { port: number };
  beforeAll(async () => {
    echoes = await startEchoes(3);
    proxy = await startProxy(simpleTable(backendSet([backend(echoes)])));
  });
  afterAll(async () => {
    await proxy.stop();
    await Promise.all(echoes.map((e) => e.close()));
  });
  it('spreads and sticks', async () => {
    const counts = await spread(proxy.port, 6);
    expect(counts.size).toBe(3);
    const first = await call(proxy.port);
    const pair = cookiePair(first);
    expect(pair).toBeDefined();
    for (let i = 0; i < 5; i++) {
      const r = await call(proxy.port, '/', { headers: { cookie: pair ?? '' } });
      expect(r.endpoint).toBe(first.endpoint);
      expect(r.setCookies).toEqual([]);
    }
  });
});
