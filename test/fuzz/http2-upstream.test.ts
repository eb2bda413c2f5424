/**
 * HTTP/2 requests turned into HTTP/1.1 upstream, against Node's parser (llhttp) on generated
 * input: whatever an HTTP/2 client sends that Node's HTTP/2 server (nghttp2) lets through, the
 * bytes the proxy writes to the endpoint are read by llhttp as exactly one request, with the
 * client's method, path and body and one Host. Through the real proxy (h2c) to a raw TCP
 * endpoint that records what it gets.
 *
 * FUZZ_SEED and FUZZ_H2_RUNS change the seed and the number of cases.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { connect, type ClientHttp2Session, type OutgoingHttpHeaders } from 'node:http2';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Proxy } from '@tether/dataplane';
import { llhttp, type LlhttpMessage } from '../support/llhttp';
import {
  backendSet,
  cookiePolicy,
  simpleTable,
  startProxy,
} from '../integration/dataplane/support';

const RUNS = Number(process.env.FUZZ_H2_RUNS ?? 400);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);

/** What the endpoint received for each request, in order. */
const received: Buffer[] = [];
const sockets = new Set<Socket>();
let endpoint: Server;
let proxy: Proxy & { port: number };
let session: ClientHttp2Session;

/** Answers each request once llhttp reads a whole one from the connection's bytes. */
function record(socket: Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
  let bytes = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    bytes = Buffer.concat([bytes, chunk]);
    const run = llhttp('request', bytes, false);
    if (run.messages.length === 0 && run.error === undefined) return;
    received.push(bytes);
    bytes = Buffer.alloc(0);
    socket.end('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  socket.on('error', () => undefined);
}

beforeAll(async () => {
  endpoint = createServer(record);
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const port = (endpoint.address() as AddressInfo).port;
  proxy = await startProxy(
    simpleTable(
      backendSet(
        [
          {
            ref: { namespace: 'default', service: 'raw', port: 80 },
            endpoints: [{ address: '127.0.0.1', port, ready: true }],
          },
        ],
        { policy: cookiePolicy() },
      ),
    ),
    { http: { port: 0, http2: true }, limits: { shutdownTimeoutMs: 1000 } },
  );
  session = connect(`http://127.0.0.1:${proxy.port}`);
  session.on('error', () => undefined);
});
afterAll(async () => {
  session.destroy();
  for (const s of sockets) s.destroy();
  await proxy.stop();
  await new Promise((resolve) => endpoint.close(resolve));
}, 20_000);

/** Printable ASCII, tab, obs-text and the odd control byte: what a hostile client tries. */
const hostileText = fc
  .array(
    fc.oneof(
      { weight: 40, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
      fc.constantFrom(0x09, 0x0d, 0x0a, 0x00, 0x7f, 0x80, 0xff),
    ),
    { maxLength: 12 },
  )
  .map((codes) => String.fromCharCode(...codes));

const request = fc.record({
  method: fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH') },
    fc.constantFrom('G T', 'GET\r\n', 'CONNECT', 'get'),
  ),
  path: fc.oneof(fc.constantFrom('/', '/a?b=c', '*', '/x y', '/x\r\nX: y', 'nopath', '//h/p'), {
    weight: 3,
    arbitrary: hostileText.map((t) => `/${t}`),
  }),
  authority: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('h', 'a.example:81', '[::1]:8080') },
    fc.constantFrom('a b', 'x\r\ny', ''),
    hostileText,
  ),
  headers: fc.array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('x-a', 'cookie', 'host', 'forwarded', 'x-forwarded-for', 'content-type'),
        // Names that are not tokens never leave Node's client (it fails the whole session).
        fc.constantFrom('transfer-encoding', 'connection', 'te', 'X-Upper', 'keep-alive'),
      ),
      hostileText,
    ),
    { maxLength: 5 },
  ),
  body: fc.option(fc.stringMatching(/^[ -~]{0,40}$/), { nil: undefined }),
  length: fc.boolean(),
});

type Sent = { status: number } | { refused: string };

/** Sends one request; resolves with its status, or with why it never got one. */
type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

/**
 * A session of its own for each case: a field Node's client cannot encode fails its whole
 * session, and the streams on it then never end.
 */
function fresh(): ClientHttp2Session {
  session.destroy();
  session = connect(`http://127.0.0.1:${proxy.port}`);
  session.on('error', () => undefined);
  return session;
}

const refusals = new Map<string, number>();

function send(r: Generated): Promise<Sent> {
  return new Promise((resolve) => {
    const headers: OutgoingHttpHeaders = {
      ':method': r.method,
      ':path': r.path,
      ':authority': r.authority,
    };
    for (const [name, value] of r.headers) headers[name] = value;
    if (r.body !== undefined && r.length) headers['content-length'] = String(r.body.length);
    let stream;
    const own = fresh();
    // Node's client fails the session, not the stream, for a field it cannot encode.
    own.once('error', (e: Error) => resolve({ refused: `client session: ${e.message}` }));
    try {
      stream = own.request(headers, { endStream: r.body === undefined });
    } catch (e) {
      resolve({ refused: `client: ${(e as Error).message}` });
      return;
    }
    let status = 0;
    const timer = setTimeout(() => {
      stream.close();
      resolve({ refused: `no answer in 3 s to ${JSON.stringify(r)}` });
    }, 3000);
    stream.on('close', () => clearTimeout(timer));
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('error', (e: Error) => resolve({ refused: `stream: ${e.message}` }));
    stream.on('close', () => resolve(status === 0 ? { refused: 'reset' } : { status }));
    stream.resume();
    if (r.body !== undefined) stream.end(r.body);
  });
}

describe('HTTP/2 requests forwarded as HTTP/1.1, read by llhttp', () => {
  it(`are exactly one request with the client's method, path, body and one Host (${RUNS} cases)`, async () => {
    let forwarded = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const before = received.length;
        const sent = await send(r);
        if ('refused' in sent) {
          const why = sent.refused.replace(/"[^"]*"/g, '"…"').slice(0, 60);
          refusals.set(why, (refusals.get(why) ?? 0) + 1);
        }
        if ('refused' in sent) expect(sent.refused).not.toMatch(/^no answer/);
        if (received.length === before) {
          // Nothing reached the endpoint: refused by the client, by nghttp2 or by the proxy.
          if ('status' in sent) expect(sent.status).not.toBe(200);
          return;
        }
        forwarded++;
        expect(received.length).toBe(before + 1);
        const run = llhttp('request', received[received.length - 1]!, false);
        expect(run.error).toBeUndefined();
        expect(run.messages).toHaveLength(1);
        const one = run.messages[0] as LlhttpMessage;
        expect(one.method).toBe(r.method);
        expect(one.url).toBe(r.path);
        expect(one.body.toString('latin1')).toBe(r.body ?? '');
        const names = one.headers.filter((_v, i) => i % 2 === 0).map((n) => n.toLowerCase());
        expect(names.filter((n) => n === 'host')).toHaveLength(1);
        expect(
          names.filter((n) => n === 'content-length' || n === 'transfer-encoding').length,
        ).toBeLessThanOrEqual(1);
        expect('status' in sent && sent.status).toBe(200);
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    // Enough of the cases got through to mean something.
    expect({ forwarded, refusals: Object.fromEntries(refusals) }).toMatchObject({
      forwarded: expect.any(Number),
    });
    expect(forwarded).toBeGreaterThan(RUNS / 10);
  }, 60_000);
});
