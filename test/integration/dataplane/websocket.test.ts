/**
 * WebSocket upgrades follow the same stickiness as plain requests.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { Proxy } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  cookiePair,
  cookiePolicy,
  simpleTable,
  startProxy,
} from './support';

let echoes: EchoServer[];
let proxy: Proxy & { port: number };
const sockets: WebSocket[] = [];

beforeAll(async () => {
  echoes = await startEchoes(3);
  proxy = await startProxy(simpleTable(backendSet([backend(echoes)], { policy: cookiePolicy() })));
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.terminate();
});
afterAll(async () => {
  await proxy.stop();
  await Promise.all(echoes.map((e) => e.close()));
});

interface Opened {
  ws: WebSocket;
  hello: { endpoint: string; cookie: string | null };
  setCookie: string[];
}

function open(headers: Record<string, string> = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.port}/socket.io/?transport=websocket`, {
      headers,
    });
    sockets.push(ws);
    let setCookie: string[] = [];
    ws.on('upgrade', (res) => {
      setCookie = res.headers['set-cookie'] ?? [];
    });
    ws.once('message', (data: Buffer) =>
      resolve({ ws, hello: JSON.parse(data.toString()) as Opened['hello'], setCookie }),
    );
    ws.once('error', reject);
  });
}

function roundTrip(ws: WebSocket, text: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (data: Buffer) => resolve(data.toString()));
    ws.send(text);
  });
}

describe('WebSocket', () => {
  it('a socket opened with the session cookie reaches the pinned endpoint, and the cookie never reaches it', async () => {
    const first = await call(proxy.port, '/socket.io/?transport=polling');
    const pair = cookiePair(first) ?? '';
    for (let i = 0; i < 4; i++) {
      const o = await open({ cookie: `${pair}; io=abc` });
      expect(o.hello.endpoint).toBe(first.endpoint);
      expect(o.hello.cookie).toBe('io=abc');
      expect(o.setCookie).toEqual([]);
      expect(await roundTrip(o.ws, 'ping')).toBe(`${first.endpoint}:ping`);
    }
  });

  it('a socket opened without a cookie gets one in the handshake, and later requests follow it', async () => {
    const o = await open();
    const pair = o.setCookie[0]?.split(';')[0] ?? '';
    expect(pair).toMatch(/^STICKY=/);
    for (let i = 0; i < 4; i++)
      expect((await call(proxy.port, '/', { headers: { cookie: pair } })).endpoint).toBe(
        o.hello.endpoint,
      );
  });

  it('a socket whose endpoint refuses is moved elsewhere under rebalance', async () => {
    const first = await call(proxy.port);
    const pair = cookiePair(first) ?? '';
    const pinned = echoes.find((e) => e.name === first.endpoint);
    await pinned?.refuse();
    try {
      const o = await open({ cookie: pair });
      expect(o.hello.endpoint).not.toBe(first.endpoint);
      expect(o.setCookie[0]).toMatch(/^STICKY=/);
    } finally {
      await pinned?.accept();
    }
  });
});
