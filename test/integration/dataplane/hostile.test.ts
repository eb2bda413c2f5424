/**
 * The proxy process against hostile clients and misbehaving backends, over raw sockets: no
 * request can read another client's response, no backend byte can stop the process, no
 * client can hold the upstream connections of others.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { startEchoes, type EchoReply, type EchoServer } from '@tether/echo';
import type { RouteTable } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  cookiePolicy,
  rawExchange,
  simpleTable,
  startProxyProcess,
  type ProcessOptions,
} from './support';

let echoes: EchoServer[];
const children: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  echoes = await startEchoes(1);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

interface RawBackend {
  port: number;
  /** Every byte received, per connection, in order. */
  received: string[];
}

/**
 * A backend on a raw socket: `answer` is called for each request head it reads (bodies with
 * a Content-Length are skipped) with the connection's number and the request's number on it.
 */
async function rawBackend(
  answer: (head: string, socket: Socket, onConnection: number) => void,
): Promise<RawBackend> {
  const received: string[] = [];
  const server = createServer((socket) => {
    const index = received.push('') - 1;
    let buf = '';
    let onConnection = 0;
    socket.on('data', (d: Buffer) => {
      received[index] += d.toString('latin1');
      buf += d.toString('latin1');
      let end = buf.indexOf('\r\n\r\n');
      while (end >= 0) {
        const head = buf.slice(0, end);
        const length = /content-length: *(\d+)/i.exec(head);
        buf = buf.slice(end + 4 + (length ? Number(length[1]) : 0));
        answer(head, socket, onConnection++);
        end = buf.indexOf('\r\n\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  server.on('connection', (s) => server.once('close', () => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, received };
}

async function proxyTo(port: number, o: ProcessOptions = {}): Promise<number> {
  const table: RouteTable = simpleTable(
    backendSet(
      [
        {
          ref: { namespace: 'default', service: 'raw', port: 80 },
          endpoints: [{ address: '127.0.0.1', port, ready: true }],
        },
      ],
      { policy: cookiePolicy() },
    ),
  );
  const started = await startProxyProcess(table, o);
  children.push(started.child);
  return started.port;
}

async function proxyToEcho(o: ProcessOptions = {}): Promise<{ port: number; child: ChildProcess }> {
  const started = await startProxyProcess(
    simpleTable(backendSet([backend(echoes)], { policy: cookiePolicy() })),
    o,
  );
  children.push(started.child);
  return started;
}

function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

function echoOf(body: string): EchoReply {
  return JSON.parse(body) as EchoReply;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("no request reads another client's response", () => {
  it('Connection: Content-Length cannot unframe a body into a second request', async () => {
    const seen: string[] = [];
    const b = await rawBackend((head, socket) => {
      const line = head.split('\r\n')[0] ?? '';
      seen.push(line);
      const body = `answer to ${line}`;
      if (line.includes('/slow'))
        setTimeout(
          () => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`),
          200,
        );
      else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    const port = await proxyTo(b.port);
    const smuggled = 'GET /slow HTTP/1.1\r\nHost: h\r\n\r\n';
    const attack = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: h\r\nConnection: Content-Length\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
      1000,
    );
    expect(statusOf(attack)).toBe(200);
    const victim = await call(port, '/victim');
    expect(victim.body).toBe('answer to GET /victim HTTP/1.1');
    expect(seen).toEqual(['POST / HTTP/1.1', 'GET /victim HTTP/1.1']);
    // The body went upstream framed by its length.
    expect(b.received.join('')).toContain(`content-length: ${smuggled.length}\r\n\r\nGET /slow`);
  }, 30_000);

  it("an Upgrade request's pipelined bytes never reach a backend that does not switch", async () => {
    const b = await rawBackend((_head, socket) =>
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nno'),
    );
    const port = await proxyTo(b.port);
    const reply = await rawExchange(
      port,
      'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /private HTTP/1.1\r\nHost: h\r\n\r\n',
      2000,
    );
    expect(statusOf(reply)).toBe(200);
    expect(reply.endsWith('\r\n\r\nno')).toBe(true);
    expect(reply.match(/HTTP\/1\.1/g)).toHaveLength(1);
    expect(b.received.join('')).not.toContain('/private');
  }, 30_000);

  it("a backend's Set-Cookie with the affinity cookie's name is dropped", async () => {
    const { port } = await proxyToEcho();
    const r = await call(port, '/?set-cookie=STICKY=forged&set-cookie=app=1');
    expect(r.setCookies.filter((c) => c.startsWith('STICKY='))).toHaveLength(1);
    expect(r.setCookies.some((c) => c.startsWith('STICKY=forged'))).toBe(false);
    expect(r.setCookies.some((c) => c.startsWith('app=1'))).toBe(true);
  }, 30_000);
});

describe('header hygiene', () => {
  it('refuses two Host headers with 400', async () => {
    const { port } = await proxyToEcho();
    const r = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
    expect(statusOf(r)).toBe(400);
  }, 30_000);

  it('Connection: Host does not strip Host', async () => {
    const { port } = await proxyToEcho();
    const r = await rawExchange(
      port,
      'GET / HTTP/1.1\r\nHost: kept.example\r\nConnection: Host, close\r\n\r\n',
    );
    expect(statusOf(r)).toBe(200);
    expect(echoOf(r.slice(r.indexOf('\r\n\r\n') + 4)).headers.host).toBe('kept.example');
  }, 30_000);

  it('refuses more header fields than the limit with 431 instead of losing the body', async () => {
    const { port } = await proxyToEcho();
    const many = Array.from({ length: 2001 }, (_v, i) => `a${i}:b\r\n`).join('');
    const r = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: h\r\n${many}Content-Length: 4\r\n\r\nbody`,
    );
    expect(statusOf(r)).toBe(431);
    const fewer = Array.from({ length: 1990 }, (_v, i) => `a${i}:b\r\n`).join('');
    const ok = await rawExchange(
      port,
      `POST / HTTP/1.1\r\nHost: h\r\n${fewer}Content-Length: 4\r\nConnection: close\r\n\r\nbody`,
    );
    expect(statusOf(ok)).toBe(200);
    expect(echoOf(ok.slice(ok.indexOf('\r\n\r\n') + 4)).bodyBytes).toBe(4);
  }, 30_000);

  it('accepts an absolute-form target and routes by its authority', async () => {
    const { port } = await proxyToEcho();
    const r = await rawExchange(
      port,
      'GET http://abs.example:8080/p?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n',
    );
    expect(statusOf(r)).toBe(200);
    const echo = echoOf(r.slice(r.indexOf('\r\n\r\n') + 4));
    expect(echo.url).toBe('/p?q=1');
    expect(echo.headers.host).toBe('abs.example:8080');
  }, 30_000);
});

describe('no backend byte stops the process', () => {
  const bad: [string, string][] = [
    ['a bare LF in a header value', 'X-A: a\nb'],
    ['a bare CR in a header value', 'X-A: a\rb'],
    ['NUL in a header value', 'X-A: a\u0000b'],
    ['DEL in a header value', 'X-A: a\u007fb'],
  ];
  it.each(bad)(
    '%s: 502, and the next request is served',
    async (_name, line) => {
      let first = true;
      const b = await rawBackend((_h, socket) => {
        if (first) socket.write(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 2\r\n\r\nok`);
        else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood');
        first = false;
      });
      const port = await proxyTo(b.port);
      expect((await call(port)).status).toBe(502);
      const next = await call(port);
      expect(next.status).toBe(200);
      expect(next.body).toBe('good');
    },
    30_000,
  );

  it('0x01 in the reason phrase: the response is relayed without it', async () => {
    const b = await rawBackend((_h, socket) =>
      socket.write('HTTP/1.1 200 O\u0001K\r\nContent-Length: 2\r\n\r\nok'),
    );
    const port = await proxyTo(b.port);
    const r = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect(r.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(r.endsWith('ok')).toBe(true);
  }, 30_000);

  it.each([1, 2, 3, 4, 5, 6])(
    'an exception at clock call %i closes that exchange only; the others are served',
    async (n) => {
      const { port, child } = await proxyToEcho({ faultAtClockCalls: [n] });
      const statuses: (number | undefined)[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(port).catch(() => undefined))?.status);
      // Exactly one request met the fault (a request reads the clock about three times).
      expect(statuses.filter((s) => s !== 200)).toHaveLength(1);
      expect([undefined, 500, 502]).toContain(statuses.find((s) => s !== 200));
      expect(statuses[3]).toBe(200);
      expect(child.exitCode).toBeNull();
    },
    30_000,
  );

  it('an exception while handling a refused connection answers 502 and serves on', async () => {
    const closed = await rawBackend(() => undefined);
    const server = servers.pop();
    await new Promise((r) => server?.close(r));
    // Clock calls: routing, sending, then marking the endpoint down after the refusal.
    const port = await proxyTo(closed.port, { faultAtClockCalls: [3] });
    expect((await call(port)).status).toBe(502);
    expect((await call(port)).status).toBe(502);
    expect((await call(port)).body).toContain('no endpoint available');
  }, 30_000);

  it('an exception inside an upgrade closes that socket only', async () => {
    const { port, child } = await proxyToEcho({ faultAtClockCalls: [1, 2, 3] });
    for (let i = 0; i < 3; i++)
      await rawExchange(
        port,
        'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
        500,
      );
    expect((await call(port)).status).toBe(200);
    expect(child.exitCode).toBeNull();
  }, 30_000);
});

describe('no client holds the upstream connections of others', () => {
  it('clients trickling small bodies hold no upstream connection, and get 408', async () => {
    const { port } = await proxyToEcho({
      limits: { upstreamConnections: 2, clientBodyTimeoutMs: 1000 },
    });
    const before = echoes[0]?.requests ?? 0;
    const trickling = Array.from({ length: 20 }, () =>
      rawExchange(
        port,
        'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nonly ten b',
        4000,
      ),
    );
    await sleep(200);
    const started = Date.now();
    const r = await call(port);
    expect(r.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(500);
    const answers = await Promise.all(trickling);
    expect(answers.map(statusOf)).toEqual(Array.from({ length: 20 }, () => 408));
    // None of them reached the backend.
    expect((echoes[0]?.requests ?? 0) - before).toBe(1);
  }, 30_000);

  it('a request waits a bounded time for a connection held by streamed bodies: 503', async () => {
    const { port } = await proxyToEcho({
      limits: {
        upstreamConnections: 1,
        bodyBufferBytes: 16,
        clientBodyTimeoutMs: 1500,
        upstreamQueueTimeoutMs: 300,
      },
    });
    const holder = rawExchange(
      port,
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\nstarted',
      4000,
    );
    await sleep(200);
    const started = Date.now();
    const waited = await call(port);
    expect(waited.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1200);
    expect(statusOf(await holder)).toBe(408);
    expect((await call(port)).status).toBe(200);
  }, 30_000);
});

describe('streamed request bodies', () => {
  it('a body that waits in the queue for a connection arrives whole', async () => {
    const { port } = await proxyToEcho({
      limits: { upstreamConnections: 1, bodyBufferBytes: 16 },
    });
    // The one connection is busy for a while with a slow GET.
    const slow = call(port, '/?delay=400');
    await sleep(50);
    const body = Buffer.alloc(100_000, 'b');
    const r = await call(port, '/', { method: 'POST', body });
    expect(r.status).toBe(200);
    expect(echoOf(r.body).bodyBytes).toBe(body.length);
    expect((await slow).status).toBe(200);
  }, 30_000);
});

describe('streaming', () => {
  it('passes on the head and every chunk as it arrives (server-sent events)', async () => {
    const b = await rawBackend((_h, socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n',
      );
      setTimeout(() => socket.write('9\r\ndata: 1\n\n\r\n'), 50);
      setTimeout(() => socket.write('9\r\ndata: 2\n\n\r\n0\r\n\r\n'), 1500);
    });
    const port = await proxyTo(b.port);
    const started = Date.now();
    const times = await new Promise<{ head: number; first: number; body: string }>(
      (resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
          const head = Date.now() - started;
          let first = 0;
          let body = '';
          res.on('data', (d: Buffer) => {
            if (first === 0) first = Date.now() - started;
            body += d.toString();
          });
          res.on('end', () => resolve({ head, first, body }));
        });
        req.on('error', reject);
        req.end();
      },
    );
    expect(times.head).toBeLessThan(1000);
    expect(times.first).toBeLessThan(1000);
    expect(times.body).toBe('data: 1\n\ndata: 2\n\n');
  }, 30_000);
});

describe('retries', () => {
  it('a POST without a body is not sent again when a kept-alive connection was closed under it', async () => {
    const lines: string[] = [];
    const b = await rawBackend((head, socket, onConnection) => {
      lines.push(head.split('\r\n')[0] ?? '');
      // The second request on a connection meets a server that had just closed it.
      if (onConnection === 1) socket.destroy();
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const port = await proxyTo(b.port);
    expect((await call(port, '/warm')).status).toBe(200);
    expect((await call(port, '/once', { method: 'POST' })).status).toBe(502);
    expect(lines.filter((l) => l.startsWith('POST'))).toHaveLength(1);
    // A GET on the same kind of stale connection is retried and served.
    expect((await call(port, '/warm2')).status).toBe(200);
    expect((await call(port, '/again')).status).toBe(200);
    expect(lines.filter((l) => l.startsWith('GET /again'))).toHaveLength(2);
  }, 30_000);
});
