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

/**
 * A certificate the HTTPS listener serves by SNI for the names it lists. Names are exact
 * (`shop.example.com`) or wildcards of one label (`*.example.com`); a name no certificate
 * lists, and a client that sends none, get the listener's default certificate.
 */
export interface TlsCertificate {
  hosts: string[];
  /** PEM: the certificate, then its chain. */
  cert: string;
  /** PEM private key. */
  key: string;
}

export interface RouteTable {
  /** A label for logs and `/readyz` (for example the snapshot generation). */
  version: string;
  listeners: ListenerRoutes[];
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

/**
 * Backend sets that were part of an accepted table: checked and deeply frozen. A later table
 * that holds the same set object (the controller keeps unchanged sets from one reconcile to
 * the next) skips its check and its freeze.
 */
const acceptedSets = new WeakSet<object>();

/**
 * Host objects that were part of an accepted table: their name, paths and sets were checked,
 * and they are frozen with their paths. A later table holding the same object skips all of
 * that; only what relates hosts to each other (duplicate names, set ids) is looked at again.
 */
const acceptedHosts = new WeakSet<object>();

/** Tables made by {@link createRouteTable}: already checked and frozen. */
const validated = new WeakSet<RouteTable>();

/** A backend set id in an accepted table: the set first found with it, and how many routes name it. */
export interface IdUse {
  readonly set: BackendSet;
  readonly refs: number;
}

/**
 * What an accepted table knows about itself, so the next table can be checked against it by
 * looking only at the hosts that changed: host names per listener (position) and set ids.
 */
interface TableIndex {
  /** Per listener: lower-case host name → the host object that holds it. */
  readonly names: readonly Map<string, HostRoutes>[];
  readonly ids: Map<string, IdUse>;
}

/**
 * A host of one listener that changed since the table checked against: replaced (both
 * objects; usually under the same name), removed (`after` undefined) or added (`before`
 * undefined).
 */
export interface HostChange {
  readonly listener: number;
  readonly before: HostRoutes | undefined;
  readonly after: HostRoutes | undefined;
}

/** How a table differs from the table it was checked against, and how much the check did. */
export interface TableDerivation {
  /** The table it was checked against; undefined when it was checked whole. */
  readonly previous: RouteTable | undefined;
  /** The hosts replaced, added or removed since `previous` (empty when checked whole). */
  readonly changes: readonly HostChange[];
  /**
   * Host positions where the input held a new object equal to the accepted host there (same
   * name, wildcard mode, and routes with the same paths and set objects): the accepted host
   * was put back in its place.
   */
  readonly equalHosts: number;
  /** Host objects whose own fields, paths and sets were checked (those not accepted before). */
  readonly checkedHosts: number;
  /** Host objects entered into the indexes (every host when checked whole). */
  readonly indexedHosts: number;
}

const indexes = new WeakMap<RouteTable, TableIndex>();
const derivations = new WeakMap<RouteTable, TableDerivation>();

/**
 * The set ids of an accepted table, while it is the newest of its line: a table checked by
 * its changes takes the indexes over from the table before (copying them would cost as much
 * as building them), which from then on is checked whole if used as `previous` again.
 */
export function tableIds(table: RouteTable): ReadonlyMap<string, IdUse> | undefined {
  return indexes.get(table)?.ids;
}

/** How an accepted table was checked, and against which previous table. */
export function tableDerivation(table: RouteTable): TableDerivation | undefined {
  return derivations.get(table);
}

/**
 * Where a host is in the input, for problems. Spelled out only when there is a problem, and
 * from plain numbers: a closure over a loop's `let` variables would make V8 allocate a
 * context for every iteration, and a swap walks every host of a listener it finds changed.
 */
function hostAt(li: number, hi: number): string {
  return `listeners[${li}].hosts[${hi}]`;
}

function pathAt(li: number, hi: number, pi: number): string {
  return `${hostAt(li, hi)}.paths[${pi}]`;
}

/** One pass of checking: problems, sets to freeze, hosts to freeze, indexes being built. */
class Inspection {
  readonly problems: string[] = [];
  readonly newSets = new Set<BackendSet>();
  /** Host objects not accepted before (a host on two listeners is checked at both places). */
  readonly newHosts = new Set<HostRoutes>();
  /**
   * Set ids entered by this pass; when checking by changes, an overlay on `base` (the index
   * of the table before, left untouched until the table is accepted), where 0 refs means gone.
   */
  readonly ids = new Map<string, IdUse>();
  constructor(readonly base?: ReadonlyMap<string, IdUse>) {}

  #use(id: string): IdUse | undefined {
    const use = this.ids.get(id) ?? this.base?.get(id);
    return use === undefined || use.refs === 0 ? undefined : use;
  }

  /** A listener's own fields (not its hosts); false when its hosts cannot be walked. */
  listener(listener: ListenerRoutes, lAt: string): boolean {
    if (!isObject(listener)) {
      this.problems.push(`${lAt}: must be an object`);
      return false;
    }
    if (listener.protocol !== 'HTTP' && listener.protocol !== 'HTTPS')
      this.problems.push(`${lAt}.protocol: must be HTTP or HTTPS`);
    if (
      listener.port !== undefined &&
      !(Number.isInteger(listener.port) && listener.port > 0 && listener.port < 65536)
    ) {
      this.problems.push(`${lAt}.port: must be an integer 1..65535 when present`);
    }
    if (!Array.isArray(listener.hosts)) {
      this.problems.push(`${lAt}.hosts: must be a list`);
      return false;
    }
    return true;
  }

  /**
   * A host's own checks (name, paths, new sets), skipped for a host accepted before. Returns
   * its lower-case name when it has a valid one.
   */
  host(h: HostRoutes, li: number, hi: number): string | undefined {
    if (acceptedHosts.has(h)) return h.host.toLowerCase();
    this.newHosts.add(h);
    const problem = hostProblem(h.host);
    if (problem) this.problems.push(`${hostAt(li, hi)}.host: ${problem}`);
    const paths = h.paths;
    if (!Array.isArray(paths)) {
      this.problems.push(`${hostAt(li, hi)}.paths: must be a list`);
      return problem ? undefined : h.host.toLowerCase();
    }
    for (let pi = 0; pi < paths.length; pi++) {
      const p = paths[pi];
      if (!isObject(p)) {
        this.problems.push(`${pathAt(li, hi, pi)}: must be an object`);
        continue;
      }
      const pathProblem = checkPath(p);
      if (pathProblem) this.problems.push(`${pathAt(li, hi, pi)}.path: ${pathProblem}`);
      const set = p.backendSet;
      if (!isObject(set)) {
        this.problems.push(`${pathAt(li, hi, pi)}.backendSet: missing`);
        continue;
      }
      // A set accepted before is frozen, so it cannot have changed since: not checked again.
      if (acceptedSets.has(set) || this.newSets.has(set)) continue;
      checkBackendSet(set, `${pathAt(li, hi, pi)}.backendSet`, this.problems);
      this.newSets.add(set);
    }
    return problem ? undefined : h.host.toLowerCase();
  }

  /** Enters the sets of a host's routes into the id index, reporting ids that name two sets. */
  addIds(h: HostRoutes, li: number, hi: number): void {
    const paths = h.paths;
    if (!Array.isArray(paths)) return;
    for (let pi = 0; pi < paths.length; pi++) {
      const set = paths[pi]?.backendSet;
      if (!isObject(set)) continue;
      const use = this.#use(set.id);
      if (use === undefined) {
        this.ids.set(set.id, { set, refs: 1 });
        continue;
      }
      if (use.set !== set && JSON.stringify(use.set) !== JSON.stringify(set)) {
        this.problems.push(
          `${hostAt(li, hi)}.paths[${pi}].backendSet.id: "${set.id}" names two different backend sets`,
        );
        continue;
      }
      this.ids.set(set.id, { set: use.set, refs: use.refs + 1 });
    }
  }

  /** Takes the sets of a host of the previous table out of the id index. */
  removeIds(h: HostRoutes): void {
    for (const p of h.paths) {
      const use = this.#use(p.backendSet.id);
      if (use !== undefined) this.ids.set(p.backendSet.id, { set: use.set, refs: use.refs - 1 });
    }
  }
}

/** Checks a table whole; the hosts accepted before skip their own checks. */
function inspectWhole(input: RouteTable): { inspection: Inspection; index: TableIndex } {
  const run = new Inspection();
  const names: Map<string, HostRoutes>[] = [];
  if (!isObject(input)) {
    run.problems.push('table: must be an object');
    return { inspection: run, index: { names, ids: run.ids } };
  }
  if (typeof input.version !== 'string') run.problems.push('version: must be a string');
  if (!Array.isArray(input.listeners)) {
    run.problems.push('listeners: must be a list');
    return { inspection: run, index: { names, ids: run.ids } };
  }
  // Plain loops, and locations spelled out only for problems: most routes are fine.
  for (let li = 0; li < input.listeners.length; li++) {
    const listener = input.listeners[li] as ListenerRoutes;
    const lAt = `listeners[${li}]`;
    const seen = new Map<string, HostRoutes>();
    names.push(seen);
    if (!run.listener(listener, lAt)) continue;
    const hosts = listener.hosts;
    for (let hi = 0; hi < hosts.length; hi++) {
      const h = hosts[hi];
      if (!isObject(h)) {
        run.problems.push(`${hostAt(li, hi)}: must be an object`);
        continue;
      }
      const name = run.host(h, li, hi);
      if (name !== undefined) {
        if (seen.has(name)) run.problems.push(`${hostAt(li, hi)}.host: ${h.host} is listed twice`);
        else seen.set(name, h);
      }
      run.addIds(h, li, hi);
    }
  }
  return { inspection: run, index: { names, ids: run.ids } };
}

/**
 * Host positions that may go unmatched in a table checked by its changes (hosts added, removed
 * or moved, beyond those replaced at their place) before it is checked whole instead.
 */
const UNMATCHED_MAX = 512;

/**
 * Whether a new host object says exactly what an accepted one says: then it passes every
 * check the accepted one passed, and the indexes and matchers built for that one serve it.
 */
function sameHost(h: HostRoutes, was: HostRoutes): boolean {
  if (h.host !== was.host || h.wildcardLabels !== was.wildcardLabels) return false;
  const paths = h.paths;
  const wasPaths = was.paths;
  if (!Array.isArray(paths) || paths.length !== wasPaths.length) return false;
  for (let pi = 0; pi < paths.length; pi++) {
    const p = paths[pi];
    const q = wasPaths[pi] as PathRoute;
    if (!isObject(p) || p.backendSet !== q.backendSet) return false;
    if (p.path !== q.path || p.pathType !== q.pathType) return false;
  }
  return true;
}

/** What one pass over the changed listeners found: host changes, equal hosts, unmatched hosts. */
class ListenerDiff {
  readonly changes: HostChange[] = [];
  /**
   * Accepted hosts to put back in place of equal new objects (see {@link sameHost}), and
   * where: listener and position, two numbers per host. A full build of the table makes
   * every host anew; putting the accepted ones back spares freezing them all again, and the
   * next table that shares them is checked by identity.
   */
  readonly equal: HostRoutes[] = [];
  readonly equalAt: number[] = [];
  unmatched = 0;
  constructor(readonly own: Inspection) {}

  /**
   * Lines the hosts of a changed listener up with those of the listener it replaces, in
   * order: the same object, or an equal one, is kept; a host under the name of the host at
   * its place replaces it; others are added, and the hosts they pass over removed, paired by
   * name where they meet. False when the change is too large or the order changed (a kept
   * host is found behind the place reached), when an equal host cannot be put back (`fixed`:
   * the list is frozen or shared), or a host cannot be checked on its own: the table is then
   * checked whole.
   */
  walk(
    li: number,
    hosts: readonly HostRoutes[],
    fixed: boolean,
    old: readonly HostRoutes[],
    names: Map<string, HostRoutes>,
  ): boolean {
    const added: HostRoutes[] = [];
    const removed: HostRoutes[] = [];
    let oi = 0;
    for (let hi = 0; hi < hosts.length;) {
      const h = hosts[hi] as HostRoutes;
      const was = old[oi];
      if (h === was) {
        oi++;
        hi++;
        continue;
      }
      if (!isObject(h) || typeof h.host !== 'string') return false;
      if (was !== undefined && sameHost(h, was)) {
        if (fixed) return false;
        this.equal.push(was);
        this.equalAt.push(li, hi);
        oi++;
        hi++;
        continue;
      }
      const known = names.get(h.host.toLowerCase());
      if (known !== undefined && (known === h || sameHost(h, known))) {
        // A host kept further on: those before it in the old listener are gone.
        while (oi < old.length && old[oi] !== known) {
          removed.push(old[oi] as HostRoutes);
          oi++;
          if (++this.unmatched > UNMATCHED_MAX) return false;
        }
        if (oi === old.length) return false; // found behind: moved, or listed twice
        continue;
      }
      if (this.own.host(h, li, hi) === undefined) return false;
      if (known !== undefined && known === was) {
        this.changes.push({ listener: li, before: was, after: h });
        oi++;
      } else {
        added.push(h);
        if (++this.unmatched > UNMATCHED_MAX) return false;
      }
      hi++;
    }
    for (; oi < old.length; oi++) {
      removed.push(old[oi] as HostRoutes);
      if (++this.unmatched > UNMATCHED_MAX) return false;
    }
    // An added host under the name of a removed one replaces it.
    const gone = new Map<string, HostRoutes>();
    for (const h of removed) gone.set(h.host.toLowerCase(), h);
    for (const host of added) {
      const name = host.host.toLowerCase();
      const before = gone.get(name);
      if (before !== undefined) gone.delete(name);
      this.changes.push({ listener: li, before, after: host });
    }
    for (const before of gone.values())
      this.changes.push({ listener: li, before, after: undefined });
    return true;
  }
}

/**
 * Checks a table against the accepted table it replaces, looking only at what changed: the
 * listeners that are new objects, and in them the hosts that are neither the same object nor
 * an equal one as before (see {@link ListenerDiff.walk}). Undefined when the listeners differ
 * in number, when the change is large, or when a problem was found: the caller then checks
 * the table whole, which also spells out every problem where it is.
 */
function inspectChanges(
  input: RouteTable,
  previous: RouteTable,
  before: TableIndex,
):
  | { inspection: Inspection; apply: () => TableIndex; changes: HostChange[]; equal: number }
  | undefined {
  if (!isObject(input) || typeof input.version !== 'string' || !Array.isArray(input.listeners))
    return undefined;
  if (input.listeners.length !== previous.listeners.length) return undefined;
  const own = new Inspection();
  const diff = new ListenerDiff(own);
  for (let li = 0; li < input.listeners.length; li++) {
    const listener = input.listeners[li] as ListenerRoutes;
    const old = previous.listeners[li] as ListenerRoutes;
    if (listener === old) continue;
    if (!own.listener(listener, `listeners[${li}]`)) return undefined;
    const names = before.names[li];
    const hosts = listener.hosts;
    const fixed =
      Object.isFrozen(hosts) || input.listeners.some((l, i) => i !== li && l?.hosts === hosts);
    if (names === undefined || !diff.walk(li, hosts, fixed, old.hosts, names)) return undefined;
  }
  if (own.problems.length > 0) return undefined;
  const changes = diff.changes;
  // Names: per listener, the hosts that left give their names up before the new ones claim
  // theirs (two hosts may swap names). Worked out beside the index, which changes only once
  // the table is accepted.
  const freed = new Map<number, Set<string>>();
  const claimed = new Map<number, Map<string, HostRoutes>>();
  for (const c of changes) {
    if (c.before === undefined) continue;
    const name = c.before.host.toLowerCase();
    if (before.names[c.listener]?.get(name) !== c.before) continue;
    let set = freed.get(c.listener);
    if (!set) freed.set(c.listener, (set = new Set()));
    set.add(name);
  }
  for (const c of changes) {
    if (c.after === undefined) continue;
    const name = c.after.host.toLowerCase();
    let mine = claimed.get(c.listener);
    if (!mine) claimed.set(c.listener, (mine = new Map()));
    const taken = before.names[c.listener]?.has(name) && !freed.get(c.listener)?.has(name);
    if (taken || mine.has(name)) return undefined;
    mine.set(name, c.after);
  }
  // Set ids: every route that left first (a set moves between listeners too), then those that joined.
  const run = new Inspection(before.ids);
  for (const c of changes) if (c.before) run.removeIds(c.before);
  for (const c of changes) if (c.after) run.addIds(c.after, c.listener, 0); // a problem here means: check whole
  if (run.problems.length > 0) return undefined;
  /** Called once the table is accepted, before it is frozen. */
  const apply = (): TableIndex => {
    const { equal, equalAt } = diff;
    for (let i = 0; i < equal.length; i++) {
      const hosts = input.listeners[equalAt[2 * i] as number]?.hosts as HostRoutes[];
      hosts[equalAt[2 * i + 1] as number] = equal[i] as HostRoutes;
    }
    for (const [li, set] of freed) for (const name of set) before.names[li]?.delete(name);
    for (const [li, mine] of claimed) for (const [name, h] of mine) before.names[li]?.set(name, h);
    for (const [id, use] of run.ids) {
      if (use.refs === 0) before.ids.delete(id);
      else before.ids.set(id, use);
    }
    return before;
  };
  return { inspection: own, apply, changes, equal: diff.equal.length };
}

/** Every problem of a candidate table, each prefixed with where it is; empty when valid. */
export function checkRouteTable(input: RouteTable): string[] {
  return inspectWhole(input).inspection.problems;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || acceptedSets.has(value)) return;
  // Objects frozen by someone else may still hold unfrozen children: always descend.
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

/**
 * Freezes what a check found new: the sets not accepted before deeply, the hosts not accepted
 * before with their routes (without walking into the sets again: a route's own fields are
 * strings and its set), then the listeners, the certificates and the table itself. Hosts and
 * sets kept from an accepted table are frozen already.
 */
function freezeNew(table: RouteTable, run: Inspection, previous: RouteTable | undefined): void {
  for (const set of run.newSets) {
    deepFreeze(set);
    acceptedSets.add(set);
  }
  for (const host of run.newHosts) {
    for (const route of host.paths) Object.freeze(route);
    Object.freeze(host.paths);
    Object.freeze(host);
    acceptedHosts.add(host);
  }
  for (let li = 0; li < table.listeners.length; li++) {
    const listener = table.listeners[li] as ListenerRoutes;
    if (listener === previous?.listeners[li]) continue;
    Object.freeze(listener.hosts);
    Object.freeze(listener);
  }
  Object.freeze(table.listeners);
  const certificates: unknown = table.certificates;
  if (Array.isArray(certificates) && !Object.isFrozen(certificates)) {
    for (const c of certificates as unknown[]) {
      if (!isObject(c) || Object.isFrozen(c)) continue;
      const hosts: unknown = (c as TlsCertificate).hosts;
      if (Array.isArray(hosts)) Object.freeze(hosts);
      Object.freeze(c);
    }
    Object.freeze(certificates);
  }
  Object.freeze(table);
}

/**
 * Validates a candidate table and deep-freezes it IN PLACE: the caller hands the table over
 * and must not change it afterwards (build the next table from new objects where something
 * changed; unchanged listeners, hosts, routes and backend sets may and should be the same
 * objects, which makes the next swap cheap).
 *
 * With `previous` (an accepted table, normally the one in force), a table with as many
 * listeners is checked by its changes only: listeners and hosts that are the same objects as
 * in `previous` (hosts in the same order, with some replaced, added or removed) are neither
 * checked nor frozen again, a new host object equal to the accepted host at its place is
 * swapped for that host in the listener's list (which the caller has handed over), and the
 * host-name and set-id indexes are carried over and updated for the hosts that changed.
 * Otherwise, or when much changed, it is checked whole (hosts and sets accepted before still
 * skip their own checks); both ways accept and refuse the same tables.
 *
 * Throws {@link RouteTableError} listing every problem; nothing is frozen then, and the
 * caller keeps its last good table.
 */
export function createRouteTable(input: RouteTable, previous?: RouteTable): RouteTable {
  if (validated.has(input)) return input;
  const before = previous && validated.has(previous) ? indexes.get(previous) : undefined;
  const incremental = previous && before ? inspectChanges(input, previous, before) : undefined;
  if (incremental && previous) {
    const { inspection, apply, changes, equal } = incremental;
    const index = apply();
    freezeNew(input, inspection, previous);
    indexes.delete(previous);
    indexes.set(input, index);
    // The table before has been compiled: what it derived from is no longer needed. Kept, it
    // would hold every earlier table alive, one link per swap.
    derivations.delete(previous);
    derivations.set(input, {
      previous,
      changes,
      equalHosts: equal,
      checkedHosts: inspection.newHosts.size,
      indexedHosts: changes.length,
    });
  } else {
    const { inspection, index } = inspectWhole(input);
    if (inspection.problems.length > 0) throw new RouteTableError(inspection.problems);
    freezeNew(input, inspection, undefined);
    indexes.set(input, index);
    let hosts = 0;
    for (const listener of input.listeners) hosts += listener.hosts.length;
    derivations.set(input, {
      previous: undefined,
      changes: [],
      equalHosts: 0,
      checkedHosts: inspection.newHosts.size,
      indexedHosts: hosts,
    });
  }
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
