import {
  DIALECTS,
  parseContext,
  type KubeObject,
  type ParseContext,
  type ParsedObject,
} from '@tether/dialects';
import {
  Diagnostic,
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
import type { BackendSet, Endpoint, RouteTable, WeightedBackend } from '@tether/dataplane';
import { EndpointIndex } from './endpoints';
import { NONE, pathKey } from './kept';
import { overridden } from './overlay-map';
import {
  buildTable,
  patchTable,
  placesOf,
  type Candidate,
  type RouteAt,
  type TableLayout,
} from './route-layout';
import { ParseCache, type CachedParse } from './parse-cache';
import { servedObjects, type ServingOptions } from './serving';
import { objectKey, type Snapshot } from './snapshot';

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
  /** Diagnostics of each object's parse, by object key (only objects that have some). */
  parseDiagnostics: Map<string, readonly Diagnostic[]>;
  /** What each dialect with a cross-object check parsed, in snapshot order: its input. */
  byDialect: Map<string, ParsedObject[]>;
  /** Diagnostics of the cross-object checks. */
  crossChecked: Diagnostic[];
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
    parseDiagnostics: new Map(),
    byDialect: new Map(),
    crossChecked: [],
  };
  const parsed = out.byDialect;
  for (const o of objects) {
    const result = cache.parse(o, context);
    if (SERVED_KINDS.has(o.kind)) out.served.push(result.key);
    if (result.sliceOf !== undefined) {
      const list = out.slices.get(result.sliceOf);
      if (list) list.push(o);
      else out.slices.set(result.sliceOf, [o]);
    }
    if (result.empty) continue;
    if (result.diagnostics.length > 0) out.parseDiagnostics.set(result.key, result.diagnostics);
    for (const d of result.diagnostics) out.diagnostics.push(d);
    for (const p of result.checked) {
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
  out.crossChecked = crossCheck(parsed, cache);
  for (const d of out.crossChecked) out.diagnostics.push(d);
  return out;
}

/** The diagnostics of every dialect's cross-object check, memoised on what it read. */
function crossCheck(
  byDialect: ReadonlyMap<string, ParsedObject[]>,
  cache: ParseCache,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const dialect of DIALECTS) {
    const check = dialect.crossCheck;
    if (!check) continue;
    const input = byDialect.get(dialect.id) ?? [];
    const found = cache.memo('crossCheck', dialect.id, [input], () => check(input));
    for (const d of found) out.push(d);
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
  const slices = parsed.slices.get(pathKey(ref.namespace, ref.service)) ?? [];
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
  // Kept until the entry object changes: at their exact lengths (see kept.ts).
  for (const c of out.candidates)
    if (c.set.backends.length > 1) c.set.backends = c.set.backends.slice();
  return {
    candidates: out.candidates.slice(),
    warnings: out.warnings.slice(),
    lastGood: out.lastGood.slice(),
  };
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

/** What one entry object contributes to a reconcile. */
interface ComponentResult {
  component: Component;
  /** Diagnostics of its resolution. */
  diagnostics: readonly Diagnostic[];
  entries: readonly ResolvedEntry[];
  placement: Placement;
}

function reconcileComponent(
  key: string,
  component: Component,
  parsed: ParsedSnapshot,
  blamed: ReadonlySet<string>,
  previous: ReconcileResult | undefined,
  cache: ParseCache,
): ComponentResult {
  const resolution = resolveComponent(key, component, parsed, cache);
  const mine = servedEntries(resolution, blamed.has(key), cache, key);
  const { ids, goods } = derivedOf(mine);
  // A refused entry point keeps the policy it had; only those need the previous result.
  const inForce = goods.includes(undefined)
    ? goods.map((g, i) => g ?? previous?.lastGood.get(ids[i]!))
    : goods;
  const weights =
    parsed.weights.size === 0
      ? NONE
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
  return { component, diagnostics: resolution.diagnostics, entries: mine, placement };
}

/** Everything a reconcile keeps for the next one to update instead of rebuilding. */
interface Retained {
  raw: readonly KubeObject[];
  /** The served objects, in snapshot order. */
  objects: KubeObject[];
  /** IngressClasses, GatewayClasses and Gateways: all that decides which objects are served. */
  classes: KubeObject[];
  serving: string;
  parsed: ParsedSnapshot;
  blamed: Set<string>;
  components: Map<string, ComponentResult>;
  /** Entry objects by the Services (`namespace/name`) they route to. */
  byService: Map<string, string[]>;
  layout: TableLayout;
  assembled: Assembled;
  result: ReconcileResult;
}

const retained = new WeakMap<ParseCache, Retained>();

const CLASS_KINDS = new Set(['IngressClass', 'GatewayClass', 'Gateway']);

function servingKey(options: ServingOptions): string {
  return JSON.stringify([options.ingressClass, options.controllerName, options.serveAll]);
}

/**
 * Snapshot → route table and diagnostics. Refused entry points keep the policy they last had
 * (from `previous`); one that never had a good policy is not served. With a cache that made
 * `previous`, a snapshot that differs from the previous one in a few Ingresses or
 * EndpointSlices (found by object identity, so no promise of the source is trusted) is
 * reconciled by updating only what they touch; anything else is rebuilt in full. Both give
 * the same table, entries, served keys and last good policies, and the same set of
 * diagnostics.
 */
export function reconcile(
  snapshot: Snapshot,
  previous: ReconcileResult | undefined,
  options: ReconcileOptions,
): ReconcileResult {
  const cache = options.cache ?? new ParseCache();
  const state = options.cache ? retained.get(cache) : undefined;
  if (state && state.result === previous) {
    let updated: ReconcileResult | undefined;
    try {
      updated = reconcileChanges(snapshot, previous, options, cache, state);
    } catch (e) {
      // What is retained may be half updated: the next reconcile starts afresh.
      retained.delete(cache);
      throw e;
    }
    if (updated) return updated;
  }
  return reconcileAll(snapshot, previous, options, cache);
}

function reconcileAll(
  snapshot: Snapshot,
  previous: ReconcileResult | undefined,
  options: ReconcileOptions,
  cache: ParseCache,
): ReconcileResult {
  const objects = servedObjects(snapshot.objects, options);
  cache.beginPass(objects);
  const parsed = parseAll(objects, cache);
  const blamed = blamedObjects(parsed.diagnostics);
  const components = new Map<string, ComponentResult>();
  const byService = new Map<string, string[]>();
  for (const [key, component] of parsed.components) {
    components.set(key, reconcileComponent(key, component, parsed, blamed, previous, cache));
    for (const service of component.services) {
      const list = byService.get(service);
      if (list) list.push(key);
      else byService.set(service, [key]);
    }
  }
  const candidates: Candidate[] = [];
  for (const c of components.values())
    for (const candidate of c.placement.candidates) candidates.push(candidate);
  const layout: TableLayout = { routes: new Map(), canaries: 0, diagnostics: [] };
  const table = buildTable(snapshot.generation, candidates, layout, cache);
  cache.sweepMemos();
  const { result, assembled } = assemble(
    table,
    parsed.served,
    [...parsed.diagnostics],
    components,
    layout,
  );
  if (options.cache)
    retained.set(cache, {
      raw: snapshot.objects,
      objects,
      classes: snapshot.objects.filter((o) => CLASS_KINDS.has(o.kind)),
      serving: servingKey(options),
      parsed,
      blamed,
      components,
      byService,
      layout,
      assembled,
      result,
    });
  return result;
}

/** Where each entry object's results went in a result, so a later one can be patched. */
interface Assembled {
  /** Index of each entry object's first entry point in `entries`. */
  offsets: Map<string, number>;
  /** Resolution diagnostics of entry objects that have some. */
  resolved: Map<string, readonly Diagnostic[]>;
  /** BackendNotFound warnings of entry objects that have some. */
  warnings: Map<string, readonly Diagnostic[]>;
}

/** The result from the parts: diagnostics are those of the parse, then of each step. */
function assemble(
  table: RouteTable,
  served: string[],
  diagnostics: Diagnostic[],
  components: ReadonlyMap<string, ComponentResult>,
  layout: TableLayout,
): { result: ReconcileResult; assembled: Assembled } {
  const entries: ResolvedEntry[] = [];
  const lastGood = new Map<string, GoodPolicy>();
  const assembled: Assembled = { offsets: new Map(), resolved: new Map(), warnings: new Map() };
  components.forEach((c, key) => {
    assembled.offsets.set(key, entries.length);
    if (c.diagnostics.length > 0) assembled.resolved.set(key, c.diagnostics);
    if (c.placement.warnings.length > 0) assembled.warnings.set(key, c.placement.warnings);
    for (const d of c.diagnostics) diagnostics.push(d);
    for (const e of c.entries) entries.push(e);
    for (const [id, good] of c.placement.lastGood) lastGood.set(id, good);
  });
  for (const list of assembled.warnings.values()) for (const w of list) diagnostics.push(w);
  for (const d of layout.diagnostics) diagnostics.push(d);
  const result = { table, entries, diagnostics: dedupe(diagnostics), served, lastGood };
  return { result, assembled };
}

function sameIds(a: Placement, b: Placement): boolean {
  return (
    a.lastGood.length === b.lastGood.length &&
    a.lastGood.every(([id], i) => id === b.lastGood[i]![0])
  );
}

/**
 * `previous` with the parts of the `changed` entry objects replaced; undefined when one of
 * them has another number of entry points or other set ids (then it is assembled in full).
 * Diagnostics come in another order than a full assembly, but they are the same ones.
 */
function reassemble(
  previous: ReconcileResult,
  table: RouteTable,
  parseDiagnostics: readonly Diagnostic[],
  changed: ReadonlyMap<string, { before: ComponentResult; after: ComponentResult }>,
  layout: TableLayout,
  assembled: Assembled,
): ReconcileResult | undefined {
  for (const { before, after } of changed.values())
    if (
      before.entries.length !== after.entries.length ||
      !sameIds(before.placement, after.placement)
    )
      return undefined;
  const entries = previous.entries.slice();
  const goods = new Map<string, GoodPolicy>();
  for (const [key, { after }] of changed) {
    const offset = assembled.offsets.get(key);
    if (offset === undefined) return undefined;
    after.entries.forEach((e, i) => (entries[offset + i] = e));
    for (const [id, good] of after.placement.lastGood) goods.set(id, good);
    if (after.diagnostics.length > 0) assembled.resolved.set(key, after.diagnostics);
    else assembled.resolved.delete(key);
    if (after.placement.warnings.length > 0) assembled.warnings.set(key, after.placement.warnings);
    else assembled.warnings.delete(key);
  }
  const diagnostics = [...parseDiagnostics];
  for (const list of assembled.resolved.values()) for (const d of list) diagnostics.push(d);
  for (const list of assembled.warnings.values()) for (const d of list) diagnostics.push(d);
  for (const d of layout.diagnostics) diagnostics.push(d);
  return {
    table,
    entries,
    diagnostics: dedupe(diagnostics),
    served: previous.served,
    lastGood: overridden(previous.lastGood, goods),
  };
}

/** Changes beyond this many objects are rebuilt in full. */
const MAX_CHANGES = 64;
const PATCHABLE_KINDS = new Set(['Ingress', 'EndpointSlice']);

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `list` with `from` replaced by `to` (a copy: memoised steps compare lists by identity). */
function replaced<T>(list: readonly T[], from: T, to: T): T[] {
  return list.map((x) => (x === from ? to : x));
}

/**
 * Reconciles a snapshot that differs from the retained one only in a few Ingresses and
 * EndpointSlices that keep their place and name; undefined when it does not, or when a
 * change reaches beyond its own entry object (another object's fragments, weights, canaries,
 * a changed route) — then the caller rebuilds in full.
 */
function reconcileChanges(
  snapshot: Snapshot,
  previous: ReconcileResult,
  options: ReconcileOptions,
  cache: ParseCache,
  state: Retained,
): ReconcileResult | undefined {
  const raw = snapshot.objects;
  if (raw.length !== state.raw.length || servingKey(options) !== state.serving) return undefined;
  if (state.layout.canaries > 0 || state.parsed.weights.size > 0) return undefined;
  const changed: [before: KubeObject, after: KubeObject][] = [];
  for (let i = 0; i < raw.length; i++) {
    const before = state.raw[i]!;
    const after = raw[i]!;
    if (before === after) continue;
    if (changed.length === MAX_CHANGES) return undefined;
    if (!PATCHABLE_KINDS.has(after.kind) || before.kind !== after.kind) return undefined;
    if (objectKey(before) !== objectKey(after)) return undefined;
    changed.push([before, after]);
  }
  // Which objects are served depends on the classes only, and they did not change.
  const served: [before: KubeObject, after: KubeObject][] = [];
  const places: number[] = [];
  for (const [before, after] of changed) {
    const at = state.objects.indexOf(before);
    const isServed = servedObjects([...state.classes, after], options).includes(after);
    if (at >= 0 !== isServed) return undefined;
    if (isServed) {
      served.push([before, after]);
      places.push(at);
    }
  }
  // The served objects are updated in place, not copied (tens of thousands on every change):
  // when this function gives up, the caller rebuilds everything retained anyway.
  const objects = state.objects;
  served.forEach(([, after], i) => (objects[places[i]!] = after));
  // Check every other change before touching anything retained.
  const parses: [before: CachedParse, after: CachedParse][] = [];
  const context: ParseContext = { objects, findService: state.parsed.findService };
  for (const [before, after] of served) {
    const key = objectKey(before);
    const old = cache.peek(key);
    if (!old) return undefined;
    const now = cache.parse(after, context);
    if (old.backendGroups.length > 0 || now.backendGroups.length > 0) return undefined;
    if (old.weights.length > 0 || now.weights.length > 0) return undefined;
    if (old.sliceOf !== now.sliceOf || old.checked.length !== now.checked.length) return undefined;
    if (old.checked.some((p, i) => p.dialect !== now.checked[i]!.dialect)) return undefined;
    const groups = (r: CachedParse) => r.entryGroups.map((g) => g.key);
    if (!sameList(groups(old), groups(now))) return undefined;
    for (const [i, g] of now.entryGroups.entries()) {
      const component = state.parsed.components.get(g.key);
      if (g.key !== key || !component || component.segments.length !== 1) return undefined;
      if (!sameList(component.services, g.services)) return undefined;
      if (component.segments[0] !== old.entryGroups[i]!.fragments) return undefined;
    }
    parses.push([old, now]);
  }
  // Apply: parse results, EndpointSlices, what each dialect parsed, then the checks.
  const parsed = state.parsed;
  const dirty = new Set<string>();
  for (const [i, [before, after]] of served.entries()) {
    const [old, now] = parses[i]!;
    if (now.diagnostics.length > 0) parsed.parseDiagnostics.set(now.key, now.diagnostics);
    else parsed.parseDiagnostics.delete(now.key);
    if (now.sliceOf !== undefined) {
      const list = parsed.slices.get(now.sliceOf) ?? [];
      parsed.slices.set(now.sliceOf, replaced(list, before, after));
      for (const key of state.byService.get(now.sliceOf) ?? []) dirty.add(key);
    }
    old.checked.forEach((p, j) => {
      const list = parsed.byDialect.get(p.dialect) ?? [];
      parsed.byDialect.set(p.dialect, replaced(list, p, now.checked[j]!));
    });
    for (const g of now.entryGroups) {
      parsed.components.set(g.key, { segments: [g.fragments], services: g.services });
      dirty.add(g.key);
    }
  }
  parsed.crossChecked = crossCheck(parsed.byDialect, cache);
  parsed.diagnostics = [];
  for (const list of parsed.parseDiagnostics.values())
    for (const d of list) parsed.diagnostics.push(d);
  for (const d of parsed.crossChecked) parsed.diagnostics.push(d);
  const blamed = blamedObjects(parsed.diagnostics);
  for (const key of blamed) if (!state.blamed.has(key)) dirty.add(key);
  for (const key of state.blamed) if (!blamed.has(key)) dirty.add(key);
  // Every dirty entry object again; its routes must stay where they were.
  const components = state.components;
  const layout = state.layout;
  const patches: { at: RouteAt; set: BackendSet }[] = [];
  const updated = new Map<string, { before: ComponentResult; after: ComponentResult }>();
  let layoutKept = true;
  for (const key of dirty) {
    const component = parsed.components.get(key);
    const before = components.get(key);
    if (!component || !before) continue;
    const now = reconcileComponent(key, component, parsed, blamed, previous, cache);
    components.set(key, now);
    updated.set(key, { before, after: now });
    const old = before.placement.candidates;
    const fresh = now.placement.candidates;
    if (old.length !== fresh.length) layoutKept = false;
    fresh.forEach((c, i) => {
      const was = old[i];
      if (
        !was ||
        was.id !== c.id ||
        was.created !== c.created ||
        c.canary ||
        !sameList(
          was.places.map((p) => p.routeKey),
          c.places.map((p) => p.routeKey),
        )
      ) {
        layoutKept = false;
        return;
      }
      for (const place of c.places) {
        const at = layout.routes.get(place.routeKey);
        if (at?.holder === c.id) patches.push({ at, set: c.set });
      }
    });
  }
  state.raw = raw;
  state.blamed = blamed;
  if (!layoutKept) {
    // The routes moved: place them all again (the parse work above is kept in the cache).
    retained.delete(cache);
    return undefined;
  }
  const table = patchTable(previous.table, snapshot.generation, patches);
  const result = reassemble(previous, table, parsed.diagnostics, updated, layout, state.assembled);
  if (!result) {
    retained.delete(cache);
    return undefined;
  }
  state.result = result;
  cache.patched++;
  return result;
}
