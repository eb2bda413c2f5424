/**
 * The compiled form of a route table: what the hot path reads. One `CompiledTable` per
 * table swap; per-endpoint counters that must survive swaps (connections in flight, latency
 * average, passive health) live in `EndpointStats`, shared by origin.
 */
import type { CookieSpec, LoadBalancing, PersistencePolicy } from '@tether/model';
import { backendKey, backendSpeaksTls } from '@tether/model';
import { hashString } from './hash';
import { HostMatcher } from './matcher';
import { IsolatingMatcher, type RouteMatcher } from './listener-matcher';
import {
  acceptsNewSessions,
  servesExistingSessions,
  type BackendSet,
  type CanaryRules,
  type ListenerProtocolName,
  type ListenerRoutes,
  type PathRoute,
  type AcceptedRouteTable,
} from './table/types';
import { tableDerivation, tableIds } from './table/create';
import { type HostChange } from './table/diff';
import type { TokenCodec } from './token';
import { compileHashKey, type HashKeyFn } from './hashkey';

/** Counters of one upstream origin (address:port), kept across table swaps. */
export class EndpointStats {
  /**
   * Endpoints of the table in force that lead to this origin (kept by the proxy, see
   * `Proxy#countOrigins`): a field here rather than a second map by origin, which for tens of
   * thousands of origins would cost about a MiB of hash table.
   */
  refs = 0;
  /** Requests in flight. */
  active = 0;
  /** Moving average of the time to response headers, in ms; 0 until the first response. */
  ewmaMs = 0;
  /** Until when (ms) the endpoint counts as down after a refused connection. */
  downUntil = 0;
  constructor(readonly origin: string) {}
}

/**
 * A serving endpoint (ready or draining) of a backend; the others are not kept. There is one
 * per endpoint and backend set, tens of thousands in a large table, so it holds only what
 * requests read: no flags that are always true, nothing that is cheap to derive where it is
 * rarely needed (see {@link hostPortOf}).
 */
export interface EndpointRuntime {
  /** Keyed endpoint id (what `endpoint` tokens carry). */
  readonly id: string;
  readonly seed: number;
  readonly address: string;
  readonly port: number;
  /** `http://address:port` (`https://` for TLS, brackets for IPv6); the same string as `stats.origin`. */
  readonly origin: string;
  /** Weight for new sessions; 0 when the endpoint takes no new sessions (see {@link acceptsNew}). */
  readonly weight: number;
  /** Weight on the balanced-mode ring (any serving endpoint). */
  readonly ringWeight: number;
  readonly backend: BackendRuntime;
  readonly stats: EndpointStats;
  /** Smooth weighted round-robin state. */
  current: number;
}

/** Whether the endpoint may get new sessions and unpinned requests (ready, not terminating, weight > 0). */
export function acceptsNew(ep: EndpointRuntime): boolean {
  return ep.weight > 0;
}

/** The key of a passthrough route among the compiled streams: this and the host name. */
export const PASSTHROUGH = 'SNI:';

const SCHEME = 'http://';
const TLS_SCHEME = 'https://';

/** `address:port` for a Host header (brackets for IPv6); needed only for requests without one. */
export function hostPortOf(ep: EndpointRuntime): string {
  return ep.origin.slice(ep.origin.startsWith(TLS_SCHEME) ? TLS_SCHEME.length : SCHEME.length);
}

export interface BackendRuntime {
  /** The backend as the table lists it (its Service port and every endpoint). */
  readonly def: BackendSet['backends'][number];
  readonly seed: number;
  readonly weight: number;
  readonly canary: boolean;
  /** Its serving endpoints (ready or draining). */
  readonly endpoints: readonly EndpointRuntime[];
  rr: number;
}

/** One side of a backend set: the primary backends, or the canary backend. */
export interface Side {
  readonly canary: boolean;
  readonly backends: readonly BackendRuntime[];
  /**
   * Every serving endpoint of the side: the ring that `key` tokens are placed on. The very
   * array of the backend's endpoints when the side has one backend.
   */
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
  /**
   * Every serving endpoint of the set, backend by backend in table order (the backend's own
   * array when the set has one backend).
   */
  readonly endpoints: readonly EndpointRuntime[];
  /**
   * Endpoints by id, only for sets with more than {@link SCAN_MAX} endpoints; smaller sets are
   * searched in `endpoints` (see {@link endpointById}).
   */
  readonly byId: ReadonlyMap<string, EndpointRuntime> | undefined;
  readonly hashKey: HashKeyFn | undefined;
}

/**
 * Up to this many endpoints, a set finds an endpoint by id by comparing ids in turn, which is
 * as quick as a map lookup (that first hashes the id); a map for each of tens of thousands of
 * small sets would cost about 180 bytes each.
 */
const SCAN_MAX = 8;

/** The set's endpoint with this keyed id (from a token or a source-IP session). */
export function endpointById(set: SetRuntime, id: string): EndpointRuntime | undefined {
  if (set.byId) return set.byId.get(id);
  // From the end: of equal ids (a backend listed twice) the last one wins, as in the map.
  const endpoints = set.endpoints;
  for (let i = endpoints.length - 1; i >= 0; i--) {
    const ep = endpoints[i] as EndpointRuntime;
    if (ep.id === id) return ep;
  }
  return undefined;
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

/** The balancer cookie of `cookie` mode when the policy names none; one object for every set. */
const DEFAULT_BALANCER_COOKIE: CookieSpec = { ...DEFAULT_COMPANION_COOKIE, name: 'TETHER' };

/**
 * `http://address:port` (brackets for IPv6), built flat: a template literal makes a rope of
 * about three 32-byte nodes over the pieces, kept for as long as the string is.
 */
function originOf(address: string, port: number, tls: boolean): string {
  const scheme = tls ? TLS_SCHEME : SCHEME;
  return address.includes(':')
    ? [scheme, '[', address, ']:', port].join('')
    : [scheme, address, ':', port].join('');
}

/**
 * Arrays grown by `push` (and those from `filter` and `flatMap`) keep spare capacity: 17
 * slots for one element. With tens of thousands of sets that is MiBs, so compiled arrays,
 * which live as long as their set, are copied to their exact length once built (`slice`,
 * `map` and `concat` make exact ones).
 */
function exact<T>(grown: T[]): T[] {
  return grown.slice();
}

/** The endpoints of several backends in one array of exact length. */
function joined(backends: readonly BackendRuntime[]): readonly EndpointRuntime[] {
  return ([] as EndpointRuntime[]).concat(...backends.map((b) => b.endpoints));
}

/**
 * A 32-bit seed as a signed integer: V8 keeps it in the object as a small integer, where an
 * unsigned one above 2^31 would make the field a boxed 16-byte number in every such object.
 * Hashing converts seeds to signed 32 bits anyway (`^`, `Math.imul`), so placement is unchanged.
 */
function seedOf(unsigned: number): number {
  return unsigned | 0;
}

/** Compiles one backend; `endpoints` is filled in before the backend is used. */
function compileBackend(
  def: BackendSet,
  b: BackendSet['backends'][number],
  ctx: CompileContext,
): BackendRuntime {
  const key = backendKey(b.ref);
  const runtime: { -readonly [K in keyof BackendRuntime]: BackendRuntime[K] } = {
    def: b,
    seed: seedOf(hashString(key)),
    weight: b.weight ?? 1,
    canary: b.canary !== undefined,
    endpoints: [],
    rr: 0,
  };
  const endpoints: EndpointRuntime[] = [];
  const seen = new Set<string>();
  for (const ep of b.endpoints) {
    if (!servesExistingSessions(ep)) continue;
    // TLS endpoints are origins of their own: their pools and counters are not plain HTTP's.
    const origin = originOf(ep.address, ep.port, backendSpeaksTls(def.route.backendProtocol));
    if (seen.has(origin)) continue;
    seen.add(origin);
    const id = ctx.codec.endpointId(def.id, key, ep.address, ep.port);
    const stats = ctx.stats(origin);
    endpoints.push({
      id,
      seed: seedOf(Buffer.from(id, 'base64url').readUInt32BE(0)),
      address: ep.address,
      port: ep.port,
      // One string per origin, however many sets lead to it.
      origin: stats.origin,
      weight: acceptsNewSessions(ep) ? (ep.weight ?? 1) : 0,
      ringWeight: ep.weight && ep.weight > 0 ? ep.weight : 1,
      backend: runtime,
      stats,
      current: 0,
    });
  }
  runtime.endpoints = exact(endpoints);
  return runtime;
}

function compileSide(canary: boolean, backends: readonly BackendRuntime[]): Side {
  const only = backends.length === 1 ? backends[0] : undefined;
  return {
    canary,
    backends,
    ring: only ? only.endpoints : joined(backends),
  };
}

function compileSet(def: BackendSet, ctx: CompileContext): SetRuntime {
  const backends = def.backends.map((b) => compileBackend(def, b, ctx));
  const primary = compileSide(false, exact(backends.filter((b) => !b.canary)));
  const canaryBackend = backends.find((b) => b.canary);
  const canary = canaryBackend ? compileSide(true, [canaryBackend]) : undefined;
  const endpoints = backends.length === 1 ? primary.ring : joined(backends);
  let byId: Map<string, EndpointRuntime> | undefined;
  if (endpoints.length > SCAN_MAX) {
    byId = new Map();
    for (const ep of endpoints) byId.set(ep.id, ep);
  }
  const policy = def.policy;
  const cookie =
    policy.mode === 'cookie'
      ? (policy.cookie ?? DEFAULT_BALANCER_COOKIE)
      : policy.mode === 'appCookie'
        ? (policy.cookie ?? DEFAULT_COMPANION_COOKIE)
        : undefined;
  const hashKey =
    def.loadBalancing.algorithm === 'hash' && def.loadBalancing.hashKey
      ? compileHashKey(def.loadBalancing.hashKey)
      : undefined;
  return {
    def,
    id: def.id,
    policy,
    balancing: def.loadBalancing,
    cookie,
    primary,
    canary,
    canaryRules: def.backends.find((b) => b.canary)?.canary,
    endpoints,
    byId,
    hashKey,
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
  /** The sets of the layer-4 routes, by `TCP:port` / `UDP:port`, and passthrough routes by `SNI:host`. */
  readonly streams: ReadonlyMap<string, SetRuntime>;
  /** PEM of the CA Secrets that sets verify their endpoints against, by `namespace/name`. */
  readonly backendCas: ReadonlyMap<string, string>;
  readonly #matchers = new Map<string, HostMatcher<SetRuntime> | IsolatingMatcher<SetRuntime>>();
  #origins: Set<string> | undefined;
  /** Its set map and matchers were taken over by the next table: no longer for lookups. */
  #retired = false;

  constructor(
    readonly table: AcceptedRouteTable,
    ctx: CompileContext,
    previous?: CompiledTable,
  ) {
    const fresh: SetRuntime[] = [];
    this.streams = CompiledTable.#compileStreams(table, ctx, previous, fresh);
    this.backendCas = new Map((table.backendCas ?? []).map((c) => [c.secret, c.pem]));
    const derivation = tableDerivation(table);
    const ids = tableIds(table);
    if (previous && !previous.#retired && derivation?.previous === previous.table && ids) {
      // Only ids on a replaced host may have changed hands; ids still named by a kept host
      // keep their set (a set is the same object, or an equal one, as long as it is named).
      // New sets are compiled before anything of the previous table changes.
      const touched = new Set<string>();
      for (const c of derivation.changes) {
        for (const route of c.before?.paths ?? []) touched.add(route.backendSet.id);
        for (const route of c.after?.paths ?? []) touched.add(route.backendSet.id);
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

  /** Stream sets of the table before that are the same objects are kept, others compiled. */
  static #compileStreams(
    table: AcceptedRouteTable,
    ctx: CompileContext,
    previous: CompiledTable | undefined,
    fresh: SetRuntime[],
  ): ReadonlyMap<string, SetRuntime> {
    const out = new Map<string, SetRuntime>();
    const add = (key: string, def: BackendSet): void => {
      let set = previous?.streams.get(key);
      if (set?.def !== def) {
        set = compileSet(def, ctx);
        fresh.push(set);
      }
      out.set(key, set);
    };
    for (const s of table.streams ?? []) add(`${s.protocol}:${s.port}`, s.backendSet);
    // TLS passthrough routes are layer-4 routes too, found by the ClientHello's server name.
    for (const p of table.passthrough ?? []) add(`${PASSTHROUGH}${p.host}`, p.backendSet);
    return out;
  }

  /** Whether a set id is in this table, on a route or a stream. */
  has(id: string): boolean {
    if (this.sets.has(id)) return true;
    for (const set of this.streams.values()) if (set.id === id) return true;
    return false;
  }

  /** How many sets this table compiled. */
  get compiledSets(): number {
    return this.fresh.length;
  }

  /**
   * The matcher for a proxy listener of this protocol and public port: the routes of that port
   * and, on the proxy's own listeners, the routes of every port (Ingresses, Routes). A Service
   * or Gateway port of its own (`exclusive`) serves only the routes of that port.
   */
  matcher(
    protocol: ListenerProtocolName,
    port: number,
    exclusive = false,
  ): RouteMatcher<SetRuntime> {
    if (this.#retired) throw new Error(`route table ${this.table.version} was replaced`);
    const key = exclusive ? `=${protocol}:${port}` : `${protocol}:${port}`;
    return this.#matchers.get(key) ?? this.#build(key);
  }

  #targetOf = (route: PathRoute): SetRuntime => {
    const set = this.sets.get(route.backendSet.id);
    if (!set) throw new Error(`backend set ${route.backendSet.id} was not compiled`);
    return set;
  };

  /** Positions of the listeners that serve a matcher key (`protocol:port`). */
  static #listenersOf(table: AcceptedRouteTable, key: string): number[] {
    const out: number[] = [];
    const exclusive = key.startsWith('=');
    const exact = exclusive ? key.slice(1) : key;
    table.listeners.forEach((l, i) => {
      if (
        exact === `${l.protocol}:${l.port}` ||
        (!exclusive && l.port === undefined && key.startsWith(`${l.protocol}:`))
      )
        out.push(i);
    });
    return out;
  }

  #build(key: string): HostMatcher<SetRuntime> | IsolatingMatcher<SetRuntime> {
    const listeners = CompiledTable.#listenersOf(this.table, key).map(
      (li) => this.table.listeners[li] as ListenerRoutes,
    );
    // Gateway listeners with hostnames on this port: each keeps its routes to itself.
    const isolating = listeners.some((l) => l.hostname !== undefined)
      ? new IsolatingMatcher<SetRuntime>()
      : undefined;
    const plain = isolating ? undefined : new HostMatcher<SetRuntime>();
    for (const l of listeners) {
      const m =
        plain ?? (l.hostname === undefined ? isolating!.rest : isolating!.listener(l.hostname));
      for (const host of l.hosts) {
        m.add(host, this.#targetOf);
        this.matcherHosts++;
      }
    }
    const built = isolating ?? plain!;
    this.#matchers.set(key, built);
    return built;
  }

  /**
   * The previous table's matcher for `key`, with the replaced, removed and added hosts taken
   * out and put in (the hosts' order in a listener does not matter there): when one listener
   * serves the key, at the same place in both tables (its hosts then have unique names).
   * Otherwise built again.
   */
  #patchMatcher(
    key: string,
    m: HostMatcher<SetRuntime> | IsolatingMatcher<SetRuntime>,
    before: AcceptedRouteTable,
    changes: readonly HostChange[],
  ): HostMatcher<SetRuntime> | IsolatingMatcher<SetRuntime> {
    const now = CompiledTable.#listenersOf(this.table, key);
    const was = CompiledTable.#listenersOf(before, key);
    if (now.length > 1 || now.length !== was.length || now[0] !== was[0]) return this.#build(key);
    // Isolated listeners are few and small: built again rather than patched.
    if (
      m instanceof IsolatingMatcher ||
      this.table.listeners[now[0]!]?.hostname !== undefined ||
      before.listeners[was[0]!]?.hostname !== undefined
    )
      return this.#build(key);
    const li = now[0];
    const mine = changes.filter((c) => c.listener === li);
    if (mine.length === 0) return m;
    const patched = m; // taken over with the sets (see the constructor)
    for (const c of mine) if (c.before) patched.remove(c.before);
    for (const c of mine) {
      if (!c.after) continue;
      patched.replace(c.after, this.#targetOf);
      this.matcherHosts++;
    }
    return patched;
  }

  /** Every origin the table may send traffic to (worked out once). */
  origins(): ReadonlySet<string> {
    if (this.#origins) return this.#origins;
    const out = new Set<string>();
    for (const set of this.sets.values()) for (const ep of set.endpoints) out.add(ep.origin);
    this.#origins = out;
    return out;
  }
}

/**
 * Keeps `EndpointStats.refs` (how many endpoints of the table in force lead to each origin)
 * up to date for a swap to `compiled`, from the sets it compiled and those it left behind, so
 * a swap costs in proportion to what changed. `used` hears of an origin that had no endpoint
 * and has one now; `unused` of one that has none left.
 */
export function countOrigins(
  compiled: CompiledTable,
  used: (origin: string) => void,
  unused: (origin: string) => void,
): void {
  for (const set of compiled.fresh) {
    for (const ep of set.endpoints) if (ep.stats.refs++ === 0) used(ep.origin);
  }
  for (const set of compiled.left) {
    for (const ep of set.endpoints) {
      if (--ep.stats.refs > 0) continue;
      ep.stats.refs = 0;
      unused(ep.origin);
    }
  }
}
