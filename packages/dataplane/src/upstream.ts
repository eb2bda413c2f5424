/**
 * A lean HTTP/1.1 client for talking to upstream endpoints: one request at a time per
 * connection, kept-alive connections on an idle stack per origin, a bounded queue beyond the
 * connection limit.
 *
 * Why not undici: on the proxy's hot path undici cost about a fifth of the CPU time per
 * request (request object and header validation, a WebAssembly parser whose header buffers
 * we then turn back into strings, and its dispatcher machinery). This client writes the
 * request head as one string and reads the response with `ResponseParser`, which accepts
 * only what Node's own parser accepts (see `response-parser.ts`), so nothing is smuggled onto
 * a reused connection. That it stays so is proven by the differential tests beside it.
 *
 * The client owns request framing: callers pass headers without Content-Length or
 * Transfer-Encoding, and the client writes the one it sends the body with.
 *
 * Errors carry the same `code`s as undici so that callers can tell a refused connection
 * (`ECONNREFUSED`, `UND_ERR_CONNECT_TIMEOUT`, …) from a connection that broke before the
 * response (`UND_ERR_SOCKET`), from a response that did not start in time
 * (`UND_ERR_HEADERS_TIMEOUT`), and from a queue that is full or waited too long
 * (`UND_ERR_QUEUE_FULL`, `UND_ERR_QUEUE_TIMEOUT`).
 */
import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { ResponseParser, type ResponseHead, type ResponseSink } from './response-parser';

export interface UpstreamRequest {
  method: string;
  path: string;
  /** Flat [name, value, …], without Content-Length and Transfer-Encoding (the client frames). */
  headers: string[];
  /** The request body, streamed once, or a buffered one; null for none. */
  body: Readable | Buffer | null;
  /** Content-Length of the body when known (0 for an empty one); chunked transfer coding otherwise. */
  contentLength: number | undefined;
  /** Safe to send again on a new connection if a kept-alive one turns out closed (RFC 9110 §9.2.2). */
  idempotent: boolean;
}

export interface UpstreamHandler {
  /** The request is under way (or waiting); `abort` drops it (and its connection). */
  onConnect(abort: (err?: Error) => void): void;
  /** `headers` is flat [name, value, …] as received; `resume` restarts a paused body. */
  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): void;
  /** Return false to pause until `resume` is called. */
  onData(chunk: Buffer): boolean;
  /** A piece of a streamed request body went upstream. */
  onBodyProgress(): void;
  /** The bytes that arrived so far have been handed over and more may take a while: pass them on. */
  onFlush(): void;
  onComplete(): void;
  onError(err: Error): void;
}

export interface UpstreamPoolOptions {
  connections: number;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
  /** Requests that may wait for a connection; more are refused at once. */
  queueLimit: number;
  /** How long a request may wait for a connection. */
  queueTimeout: number;
  /** An exception was caught in a socket or stream callback (its exchange fails with 502). */
  internalError(where: string, err: unknown): void;
}

export function upstreamError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The request line, headers and the framing header for the body, ending with the empty line. */
export function requestHead(request: UpstreamRequest): string {
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  const h = request.headers;
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
  if (request.contentLength !== undefined)
    return `${head}content-length: ${request.contentLength}\r\n\r\n`;
  return request.body === null ? `${head}\r\n` : `${head}transfer-encoding: chunked\r\n\r\n`;
}

/** One connection to the origin; runs one exchange at a time. */
class Connection implements ResponseSink {
  readonly socket: Socket;
  connected = false;
  /** When (ms) the current wait — connect, response head, body, or idle keep-alive — times out; 0 for none. */
  deadline = 0;
  /** Has completed at least one exchange (so a failure before any byte may be a stale keep-alive). */
  reused = false;
  readonly #parser = new ResponseParser(this);
  #handler: UpstreamHandler | undefined;
  #request: UpstreamRequest | undefined;
  #gotBytes = false;
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
    socket.on('data', (d: Buffer) => {
      // Guarded inline: a closure per chunk would cost on the hot path.
      try {
        this.#onData(d);
      } catch (err) {
        this.#crashed('upstream data', err);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      this.#guard('upstream error', () =>
        this.#fail(err.code ? err : upstreamError(err.message, 'UND_ERR_SOCKET')),
      ),
    );
    socket.on('close', () =>
      this.#guard('upstream close', () => {
        if (this.#handler && this.#parser.finishAtEof()) return;
        this.#fail(upstreamError('upstream closed the connection', 'UND_ERR_SOCKET'));
      }),
    );
  }

  /** Runs a socket or stream callback; an exception fails this exchange, never the process. */
  #guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#crashed(where, err);
    }
  }

  #crashed(where: string, err: unknown): void {
    this.pool.options.internalError(where, err);
    try {
      this.#fail(upstreamError('internal error', 'ERR_PROXY_INTERNAL'));
    } catch (again) {
      this.pool.options.internalError(where, again);
      this.socket.destroy();
    }
  }

  get busy(): boolean {
    return this.#handler !== undefined;
  }

  start(request: UpstreamRequest, handler: UpstreamHandler): void {
    this.#handler = handler;
    this.#request = request;
    this.#gotBytes = false;
    this.#responseDone = false;
    this.#paused = false;
    this.#parser.start(request.method);
    if (this.connected) this.deadline = Date.now() + this.pool.options.headersTimeout;
    handler.onConnect((err) => this.#abort(err));
    if (this.#handler !== handler) return;
    const head = requestHead(request);
    const body = request.body;
    if (body === null) {
      this.#bodySent = true;
      this.socket.write(head, 'latin1');
    } else if (Buffer.isBuffer(body)) {
      this.#bodySent = true;
      this.socket.write(Buffer.concat([Buffer.from(head, 'latin1'), body]));
    } else {
      this.#bodySent = false;
      this.socket.write(head, 'latin1');
      this.#sendBody(body, request.contentLength === undefined);
    }
  }

  #sendBody(body: Readable, chunked: boolean): void {
    const socket = this.socket;
    // The wait for the response head counts from the last body byte sent, not from the start.
    const progress = (): void => {
      if (!this.#parser.started && this.connected)
        this.deadline = Date.now() + this.pool.options.headersTimeout;
    };
    const listeners = {
      drain: (): void => {
        progress();
        body.resume();
      },
      data: (chunk: Buffer): void => {
        if (this.#dead) return;
        progress();
        this.#handler?.onBodyProgress();
        let ok: boolean;
        if (chunked) {
          if (chunk.length === 0) return;
          socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
          socket.write(chunk);
          ok = socket.write('\r\n', 'latin1');
        } else ok = socket.write(chunk);
        if (!ok) body.pause();
      },
      end: (): void => {
        cleanup();
        if (this.#dead) return;
        if (chunked) socket.write('0\r\n\r\n', 'latin1');
        this.#bodySent = true;
        progress();
        this.#maybeDone();
      },
      error: (): void => {
        cleanup();
        this.#abort(upstreamError('request body failed', 'UND_ERR_REQ_CONTENT'));
      },
      close: (): void => {
        if (!this.#bodySent) listeners.error();
      },
    };
    // Each callback guarded, so that an exception fails this exchange and not the process.
    const guarded = {
      drain: () => this.#guard('upstream drain', listeners.drain),
      data: (chunk: Buffer) => this.#guard('request body', () => listeners.data(chunk)),
      end: () => this.#guard('request body end', listeners.end),
      error: () => this.#guard('request body error', listeners.error),
      close: () => this.#guard('request body close', listeners.close),
    };
    const cleanup = (): void => {
      body.off('data', guarded.data);
      body.off('end', guarded.end);
      body.off('error', guarded.error);
      body.off('close', guarded.close);
      socket.off('drain', guarded.drain);
    };
    body.on('data', guarded.data);
    body.once('end', guarded.end);
    body.once('error', guarded.error);
    body.once('close', guarded.close);
    socket.on('drain', guarded.drain);
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
    else if (!this.#parser.started)
      this.#fail(upstreamError('no response in time', 'UND_ERR_HEADERS_TIMEOUT'));
    else this.#fail(upstreamError('response body stalled', 'UND_ERR_BODY_TIMEOUT'));
  }

  #onData(data: Buffer): void {
    const handler = this.#handler;
    if (!handler || !this.#parser.active) {
      // Bytes with no response expected: the stream is out of step; drop the connection.
      this.#destroy();
      return;
    }
    this.#gotBytes = true;
    this.#parser.execute(data);
    // Whatever this batch carried is out of the parser: let the exchange pass it on now
    // rather than wait for the next batch (server-sent events, long polls).
    if (this.#handler === handler && this.#parser.started) handler.onFlush();
  }

  // ResponseSink: what the parser reads.

  onHead(head: ResponseHead): void {
    this.deadline = Date.now() + this.pool.options.bodyTimeout;
    this.#handler?.onHeaders(head.status, head.headers, () => this.#resume(), head.statusText);
  }

  onBody(chunk: Buffer): void {
    const handler = this.#handler;
    this.deadline = Date.now() + this.pool.options.bodyTimeout;
    if (handler && handler.onData(chunk) === false && !this.#paused) {
      // The client is slow, not the origin: the body timeout waits until we read again.
      this.#paused = true;
      this.deadline = 0;
      this.socket.pause();
    }
  }

  onEnd(): void {
    this.#responseDone = true;
    this.#maybeDone();
  }

  onInvalid(message: string, code: string): void {
    this.#fail(upstreamError(message, code));
  }

  #resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.deadline = Date.now() + this.pool.options.bodyTimeout;
    this.socket.resume();
  }

  /** Ends the exchange once the response is complete and the request body fully sent. */
  #maybeDone(): void {
    if (!this.#responseDone || !this.#handler) return;
    // A response complete before the body was: the rest of the body has nowhere to go.
    const keepAlive = this.#parser.keepAlive && this.#bodySent;
    const handler = this.#handler;
    this.#handler = undefined;
    this.#request = undefined;
    this.reused = true;
    if (this.#paused) {
      this.#paused = false;
      this.socket.resume();
    }
    if (keepAlive) this.deadline = Date.now() + this.pool.options.keepAliveTimeout;
    else this.#destroy();
    handler.onComplete();
    if (keepAlive && !this.#dead) this.pool.release(this);
  }

  #abort(err?: Error): void {
    const handler = this.#handler;
    this.#handler = undefined;
    this.#parser.stop();
    this.#destroy();
    if (handler && err === undefined) return;
    handler?.onError(err ?? upstreamError('aborted', 'UND_ERR_ABORTED'));
  }

  #fail(err: Error): void {
    const handler = this.#handler;
    const request = this.#request;
    // A kept-alive connection that the origin had closed: the request never reached it. Only
    // a request that is safe to repeat and had no body is sent again.
    const stale =
      this.reused &&
      !this.#gotBytes &&
      this.#bodySent &&
      request?.body === null &&
      request.idempotent &&
      (err as NodeJS.ErrnoException).code !== 'UND_ERR_HEADERS_TIMEOUT';
    this.#handler = undefined;
    this.#request = undefined;
    this.#parser.stop();
    this.#destroy();
    if (!handler || !request) return;
    if (stale) this.pool.dispatchFresh(request, handler);
    else handler.onError(err);
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
  /** When (ms) it stops waiting. */
  until: number;
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
   * The queue is in arrival order, so only its head can have waited too long.
   */
  #sweep = (): void => {
    const now = Date.now();
    for (const c of this.#all) if (c.deadline !== 0 && now >= c.deadline) c.timedOut();
    while (this.#queue.length > 0 && now >= (this.#queue[0]?.until ?? Infinity)) {
      const w = this.#queue.shift();
      w?.handler.onError(
        upstreamError('no upstream connection free in time', 'UND_ERR_QUEUE_TIMEOUT'),
      );
    }
    if (this.#all.size === 0 && this.#queue.length === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  };

  get connections(): number {
    return this.#all.size;
  }

  /** Requests waiting for a connection. */
  get waiting(): number {
    return this.#queue.length;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onError(upstreamError('upstream pool closed', 'UND_ERR_CLOSED'));
      return;
    }
    const conn = this.#idle.pop() ?? this.#open();
    if (conn) conn.start(request, handler);
    else this.#wait(request, handler, false);
  }

  /** Sends on a new connection (after a stale kept-alive one failed), queueing first if at the limit. */
  dispatchFresh(request: UpstreamRequest, handler: UpstreamHandler): void {
    if (this.#closed) {
      handler.onError(upstreamError('upstream pool closed', 'UND_ERR_CLOSED'));
      return;
    }
    const conn = this.#open();
    if (conn) conn.start(request, handler);
    else this.#wait(request, handler, true);
  }

  #wait(request: UpstreamRequest, handler: UpstreamHandler, first: boolean): void {
    if (this.#queue.length >= this.options.queueLimit) {
      handler.onError(
        upstreamError('too many requests waiting for this upstream', 'UND_ERR_QUEUE_FULL'),
      );
      return;
    }
    const w: Waiting = { request, handler, until: Date.now() + this.options.queueTimeout };
    if (first) this.#queue.unshift(w);
    else this.#queue.push(w);
    this.#ensureSweeper();
    handler.onConnect((err) => {
      const at = this.#queue.indexOf(w);
      if (at < 0) return;
      this.#queue.splice(at, 1);
      if (err) handler.onError(err);
    });
  }

  #open(): Connection | undefined {
    if (this.#all.size >= this.options.connections) return undefined;
    const conn = new Connection(this, this.host, this.port);
    this.#all.add(conn);
    this.#ensureSweeper();
    return conn;
  }

  #ensureSweeper(): void {
    if (this.#sweeper) return;
    const o = this.options;
    const shortest = Math.min(
      o.connectTimeout,
      o.headersTimeout,
      o.bodyTimeout,
      o.keepAliveTimeout,
      o.queueTimeout,
    );
    this.#sweeper = setInterval(
      this.#sweep,
      Math.max(25, Math.min(1000, Math.floor(shortest / 8))),
    );
    this.#sweeper.unref();
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
