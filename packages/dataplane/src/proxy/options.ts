/** What a proxy is started with: listeners, limits, the admin and API listeners. */
import type { CookieAdoption } from '@tether/model';
import type { AddressInfo } from 'node:net';
import type { ApiRoutes } from '../admin';
import type { Logger } from '../logger';
import type { RouteTable } from '../table/types';

export interface ListenOptions {
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** The port clients see (for listener `port` matching and HTTPS redirects); default: the bound port. */
  publicPort?: number;
  /**
   * HTTP/2: offered by ALPN on the HTTPS listener unless false; on the HTTP listener only when
   * true, to clients that open with the HTTP/2 preface (h2c with prior knowledge).
   */
  http2?: boolean;
}

export interface HttpsListenOptions extends ListenOptions {
  /**
   * The default certificate: served to clients that send no SNI name, and for names none
   * of the table's `certificates` lists.
   */
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ProxyLimits {
  /** Longest request target accepted; longer → 414. */
  maxUrlBytes: number;
  /** Largest request head (request line and headers) accepted; larger → 431. */
  maxHeaderBytes: number;
  /** Most request header fields accepted; more → 431 (Node would drop the rest silently). */
  maxHeaders: number;
  /** Time a client has to send its request head. */
  headersTimeoutMs: number;
  /** Time a client has to send a whole request (head and body). */
  requestTimeoutMs: number;
  /** Longest pause inside a request body; then 408. */
  clientBodyTimeoutMs: number;
  /** Request bodies with a Content-Length up to this are read whole before an upstream connection is taken. */
  bodyBufferBytes: number;
  keepAliveTimeoutMs: number;
  upstreamConnectTimeoutMs: number;
  /** Time an upstream has to start its response; then 504. */
  upstreamHeadersTimeoutMs: number;
  /** Longest pause inside an upstream response body. */
  upstreamBodyTimeoutMs: number;
  /** Connections per upstream origin. */
  upstreamConnections: number;
  /** Requests per origin that may wait for a connection beyond that; more → 503 at once. */
  upstreamQueueLimit: number;
  /** How long a request may wait for an upstream connection; then 503. */
  upstreamQueueTimeoutMs: number;
  /** How long an endpoint that refused a connection is left out. */
  endpointDownMs: number;
  /** How long `stop()` waits for requests in flight. */
  shutdownTimeoutMs: number;
  /** Streams one HTTP/2 connection may have open at once. */
  http2MaxConcurrentStreams: number;
  /**
   * HTTP/2 streams a client may cancel before their response, when that is more than half of
   * the streams it opened, before its connection is closed (rapid reset).
   */
  http2EarlyResetLimit: number;
}

export const DEFAULT_LIMITS: ProxyLimits = {
  maxUrlBytes: 8192,
  maxHeaderBytes: 16384,
  maxHeaders: 2000,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 300_000,
  clientBodyTimeoutMs: 60_000,
  bodyBufferBytes: 64 * 1024,
  keepAliveTimeoutMs: 65_000,
  upstreamConnectTimeoutMs: 5_000,
  upstreamHeadersTimeoutMs: 60_000,
  upstreamBodyTimeoutMs: 300_000,
  upstreamConnections: 1024,
  upstreamQueueLimit: 1024,
  upstreamQueueTimeoutMs: 10_000,
  endpointDownMs: 10_000,
  shutdownTimeoutMs: 30_000,
  // HAProxy's tune.h2.max-concurrent-streams; nginx's http2_max_concurrent_streams is 128.
  http2MaxConcurrentStreams: 100,
  http2EarlyResetLimit: 100,
};

export interface ProxyOptions {
  /** HMAC key for session cookies, at least 16 bytes. Without one a random key is made and a warning logged. */
  cookieKey?: Buffer;
  /** Previous load balancers' cookies honoured on cookie-mode sets whose policy names none. */
  adoptCookies?: CookieAdoption;
  /** One of several proxy workers: new source-IP sessions are placed by address (see affinity.ts). */
  worker?: boolean;
  /**
   * What the admin listener reports instead of this proxy's own state, when the proxy that
   * serves is elsewhere (the workers of `ProxyFleet`).
   */
  adminView?: { ready(): boolean; metrics(): Promise<{ contentType: string; text: string }> };
  /**
   * PEM of the service CA bundle that sets asking for it (OpenShift reencrypt Routes without a
   * destinationCACertificate) verify their endpoints against.
   */
  serviceCa?: string;
  http?: ListenOptions | false;
  https?: HttpsListenOptions;
  /** /healthz, /readyz and /metrics. */
  admin?: ListenOptions | false;
  /**
   * The API listener for `apiRoutes`; its host defaults to 127.0.0.1. Only loopback peers
   * without forwarding headers get an answer (see `admin.ts`).
   */
  api?: ListenOptions | false;
  /** Read-only JSON routes of the API listener, by path (for example `/api/events`). */
  apiRoutes?: ApiRoutes;
  /**
   * Listeners for the ports of LoadBalancer Services that the table names (its listeners
   * with a `port` and its streams); without this option they are not opened.
   */
  services?: ServiceListenOptions;
  /** Called when a Service port fails to bind, or binds after failing (see `servicePortProblems`). */
  onServicePortsChanged?: () => void;
  /** The first table; without one the proxy answers 503 and `/readyz` says not ready. */
  table?: RouteTable;
  limits?: Partial<ProxyLimits>;
  logger?: Logger;
  /** Milliseconds since the epoch; tests move time forward with it. */
  clock?: () => number;
  /** Register Node's default process metrics (default true). */
  defaultMetrics?: boolean;
  /** The text of the 404 for a request no route matches (`tether up` lists what it serves); default `no route`. */
  notFoundText?: () => string;
}

export interface ProxyAddresses {
  http?: AddressInfo;
  https?: AddressInfo;
  admin?: AddressInfo;
  api?: AddressInfo;
  /** Service ports open now, by `HTTP:80`, `TCP:5432`, `UDP:53` (the Service's own port). */
  services?: Map<string, { address: string; port: number }>;
}

/** Where the ports of LoadBalancer Services are opened (see service-listeners.ts). */
export interface ServiceListenOptions {
  /** Address the Service ports are bound on; default 127.0.0.1. */
  host?: string;
  /** Added to every Service port (80 listens on 80 + offset); default 0. */
  portOffset?: number;
  /** A UDP flow with no datagram either way for this long ends; default 30 s. */
  udpIdleMs?: number;
}
