import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdmin, isLoopback } from './admin';
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

describe('the admin listener', () => {
  let server: Server;
  let port = 0;

  beforeAll(async () => {
    server = createAdmin(new ProxyMetrics(false), {
      ready: () => true,
      tableVersion: () => '7',
      api: { '/api/things': () => ({ things: [1, 2] }) },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
        .on('error', reject)
        .end();
    });

  it('answers the JSON routes to a caller on this host', async () => {
    expect(await get('/api/things')).toEqual({ status: 200, body: '{"things":[1,2]}' });
    expect((await get('/readyz')).body).toContain('"table":"7"');
    expect((await get('/api/other')).status).toBe(404);
  });
});
