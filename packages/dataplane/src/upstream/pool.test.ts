import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { UpstreamPool } from './pool';
import { type UpstreamHandler, type UpstreamRequest } from './request';

interface Result {
  status: number;
  headers: string[];
  body: string;
  error: string | undefined;
}

const servers: Server[] = [];
const pools: UpstreamPool[] = [];
/** Where the pools caught exceptions. */
const caught: string[] = [];

afterEach(async () => {
  for (const p of pools.splice(0)) p.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A raw TCP origin: `answer` gets each request head and the socket. */
async function origin(
  answer: (head: string, socket: Socket, index: number) => void,
): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  let index = 0;
  const server = createServer((socket) => {
    connections++;
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end = buf.indexOf('\r\n\r\n');
      while (end >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const length = /content-length: (\d+)/i.exec(head);
        if (length) buf = buf.slice(Number(length[1]));
        answer(head, socket, index++);
        end = buf.indexOf('\r\n\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    connections: () => connections,
  };
}

/** A GET with no headers or body. */
const PLAIN_GET: UpstreamRequest = {
  method: 'GET',
  path: '/',
  headers: [],
  body: null,
  contentLength: undefined,
  idempotent: true,
};

function pool(
  port: number,
  over: Partial<ConstructorParameters<typeof UpstreamPool>[2]> = {},
): UpstreamPool {
  const p = new UpstreamPool('127.0.0.1', port, {
    connections: 4,
    connectTimeout: 1000,
    headersTimeout: 500,
    bodyTimeout: 500,
    keepAliveTimeout: 5000,
    queueLimit: 64,
    queueTimeout: 1000,
    internalError: (where) => caught.push(where),
    ...over,
  });
  pools.push(p);
  return p;
}

function send(
  p: UpstreamPool,
  request: Partial<UpstreamRequest> = {},
  pauseFirst = false,
): Promise<Result> {
  return new Promise((resolve) => {
    const result: Result = { status: 0, headers: [], body: '', error: undefined };
    let resume: (() => void) | undefined;
    let paused = false;
    const handler: UpstreamHandler = {
      onConnect: () => undefined,
      onHeaders(status, headers, r) {
        result.status = status;
        result.headers = headers;
        resume = r;
      },
      onData(chunk) {
        result.body += chunk.toString('latin1');
        if (pauseFirst && !paused) {
          paused = true;
          setTimeout(() => resume?.(), 20);
          return false;
        }
        return true;
      },
      onFlush: () => undefined,
      onBodyProgress: () => undefined,
      onComplete: () => resolve(result),
      onError(err) {
        result.error = (err as NodeJS.ErrnoException).code;
        resolve(result);
      },
    };
    p.dispatch(
      {
        method: 'GET',
        path: '/',
        headers: ['host', 'x'],
        body: null,
        contentLength: undefined,
        idempotent: true,
        ...request,
      },
      handler,
    );
  });
}

describe('upstream client', () => {
  it('reads Content-Length bodies and reuses the connection', async () => {
    const o = await origin((_h, s) =>
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello'),
    );
    const p = pool(o.port);
    for (let i = 0; i < 3; i++) {
      const r = await send(p);
      expect(r).toEqual({
        status: 200,
        headers: ['Content-Length', '5', 'X-A', '1'],
        body: 'hello',
        error: undefined,
      });
    }
    expect(o.connections()).toBe(1);
  });

  it('decodes chunked bodies with extensions and trailers, split at every byte', async () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n';
    const o = await origin((_h, s) => {
      let i = 0;
      const step = (): void => {
        if (i < wire.length) s.write(wire[i++] ?? '', 'latin1', step);
      };
      step();
    });
    const r = await send(pool(o.port));
    expect(r.body).toBe('abc0123456789abcdef');
    expect(r.error).toBeUndefined();
  });

  it('reads to the close when no length is given, and does not reuse that connection', async () => {
    const o = await origin((_h, s) => s.end('HTTP/1.1 200 OK\r\n\r\nuntil close'));
    const p = pool(o.port);
    expect(await send(p)).toMatchObject({ body: 'until close', error: undefined });
    expect(await send(p)).toMatchObject({ body: 'until close', error: undefined });
    expect(o.connections()).toBe(2);
  });

  it('skips interim responses; HEAD, 204 and 304 have no body', async () => {
    const o = await origin((h, s) => {
      if (h.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n');
      else if (h.includes('/204')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
      else
        s.write(
          'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
        );
    });
    const p = pool(o.port);
    expect((await send(p)).body).toBe('ok');
    expect(await send(p, { method: 'HEAD' })).toMatchObject({ status: 200, body: '' });
    expect(await send(p, { path: '/204' })).toMatchObject({ status: 204, body: '' });
    expect(o.connections()).toBe(1);
  });

  it.each([
    [
      'both framings',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    [
      'conflicting lengths',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
    ],
    ['bad length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['folded header', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n'],
    ['bad status line', 'HTTP/2 200 OK\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    [
      'chunk size with a space',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1 \r\na\r\n0\r\n\r\n',
    ],
    ['the same length twice', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na'],
    ['a bare LF in a value', 'HTTP/1.1 200 OK\r\nX-A: a\nb\r\nContent-Length: 0\r\n\r\n'],
    ['a bare CR in a value', 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n'],
    ['NUL in a value', 'HTTP/1.1 200 OK\r\nX-A: a\u0000b\r\nContent-Length: 0\r\n\r\n'],
    ['DEL in a value', 'HTTP/1.1 200 OK\r\nX-A: a\u007fb\r\nContent-Length: 0\r\n\r\n'],
    [
      'a control byte in a trailer',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \u0001\r\n\r\n',
    ],
    ['101 to a plain request', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n'],
  ])('refuses a response with %s', async (_name, wire) => {
    const o = await origin((_h, s) => s.write(wire));
    const r = await send(pool(o.port));
    expect(r.error).toBe('UND_ERR_BAD_RESPONSE');
  });

  it('refuses an oversized head', async () => {
    const o = await origin((_h, s) =>
      s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70000)}\r\n\r\n`),
    );
    expect((await send(pool(o.port))).error).toBe('UND_ERR_HEADERS_OVERFLOW');
  });

  it('drops a connection that sends more than the response', async () => {
    const o = await origin((_h, s) =>
      s.write(
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsmuggl',
      ),
    );
    const p = pool(o.port);
    expect((await send(p)).body).toBe('ok');
    expect((await send(p)).body).toBe('ok');
    expect(o.connections()).toBe(2);
  });

  it('times out a response that does not start, and reports refused connections', async () => {
    const o = await origin(() => undefined);
    expect((await send(pool(o.port))).error).toBe('UND_ERR_HEADERS_TIMEOUT');
    const closed = await origin(() => undefined);
    servers.pop()?.close();
    await new Promise((r) => setTimeout(r, 20));
    expect((await send(pool(closed.port))).error).toBe('ECONNREFUSED');
  });

  it('retries on a new connection when a kept-alive one was closed by the origin', async () => {
    const o = await origin((_h, s, i) => {
      if (i === 0) s.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb');
    });
    const p = pool(o.port);
    expect((await send(p)).body).toBe('a');
    await new Promise((r) => setTimeout(r, 5));
    expect((await send(p)).body).toBe('b');
  });

  it('streams request bodies with a length or chunked, and honours pauses', async () => {
    const heads: string[] = [];
    const bodies: string[] = [];
    const server = createServer((socket) => {
      let buf = '';
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        if (buf.endsWith('0\r\n\r\n') || /content-length: 6\r\n\r\nabcdef$/i.test(buf)) {
          const end = buf.indexOf('\r\n\r\n');
          heads.push(buf.slice(0, end));
          bodies.push(buf.slice(end + 4));
          buf = '';
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone');
        }
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const p = pool(port);
    const fixed = await send(
      p,
      {
        method: 'POST',
        headers: ['host', 'x'],
        body: Readable.from([Buffer.from('abc'), Buffer.from('def')]),
        contentLength: 6,
      },
      true,
    );
    expect(fixed.body).toBe('done');
    const chunked = await send(p, {
      method: 'POST',
      body: Readable.from([Buffer.from('hello'), Buffer.from(' world')]),
    });
    expect(chunked.body).toBe('done');
    expect(bodies).toEqual(['abcdef', '5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n']);
    expect(heads[1]).toContain('transfer-encoding: chunked');
  });

  it('drops a reason phrase that cannot be written on, keeps the response', async () => {
    const o = await origin((_h, s) =>
      s.write('HTTP/1.1 200 O\u0001K\r\nContent-Length: 2\r\n\r\nok'),
    );
    let statusText = 'unset';
    const r = await new Promise<string>((resolve) => {
      const handler: UpstreamHandler = {
        onConnect: () => undefined,
        onHeaders: (_s, _h, _r, text) => (statusText = text),
        onData: () => true,
        onFlush: () => undefined,
        onBodyProgress: () => undefined,
        onComplete: () => resolve('complete'),
        onError: (err) => resolve(err.message),
      };
      pool(o.port).dispatch(PLAIN_GET, handler);
    });
    expect(r).toBe('complete');
    expect(statusText).toBe('');
  });

  it('does not send a non-idempotent request again when a kept-alive connection turns out closed', async () => {
    const o = await origin((_h, s, i) => {
      if (i === 0) s.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb');
    });
    const p = pool(o.port);
    expect((await send(p)).body).toBe('a');
    // At once, on the connection whose close has not been seen yet.
    const post = await send(p, { method: 'POST', idempotent: false, contentLength: 0 });
    expect(post.error).toMatch(/^(UND_ERR_SOCKET|EPIPE|ECONNRESET)$/);
    // Not sent again on a new connection.
    expect(o.connections()).toBe(1);
  });

  it('flushes after every batch of bytes while a response is open', async () => {
    const o = await origin((_h, s) => {
      s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      setTimeout(() => s.write('5\r\nfirst\r\n'), 30);
      setTimeout(() => s.write('0\r\n\r\n'), 60);
    });
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      pool(o.port).dispatch(PLAIN_GET, {
        onConnect: () => undefined,
        onHeaders: () => seen.push('head'),
        onData: (c) => (seen.push(c.toString()), true),
        onFlush: () => seen.push('flush'),
        onBodyProgress: () => undefined,
        onComplete: () => resolve(),
        onError: () => resolve(),
      });
    });
    expect(seen).toEqual(['head', 'flush', 'first', 'flush']);
  });

  it('refuses requests beyond the queue limit at once, and those that waited too long', async () => {
    const o = await origin(() => undefined);
    const p = pool(o.port, {
      connections: 1,
      queueLimit: 1,
      queueTimeout: 100,
      headersTimeout: 5000,
    });
    const hung = send(p);
    const waited = send(p);
    const refused = await send(p);
    expect(refused.error).toBe('UND_ERR_QUEUE_FULL');
    expect((await waited).error).toBe('UND_ERR_QUEUE_TIMEOUT');
    p.destroy();
    expect((await hung).error).toBeDefined();
  });

  it('an exception in a callback fails that exchange with ERR_PROXY_INTERNAL; the pool serves on', async () => {
    const o = await origin((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const p = pool(o.port);
    caught.length = 0;
    const failed = await new Promise<string>((resolve) => {
      p.dispatch(PLAIN_GET, {
        onConnect: () => undefined,
        onHeaders: () => {
          throw new Error('a bug');
        },
        onData: () => true,
        onFlush: () => undefined,
        onBodyProgress: () => undefined,
        onComplete: () => resolve('complete'),
        onError: (err) => resolve((err as NodeJS.ErrnoException).code ?? ''),
      });
    });
    expect(failed).toBe('ERR_PROXY_INTERNAL');
    expect(caught).toEqual(['upstream data']);
    expect(await send(p)).toMatchObject({ status: 200, body: 'ok', error: undefined });
  });

  it('queues beyond the connection limit', async () => {
    const o = await origin((_h, s) =>
      setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'), 10),
    );
    const p = pool(o.port, { connections: 2 });
    const results = await Promise.all(Array.from({ length: 6 }, () => send(p)));
    expect(results.map((r) => r.body).join('')).toBe('xxxxxx');
    expect(o.connections()).toBe(2);
  });

  it('hands out chunks of their own: later reads on other connections do not change them', async () => {
    // Every connection reads into one shared buffer; a chunk kept past its read (as an
    // exchange keeps one for its next write) must still hold its own bytes.
    const o = await origin((head, s) => {
      const letter = /GET \/(\w)/.exec(head)?.[1] ?? '?';
      const body = letter.repeat(3000);
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    });
    const p = pool(o.port, { connections: 8 });
    const kept: Buffer[][] = [];
    const done = ['a', 'b', 'c', 'd', 'e', 'f'].map(
      (letter, i) =>
        new Promise<void>((resolve) => {
          const chunks: Buffer[] = [];
          kept[i] = chunks;
          p.dispatch(
            { ...PLAIN_GET, path: `/${letter}` },
            {
              onConnect: () => undefined,
              onHeaders: () => undefined,
              onData: (chunk) => chunks.push(chunk) > 0,
              onFlush: () => undefined,
              onBodyProgress: () => undefined,
              onComplete: () => resolve(),
              onError: () => resolve(),
            },
          );
        }),
    );
    await Promise.all(done);
    // Checked only now, after every connection has read.
    expect(kept.map((chunks) => Buffer.concat(chunks).toString('latin1'))).toEqual(
      ['a', 'b', 'c', 'd', 'e', 'f'].map((letter) => letter.repeat(3000)),
    );
  });
});
