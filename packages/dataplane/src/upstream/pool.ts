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
import { Connection, type ConnectionOwner } from './connection';
import {
  upstreamError,
  type UpstreamHandler,
  type UpstreamPoolOptions,
  type UpstreamRequest,
} from './request';

interface Waiting {
  request: UpstreamRequest;
  handler: UpstreamHandler;
  /** When (ms) it stops waiting. */
  until: number;
}

/** Connections to one origin. */
export class UpstreamPool implements ConnectionOwner {
  readonly #idle: Connection[] = [];
  readonly #all = new Set<Connection>();
  readonly #queue: Waiting[] = [];
  #closed = false;
  tlsSession: Buffer | undefined = undefined;
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
