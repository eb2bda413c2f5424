/**
 * HTTP/2 from clients for one listener: an `Http2Server` that never listens itself and is
 * handed the connections that chose h2 (by ALPN on TLS, by the connection preface on the
 * plain listener), with the proxy's limits, and the connections it holds, so that a stop can
 * send each one GOAWAY.
 *
 * Rapid reset (CVE-2023-44487): a client that opens streams and cancels them before their
 * answer makes the proxy route and forward each one for nothing, faster than the stream limit
 * can stop, because a cancelled stream no longer counts against it. As Envoy's premature-reset
 * check does, a connection whose client has cancelled at least `earlyResetLimit` streams before
 * their response head, and more than half of all it opened, is closed with GOAWAY
 * (ENHANCE_YOUR_CALM). Browsers cancel streams too (a page left, a search-as-you-type), but
 * never most of them.
 */
import {
  constants,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { Duplex } from 'node:stream';

export interface Http2Limits {
  /** Streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  maxConcurrentStreams: number;
  /** Largest header list accepted, in bytes (SETTINGS_MAX_HEADER_LIST_SIZE). */
  maxHeaderBytes: number;
  /** Most header fields in one request. */
  maxHeaders: number;
  /** Streams a client may cancel before their answer (and more than half of all) before it is cut off. */
  earlyResetLimit: number;
  /** A connection with no open stream and no traffic for this long is closed with GOAWAY. */
  idleTimeoutMs: number;
}

export interface Http2Handlers {
  /**
   * A request: its stream, its header fields, the same as a flat [name, value, …] list, and
   * the client's address (read once per connection: the session's socket is a Proxy).
   */
  stream(
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    raw: string[],
    remoteAddress: string | undefined,
  ): void;
  internalError(where: string, err: unknown): void;
  /** A connection was opened. */
  opened(): void;
  /** A connection was closed for cancelling streams in a loop. */
  rapidReset(remoteAddress: string | undefined): void;
}

/** Per connection: streams opened, streams open, and streams the client cancelled unanswered. */
interface SessionCounts {
  opened: number;
  open: number;
  earlyResets: number;
  readonly remoteAddress: string | undefined;
}

function ignore(): void {}

/** The four pseudo-header fields of a request come on top of its header fields. */
const PSEUDO_HEADERS = 4;

export class Http2Sessions {
  readonly #server: Http2Server;
  readonly #sessions = new Map<Http2Session, SessionCounts>();
  readonly #limits: Http2Limits;
  readonly #handlers: Http2Handlers;
  #closing = false;

  constructor(limits: Http2Limits, handlers: Http2Handlers) {
    this.#limits = limits;
    this.#handlers = handlers;
    const server = createServer({
      settings: {
        maxConcurrentStreams: limits.maxConcurrentStreams,
        maxHeaderListSize: limits.maxHeaderBytes,
        enablePush: false,
      },
      maxHeaderListPairs: limits.maxHeaders + PSEUDO_HEADERS,
    });
    server.setTimeout(limits.idleTimeoutMs);
    server.on('session', (session: Http2Session) => this.#track(session));
    server.on(
      'stream',
      (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, raw: string[]) => {
        try {
          const counts = this.#count(stream);
          handlers.stream(stream, headers, raw, counts?.remoteAddress);
        } catch (err) {
          handlers.internalError('http2 request', err);
          stream.close(constants.NGHTTP2_INTERNAL_ERROR);
        }
      },
    );
    server.on('timeout', (session: Http2Session) => {
      // Idle only counts with nothing in flight: a long poll or an event stream stays.
      if ((this.#sessions.get(session)?.open ?? 0) === 0) session.close();
    });
    server.on('sessionError', () => undefined);
    this.#server = server;
  }

  /** Serves HTTP/2 on a connection whose first bytes (or TLS's ALPN) said so. */
  accept(socket: Duplex): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    this.#server.emit('connection', socket);
  }

  #track(session: Http2Session): void {
    this.#handlers.opened();
    const counts: SessionCounts = {
      opened: 0,
      open: 0,
      earlyResets: 0,
      remoteAddress: session.socket?.remoteAddress,
    };
    this.#sessions.set(session, counts);
    session.once('close', () => this.#sessions.delete(session));
    session.on('error', () => undefined);
  }

  /** Counts a new stream on its connection; the connection's counts, or undefined if it is gone. */
  #count(stream: ServerHttp2Stream): SessionCounts | undefined {
    const session = stream.session;
    const counts = session ? this.#sessions.get(session) : undefined;
    if (!session || !counts) return undefined;
    counts.opened++;
    counts.open++;
    stream.on('error', ignore);
    // `close` comes once; by then the stream no longer knows its session.
    stream.on('close', () => {
      try {
        counts.open--;
        if (stream.headersSent || stream.rstCode === constants.NGHTTP2_NO_ERROR) return;
        counts.earlyResets++;
        if (
          counts.earlyResets >= this.#limits.earlyResetLimit &&
          counts.earlyResets * 2 > counts.opened
        )
          this.#cutOff(session);
      } catch (err) {
        this.#handlers.internalError('http2 stream close', err);
      }
    });
    return counts;
  }

  #cutOff(session: Http2Session): void {
    if (session.destroyed || session.closed) return;
    this.#handlers.rapidReset(session.socket?.remoteAddress);
    // GOAWAY first, so the client learns why; its open streams are dropped, and the
    // connection closes once the frame is out.
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.close();
    setImmediate(() => session.destroy());
  }

  /** GOAWAY to every connection: no new streams; open ones finish. New connections are refused. */
  close(): void {
    this.#closing = true;
    for (const session of this.#sessions.keys()) session.close();
  }

  /** Closes every connection now, streams and all. */
  destroy(): void {
    this.#closing = true;
    for (const session of this.#sessions.keys()) session.destroy();
  }
}
