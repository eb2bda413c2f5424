/**
 * One keep-alive connection to an origin, running one exchange at a time: writes the request
 * head and body, reads the response through ResponseParser, and reports to its pool when it
 * is free again or gone.
 */
import { connect, type OnReadOpts, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';
import { ResponseParser, type ResponseHead, type ResponseSink } from '../response-parser';
import {
  requestHead,
  upstreamError,
  type UpstreamHandler,
  type UpstreamPoolOptions,
  type UpstreamRequest,
} from './request';

/**
 * Where every upstream socket reads into. Node's own reads allocate 64 KiB for each read and
 * then shrink it to what arrived; reading into one buffer and copying out what arrived takes
 * 4 to 5 % more requests per second from one core (test/bench/README.md). The copy is
 * what makes the sharing safe: the next read, on any socket, overwrites this buffer, while
 * the bytes of this one may be held (a chunk kept for the next write, a write queued behind
 * a slow client), so nothing downstream ever sees the buffer itself.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** What a connection needs of the pool that owns it. */
export interface ConnectionOwner {
  readonly options: UpstreamPoolOptions;
  /** The connection finished an exchange and may take another. */
  release(conn: Connection): void;
  /** The connection is closed. */
  forget(conn: Connection): void;
  /** Sends a request again on a new connection (a reused one was found stale). */
  dispatchFresh(request: UpstreamRequest, handler: UpstreamHandler): void;
  /** The last TLS session with the origin, offered again to skip a full handshake. */
  tlsSession: Buffer | undefined;
}

/** One connection to the origin; runs one exchange at a time. */
export class Connection implements ResponseSink {
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
    readonly pool: ConnectionOwner,
    host: string,
    port: number,
  ) {
    const tls = pool.options.tls;
    const onread: OnReadOpts = { buffer: READ_BUFFER, callback: this.#onRead };
    let socket: Socket;
    if (tls) {
      // tls.connect takes `onread` as net.connect does (Node's documentation); its type omits it.
      const options: ConnectionOptions & { onread: OnReadOpts } = {
        ...tls,
        host,
        port,
        onread,
        ...(pool.tlsSession ? { session: pool.tlsSession } : {}),
      };
      socket = tlsConnect(options);
    } else socket = connect({ host, port, onread });
    this.socket = socket;
    socket.setNoDelay(true);
    this.deadline = Date.now() + pool.options.connectTimeout;
    if (tls)
      socket.on('session', (session: Buffer) => {
        pool.tlsSession = session;
      });
    // Over TLS the connection is up once the handshake (and the certificate check) is done.
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      const o = pool.options;
      this.deadline = Date.now() + (this.#handler ? o.headersTimeout : o.keepAliveTimeout);
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

  /** `length` bytes arrived in `buffer` (READ_BUFFER): copied out, then parsed. */
  readonly #onRead = (length: number, buffer: Uint8Array): boolean => {
    // Guarded inline: a closure per read would cost on the hot path.
    try {
      this.#onData(Buffer.from(buffer.subarray(0, length)));
    } catch (err) {
      this.#crashed('upstream data', err);
    }
    // Reading goes on; a slow client pauses the socket itself (`onBody`).
    return true;
  };

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
