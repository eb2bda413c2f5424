/**
 * One proxied request: sends it to the chosen endpoint through the origin's connection pool
 * and streams the response back, adding the session cookie (or header) the decision calls
 * for. The response head arrives as strings and leaves through `writeHead` as a flat list,
 * so no intermediate stream or header object is made.
 *
 * Request bodies: one with a Content-Length up to `bodyBufferBytes` is read whole before an
 * upstream connection is taken (as nginx buffers), so a client that trickles its body holds
 * no upstream connection; a larger or chunked body is streamed. Either way a body that stops
 * arriving for `clientBodyTimeoutMs` ends the exchange with 408.
 *
 * Failures before the response starts: a refused connection marks the endpoint down for a
 * while and, for an idempotent request without a body, is retried once on another endpoint
 * (policy permitting); `retryElsewhere` also retries a connection that broke before any
 * response. A request body is never sent twice. A response that does not start in time is 504;
 * one the upstream client refuses as malformed is 502; a full or too slow upstream queue 503.
 *
 * Every callback is guarded: an exception inside one exchange closes that exchange (502
 * before the response starts, a reset after), is counted and logged, and nothing else.
 */
import type { Readable } from 'node:stream';
import { redecide, staysPinnedOnFailure, type AffinityContext, type Decision } from './affinity';
import type { IncomingFacts } from './headers';
import { responseHeaders } from './response-headers';
import type { UpstreamHandler } from './upstream/request';
import type { UpstreamPool } from './upstream/pool';
import { hostPortOf, type EndpointRuntime, type SetRuntime } from './runtime';
import type { UpstreamTls } from './upstream/tls';
import type { SessionToken } from './token';

/** Bodies up to this size leave in the same write as the response head. */
const SMALL_BODY = 16 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const CONNECT_ERRORS: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const BROKEN_BEFORE_RESPONSE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
export const TIMEOUT_ERRORS: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);
const BUSY_ERRORS = new Set(['UND_ERR_QUEUE_FULL', 'UND_ERR_QUEUE_TIMEOUT']);
const BAD_RESPONSE_ERRORS = new Set(['UND_ERR_BAD_RESPONSE', 'UND_ERR_HEADERS_OVERFLOW']);

/** What an exchange needs from the proxy. */
export interface ForwardHost {
  readonly affinity: AffinityContext;
  pool(ep: EndpointRuntime, tls?: UpstreamTls): UpstreamPool;
  /** The TLS the set speaks to its endpoints; undefined for plain HTTP. */
  upstreamTls(set: SetRuntime): UpstreamTls | undefined;
  now(): number;
  downMs: number;
  encodeToken(set: SetRuntime, token: SessionToken): string;
  finished(
    set: SetRuntime,
    code: number,
    ep: EndpointRuntime | undefined,
    startedMs: number,
    headersMs: number,
  ): void;
  session(set: SetRuntime, event: Decision['event']): void;
  retried(set: SetRuntime): void;
  requestStarted(): void;
  requestEnded(): void;
  upstreamError(set: SetRuntime, ep: EndpointRuntime, err: Error): void;
  /** An exception was caught in the data path: count and log it. */
  internalError(where: string, err: unknown): void;
  /** Request bodies with a Content-Length up to this are read whole before going upstream. */
  readonly bodyBufferBytes: number;
  /** Longest pause inside a request body; then 408. */
  readonly clientBodyTimeoutMs: number;
}

/**
 * The client's request as an exchange reads it: an HTTP/1.1 `IncomingMessage` or an HTTP/2
 * stream's request (see `http2/`).
 */
export type ClientRequest = Readable & {
  /** The whole body has been received (HTTP/1.1, where a body left unread closes the connection). */
  readonly complete?: boolean;
};

/**
 * The client's response as an exchange writes it: an HTTP/1.1 `ServerResponse`, or an HTTP/2
 * stream's response behind `http2/response.ts`, which drops what HTTP/2 has no place for.
 */
export interface ClientResponse {
  readonly headersSent: boolean;
  /** False: the connection closes after this response (HTTP/1.1 only). */
  shouldKeepAlive: boolean;
  writeHead(status: number, statusText: string | undefined, headers: string[]): unknown;
  write(chunk: Buffer): boolean;
  end(chunk?: Buffer): unknown;
  end(chunk: string, encoding: BufferEncoding): unknown;
  flushHeaders(): void;
  /**
   * A response that is its head alone, sent as one HEADERS frame that ends the stream (HTTP/2
   * only): a gRPC trailers-only answer must come so to be read as one.
   */
  headOnly?(status: number, headers: string[]): void;
  /** Trailers will follow the body (`addTrailers`): an HTTP/2 head must say so when it goes. */
  expectTrailers?(): void;
  /** Fields sent after the body (HTTP/1.1: only with chunked coding). */
  addTrailers(trailers: Record<string, string>): void;
  destroy(err?: Error): unknown;
  once(event: 'close' | 'drain', listener: () => void): unknown;
}

export function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : '';
}

/**
 * An endpoint failed before answering: it is marked down for a while if it refused the
 * connection, and the failure is logged. Returns the error's code and whether it was a failure
 * to connect.
 */
export function endpointFailed(
  host: ForwardHost,
  set: SetRuntime,
  ep: EndpointRuntime,
  err: Error,
): { code: string; connectFailed: boolean } {
  const code = errorCode(err);
  const connectFailed = CONNECT_ERRORS.has(code);
  if (connectFailed) ep.stats.downUntil = host.now() + host.downMs;
  host.upstreamError(set, ep, err);
  return { code, connectFailed };
}

/**
 * The decision for another endpoint after `ep` failed, counted as a retry (and as a session
 * event if it moves the session), or undefined when none is left.
 */
export function retryElsewhere(
  host: ForwardHost,
  set: SetRuntime,
  facts: IncomingFacts,
  decision: Decision,
  ep: EndpointRuntime,
): Decision | undefined {
  const next = redecide(set, facts, host.affinity, decision, ep);
  if (!next?.endpoint) return undefined;
  if (next.event && next.event !== decision.event) host.session(set, next.event);
  host.retried(set);
  return next;
}

export function plainResponse(
  res: ClientResponse,
  status: number,
  message: string,
  close = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  const headers = [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
  ];
  if (close) {
    // The rest of the request is unread: the connection cannot carry another one.
    res.shouldKeepAlive = false;
    headers.push('connection', 'close');
  }
  res.writeHead(status, undefined, headers);
  res.end(body, 'utf8');
}

export class Exchange implements UpstreamHandler {
  #abort: ((err?: Error) => void) | undefined;
  #resume: (() => void) | undefined;
  #pending: Buffer | undefined;
  /** Some body went out already (so the response head has been flushed). */
  #wrote = false;
  #started = 0;
  #headersAt = 0;
  #status = 0;
  #done = false;
  #attempts = 0;
  #decision: Decision;
  #ep: EndpointRuntime;
  /** The whole body, once read, for a body small enough to buffer. */
  #body: Buffer | undefined;
  /** Fires when the client's body stops arriving; refreshed by each chunk. */
  #bodyTimer: NodeJS.Timeout | undefined;
  /** The response head went to the client ahead of any body (a streaming response). */
  #headFlushed = false;
  /** The current endpoint counts this exchange among its active ones. */
  #counted = false;

  constructor(
    readonly host: ForwardHost,
    readonly set: SetRuntime,
    readonly facts: IncomingFacts,
    readonly req: ClientRequest,
    readonly res: ClientResponse,
    decision: Decision,
    endpoint: EndpointRuntime,
  ) {
    this.#decision = decision;
    this.#ep = endpoint;
    host.requestStarted();
    res.once('close', this.#onClose);
  }

  /** What the response answers: the current decision and endpoint (after a retry, the new ones). */
  get decision(): Decision {
    return this.#decision;
  }

  get endpoint(): EndpointRuntime {
    return this.#ep;
  }

  readonly #onClose = (): void => {
    try {
      this.host.requestEnded();
      this.#stopBodyTimer();
      if (!this.#done) {
        this.#done = true;
        this.#abort?.(new Error('client went away'));
      }
    } catch (err) {
      this.host.internalError('client close', err);
    }
  };

  #onDrain: (() => void) | undefined;

  /** Sends the request: reads a small body whole first, then goes to the current endpoint. */
  start(): void {
    const facts = this.facts;
    if (!facts.hasBody) {
      this.send();
      return;
    }
    this.#armBodyTimer();
    const length = facts.contentLength;
    if (length === undefined || length > this.host.bodyBufferBytes) {
      // Streamed: the upstream client reads the body (onBodyProgress refreshes the timer). No
      // reader of ours may start it flowing before that client listens, or bytes are lost
      // while the request waits for a connection.
      this.send();
      return;
    }
    const chunks: Buffer[] = [];
    const req = this.req;
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      this.#bodyTimer?.refresh();
    });
    req.once('end', () =>
      this.#guard('request body', () => {
        this.#body = Buffer.concat(chunks);
        if (!this.#done) this.send();
      }),
    );
  }

  /** Sends the request to the current endpoint. */
  send(): void {
    const ep = this.#ep;
    this.#attempts++;
    this.#started = this.host.now();
    ep.stats.active++;
    this.#counted = true;
    const facts = this.facts;
    const headers = facts.upstreamHeaders(this.set.cookie?.name, false);
    if (facts.hostHeader === undefined) headers.push('host', hostPortOf(ep));
    const method = facts.method;
    this.host.pool(ep, this.host.upstreamTls(this.set)).dispatch(
      {
        method,
        path: facts.url,
        headers,
        body: facts.hasBody ? (this.#body ?? this.req) : null,
        contentLength: facts.contentLength,
        idempotent: IDEMPOTENT.has(method),
      },
      this,
    );
  }

  #armBodyTimer(): void {
    const timer = setTimeout(
      () => this.#guard('body timeout', this.#bodyStalled),
      this.host.clientBodyTimeoutMs,
    );
    timer.unref();
    this.#bodyTimer = timer;
    // 'end' does not start the stream flowing; 'data' would.
    this.req.once('end', () => this.#stopBodyTimer());
  }

  onBodyProgress(): void {
    this.#bodyTimer?.refresh();
  }

  /** The endpoint stops counting this exchange as active (once). */
  #uncount(): void {
    if (!this.#counted) return;
    this.#counted = false;
    this.#ep.stats.active--;
  }

  #stopBodyTimer(): void {
    if (this.#bodyTimer === undefined) return;
    clearTimeout(this.#bodyTimer);
    this.#bodyTimer = undefined;
  }

  /** The client stopped sending its body: 408 (or a cut connection once the response started). */
  readonly #bodyStalled = (): void => {
    this.#bodyTimer = undefined;
    if (this.#done) return;
    this.#done = true;
    this.#uncount();
    const abort = this.#abort;
    this.#abort = undefined;
    abort?.();
    if (this.#status === 0) {
      plainResponse(this.res, 408, 'request body timed out', true);
      this.host.finished(this.set, 408, this.#ep, this.#started, 0);
    } else {
      this.res.destroy();
      this.host.finished(this.set, this.#status, this.#ep, this.#started, this.#headersAt);
    }
  };

  /** Runs `fn`; an exception closes this exchange instead of reaching the event loop. */
  #guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#crashed(where, err);
    }
  }

  #crashed(where: string, err: unknown): void {
    this.host.internalError(where, err);
    const wasDone = this.#done;
    this.#done = true;
    this.#uncount();
    this.#stopBodyTimer();
    try {
      const abort = this.#abort;
      this.#abort = undefined;
      abort?.();
      if (this.res.headersSent || this.#wrote) this.res.destroy();
      else plainResponse(this.res, 502, 'upstream response could not be relayed', true);
      if (!wasDone) this.host.finished(this.set, 502, this.#ep, this.#started, 0);
    } catch (again) {
      this.host.internalError(where, again);
      this.res.destroy();
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#done) abort(new Error('client went away'));
  }

  onHeaders(
    statusCode: number,
    rawHeaders: string[],
    resume: () => void,
    statusText: string,
  ): void {
    // Guarded inline: a closure per response would cost on the hot path.
    try {
      this.#onHeaders(statusCode, rawHeaders, resume, statusText);
    } catch (err) {
      this.#crashed('response head', err);
    }
  }

  #onHeaders(
    statusCode: number,
    rawHeaders: string[],
    resume: () => void,
    statusText: string,
  ): void {
    if (this.#done) return;
    this.#resume = resume;
    this.#status = statusCode;
    const now = this.host.now();
    this.#headersAt = now;
    const stats = this.#ep.stats;
    const took = now - this.#started;
    stats.ewmaMs = stats.ewmaMs === 0 ? took : stats.ewmaMs * 0.8 + took * 0.2;
    const headers = responseHeaders(this, rawHeaders, now);
    this.res.writeHead(statusCode, statusText || undefined, headers);
  }

  onData(chunk: Buffer): boolean {
    // Hold one chunk back until the end of the upstream's batch (`onFlush`), so that a small
    // response goes out with its headers in one write.
    const held = this.#pending;
    this.#pending = chunk;
    if (held === undefined) return true;
    return this.#write(held);
  }

  #write(chunk: Buffer): boolean {
    this.#wrote = true;
    try {
      if (this.res.write(chunk)) return true;
    } catch (err) {
      this.#crashed('response body', err);
      return true;
    }
    this.#onDrain ??= () => this.#resume?.();
    this.res.once('drain', this.#onDrain);
    return false;
  }

  onFlush(): void {
    if (this.#done) return;
    const held = this.#pending;
    if (held !== undefined) {
      this.#pending = undefined;
      this.#write(held);
    } else if (!this.#wrote && !this.#headFlushed) {
      // A head with no body yet (server-sent events, a long poll): the client sees it now.
      this.#headFlushed = true;
      this.#guard('response head', () => this.res.flushHeaders());
    }
  }

  onComplete(): void {
    try {
      this.#onComplete();
    } catch (err) {
      this.#crashed('response end', err);
    }
  }

  #onComplete(): void {
    this.#uncount();
    if (this.#done) return;
    this.#done = true;
    const held = this.#pending;
    this.#pending = undefined;
    if (held === undefined) this.res.end();
    else if (held.length <= SMALL_BODY && !this.#wrote && !this.#headFlushed) {
      // Node joins a string body with the response head into one write; latin1 keeps bytes as they are.
      this.res.end(held.toString('latin1'), 'latin1');
    } else this.res.end(held);
    this.host.finished(this.set, this.#status, this.#ep, this.#started, this.#headersAt);
  }

  onError(err: Error): void {
    this.#guard('upstream error', () => this.#onError(err));
  }

  #onError(err: Error): void {
    const ep = this.#ep;
    this.#uncount();
    if (this.#done) return;
    const beforeResponse = this.#status === 0;
    if (beforeResponse) {
      const { code, connectFailed } = endpointFailed(this.host, this.set, ep, err);
      const next = this.#retryable(connectFailed, code)
        ? retryElsewhere(this.host, this.set, this.facts, this.#decision, ep)
        : undefined;
      if (next?.endpoint) {
        this.#decision = next;
        this.#ep = next.endpoint;
        this.send();
        return;
      }
      this.#done = true;
      this.#stopBodyTimer();
      const status = TIMEOUT_ERRORS.has(code) ? 504 : BUSY_ERRORS.has(code) ? 503 : 502;
      if (status === 502 && this.#decision.pinned && staysPinnedOnFailure(this.set.policy))
        this.host.session(this.set, 'failed');
      plainResponse(
        this.res,
        status,
        status === 504
          ? 'upstream timed out'
          : status === 503
            ? 'upstream busy'
            : BAD_RESPONSE_ERRORS.has(code)
              ? 'upstream sent an invalid response'
              : 'upstream unavailable',
        // A body the upstream never took is still on the client's connection.
        this.facts.hasBody && this.req.complete === false,
      );
      this.host.finished(this.set, status, ep, this.#started, 0);
      return;
    }
    // The response had started: all we can do is cut the connection so the client sees it is incomplete.
    this.#done = true;
    this.res.destroy(err);
    this.host.finished(this.set, this.#status, ep, this.#started, this.#headersAt);
  }

  #retryable(connectFailed: boolean, code: string): boolean {
    if (this.#attempts > 1 || this.facts.hasBody) return false;
    if (!IDEMPOTENT.has(this.facts.method)) return false;
    if (connectFailed) return true;
    return this.set.policy.onFailure === 'retryElsewhere' && BROKEN_BEFORE_RESPONSE.has(code);
  }
}
