/**
 * A lean HTTP/1.1 client for talking to upstream endpoints: one request at a time per
 * connection, kept-alive connections on an idle stack per origin, a queue beyond the
 * connection limit.
 *
 * Why not undici: on the proxy's hot path undici cost about a fifth of the CPU time per
 * request (request object and header validation, a WebAssembly parser whose header buffers
 * we then turn back into strings, and its dispatcher machinery). This client writes the
 * request head as one string and parses the response head as latin1 text, which is what
 * the proxy needs to pass it on. It keeps to the parts of RFC 9112 a proxy needs: message
 * framing by Content-Length, chunked transfer coding or connection close; interim 1xx
 * responses skipped; responses that are ambiguous about their length (Content-Length with
 * Transfer-Encoding, conflicting or malformed lengths, obsolete line folding, oversized
 * heads) refused and their connection dropped, so that nothing is smuggled onto a reused
 * connection.
 *
 * Errors carry the same `code`s as undici so that callers can tell a refused connection
 * (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`, …) from a connection that broke before the
 * response (`UND_ERR_SOCKET`) and from a response that did not start in time
 * (`UND_ERR_HEADERS_TIMEOUT`).
 */
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface UpstreamRequest {
  method: string;
  path: string;
  /** Flat [name, value, …]; must not contain framing headers of its own besides Content-Length. */
  headers: string[];
  /** The request body, streamed once; null for none. */
  body: Readable | null;
  /** Content-Length of the body when known; chunked transfer coding otherwise. */
  contentLength: number | undefined;
}

export interface UpstreamHandler {
  /** The request is under way; `abort` drops it (and its connection). */
  onConnect(abort: (err?: Error) => void): void;
  /** `headers` is flat [name, value, …] as received; `resume` restarts a paused body. */
  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): void;
  /** Return false to pause until `resume` is called. */
  onData(chunk: Buffer): boolean;
  onComplete(): void;
  onError(err: Error): void;
}

export interface UpstreamPoolOptions {
  connections: number;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
}

function upstreamError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

type Framing = 'none' | 'length' | 'chunked' | 'close';
const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

/** One connection to the origin; runs one exchange at a time. */
class Connection {
  readonly socket: Socket;
  connected = false;
  /** When (ms) the current wait — connect, response head, body, or idle keep-alive — times out; 0 for none. */
  deadline = 0;
  /** Has completed at least one exchange (so a failure before any byte may be a stale keep-alive). */
  reused = false;
  #handler: UpstreamHandler | undefined;
  #request: UpstreamRequest | undefined;
  #head: Buffer | undefined;
  #gotBytes = false;
  #status = 0;
  #framing: Framing = 'none';
  #remaining = 0;
  #chunk = Chunk.Size;
  #line = '';
  #keepAlive = true;
  #bodySent = true;
  #responseDone = false;
  #paused = false;
  #dead = false;

  constructor(
    readonly pool: UpstreamPool,
    host: string,
    port: number,
  ) {
    const socket = connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    this.deadline = Date.now() + pool.options.connectTimeout;
    socket.once('connect', () => {
      this.connected = true;
      const o = pool.options;
      this.deadline = Date.now() + (this.#handler ? o.headersTimeout : o.keepAliveTimeout);
    });
    socket.on('data', (d: Buffer) => this.#onData(d));
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.#fail(err.code ? err : upstreamError(err.message, 'UND_ERR_SOCKET')),
    );
    socket.on('close', () =>
      this.#fail(upstreamError('upstream closed the connection', 'UND_ERR_SOCKET')),
    );
  }

  get busy(): boolean {
    return this.#handler !== undefined;
  }

  start(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.#handler = handler;
    this.#request = request;
    this.#head = undefined;
    this.#gotBytes = false;
    this.#status = 0;
    this.#framing = 'none';
    this.#responseDone = false;
    this.#keepAlive = true;
    this.#paused = false;
    if (this.connected) this.deadline = Date.now() + this.pool.options.headersTimeout;
    handler.onConnect((err) => this.#abort(err));
    let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
    const h = request.headers;
    for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
    const body = request.body;
    if (body === null) {
      this.#bodySent = true;
      this.socket.write(`${head}\r\n`, 'latin1');
      return;
    }
    this.#bodySent = false;
    const chunked = request.contentLength === undefined;
    this.socket.write(
      chunked ? `${head}transfer-encoding: chunked\r\n\r\n` : `${head}\r\n`,
      'latin1',
    );
    this.#sendBody(body, chunked);
  }

  #sendBody(body: Readable, chunked: boolean): void {
    const socket = this.socket;
    // The wait for the response head counts from the last body byte sent, not from the start.
    const progress = (): void => {
      if (this.#status === 0 && this.connected)
        this.deadline = Date.now() + this.pool.options.headersTimeout;
    };
    const onDrain = (): void => {
      progress();
      body.resume();
    };
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      socket.off('drain', onDrain);
    };
    const onData = (chunk: Buffer): void => {
      if (this.#dead) return;
      progress();
      let ok: boolean;
      if (chunked) {
        if (chunk.length === 0) return;
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
      } else ok = socket.write(chunk);
      if (!ok) body.pause();
    };
    const onEnd = (): void => {
      cleanup();
      if (this.#dead) return;
      if (chunked) socket.write('0\r\n\r\n', 'latin1');
      this.#bodySent = true;
      progress();
      this.#maybeDone();
    };
    const onError = (): void => {
      cleanup();
      this.#abort(upstreamError('request body failed', 'UND_ERR_REQ_CONTENT'));
    };
    const onClose = (): void => {
      if (!this.#bodySent) onError();
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
    socket.on('drain', onDrain);
  }

  /** Called by the pool's sweeper once `deadline` has passed. */
  timedOut(): void {
    this.deadline = 0;
    if (!this.#handler) {
      // Idle past the keep-alive time, or never connected while idle.
      this.#destroy();
      return;
    }
    if (!this.connected) this.#fail(upstreamError('connect timed out', 'UND_ERR_CONNECT_TIMEOUT'));
    else if (this.#status === 0)
      this.#fail(upstreamError('no response in time', 'UND_ERR_HEADERS_TIMEOUT'));
    else this.#fail(upstreamError('response body stalled', 'UND_ERR_BODY_TIMEOUT'));
  }

  #onData(data: Buffer): void {
    if (!this.#handler) {
      // Bytes with no request outstanding: the stream is out of step; drop the connection.
      this.#destroy();
      return;
    }
    this.#gotBytes = true;
    let buf = data;
    while (buf.length > 0 && this.#handler) {
      if (this.#status === 0) {
        const rest = this.#readHead(buf);
        if (rest === null) return;
        buf = rest;
        continue;
      }
      buf = this.#readBody(buf);
    }
  }

  /** Consumes head bytes; returns the bytes after the head, or null when more are needed or it failed. */
  #readHead(data: Buffer): Buffer | null {
    const buf = this.#head ? Buffer.concat([this.#head, data]) : data;
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES)
        this.#fail(upstreamError('response head too large', 'UND_ERR_HEADERS_OVERFLOW'));
      else this.#head = buf;
      return null;
    }
    this.#head = undefined;
    if (end > MAX_HEAD_BYTES) {
      this.#fail(upstreamError('response head too large', 'UND_ERR_HEADERS_OVERFLOW'));
      return null;
    }
    const rest = buf.subarray(end + 4);
    const parsed = this.#parseHead(buf.toString('latin1', 0, end));
    if (!parsed) return null;
    if (parsed.status < 200) return rest; // interim response: wait for the final one
    this.#status = parsed.status;
    this.deadline = Date.now() + this.pool.options.bodyTimeout;
    const handler = this.#handler;
    handler?.onHeaders(parsed.status, parsed.headers, () => this.#resume(), parsed.statusText);
    if (this.#framing === 'none' || (this.#framing === 'length' && this.#remaining === 0)) {
      this.#finishResponse(rest.length > 0);
    }
    return rest;
  }

  #parseHead(text: string): { status: number; statusText: string; headers: string[] } | null {
    const lines = text.split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/.exec(lines[0] ?? '');
    if (!statusLine) {
      this.#fail(upstreamError('malformed status line', 'UND_ERR_BAD_RESPONSE'));
      return null;
    }
    const http10 = statusLine[1] === '0';
    const status = Number(statusLine[2]);
    const headers: string[] = [];
    let length: number | undefined;
    let transferEncoding: string | undefined;
    let connection = '';
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] ?? '';
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) {
        this.#fail(upstreamError('malformed response header', 'UND_ERR_BAD_RESPONSE'));
        return null;
      }
      const value = line.slice(colon + 1).trim();
      const n = name.length;
      if (n === 14 || n === 17 || n === 10) {
        const lower = name.toLowerCase();
        if (lower === 'content-length') {
          if (!/^\d{1,15}$/.test(value) || (length !== undefined && length !== Number(value))) {
            this.#fail(upstreamError('invalid Content-Length', 'UND_ERR_BAD_RESPONSE'));
            return null;
          }
          length = Number(value);
        } else if (lower === 'transfer-encoding') {
          transferEncoding =
            transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
        } else if (lower === 'connection') {
          connection += `${value.toLowerCase()},`;
        }
      }
      headers.push(name, value);
    }
    if (status < 200) return { status, statusText: '', headers };
    this.#keepAlive = http10 ? connection.includes('keep-alive') : !connection.includes('close');
    const bodyless = this.#request?.method === 'HEAD' || status === 204 || status === 304;
    if (transferEncoding !== undefined) {
      if (length !== undefined) {
        this.#fail(
          upstreamError('both Content-Length and Transfer-Encoding', 'UND_ERR_BAD_RESPONSE'),
        );
        return null;
      }
      const codings = transferEncoding
        .toLowerCase()
        .split(',')
        .map((c) => c.trim());
      if (codings[codings.length - 1] === 'chunked') {
        this.#framing = bodyless ? 'none' : 'chunked';
        this.#chunk = Chunk.Size;
        this.#line = '';
      } else {
        this.#framing = bodyless ? 'none' : 'close';
        this.#keepAlive = false;
      }
    } else if (bodyless) {
      this.#framing = 'none';
    } else if (length !== undefined) {
      this.#framing = 'length';
      this.#remaining = length;
    } else {
      this.#framing = 'close';
      this.#keepAlive = false;
    }
    return { status, statusText: statusLine[3] ?? '', headers };
  }

  /** Consumes body bytes; returns what is left after the response (should be nothing). */
  #readBody(buf: Buffer): Buffer {
    const handler = this.#handler;
    if (!handler) return Buffer.alloc(0);
    switch (this.#framing) {
      case 'close':
        this.#emit(buf);
        return Buffer.alloc(0);
      case 'length': {
        const take = Math.min(buf.length, this.#remaining);
        this.#remaining -= take;
        this.#emit(take === buf.length ? buf : buf.subarray(0, take));
        if (this.#remaining === 0) this.#finishResponse(take < buf.length);
        return buf.subarray(take);
      }
      case 'chunked':
        return this.#readChunked(buf);
      default:
        return buf;
    }
  }

  #readChunked(buf: Buffer): Buffer {
    let i = 0;
    while (i < buf.length && this.#handler) {
      if (this.#chunk === Chunk.Data) {
        const take = Math.min(buf.length - i, this.#remaining);
        this.#emit(buf.subarray(i, i + take));
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#chunk = Chunk.DataEnd;
        continue;
      }
      // Size, DataEnd and Trailer states read whole lines.
      const nl = buf.indexOf(10, i);
      const end = nl < 0 ? buf.length : nl + 1;
      this.#line += buf.toString('latin1', i, end);
      i = end;
      if (this.#line.length > MAX_CHUNK_LINE) {
        this.#fail(upstreamError('chunk line too long', 'UND_ERR_BAD_RESPONSE'));
        return Buffer.alloc(0);
      }
      if (nl < 0) break;
      const line = this.#line;
      this.#line = '';
      if (!line.endsWith('\r\n')) {
        this.#fail(upstreamError('malformed chunk', 'UND_ERR_BAD_RESPONSE'));
        return Buffer.alloc(0);
      }
      const content = line.slice(0, -2);
      if (this.#chunk === Chunk.DataEnd) {
        if (content !== '') {
          this.#fail(upstreamError('malformed chunk end', 'UND_ERR_BAD_RESPONSE'));
          return Buffer.alloc(0);
        }
        this.#chunk = Chunk.Size;
      } else if (this.#chunk === Chunk.Size) {
        const sizeText = content.split(';')[0]?.trim() ?? '';
        if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) {
          this.#fail(upstreamError('malformed chunk size', 'UND_ERR_BAD_RESPONSE'));
          return Buffer.alloc(0);
        }
        const size = parseInt(sizeText, 16);
        if (size === 0) this.#chunk = Chunk.Trailer;
        else {
          this.#remaining = size;
          this.#chunk = Chunk.Data;
        }
      } else if (content === '') {
        // Trailers are dropped; the empty line ends the message.
        this.#finishResponse(i < buf.length);
        return buf.subarray(i);
      }
    }
    return buf.subarray(buf.length);
  }

  #emit(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const handler = this.#handler;
    this.deadline = Date.now() + this.pool.options.bodyTimeout;
    if (handler && handler.onData(chunk) === false && !this.#paused) {
      // The client is slow, not the origin: the body timeout waits until we read again.
      this.#paused = true;
      this.deadline = 0;
      this.socket.pause();
    }
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.deadline = Date.now() + this.pool.options.bodyTimeout;
    this.socket.resume();
  }

  /** `extra`: bytes follow the response, so the stream is out of step and the connection must go. */
  #finishResponse(extra: boolean): void {
    if (extra) this.#keepAlive = false;
    this.#responseDone = true;
    this.#maybeDone();
  }

  /** Ends the exchange once the response is complete and the request body fully sent. */
  #maybeDone(): void {
    if (!this.#responseDone || !this.#handler) return;
    if (!this.#bodySent) {
      // The response is complete before the body was: the rest of the body has nowhere to go.
      this.#keepAlive = false;
    }
    const handler = this.#handler;
    this.#handler = undefined;
    this.#request = undefined;
    this.reused = true;
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    if (this.#keepAlive) this.deadline = Date.now() + this.pool.options.keepAliveTimeout;
    else this.#destroy();
    handler.onComplete();
    if (this.#keepAlive && !this.#dead) this.pool.release(this);
  }

  #abort(err?: Error): void {
    const handler = this.#handler;
    this.#handler = undefined;
    this.#destroy();
    if (handler && err === undefined) return;
    handler?.onError(err ?? upstreamError('aborted', 'UND_ERR_ABORTED'));
  }

  #fail(err: Error): void {
    const handler = this.#handler;
    const request = this.#request;
    const stale = this.reused && !this.#gotBytes && this.#bodySent && request?.body === null;
    this.#handler = undefined;
    this.#request = undefined;
    this.#destroy();
    if (!handler || !request) return;
    if (stale && (err as NodeJS.ErrnoException).code !== 'UND_ERR_HEADERS_TIMEOUT') {
      // A kept-alive connection the origin had closed: the request never reached it.
      this.pool.dispatchFresh(request, handler);
      return;
    }
    handler.onError(err);
  }

  #destroy(): void {
    if (this.#dead) return;
    this.#dead = true;
    this.socket.destroy();
    this.pool.forget(this);
  }
}

interface Waiting {
  request: UpstreamRequest;
  handler: UpstreamHandler;
}

/** Connections to one origin. */
export class UpstreamPool {
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #queue: Waiting[] = [];
  #closed = false;
  #sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly options: UpstreamPoolOptions,
  ) {}

  /**
   * Timeouts are checked by one periodic sweep per pool instead of a timer per socket and
   * phase (a Node socket timeout allocates a timer each time it is set, several per request).
   */
  #sweep = (): void => {
    const now = Date.now();
    for (const c of this.#all) if (c.deadline !== 0 && now >= c.deadline) c.timedOut();
    if (this.#all.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };

  get connections(): number {
    return this.#all.size;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onError(upstreamError('upstream pool closed', 'UND_ERR_CLOSED'));
      return;
    }
    const conn = this.#idle.pop() ?? this.#open();
    if (conn) conn.start(request, handler);
    else this.#queue.push({ request, handler });
  }

  /** Sends on a new connection (after a stale kept-alive one failed), queueing if at the limit. */
  dispatchFresh(request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onError(upstreamError('upstream pool closed', 'UND_ERR_CLOSED'));
      return;
    }
    const conn = this.#open();
    if (conn) conn.start(request, handler);
    else this.#queue.unshift({ request, handler });
  }

  #open(): Connection | undefined {
    if (this.#all.size >= this.options.connections) return undefined;
    const conn = new Connection(this, this.host, this.port);
    this.#all.add(conn);
    if (!this.#sweeper) {
      const o = this.options;
      const shortest = Math.min(
        o.connectTimeout,
        o.headersTimeout,
        o.bodyTimeout,
        o.keepAliveTimeout,
      );
      this.#sweeper = setInterval(
        this.#sweep,
        Math.max(25, Math.min(1000, Math.floor(shortest / 8))),
      );
      this.#sweeper.unref();
    }
    return conn;
  }

  release(conn: Connection): void {
    if (this.#closed) {
      conn.socket.destroy();
      return;
    }
    const next = this.#queue.shift();
    if (next) conn.start(next.request, next.handler);
    else this.#idle.push(conn);
  }

  forget(conn: Connection): void {
    this.#all.delete(conn);
    const at = this.#idle.indexOf(conn);
    if (at >= 0) this.#idle.splice(at, 1);
    // A slot came free: a waiting request may open a connection now.
    if (!this.#closed && this.#queue.length > 0 && this.#all.size < this.options.connections) {
      const next = this.#queue.shift();
      if (next) this.dispatch(next.request, next.handler);
    }
  }

  /** Drops idle connections now and the others once their exchange ends; fails waiting requests. */
  close(): void {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const w of this.#queue.splice(0))
      w.handler.onError(upstreamError('upstream pool closed', 'UND_ERR_CLOSED'));
    for (const c of this.#idle.splice(0)) c.socket.destroy();
  }

  /** Drops every connection now. */
  destroy(): void {
    this.close();
    for (const c of this.#all) c.socket.destroy();
  }
}
