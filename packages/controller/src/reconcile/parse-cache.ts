import {
  DIALECTS,
  entriesOf,
  parseObject,
  type KubeObject,
  type ParseContext,
  type ParsedObject,
} from '@tether/dialects';
import {
  entryKey,
  type BackendFragment,
  type Diagnostic,
  type DialectId,
  type EntryFragment,
} from '@tether/model';
import { NONE, kept, pathKey } from './kept';
import { SERVICE_NAME_LABEL, objectKey, objectVersion, serviceKeyOf } from '../snapshot';

/** The dialects with a cross-object check. */
const CROSS_CHECKED: ReadonlySet<DialectId> = new Set(
  DIALECTS.filter((d) => d.crossCheck !== undefined).map((d) => d.id),
);

/** The entry fragments one object gives an entry object, and the Services they route to. */
export interface EntryGroup {
  /** `Kind/namespace/name` of the object that defines the entry points. */
  key: string;
  fragments: readonly EntryFragment[];
  /** `namespace/name` of every Service the fragments route to. */
  services: readonly string[];
}

export interface BackendGroup {
  /** `namespace/name` of the target Service. */
  service: string;
  fragments: readonly BackendFragment[];
}

export interface CachedParse {
  /** `Kind/namespace/name`. */
  key: string;
  diagnostics: readonly Diagnostic[];
  /**
   * What the dialects that check across objects parsed (the input of those checks). The
   * others' results are not kept: their fragments are in the groups below.
   */
  checked: readonly ParsedObject[];
  entryGroups: readonly EntryGroup[];
  backendGroups: readonly BackendGroup[];
  /** Weights of the backends of split entry points, by `entryKey→service`. */
  weights: readonly (readonly [string, number])[];
  /** For an EndpointSlice: `namespace/name` of its Service. */
  sliceOf: string | undefined;
  /** Nothing to merge: no diagnostics, fragments, weights or checked parses (most EndpointSlices, Secrets). */
  empty: boolean;
}

/** What a parse read besides the object: compared on the next reconcile. */
interface Dependency {
  key: string;
  object: KubeObject | undefined;
  version: string;
}

interface Entry {
  key: string;
  result: CachedParse;
  /** For a Service or an EndpointSlice: `namespace/name` of the Service whose endpoints it shapes. */
  serviceKey: string | undefined;
  object: KubeObject;
  version: string;
  /** The Services its entry points route to (a parser may read them, such as an ELB class). */
  services: readonly (readonly [namespace: string, name: string])[];
  serviceDeps: readonly Dependency[];
  /** The dialects that parsed it: only they can have read other objects. */
  dialects: readonly DialectId[];
  /** Objects those dialects declared as read (`Dialect.dependencies`). */
  dialectDeps: readonly Dependency[];
  seen: number;
}

interface Memo {
  inputs: readonly unknown[];
  value: unknown;
  seen: number;
}

function group<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/** Same inputs: each the same value, or two arrays of the same values. */
function sameInputs(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!Array.isArray(x) || !Array.isArray(y) || x.length !== y.length) return false;
    for (let j = 0; j < x.length; j++) if (x[j] !== y[j]) return false;
  }
  return true;
}

/** An unchanged dependency: the same object, or one with the same version (after a relist). */
function unchanged(dep: Dependency, now: KubeObject | undefined): boolean {
  if (now === dep.object) return true;
  if (now === undefined || dep.object === undefined) return false;
  if (objectVersion(now) !== dep.version) return false;
  dep.object = now;
  return true;
}

function dependency(key: string, object: KubeObject | undefined): Dependency {
  return { key, object, version: object ? objectVersion(object) : '-' };
}

/**
 * Memoised work of reconcile, so that changing one object does not cost a full rebuild: parse
 * results per object, reused while the object and everything its parse read are unchanged (by
 * identity, else by resourceVersion or content hash); and the later steps (resolution per entry
 * object, endpoints per backend, cross-object checks, backend sets) through `memo`, keyed by
 * the identity of their inputs. Every memoised function is pure, so reconcile gives the same
 * result with or without a cache.
 */
export class ParseCache {
  private entries = new Map<string, Entry>();
  /** The same entries by object identity: an unchanged object needs no key to be found. */
  private byObject = new WeakMap<KubeObject, Entry>();
  private memos = new Map<string, Map<string, Memo>>();
  private orders = new Map<string, readonly object[]>();
  private services = new Set<KubeObject>();
  private servicesChanged = true;
  /** Bumped whenever a Service or one of its EndpointSlices is added, changed or removed. */
  private epochs = new Map<string, number>();
  private pass = 0;
  hits = 0;
  misses = 0;
  /** Memoised steps computed again because an input changed. */
  recomputed = 0;
  /** Reconciles that updated the previous result in place of rebuilding it. */
  patched = 0;

  /**
   * Starts a reconcile of `objects`: what it does not use is forgotten by the sweeps. Notes
   * whether any Service changed, since only then can a parse that read one be out of date.
   */
  beginPass(objects: readonly KubeObject[]): void {
    this.pass++;
    const services = new Set<KubeObject>();
    let changed = false;
    for (const o of objects) {
      if (o.kind !== 'Service') continue;
      services.add(o);
      if (!this.services.has(o)) changed = true;
    }
    this.servicesChanged = changed || services.size !== this.services.size;
    this.services = services;
  }

  /** Forgets the objects the current pass did not parse (call once every object is parsed). */
  sweepObjects(): void {
    for (const [key, entry] of this.entries) {
      if (entry.seen === this.pass) continue;
      this.entries.delete(key);
      this.bump(entry.serviceKey);
    }
  }

  /** Forgets the memoised steps the current pass did not use. */
  sweepMemos(): void {
    for (const space of this.memos.values())
      for (const [key, memo] of space) if (memo.seen !== this.pass) space.delete(key);
  }

  /** Changes whenever the Service `namespace/name` or its EndpointSlices change. */
  epoch(service: string): number {
    return this.epochs.get(service) ?? 0;
  }

  private bump(service: string | undefined): void {
    if (service !== undefined) this.epochs.set(service, this.epoch(service) + 1);
  }

  /**
   * A Service changed without a full pass: until the next one, a parse that read a Service is
   * checked against the one in force. (The next pass sees the change itself, since the
   * Services it compares with are those of the last full pass.)
   */
  serviceChanged(): void {
    this.servicesChanged = true;
  }

  /**
   * Forgets an object removed without a full pass (which would sweep it), with the steps
   * memoised under its key.
   */
  forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bump(entry.serviceKey);
    for (const space of this.memos.values()) space.delete(key);
  }

  /** An object parsed in the current pass, by `Kind/namespace/name`. */
  objectOf(key: string): KubeObject | undefined {
    const entry = this.entries.get(key);
    return entry?.seen === this.pass ? entry.object : undefined;
  }

  /** The parse result held for `Kind/namespace/name`, without checking that it is current. */
  peek(key: string): CachedParse | undefined {
    return this.entries.get(key)?.result;
  }

  parse(object: KubeObject, context: ParseContext): CachedParse {
    const known = this.byObject.get(object);
    const cached = known?.seen === this.pass - 1 ? known : this.entries.get(objectKey(object));
    if (cached && this.stillValid(cached, object, context)) {
      cached.seen = this.pass;
      this.hits++;
      return cached.result;
    }
    this.misses++;
    const key = cached?.key ?? objectKey(object);
    const entry = this.build(key, object, context);
    this.entries.set(key, entry);
    this.byObject.set(object, entry);
    this.bump(cached?.serviceKey);
    this.bump(entry.serviceKey);
    return entry.result;
  }

  /**
   * The value `make` computed for the same inputs the last time this key was asked for (in
   * this space), else a new one. `make` must be a pure function of `inputs`.
   */
  memo<T>(space: string, key: string, inputs: readonly unknown[], make: () => T): T {
    let memos = this.memos.get(space);
    if (!memos) {
      memos = new Map();
      this.memos.set(space, memos);
    }
    const cached = memos.get(key);
    if (cached && sameInputs(cached.inputs, inputs)) {
      cached.seen = this.pass;
      return cached.value as T;
    }
    this.recomputed++;
    const value = make();
    memos.set(key, { inputs, value, seen: this.pass });
    return value;
  }

  /**
   * `items` in `compare` order, reusing the previous order of this space: items that left are
   * dropped and new ones inserted by binary search, so a few changes cost no full sort. The
   * result equals a full sort when `compare` is a total order.
   */
  sorted<T extends object>(
    space: string,
    items: readonly T[],
    compare: (a: T, b: T) => number,
  ): T[] {
    const previous = (this.orders.get(space) ?? []) as T[];
    const now = new Set(items);
    const kept = previous.filter((item) => now.has(item));
    const before = new Set(kept);
    const added = items.filter((item) => !before.has(item));
    let result: T[];
    if (added.length > Math.max(64, items.length / 8)) result = [...items].sort(compare);
    else {
      result = kept;
      for (const item of added) {
        let low = 0;
        let high = result.length;
        while (low < high) {
          const mid = (low + high) >>> 1;
          if (compare(result[mid]!, item) <= 0) low = mid + 1;
          else high = mid;
        }
        result.splice(low, 0, item);
      }
    }
    this.orders.set(space, result);
    return [...result];
  }

  private stillValid(entry: Entry, object: KubeObject, context: ParseContext): boolean {
    if (entry.object !== object) {
      if (objectVersion(object) !== entry.version) return false;
      entry.object = object;
      this.byObject.set(object, entry);
    }
    if (object.kind === 'Service') return true;
    for (let i = 0; this.servicesChanged && i < entry.services.length; i++) {
      const [namespace, name] = entry.services[i]!;
      if (!unchanged(entry.serviceDeps[i]!, context.findService(namespace, name))) return false;
    }
    if (entry.dialects.length === 0) return true;
    const deps = this.dialectDependencies(entry.dialects, object, context);
    if (deps.length !== entry.dialectDeps.length) return false;
    for (let i = 0; i < deps.length; i++) {
      const dep = entry.dialectDeps[i]!;
      if (dep.key !== objectKey(deps[i]!) || !unchanged(dep, deps[i])) return false;
    }
    return true;
  }

  private dialectDependencies(
    dialects: readonly DialectId[],
    object: KubeObject,
    context: ParseContext,
  ): KubeObject[] {
    const out: KubeObject[] = [];
    for (const dialect of DIALECTS) {
      if (!dialect.dependencies || !dialects.includes(dialect.id)) continue;
      for (const d of dialect.dependencies(object, context)) out.push(d);
    }
    return out;
  }

  private build(key: string, object: KubeObject, context: ParseContext): Entry {
    const { fragments, diagnostics, parsed } = parseObject(object, context);
    const entryFragments = new Map<string, EntryFragment[]>();
    const entryServices = new Map<string, Set<string>>();
    const backendFragments = new Map<string, BackendFragment[]>();
    for (const f of fragments) {
      if (f.type === 'entry') {
        const owner = pathKey(f.entry.kind, f.entry.namespace, f.entry.name);
        group(entryFragments, owner, f);
        const services = entryServices.get(owner) ?? new Set<string>();
        services.add(pathKey(f.backend.namespace, f.backend.service));
        entryServices.set(owner, services);
      } else group(backendFragments, pathKey(f.target.namespace, f.target.service), f);
    }
    const weights: [string, number][] = [];
    const services = new Map<string, readonly [string, string]>();
    for (const item of entriesOf(object).spec ?? []) {
      if (item.weight !== undefined)
        weights.push([`${entryKey(item.entry)}→${item.backend.service}`, item.weight]);
      const { namespace, service } = item.backend;
      services.set(pathKey(namespace, service), [namespace, service]);
    }
    const namespace = object.metadata.namespace ?? 'default';
    const label = object.metadata.labels?.[SERVICE_NAME_LABEL];
    const sliceOf =
      object.kind === 'EndpointSlice' && label ? pathKey(namespace, label) : undefined;
    const entryGroups = kept(
      [...entryFragments].map(([owner, list]) => ({
        key: owner,
        fragments: kept(list),
        services: [...(entryServices.get(owner) ?? [])],
      })),
    );
    const backendGroups = kept(
      [...backendFragments].map(([service, list]) => ({ service, fragments: kept(list) })),
    );
    const checked = kept(parsed.filter((p) => CROSS_CHECKED.has(p.dialect)));
    const isService = object.kind === 'Service';
    const serviceList = isService ? NONE : kept([...services.values()]);
    const dialects = isService ? NONE : kept([...new Set(parsed.map((p) => p.dialect))]);
    return {
      key,
      serviceKey: isService ? serviceKeyOf(object) : sliceOf,
      result: {
        key,
        diagnostics: kept(diagnostics),
        checked,
        entryGroups,
        backendGroups,
        weights: kept(weights),
        sliceOf,
        empty:
          diagnostics.length === 0 &&
          checked.length === 0 &&
          fragments.length === 0 &&
          weights.length === 0,
      },
      object,
      version: objectVersion(object),
      services: serviceList,
      serviceDeps: kept(
        serviceList.map(([namespace, name]) =>
          dependency(`Service/${namespace}/${name}`, context.findService(namespace, name)),
        ),
      ),
      dialects,
      dialectDeps: kept(
        this.dialectDependencies(dialects, object, context).map((d) => dependency(objectKey(d), d)),
      ),
      seen: this.pass,
    };
  }
}
