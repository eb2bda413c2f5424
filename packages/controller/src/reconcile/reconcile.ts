import { Diagnostic, ResolvedEntry, blamedObjects } from '@tether/model';
import type { RouteTable } from '@tether/dataplane';
import { buildTable, type Candidate, type TableLayout } from './route-layout';
import { ParseCache } from './parse-cache';
import type { ReconcileOptions, ReconcileState } from './state';
import { servedObjects } from '../serving';
import { backendCas } from './backend-cas';
import { gatewayCertificates, serviceCertificates } from './service-certificates';
import { passthroughOf, streamsOf } from './streams';
import type { Snapshot } from '../snapshot';
import { tlsCertificates } from './tls-certificates';
import {
  type GoodPolicy,
  type ReconcileResult,
  parseAll,
  dedupe,
  type ComponentResult,
  reconcileComponent,
  CLASS_KINDS,
  servingKey,
  type Assembled,
} from './steps';
import { reconcileChanges } from './in-place';

export type { GoodPolicy, ReconcileResult } from './steps';
export type { ReconcileOptions } from './state';

/**
 * Snapshot → route table and diagnostics. Refused entry points keep the policy they last had
 * (from `previous`); one that never had a good policy is not served. With the state that made
 * `previous`, a snapshot that differs from the previous one in a few Ingresses,
 * EndpointSlices or Services, changed, added or removed (found by object identity, so no
 * promise of the source is trusted), is reconciled by updating only what they touch (see
 * in-place.ts); anything else is rebuilt in full. Both give
 * the same table, entries, served keys and last good policies, and the same set of
 * diagnostics.
 */
export function reconcile(
  snapshot: Snapshot,
  previous: ReconcileResult | undefined,
  options: ReconcileOptions,
): ReconcileResult {
  const state = options.state;
  const retained = state?.retained;
  if (state && retained && retained.result === previous) {
    let updated: ReconcileResult | undefined;
    try {
      updated = reconcileChanges(snapshot, previous, options, state.cache, retained);
    } catch (e) {
      // What is retained may be half updated: the next reconcile starts afresh.
      state.retained = undefined;
      throw e;
    }
    if (updated) return updated;
  }
  return reconcileAll(snapshot, previous, options, state);
}

function reconcileAll(
  snapshot: Snapshot,
  previous: ReconcileResult | undefined,
  options: ReconcileOptions,
  state: ReconcileState | undefined,
): ReconcileResult {
  const cache = state?.cache ?? new ParseCache();
  const objects = servedObjects(snapshot.objects, options);
  cache.beginPass(objects);
  const parsed = parseAll(objects, cache, options);
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
  const layout: TableLayout = {
    routes: new Map(),
    canaries: 0,
    diagnostics: [],
    shared: new Map(),
  };
  const table = buildTable(snapshot.generation, candidates, layout, cache);
  const streams = streamsOf(components.values(), previous?.table.streams);
  if (streams.streams) table.streams = streams.streams;
  for (const d of streams.diagnostics) layout.diagnostics.push(d);
  const passthrough = passthroughOf(components.values(), previous?.table.passthrough);
  if (passthrough.passthrough) table.passthrough = passthrough.passthrough;
  for (const d of passthrough.diagnostics) layout.diagnostics.push(d);
  const tls = tlsCertificates(objects, cache);
  const serviceTls = serviceCertificates(components.values(), objects, cache);
  const gatewayTls = gatewayCertificates(components.values(), objects, cache);
  const more = [...serviceTls.certificates, ...gatewayTls.certificates];
  if (more.length > 0)
    tls.certificates = cache.memo('certificates', 'table', [tls.certificates, ...more], () => [
      ...tls.certificates,
      ...more,
    ]);
  for (const d of [...serviceTls.diagnostics, ...gatewayTls.diagnostics]) tls.diagnostics.push(d);
  if (tls.certificates.length > 0) table.certificates = tls.certificates;
  const cas = backendCas(components.values(), objects, cache);
  if (cas.cas.length > 0)
    table.backendCas = cache.memo('backendCas', 'table', cas.cas, () => cas.cas);
  for (const d of cas.diagnostics) tls.diagnostics.push(d);
  cache.sweepMemos();
  const { result, assembled } = assemble(
    table,
    parsed.served,
    [...parsed.diagnostics],
    components,
    layout,
    tls.diagnostics,
  );
  if (state)
    state.retained = {
      raw: snapshot.objects,
      objects,
      classes: snapshot.objects.filter((o) => CLASS_KINDS.has(o.kind)),
      serving: servingKey(options),
      parsed,
      blamed,
      components,
      byService,
      layout,
      tlsDiagnostics: tls.diagnostics,
      assembled,
      result,
    };
  return result;
}

/** The result from the parts: diagnostics are those of the parse, then of each step. */
function assemble(
  table: RouteTable,
  served: string[],
  diagnostics: Diagnostic[],
  components: ReadonlyMap<string, ComponentResult>,
  layout: TableLayout,
  tlsDiagnostics: readonly Diagnostic[],
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
  for (const d of tlsDiagnostics) diagnostics.push(d);
  const result = { table, entries, diagnostics: dedupe(diagnostics), served, lastGood };
  return { result, assembled };
}
