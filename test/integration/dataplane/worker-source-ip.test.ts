/**
 * Proxy workers each keep their own source-IP session table, and a client's connections reach
 * any of them: with `worker: true` a new source-IP session is placed by the client address, so
 * two workers that never saw each other's traffic send every client to the same endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { Proxy } from '@tether/dataplane';
import { backend, backendSet, simpleTable, startProxy } from './support';

let echoes: EchoServer[];
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  echoes = await startEchoes(3);
});
afterAll(async () => {
  for (const stop of stops) await stop();
  await Promise.all(echoes.map((e) => e.close()));
});

/** The endpoint that answers a request from `localAddress` (any 127.0.0.0/8 address). */
function from(port: number, localAddress: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-endpoint'])));
    });
    req.on('error', reject);
    req.end();
  });
}

async function worker(worker: boolean): Promise<Proxy & { port: number }> {
  const table = simpleTable(
    backendSet([backend(echoes)], {
      policy: { mode: 'sourceIp', rebalance: 'persistent', onFailure: 'rebalance' },
    }),
  );
  const p = await startProxy(table, { worker });
  stops.push(() => p.stop());
  return p;
}

const clients = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7'];

describe('source-IP sessions across proxy workers', () => {
  it.each([
    [true, 'agree'],
    [false, 'disagree for some clients'],
  ])('worker %s: two proxies seeing clients in opposite orders %s', async (isWorker, _what) => {
    const [a, b] = [await worker(isWorker), await worker(isWorker)];
    const onA = new Map<string, string>();
    for (const c of clients) onA.set(c, await from(a.port, c));
    const onB = new Map<string, string>();
    for (const c of [...clients].reverse()) onB.set(c, await from(b.port, c));
    const same = clients.every((c) => onA.get(c) === onB.get(c));
    expect(same).toBe(isWorker);
    // Either way each proxy keeps a client on its endpoint.
    for (const c of clients) expect(await from(a.port, c)).toBe(onA.get(c));
  });
});
