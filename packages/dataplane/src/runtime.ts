/**
 * The compiled form of a route table: what the hot path reads. One `CompiledTable` per
 * table swap; per-endpoint counters that must survive swaps (connections in flight, latency
 * average, passive health) live in `EndpointStats`, shared by origin.
 */
import type { CookieSpec, LoadBalancing, PersistencePolicy } from '@tether/model';
import { backendKey } from '@tether/model';
import { hashString } from './hash';
import { HostMatcher } from './matcher';
import {
  acceptsNewSessions,
  servesExistingSessions,
  type BackendSet,
  type CanaryRules,
  tableDerivation,
  tableIds,
  type HostChange,
  type ListenerProtocolName,
  type ListenerRoutes,
  type PathRoute,
  type RouteTable,
} from './table';
import type { TokenCodec } from './token';
import { compileHashKey, type HashKeyFn } from './hashkey';

/** Counters of one upstream origin (address:port), kept across table swaps. */
export class EndpointStats {
  /** Requests in flight. */
  active = 0;
  /** Moving average of the time to response headers, in ms; 0 until the first response. */
  ewmaMs = 0;
  /** Until when (ms) the endpoint counts as down after a refused connection. */
  downUntil = 0;
  constructor(readonly origin: string) {}
}

export interface EndpointRuntime {
  /** Keyed endpoint id (what `endpoint` tokens carry). */
  readonly id: string;
  readonly seed: number;
  readonly address: string;
  readonly port: number;
  /** `http://address:port` (brackets for IPv6). */
  readonly origin: string;
  /** `address:port` for a Host header (brackets for IPv6). */
  readonly hostPort: string;
  /** Weight for new sessions; 0 when the endpoint takes no new sessions. */
  readonly weight: number;
  /** Weight on the balanced-mode ring (any serving endpoint). */
  readonly ringWeight: number;
  readonly acceptsNew: boolean;
  readonly serves: boolean;
  readonly backend: BackendRuntime;
  readonly stats: EndpointStats;
  /** Smooth weighted round-robin state. */
  current: number;
}

export interface BackendRuntime {
  readonly key: string;
  readonly seed: number;
  readonly weight: number;
  readonly canary: boolean;
  /** Serving endpoints (ready or draining); the others are not kept. */
  readonly endpoints: readonly EndpointRuntime[];
  rr: number;
}

/** One side of a backend set: the primary backends, or the canary backend. */
export interface Side {
  readonly canary: boolean;
  readonly backends: readonly BackendRuntime[];
  /** Every serving endpoint of the side: the ring that `key` tokens are placed on. */
  readonly ring: readonly EndpointRuntime[];
}

export interface SetRuntime {
  readonly def: BackendSet;
  readonly id: string;
  readonly policy: PersistencePolicy;
  readonly balancing: LoadBalancing;
  /** The balancer's cookie (or companion cookie); undefined when the mode uses none. */
  readonly cookie: CookieSpec | undefined;
  readonly primary: Side;
  readonly canary: Side | undefined;
  readonly canaryRules: CanaryRules | undefined;
  readonly byId: ReadonlyMap<string, EndpointRuntime>;
  readonly hashKey: HashKeyFn | undefined;
  /** Names of request headers this set reads (lower case), besides Host and Cookie. */
  readonly headerNames: readonly string[];
}

/** The companion cookie used in application-cookie mode when the policy names none. */
export const DEFAULT_COMPANION_COOKIE: CookieSpec = {
  name: 'X-Tether-Route',
  path: '/',
  httpOnly: true,
  secure: 'https',
  omitSameSiteNoneForOldClients: false,
  lifetime: 'session',
  nocache: false,
};

export interface CompileContext {
  codec: TokenCodec;
  stats(origin: string): EndpointStats;
}

function originOf(address: string, port: number): string {
  return address.includes(':') ? `http://[${address}]:${port}` : `http://${address}:${port}`;
}

function compileSet(def: BackendSet, ctx: CompileContext): SetRuntime {
  const byId = new Map<string, EndpointRuntime>();
  const primaryBackends: BackendRuntime[] = [];
  let canaryBackend: BackendRuntime | undefined;
  for (const b of def.backends) {
    const key = backendKey(b.ref);
    const endpoints: EndpointRuntime[] = [];
    const runtime: BackendRuntime = {
      key,
      seed: hashString(key),
      weight: b.weight ?? 1,
      canary: b.canary !== undefined,
      endpoints,
      rr: 0,
    };
    const seen = new Set<string>();
    for (const ep of b.endpoints) {
      if (!servesExistingSessions(ep)) continue;
      const origin = originOf(ep.address, ep.port);
      if (seen.has(origin)) continue;
      seen.add(origin);
      const id = ctx.codec.endpointId(def.id, key, ep.address, ep.port);
      const fresh = acceptsNewSessions(ep);
      const e: EndpointRuntime = {
        id,
        seed: Buffer.from(id, 'base64url').readUInt32BE(0),
        address: ep.address,
        port: ep.port,
        origin,
        hostPort: origin.slice('http://'.length),
        weight: fresh ? (ep.weight ?? 1) : 0,
        ringWeight: ep.weight && ep.weight > 0 ? ep.weight : 1,
        acceptsNew: fresh,
        serves: true,
        backend: runtime,
        stats: ctx.stats(origin),
        current: 0,
      };
      endpoints.push(e);
      byId.set(id, e);
    }
    if (runtime.canary) canaryBackend = runtime;
    else primaryBackends.push(runtime);
  }
  const side = (canary: boolean, backends: BackendRuntime[]): Side => ({
    canary,
    backends,
    ring: backends.flatMap((b) => b.endpoints),
  });
  const policy = def.policy;
  const cookie =
    policy.mode === 'cookie'
      ? (policy.cookie ?? { ...DEFAULT_COMPANION_COOKIE, name: 'TETHER' })
      : policy.mode === 'appCookie'
        ? (policy.cookie ?? DEFAULT_COMPANION_COOKIE)
        : undefined;
  const canaryRules = def.backends.find((b) => b.canary)?.canary;
  const hashKey =
    def.loadBalancing.algorithm === 'hash' && def.loadBalancing.hashKey
      ? compileHashKey(def.loadBalancing.hashKey)
      : undefined;
  const headerNames = new Set<string>();
  if (policy.mode === 'header' && policy.header) headerNames.add(policy.header.name.toLowerCase());
  if (canaryRules?.header) headerNames.add(canaryRules.header.toLowerCase());
  for (const h of hashKey?.headers ?? []) headerNames.add(h);
  return {
    def,
    id: def.id,
    policy,
    balancing: def.loadBalancing,
    cookie,
    primary: side(false, primaryBackends),
    canary: canaryBackend ? side(true, [canaryBackend]) : undefined,
    canaryRules,
    byId,
    hashKey,
    headerNames: [...headerNames],
  };
}

/**
 * A route table compiled for lookups.
 *
 * A backend set object that was in the previous table (same object, hence unchanged: tables
 * are frozen) keeps its compiled form: endpoint ids, balancer state, policy. Only new set
 * objects are compiled. When the table was checked against the previous one (see
 * `createRouteTable`), the set map and the host/path matchers are carried over too and
 * updated for the replaced hosts only, at swap time, so a swap costs in proportion to what
 * changed. Otherwise everything is mapped again (the matchers the previous table had built
 * are built at once, the others on first use). Reuse goes through the previous table only,
 * never further back: its endpoints' shared counters are still live.
 */
export class CompiledTable {
  readonly sets: Map<string, SetRuntime>;
  /** The sets this table compiled; the others were taken over from the previous table. */
  readonly fresh: readonly SetRuntime[];
  /** The previous table's sets that this one does not carry over (gone, or compiled again). */
  readonly left: readonly SetRuntime[];
  /** Hosts whose path matchers this table built so far (those of kept hosts are shared). */
  matcherHosts = 0;
  readonly #matchers = new Map<string, HostMatcher<SetRuntime>>();
  #origins: Set<string> | undefined;
  /** Its set map and matchers were taken over by the next table: no longer for lookups. */
  #retired = false;

  constructor(
    readonly table: RouteTable,
    ctx: CompileContext,
    previous?: CompiledTable,
  ) {
    const fresh: SetRuntime[] = [];
    const derivation = tableDerivation(table);
    const ids = tableIds(table);
    if (previous && !previous.#retired && derivation?.previous === previous.table && ids) {
      // Only ids on a replaced host may have changed hands; ids still named by a kept host
      // keep their set (a set is the same object, or an equal one, as long as it is named).
      // New sets are compiled before anything of the previous table changes.
      const touched = new Set<string>();
      for (const c of derivation.changes) {
        for (const route of c.before.paths) touched.add(route.backendSet.id);
        for (const route of c.after.paths) touched.add(route.backendSet.id);
      }
      const left: SetRuntime[] = [];
      const gone: string[] = [];
      for (const id of touched) {
        const use = ids.get(id);
        const kept = previous.sets.get(id);
        if (kept?.def === use?.set) continue;
        if (kept) left.push(kept);
        if (use === undefined) gone.push(id);
        else fresh.push(compileSet(use.set, ctx));
      }
      // Taken over, not copied (a copy costs as much as building anew): the previous table
      // is retired, which is fine for the proxy, since requests look their table up only on
      // arrival and carry the compiled sets from there.
      previous.#retired = true;
      this.sets = previous.sets;
      for (const id of gone) this.sets.delete(id);
      for (const set of fresh) this.sets.set(set.id, set);
      this.fresh = fresh;
      this.left = left;
      for (const [key, m] of previous.#matchers) {
        this.#matchers.set(key, this.#patchMatcher(key, m, previous.table, derivation.changes));
      }
      return;
    }
    this.sets = new Map();
    for (const listener of table.listeners) {
      for (const host of listener.hosts) {
        for (const route of host.paths) {
          const def = route.backendSet;
          if (this.sets.has(def.id)) continue;
          let set = previous?.sets.get(def.id);
          if (set === undefined || set.def !== def) {
            set = compileSet(def, ctx);
            fresh.push(set);
          }
          this.sets.set(def.id, set);
        }
      }
    }
    this.fresh = fresh;
    const left: SetRuntime[] = [];
    for (const [id, set] of previous?.sets ?? []) if (this.sets.get(id) !== set) left.push(set);
    this.left = left;
    if (previous) for (const key of previous.#matchers.keys()) this.#build(key);
  }

  /** How many sets this table compiled. */
  get compiledSets(): number {
    return this.fresh.length;
  }

  /** The matcher for a proxy listener of this protocol and public port. */
  matcher(protocol: ListenerProtocolName, port: number): HostMatcher<SetRuntime> {
    if (this.#retired) throw new Error(`route table ${this.table.version} was replaced`);
    return this.#matchers.get(`${protocol}:${port}`) ?? this.#build(`${protocol}:${port}`);
  }

  #targetOf = (route: PathRoute): SetRuntime => {
    const set = this.sets.get(route.backendSet.id);
    if (!set) throw new Error(`backend set ${route.backendSet.id} was not compiled`);
    return set;
  };

  /** Positions of the listeners that serve a matcher key (`protocol:port`). */
  static #listenersOf(table: RouteTable, key: string): number[] {
    const out: number[] = [];
    table.listeners.forEach((l, i) => {
      if (
        key === `${l.protocol}:${l.port}` ||
        (l.port === undefined && key.startsWith(`${l.protocol}:`))
      )
        out.push(i);
    });
    return out;
  }

  #build(key: string): HostMatcher<SetRuntime> {
    const m = new HostMatcher<SetRuntime>();
    for (const li of CompiledTable.#listenersOf(this.table, key)) {
      for (const host of (this.table.listeners[li] as ListenerRoutes).hosts) {
        m.add(host, this.#targetOf);
        this.matcherHosts++;
      }
    }
    this.#matchers.set(key, m);
    return m;
  }

  /**
   * The previous table's matcher for `key`, with the replaced hosts rebuilt: when one listener
   * serves the key, at the same place in both tables (its hosts then have unique names).
   * Otherwise built again.
   */
  #patchMatcher(
    key: string,
    m: HostMatcher<SetRuntime>,
    before: RouteTable,
    changes: readonly HostChange[],
  ): HostMatcher<SetRuntime> {
    const now = CompiledTable.#listenersOf(this.table, key);
    const was = CompiledTable.#listenersOf(before, key);
    if (now.length > 1 || now.length !== was.length || now[0] !== was[0]) return this.#build(key);
    const li = now[0];
    const mine = changes.filter((c) => c.listener === li);
    if (mine.length === 0) return m;
    const patched = m; // taken over with the sets (see the constructor)
    for (const c of mine) patched.remove(c.before);
    for (const c of mine) {
      patched.replace(c.after, this.#targetOf);
      this.matcherHosts++;
    }
    return patched;
  }

  /** Every origin the table may send traffic to (worked out once). */
  origins(): ReadonlySet<string> {
    if (this.#origins) return this.#origins;
    const out = new Set<string>();
    for (const set of this.sets.values()) for (const ep of set.byId.values()) out.add(ep.origin);
    this.#origins = out;
    return out;
  }
}
