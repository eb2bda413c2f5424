/**
 * Proxies as separate processes: two replicas sharing a cookie key, and graceful shutdown on
 * SIGTERM.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { RouteTable } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  cookiePair,
  cookiePolicy,
  KEY,
  simpleTable,
  startProxyProcess,
} from './support';

let echoes: EchoServer[];
const children: ChildProcess[] = [];

async function startProcess(
  table: RouteTable,
  key = KEY,
): Promise<{ child: ChildProcess; port: number }> {
  const started = await startProxyProcess(table, { key });
  children.push(started.child);
  return started;
}

beforeAll(async () => {
  echoes = await startEchoes(3);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code)),
  );
}

describe('proxy processes', () => {
  it('two processes with the same key route every cookie identically; another key does not', async () => {
    const table = simpleTable(backendSet([backend(echoes)], { policy: cookiePolicy() }));
    const [a, b, other] = await Promise.all([
      startProcess(table),
      startProcess(table),
      startProcess(table, Buffer.alloc(32, 1)),
    ]);
    for (let i = 0; i < 9; i++) {
      const first = await call(a.port);
      const pair = cookiePair(first) ?? '';
      const r = await call(b.port, '/', { headers: { cookie: pair } });
      expect(r.endpoint).toBe(first.endpoint);
      expect(r.setCookies).toEqual([]);
      expect(cookiePair(await call(other.port, '/', { headers: { cookie: pair } }))).toBeDefined();
    }
  }, 30_000);

  it('SIGTERM: finishes the request in flight, then exits 0 and accepts no more', async () => {
    const { child, port } = await startProcess(
      simpleTable(backendSet([backend(echoes)], { policy: cookiePolicy() })),
    );
    const slow = call(port, '/?delay=600');
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(await exited(child)).toBe(0);
    await expect(call(port)).rejects.toThrow();
  }, 30_000);
});
