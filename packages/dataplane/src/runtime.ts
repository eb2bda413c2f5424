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
  type ListenerProtocolName,
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
 * A route table compiled for lookups. Matchers per listener are built on first use.
 *
 * A backend set object that was in the previous table (same object, hence unchanged: tables
 * are frozen) keeps its compiled form: endpoint ids, balancer state, policy. Only new set
 * objects are compiled, so a swap costs in proportion to what changed. Reuse goes through the
 * previous table only, never further back: its endpoints' shared counters are still live.
 */
export class CompiledTable {
  readonly sets = new Map<string, SetRuntime>();
  /** The sets this table compiled; the others were taken over from the previous table. */
  readonly fresh: readonly SetRuntime[];
  readonly #matchers = new Map<string, HostMatcher<SetRuntime>>();
  #origins: Set<string> | undefined;

  constructor(
    readonly table: RouteTable,
    ctx: CompileContext,
    previous?: CompiledTable,
  ) {
    const fresh: SetRuntime[] = [];
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
  }

  /** How many sets this table compiled. */
  get compiledSets(): number {
    return this.fresh.length;
  }

  /** The matcher for a proxy listener of this protocol and public port. */
  matcher(protocol: ListenerProtocolName, port: number): HostMatcher<SetRuntime> {
    const key = `${protocol}:${port}`;
    let m = this.#matchers.get(key);
    if (!m) {
      m = new HostMatcher<SetRuntime>();
      for (const listener of this.table.listeners) {
        if (
          listener.protocol !== protocol ||
          (listener.port !== undefined && listener.port !== port)
        )
          continue;
        for (const host of listener.hosts) {
          m.add(host, (route) => {
            const set = this.sets.get(route.backendSet.id);
            if (!set) throw new Error(`backend set ${route.backendSet.id} was not compiled`);
            return set;
          });
        }
      }
      this.#matchers.set(key, m);
    }
    return m;
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
