/**
 * HTTP/2 from clients: ALPN h2 on the HTTPS listener and h2c with prior knowledge on the plain
 * one when asked, through real clients (Node's http2, curl), with the same routing, cookies and
 * stickiness as HTTP/1.1; the stream limit, header limits, the rapid-reset cut-off and GOAWAY
 * on stop.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import {
  connect,
  constants,
  type ClientHttp2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { startEchoes, type EchoServer } from '@tether/echo';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import type { Proxy } from '@tether/dataplane';
import { backend, backendSet, call, simpleTable, startProxy } from './support';

const run = promisify(execFile);

let echoes: EchoServer[];
let pem: PemPair;
let proxy: Proxy & { port: number };
let httpsPort = 0;

interface H2Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request on `session`. */
function request(
  session: ClientHttp2Session,
  path: string,
  headers: OutgoingHttpHeaders = {},
  body?: string,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ':path': path, ...headers },
      { endStream: body === undefined },
    );
    let status = 0;
    let head: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => {
      status = Number(h[':status']);
      head = h;
    });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () =>
      resolve({ status, headers: head, body: Buffer.concat(chunks).toString() }),
    );
    stream.on('error', reject);
    if (body !== undefined) {
      // Two DATA frames and no Content-Length: a body whose length the proxy learns at its end.
      stream.write(body.slice(0, 3));
      setTimeout(() => stream.end(body.slice(3)), 20);
    }
  });
}

function h2(port: number, secure = true): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(
      `${secure ? 'https' : 'http'}://127.0.0.1:${port}`,
      { rejectUnauthorized: false },
      () => resolve(session),
    );
    session.on('error', reject);
  });
}

function cookieOf(reply: H2Reply): string | undefined {
  const set = reply.headers['set-cookie'];
  return (Array.isArray(set) ? set : []).find((c) => c.startsWith('STICKY='))?.split(';')[0];
}

beforeAll(async () => {
  pem = selfSignedCertificate('default.test');
  echoes = await startEchoes(3);
  proxy = await startProxy(simpleTable(backendSet([backend(echoes)])), {
    https: { port: 0, ...pem },
  });
  httpsPort = proxy.addresses.https?.port ?? 0;
});
afterAll(async () => {
  await proxy.stop();
  await Promise.all(echoes.map((e) => e.close()));
});

describe('HTTP/2 over TLS', () => {
  it('offers h2 and http/1.1 by ALPN', async () => {
    const chosen = (protocols: string[]): Promise<string | false> =>
      new Promise((resolve, reject) => {
        const socket = tlsConnect(
          {
            host: '127.0.0.1',
            port: httpsPort,
            rejectUnauthorized: false,
            ALPNProtocols: protocols,
          },
          () => {
            resolve(socket.alpnProtocol ?? false);
            socket.destroy();
          },
        );
        socket.on('error', reject);
      });
    expect(await chosen(['h2', 'http/1.1'])).toBe('h2');
    expect(await chosen(['http/1.1'])).toBe('http/1.1');
    // HTTP/1.1 clients keep working on the same listener.
    expect((await call(httpsPort, '/', { https: true })).status).toBe(200);
  });

  it('routes, sets the session cookie, and keeps a session on its endpoint', async () => {
    const session = await h2(httpsPort);
    try {
      const first = await request(session, '/cart');
      expect(first.status).toBe(200);
      const cookie = cookieOf(first);
      expect(cookie).toMatch(/^STICKY=/);
      const pinned = first.headers['x-endpoint'];
      const seen = new Set<unknown>();
      for (let i = 0; i < 12; i++) {
        // HTTP/2 clients may send each cookie as its own field (RFC 9113 §8.2.3).
        const r = await request(session, '/cart', { cookie: [cookie ?? '', 'other=1'] });
        seen.add(r.headers['x-endpoint']);
        expect(r.headers['set-cookie']).toBeUndefined();
        const echoed = JSON.parse(r.body) as { headers: Record<string, string> };
        // The proxy's own cookie stops at the proxy; the app's goes on, and the forwarding
        // headers say what the client used.
        expect(echoed.headers.cookie).toBe('other=1');
        expect(echoed.headers['x-forwarded-proto']).toBe('https');
        expect(echoed.headers.host).toBe(`127.0.0.1:${httpsPort}`);
      }
      expect([...seen]).toEqual([pinned]);
      // Without the cookie, requests spread over every endpoint.
      const spread = new Set<unknown>();
      for (let i = 0; i < 9; i++) spread.add((await request(session, '/')).headers['x-endpoint']);
      expect(spread.size).toBe(3);
    } finally {
      session.close();
    }
  });

  it('streams a request body that has no Content-Length', async () => {
    const session = await h2(httpsPort);
    try {
      const r = await request(session, '/upload', { ':method': 'POST' }, 'hello body');
      expect(r.status).toBe(200);
      const echoed = JSON.parse(r.body) as { bodyBytes: number; method: string };
      expect(echoed).toMatchObject({ method: 'POST', bodyBytes: 10 });
    } finally {
      session.close();
    }
  });

  it('answers curl --http2 as HTTP/2', async () => {
    const { stdout } = await run('curl', [
      '-sk',
      '--http2',
      '-D',
      '-',
      '-o',
      '/dev/null',
      `https://127.0.0.1:${httpsPort}/curl`,
    ]);
    expect(stdout).toMatch(/^HTTP\/2 200/);
    expect(stdout).toMatch(/^set-cookie: STICKY=/im);
  });

  it('advertises its stream limit and refuses too many header fields without harm to others', async () => {
    const session = await h2(httpsPort);
    try {
      await request(session, '/');
      expect(session.remoteSettings.maxConcurrentStreams).toBe(100);
      const many: OutgoingHttpHeaders = {};
      for (let i = 0; i < 2100; i++) many[`x-h${i}`] = 'v';
      await expect(request(session, '/', many)).rejects.toThrow();
      const other = await h2(httpsPort);
      expect((await request(other, '/')).status).toBe(200);
      other.close();
    } finally {
      session.destroy();
    }
  });

  it('refuses with 400 what HTTP/1.1 could not carry: obs-text in the path, an unknown method', async () => {
    const session = await h2(httpsPort);
    try {
      expect((await request(session, '/caf\u00e9')).status).toBe(400);
      expect((await request(session, '/', { ':method': 'get' })).status).toBe(400);
      expect((await request(session, '/', { ':method': 'BREW' })).status).toBe(400);
      expect((await request(session, '/', { ':method': 'PROPFIND' })).status).toBe(200);
    } finally {
      session.close();
    }
  });

  it('answers 502 in plain text when no endpoint answers', async () => {
    const down = await startProxy(
      simpleTable(
        backendSet([
          {
            ref: { namespace: 'default', service: 'gone', port: 80 },
            endpoints: [{ address: '127.0.0.1', port: 9, ready: true }],
          },
        ]),
      ),
      { https: { port: 0, ...pem } },
    );
    const session = await h2(down.addresses.https?.port ?? 0);
    try {
      const r = await request(session, '/');
      expect(r.status).toBe(502);
      expect(r.body).toBe('upstream unavailable\n');
    } finally {
      session.close();
      await down.stop();
    }
  });
});

describe('h2c with prior knowledge', () => {
  it('is served on the plain listener only when asked, next to HTTP/1.1', async () => {
    const plain = await startProxy(simpleTable(backendSet([backend(echoes)])), {
      http: { port: 0, http2: true },
    });
    try {
      const session = await h2(plain.port, false);
      const r = await request(session, '/');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ headers: { 'x-forwarded-proto': 'http' } });
      session.close();
      expect((await call(plain.port, '/')).status).toBe(200);
    } finally {
      await plain.stop();
    }
    // Without the option the preface is an HTTP/1.1 request Node refuses.
    const session = connect(`http://127.0.0.1:${proxy.port}`);
    const refused = await new Promise<unknown>((resolve) => {
      session.on('error', resolve);
      session.on('close', () => resolve('closed'));
      session.request({ ':path': '/' }).on('error', () => undefined);
    });
    expect(refused).toBeDefined();
    session.destroy();
  });
});

describe('rapid reset', () => {
  it('closes a connection that cancels its streams in a loop, and others keep being served', async () => {
    const before = await proxy.metrics.registry.getSingleMetricAsString(
      'tether_http2_connections_total',
    );
    expect(before).not.toMatch(/event="rapid_reset"/);
    const attacker = await h2(httpsPort);
    const goaway = new Promise<[number, number]>((resolve) =>
      attacker.on('goaway', (code: number, lastStreamId: number) => resolve([code, lastStreamId])),
    );
    attacker.on('error', () => undefined);
    let opened = 0;
    // Each stream asks a slow answer and is cancelled at once, as the attack does.
    while (!attacker.destroyed && !attacker.closed && opened < 5000) {
      const s = attacker.request({ ':path': '/?delay=2000' });
      s.on('error', () => undefined);
      s.close(constants.NGHTTP2_CANCEL);
      opened++;
      if (opened % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    const [code, lastStreamId] = await goaway;
    expect(code).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    // The proxy stopped after about its limit of 100 cancelled streams, not after thousands
    // (client stream IDs are odd: the n-th is 2n - 1).
    expect(lastStreamId).toBeGreaterThanOrEqual(2 * 100 - 1);
    expect(lastStreamId).toBeLessThan(2 * 300);
    const after = await proxy.metrics.registry.getSingleMetricAsString(
      'tether_http2_connections_total',
    );
    expect(after).toMatch(/event="rapid_reset"} 1/);
    const other = await h2(httpsPort);
    expect((await request(other, '/')).status).toBe(200);
    other.close();
  });

  it('leaves a client that cancels some of its streams alone', async () => {
    const session = await h2(httpsPort);
    try {
      for (let i = 0; i < 300; i++) {
        if (i % 3 === 0) {
          const s = session.request({ ':path': '/?delay=1000' });
          s.on('error', () => undefined);
          s.close(constants.NGHTTP2_CANCEL);
        } else expect((await request(session, '/')).status).toBe(200);
      }
      expect(session.destroyed).toBe(false);
    } finally {
      session.close();
    }
  });
});

describe('stop', () => {
  it('sends GOAWAY and lets the streams in flight finish', async () => {
    const stopping = await startProxy(simpleTable(backendSet([backend(echoes)])), {
      https: { port: 0, ...pem },
    });
    const session = await h2(stopping.addresses.https?.port ?? 0);
    const goaway = new Promise<number>((resolve) =>
      session.on('goaway', (code: number) => resolve(code)),
    );
    const slow = request(session, '/?delay=300');
    await new Promise((r) => setTimeout(r, 50));
    const stopped = stopping.stop();
    expect(await goaway).toBe(constants.NGHTTP2_NO_ERROR);
    expect((await slow).status).toBe(200);
    await stopped;
    expect(session.closed || session.destroyed).toBe(true);
  });
});
