/**
 * The routing table: what the proxy serves, as plain data.
 *
 * A table is built by the controller from resolved entries (`ResolvedEntry`: an entry point
 * with host, path, path type and listeners; its backend; the merged persistence policy; the
 * load-balancing settings; route settings such as canary rules) and from EndpointSlices.
 * It is JSON-serialisable (no Maps, no functions, no class instances), and once made by
 * {@link createRouteTable} it is deeply frozen, so the proxy can hold one reference to it and
 * swap that reference atomically.
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
import { PersistencePolicy as PolicySchema, LoadBalancing as BalancingSchema } from '@tether/model';

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
  hosts: HostRoutes[];
}

export interface RouteTable {
  /** A label for logs and `/readyz` (for example the snapshot generation). */
  version: string;
  listeners: ListenerRoutes[];
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

const HOST_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function checkHost(host: string): string | null {
  if (host === '*') return null;
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (name.length === 0 || name.length > 253) return 'must be a DNS name, *.name or *';
  for (const label of name.split('.')) {
    if (!HOST_LABEL.test(label)) return `label "${label.slice(0, 64)}" is not a DNS label`;
  }
  return null;
}

function checkPath(route: PathRoute): string | null {
  if (typeof route.path !== 'string') return 'path must be a string';
  if (route.pathType === 'RegularExpression') {
    try {
      new RegExp(route.path);
      return null;
    } catch {
      return 'is not a valid regular expression';
    }
  }
  if (route.pathType !== 'Exact' && route.pathType !== 'Prefix') {
    return 'pathType must be Exact, Prefix or RegularExpression';
  }
  if (!route.path.startsWith('/')) return 'must start with /';
  if (/[\s?#]/.test(route.path)) return 'must not contain whitespace, ? or #';
  return null;
}

function isNonNegativeNumber(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function checkEndpoint(ep: Endpoint, at: string, problems: string[]): void {
  if (typeof ep.address !== 'string' || ep.address.length === 0 || /[\s/]/.test(ep.address)) {
    problems.push(`${at}.address: must be an IP address or host name`);
  }
  if (!Number.isInteger(ep.port) || ep.port < 1 || ep.port > 65535) {
    problems.push(`${at}.port: must be an integer 1..65535`);
  }
  if (typeof ep.ready !== 'boolean') problems.push(`${at}.ready: must be a boolean`);
  for (const flag of ['serving', 'terminating'] as const) {
    if (ep[flag] !== undefined && typeof ep[flag] !== 'boolean') {
      problems.push(`${at}.${flag}: must be a boolean when present`);
    }
  }
  if (ep.weight !== undefined && !isNonNegativeNumber(ep.weight)) {
    problems.push(`${at}.weight: must be a number >= 0`);
  }
}

function checkBackendSet(set: BackendSet, at: string, problems: string[]): void {
  if (typeof set.id !== 'string' || set.id.length === 0)
    problems.push(`${at}.id: must be a non-empty string`);
  const policy = PolicySchema.safeParse(set.policy);
  if (!policy.success) {
    for (const issue of policy.error.issues)
      problems.push(`${at}.policy.${issue.path.join('.')}: ${issue.message}`);
  }
  const balancing = BalancingSchema.safeParse(set.loadBalancing);
  if (!balancing.success) {
    for (const issue of balancing.error.issues)
      problems.push(`${at}.loadBalancing.${issue.path.join('.')}: ${issue.message}`);
  }
  if (set.loadBalancing?.algorithm === 'hash' && !set.loadBalancing.hashKey) {
    problems.push(`${at}.loadBalancing.hashKey: required for the hash algorithm`);
  }
  if (set.policy?.mode === 'header' && !set.policy.header?.name) {
    problems.push(`${at}.policy.header.name: required for header persistence`);
  }
  if (set.policy?.mode === 'appCookie' && !set.policy.appCookie?.name) {
    problems.push(`${at}.policy.appCookie.name: required for application-cookie persistence`);
  }
  if (typeof set.route !== 'object' || set.route === null)
    problems.push(`${at}.route: must be an object`);
  if (!Array.isArray(set.backends) || set.backends.length === 0) {
    problems.push(`${at}.backends: needs at least one backend`);
    return;
  }
  let canaries = 0;
  set.backends.forEach((b, i) => {
    const bAt = `${at}.backends[${i}]`;
    if (!b.ref || typeof b.ref.namespace !== 'string' || typeof b.ref.service !== 'string') {
      problems.push(`${bAt}.ref: must name a namespace, service and port`);
    }
    if (b.weight !== undefined && !isNonNegativeNumber(b.weight))
      problems.push(`${bAt}.weight: must be a number >= 0`);
    if (b.canary) {
      canaries++;
      const { weight, weightTotal } = b.canary;
      if (weight !== undefined && !isNonNegativeNumber(weight))
        problems.push(`${bAt}.canary.weight: must be >= 0`);
      if (weightTotal !== undefined && !(isNonNegativeNumber(weightTotal) && weightTotal > 0)) {
        problems.push(`${bAt}.canary.weightTotal: must be > 0`);
      }
    }
    if (!Array.isArray(b.endpoints)) {
      problems.push(`${bAt}.endpoints: must be a list`);
      return;
    }
    b.endpoints.forEach((ep, j) => checkEndpoint(ep, `${bAt}.endpoints[${j}]`, problems));
  });
  if (canaries > 1) problems.push(`${at}.backends: at most one backend may be the canary`);
  if (canaries === 1 && set.backends.length < 2)
    problems.push(`${at}.backends: a canary needs a primary backend`);
}

/** Every problem of a candidate table, each prefixed with where it is; empty when valid. */
export function checkRouteTable(input: RouteTable): string[] {
  const problems: string[] = [];
  if (typeof input !== 'object' || input === null) return ['table: must be an object'];
  if (typeof input.version !== 'string') problems.push('version: must be a string');
  if (!Array.isArray(input.listeners)) return [...problems, 'listeners: must be a list'];
  const ids = new Map<string, BackendSet>();
  input.listeners.forEach((listener, li) => {
    const lAt = `listeners[${li}]`;
    if (listener.protocol !== 'HTTP' && listener.protocol !== 'HTTPS')
      problems.push(`${lAt}.protocol: must be HTTP or HTTPS`);
    if (
      listener.port !== undefined &&
      !(Number.isInteger(listener.port) && listener.port > 0 && listener.port < 65536)
    ) {
      problems.push(`${lAt}.port: must be an integer 1..65535 when present`);
    }
    if (!Array.isArray(listener.hosts)) {
      problems.push(`${lAt}.hosts: must be a list`);
      return;
    }
    const hostsSeen = new Set<string>();
    listener.hosts.forEach((h, hi) => {
      const hAt = `${lAt}.hosts[${hi}]`;
      const hostProblem = typeof h.host === 'string' ? checkHost(h.host) : 'must be a string';
      if (hostProblem) problems.push(`${hAt}.host: ${hostProblem}`);
      else if (hostsSeen.has(h.host.toLowerCase()))
        problems.push(`${hAt}.host: ${h.host} is listed twice`);
      else hostsSeen.add(h.host.toLowerCase());
      if (!Array.isArray(h.paths)) {
        problems.push(`${hAt}.paths: must be a list`);
        return;
      }
      h.paths.forEach((p, pi) => {
        const pAt = `${hAt}.paths[${pi}]`;
        const pathProblem = checkPath(p);
        if (pathProblem) problems.push(`${pAt}.path: ${pathProblem}`);
        if (!p.backendSet || typeof p.backendSet !== 'object') {
          problems.push(`${pAt}.backendSet: missing`);
          return;
        }
        checkBackendSet(p.backendSet, `${pAt}.backendSet`, problems);
        const previous = ids.get(p.backendSet.id);
        if (previous && JSON.stringify(previous) !== JSON.stringify(p.backendSet)) {
          problems.push(
            `${pAt}.backendSet.id: "${p.backendSet.id}" names two different backend sets`,
          );
        }
        ids.set(p.backendSet.id, p.backendSet);
      });
    });
  });
  return problems;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/**
 * Validates a candidate table and returns a deeply frozen copy of it.
 * Throws {@link RouteTableError} listing every problem; the caller keeps its last good table.
 */
export function createRouteTable(input: RouteTable): RouteTable {
  if (validated.has(input)) return input;
  const problems = checkRouteTable(input);
  if (problems.length > 0) throw new RouteTableError(problems);
  const table = deepFreeze(structuredClone(input));
  validated.add(table);
  return table;
}

/** Tables made by {@link createRouteTable}: already checked and frozen. */
const validated = new WeakSet<RouteTable>();

/** An empty table: every request gets 404. */
export function emptyRouteTable(version = 'empty'): RouteTable {
  return createRouteTable({ version, listeners: [] });
}

/** Whether an endpoint may receive new sessions and unpinned requests. */
export function acceptsNewSessions(ep: Endpoint): boolean {
  return ep.ready && ep.terminating !== true && (ep.weight ?? 1) > 0;
}

/** Whether an endpoint still serves the sessions pinned to it (ready, or draining). */
export function servesExistingSessions(ep: Endpoint): boolean {
  return ep.ready || ep.serving === true;
}
