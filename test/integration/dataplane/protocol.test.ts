/**
 * HTTP hygiene and bad input: limits, timeouts, hop-by-hop and forwarding headers, HTTPS,
 * streamed bodies, garbage on the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { Proxy } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  cookiePair,
  cookiePolicy,
  rawExchange,
  simpleTable,
  startProxy,
} from './support';

let echoes: EchoServer[];
let proxy: Proxy & { port: number };
let httpsPort = 0;
let pem: PemPair;

beforeAll(async () => {
  pem = selfSignedCertificate('localhost');
  echoes = await startEchoes(2);
  proxy = await startProxy(
    simpleTable(backendSet([backend(echoes)], { policy: cookiePolicy({}, { secure: 'https' }) })),
    {
      https: {
        port: 0,
        ...pem,
      },
      limits: {
        upstreamHeadersTimeoutMs: 400,
        headersTimeoutMs: 500,
        requestTimeoutMs: 2000,
        keepAliveTimeoutMs: 1000,
      },
    },
  );
  httpsPort = proxy.addresses.https?.port ?? 0;
});
afterAll(async () => {
  await proxy.stop();
  await Promise.all(echoes.map((e) => e.close()));
});

describe('limits and timeouts', () => {
  it('431 for oversized headers, 414 for an oversized URL', async () => {
    expect((await call(proxy.port, '/', { headers: { 'x-big': 'a'.repeat(20000) } })).status).toBe(
      431,
    );
    expect((await call(proxy.port, `/${'a'.repeat(9000)}`)).status).toBe(414);
    expect((await call(proxy.port, '/ok')).status).toBe(200);
  });

  it('504 when the upstream hangs', async () => {
    const r = await call(proxy.port, '/?hang=1');
    expect(r.status).toBe(504);
  });

  it('a client that never finishes its headers is cut off', async () => {
    const started = Date.now();
    const out = await rawExchange(proxy.port, 'GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ');
    expect(out === '' || out.startsWith('HTTP/1.1 408')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2900);
  });

  it.each([
    ['garbage', 'NOT HTTP AT ALL\r\n\r\n'],
    ['bad header', 'GET / HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n'],
    [
      'smuggling',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['bad target', 'GET http//x HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['null byte', 'GET /\u0000 HTTP/1.1\r\nHost: a\r\n\r\n'],
  ])('answers %s with 400 and keeps running', async (_name, text) => {
    const out = await rawExchange(proxy.port, text);
    expect(out).toMatch(/^HTTP\/1\.1 400/);
    expect((await call(proxy.port)).status).toBe(200);
  });
});

describe('hostile input', () => {
  it('survives random bytes and random request heads', async () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const pieces = [
      'GET ',
      'POST ',
      '/',
      '?',
      'a=1',
      ' HTTP/1.1',
      '\r\n',
      'Host: x',
      'Cookie: ',
      'STICKY=',
      'Content-Length: ',
      '99999999999',
      'Transfer-Encoding: chunked',
      ': ',
      '\u0000',
      '\u00ff',
      '\r',
      '\n',
      'Upgrade: websocket',
      'Connection: upgrade',
      'X-Forwarded-For: ',
      '%',
      '\t',
    ];
    const payloads: string[] = [];
    for (let i = 0; i < 120; i++) {
      let text = '';
      const parts = 1 + rand(30);
      for (let j = 0; j < parts; j++)
        text +=
          rand(4) === 0 ? String.fromCharCode(rand(256)) : (pieces[rand(pieces.length)] ?? '');
      payloads.push(text);
    }
    for (let i = 0; i < payloads.length; i += 20) {
      await Promise.all(payloads.slice(i, i + 20).map((p) => rawExchange(proxy.port, p)));
    }
    const cookies = [
      'STICKY=' + '\u00e9'.repeat(50),
      'STICKY',
      '=;=;=',
      'STICKY=a; STICKY=b',
      ';'.repeat(1000),
    ];
    for (const cookie of cookies)
      expect((await call(proxy.port, '/', { headers: { cookie } })).status).toBe(200);
    expect((await call(proxy.port)).status).toBe(200);
  }, 30_000);
});

describe('headers', () => {
  it('strips hop-by-hop headers and those the Connection header names; sets forwarding headers', async () => {
    const r = await call(proxy.port, '/', {
      headers: {
        host: 'shop.example.com:8080',
        connection: 'keep-alive, x-private',
        'x-private': 'secret',
        'keep-alive': 'timeout=9',
        te: 'trailers',
        'proxy-authorization': 'Basic x',
        'x-forwarded-for': '203.0.113.9',
        'x-forwarded-proto': 'https',
        'x-kept': 'yes',
      },
    });
    const seen = (JSON.parse(r.body) as { headers: Record<string, string> }).headers;
    for (const h of ['x-private', 'keep-alive', 'te', 'proxy-authorization'])
      expect(seen[h]).toBeUndefined();
    expect(seen['x-kept']).toBe('yes');
    expect(seen['host']).toBe('shop.example.com:8080');
    expect(seen['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('shop.example.com:8080');
    expect(seen['forwarded']).toBe('for=127.0.0.1;proto=http;host="shop.example.com:8080"');
    // The backend's own keep-alive hint (60 s) does not leak through; the proxy states its own.
    expect(r.headers['keep-alive']).toBe('timeout=1');
  });
});

describe('HTTPS listener', () => {
  it('terminates TLS; Secure appears only on HTTPS; X-Forwarded-Proto says https', async () => {
    const secure = await call(httpsPort, '/', { https: true });
    expect(secure.status).toBe(200);
    expect(secure.setCookies[0]).toMatch(/; Secure; HttpOnly$/);
    expect(
      (JSON.parse(secure.body) as { headers: Record<string, string> }).headers['x-forwarded-proto'],
    ).toBe('https');
    const plain = await call(proxy.port);
    expect(plain.setCookies[0]).not.toContain('Secure');
    // A cookie issued over HTTPS is honoured over HTTP too (same backend set).
    expect(
      (await call(proxy.port, '/', { headers: { cookie: cookiePair(secure) ?? '' } })).endpoint,
    ).toBe(secure.endpoint);
  });
});

describe('ssl redirect', () => {
  it('sends plain-HTTP requests of a set with sslRedirect to the HTTPS listener', async () => {
    const redirecting = await startProxy(
      simpleTable(backendSet([backend(echoes)], { route: { sslRedirect: true } })),
      {
        https: {
          port: 0,
          ...pem,
        },
      },
    );
    try {
      const r = await call(redirecting.port, '/a?b=1', { headers: { host: 'shop.example.com' } });
      expect(r.status).toBe(308);
      expect(r.headers.location).toBe(
        `https://shop.example.com:${redirecting.addresses.https?.port}/a?b=1`,
      );
      expect(
        (await call(redirecting.addresses.https?.port ?? 0, '/', { https: true })).status,
      ).toBe(200);
    } finally {
      await redirecting.stop();
    }
  });
});

describe('bodies', () => {
  it('streams a large upload without holding it in memory', async () => {
    const total = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 97);
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: proxy.port, method: 'POST', path: '/upload', agent: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      Readable.from(
        (function* () {
          while (sent < total) {
            sent += chunk.length;
            peak = Math.max(peak, process.memoryUsage().rss);
            yield chunk;
          }
        })(),
      ).pipe(req);
    });
    expect(reply.status).toBe(200);
    expect((JSON.parse(reply.body) as { bodyBytes: number }).bodyBytes).toBe(total);
    expect(peak - rssBefore).toBeLessThan(96 * 1024 * 1024);
  });
});
