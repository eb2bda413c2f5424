/**
 * Updating the previous reconcile's result in place for a few changed, added or removed
 * objects, with the same result as a full reconcile (see parse-cache.test.ts).
 */
import { parseContext, type KubeObject } from '@tether/dialects';
import { Diagnostic, blamedObjects } from '@tether/model';
import type { RouteTable } from '@tether/dataplane';
import { overridden } from './overlay-map';
import { collides, forgetShared, recordShared } from './shadowed-routes';
import {
  TableEditor,
  tableOrder,
  type Candidate,
  type RouteAt,
  type TableLayout,
} from './route-layout';
import { ParseCache, type CachedParse } from './parse-cache';
import { servedObjects } from '../serving';
import { SERVICE_NAME_LABEL, objectKey, serviceKeyOf, type Snapshot } from '../snapshot';
import { diffSnapshots, type ObjectChange } from './snapshot-diff';
import {
  type GoodPolicy,
  type ReconcileResult,
  SERVED_KINDS,
  type Component,
  crossCheck,
  type Placement,
  dedupe,
  type ComponentResult,
  reconcileComponent,
  type Retained,
  servingKey,
  appendLists,
} from './steps';
import type { ReconcileOptions } from './state';
import { hasServiceTls } from './service-certificates';
import { passthroughOf, streamsOf } from './streams';

function sameIds(a: Placement, b: Placement): boolean {
  return (
    a.lastGood.length === b.lastGood.length &&
    a.lastGood.every(([id], i) => id === b.lastGood[i]![0])
  );
}

/** What an in-place reconcile changed, by entry object. */
interface ComponentChanges {
  updated: ReadonlyMap<string, { before: ComponentResult; after: ComponentResult }>;
  /** Entry objects removed, with what they had contributed. */
  gone: ReadonlyMap<string, ComponentResult>;
  /** Entry objects added, with the place of their object in the new snapshot. */
  added: readonly { key: string; at: number }[];
}

/**
 * `previous` with the parts of changed entry objects replaced, those of removed ones taken
 * out and those of added ones put where a full assembly would put them; undefined when a
 * changed one has another number of entry points or other set ids (then it is assembled in
 * full). Diagnostics come in another order than a full assembly, but they are the same ones.
 */
function reassemble(
  previous: ReconcileResult,
  table: RouteTable,
  parseDiagnostics: readonly Diagnostic[],
  layout: TableLayout,
  state: Retained,
  { updated, gone, added }: ComponentChanges,
): ReconcileResult | undefined {
  for (const { before, after } of updated.values())
    if (
      before.entries.length !== after.entries.length ||
      !sameIds(before.placement, after.placement)
    )
      return undefined;
  const assembled = state.assembled;
  const offsets = assembled.offsets;
  const entries = previous.entries.slice();
  // In snapshot order: each goes after what comes before it there.
  const arrivals = [...added].sort((a, b) => a.at - b.at);
  const goods = new Map<string, GoodPolicy>();
  const keep = (key: string, after: ComponentResult) => {
    if (after.diagnostics.length > 0) assembled.resolved.set(key, after.diagnostics);
    else assembled.resolved.delete(key);
    if (after.placement.warnings.length > 0) assembled.warnings.set(key, after.placement.warnings);
    else assembled.warnings.delete(key);
  };
  const shift = (from: number, by: number) => {
    if (by !== 0) offsets.forEach((o, k) => o >= from && offsets.set(k, o + by));
  };
  for (const [key, before] of gone) {
    const offset = offsets.get(key);
    if (offset === undefined) return undefined;
    entries.splice(offset, before.entries.length);
    offsets.delete(key);
    shift(offset + 1, -before.entries.length);
    assembled.resolved.delete(key);
    assembled.warnings.delete(key);
  }
  for (const [key, { after }] of updated) {
    const offset = offsets.get(key);
    if (offset === undefined) return undefined;
    after.entries.forEach((e, i) => (entries[offset + i] = e));
    for (const [id, good] of after.placement.lastGood) goods.set(id, good);
    keep(key, after);
  }
  // After the entry object before them in the snapshot (a full assembly goes that way).
  const results = state.components;
  for (const { key, at } of arrivals) {
    const after = results.get(key);
    if (!after) return undefined;
    const before = insertAfterPreceding(state.raw, at, (k) => k !== key && offsets.has(k));
    const offset =
      before === undefined ? 0 : offsets.get(before)! + (results.get(before)?.entries.length ?? 0);
    entries.splice(offset, 0, ...after.entries);
    shift(offset, after.entries.length);
    offsets.set(key, offset);
    keep(key, after);
  }
  const diagnostics = parseDiagnostics.slice();
  appendLists(diagnostics, assembled.resolved);
  appendLists(diagnostics, assembled.warnings);
  for (const d of layout.diagnostics) diagnostics.push(d);
  for (const d of state.tlsDiagnostics) diagnostics.push(d);
  // Entry points that come and go change the last good policies (a lookup by set id: the
  // order of its entries means nothing) and the served keys.
  for (const { key } of added)
    for (const [id, good] of results.get(key)?.placement.lastGood ?? []) goods.set(id, good);
  const lost = [...gone.values()].flatMap((before) => before.placement.lastGood.map(([id]) => id));
  const lastGood = overridden(previous.lastGood, goods, lost);
  let servedKeys = previous.served;
  if (gone.size > 0 || added.length > 0) {
    servedKeys = previous.served.slice();
    for (const key of gone.keys()) {
      const at = servedKeys.indexOf(key);
      if (at >= 0) servedKeys.splice(at, 1);
    }
    for (const { key, at } of arrivals) {
      const before = insertAfterPreceding(
        state.raw,
        at,
        (k) => k !== key && servedKeys.includes(k),
      );
      servedKeys.splice(before === undefined ? 0 : servedKeys.indexOf(before) + 1, 0, key);
    }
  }
  return {
    table,
    entries,
    diagnostics: dedupe(diagnostics),
    served: servedKeys,
    lastGood,
  };
}

/** The `spec.tls` of an Ingress, as JSON; '' for any other object and for none. */
const PROXY_SSL_SECRET = 'nginx.ingress.kubernetes.io/proxy-ssl-secret';

function caSecretOf(o: KubeObject | undefined): string | undefined {
  return o?.kind === 'Ingress' ? o.metadata.annotations?.[PROXY_SSL_SECRET] : undefined;
}

function tlsOf(o: KubeObject | undefined): string {
  if (o?.kind !== 'Ingress') return '';
  const tls = (o.spec as { tls?: unknown } | undefined)?.tls;
  return Array.isArray(tls) && tls.length > 0 ? JSON.stringify(tls) : '';
}

/**
 * Whether a change of a served object could change the table's certificates: an Ingress
 * with `spec.tls` added or removed, or whose `spec.tls` or age (which decides contested
 * hosts) changed.
 */
function changesCertificates({ before, after }: ObjectChange): boolean {
  // The CA Secret an Ingress verifies its endpoints against is loaded with the certificates.
  if (caSecretOf(before) !== caSecretOf(after)) return true;
  const was = tlsOf(before);
  const now = tlsOf(after);
  if (was !== now) return true;
  if (was === '' || !before || !after) return was !== '';
  return before.metadata.creationTimestamp !== after.metadata.creationTimestamp;
}

/** Changes beyond this many objects are rebuilt in full. */
const MAX_CHANGES = 64;
const PATCHABLE_KINDS = new Set(['Ingress', 'EndpointSlice', 'Service']);

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** `list` with `from` replaced by `to` (a copy: memoised steps compare lists by identity). */
function replaced<T>(list: readonly T[], from: T, to: T): T[] {
  return list.map((x) => (x === from ? to : x));
}

/** Removes the route at `at` from the table and the layout, moving the routes after it up. */
function removeRoute(layout: TableLayout, editor: TableEditor, key: string, at: RouteAt): boolean {
  // A host goes where its first route is placed: without that route it could move.
  const rest = editor.pathCount(at.listener, at.host) - 1;
  if (at.path === 0 && rest > 0) return false;
  if (rest === 0 && editor.hostCount(at.listener) === 1) return false;
  layout.routes.delete(key);
  if (rest > 0) {
    editor.removePath(at.listener, at.host, at.path);
    layout.routes.forEach((r) => {
      if (r.listener === at.listener && r.host === at.host && r.path > at.path) r.path--;
    });
  } else {
    editor.removeHost(at.listener, at.host);
    layout.routes.forEach((r) => {
      if (r.listener === at.listener && r.host > at.host) r.host--;
    });
  }
  return true;
}

/** Places a new candidate at the end of its hosts (or of its listeners, for new hosts). */
function appendRoutes(layout: TableLayout, editor: TableEditor, c: Candidate): boolean {
  if (c.canary || !layout.newest || tableOrder(c, layout.newest) <= 0) return false;
  for (const place of c.places) {
    const listener = editor.listenerIndex(place.listenerKey);
    if (listener < 0 || layout.routes.has(place.routeKey)) return false;
    // A Gateway route over an Ingress's or a Route's path, or under it: the full reconcile
    // works out which, if any, no request reaches, and warns.
    if (collides(layout.shared, place)) return false;
    recordShared(layout.shared, c, place);
    const route = { path: place.path, pathType: place.kind, backendSet: c.set };
    const host = editor.hostIndex(listener, place.host);
    if (host >= 0) {
      const path = editor.pathCount(listener, host);
      editor.appendPath(listener, host, route);
      layout.routes.set(place.routeKey, { listener, host, path, holder: c.id });
    } else {
      const index = editor.hostCount(listener);
      editor.appendHost(listener, {
        host: place.host,
        wildcardLabels:
          c.entry.kind === 'HTTPRoute' || c.entry.kind === 'GRPCRoute' ? 'many' : 'one',
        paths: [route],
      });
      layout.routes.set(place.routeKey, { listener, host: index, path: 0, holder: c.id });
    }
  }
  layout.newest = { created: c.created, id: c.id };
  return true;
}

/** The objects of an EndpointSlice's Service (`namespace/name`), in snapshot order. */
function slicesOf(objects: readonly KubeObject[], service: string): KubeObject[] {
  const [namespace, name] = service.split('/');
  return objects.filter(
    (o) =>
      o.kind === 'EndpointSlice' &&
      (o.metadata.namespace ?? 'default') === namespace &&
      o.metadata.labels?.[SERVICE_NAME_LABEL] === name,
  );
}

/** A served object added at `at` of the new snapshot: where it goes among `list`'s keys. */
function insertAfterPreceding(
  raw: readonly KubeObject[],
  at: number,
  has: (key: string) => boolean,
): string | undefined {
  for (let k = at - 1; k >= 0; k--) {
    const o = raw[k]!;
    if (!SERVED_KINDS.has(o.kind)) continue;
    const key = objectKey(o);
    if (has(key)) return key;
  }
  return undefined;
}

/**
 * Whether a changed object's new parse (`now`; undefined when it was removed) can replace
 * its old one (`old`; undefined when it was added) in place: its fragments stay its own (a
 * Service's backend-wide ones go to the same Services), and it defines no entry points of
 * another object.
 */
function fits(
  key: string,
  old: CachedParse | undefined,
  now: CachedParse | undefined,
  components: ReadonlyMap<string, Component>,
): boolean {
  const isService = key.startsWith('Service/');
  for (const r of [old, now])
    if (r && (r.weights.length > 0 || (!isService && r.backendGroups.length > 0))) return false;
  if (isService) {
    if (!old || !now || old.entryGroups.length > 0 || now.entryGroups.length > 0) return false;
    const targets = (r: CachedParse) => r.backendGroups.map((g) => g.service);
    if (!sameList(targets(old), targets(now))) return false;
  }
  if (old && now) {
    if (old.sliceOf !== now.sliceOf || old.checked.length !== now.checked.length) return false;
    if (old.checked.some((p, i) => p.dialect !== now.checked[i]!.dialect)) return false;
    const groups = (r: CachedParse) => r.entryGroups.map((g) => g.key);
    if (!sameList(groups(old), groups(now))) return false;
  }
  for (const [i, g] of (now ?? old)!.entryGroups.entries()) {
    const component = components.get(g.key);
    if (g.key !== key) return false;
    if (!old) {
      if (component) return false;
      continue;
    }
    if (!component || component.segments.length !== 1) return false;
    if (!sameList(component.services, g.services)) return false;
    if (component.segments[0] !== old.entryGroups[i]!.fragments) return false;
  }
  return true;
}

/** A changed, added or removed object among the served ones, with its parse results. */
interface ServedChange {
  key: string;
  change: ObjectChange;
  old: CachedParse | undefined;
  now: CachedParse | undefined;
}

/**
 * Reconciles a snapshot that differs from the retained one in a few Ingresses and
 * EndpointSlices — changed, added or removed — updating only what they touch; undefined when
 * a change reaches beyond its own entry object (another object's fragments, weights,
 * canaries, a route that moves or is contested) — then the caller rebuilds in full, which
 * also replaces everything retained that this function changed on the way.
 */
export function reconcileChanges(
  snapshot: Snapshot,
  previous: ReconcileResult,
  options: ReconcileOptions,
  cache: ParseCache,
  state: Retained,
): ReconcileResult | undefined {
  const raw = snapshot.objects;
  if (servingKey(options) !== state.serving) return undefined;
  if (state.layout.canaries > 0 || state.parsed.weights.size > 0) return undefined;
  const changes = diffSnapshots(state.raw, raw, MAX_CHANGES);
  if (!changes) return undefined;
  for (const { before, after } of changes) {
    const kind = (after ?? before)?.kind ?? '';
    if (!PATCHABLE_KINDS.has(kind) || (before && after && before.kind !== after.kind))
      return undefined;
    // A Service that comes or goes changes which routes have backends: rebuilt in full.
    if (kind === 'Service' && !(before && after)) return undefined;
  }
  // Which objects are served depends on the classes only, and they did not change. The
  // served objects are updated in place, not copied (tens of thousands on every change).
  const objects = state.objects;
  const served: ObjectChange[] = [];
  for (const change of changes) {
    const at = change.before ? objects.indexOf(change.before) : -1;
    const after =
      change.after &&
      servedObjects([...state.classes, change.after], options).includes(change.after)
        ? change.after
        : undefined;
    if (change.before && change.after && at >= 0 !== (after !== undefined)) return undefined;
    if (at >= 0) {
      if (after) objects[at] = after;
      else objects.splice(at, 1);
    } else if (after) {
      // After the nearest object before it that is served (most are).
      let before = -1;
      for (let k = change.at - 1; k >= 0 && before < 0; k--) {
        if (change.at - k > 64) return undefined;
        before = objects.indexOf(raw[k]!);
      }
      objects.splice(before + 1, 0, after);
    } else continue;
    served.push({
      at: change.at,
      ...(at >= 0 ? { before: change.before } : {}),
      ...(after ? { after } : {}),
    });
  }
  // The table keeps its certificates (see TableEditor.done) and their diagnostics: a change
  // that could change them is rebuilt in full. (Secrets are not patched in place at all.)
  if (served.some(changesCertificates)) return undefined;
  // A changed Service is the one parses and endpoints find from now on.
  const services = served.filter((c) => c.after?.kind === 'Service');
  if (services.length > 0) {
    for (const { after } of services) state.parsed.services.set(serviceKeyOf(after!), after!);
    cache.serviceChanged();
  }
  // Check every change before updating what the parse results feed.
  const parses: ServedChange[] = [];
  const context = parseContext(objects, state.parsed.services);
  const components = state.parsed.components;
  for (const change of served) {
    const key = objectKey((change.after ?? change.before)!);
    const old = change.before ? cache.peek(key) : undefined;
    if (change.before && !old) return undefined;
    const now = change.after ? cache.parse(change.after, context) : undefined;
    if (!fits(key, old, now, components)) return undefined;
    parses.push({ key, change, old, now });
  }
  // The Ingresses in front of a changed Service are parsed again (a dialect may read it).
  for (const { after } of services) {
    for (const key of state.byService.get(serviceKeyOf(after!)) ?? []) {
      if (parses.some((p) => p.key === key)) continue;
      const object = cache.objectOf(key);
      if (object?.kind !== 'Ingress') return undefined;
      const old = cache.peek(key);
      const now = cache.parse(object, context);
      if (now === old) continue;
      if (!fits(key, old, now, components)) return undefined;
      parses.push({ key, change: { before: object, after: object, at: -1 }, old, now });
    }
  }
  // Apply: parse results, EndpointSlices, what each dialect parsed, then the checks.
  const parsed = state.parsed;
  const dirty = new Set<string>();
  const added: { key: string; at: number }[] = [];
  const removed: string[] = [];
  const sliceLists = new Set<string>();
  for (const { key, change, old, now } of parses) {
    if (now && now.diagnostics.length > 0) parsed.parseDiagnostics.set(key, now.diagnostics);
    else parsed.parseDiagnostics.delete(key);
    const sliceOf = now?.sliceOf ?? old?.sliceOf;
    if (sliceOf !== undefined) {
      const { before, after } = change;
      const list = parsed.slices.get(sliceOf) ?? [];
      if (before && after) parsed.slices.set(sliceOf, replaced(list, before, after));
      else sliceLists.add(sliceOf);
      for (const k of state.byService.get(sliceOf) ?? []) dirty.add(k);
    }
    if (old && now && change.after?.kind === 'Service') {
      // Its settings for the routes in front (backend-wide fragments), and its endpoints.
      old.backendGroups.forEach((g, i) => {
        const list = parsed.backendWide.get(g.service) ?? [];
        parsed.backendWide.set(
          g.service,
          replaced(list, g.fragments, now.backendGroups[i]!.fragments),
        );
        for (const k of state.byService.get(g.service) ?? []) dirty.add(k);
      });
      for (const k of state.byService.get(serviceKeyOf(change.after)) ?? []) dirty.add(k);
    }
    const lists = parsed.byDialect;
    if (old && now)
      old.checked.forEach((p, j) =>
        lists.set(p.dialect, replaced(lists.get(p.dialect) ?? [], p, now.checked[j]!)),
      );
    else if (now)
      for (const p of now.checked) lists.set(p.dialect, [...(lists.get(p.dialect) ?? []), p]);
    else if (old)
      for (const p of old.checked)
        lists.set(
          p.dialect,
          (lists.get(p.dialect) ?? []).filter((x) => x !== p),
        );
    for (const g of now?.entryGroups ?? []) {
      components.set(g.key, { segments: [g.fragments], services: g.services });
      dirty.add(g.key);
      if (!old) {
        added.push({ key: g.key, at: change.at });
        for (const service of g.services) {
          const list = state.byService.get(service);
          if (list) list.push(g.key);
          else state.byService.set(service, [g.key]);
        }
      }
    }
    if (!now && old) {
      for (const g of old.entryGroups) {
        components.delete(g.key);
        removed.push(g.key);
        for (const service of g.services) {
          const list = state.byService.get(service)?.filter((k) => k !== g.key) ?? [];
          if (list.length > 0) state.byService.set(service, list);
          else state.byService.delete(service);
        }
      }
      cache.forget(key);
    }
  }
  for (const service of sliceLists) {
    const list = slicesOf(objects, service);
    if (list.length > 0) parsed.slices.set(service, list);
    else parsed.slices.delete(service);
  }
  parsed.crossChecked = crossCheck(parsed.byDialect, cache);
  parsed.diagnostics = [];
  appendLists(parsed.diagnostics, parsed.parseDiagnostics);
  for (const d of parsed.crossChecked) parsed.diagnostics.push(d);
  const blamed = blamedObjects(parsed.diagnostics);
  for (const key of blamed) if (!state.blamed.has(key)) dirty.add(key);
  for (const key of state.blamed) if (!blamed.has(key)) dirty.add(key);
  state.raw = raw;
  state.blamed = blamed;
  // Routes of removed entry objects go first (the routes after them move up), then every
  // dirty entry object again: its routes must stay where they were; new ones go at the end.
  const results = state.components;
  const layout = state.layout;
  const editor = new TableEditor(previous.table);
  const gone = new Map<string, ComponentResult>();
  if (removed.length > 0 && layout.diagnostics.length > 0) return undefined;
  for (const key of removed) {
    const before = results.get(key);
    if (!before) continue;
    for (const c of before.placement.candidates) {
      for (const place of c.places) {
        const at = layout.routes.get(place.routeKey);
        if (at?.holder !== c.id || !removeRoute(layout, editor, place.routeKey, at))
          return undefined;
      }
      forgetShared(layout.shared, c, c.places);
    }
    results.delete(key);
    gone.set(key, before);
  }
  const updated = new Map<string, { before: ComponentResult; after: ComponentResult }>();
  const fresh: Candidate[] = [];
  for (const key of dirty) {
    const component = parsed.components.get(key);
    if (!component) continue;
    const before = results.get(key);
    const now = reconcileComponent(key, component, parsed, blamed, previous, cache);
    results.set(key, now);
    if (!before) {
      for (const c of now.placement.candidates) fresh.push(c);
      continue;
    }
    updated.set(key, { before, after: now });
    const old = before.placement.candidates;
    const candidates = now.placement.candidates;
    if (old.length !== candidates.length) return undefined;
    for (const [i, c] of candidates.entries()) {
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
      )
        return undefined;
      // The new candidate holds what the old one held (same places); the old one is let go.
      forgetShared(layout.shared, was, was.places);
      for (const place of c.places) {
        const at = layout.routes.get(place.routeKey);
        if (at?.holder !== c.id) continue;
        editor.setBackendSet(at, c.set);
        recordShared(layout.shared, c, place);
      }
    }
  }
  fresh.sort(tableOrder);
  for (const c of fresh) if (!appendRoutes(layout, editor, c)) return undefined;
  const table = editor.done(snapshot.generation);
  // A Service's own TLS listener brings a certificate: left to the full reconcile.
  const tlsListener = (r: ComponentResult | undefined): boolean =>
    r?.placement.candidates.some((c) => hasServiceTls(c.entry)) === true;
  for (const key of [...dirty, ...removed])
    if (
      key.startsWith('Service/') &&
      (tlsListener(results.get(key)) ||
        tlsListener(gone.get(key)) ||
        tlsListener(updated.get(key)?.before))
    )
      return undefined;
  if ([...dirty, ...removed].some((key) => key.startsWith('Service/'))) {
    // A Service's own TCP/UDP listeners: recomputed whole (there are few); a port two
    // Services claim is left to the full reconcile, which reports it.
    const streams = streamsOf(results.values(), previous.table.streams);
    if (streams.diagnostics.length > 0) return undefined;
    if (streams.streams) table.streams = streams.streams;
    else delete table.streams;
  }
  if (previous.table.passthrough) {
    // Passthrough routes take their sets from the candidates like streams: recomputed whole.
    const passthrough = passthroughOf(results.values(), previous.table.passthrough);
    if (passthrough.diagnostics.length > 0) return undefined;
    if (passthrough.passthrough) table.passthrough = passthrough.passthrough;
    else delete table.passthrough;
  }
  const result = reassemble(previous, table, parsed.diagnostics, layout, state, {
    updated,
    gone,
    added,
  });
  if (!result) return undefined;
  state.result = result;
  cache.patched++;
  return result;
}
