/**
 * The listeners of Services of type LoadBalancer: one per Service port the table in force
 * names, opened and closed as tables come and go.
 *
 * - HTTP ports (a table listener with a `port`): a listener like the proxy's own, whose
 *   routes are that listener's.
 * - TCP ports (a stream): each connection is relayed to an endpoint chosen when it arrives
 *   (relay.ts), ending TLS first where the stream says so.
 * - UDP ports (a stream): datagrams of one client address and port form a flow with its own
 *   socket to the endpoint; replies go back to the client; a flow idle for `udpIdleMs` ends.
 *
 * A connection or flow keeps its endpoint for its whole life; a new table changes only where
 * new ones go. A port that cannot be bound is logged and retried at the next table; the other
 * ports are served.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6, createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { CertificateStore } from '../certificates';
import { plainAddress } from '../headers';
import type { Logger } from '../logger';
import type { CompiledTable, SetRuntime } from '../runtime';
import type { TlsCertificate } from '../table/types';
import { chooseStreamEndpoint, type StreamChoiceContext } from '../stream-choice';
import { makeListener, type ListenerHandlers, type ListenerState } from './listeners';
import { ignore, refuse, relay } from './relay';
import type { ProxyLimits, ServiceListenOptions } from './options';

export interface ServiceListenerHost {
  readonly limits: ProxyLimits;
  readonly logger: Logger;
  readonly handlers: ListenerHandlers;
  /** The table in force when a connection arrives. */
  current(): CompiledTable | undefined;
  choice(): StreamChoiceContext;
  internalError(where: string, err: unknown): void;
  /** Called when a port fails to bind, or binds after failing. */
  portsChanged?(): void;
}

type Open =
  | { kind: 'HTTP'; listener: ListenerState; certificate?: TlsCertificate; http2: boolean }
  | { kind: 'TCP'; server: NetServer; certificate?: TlsCertificate }
  | { kind: 'UDP'; socket: UdpSocket; flows: Map<string, UdpFlow> };

interface UdpFlow {
  upstream: UdpSocket;
  timer: NodeJS.Timeout;
  /** Datagrams that came before the socket to the endpoint was connected; undefined after. */
  waiting: Buffer[] | undefined;
}

/**
 * Flows one UDP port keeps at once (each holds a socket): a client sending from ever new ports
 * must not take every descriptor of the process. A datagram that would open one more is dropped.
 */
const MAX_UDP_FLOWS = 4096;
/** Datagrams a flow holds while its socket connects; later ones are dropped, as UDP may. */
const MAX_WAITING_DATAGRAMS = 64;

export class ServiceListeners {
  readonly #open = new Map<string, Open>();
  /** The keys of the HTTP ports that speak HTTP/2 to clients, in the table in force. */
  #http2: ReadonlySet<string> = new Set();
  readonly #opening = new Map<string, Promise<void>>();
  /** Ports that could not be bound, with why: retried with every table. */
  readonly #failed = new Map<string, string>();
  readonly #sockets = new Set<Socket>();
  /**
   * The certificates of Service TLS listeners in the table in force, by the key of the port
   * that ends TLS with it: `HTTPS:443`, or `TCP:443` for a TCP stream that does (OCI).
   */
  #certificates = new Map<string, TlsCertificate>();
  /** The certificates of each TLS port by SNI name (Gateway listeners with hostnames). */
  readonly #stores = new Map<number, CertificateStore>();
  #certificateList: readonly TlsCertificate[] | undefined;
  readonly #host: string;
  readonly #offset: number;
  readonly #udpIdleMs: number;
  #stopped = false;

  constructor(
    private readonly owner: ServiceListenerHost,
    options: ServiceListenOptions,
    /** Ports (public) the proxy's own listeners serve: not opened again. */
    private readonly ownPorts: ReadonlySet<number>,
  ) {
    this.#host = options.host ?? '127.0.0.1';
    this.#offset = options.portOffset ?? 0;
    this.#udpIdleMs = options.udpIdleMs ?? 30_000;
  }

  /** Ports that could not be bound (`TCP:80`), with why. */
  get failed(): ReadonlyMap<string, string> {
    return this.#failed;
  }

  /** `HTTP:80`, `TCP:5432`, `UDP:53` → the address they are bound on, for those open. */
  get addresses(): Map<string, { address: string; port: number }> {
    const out = new Map<string, { address: string; port: number }>();
    for (const [key, open] of this.#open) {
      const address =
        open.kind === 'HTTP'
          ? open.listener.server.address()
          : open.kind === 'TCP'
            ? open.server.address()
            : open.socket.address();
      if (address && typeof address === 'object')
        out.set(key, { address: address.address, port: address.port });
    }
    return out;
  }

  /**
   * Opens the ports the table names and closes those it no longer names; resolves when the
   * ports it opens are bound (or failed to bind).
   */
  sync(table: CompiledTable): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    const wanted = new Set<string>();
    // The default certificate of a port: one for every name, else the first listed for it.
    const byPort = new Map<number, TlsCertificate>();
    for (const c of table.table.certificates ?? []) {
      if (c.port === undefined) continue;
      const chosen = byPort.get(c.port);
      if (!chosen || (chosen.hosts.length > 0 && c.hosts.length === 0)) byPort.set(c.port, c);
    }
    this.#certificateList = table.table.certificates;
    for (const [port, store] of this.#stores)
      if (!byPort.has(port)) this.#stores.delete(port);
      else store.update(table.table.certificates, port);
    const certificates = new Map<string, TlsCertificate>();
    const http2 = new Set<string>();
    for (const l of table.table.listeners) {
      if (l.port === undefined || this.ownPorts.has(l.port)) continue;
      const key = `${l.protocol}:${l.port}`;
      const certificate = l.protocol === 'HTTPS' ? byPort.get(l.port) : undefined;
      if (certificate) certificates.set(key, certificate);
      // A TLS listener opens only with its certificate (the controller says why it has none).
      if (l.protocol === 'HTTP' || certificate) wanted.add(key);
      if (l.http2 === true) http2.add(key);
      // A port that starts or stops speaking HTTP/2 is opened again.
      const open = this.#open.get(key);
      if (open?.kind === 'HTTP' && open.http2 !== (l.http2 === true)) this.#close(key);
    }
    this.#http2 = http2;
    for (const s of table.table.streams ?? []) {
      const key = `${s.protocol}:${s.port}`;
      const certificate = s.tls ? byPort.get(s.port) : undefined;
      if (certificate) certificates.set(key, certificate);
      if (!s.tls || certificate) wanted.add(key);
      // A port that starts or stops ending TLS is opened again as the other kind of server.
      const open = this.#open.get(key);
      if (open?.kind === 'TCP' && (open.certificate !== undefined) !== (s.tls === true))
        this.#close(key);
    }
    this.#certificates = certificates;
    for (const key of wanted) if (!this.#open.has(key) && !this.#opening.has(key)) this.#start(key);
    // A renewed certificate is taken by the open listener; its connections are not cut.
    for (const [key, open] of this.#open) {
      const wantedCertificate = certificates.get(key);
      if (open.kind === 'UDP' || !wantedCertificate || open.certificate === wantedCertificate)
        continue;
      if (open.kind === 'TCP' && open.certificate === undefined) continue;
      this.#guard('service certificate', () => {
        const server = open.kind === 'HTTP' ? open.listener.server : open.server;
        (server as unknown as TlsServer).setSecureContext({
          cert: wantedCertificate.cert,
          key: wantedCertificate.key,
        });
        open.certificate = wantedCertificate;
      });
    }
    for (const key of [...this.#open.keys()]) if (!wanted.has(key)) this.#close(key);
    for (const key of [...this.#failed.keys()]) if (!wanted.has(key)) this.#failed.delete(key);
    return this.settled();
  }

  /** Resolves when every port being opened is bound or has failed. */
  async settled(): Promise<void> {
    await Promise.all(this.#opening.values());
  }

  #start(key: string): void {
    let finish: () => void = () => undefined;
    this.#opening.set(key, new Promise<void>((resolve) => (finish = resolve)));
    this.#bind(key, finish);
  }

  #bind(key: string, finish: () => void): void {
    const [kind, portText] = key.split(':') as ['HTTP' | 'HTTPS' | 'TCP' | 'UDP', string];
    const port = Number(portText);
    const bindPort = port + this.#offset;
    const done = (open: Open | undefined, err?: Error): void => {
      finish();
      this.#opening.delete(key);
      if (!open) {
        const why = `cannot listen on ${this.#host}:${bindPort}: ${err?.message ?? 'unknown error'}`;
        if (this.#failed.get(key) !== why) {
          this.owner.logger.warn(
            { listener: key, port: bindPort, err: { message: err?.message } },
            'service listener could not bind; the other ports are served, this one is tried again with the next table',
          );
          this.#failed.set(key, why);
          this.owner.portsChanged?.();
        }
        return;
      }
      if (this.#failed.delete(key)) this.owner.portsChanged?.();
      if (this.#stopped) {
        this.#open.set(key, open);
        this.#close(key);
        return;
      }
      this.#open.set(key, open);
      this.owner.logger.info({ listener: key, port: bindPort }, 'service listener open');
    };
    if (!(bindPort > 0 && bindPort < 65536)) {
      // Node would throw at once; a port the offset moves out of range fails like a taken one.
      setImmediate(() => done(undefined, new Error(`port ${port} + offset is not a port`)));
      return;
    }
    if (kind === 'UDP') {
      const socket = createSocket({ type: isIPv6(this.#host) ? 'udp6' : 'udp4' });
      const flows = new Map<string, UdpFlow>();
      socket.once('error', (err) => {
        socket.close();
        done(undefined, err);
      });
      socket.bind(bindPort, this.#host, () => {
        socket.removeAllListeners('error');
        socket.on('error', (err) => this.owner.internalError('udp listener', err));
        socket.on('message', (msg, rinfo) =>
          this.#guard('udp datagram', () => this.#onDatagram(port, socket, flows, msg, rinfo)),
        );
        done({ kind: 'UDP', socket, flows });
      });
      return;
    }
    const certificate = this.#certificates.get(key);
    const handlers =
      kind === 'HTTPS' && certificate ? this.#sniHandlers(port) : this.owner.handlers;
    const http =
      kind === 'HTTP' || kind === 'HTTPS'
        ? makeListener(
            certificate !== undefined,
            certificate
              ? {
                  port: bindPort,
                  host: this.#host,
                  publicPort: port,
                  cert: certificate.cert,
                  key: certificate.key,
                  // OCI's HTTP listener speaks HTTP/1.1 only, TLS or not; its gRPC one HTTP/2.
                  http2: this.#http2.has(key),
                }
              : { port: bindPort, host: this.#host, publicPort: port, http2: this.#http2.has(key) },
            this.owner.limits,
            handlers,
          )
        : undefined;
    const onSocket = (socket: Socket): void =>
      this.#guard('tcp connection', () => this.#onConnection(port, socket));
    let server: NetServer | Server;
    if (http) server = http.server;
    else if (certificate) {
      // OCI ends TLS on a TCP listener and sends the backends the plain stream.
      const tls = createTlsServer(
        { cert: certificate.cert, key: certificate.key, allowHalfOpen: true },
        onSocket,
      );
      tls.on('tlsClientError', ignore);
      server = tls;
    } else server = createServer({ allowHalfOpen: true }, onSocket);
    server.once('error', (err) => done(undefined, err));
    server.listen(bindPort, this.#host, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => this.owner.internalError('service listener', err));
      if (http) {
        http.publicPort = port;
        http.exclusive = true;
        done(
          certificate
            ? { kind: 'HTTP', listener: http, certificate, http2: this.#http2.has(key) }
            : { kind: 'HTTP', listener: http, http2: this.#http2.has(key) },
        );
      } else
        done(
          certificate
            ? { kind: 'TCP', server: server as NetServer, certificate }
            : { kind: 'TCP', server: server as NetServer },
        );
    });
  }

  /** The owner's handlers, with the certificates of this port chosen by SNI. */
  #sniHandlers(port: number): ListenerHandlers {
    let store = this.#stores.get(port);
    if (!store) {
      store = new CertificateStore();
      store.update(this.#certificateList, port);
      this.#stores.set(port, store);
    }
    const chosen = store;
    return { ...this.owner.handlers, certificate: (name) => chosen.select(name) };
  }

  #guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.owner.internalError(where, err);
    }
  }

  #setFor(protocol: 'TCP' | 'UDP', port: number): SetRuntime | undefined {
    return this.owner.current()?.streams.get(`${protocol}:${port}`);
  }

  #onConnection(port: number, client: Socket): void {
    this.#track(client);
    client.on('error', ignore);
    const set = this.#setFor('TCP', port);
    if (!set) {
      refuse(client);
      return;
    }
    relay(this.owner, set, plainAddress(client.remoteAddress), client);
  }

  #onDatagram(
    port: number,
    socket: UdpSocket,
    flows: Map<string, UdpFlow>,
    msg: Buffer,
    rinfo: RemoteInfo,
  ): void {
    const key = `${rinfo.address}|${rinfo.port}`;
    const flow = flows.get(key);
    if (flow) {
      flow.timer.refresh();
      if (!flow.waiting) flow.upstream.send(msg);
      else if (flow.waiting.length < MAX_WAITING_DATAGRAMS) flow.waiting.push(msg);
      return;
    }
    if (flows.size >= MAX_UDP_FLOWS) return;
    const set = this.#setFor('UDP', port);
    if (!set) return;
    const ep = chooseStreamEndpoint(
      set,
      plainAddress(rinfo.address),
      this.owner.choice(),
      undefined,
    );
    if (!ep) return;
    const upstream = createSocket({ type: isIPv6(ep.address) ? 'udp6' : 'udp4' });
    const end = (): void => {
      const f = flows.get(key);
      if (f?.upstream !== upstream) return;
      clearTimeout(f.timer);
      flows.delete(key);
      upstream.close();
    };
    const timer = setTimeout(end, this.#udpIdleMs);
    timer.unref();
    const created: UdpFlow = { upstream, timer, waiting: [msg] };
    flows.set(key, created);
    upstream.on('error', end);
    upstream.on('message', (reply) => {
      timer.refresh();
      socket.send(reply, rinfo.port, rinfo.address);
    });
    upstream.connect(ep.port, ep.address, () =>
      this.#guard('udp connect', () => {
        const waiting = created.waiting ?? [];
        created.waiting = undefined;
        for (const datagram of waiting) upstream.send(datagram);
      }),
    );
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #close(key: string): void {
    const open = this.#open.get(key);
    this.#open.delete(key);
    if (!open) return;
    if (open.kind === 'HTTP') {
      open.listener.server.close();
      open.listener.server.closeIdleConnections();
      // GOAWAY: HTTP/2 clients finish their calls and go.
      open.listener.http2?.close();
    } else if (open.kind === 'TCP') open.server.close();
    else {
      for (const f of open.flows.values()) {
        clearTimeout(f.timer);
        f.upstream.close();
      }
      open.flows.clear();
      open.socket.close();
    }
  }

  /** Closes every Service port and every connection through them. */
  async stop(): Promise<void> {
    this.#stopped = true;
    const closing: Promise<void>[] = [];
    for (const [key, open] of this.#open) {
      if (open.kind === 'HTTP') {
        closing.push(new Promise((resolve) => open.listener.server.close(() => resolve())));
        open.listener.server.closeAllConnections();
        open.listener.http2?.destroy();
      } else if (open.kind === 'TCP')
        closing.push(new Promise((resolve) => open.server.close(() => resolve())));
      else this.#close(key);
    }
    this.#open.clear();
    for (const s of this.#sockets) s.destroy();
    await Promise.all(closing);
  }
}
