/**
 * One proxied request: sends it to the chosen endpoint through the origin's connection pool
 * and streams the response back, adding the session cookie (or header) the decision calls
 * for. The response head arrives as strings and leaves through `writeHead` as a flat list,
 * so no intermediate stream or header object is made.
 *
 * Failures before the response starts: a refused connection marks the endpoint down for a
 * while and, for an idempotent request without a body, is retried once on another endpoint
 * (policy permitting); `retryElsewhere` also retries a connection that broke before any
 * response. A request body is never sent twice. A response that does not start in time is 504.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redecide, newToken, type AffinityContext, type Decision } from './affinity';
import { deleteCookieValue, parseSetCookie, setCookieValue } from './cookies';
import type { IncomingFacts } from './headers';
import type { UpstreamHandler, UpstreamPool } from './upstream';
import { HOP_BY_HOP_NAMES, isHopByHop } from './headers';
import { hostPortOf, type EndpointRuntime, type SetRuntime } from './runtime';
import type { SessionToken } from './token';

/** By name length: whether a response header may need more than copying. */
const RESPONSE_SPECIAL: boolean[] = [];
for (const name of [...HOP_BY_HOP_NAMES, 'cache-control', 'set-cookie'])
  RESPONSE_SPECIAL[name.length] = true;
/** Bodies up to this size leave in the same write as the response head. */
const SMALL_BODY = 16 * 1024;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const BROKEN_BEFORE_RESPONSE = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);
const TIMEOUT_ERRORS = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** What an exchange needs from the proxy. */
export interface ForwardHost {
  readonly affinity: AffinityContext;
  pool(ep: EndpointRuntime): UpstreamPool;
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
}

function errorCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err
    ? String((err as { code: unknown }).code)
    : '';
}

export function plainResponse(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'cache-control',
    'no-store',
  ]);
  res.end(body);
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

  constructor(
    readonly host: ForwardHost,
    readonly set: SetRuntime,
    readonly facts: IncomingFacts,
    readonly req: IncomingMessage,
    readonly res: ServerResponse,
    decision: Decision,
    endpoint: EndpointRuntime,
  ) {
    this.#decision = decision;
    this.#ep = endpoint;
    host.requestStarted();
    res.once('close', this.#onClose);
  }

  readonly #onClose = (): void => {
    this.host.requestEnded();
    if (!this.#done) {
      this.#done = true;
      this.#abort?.(new Error('client went away'));
    }
  };

  #onDrain: (() => void) | undefined;

  /** Sends the request to the current endpoint. */
  send(): void {
    const ep = this.#ep;
    this.#attempts++;
    this.#started = this.host.now();
    ep.stats.active++;
    const headers = this.facts.upstreamHeaders(this.set.cookie?.name, false);
    if (this.facts.hostHeader === undefined) headers.push('host', hostPortOf(ep));
    this.host.pool(ep).dispatch(
      {
        method: this.req.method ?? 'GET',
        path: this.facts.url,
        headers,
        body: this.facts.hasBody ? this.req : null,
        contentLength: this.facts.contentLength,
      },
      this,
    );
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
    this.#resume = resume;
    this.#status = statusCode;
    const now = this.host.now();
    this.#headersAt = now;
    const stats = this.#ep.stats;
    const took = now - this.#started;
    stats.ewmaMs = stats.ewmaMs === 0 ? took : stats.ewmaMs * 0.8 + took * 0.2;
    const headers = this.#responseHeaders(rawHeaders, now);
    this.res.writeHead(statusCode, statusText || undefined, headers);
  }

  #responseHeaders(raw: string[], nowMs: number): string[] {
    const out: string[] = [];
    let dropped: string[] | undefined;
    let cacheControlAt = -1;
    let appSet = false;
    let appDeleted = false;
    const policy = this.set.policy;
    const appName = policy.mode === 'appCookie' ? policy.appCookie?.name : undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] ?? '';
      const value = raw[i + 1] ?? '';
      if (!RESPONSE_SPECIAL[name.length]) {
        out.push(name, value);
        continue;
      }
      const lower = name.toLowerCase();
      if (isHopByHop(lower)) {
        if (lower === 'connection') {
          for (const t of value.split(',')) {
            const token = t.trim().toLowerCase();
            if (token && token !== 'close' && token !== 'keep-alive') (dropped ??= []).push(token);
          }
        }
        continue;
      }
      if (lower === 'cache-control') cacheControlAt = out.length + 1;
      else if (appName !== undefined && lower === 'set-cookie') {
        const c = parseSetCookie(value, nowMs);
        if (c && (appName === '*' || c.name === appName)) {
          if (c.deletes) appDeleted = true;
          else appSet = true;
        }
      }
      out.push(name, value);
    }
    if (dropped) {
      for (let i = out.length - 2; i >= 0; i -= 2) {
        if (dropped.includes((out[i] ?? '').toLowerCase())) out.splice(i, 2);
      }
    }
    const d = this.#decision;
    let token = d.issue;
    let deleteCompanion = false;
    if (appName !== undefined && d.sticky) {
      // Stickiness follows the backend's cookie: it starts (or is re-stated) when the backend
      // sets it and ends when the backend deletes it.
      if (appSet) token = newToken(this.set, this.#ep, this.host.affinity);
      else if (appDeleted) {
        token = undefined;
        deleteCompanion = true;
      }
    }
    if (token && !d.pinned && d.issue === undefined) this.host.session(this.set, 'created');
    const spec = this.set.cookie;
    let setsCookie = false;
    if (token) {
      const value = this.host.encodeToken(this.set, token);
      if (policy.mode === 'header' && policy.header) {
        out.push(policy.header.name, value);
      } else if (spec) {
        const remaining =
          token.expiresAt === 0
            ? undefined
            : Math.max(0, token.expiresAt - Math.floor(nowMs / 1000));
        out.push(
          'set-cookie',
          setCookieValue(
            spec,
            value,
            nowMs,
            { secure: this.facts.secure, userAgent: this.facts.userAgent },
            remaining,
          ),
        );
        setsCookie = true;
      }
    } else if (deleteCompanion && spec) {
      out.push(
        'set-cookie',
        deleteCookieValue(spec, { secure: this.facts.secure, userAgent: this.facts.userAgent }),
      );
      setsCookie = true;
    }
    if (setsCookie && spec?.nocache) {
      // As HAProxy's `nocache`: a response that sets the cookie must not be shared by caches.
      const existing = cacheControlAt >= 0 ? (out[cacheControlAt] ?? '') : '';
      if (cacheControlAt < 0) out.push('cache-control', 'private');
      else if (!/\b(private|no-store)\b/i.test(existing)) {
        const rest = existing.replace(/\bpublic\b\s*,?\s*/i, '').trim();
        out[cacheControlAt] = rest ? `private, ${rest}` : 'private';
      }
    }
    return out;
  }

  onData(chunk: Buffer): boolean {
    // Hold one chunk back, so that a small response goes out with its headers in one write.
    const held = this.#pending;
    this.#pending = chunk;
    if (held === undefined) return true;
    this.#wrote = true;
    if (this.res.write(held)) return true;
    this.#onDrain ??= () => this.#resume?.();
    this.res.once('drain', this.#onDrain);
    return false;
  }

  onComplete(): void {
    if (this.#done) return;
    this.#done = true;
    this.#ep.stats.active--;
    const held = this.#pending;
    this.#pending = undefined;
    if (held === undefined) this.res.end();
    else if (held.length <= SMALL_BODY && !this.#wrote) {
      // Node joins a string body with the response head into one write; latin1 keeps bytes as they are.
      this.res.end(held.toString('latin1'), 'latin1');
    } else this.res.end(held);
    this.host.finished(this.set, this.#status, this.#ep, this.#started, this.#headersAt);
  }

  onError(err: Error): void {
    const ep = this.#ep;
    ep.stats.active--;
    if (this.#done) return;
    const code = errorCode(err);
    const beforeResponse = this.#status === 0;
    if (beforeResponse) {
      const connectFailed = CONNECT_ERRORS.has(code);
      if (connectFailed) ep.stats.downUntil = this.host.now() + this.host.downMs;
      this.host.upstreamError(this.set, ep, err);
      if (this.#retryable(connectFailed, code)) {
        const next = redecide(this.set, this.facts, this.host.affinity, this.#decision, ep);
        if (next?.endpoint) {
          if (next.event && next.event !== this.#decision.event)
            this.host.session(this.set, next.event);
          this.#decision = next;
          this.#ep = next.endpoint;
          this.host.retried(this.set);
          this.send();
          return;
        }
      }
      this.#done = true;
      const status = TIMEOUT_ERRORS.has(code) ? 504 : 502;
      if (status === 502 && this.#decision.pinned && this.set.policy.onFailure === 'fail')
        this.host.session(this.set, 'failed');
      plainResponse(
        this.res,
        status,
        status === 504 ? 'upstream timed out' : 'upstream unavailable',
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
    if (!IDEMPOTENT.has(this.req.method ?? '')) return false;
    if (connectFailed) return true;
    return this.set.policy.onFailure === 'retryElsewhere' && BROKEN_BEFORE_RESPONSE.has(code);
  }
}
