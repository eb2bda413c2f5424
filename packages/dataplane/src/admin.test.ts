import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdmin, createApi, isLoopback } from './admin';
import { ProxyMetrics } from './metrics';

describe('isLoopback', () => {
  it.each<[string | undefined, boolean]>([
    ['127.0.0.1', true],
    ['127.10.20.30', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['::FFFF:127.0.0.1', true],
    ['10.0.0.1', false],
    ['192.0.2.2', false],
    ['::ffff:10.0.0.1', false],
    ['fd00::2', false],
    ['1270.0.0.1', false],
    ['127.0.0.1.example', false],
    ['', false],
    [undefined, false],
  ])('%p → %p', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe('the admin and API listeners', () => {
  let admin: Server;
  let api: Server;
  let adminPort = 0;
  let apiPort = 0;

  beforeAll(async () => {
    admin = createAdmin(new ProxyMetrics(false), { ready: () => true, tableVersion: () => '7' });
    api = createApi({ '/api/things': () => ({ things: [1, 2] }) });
    await Promise.all(
      [admin, api].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))),
    );
    adminPort = (admin.address() as AddressInfo).port;
    apiPort = (api.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all([admin, api].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const get = (port: number, path: string, headers: Record<string, string> = {}) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path, headers }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });

  it('health and readiness on the admin listener, which has no JSON API', async () => {
    expect((await get(adminPort, '/readyz')).body).toContain('"table":"7"');
    expect((await get(adminPort, '/api/things')).status).toBe(404);
  });

  it('answers the JSON routes to a caller on this host', async () => {
    expect(await get(apiPort, '/api/things')).toEqual({ status: 200, body: '{"things":[1,2]}' });
    expect((await get(apiPort, '/api/other')).status).toBe(404);
    expect((await get(apiPort, '/healthz')).status).toBe(404);
  });

  it.each(['Forwarded', 'X-Forwarded-For', 'X-Forwarded-Host', 'X-Real-IP', 'Via'])(
    'refuses a request passed on by a proxy (%s)',
    async (header) => {
      const r = await get(apiPort, '/api/things', { [header]: '203.0.113.9' });
      expect(r.status).toBe(403);
      expect(r.body).not.toContain('things');
    },
  );
});
