/**
 * The proxy: HTTP and HTTPS listeners on `node:http`/`node:https`, a connection pool per
 * upstream origin (`upstream/pool.ts`, through `proxy/pools.ts`), the admin listener, and the current route table behind
 * one reference.
 *
 * `swap(table)` compiles the new table and replaces the reference in one assignment. A
 * request reads the reference once, when it arrives, and carries the compiled set it was
 * routed to until it ends, so it finishes on the table it started with and never sees half
 * a configuration.
 *
 * The hot path goes through neither a framework's router and reply machinery (one catch-all
 * handler and our own precompiled matcher instead) nor a general-purpose HTTP client (our
 * own lean one instead): measured against HAProxy, Fastify with @fastify/http-proxy spends
 * several times more CPU per request, and undici alone about a fifth more than this client
 * (see test/bench/README.md).
 */
import { randomBytes } from 'node:crypto';
import {
  METHODS,
  STATUS_CODES,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { CertificateStore } from '../certificates';
import { decide, SourceIpSessions, type AffinityContext, type Decision } from '../affinity';
import { upstreamTlsOf, type UpstreamTls } from '../upstream/tls';
import { backendSpeaksHttp2, backendSpeaksTls } from '@tether/model';
import { createAdmin, createApi } from '../admin';
import { Exchange, plainResponse, type ClientRequest, type ClientResponse } from '../forward';
import { Http2Exchange, type Http2ForwardHost } from '../http2/exchange';
import { grpcAnswer, isGrpcRequest } from '../http2/grpc';
import { http2Facts } from '../http2/request';
import { Http2Upstreams } from '../http2/upstream';
import { Http2Response } from '../http2/response';
import { IncomingFacts, plainAddress } from '../headers';
import { createLogger, type Logger } from '../logger';
import { ProxyMetrics } from '../metrics';
import { UpstreamPool } from '../upstream/pool';
import { CompiledTable, PASSTHROUGH, type EndpointRuntime, type SetRuntime } from '../runtime';
import { createRouteTable, tableDerivation } from '../table/create';
import { type AcceptedRouteTable, type RouteTable } from '../table/types';
import { TokenCodec, type SessionToken } from '../token';
import { proxyUpgrade, rawResponse, type UpgradeHost } from '../upgrade';
import { listen, makeListener, type ListenerHandlers, type ListenerState } from './listeners';
import {
  DEFAULT_LIMITS,
  type HttpsListenOptions,
  type ListenOptions,
  type ProxyAddresses,
  type ProxyLimits,
  type ProxyOptions,
} from './options';
import { OriginPools } from './pools';
import { ignore, relay, type RelayHost } from './relay';
import { ServiceListeners } from './service-listeners';

/** The bytes llhttp takes in an HTTP/1.1 request target: visible ASCII. */
const REQUEST_TARGET = /^[\x21-\x7e]*$/;
/** The methods llhttp knows (node:http's list); HTTP/1.1 clients get 400 for any other. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(METHODS);

/** The CAs of no table: a proxy before its first table. */
const NO_CAS: ReadonlyMap<string, string> = new Map();

export class Proxy implements Http2ForwardHost, UpgradeHost {
  readonly limits: ProxyLimits;
  readonly metrics: ProxyMetrics;
  readonly logger: Logger;
  readonly affinity: AffinityContext;
  readonly downMs: number;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly bodyBufferBytes: number;
  readonly clientBodyTimeoutMs: number;
  readonly #codec: TokenCodec;
  /** Each TLS set's options, worked out once per table of CAs. */
  readonly #tls = new WeakMap<
    SetRuntime,
    { cas: ReadonlyMap<string, string>; tls: UpstreamTls | undefined }
  >();
  readonly #clock: () => number;
  readonly #listeners: ListenerState[] = [];
  readonly #pools: OriginPools;
  /** HTTP/2 sessions to the endpoints of gRPC sets. */
  readonly http2Upstreams: Http2Upstreams;
  readonly #upgraded = new Set<Duplex>();
  readonly #options: ProxyOptions;
  /** The table's certificates by SNI name, for the HTTPS listener. */
  readonly #certificates = new CertificateStore();
  #services: ServiceListeners | undefined;
  #admin: Server | undefined;
  #api: Server | undefined;
  #current: CompiledTable | undefined;
  #inflight = 0;
  #idleWaiters: (() => void)[] = [];
  #stopping = false;
  #addresses: ProxyAddresses = {};

  constructor(options: ProxyOptions = {}) {
    this.#options = options;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.logger = options.logger ?? createLogger();
    this.metrics = new ProxyMetrics(options.defaultMetrics ?? true);
    this.#clock = options.clock ?? Date.now;
    let key = options.cookieKey;
    if (!key) {
      key = randomBytes(32);
      this.logger.warn(
        "no cookie key configured: generated a random one; replicas of this proxy will not honour each other's session cookies",
      );
    }
    this.#codec = new TokenCodec(key);
    this.affinity = { codec: this.#codec, sourceIp: new SourceIpSessions(), nowMs: 0 };
    if (options.adoptCookies) this.affinity.adoptCookies = options.adoptCookies;
    if (options.worker) this.affinity.hashNewSourceIpSessions = true;
    this.downMs = this.limits.endpointDownMs;
    this.connectTimeoutMs = this.limits.upstreamConnectTimeoutMs;
    this.handshakeTimeoutMs = this.limits.upstreamHeadersTimeoutMs;
    this.bodyBufferBytes = this.limits.bodyBufferBytes;
    this.clientBodyTimeoutMs = this.limits.clientBodyTimeoutMs;
    this.#pools = new OriginPools(this.limits, (where, err) => this.internalError(where, err));
    this.http2Upstreams = new Http2Upstreams({
      connectTimeoutMs: this.limits.upstreamConnectTimeoutMs,
      idleMs: this.limits.keepAliveTimeoutMs,
    });
    if (options.table) this.swap(options.table);
  }

  now(): number {
    return this.#clock();
  }

  /** The table in force, or undefined before the first swap. */
  get table(): AcceptedRouteTable | undefined {
    return this.#current?.table;
  }

  /** Service ports of the table in force that could not be bound (`TCP:80`), with why. */
  get servicePortProblems(): ReadonlyMap<string, string> {
    return this.#services?.failed ?? new Map();
  }

  /** Resolves when the Service ports of the table in force are bound (or failed to bind). */
  async serviceListenersSettled(): Promise<void> {
    await this.#services?.settled();
  }

  get addresses(): ProxyAddresses {
    if (this.#services) this.#addresses.services = this.#services.addresses;
    return this.#addresses;
  }

  get ready(): boolean {
    return this.#current !== undefined;
  }

  /**
   * Validates, compiles and installs a table. Throws `RouteTableError` on an invalid table and
   * keeps the one in force. Requests already routed finish on the table they started with.
   *
   * The table is frozen in place (see `createRouteTable`): hand over a table you will not
   * change. It is compared with the table in force by object identity: listeners, hosts and
   * backend sets that are the same objects are neither checked, frozen, indexed nor compiled
   * again, and the host/path matchers are patched for the replaced hosts only. Build the next
   * table around the same objects for what did not change.
   */
  swap(input: RouteTable): void {
    const previous = this.#current;
    const table = createRouteTable(input, previous?.table);
    const compiled = new CompiledTable(
      table,
      { codec: this.#codec, stats: (origin) => this.#pools.statsFor(origin) },
      previous,
    );
    this.#current = compiled;
    if (this.#options.https) this.#takeCertificates(table);
    this.metrics.tableLoaded.set(1);
    this.metrics.swaps.inc();
    this.affinity.sourceIp.retain(compiled);
    void this.#services?.sync(compiled);
    this.#pools.countOrigins(compiled);
    this.logger.info(
      {
        version: table.version,
        backendSets: compiled.sets.size,
        compiledSets: compiled.compiledSets,
      },
      'route table loaded',
    );
  }

  /** Loads the certificates of a table that brings another list than the one in force. */
  #takeCertificates(table: AcceptedRouteTable): void {
    const skipped = this.#certificates.update(table.certificates);
    if (skipped === undefined) return;
    for (const { index, reason } of skipped)
      this.logger.warn(
        { version: table.version, certificate: index, reason },
        'certificate skipped: its names get the default certificate',
      );
    this.logger.info(
      { version: table.version, names: this.#certificates.names },
      'certificates loaded',
    );
  }

  /**
   * What the last swap had to do: hosts it checked (not accepted before) and entered into the
   * indexes, hosts whose path matchers it built, and whether it was checked against the table
   * before it (by its changes) or whole.
   */
  get swapWork():
    | { checkedHosts: number; indexedHosts: number; matcherHosts: number; byChanges: boolean }
    | undefined {
    const c = this.#current;
    const d = c ? tableDerivation(c.table) : undefined;
    if (!c || !d) return undefined;
    return {
      checkedHosts: d.checkedHosts,
      indexedHosts: d.indexedHosts,
      matcherHosts: c.matcherHosts,
      byChanges: d.previous !== undefined,
    };
  }

  /** Backend sets in the table in force, and how many of them its swap compiled (the rest were kept). */
  get tableSets(): { total: number; compiled: number } | undefined {
    const c = this.#current;
    return c ? { total: c.sets.size, compiled: c.compiledSets } : undefined;
  }

  pool(ep: EndpointRuntime, tls?: UpstreamTls): UpstreamPool {
    return this.#pools.pool(ep, tls);
  }

  /** The TLS a set speaks to its endpoints, with the CAs of the table in force. */
  upstreamTls(set: SetRuntime): UpstreamTls | undefined {
    if (!backendSpeaksTls(set.def.route.backendProtocol)) return undefined;
    const cas = this.#current?.backendCas ?? NO_CAS;
    const known = this.#tls.get(set);
    if (known && known.cas === cas) return known.tls;
    const tls = upstreamTlsOf(set.def.route, cas, this.#options.serviceCa);
    this.#tls.set(set, { cas, tls });
    return tls;
  }

  encodeToken(set: SetRuntime, token: SessionToken): string {
    return this.#codec.encode(set.id, token);
  }

  session(set: SetRuntime, event: Decision['event']): void {
    if (event) this.metrics.session(set.id, event);
  }

  /** Counts a decision's events: the session's, and a previous cookie read on the way. */
  #count(set: SetRuntime, d: Decision): void {
    if (d.event) this.metrics.session(set.id, d.event);
    if (d.adoption)
      this.metrics.adoptedCookies.inc({
        format: d.adoption.format,
        result: d.adoption.adopted ? 'adopted' : 'missed',
      });
  }

  retried(set: SetRuntime): void {
    this.metrics.retry(set.id);
  }

  upstreamError(set: SetRuntime, ep: EndpointRuntime, err: Error): void {
    const code = (err as NodeJS.ErrnoException).code;
    // The parser's messages are a small fixed set, so they make a bounded label.
    if (code === 'UND_ERR_BAD_RESPONSE' || code === 'UND_ERR_HEADERS_OVERFLOW')
      this.metrics.badResponses.inc({ reason: err.message });
    const tls = this.upstreamTls(set);
    this.logger.warn(
      {
        backendSet: set.id,
        endpoint: ep.origin,
        err: { message: err.message, code: (err as NodeJS.ErrnoException).code },
        // A certificate that fails its check says what it was checked against.
        ...(tls ? { tls: tls.trust } : {}),
      },
      'upstream request failed',
    );
  }

  internalError(where: string, err: unknown): void {
    this.metrics.internalErrors.inc({ where });
    this.logger.error(
      { where, err: { message: err instanceof Error ? err.message : String(err) } },
      'exchange closed after an internal error',
    );
  }

  finished(
    set: SetRuntime,
    code: number,
    _ep: EndpointRuntime | undefined,
    startedMs: number,
    headersMs: number,
  ): void {
    this.metrics.request(set.id, code);
    if (headersMs > 0) this.metrics.upstreamLatency(set.id, (headersMs - startedMs) / 1000);
  }

  track(socket: Duplex): void {
    if (this.#upgraded.has(socket)) return;
    this.#upgraded.add(socket);
    socket.once('close', () => this.#upgraded.delete(socket));
  }

  #route(listener: ListenerState, facts: IncomingFacts): SetRuntime | undefined {
    const compiled = this.#current;
    if (!compiled) return undefined;
    return compiled
      .matcher(listener.protocol, listener.publicPort, listener.exclusive === true)
      .match(facts.host, facts.path);
  }

  /** Why a request is refused before routing: [status, message], or undefined. */
  #refusal(req: IncomingMessage): [number, string] | undefined {
    const url = req.url ?? '';
    if (url.length > this.limits.maxUrlBytes) return [414, 'URI too long'];
    // Node keeps only the first maxHeadersCount fields; one more than the limit shows it was cut.
    if (req.rawHeaders.length > 2 * this.limits.maxHeaders) return [431, 'too many header fields'];
    if (url === '*' && req.method !== 'OPTIONS') return [400, 'bad request target'];
    return undefined;
  }

  #onRequest(listener: ListenerState, req: IncomingMessage, res: ServerResponse): void {
    if (this.#stopping) res.shouldKeepAlive = false;
    const refusal = this.#refusal(req);
    if (refusal) return this.#answer(res, refusal[0], refusal[1], '', true);
    if (!this.#current) return this.#answer(res, 503, 'no route table loaded', '');
    this.#serve(listener, new IncomingFacts(req, listener.secure), req, res);
  }

  /**
   * An HTTP/2 request: the same routing, affinity and forwarding as HTTP/1.1's, upstream over
   * the set's own protocol. The header limits were Node's to enforce (SETTINGS).
   */
  #onHttp2Request(
    listener: ListenerState,
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    raw: string[],
    remoteAddress: string | undefined,
  ): void {
    const res = new Http2Response(stream);
    const method = headers[':method'];
    const url = headers[':path'] ?? '';
    // CONNECT (a tunnel, or RFC 8441's WebSocket) is not offered: nginx answers it so too.
    if (method === 'CONNECT') return this.#answer(res, 405, 'method not allowed', '');
    if (url.length > this.limits.maxUrlBytes) return this.#answer(res, 414, 'URI too long', '');
    // nghttp2 lets through what HTTP/1.1's parser refuses in a request line (obs-text in :path,
    // a lower-case or unknown method): the endpoint would get a request it cannot read. 400, as
    // HTTP/1.1 clients get for the same.
    if (!REQUEST_TARGET.test(url)) return this.#answer(res, 400, 'bad request target', '');
    if (method === undefined || !KNOWN_METHODS.has(method))
      return this.#answer(res, 400, 'unknown method', '');
    if (url === '*' && method !== 'OPTIONS')
      return this.#answer(res, 400, 'bad request target', '');
    if (!this.#current) return this.#answer(res, 503, 'no route table loaded', '');
    const facts = http2Facts(stream, headers, raw, remoteAddress, listener.secure);
    this.#serve(listener, facts, stream, res);
  }

  /** Routes a request that passed the listener's checks, and forwards it. */
  #serve(
    listener: ListenerState,
    facts: IncomingFacts,
    req: ClientRequest,
    res: ClientResponse,
  ): void {
    if (facts.invalid) return this.#answer(res, 400, facts.invalid, '', true);
    const set = this.#route(listener, facts);
    if (!set) {
      const text = this.#options.notFoundText?.() ?? 'no route';
      return isGrpcRequest(facts)
        ? this.#answerGrpc(res, 404, 'no route', '')
        : this.#answer(res, 404, text, '');
    }
    if (set.def.route.sslRedirect && !listener.secure && this.#redirectToHttps(facts, res)) {
      this.metrics.request(set.id, 308);
      return;
    }
    this.affinity.nowMs = this.#clock();
    const d = decide(set, facts, this.affinity);
    this.#count(set, d);
    if (!d.endpoint) {
      const message = d.status === 502 ? 'pinned endpoint unavailable' : 'no endpoint available';
      return isGrpcRequest(facts)
        ? this.#answerGrpc(res, d.status, message, set.id)
        : this.#answer(res, d.status, message, set.id);
    }
    if (backendSpeaksHttp2(set.def.route.backendProtocol))
      new Http2Exchange(this, set, facts, req, res, d, d.endpoint).start();
    else new Exchange(this, set, facts, req, res, d, d.endpoint).start();
  }

  /** The proxy's own answer to a gRPC call: the gRPC status standing for `status`. */
  #answerGrpc(res: ClientResponse, status: number, message: string, setId: string): void {
    this.metrics.request(setId, status);
    grpcAnswer(res, status, message);
  }

  requestStarted(): void {
    this.#inflight++;
  }

  requestEnded(): void {
    this.#inflight--;
    if (this.#inflight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** `close`: the request was refused unread, so its connection cannot be reused. */
  #answer(
    res: ClientResponse,
    status: number,
    message: string,
    setId: string,
    close = false,
  ): void {
    this.metrics.request(setId, status);
    plainResponse(res, status, message, close);
  }

  #redirectToHttps(facts: IncomingFacts, res: ClientResponse): boolean {
    const https = this.#listeners.find((l) => l.secure);
    if (!https || !facts.host) return false;
    const port = https.publicPort === 443 ? '' : `:${https.publicPort}`;
    const host =
      facts.host.includes(':') && !facts.host.startsWith('[') ? `[${facts.host}]` : facts.host;
    res.writeHead(308, undefined, [
      'location',
      `https://${host}${port}${facts.url}`,
      'content-length',
      '0',
    ]);
    res.end();
    return true;
  }

  #onUpgrade(listener: ListenerState, req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (this.#stopping) return rawResponse(socket, 503, 'Service Unavailable');
    const refusal = this.#refusal(req);
    if (refusal) return rawResponse(socket, refusal[0], STATUS_CODES[refusal[0]] ?? 'Bad Request');
    if (!this.#current) return rawResponse(socket, 404, 'Not Found');
    const facts = new IncomingFacts(req, listener.secure);
    if (facts.invalid) return rawResponse(socket, 400, 'Bad Request');
    const set = this.#route(listener, facts);
    if (!set) return rawResponse(socket, 404, 'Not Found');
    this.affinity.nowMs = this.#clock();
    const d = decide(set, facts, this.affinity);
    this.#count(set, d);
    if (!d.endpoint)
      return rawResponse(
        socket,
        d.status,
        d.status === 502 ? 'Bad Gateway' : 'Service Unavailable',
      );
    this.metrics.request(set.id, 101);
    proxyUpgrade(this, set, facts, req.method ?? 'GET', socket, head, d, d.endpoint);
  }

  /** What the TCP relay of passthrough connections needs of the proxy (a view on it). */
  get #relayHost(): RelayHost {
    return {
      limits: this.limits,
      choice: () => {
        this.affinity.nowMs = this.now();
        return this.affinity;
      },
      internalError: (where, err) => this.internalError(where, err),
    };
  }

  readonly #handlers: ListenerHandlers = {
    request: (listener, req, res) => this.#onRequest(listener, req, res),
    upgrade: (listener, req, socket, head) => this.#onUpgrade(listener, req, socket, head),
    http2Request: (listener, stream, headers, raw, remoteAddress) =>
      this.#onHttp2Request(listener, stream, headers, raw, remoteAddress),
    http2Opened: () => this.metrics.http2Connections.inc({ event: 'opened' }),
    rapidReset: (remoteAddress) => {
      this.metrics.http2Connections.inc({ event: 'rapid_reset' });
      this.logger.warn(
        { client: plainAddress(remoteAddress) },
        'HTTP/2 connection closed: the client cancelled most of its streams before their answer',
      );
    },
    certificate: (servername) => this.#certificates.select(servername),
    internalError: (where, err) => this.internalError(where, err),
    passthroughActive: () => (this.#current?.table.passthrough?.length ?? 0) > 0,
    passthrough: (socket, name, head) => this.#passthrough(socket, name, head),
  };

  /**
   * A TLS connection whose ClientHello names a passthrough route: relayed as it came, TLS
   * and all, to an endpoint of the route. False leaves it to the HTTPS listener.
   */
  #passthrough(socket: Socket, name: string | undefined, head: Buffer): boolean {
    if (name === undefined || this.#stopping) return false;
    const set = this.#current?.streams.get(`${PASSTHROUGH}${name}`);
    if (!set) return false;
    this.track(socket);
    socket.on('error', ignore);
    relay(this.#relayHost, set, plainAddress(socket.remoteAddress), socket, head);
    return true;
  }

  /** Opens the listeners. Resolves with the bound addresses. */
  async start(): Promise<ProxyAddresses> {
    const o = this.#options;
    const plans: { secure: boolean; options: ListenOptions | HttpsListenOptions }[] = [];
    if (o.http !== false) plans.push({ secure: false, options: o.http ?? { port: 8080 } });
    if (o.https) plans.push({ secure: true, options: o.https });
    for (const plan of plans) {
      const state = makeListener(plan.secure, plan.options, this.limits, this.#handlers);
      const address = await listen(state.server, plan.options);
      state.publicPort = plan.options.publicPort ?? address.port;
      this.#listeners.push(state);
      if (plan.secure) this.#addresses.https = address;
      else this.#addresses.http = address;
    }
    if (o.services) {
      const own = new Set(this.#listeners.map((l) => l.publicPort));
      this.#services = new ServiceListeners(
        {
          limits: this.limits,
          logger: this.logger,
          handlers: this.#handlers,
          current: () => this.#current,
          choice: () => {
            this.affinity.nowMs = this.now();
            return this.affinity;
          },
          internalError: (where, err) => this.internalError(where, err),
          portsChanged: () => o.onServicePortsChanged?.(),
        },
        o.services,
        own,
      );
      if (this.#current) await this.#services.sync(this.#current);
    }
    if (o.admin !== undefined && o.admin !== false) {
      const view = o.adminView;
      const admin = createAdmin(this.metrics, {
        ready: () => this.ready && (view?.ready() ?? true),
        tableVersion: () => this.table?.version,
        ...(view ? { metrics: () => view.metrics() } : {}),
      });
      this.#addresses.admin = await listen(admin, o.admin);
      this.#admin = admin;
    }
    if (o.api !== undefined && o.api !== false) {
      const api = createApi(o.apiRoutes ?? {});
      this.#addresses.api = await listen(api, o.api);
      this.#api = api;
    }
    return this.addresses;
  }

  /**
   * Graceful stop: stops accepting, lets requests in flight finish (up to the shutdown
   * timeout), then closes every connection, upstream pool and the admin listener.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    const closed = this.#listeners.map(
      (l) => new Promise<void>((resolve) => l.server.close(() => resolve())),
    );
    for (const l of this.#listeners) {
      l.server.closeIdleConnections();
      // GOAWAY: HTTP/2 clients open no new streams here; the open ones finish.
      l.http2?.close();
    }
    if (this.#inflight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.limits.shutdownTimeoutMs);
        this.#idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    for (const l of this.#listeners) {
      l.server.closeAllConnections();
      l.http2?.destroy();
    }
    await this.#services?.stop();
    for (const s of this.#upgraded) s.destroy();
    await Promise.all(closed);
    this.#pools.destroy();
    this.http2Upstreams.destroy();
    for (const server of [this.#admin, this.#api]) {
      if (!server) continue;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    }
  }
}

export function createProxy(options: ProxyOptions = {}): Proxy {
  return new Proxy(options);
}

/** Stops the proxy on SIGTERM/SIGINT (graceful), then exits. Returns a function that removes the handlers. */
export function stopOnSignals(
  proxy: Proxy,
  signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    proxy.logger.info({ signal }, 'stopping');
    proxy.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  for (const s of signals) process.once(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
