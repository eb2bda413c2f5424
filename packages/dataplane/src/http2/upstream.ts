/**
 * HTTP/2 to the endpoints (gRPC: `backendProtocol` GRPC in clear text, GRPCS over TLS): one
 * multiplexed session per origin and TLS options, opened on first use, dropped when it closes,
 * fails or is told GOAWAY, and closed after `idleMs` without a stream. A request waits for its
 * session to connect before it opens a stream, so a refused connection is known before any
 * request body has been read and the request can go to another endpoint.
 */
import {
  connect,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type OutgoingHttpHeaders,
  type SecureClientSessionOptions,
} from 'node:http2';
import type { UpstreamTls } from '../upstream/tls';

export interface Http2UpstreamOptions {
  connectTimeoutMs: number;
  /** A session with no stream for this long is closed. */
  idleMs: number;
}

export class Http2Upstreams {
  readonly #sessions = new Map<string, ClientHttp2Session>();
  readonly #options: Http2UpstreamOptions;

  constructor(options: Http2UpstreamOptions) {
    this.#options = options;
  }

  /**
   * Calls `ready` with a connected session to `origin` (`http://…` or `https://…`), or with the
   * error that kept it from connecting.
   */
  session(
    origin: string,
    tls: UpstreamTls | undefined,
    ready: (err: Error | undefined, session: ClientHttp2Session | undefined) => void,
  ): void {
    const key = tls ? `${origin}#${tls.key}` : origin;
    let session = this.#sessions.get(key);
    if (!session || session.closed || session.destroyed) session = this.#open(key, origin, tls);
    if (!session.connecting) {
      ready(undefined, session);
      return;
    }
    const s = session;
    const onConnect = (): void => {
      s.off('close', onClose);
      ready(undefined, s);
    };
    const onClose = (): void => {
      s.off('connect', onConnect);
      ready(failure(s), undefined);
    };
    s.once('connect', onConnect);
    s.once('close', onClose);
  }

  #open(key: string, origin: string, tls: UpstreamTls | undefined): ClientHttp2Session {
    const options: SecureClientSessionOptions = tls
      ? { ...tls.options, ALPNProtocols: ['h2'] }
      : {};
    const session = connect(origin, options);
    const timer = setTimeout(
      () =>
        session.destroy(
          Object.assign(new Error('upstream connect timed out'), {
            code: 'UND_ERR_CONNECT_TIMEOUT',
          }),
        ),
      this.#options.connectTimeoutMs,
    );
    timer.unref();
    session.once('connect', () => clearTimeout(timer));
    session.on('error', (err: Error) => {
      clearTimeout(timer);
      errors.set(session, err);
    });
    const forget = (): void => {
      clearTimeout(timer);
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    };
    session.once('close', forget);
    // No new streams on a session the endpoint is leaving; open ones finish on it.
    session.once('goaway', forget);
    session.setTimeout(this.#options.idleMs, () => {
      // Idle with streams in flight (a long call) is not idle.
      if ((open.get(session) ?? 0) === 0) session.close();
    });
    this.#sessions.set(key, session);
    return session;
  }

  /** Opens a stream on a session this gave out, counted so the session is not closed as idle. */
  request(
    session: ClientHttp2Session,
    headers: OutgoingHttpHeaders,
    endStream: boolean,
  ): ClientHttp2Stream {
    const stream = session.request(headers, { endStream });
    open.set(session, (open.get(session) ?? 0) + 1);
    stream.once('close', () => open.set(session, (open.get(session) ?? 1) - 1));
    return stream;
  }

  destroy(): void {
    for (const session of this.#sessions.values()) session.destroy();
    this.#sessions.clear();
  }
}

/** Streams open on each session. */
const open = new WeakMap<ClientHttp2Session, number>();

/** The error each failed session ended with. */
const errors = new WeakMap<ClientHttp2Session, Error>();

function failure(session: ClientHttp2Session): Error {
  return (
    errors.get(session) ??
    Object.assign(new Error('upstream session closed before it connected'), {
      code: 'UND_ERR_SOCKET',
    })
  );
}
