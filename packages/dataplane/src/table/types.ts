/**
 * The routing table: what the proxy serves, as plain data.
 *
 * A table is built by the controller from resolved entries (`ResolvedEntry`: an entry point
 * with host, path, path type and listeners; its backend; the merged persistence policy; the
 * load-balancing settings; route settings such as canary rules) and from EndpointSlices.
 * It is JSON-serialisable (no Maps, no functions, no class instances), and once made by
 * {@link createRouteTable} it is deeply frozen in place (the caller gives up the right to
 * change it), so the proxy can hold one reference to it and swap that reference atomically.
 *
 * Shape:
 *
 *   RouteTable
 *     listeners[]            one per listener protocol (and optionally public port)
 *       hosts[]              exact (`shop.example.com`), wildcard (`*.example.com`) or any (`*`)
 *         paths[]            Exact, Prefix or RegularExpression
 *           backendSet       policy + balancing + route settings + weighted backends
 *             backends[]     one per Service port (two or more for splits and canaries)
 *               endpoints[]  address, port, ready/serving/terminating, optional weight
 *
 * Matching rules (implemented in `matcher.ts`):
 * - Hosts: exact match first, then wildcards by longest suffix, then `*`. A wildcard covers
 *   exactly one extra label (`*.example.com` matches `a.example.com`, not `a.b.example.com`
 *   nor `example.com`), as Ingress does; `wildcardLabels: 'many'` on the host entry makes it
 *   a suffix match as Gateway API does. Host names compare case-insensitively, without port.
 *   When no path of the most specific host matches, the next less specific host is tried.
 * - Paths, within a host: Exact first, then RegularExpression in table order (anchored at the
 *   start of the path, like nginx regex locations), then the longest Prefix. A Prefix matches
 *   whole path segments: `/app` matches `/app` and `/app/x`, not `/apple`; a trailing `/` in
 *   the prefix is ignored; `/` matches everything.
 *
 * Backend sets: the session scope. A cookie names an endpoint of one backend set through a
 * keyed hash that includes the set's `id`, so two sets never share sessions, even when they
 * point at the same Service (Gateway API: sessions are per route rule). Give every set a
 * stable id (the controller uses the entry key), so that sessions survive table swaps.
 */
import type { BackendRef, LoadBalancing, PersistencePolicy, RouteSettings } from '@tether/model';

export type ListenerProtocolName = 'HTTP' | 'HTTPS';
export type PathKind = 'Exact' | 'Prefix' | 'RegularExpression';

/** One endpoint of a Service port, as an EndpointSlice (or a static configuration) lists it. */
export interface Endpoint {
  /** IPv4 or IPv6 literal, or a host name the proxy may resolve. */
  address: string;
  port: number;
  /** EndpointSlice `ready`: serving and not terminating. Only ready endpoints get new sessions. */
  ready: boolean;
  /**
   * EndpointSlice `serving`: the endpoint still answers. Defaults to `ready`. A serving,
   * terminating endpoint (draining; OCI `drain`) keeps its existing sessions and gets no new ones.
   * A not-serving endpoint gets nothing.
   */
  serving?: boolean;
  terminating?: boolean;
  /** Relative weight among the backend's endpoints; default 1. Weight 0 keeps existing sessions only. */
  weight?: number;
  /** The Pod behind the address (EndpointSlice `targetRef` of kind Pod): part of OpenShift's cookie. */
  pod?: string;
  /** The EndpointSlice port's name, where it has one: part of OpenShift's cookie. */
  portName?: string;
}

/** Canary rules (ingress-nginx): which requests the canary backend receives. */
export interface CanaryRules {
  /** Share of new requests sent to the canary, out of `weightTotal` (default 100). */
  weight?: number;
  weightTotal?: number;
  /** Request header that forces the side: `always` → canary, `never` → primary, or equal to `headerValue`. */
  header?: string;
  headerValue?: string;
  /** Request cookie that forces the side: `always` → canary, `never` → primary. */
  cookie?: string;
}

/** One Service port behind a backend set, with its share of new sessions. */
export interface WeightedBackend {
  ref: BackendRef;
  /** Relative weight of this backend for new sessions (Gateway API split); default 1. */
  weight?: number;
  /** Present on the canary backend only; the other backends form the primary side. */
  canary?: CanaryRules;
  endpoints: Endpoint[];
}

/** Where a path leads: the backends and the rules that pick one of their endpoints. */
export interface BackendSet {
  /** Stable identity of the session scope (the entry key); part of every cookie's keyed hash. */
  id: string;
  policy: PersistencePolicy;
  loadBalancing: LoadBalancing;
  route: RouteSettings;
  backends: WeightedBackend[];
}

export interface PathRoute {
  path: string;
  pathType: PathKind;
  backendSet: BackendSet;
}

export interface HostRoutes {
  /** `shop.example.com`, `*.example.com` or `*` (any host). */
  host: string;
  /** How many labels `*` stands for in a wildcard host: `one` (Ingress, default) or `many` (Gateway API). */
  wildcardLabels?: 'one' | 'many';
  paths: PathRoute[];
}

export interface ListenerRoutes {
  protocol: ListenerProtocolName;
  /** The public port this applies to; absent = every listener of the protocol. */
  port?: number;
  /**
   * A Service port's listener that speaks HTTP/2 to clients (an OCI gRPC listener): prior
   * knowledge in clear text, ALPN h2 over TLS. The proxy's own listeners follow its options.
   */
  http2?: boolean;
  /**
   * A Gateway listener's hostname (`shop.example.com`, `*.example.com`, or `*` for one without):
   * listener isolation. A request goes to the most specific such listener of its port that its
   * Host falls under and is matched against that listener's hosts alone, never against another
   * Gateway listener's; when they have no route for it, the listeners without `hostname`
   * (Ingresses, Routes, Services) are tried.
   */
  hostname?: string;
  hosts: HostRoutes[];
}

/**
 * A certificate the HTTPS listener serves by SNI for the names it lists. Names are exact
 * (`shop.example.com`) or wildcards of one label (`*.example.com`); a name no certificate
 * lists, and a client that sends none, get the listener's default certificate.
 */
export interface TlsCertificate {
  hosts: string[];
  /**
   * Set on the certificate of a Service's own TLS listener on this port (its `hosts` may be
   * empty): that listener serves it to every client, whatever name it sends.
   */
  port?: number;
  /** PEM: the certificate, then its chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

/**
 * A Service port served at layer 4: every TCP connection, or every UDP flow (one client
 * address and port), goes to one endpoint of the set, chosen when it starts. Only `none` and
 * `sourceIp` persistence apply: there is no request to carry a cookie or a header.
 */
export interface StreamRoute {
  protocol: 'TCP' | 'UDP';
  /** The Service's port; the proxy listens on it (moved by its service port offset). */
  port: number;
  /**
   * TCP only: the listener ends TLS with the table's certificate for this port (OCI
   * `ssl-ports` on a TCP Service) and relays the plain stream; without that certificate the
   * port stays closed.
   */
  tls?: boolean;
  backendSet: BackendSet;
}

/**
 * A TLS passthrough route (OpenShift `passthrough`): connections to the proxy's HTTPS listener
 * whose ClientHello names `host` are relayed as they are, TLS and all, to the set's endpoints.
 */
export interface PassthroughRoute {
  /** Lower case. */
  host: string;
  backendSet: BackendSet;
}

export interface RouteTable {
  /** A label for logs and `/readyz` (for example the snapshot generation). */
  version: string;
  listeners: ListenerRoutes[];
  /**
   * Service ports served at layer 4. Keep the same list while it does not change: a table
   * whose streams are the same list as the table before is checked by its changes alone.
   */
  streams?: StreamRoute[];
  passthrough?: PassthroughRoute[];
  /**
   * The CA certificates (PEM) that sets with `route.backendTls.caSecret` verify their endpoints
   * against, by that Secret's `namespace/name`.
   */
  backendCas?: { secret: string; pem: string }[];
  /**
   * Certificates by host name, for the HTTPS listener. Keep the same list (and the same
   * certificate objects) from one table to the next while they do not change: the proxy
   * loads each certificate object once. One that cannot be loaded is skipped, never refused.
   */
  certificates?: TlsCertificate[];
}

/** Thrown by {@link createRouteTable}; lists every problem with its location in the input. */
export class RouteTableError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `invalid route table: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`,
    );
    this.name = 'RouteTableError';
  }
}

declare const accepted: unique symbol;

/**
 * A table {@link createRouteTable} accepted: checked, and deeply frozen in place. Only that
 * function makes one. The proxy compiles a table of this type once and, on the next swap,
 * reuses the work done for every listener, host and backend set that is the same object: the
 * type says so where a comment used to.
 */
export type AcceptedRouteTable = Readonly<RouteTable> & { readonly [accepted]: true };

/** Whether an endpoint may receive new sessions and unpinned requests. */
export function acceptsNewSessions(ep: Endpoint): boolean {
  return ep.ready && ep.terminating !== true && (ep.weight ?? 1) > 0;
}

/** Whether an endpoint still serves the sessions pinned to it (ready, or draining). */
export function servesExistingSessions(ep: Endpoint): boolean {
  return ep.ready || ep.serving === true;
}
