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

/**
 * Host names found valid before. Tables repeat nearly all their hosts from one swap to the
 * next, and the DNS-label check is the larger part of checking the table's skeleton.
 * Bounded, since hosts come from user input.
 */
const validHosts = new Set<string>();
const VALID_HOSTS_MAX = 200_000;

function hostProblem(host: unknown): string | null {
  if (typeof host !== 'string') return 'must be a string';
  if (validHosts.has(host)) return null;
  const problem = checkHost(host);
  if (problem === null) {
    if (validHosts.size >= VALID_HOSTS_MAX) validHosts.clear();
    validHosts.add(host);
  }
  return problem;
}

const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/** Every problem of a candidate table, each prefixed with where it is; empty when valid. */
export function checkRouteTable(input: RouteTable): string[] {
  return inspectTable(input);
}

/** {@link checkRouteTable}, also listing in `newSets` the sets not accepted before. */
function inspectTable(input: RouteTable, newSets?: BackendSet[]): string[] {
  const problems: string[] = [];
  if (!isObject(input)) return ['table: must be an object'];
  if (typeof input.version !== 'string') problems.push('version: must be a string');
  if (!Array.isArray(input.listeners)) return [...problems, 'listeners: must be a list'];
  const ids = new Map<string, BackendSet>();
  // Plain loops, and locations spelled out only for problems: this runs over every route of
  // every swap, and most of them are fine.
  for (let li = 0; li < input.listeners.length; li++) {
    const listener = input.listeners[li];
    const lAt = `listeners[${li}]`;
    if (!isObject(listener)) {
      problems.push(`${lAt}: must be an object`);
      continue;
    }
    if (listener.protocol !== 'HTTP' && listener.protocol !== 'HTTPS')
      problems.push(`${lAt}.protocol: must be HTTP or HTTPS`);
    if (
      listener.port !== undefined &&
      !(Number.isInteger(listener.port) && listener.port > 0 && listener.port < 65536)
    ) {
      problems.push(`${lAt}.port: must be an integer 1..65535 when present`);
    }
    const hosts = listener.hosts;
    if (!Array.isArray(hosts)) {
      problems.push(`${lAt}.hosts: must be a list`);
      continue;
    }
    const hostsSeen = new Set<string>();
    for (let hi = 0; hi < hosts.length; hi++) {
      const h = hosts[hi];
      const hAt = (): string => `${lAt}.hosts[${hi}]`;
      if (!isObject(h)) {
        problems.push(`${hAt()}: must be an object`);
        continue;
      }
      const problem = hostProblem(h.host);
      if (problem) problems.push(`${hAt()}.host: ${problem}`);
      else {
        const name = h.host.toLowerCase();
        if (hostsSeen.has(name)) problems.push(`${hAt()}.host: ${h.host} is listed twice`);
        else hostsSeen.add(name);
      }
      const paths = h.paths;
      if (!Array.isArray(paths)) {
        problems.push(`${hAt()}.paths: must be a list`);
        continue;
      }
      for (let pi = 0; pi < paths.length; pi++) {
        const p = paths[pi];
        const pAt = (): string => `${hAt()}.paths[${pi}]`;
        if (!isObject(p)) {
          problems.push(`${pAt()}: must be an object`);
          continue;
        }
        const pathProblem = checkPath(p);
        if (pathProblem) problems.push(`${pAt()}.path: ${pathProblem}`);
        const set = p.backendSet;
        if (!isObject(set)) {
          problems.push(`${pAt()}.backendSet: missing`);
          continue;
        }
        const previous = ids.get(set.id);
        if (previous === set) continue; // the same set on another route: checked already
        if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(set)) {
          problems.push(`${pAt()}.backendSet.id: "${set.id}" names two different backend sets`);
        }
        if (previous === undefined) ids.set(set.id, set);
        // A set accepted before is frozen, so it cannot have changed since: not checked again.
        if (acceptedSets.has(set)) continue;
        checkBackendSet(set, `${pAt()}.backendSet`, problems);
        newSets?.push(set);
      }
    }
  }
  return problems;
}

/**
 * Backend sets that were part of an accepted table: checked and deeply frozen. A later table
 * that holds the same set object (the controller keeps unchanged sets from one reconcile to
 * the next) skips its check and its freeze, so accepting a table costs in proportion to the
 * sets that are new, plus the listener/host/path skeleton.
 */
const acceptedSets = new WeakSet<object>();

/** Tables made by {@link createRouteTable}: already checked and frozen. */
const validated = new WeakSet<RouteTable>();

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || acceptedSets.has(value)) return;
  // Objects frozen by someone else may still hold unfrozen children: always descend.
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

/**
 * Freezes the table in place: the sets not accepted before deeply (the others are frozen
 * already), then the skeleton (listeners, hosts, routes and their lists) level by level,
 * without walking into the sets again: its own fields are strings, numbers and those lists.
 */
function freezeTable(table: RouteTable, newSets: readonly BackendSet[]): void {
  for (const set of newSets) {
    deepFreeze(set);
    acceptedSets.add(set);
  }
  for (const listener of table.listeners) {
    for (const host of listener.hosts) {
      for (const route of host.paths) Object.freeze(route);
      Object.freeze(host.paths);
      Object.freeze(host);
    }
    Object.freeze(listener.hosts);
    Object.freeze(listener);
  }
  Object.freeze(table.listeners);
  Object.freeze(table);
}

/**
 * Validates a candidate table and deep-freezes it IN PLACE: the caller hands the table over
 * and must not change it afterwards (build the next table from new objects; unchanged
 * backend sets may and should be the same objects, which makes the next swap cheap).
 * Throws {@link RouteTableError} listing every problem; nothing is frozen then, and the
 * caller keeps its last good table.
 */
export function createRouteTable(input: RouteTable): RouteTable {
  if (validated.has(input)) return input;
  const newSets: BackendSet[] = [];
  const problems = inspectTable(input, newSets);
  if (problems.length > 0) throw new RouteTableError(problems);
  freezeTable(input, newSets);
  validated.add(input);
  return input;
}

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
