/**
 * The checks of a candidate table: each field on its own, then a walk over the whole table
 * that also builds the indexes (host names per listener, backend set ids) a later table is
 * checked against (see diff.ts).
 */
import { PersistencePolicy as PolicySchema, LoadBalancing as BalancingSchema } from '@tether/model';
import type {
  BackendSet,
  Endpoint,
  HostRoutes,
  ListenerRoutes,
  PathRoute,
  RouteTable,
  PassthroughRoute,
  StreamRoute,
} from './types';

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
  for (const name of ['pod', 'portName'] as const) {
    if (ep[name] !== undefined && typeof ep[name] !== 'string') {
      problems.push(`${at}.${name}: must be a string when present`);
    }
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

export const isObject = (v: unknown): v is object => typeof v === 'object' && v !== null;

/**
 * Backend sets that were part of an accepted table: checked and deeply frozen. A later table
 * that holds the same set object (the controller keeps unchanged sets from one reconcile to
 * the next) skips its check and its freeze.
 */
export const acceptedSets = new WeakSet<object>();

/**
 * Host objects that were part of an accepted table: their name, paths and sets were checked,
 * and they are frozen with their paths. A later table holding the same object skips all of
 * that; only what relates hosts to each other (duplicate names, set ids) is looked at again.
 */
export const acceptedHosts = new WeakSet<object>();

/** A backend set id in an accepted table: the set first found with it, and how many routes name it. */
export interface IdUse {
  readonly set: BackendSet;
  readonly refs: number;
}

/**
 * What an accepted table knows about itself, so the next table can be checked against it by
 * looking only at the hosts that changed: host names per listener (position) and set ids.
 */
export interface TableIndex {
  /** Per listener: lower-case host name → the host object that holds it. */
  readonly names: readonly Map<string, HostRoutes>[];
  readonly ids: Map<string, IdUse>;
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
export class Inspection {
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
    if (
      listener.hostname !== undefined &&
      !(
        typeof listener.hostname === 'string' && /^(\*|(\*\.)?[a-z0-9.-]+)$/.test(listener.hostname)
      )
    )
      this.problems.push(`${lAt}.hostname: must be a lower-case host name, *.name or *`);
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
export function inspectWhole(input: RouteTable): { inspection: Inspection; index: TableIndex } {
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
  checkStreams(input, run);
  checkPassthrough(input, run);
  checkBackendCas(input, run);
  return { inspection: run, index: { names, ids: run.ids } };
}

const PASSTHROUGH_HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** TLS passthrough routes: one per lower-case host name, with a set a connection can carry. */
function checkPassthrough(input: RouteTable, run: Inspection): void {
  const routes: unknown = input.passthrough;
  if (routes === undefined) return;
  if (!Array.isArray(routes)) {
    run.problems.push('passthrough: must be a list');
    return;
  }
  const seen = new Set<string>();
  routes.forEach((r: PassthroughRoute, i) => {
    const at = `passthrough[${i}]`;
    if (!isObject(r)) {
      run.problems.push(`${at}: must be an object`);
      return;
    }
    if (typeof r.host !== 'string' || r.host.length > 253 || !PASSTHROUGH_HOST.test(r.host))
      run.problems.push(`${at}.host: must be a lower-case host name`);
    else if (seen.has(r.host)) run.problems.push(`${at}: host ${r.host} is listed twice`);
    else seen.add(r.host);
    checkLayer4Set(r.backendSet, at, 'a passthrough route', run);
  });
}

/**
 * The set of a layer-4 route (a stream or a passthrough route): valid, and with a persistence a
 * connection can carry, since nothing in it is read. Sets accepted before are not checked again.
 */
function checkLayer4Set(value: unknown, at: string, what: string, run: Inspection): void {
  if (!isObject(value)) {
    run.problems.push(`${at}.backendSet: missing`);
    return;
  }
  const set = value as BackendSet;
  if (acceptedSets.has(set) || run.newSets.has(set)) return;
  checkBackendSet(set, `${at}.backendSet`, run.problems);
  const mode = set.policy?.mode;
  if (mode !== undefined && mode !== 'none' && mode !== 'sourceIp')
    run.problems.push(
      `${at}.backendSet.policy.mode: ${mode} persistence needs HTTP; ${what} takes none or sourceIp`,
    );
  run.newSets.add(set);
}

/** The CA certificates of backend TLS: a list of named PEM texts. */
function checkBackendCas(input: RouteTable, run: Inspection): void {
  const cas: unknown = input.backendCas;
  if (cas === undefined) return;
  if (!Array.isArray(cas)) {
    run.problems.push('backendCas: must be a list');
    return;
  }
  cas.forEach((c: unknown, i) => {
    const ok =
      isObject(c) &&
      typeof (c as { secret?: unknown }).secret === 'string' &&
      typeof (c as { pem?: unknown }).pem === 'string';
    if (!ok) run.problems.push(`backendCas[${i}]: must be { secret, pem } strings`);
  });
}

/**
 * The layer-4 routes of a table: protocol, port (one route per protocol and port) and a set
 * whose persistence a connection can carry. Sets accepted before are not checked again.
 */
export function checkStreams(input: RouteTable, run: Inspection): void {
  const streams: unknown = input.streams;
  if (streams === undefined) return;
  if (!Array.isArray(streams)) {
    run.problems.push('streams: must be a list');
    return;
  }
  const seen = new Set<string>();
  streams.forEach((s: StreamRoute, i) => {
    const at = `streams[${i}]`;
    if (!isObject(s)) {
      run.problems.push(`${at}: must be an object`);
      return;
    }
    if (s.protocol !== 'TCP' && s.protocol !== 'UDP')
      run.problems.push(`${at}.protocol: must be TCP or UDP`);
    if (!(Number.isInteger(s.port) && s.port > 0 && s.port < 65536))
      run.problems.push(`${at}.port: must be an integer 1..65535`);
    if (s.tls !== undefined && (s.tls !== true || s.protocol !== 'TCP'))
      run.problems.push(`${at}.tls: only true, and only on a TCP stream`);
    const key = `${s.protocol}:${s.port}`;
    if (seen.has(key)) run.problems.push(`${at}: ${s.protocol} port ${s.port} is listed twice`);
    seen.add(key);
    checkLayer4Set(s.backendSet, at, 'a layer-4 route', run);
  });
}

/** Every problem of a candidate table, each prefixed with where it is; empty when valid. */
export function checkRouteTable(input: RouteTable): string[] {
  return inspectWhole(input).inspection.problems;
}
