/**
 * The proxy's HTTP and HTTPS listeners: Node servers with the proxy's limits, whose request,
 * upgrade and client-error events are guarded so that a throw closes one exchange, never the
 * process.
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
import type { SecureContext } from 'node:tls';
import type { Duplex } from 'node:stream';
import { plainResponse } from '../forward';
import { MAX_CLIENT_HELLO, readServerName } from '../sni';
import type { ListenerProtocolName } from '../table/types';
import { rawResponse } from '../upgrade';
import type { HttpsListenOptions, ListenOptions, ProxyLimits } from './options';

export interface ListenerState {
  protocol: ListenerProtocolName;
  secure: boolean;
  server: Server;
  options: ListenOptions;
  publicPort: number;
}

/** What a listener hands its events to. */
export interface ListenerHandlers {
  request(listener: ListenerState, req: IncomingMessage, res: ServerResponse): void;
  upgrade(listener: ListenerState, req: IncomingMessage, socket: Duplex, head: Buffer): void;
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
      })
    : createHttpServer(serverOptions);
  const state: ListenerState = {
    protocol: secure ? 'HTTPS' : 'HTTP',
    secure,
    server,
    options,
    publicPort: options.publicPort ?? options.port,
  };
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

/**
 * Puts a ClientHello reader in front of the TLS server's own connection handler while the
 * table has passthrough routes: a connection that names one is handed over as it came; any
 * other is given back to TLS with the bytes read put back first.
 */
function routePassthrough(server: Server, limits: ProxyLimits, handlers: ListenerHandlers): void {
  const [terminate] = server.listeners('connection') as ((socket: Socket) => void)[];
  if (!terminate) return;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    if (!handlers.passthroughActive()) return terminate.call(server, socket);
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
        const read = readServerName(head);
        if (read.state === 'partial' && head.length < MAX_CLIENT_HELLO) return;
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        socket.pause();
        const name = read.state === 'hello' ? read.name : undefined;
        if (handlers.passthrough(socket, name, head)) return;
        socket.unshift(head);
        terminate.call(server, socket);
      } catch (err) {
        handlers.internalError('passthrough', err);
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
