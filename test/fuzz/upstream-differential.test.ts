/**
 * The proxy's own HTTP/1.1 framing, against Node's parser (llhttp) on generated input.
 *
 * Responses: every response `ResponseParser` accepts, llhttp accepts with the same status,
 * headers, body and end (the byte after which the next response would start). We may refuse
 * more than llhttp (ambiguous framing), never less; a response we keep waiting on (llhttp
 * takes a few odd line ends we do not) ends in a timeout, which is a refusal too.
 *
 * Requests: every request llhttp accepts from a client (as node:http's server reads it),
 * turned into what the proxy writes upstream, is read by llhttp as exactly one request with
 * the client's method, target and body, one Host, and no client framing header.
 *
 * FUZZ_SEED and FUZZ_RUNS change the seed and the number of cases.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { IncomingFacts } from '../../packages/dataplane/src/headers';
import { ResponseParser, type ResponseHead } from '../../packages/dataplane/src/response-parser';
import { requestHead } from '../../packages/dataplane/src/upstream/request';
import { llhttp, type LlhttpMessage } from '../support/llhttp';

const RUNS = Number(process.env.FUZZ_RUNS ?? 20_000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261206);

// ---- generators: pieces of latin1 text, most of them well-formed --------------------------

const anyByte = fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c));
const hostileText = fc.oneof(
  { weight: 5, arbitrary: fc.stringMatching(/^[a-zA-Z0-9 ,;=\-/.]{0,12}$/) },
  { weight: 2, arbitrary: fc.array(anyByte, { maxLength: 8 }).map((a) => a.join('')) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      ' ',
      '\t',
      ' x ',
      '\tx\t',
      '\xa0',
      'a\rb',
      'a\nb',
      'a\0b',
      'a\x7fb',
      '\x01',
      'é',
    ),
  },
);
const eol = fc.oneof(
  { weight: 20, arbitrary: fc.constant('\r\n') },
  fc.constantFrom('\n', '\r', '\r\r\n', ''),
);
const statusLine = fc
  .tuple(
    fc.oneof(
      { weight: 10, arbitrary: fc.constant('HTTP/1.1') },
      fc.constantFrom('HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1.1 '),
    ),
    fc.oneof(
      { weight: 10, arbitrary: fc.constantFrom('200', '204', '304', '404', '500', '302') },
      fc.constantFrom('100', '101', '103', '199', '099', '999', '20', '2000', 'abc'),
    ),
    fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(' OK', '', ' ', ' Not Found') },
      hostileText.map((t) => ` ${t}`),
    ),
  )
  .map(([v, s, r]) => `${v} ${s}${r}`);
const lengthValue = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }).map(String) },
  fc.constantFrom(
    ' 3 ',
    '+1',
    '-1',
    '1,1',
    '1, 1',
    '0x5',
    '',
    '1 2',
    '99999999999999999999',
    '003',
    '\t2',
  ),
);
const transferCoding = fc.constantFrom(
  'chunked',
  'Chunked',
  ' chunked ',
  'gzip',
  'gzip, chunked',
  'chunked, gzip',
  'chunked, chunked',
  'identity',
  'chunked;q=1',
  '',
);
const headerName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'X-A',
      'Set-Cookie',
      'Content-Type',
      'Connection',
      'Keep-Alive',
      'Trailer',
    ),
  },
  fc.constantFrom('X A', 'X-A ', ' X-A', 'X\x00A', 'X:A', '', 'X\x7f', 'Ä'),
);
const header = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(headerName, hostileText).map(([n, v]) => `${n}:${v}`) },
  { weight: 3, arbitrary: lengthValue.map((v) => `Content-Length: ${v}`) },
  { weight: 3, arbitrary: transferCoding.map((v) => `Transfer-Encoding: ${v}`) },
  fc.constantFrom(
    'Connection: close',
    'Connection: keep-alive',
    ' folded',
    '\tfolded',
    'NoColon',
    'X-A : b',
    'X-A:\tb\t',
  ),
);
const chunkSize = (n: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(n.toString(16)) },
    fc.constantFrom(
      `${n.toString(16)};ext=1`,
      `${n.toString(16)};e`,
      `${n.toString(16)} `,
      `0${n.toString(16)}`,
      `${n.toString(16)};e="q"`,
      `${n.toString(16)} ;e`,
      `${n.toString(16).toUpperCase()}`,
      'zz',
      '',
    ),
  );
const chunk = fc
  .tuple(fc.integer({ min: 1, max: 12 }), fc.array(anyByte, { maxLength: 12 }), eol, eol)
  .chain(([n, data, e1, e2]) =>
    chunkSize(n).map((size) => `${size}${e1}${data.join('').padEnd(n, 'x').slice(0, n)}${e2}`),
  );
const trailer = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  fc.tuple(headerName, hostileText).map(([n, v]) => `${n}: ${v}\r\n`),
);
const chunkedBody = fc
  .tuple(
    fc.array(chunk, { maxLength: 4 }),
    fc.constantFrom('0', '0;x=y', '00', '0 '),
    eol,
    trailer,
    eol,
  )
  .map(([chunks, last, e1, t, e2]) => `${chunks.join('')}${last}${e1}${t}${e2}`);
const body = fc.oneof(
  fc.array(anyByte, { maxLength: 30 }).map((a) => a.join('')),
  chunkedBody,
);
const interim = fc.constantFrom(
  '',
  '',
  '',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n',
);
const response = fc
  .tuple(
    interim,
    statusLine,
    eol,
    fc.array(fc.tuple(header, eol), { maxLength: 6 }),
    eol,
    body,
    fc.constantFrom('', '', 'HTTP/1.1 200 OK\r\n\r\n', 'garbage'),
  )
  .map(
    ([pre, line, e, headers, end, b, after]) =>
      `${pre}${line}${e}${headers.map(([h, he]) => `${h}${he}`).join('')}${end}${b}${after}`,
  );

// ---- our parser, fed in pieces ------------------------------------------------------------

type Ours =
  | { kind: 'invalid' }
  | { kind: 'incomplete' }
  | { kind: 'complete'; head: ResponseHead; body: Buffer; end: number; atEof: boolean };

function ours(bytes: Buffer, cuts: number[], method: string): Ours {
  let head: ResponseHead | undefined;
  const body: Buffer[] = [];
  let ended = false;
  let invalid = false;
  const parser = new ResponseParser({
    onHead: (h) => (head = h),
    onBody: (c) => body.push(Buffer.from(c)),
    onEnd: () => (ended = true),
    onInvalid: () => (invalid = true),
  });
  parser.start(method);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...points, bytes.length]) {
    if (to <= from) continue;
    const consumed = parser.execute(bytes.subarray(from, to));
    if (invalid) return { kind: 'invalid' };
    if (ended && head)
      return {
        kind: 'complete',
        head,
        body: Buffer.concat(body),
        end: from + consumed,
        atEof: false,
      };
    from = to;
  }
  if (parser.finishAtEof() && head)
    return { kind: 'complete', head, body: Buffer.concat(body), end: bytes.length, atEof: true };
  return { kind: 'incomplete' };
}

function finalOf(messages: LlhttpMessage[]): LlhttpMessage | undefined {
  return messages.find((m) => m.status >= 200);
}

describe('upstream responses: ResponseParser against llhttp', () => {
  it(`accepts only what llhttp accepts, with the same head, body and end (${RUNS} cases)`, () => {
    const tally = { complete: 0, invalid: 0, incomplete: 0 };
    fc.assert(
      fc.property(
        response,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.constantFrom('GET', 'GET', 'HEAD'),
        (text, cuts, method) => {
          const bytes = Buffer.from(text, 'latin1');
          const result = ours(bytes, cuts, method);
          tally[result.kind]++;
          if (result.kind !== 'complete') return;
          const theirs = result.atEof
            ? llhttp('response', bytes, true, method)
            : llhttp('response', bytes.subarray(0, result.end), false, method);
          const final = finalOf(theirs.messages);
          expect(final).toBeDefined();
          expect(result.head.status).toBe(final?.status);
          expect(result.head.headers).toEqual(final?.headers);
          expect(result.body.toString('latin1')).toBe(final?.body.toString('latin1'));
          if (result.head.statusText !== '') expect(result.head.statusText).toBe(final?.statusText);
          if (!result.atEof) {
            // The end is exact: one byte less and llhttp has not completed it either.
            const short = llhttp('response', bytes.subarray(0, result.end - 1), false, method);
            expect(finalOf(short.messages)).toBeUndefined();
          }
        },
      ),
      { numRuns: RUNS, seed: SEED },
    );
    // The generator reaches every outcome in earnest.
    expect(tally.complete).toBeGreaterThan(RUNS / 10);
    expect(tally.invalid).toBeGreaterThan(RUNS / 10);
  });

  it('accepts every well-formed response llhttp accepts', () => {
    const wellFormed = fc
      .tuple(
        fc.constantFrom('200 OK', '404 Not Found', '204 No Content', '500 '),
        fc.array(
          fc.tuple(
            fc.constantFrom('X-A', 'Set-Cookie', 'Vary'),
            fc.stringMatching(/^[ -~]{0,20}$/),
          ),
          { maxLength: 5 },
        ),
        fc.oneof(
          fc
            .stringMatching(/^[ -~]{0,30}$/)
            .map((b) => ({ framing: `Content-Length: ${b.length}\r\n`, body: b })),
          fc.array(fc.stringMatching(/^[a-z]{1,10}$/), { maxLength: 3 }).map((parts) => ({
            framing: 'Transfer-Encoding: chunked\r\n',
            body: `${parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('')}0\r\n\r\n`,
          })),
        ),
      )
      .map(
        ([status, headers, { framing, body }]) =>
          `HTTP/1.1 ${status}\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}${framing}\r\n${body}`,
      );
    fc.assert(
      fc.property(wellFormed, fc.array(fc.nat(), { maxLength: 3 }), (text, cuts) => {
        const bytes = Buffer.from(text, 'latin1');
        if (finalOf(llhttp('response', bytes, false).messages) === undefined) return;
        expect(ours(bytes, cuts, 'GET').kind).toBe('complete');
      }),
      { numRuns: 2000, seed: SEED },
    );
  });
});

// ---- requests ---------------------------------------------------------------------------

const requestHeader = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.constantFrom('X-A', 'Cookie', 'Accept', 'X-Forwarded-For', 'Forwarded', 'Authorization'),
      fc.stringMatching(/^[ -~]{0,16}$/),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(
      fc.constant('Host'),
      fc.constantFrom('h', 'a.example', 'h:8080', '[::1]:80'),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.constant('Connection'),
      fc.constantFrom(
        'Content-Length',
        'Host',
        'Transfer-Encoding',
        'close',
        'keep-alive',
        'X-A, Cookie',
        'Upgrade',
        'host, content-length',
      ),
    ),
  },
  fc.tuple(
    fc.constantFrom('Keep-Alive', 'TE', 'Trailer', 'Proxy-Connection', 'Expect', 'Upgrade'),
    fc.constantFrom('x', '100-continue', 'trailers'),
  ),
);
const clientRequest = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS'),
    fc.constantFrom(
      '/',
      '/a?b=c',
      '/x/y',
      'http://abs.example/p?q',
      'http://abs.example',
      'HTTP://abs.example:81/',
      '*',
      'https://u@h/',
    ),
    fc.array(requestHeader, { maxLength: 6 }),
    fc.oneof(
      { weight: 3, arbitrary: fc.constant({ framing: '', body: '' }) },
      fc
        .stringMatching(/^[ -~]{0,20}$/)
        .map((b) => ({ framing: `Content-Length: ${b.length}\r\n`, body: b })),
      fc
        .stringMatching(/^[a-z]{1,9}$/)
        .map((b) => ({ framing: 'Transfer-Encoding: chunked\r\n', body: b })),
    ),
  )
  .map(([method, target, headers, { framing, body }]) => ({
    method,
    text:
      `${method} ${target} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}${framing}\r\n` +
      (framing.startsWith('Transfer')
        ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
        : body),
    body,
  }));

/** The bytes the upstream client sends for a request whose body it received whole (or streams chunked). */
function upstreamBytes(facts: IncomingFacts, method: string, body: string): Buffer {
  const headers = facts.upstreamHeaders('STICKY', false);
  if (facts.hostHeader === undefined) headers.push('host', '10.0.0.1:8080');
  const head = requestHead({
    method,
    path: facts.url,
    headers,
    body: facts.hasBody ? Buffer.from(body, 'latin1') : null,
    contentLength: facts.contentLength,
    idempotent: false,
  });
  // Streamed without a length: the upstream client writes each piece as one chunk.
  const framed =
    facts.hasBody && facts.contentLength === undefined && body.length > 0
      ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`
      : facts.hasBody && facts.contentLength === undefined
        ? '0\r\n\r\n'
        : body;
  return Buffer.from(head + framed, 'latin1');
}

describe('upstream requests: what the proxy writes, read by llhttp', () => {
  it(`is exactly one request with the client's method, target, body and one Host (${RUNS} cases)`, () => {
    let checked = 0;
    fc.assert(
      fc.property(clientRequest, ({ method, text, body }) => {
        const fromClient = llhttp('request', Buffer.from(text, 'latin1'), false);
        const received = fromClient.messages[0];
        if (fromClient.error !== undefined || !received) return; // node:http refuses it with 400
        const facts = new IncomingFacts(
          {
            rawHeaders: received.headers,
            url: received.url,
            socket: { remoteAddress: '127.0.0.1' },
          },
          false,
        );
        if (facts.invalid !== undefined) return; // the proxy refuses it with 400
        checked++;
        const sent = upstreamBytes(facts, method, body);
        const upstream = llhttp('request', sent, false);
        expect(upstream.error).toBeUndefined();
        expect(upstream.messages).toHaveLength(1);
        const one = upstream.messages[0];
        expect(one?.method).toBe(method);
        expect(one?.url).toBe(facts.url);
        expect(one?.url.startsWith('/') || one?.url === '*').toBe(true);
        expect(one?.body.toString('latin1')).toBe(received.body.toString('latin1'));
        const names = (one?.headers ?? [])
          .filter((_v, i) => i % 2 === 0)
          .map((n) => n.toLowerCase());
        expect(names.filter((n) => n === 'host')).toHaveLength(1);
        expect(
          names.filter((n) => n === 'content-length' || n === 'transfer-encoding').length,
        ).toBeLessThanOrEqual(1);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    expect(checked).toBeGreaterThan(RUNS / 5);
  });
});
