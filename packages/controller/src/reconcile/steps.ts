/**
 * The steps of a reconcile, shared by the full one (reconcile.ts) and the one that updates
 * the previous result in place (in-place.ts): parsing the snapshot, resolving and
 * placing each entry object's entry points, and what is kept from one reconcile to the next.
 */
import {
  crossCheck as crossCheckAll,
  parseContext,
  type KubeObject,
  type ParsedObject,
} from '@tether/dialects';
import {
  Diagnostic,
  Fragment,
  ResolvedEntry,
  backendKey,
  entryKey,
  refusedEntry,
  resolve,
  warning,
  type BackendFragment,
  type BackendRef,
  type ResolveResult,
} from '@tether/model';
import type { BackendSet, Endpoint, RouteTable, WeightedBackend } from '@tether/dataplane';
import { EndpointIndex } from './endpoints';
import { NONE, pathKey } from './kept';
import { placesOf, type Candidate, type TableLayout } from './route-layout';
import { ParseCache } from './parse-cache';
import { ownsServiceListeners, type ServingOptions } from '../serving';
import { serviceKeyOf } from '../snapshot';

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

export const SERVED_KINDS = new Set([
  'Ingress',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'Route',
  'Service',
]);

/** The fragments of one entry object, as segments that keep their identity across reconciles. */
export interface Component {
  segments: (readonly Fragment[])[];
  services: readonly string[];
}

interface ParsedSnapshot {
  findService: (namespace: string, name: string) => KubeObject | undefined;
  /** The Services by `namespace/name`, behind findService (updated when one changes). */
  services: Map<string, KubeObject>;
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
  /** Which objects are ours (a change of them rebuilds everything). */
  serving: ServingOptions;
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

export function parseAll(
  objects: readonly KubeObject[],
  cache: ParseCache,
  serving: ServingOptions,
): ParsedSnapshot {
  const services = new Map<string, KubeObject>();
  for (const o of objects) if (o.kind === 'Service') services.set(serviceKeyOf(o), o);
  // The same context the CLI's analysis builds; `services` is kept up to date in place.
  const context = parseContext(objects, services);
  const out: ParsedSnapshot = {
    findService: context.findService,
    services,
    diagnostics: [],
    components: new Map(),
    backendWide: new Map(),
    weights: new Map(),
    slices: new Map(),
    served: [],
    parseDiagnostics: new Map(),
    byDialect: new Map(),
    crossChecked: [],
    serving,
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

/** The dialects' cross-object checks (the pipeline's own step), memoised on what each read. */
export function crossCheck(
  byDialect: ReadonlyMap<string, ParsedObject[]>,
  cache: ParseCache,
): Diagnostic[] {
  return crossCheckAll(byDialect, (dialect, check, input) =>
    cache.memo('crossCheck', dialect.id, [input], () => check(input)),
  );
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

export interface Placement {
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
    // A backend the entry point may not use (Gateway API RefNotPermitted) keeps its share of
    // the split with no endpoint: requests sent its way are refused.
    const refused = good.route.backendRefused !== undefined;
    const backend: WeightedBackend = { ref: e.backend, endpoints: refused ? [] : (eps ?? []) };
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
      places: placesOf(e.entry, good.route.pathRegex === true, good.route.serverAlias),
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
  return cache.memo('refused', key, [resolution], () => resolution.entries.map(refusedEntry));
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

const dedupeKeys = new WeakMap<Diagnostic, string>();

/** dedupeDiagnostics, remembering each diagnostic's key (most are the same objects every time). */
export function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
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
export interface ComponentResult {
  component: Component;
  /** Diagnostics of its resolution. */
  diagnostics: readonly Diagnostic[];
  entries: readonly ResolvedEntry[];
  placement: Placement;
}

export function reconcileComponent(
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
  const object = cache.objectOf(key);
  const created = object?.metadata.creationTimestamp ?? '';
  // A LoadBalancer Service's own listeners are served only when they are ours.
  const served = object?.kind !== 'Service' || ownsServiceListeners(object, parsed.serving);
  // Endpoints change only with their Services and EndpointSlices: their epochs stand for them.
  const epochs = component.services.map((service) => cache.epoch(service));
  const placement = cache.memo(
    'place',
    key,
    [mine, inForce, weights, created, epochs, served],
    () =>
      placeComponent(
        mine,
        ids,
        served ? inForce : mine.map(() => undefined),
        mine.map((e) => endpointsOf(e.backend, parsed, cache)),
        weights,
        created,
      ),
  );
  return { component, diagnostics: resolution.diagnostics, entries: mine, placement };
}

/** Everything a reconcile keeps for the next one to update instead of rebuilding. */
export interface Retained {
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
  /** Diagnostics of the table's certificates (see tls-certificates.ts). */
  tlsDiagnostics: readonly Diagnostic[];
  assembled: Assembled;
  result: ReconcileResult;
}

export const CLASS_KINDS = new Set(['IngressClass', 'GatewayClass', 'Gateway']);

export function servingKey(options: ServingOptions): string {
  return JSON.stringify([
    options.ingressClass,
    options.controllerName,
    options.serveAll,
    options.serviceLoadBalancers ?? 'class',
  ]);
}

/** Where each entry object's results went in a result, so a later one can be patched. */
export interface Assembled {
  /** Index of each entry object's first entry point in `entries`. */
  offsets: Map<string, number>;
  /** Resolution diagnostics of entry objects that have some. */
  resolved: Map<string, readonly Diagnostic[]>;
  /** BackendNotFound warnings of entry objects that have some. */
  warnings: Map<string, readonly Diagnostic[]>;
}

/**
 * Appends every list of `lists` to `out`. (Without iterators: this runs over thousands of
 * lists on every change, in code that runs too rarely to be optimised, where each step of a
 * for-of loop allocates.)
 */
export function appendLists<T>(out: T[], lists: ReadonlyMap<string, readonly T[]>): void {
  lists.forEach((list) => {
    for (let i = 0; i < list.length; i++) out.push(list[i]!);
  });
}
