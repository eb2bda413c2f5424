/**
 * One request forwarded over HTTP/2 to the chosen endpoint (a set whose `backendProtocol` is
 * GRPC or GRPCS), as `grpc_pass` does: the request's fields as HTTP/2 fields (`Host` becomes
 * `:authority`; `te: trailers` is sent, as gRPC servers require), the body streamed both ways
 * with back-pressure, and the upstream's trailers (`grpc-status`, `grpc-message`) passed on.
 * The session cookie or header is added to the response head as on HTTP/1.1.
 *
 * A call's body and answer may pause for as long as the call lasts (client, server and
 * bidirectional streaming), so neither body timeout applies here; the upstream has
 * `upstreamHeadersTimeoutMs` to start its answer.
 *
 * Failures before the answer starts: a refused connection marks the endpoint down and, as
 * nothing of the request has been read yet, goes once to another endpoint (policy permitting);
 * otherwise the client gets 502 (504 for a timeout), or for a gRPC call a trailers-only answer
 * with `grpc-status: 14`. After the answer started, the client's stream is reset.
 */
import {
  constants,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import { staysPinnedOnFailure, type Decision } from '../affinity';
import {
  endpointFailed,
  errorCode,
  plainResponse,
  retryElsewhere,
  TIMEOUT_ERRORS,
  type ClientRequest,
  type ClientResponse,
  type ForwardHost,
} from '../forward';
import type { IncomingFacts } from '../headers';
import { responseHeaders } from '../response-headers';
import { hostPortOf, type EndpointRuntime, type SetRuntime } from '../runtime';
import { upstreamError } from '../upstream/request';
import type { UpstreamTls } from '../upstream/tls';
import { grpcAnswer, isGrpcRequest } from './grpc';
import type { Http2Upstreams } from './upstream';

/** What an HTTP/2 exchange needs from the proxy. */
export interface Http2ForwardHost extends ForwardHost {
  readonly http2Upstreams: Http2Upstreams;
  /** Time an upstream has to start its answer. */
  readonly handshakeTimeoutMs: number;
}

export class Http2Exchange {
  #decision: Decision;
  #ep: EndpointRuntime;
  #stream: ClientHttp2Stream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #trailers: Record<string, string> | undefined;
  #attempts = 0;
  #started = 0;
  #headersAt = 0;
  #status = 0;
  #done = false;
  #counted = false;
  readonly #grpc: boolean;
  readonly #tls: UpstreamTls | undefined;

  constructor(
    readonly host: Http2ForwardHost,
    readonly set: SetRuntime,
    readonly facts: IncomingFacts,
    readonly req: ClientRequest,
    readonly res: ClientResponse,
    decision: Decision,
    endpoint: EndpointRuntime,
  ) {
    this.#decision = decision;
    this.#ep = endpoint;
    this.#grpc = isGrpcRequest(facts);
    this.#tls = host.upstreamTls(set);
    host.requestStarted();
    res.once('close', this.#onClose);
  }

  get decision(): Decision {
    return this.#decision;
  }

  get endpoint(): EndpointRuntime {
    return this.#ep;
  }

  start(): void {
    this.#attempts++;
    this.#started = this.host.now();
    this.#ep.stats.active++;
    this.#counted = true;
    this.host.http2Upstreams.session(this.#ep.origin, this.#tls, (err, session) =>
      this.#guard('upstream session', () => {
        if (err || !session) this.#failed(err ?? new Error('no upstream session'), true);
        else this.#send(session);
      }),
    );
  }

  readonly #onClose = (): void => {
    try {
      this.host.requestEnded();
      if (this.#done) return;
      this.#done = true;
      this.#uncount();
      this.#stopTimer();
      this.#stream?.close(constants.NGHTTP2_CANCEL);
    } catch (err) {
      this.host.internalError('client close', err);
    }
  };

  #send(session: ClientHttp2Session): void {
    if (this.#done) {
      this.#uncount();
      return;
    }
    const hasBody = this.facts.hasBody;
    const stream = this.host.http2Upstreams.request(session, this.#requestHeaders(), !hasBody);
    this.#stream = stream;
    this.#timer = setTimeout(
      () =>
        this.#guard('upstream timeout', () => {
          this.#failed(upstreamError('upstream timed out', 'UND_ERR_HEADERS_TIMEOUT'), false);
          stream.close(constants.NGHTTP2_CANCEL);
        }),
      this.host.handshakeTimeoutMs,
    );
    this.#timer.unref();
    stream.on('response', (headers: IncomingHttpHeaders, flags: number, raw: string[]) =>
      this.#guard('response head', () =>
        this.#onResponse(
          Number(headers[':status']),
          raw,
          (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0,
        ),
      ),
    );
    stream.on('data', (chunk: Buffer) => this.#guard('response body', () => this.#write(chunk)));
    stream.on('trailers', (_headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
      this.#trailers = pairs(raw);
    });
    stream.on('end', () => this.#guard('response end', () => this.#complete()));
    stream.on('error', (err: Error) =>
      this.#guard('upstream error', () => this.#failed(err, false)),
    );
    stream.on('close', () =>
      this.#guard('upstream close', () => {
        // Reset by the endpoint without an error event: the answer is incomplete.
        if (!this.#done)
          this.#failed(upstreamError('upstream stream reset', 'UND_ERR_SOCKET'), false);
      }),
    );
    if (hasBody) {
      this.req.on('error', () => stream.close(constants.NGHTTP2_CANCEL));
      this.req.pipe(stream);
    }
  }

  /** The request's fields as HTTP/2 fields, lower case, joined per name. */
  #requestHeaders(): OutgoingHttpHeaders {
    const facts = this.facts;
    const out: OutgoingHttpHeaders = {
      ':method': facts.method,
      ':path': facts.url,
      ':scheme': this.#tls ? 'https' : 'http',
      ':authority': facts.hostHeader ?? hostPortOf(this.#ep),
      te: 'trailers',
    };
    const list = facts.upstreamHeaders(this.set.cookie?.name, false);
    for (let i = 0; i < list.length; i += 2) {
      const name = (list[i] ?? '').toLowerCase();
      const value = list[i + 1] ?? '';
      if (name === 'host' || name === 'te') continue;
      const before = out[name];
      if (before === undefined) out[name] = value;
      else if (name === 'cookie') out[name] = `${String(before)}; ${value}`;
      else out[name] = Array.isArray(before) ? [...before, value] : [String(before), value];
    }
    return out;
  }

  /** `ended`: the head ended the stream (a gRPC trailers-only answer); it goes on as such. */
  #onResponse(status: number, raw: string[], ended: boolean): void {
    if (this.#done) return;
    this.#stopTimer();
    this.#status = status;
    const now = this.host.now();
    this.#headersAt = now;
    const stats = this.#ep.stats;
    const took = now - this.#started;
    stats.ewmaMs = stats.ewmaMs === 0 ? took : stats.ewmaMs * 0.8 + took * 0.2;
    const fields: string[] = [];
    for (let i = 0; i < raw.length; i += 2)
      if ((raw[i] ?? '').charCodeAt(0) !== 58 /* : */) fields.push(raw[i] ?? '', raw[i + 1] ?? '');
    const head = responseHeaders(this, fields, now);
    if (ended && this.res.headOnly) {
      this.#done = true;
      this.#uncount();
      this.res.headOnly(status, head);
      this.host.finished(this.set, status, this.#ep, this.#started, now);
      return;
    }
    // gRPC answers end with trailers; an HTTP/2 client's head must announce them.
    this.res.expectTrailers?.();
    this.res.writeHead(status, undefined, head);
  }

  #write(chunk: Buffer): void {
    if (this.#done) return;
    const stream = this.#stream;
    if (!this.res.write(chunk) && stream) {
      stream.pause();
      this.res.once('drain', () => stream.resume());
    }
  }

  #complete(): void {
    if (this.#done) return;
    if (this.#status === 0) {
      this.#failed(upstreamError('upstream ended without an answer', 'UND_ERR_SOCKET'), false);
      return;
    }
    this.#done = true;
    this.#uncount();
    if (this.#trailers) this.res.addTrailers(this.#trailers);
    this.res.end();
    this.host.finished(this.set, this.#status, this.#ep, this.#started, this.#headersAt);
  }

  #failed(err: Error, beforeStream: boolean): void {
    this.#uncount();
    if (this.#done) return;
    this.#stopTimer();
    const ep = this.#ep;
    const code = errorCode(err);
    if (this.#status !== 0) {
      // The answer had started: cutting the stream is all that tells the client.
      this.#done = true;
      this.res.destroy(err);
      this.host.finished(this.set, this.#status, ep, this.#started, this.#headersAt);
      return;
    }
    const { connectFailed } = endpointFailed(this.host, this.set, ep, err);
    const next =
      beforeStream && connectFailed && this.#attempts === 1
        ? retryElsewhere(this.host, this.set, this.facts, this.#decision, ep)
        : undefined;
    if (next?.endpoint) {
      this.#decision = next;
      this.#ep = next.endpoint;
      this.start();
      return;
    }
    this.#done = true;
    const status = TIMEOUT_ERRORS.has(code) ? 504 : 502;
    if (status === 502 && this.#decision.pinned && staysPinnedOnFailure(this.set.policy))
      this.host.session(this.set, 'failed');
    const message = status === 504 ? 'upstream timed out' : 'upstream unavailable';
    if (this.#grpc) grpcAnswer(this.res, status, message);
    else
      plainResponse(this.res, status, message, this.facts.hasBody && this.req.complete === false);
    this.host.finished(this.set, status, ep, this.#started, 0);
  }

  #uncount(): void {
    if (!this.#counted) return;
    this.#counted = false;
    this.#ep.stats.active--;
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Runs `fn`; an exception closes this exchange instead of reaching the event loop. */
  #guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.host.internalError(where, err);
      const wasDone = this.#done;
      this.#done = true;
      this.#uncount();
      this.#stopTimer();
      this.#stream?.close(constants.NGHTTP2_INTERNAL_ERROR);
      if (this.res.headersSent) this.res.destroy();
      else if (this.#grpc) grpcAnswer(this.res, 502, 'upstream answer could not be relayed');
      else plainResponse(this.res, 502, 'upstream response could not be relayed', true);
      if (!wasDone) this.host.finished(this.set, 502, this.#ep, this.#started, 0);
    }
  }
}

/** A flat [name, value, …] list as an object, values of one name joined with `, `. */
function pairs(raw: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}
