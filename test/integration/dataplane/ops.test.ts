/**
 * Operations: admin endpoints, atomic table swaps, refused tables, graceful stop, logs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { startEchoes, type EchoServer } from '@tether/echo';
import { createLogger, RouteTableError, type Proxy, type RouteTable } from '@tether/dataplane';
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

beforeAll(async () => {
  echoes = await startEchoes(4);
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

const tableFor = (servers: EchoServer[], version: string): RouteTable =>
  simpleTable(backendSet([backend(servers)], { policy: cookiePolicy() }), version);

describe('admin listener', () => {
  it('healthz always; readyz once a table is loaded; metrics without cookie values', async () => {
    const proxy = await startProxy(undefined, { admin: { port: 0 } });
    try {
      const admin = proxy.addresses.admin?.port ?? 0;
      expect((await call(admin, '/healthz')).status).toBe(200);
      expect((await call(admin, '/readyz')).status).toBe(503);
      expect((await call(proxy.port)).status).toBe(503);
      proxy.swap(tableFor(echoes.slice(0, 2), 'v1'));
      const ready = await call(admin, '/readyz');
      expect(ready.status).toBe(200);
      expect(JSON.parse(ready.body)).toEqual({ status: 'ready', table: 'v1' });
      const first = await call(proxy.port);
      const pair = cookiePair(first) ?? '';
      await call(proxy.port, '/', { headers: { cookie: pair } });
      const metrics = (await call(admin, '/metrics')).body;
      expect(metrics).toContain(
        'tether_requests_total{backend_set="Ingress/default/web#rules[0].paths[0]",code="200"} 2',
      );
      expect(metrics).toContain(
        'tether_sessions_total{backend_set="Ingress/default/web#rules[0].paths[0]",event="created"} 1',
      );
      expect(metrics).toContain('tether_upstream_latency_seconds_bucket');
      expect(metrics).not.toContain(pair.split('=')[1] ?? 'none');
    } finally {
      await proxy.stop();
    }
  });
});

describe('table swaps', () => {
  it('a request finishes on the table it started with; the next one sees the new table', async () => {
    const [a, b] = echoes as [EchoServer, EchoServer];
    const proxy = await startProxy(tableFor([a], 'v1'));
    try {
      const slow = call(proxy.port, '/?delay=400');
      await new Promise((r) => setTimeout(r, 100));
      proxy.swap(tableFor([b], 'v2'));
      expect((await call(proxy.port)).endpoint).toBe(b.name);
      expect((await slow).endpoint).toBe(a.name);
    } finally {
      await proxy.stop();
    }
  });

  it('an invalid table is refused with its problems and the old one stays in force', async () => {
    const [a] = echoes as [EchoServer];
    const proxy = await startProxy(tableFor([a], 'v1'));
    try {
      const bad = {
        version: 'v2',
        listeners: [{ protocol: 'HTTP', hosts: [{ host: 'bad host', paths: [] }] }],
      } as unknown as RouteTable;
      expect(() => proxy.swap(bad)).toThrow(RouteTableError);
      expect(proxy.table?.version).toBe('v1');
      expect((await call(proxy.port)).endpoint).toBe(a.name);
    } finally {
      await proxy.stop();
    }
  });

  it('routes by host and path through the table', async () => {
    const [a, b, c, d] = echoes as [EchoServer, EchoServer, EchoServer, EchoServer];
    const set = (e: EchoServer, id: string) =>
      backendSet([backend([e], {}, id)], {
        id,
        policy: { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
      });
    const proxy = await startProxy({
      version: 'hosts',
      listeners: [
        {
          protocol: 'HTTP',
          hosts: [
            {
              host: 'shop.example.com',
              paths: [
                { path: '/', pathType: 'Prefix', backendSet: set(a, 'a') },
                { path: '/api', pathType: 'Prefix', backendSet: set(b, 'b') },
              ],
            },
            {
              host: '*.example.com',
              paths: [{ path: '/', pathType: 'Prefix', backendSet: set(c, 'c') }],
            },
            { host: '*', paths: [{ path: '/exact', pathType: 'Exact', backendSet: set(d, 'd') }] },
          ],
        },
      ],
    });
    try {
      const at = async (host: string, path: string) =>
        (await call(proxy.port, path, { headers: { host } })).endpoint ?? 'none';
      expect(await at('shop.example.com', '/')).toBe(a.name);
      expect(await at('SHOP.example.com:80', '/api/v1')).toBe(b.name);
      expect(await at('blog.example.com', '/x')).toBe(c.name);
      expect(await at('other.org', '/exact')).toBe(d.name);
      expect(await at('other.org', '/exact/no')).toBe('none');
      expect((await call(proxy.port, '/', { headers: { host: 'other.org' } })).status).toBe(404);
    } finally {
      await proxy.stop();
    }
  });
});

describe('upstream connections', () => {
  it('queues requests beyond the per-origin connection limit and serves them all', async () => {
    const [a] = echoes as [EchoServer];
    const proxy = await startProxy(tableFor([a], 'v1'), { limits: { upstreamConnections: 1 } });
    try {
      const replies = await Promise.all(
        Array.from({ length: 5 }, () => call(proxy.port, '/?delay=50')),
      );
      expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    } finally {
      await proxy.stop();
    }
  });
});

describe('logs', () => {
  it('never contain cookie values', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const [a, b] = echoes as [EchoServer, EchoServer];
    const proxy: Proxy = await startProxy(tableFor([a, b], 'v1'), {
      logger: createLogger('debug', sink),
    });
    try {
      const port = proxy.addresses.http?.port ?? 0;
      const first = await call(port);
      const pair = cookiePair(first) ?? '';
      const pinned = first.endpoint === a.name ? a : b;
      await pinned.refuse();
      await call(port, '/', { headers: { cookie: `${pair}; secret=hunter2` } });
      await pinned.accept();
      const text = lines.join('');
      expect(text).toContain('upstream request failed');
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain(pair.split('=')[1] ?? 'none');
    } finally {
      await proxy.stop();
    }
  });
});
