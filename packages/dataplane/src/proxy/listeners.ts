/**
 * The proxy's HTTP and HTTPS listeners: Node servers with the proxy's limits, whose request,
 * upgrade and client-error events are guarded so that a throw closes one exchange, never the
 * process.
 *
 * HTTP/2 goes to an `Http2Sessions` of the listener: on TLS the connections whose ALPN chose
 * `h2`, on the plain listener (h2c, with prior knowledge, RFC 9113 §3.3) the connections that
 * open with the HTTP/2 preface. Everything else stays with Node's HTTP/1.1 server.
 */
import {
  STATUS_CODES,
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { plainResponse } from '../forward';
import { MAX_CLIENT_HELLO, readServerName } from '../sni';
import type { ListenerProtocolName } from '../table/types';
import { rawResponse } from '../upgrade';
import { Http2Sessions } from '../http2/sessions';
import type { HttpsListenOptions, ListenOptions, ProxyLimits } from './options';

export interface ListenerState {
  protocol: ListenerProtocolName;
  secure: boolean;
  server: Server;
  options: ListenOptions;
  publicPort: number;
  /** A Service or Gateway port of its own: it serves only the routes of its port. */
  exclusive?: boolean;
  /** HTTP/2 on this listener: ALPN h2 on TLS, prior knowledge (h2c) on plain HTTP. */
  http2: Http2Sessions | undefined;
}

/** What a listener hands its events to. */
export interface ListenerHandlers {
  request(listener: ListenerState, req: IncomingMessage, res: ServerResponse): void;
  upgrade(listener: ListenerState, req: IncomingMessage, socket: Duplex, head: Buffer): void;
  http2Request(
    listener: ListenerState,
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    raw: string[],
    remoteAddress: string | undefined,
  ): void;
  /** An HTTP/2 connection was opened. */
  http2Opened(): void;
  /** An HTTP/2 connection was closed for cancelling streams in a loop. */
  rapidReset(remoteAddress: string | undefined): void;
  /** The certificate for an SNI name; undefined for the listener's default. */
  certificate(servername: string): SecureContext | undefined;
  internalError(where: string, err: unknown): void;
  /** Whether the table has TLS passthrough routes (then ClientHellos are read first). */
  passthroughActive(): boolean;
  /** Takes a connection whose ClientHello names a passthrough route; false to terminate TLS. */
  passthrough(socket: Socket, servername: string | undefined, head: Buffer): boolean;
}

export function makeListener(
  secure: boolean,
  options: ListenOptions | HttpsListenOptions,
  limits: ProxyLimits,
  handlers: ListenerHandlers,
): ListenerState {
  const serverOptions = {
    maxHeaderSize: limits.maxHeaderBytes,
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often Node looks for clients past their header/request deadline (default 30 s).
    connectionsCheckingInterval: Math.max(
      100,
      Math.min(5000, Math.floor(limits.headersTimeoutMs / 4)),
    ),
    noDelay: true,
  };
  const server: Server = secure
    ? createHttpsServer({
        ...serverOptions,
        cert: (options as HttpsListenOptions).cert,
        key: (options as HttpsListenOptions).key,
        // Undefined → the default certificate above. Node does not call it without a name.
        SNICallback: (servername, done) => done(null, handlers.certificate(servername)),
        ...(options.http2 === false ? {} : { ALPNProtocols: ['h2', 'http/1.1'] }),
      })
    : createHttpServer(serverOptions);
  const state: ListenerState = {
    protocol: secure ? 'HTTPS' : 'HTTP',
    secure,
    server,
    options,
    publicPort: options.publicPort ?? options.port,
    http2: undefined,
  };
  // TLS offers h2 unless told not to; the plain listener speaks it only when asked.
  if (secure ? options.http2 !== false : options.http2 === true) {
    const http2 = new Http2Sessions(
      {
        maxConcurrentStreams: limits.http2MaxConcurrentStreams,
        maxHeaderBytes: limits.maxHeaderBytes,
        maxHeaders: limits.maxHeaders,
        earlyResetLimit: limits.http2EarlyResetLimit,
        idleTimeoutMs: limits.keepAliveTimeoutMs,
      },
      {
        stream: (stream, headers, raw, remoteAddress) =>
          handlers.http2Request(state, stream, headers, raw, remoteAddress),
        internalError: handlers.internalError,
        opened: handlers.http2Opened,
        rapidReset: handlers.rapidReset,
      },
    );
    state.http2 = http2;
    if (secure) splitByAlpn(server, http2);
    else
      readFirstBytes(server, limits, handlers, () => true, {
        complete: (head) =>
          head.length >= PREFACE.length || !PREFACE.subarray(0, head.length).equals(head),
        take: (socket, head) => {
          if (!head.subarray(0, PREFACE.length).equals(PREFACE)) return false;
          socket.unshift(head);
          http2.accept(socket);
          return true;
        },
        resumeOnGiveBack: true,
      });
  }
  // Node drops header fields past this count without a word; one more than our limit lets
  // the proxy's refusal see that the request was cut and refuse it instead.
  server.maxHeadersCount = limits.maxHeaders + 1;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    try {
      handlers.request(state, req, res);
    } catch (err) {
      handlers.internalError('request', err);
      try {
        plainResponse(res, 500, 'internal error', true);
      } catch {
        res.destroy();
      }
    }
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      handlers.upgrade(state, req, socket, head);
    } catch (err) {
      handlers.internalError('upgrade', err);
      socket.destroy();
    }
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    try {
      answerClientError(err, socket);
    } catch (again) {
      handlers.internalError('client error', again);
      socket.destroy();
    }
  });
  server.on('tlsClientError', () => undefined);
  if (secure) routePassthrough(server, limits, handlers);
  return state;
}

/** The client connection preface of HTTP/2 (RFC 9113 §3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Hands TLS connections whose ALPN chose h2 to HTTP/2; the rest to Node's HTTP/1.1 server. */
function splitByAlpn(server: Server, http2: Http2Sessions): void {
  const [http1] = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
  if (!http1) return;
  server.removeAllListeners('secureConnection');
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') http2.accept(socket);
    else http1.call(server, socket);
  });
}

/**
 * Puts a ClientHello reader in front of the TLS server's own connection handler while the
 * table has passthrough routes: a connection that names one is handed over as it came; any
 * other is given back to TLS with the bytes read put back first.
 */
function routePassthrough(server: Server, limits: ProxyLimits, handlers: ListenerHandlers): void {
  readFirstBytes(server, limits, handlers, handlers.passthroughActive, {
    complete: (head) => head.length >= MAX_CLIENT_HELLO || readServerName(head).state !== 'partial',
    take: (socket, head) => {
      const read = readServerName(head);
      return handlers.passthrough(socket, read.state === 'hello' ? read.name : undefined, head);
    },
    resumeOnGiveBack: false,
  });
}

/** What a reader of first bytes decides with. */
interface FirstBytes {
  /** Enough has arrived to decide (else wait, up to the header timeout). */
  complete(head: Buffer): boolean;
  /** True when it took the connection; false gives it back with the bytes put back first. */
  take(socket: Socket, head: Buffer): boolean;
  /**
   * Node's HTTP/1.1 server reads the socket's handle itself, and only a flowing stream hands
   * it the bytes put back; TLS takes them from a paused one.
   */
  resumeOnGiveBack: boolean;
}

/**
 * Puts a reader of each connection's first bytes in front of the server's own connection
 * handler, while `active()`.
 */
function readFirstBytes(
  server: Server,
  limits: ProxyLimits,
  handlers: ListenerHandlers,
  active: () => boolean,
  reader: FirstBytes,
): void {
  const [own] = server.listeners('connection') as ((socket: Socket) => void)[];
  if (!own) return;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    if (!active()) return own.call(server, socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), limits.headersTimeoutMs);
    const onError = (): void => {
      clearTimeout(timer);
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      try {
        chunks.push(chunk);
        const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
        if (!reader.complete(head)) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.pause();
        if (reader.take(socket, head)) return;
        socket.unshift(head);
        own.call(server, socket);
        if (reader.resumeOnGiveBack) socket.resume();
      } catch (err) {
        handlers.internalError('first bytes', err);
        socket.destroy();
      }
    };
    socket.on('data', onData);
    socket.on('error', onError);
  });
}

/** A request Node could not parse, or a client too slow: a short answer, or a cut connection. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  rawResponse(socket, status, STATUS_CODES[status] ?? 'Bad Request');
}

export function listen(server: Server, options: ListenOptions): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      if (address && typeof address === 'object') resolve(address);
      else reject(new Error('listener has no address'));
    });
  });
}
