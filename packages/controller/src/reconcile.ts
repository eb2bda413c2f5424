import { DIALECTS, parseContext, type KubeObject, type ParsedObject } from '@tether/dialects';
import {
  Diagnostic,
  EntryRef,
  Fragment,
  ResolvedEntry,
  backendKey,
  entryKey,
  resolve,
  warning,
  type BackendFragment,
  type BackendRef,
  type ResolveResult,
} from '@tether/model';
import type {
  BackendSet,
  Endpoint,
  HostRoutes,
  ListenerRoutes,
  PathKind,
  RouteTable,
  WeightedBackend,
} from '@tether/dataplane';
import { EndpointIndex } from './endpoints';
import { ParseCache } from './parse-cache';
import { servedObjects, type ServingOptions } from './serving';
import type { Snapshot } from './snapshot';

/** The policy part of a backend set, kept so a refused configuration can keep its last good one. */
export type GoodPolicy = Pick<BackendSet, 'policy' | 'loadBalancing' | 'route'>;

export interface ReconcileResult {
  table: RouteTable;
  /** Every resolved entry point of the served objects (refused ones included). */
  entries: ResolvedEntry[];
  diagnostics: Diagnostic[];
  /** Keys (`Kind/namespace/name`) of the objects whose entry points are served. */
  served: string[];
  /** The policy in force per backend set id, carried into the next reconcile. */
  lastGood: ReadonlyMap<string, GoodPolicy>;
}

export interface ReconcileOptions extends ServingOptions {
  /** Reuses parse results of unchanged objects; same results with or without it. */
  cache?: ParseCache;
}

function pathKind(entry: EntryRef, regex: boolean): PathKind {
  if (regex || entry.pathType === 'RegularExpression') return 'RegularExpression';
  return entry.pathType === 'Exact' ? 'Exact' : 'Prefix';
}

/** Where a candidate goes in the table: worked out once, with the candidate. */
interface Place {
  protocol: 'HTTP' | 'HTTPS';
  port: number | undefined;
  listenerKey: string;
  host: string;
  path: string;
  kind: PathKind;
  /** Listener, host, path type and path: two candidates with one key contest one route. */
  routeKey: string;
}

interface Candidate {
  id: string;
  entry: EntryRef;
  set: BackendSet;
  created: string;
  canary: boolean;
  places: Place[];
}

function placesOf(entry: EntryRef, regex: boolean): Place[] {
  // A Service's own listener is served on its port; an Ingress, HTTPRoute or Route on the proxy's listeners.
  const servicePort = entry.kind === 'Service';
  const host = entry.host ?? '*';
  const path = entry.path ?? '/';
  const kind = pathKind(entry, regex);
  const places: Place[] = [];
  for (const l of entry.listeners) {
    const protocol =
      l.protocol === 'HTTP' || l.protocol === 'HTTP2' || l.protocol === 'GRPC'
        ? 'HTTP'
        : l.protocol === 'HTTPS'
          ? 'HTTPS'
          : undefined;
    if (!protocol) continue;
    const port = servicePort ? l.port : undefined;
    const listenerKey = `${protocol}:${port ?? ''}`;
    places.push({
      protocol,
      port,
      listenerKey,
      host,
      path,
      kind,
      routeKey: `${listenerKey} ${host} ${kind} ${path}`,
    });
  }
  return places;
}

const SERVED_KINDS = new Set(['Ingress', 'HTTPRoute', 'Route', 'Service']);

/** The fragments of one entry object, as segments that keep their identity across reconciles. */
interface Component {
  segments: (readonly Fragment[])[];
  services: readonly string[];
}

interface ParsedSnapshot {
  findService: (namespace: string, name: string) => KubeObject | undefined;
  diagnostics: Diagnostic[];
  /** By entry object (`Kind/namespace/name`), in snapshot order. */
  components: Map<string, Component>;
  /** Backend-wide fragments by target Service (`namespace/name`), in snapshot order. */
  backendWide: Map<string, (readonly BackendFragment[])[]>;
  weights: Map<string, number>;
  /** EndpointSlices by Service (`namespace/name`), in snapshot order. */
  slices: Map<string, KubeObject[]>;
  /** Keys of the served objects that define entry points. */
  served: string[];
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

function parseAll(objects: readonly KubeObject[], cache: ParseCache): ParsedSnapshot {
  const context = parseContext(objects);
  const out: ParsedSnapshot = {
    findService: context.findService,
    diagnostics: [],
    components: new Map(),
    backendWide: new Map(),
    weights: new Map(),
    slices: new Map(),
    served: [],
  };
  const parsed = new Map<string, ParsedObject[]>();
  for (const o of objects) {
    const result = cache.parse(o, context);
    if (SERVED_KINDS.has(o.kind)) out.served.push(result.key);
    if (result.sliceOf !== undefined) {
      const list = out.slices.get(result.sliceOf);
      if (list) list.push(o);
      else out.slices.set(result.sliceOf, [o]);
    }
    if (result.empty) continue;
    for (const d of result.diagnostics) out.diagnostics.push(d);
    for (const p of result.parsed) {
      const list = parsed.get(p.dialect);
      if (list) list.push(p);
      else parsed.set(p.dialect, [p]);
    }
    for (const g of result.entryGroups) {
      const component = out.components.get(g.key);
      if (!component) out.components.set(g.key, { segments: [g.fragments], services: g.services });
      else {
        component.segments.push(g.fragments);
        component.services = union(component.services, g.services);
      }
    }
    for (const g of result.backendGroups) {
      const list = out.backendWide.get(g.service);
      if (list) list.push(g.fragments);
      else out.backendWide.set(g.service, [g.fragments]);
    }
    for (const [key, weight] of result.weights) out.weights.set(key, weight);
  }
  cache.sweepObjects();
  for (const dialect of DIALECTS) {
    const check = dialect.crossCheck;
    if (!check) continue;
    const input = parsed.get(dialect.id) ?? [];
    const found = cache.memo('crossCheck', dialect.id, [input], () => check(input));
    for (const d of found) out.diagnostics.push(d);
  }
  return out;
}

/**
 * Resolves entry points object by object: fragments of different entry objects never share a
 * group, so each object's entry fragments, with the backend-wide fragments of the Services
 * they route to, resolve alone — and an object whose fragments did not change is not
 * resolved again.
 */
function resolveComponent(
  key: string,
  component: Component,
  parsed: ParsedSnapshot,
  cache: ParseCache,
): ResolveResult {
  const segments = [...component.segments];
  for (const service of component.services)
    for (const segment of parsed.backendWide.get(service) ?? []) segments.push(segment);
  return cache.memo('resolve', key, segments, () => resolve(segments.flat()));
}

/** Every endpoint of a backend, recomputed only when its Service or EndpointSlices change. */
function endpointsOf(
  ref: BackendRef,
  parsed: ParsedSnapshot,
  cache: ParseCache,
): Endpoint[] | undefined {
  const service = parsed.findService(ref.namespace, ref.service);
  const slices = parsed.slices.get(`${ref.namespace}/${ref.service}`) ?? [];
  return cache.memo('endpoints', backendKey(ref), [service, slices], () =>
    new EndpointIndex(service ? [service, ...slices] : slices).endpoints(ref),
  );
}

interface Placement {
  candidates: Candidate[];
  /** BackendNotFound warnings. */
  warnings: Diagnostic[];
  lastGood: [string, GoodPolicy][];
}

/** One backend set per entry point; its backends are the entry's (weighted) Service ports. */
function placeComponent(
  entries: readonly ResolvedEntry[],
  ids: readonly string[],
  goods: readonly (GoodPolicy | undefined)[],
  endpoints: readonly (Endpoint[] | undefined)[],
  weights: readonly (number | undefined)[],
  created: string,
): Placement {
  const out: Placement = { candidates: [], warnings: [], lastGood: [] };
  const sets = new Map<string, Candidate>();
  entries.forEach((e, i) => {
    const id = ids[i]!;
    const good = goods[i];
    if (!good) return;
    const eps = endpoints[i];
    if (eps === undefined) {
      out.warnings.push(
        warning(
          'BackendNotFound',
          `${id} routes to ${e.backend.namespace}/${e.backend.service} port ${e.backend.port}, which does not exist; requests get 503`,
          {
            dialect: 'kubernetes',
            kind: e.entry.kind,
            namespace: e.entry.namespace,
            name: e.entry.name,
            field: e.entry.rule,
          },
        ),
      );
    }
    const backend: WeightedBackend = { ref: e.backend, endpoints: eps ?? [] };
    const weight = weights[i];
    if (weight !== undefined) backend.weight = weight;
    const existing = sets.get(id);
    if (existing) {
      existing.set.backends.push(backend);
      return;
    }
    out.lastGood.push([id, good]);
    const candidate: Candidate = {
      id,
      entry: e.entry,
      created,
      canary: good.route.canary !== undefined,
      set: { id, ...good, backends: [backend] },
      places: placesOf(e.entry, good.route.pathRegex === true),
    };
    sets.set(id, candidate);
    out.candidates.push(candidate);
  });
  return out;
}

/** The entry points of a resolution, refused when an error names their object. */
function servedEntries(
  resolution: ResolveResult,
  refused: boolean,
  cache: ParseCache,
  key: string,
): readonly ResolvedEntry[] {
  if (!refused) return resolution.entries;
  return cache.memo('refused', key, [resolution], () =>
    resolution.entries.map((e) =>
      e.accepted ? { ...e, accepted: false, policy: null, loadBalancing: null, route: {} } : e,
    ),
  );
}

interface Derived {
  ids: string[];
  /** The policy each entry point brings, when it was accepted. */
  goods: (GoodPolicy | undefined)[];
}

const derived = new WeakMap<readonly ResolvedEntry[], Derived>();

/** Set ids and accepted policies of entry points, worked out once per list. */
function derivedOf(entries: readonly ResolvedEntry[]): Derived {
  let d = derived.get(entries);
  if (!d) {
    d = {
      ids: entries.map((e) => entryKey(e.entry)),
      goods: entries.map((e) =>
        e.accepted && e.policy && e.loadBalancing
          ? { policy: e.policy, loadBalancing: e.loadBalancing, route: e.route }
          : undefined,
      ),
    };
    derived.set(entries, d);
  }
  return d;
}

/** Objects named by an error: their entry points are refused (see refuseEntriesWithErrors). */
function blamedObjects(diagnostics: readonly Diagnostic[]): Set<string> {
  const blamed = new Set<string>();
  for (const d of diagnostics) {
    if (d.severity !== 'error') continue;
    for (const s of d.sources) blamed.add(`${s.kind}/${s.namespace}/${s.name}`);
  }
  return blamed;
}

const dedupeKeys = new WeakMap<Diagnostic, string>();

/** dedupeDiagnostics, remembering each diagnostic's key (most are the same objects every time). */
function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    let key = dedupeKeys.get(d);
    if (key === undefined) {
      key = JSON.stringify([d.severity, d.reason, d.message, d.sources]);
      dedupeKeys.set(d, key);
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Snapshot → route table and diagnostics. Refused entry points keep the policy they last had
 * (from `previous`); one that never had a good policy is not served.
 */
export function reconcile(
  snapshot: Snapshot,
  previous: ReconcileResult | undefined,
  options: ReconcileOptions,
): ReconcileResult {
  const objects = servedObjects(snapshot.objects, options);
  const cache = options.cache ?? new ParseCache();
  cache.beginPass(objects);
  const parsed = parseAll(objects, cache);
  const blamed = blamedObjects(parsed.diagnostics);
  const diagnostics = [...parsed.diagnostics];
  const warnings: Diagnostic[] = [];
  const entries: ResolvedEntry[] = [];
  const candidates: Candidate[] = [];
  const lastGood = new Map<string, GoodPolicy>();
  for (const [key, component] of parsed.components) {
    const resolution = resolveComponent(key, component, parsed, cache);
    for (const d of resolution.diagnostics) diagnostics.push(d);
    const mine = servedEntries(resolution, blamed.has(key), cache, key);
    for (const e of mine) entries.push(e);
    const { ids, goods } = derivedOf(mine);
    // A refused entry point keeps the policy it had; only those need the previous result.
    const inForce = goods.includes(undefined)
      ? goods.map((g, i) => g ?? previous?.lastGood.get(ids[i]!))
      : goods;
    const weights =
      parsed.weights.size === 0
        ? []
        : mine.map((e, i) => parsed.weights.get(`${ids[i]}→${e.backend.service}`));
    const created = cache.objectOf(key)?.metadata.creationTimestamp ?? '';
    // Endpoints change only with their Services and EndpointSlices: their epochs stand for them.
    const epochs = component.services.map((service) => cache.epoch(service));
    const placement = cache.memo('place', key, [mine, inForce, weights, created, epochs], () =>
      placeComponent(
        mine,
        ids,
        inForce,
        mine.map((e) => endpointsOf(e.backend, parsed, cache)),
        weights,
        created,
      ),
    );
    for (const c of placement.candidates) candidates.push(c);
    for (const w of placement.warnings) warnings.push(w);
    for (const [id, good] of placement.lastGood) lastGood.set(id, good);
  }
  for (const w of warnings) diagnostics.push(w);
  const table = buildTable(snapshot.generation, candidates, diagnostics, cache);
  cache.sweepMemos();
  return {
    table,
    entries,
    diagnostics: dedupe(diagnostics),
    served: parsed.served,
    lastGood,
  };
}

function source(c: Candidate, field: string) {
  return {
    dialect: 'kubernetes' as const,
    kind: c.entry.kind,
    namespace: c.entry.namespace,
    name: c.entry.name,
    field,
  };
}

/** Host and path as written (absent ≠ empty), as a map key. */
function hostAndPath(entry: EntryRef): string {
  return JSON.stringify([entry.host ?? null, entry.path ?? null]);
}

/** Places backend sets by listener, host and path; the oldest object wins a contested path. */
function buildTable(
  generation: number,
  candidates: Candidate[],
  diagnostics: Diagnostic[],
  cache: ParseCache,
): RouteTable {
  // Code-unit order, not localeCompare: the same on every machine, and several times faster.
  const before = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const ordered = cache.sorted(
    'candidates',
    candidates,
    (a, b) => before(a.created, b.created) || before(a.id, b.id),
  );
  const listeners = new Map<string, { routes: ListenerRoutes; hosts: Map<string, HostRoutes> }>();
  const placed = new Map<string, Candidate>();
  const place = (c: Candidate, set: BackendSet, at: Place) => {
    let listener = listeners.get(at.listenerKey);
    if (!listener) {
      const routes: ListenerRoutes =
        at.port === undefined
          ? { protocol: at.protocol, hosts: [] }
          : { protocol: at.protocol, port: at.port, hosts: [] };
      listener = { routes, hosts: new Map() };
      listeners.set(at.listenerKey, listener);
    }
    let host = listener.hosts.get(at.host);
    if (!host) {
      host = {
        host: at.host,
        wildcardLabels: c.entry.kind === 'HTTPRoute' ? 'many' : 'one',
        paths: [],
      };
      listener.hosts.set(at.host, host);
      listener.routes.hosts.push(host);
    }
    const holder = placed.get(at.routeKey);
    if (holder) {
      if (holder.id !== c.id)
        diagnostics.push(
          warning(
            'DuplicateRoute',
            `${c.id} and ${holder.id} both serve ${at.host}${at.path}; ${holder.id} is older and is served`,
            source(c, c.entry.rule),
            source(holder, holder.entry.rule),
          ),
        );
      return;
    }
    placed.set(at.routeKey, c);
    host.paths.push({ path: at.path, pathType: at.kind, backendSet: set });
  };
  const primaries = ordered.filter((c) => !c.canary);
  const canaries = ordered.filter((c) => c.canary);
  // Candidates are reused from one reconcile to the next: a canary is folded into a copy of
  // its primary's set, never into the set itself.
  const withCanaries = new Map<Candidate, BackendSet>();
  if (canaries.length > 0) {
    const primaryOf = new Map<string, Candidate>();
    for (const p of primaries) {
      const key = hostAndPath(p.entry);
      if (!primaryOf.has(key)) primaryOf.set(key, p);
    }
    for (const canary of canaries) {
      const primary = primaryOf.get(hostAndPath(canary.entry));
      if (!primary) {
        diagnostics.push(
          warning(
            'CanaryWithoutPrimary',
            `${canary.id} is a canary of ${canary.entry.host ?? '*'}${canary.entry.path ?? '/'}, which no other Ingress serves; it is ignored`,
            source(canary, 'nginx.ingress.kubernetes.io/canary'),
          ),
        );
        continue;
      }
      const set = withCanaries.get(primary) ?? primary.set;
      const folded = canary.set.backends.map((b) => ({
        ...b,
        canary: canary.set.route.canary ?? {},
      }));
      withCanaries.set(primary, { ...set, backends: [...set.backends, ...folded] });
    }
  }
  for (const c of primaries) {
    const set = withCanaries.get(c) ?? c.set;
    for (const at of c.places) place(c, set, at);
  }
  return { version: String(generation), listeners: [...listeners.values()].map((l) => l.routes) };
}
