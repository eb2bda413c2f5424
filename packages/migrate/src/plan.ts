import { Diagnostic, ResolvedEntry, error, quote } from '@tether/model';
import type { Document } from 'yaml';
import { adoptionAnnotations } from './adoption';
import { convert, type CanaryBackend } from './convert';
import { GatewayDraft, hasGateway, parseGatewayRef, type GatewayRef } from './gateway';
import { reportUnexplainedLosses } from './unexplained';
import { hasEdits, rewriteText, type DocumentChange } from './yaml-edit';
import {
  analyze,
  applyToObject,
  DIALECTS,
  emptyEdits,
  entriesOf,
  findDialect,
  flatOf,
  mergeEdits,
  namespaceOf,
  readManifestText,
  type Dialect,
  type KubeObject,
  type LocatedObject,
  type ObjectEdits,
} from '@tether/dialects';
import type {
  FieldOutcome,
  MigrateOptions,
  MigrationResult,
  ObjectName,
  ObjectReport,
} from './report';

/** Settings of a canary Ingress that its weighted backendRef in the primary's route cannot say. */
const FOLDED_CANARY_LOSSES: ReadonlySet<string> = new Set([
  'route.canary.header',
  'route.canary.headerValue',
  'route.canary.cookie',
  'canaryBehavior',
]);

/** Whether a diagnostic is about the named object. */
function names(d: Diagnostic, name: ObjectName): boolean {
  return d.sources.some(
    (s) => s.kind === name.kind && s.namespace === name.namespace && s.name === name.name,
  );
}

/** An entry point's host and path, to find the canaries of a primary. */
function placeOf(e: ResolvedEntry): string {
  return `${e.entry.host ?? '*'} ${e.entry.path ?? '/'}`;
}

/**
 * Source warnings the report repeats: about a value itself, and a cookie Path that would be a
 * regular expression's text (a user must give session-cookie-path before or after migrating).
 */
const INVALID_VALUE_REASONS: ReadonlySet<string> = new Set([
  'InvalidAnnotation',
  'InvalidJson',
  'CookiePathIsRegex',
]);

interface Placement {
  /** The object that will carry the target's settings, as it will be written. */
  object: KubeObject;
  /** For each of its entries (`rule→service`), the source entry whose policy it must carry. */
  sourceFor: Map<string, ResolvedEntry>;
}

interface Plan {
  report: ObjectReport;
  placements: Placement[];
}

const objectId = (o: { kind: string; namespace: string; name: string }): string =>
  `${o.kind}/${o.namespace}/${o.name}`;
const nameOf = (o: KubeObject): ObjectName => ({
  kind: o.kind,
  namespace: namespaceOf(o),
  name: o.metadata.name,
});
const sameObject = (e: ResolvedEntry, o: ObjectName): boolean =>
  e.entry.kind === o.kind && e.entry.namespace === o.namespace && e.entry.name === o.name;
const entryId = (e: { entry: { rule: string }; backend: { service: string } }): string =>
  `${e.entry.rule}→${e.backend.service}`;

/** The source dialect's session and balancing keys and spec fields on the object, for removal. */
function removalEdits(object: KubeObject, sources: readonly Dialect[]): ObjectEdits {
  const keys = new Set(
    sources.flatMap((d) =>
      d.table.filter((k) => k.type === 'annotation' && !k.keepOnMigration).map((k) => k.key),
    ),
  );
  return {
    removeAnnotations: Object.keys(object.metadata.annotations ?? {}).filter((k) => keys.has(k)),
    setAnnotations: {},
    spec: sources.flatMap((d) => d.ownedSpec?.(object) ?? []),
  };
}

class Migration {
  readonly reports: ObjectReport[] = [];
  readonly changes = new Map<string, Map<number, DocumentChange>>();
  /** Replacement objects by `file#document`, for the analysis after migration. */
  readonly replaced = new Map<string, KubeObject[]>();
  readonly edited = new Map<LocatedObject, ObjectEdits>();
  readonly placements: { plan: Plan; placement: Placement }[] = [];

  /** The resolved entry points of each object, by `Kind/namespace/name`. */
  private readonly entriesByObject = new Map<string, ResolvedEntry[]>();
  /** Entry points of other objects whose settings an object supplies, by that object's key. */
  private readonly reachedBy = new Map<string, ResolvedEntry[]>();
  private readonly locatedByName = new Map<string, LocatedObject>();
  /** The canary entry point of each host and path that has one, by `placeOf`. */
  private readonly canaryAt = new Map<string, ResolvedEntry>();
  /** Host and path of every primary (non-canary) entry point. */
  private readonly primaryPlaces = new Set<string>();
  /** The Gateway new HTTPRoutes attach to, and what to write it from if the input lacks it. */
  private readonly gatewayRef: GatewayRef;
  private readonly gatewayDraft: GatewayDraft;
  /** The first source converted into HTTPRoutes: the Gateway is written after its routes. */
  private firstRouteSource: { l: LocatedObject; plan: Plan } | undefined;

  constructor(
    readonly located: LocatedObject[],
    readonly before: ReturnType<typeof analyze>,
    readonly target: Dialect,
    readonly options: MigrateOptions,
  ) {
    this.gatewayRef = parseGatewayRef(options.gateway ?? 'tether');
    this.gatewayDraft = new GatewayDraft(this.gatewayRef);
    const push = (map: Map<string, ResolvedEntry[]>, key: string, e: ResolvedEntry) => {
      const list = map.get(key);
      if (list) list.push(e);
      else map.set(key, [e]);
    };
    for (const l of located) this.locatedByName.set(objectId(nameOf(l.object)), l);
    for (const e of before.entries) {
      if (e.route?.canary) {
        if (!this.canaryAt.has(placeOf(e))) this.canaryAt.set(placeOf(e), e);
      } else this.primaryPlaces.add(placeOf(e));
      const own = objectId(e.entry);
      push(this.entriesByObject, own, e);
      const suppliers = new Set<string>();
      for (const list of Object.values(e.sources)) {
        for (const s of list ?? []) if (!s.isDefault) suppliers.add(objectId(s));
      }
      suppliers.delete(own);
      for (const supplier of suppliers) push(this.reachedBy, supplier, e);
    }
  }

  /**
   * Why a changed field makes no difference to what this entry point does, or undefined when
   * it does: a canary behaviour where no canary serves the host and path, and Secure-on-HTTPS
   * becoming never Secure on an entry point served over plain HTTP only.
   */
  private mootBecause(
    field: string,
    before: unknown,
    after: unknown,
    source: ResolvedEntry,
  ): string | undefined {
    if (field === 'canaryBehavior' && !this.canaryAt.has(placeOf(source)))
      return 'no canary serves this host and path';
    if (
      field === 'cookie.secure' &&
      before === 'https' &&
      after === 'never' &&
      source.entry.listeners.every((l) => l.protocol !== 'HTTPS')
    )
      return 'served over plain HTTP only, so the cookie was never Secure';
    return undefined;
  }

  private entriesOf(name: ObjectName): ResolvedEntry[] {
    return this.entriesByObject.get(objectId(name)) ?? [];
  }

  addEdit(l: LocatedObject, edits: ObjectEdits): void {
    this.edited.set(l, mergeEdits(this.edited.get(l) ?? emptyEdits(), edits));
  }

  /** Plans the migration of one object; returns undefined when it carries nothing to move. */
  plan(l: LocatedObject): void {
    const o = l.object;
    const sources = DIALECTS.filter(
      (d) =>
        d.id !== this.target.id &&
        (this.options.from === undefined || d.id === this.options.from) &&
        d.appliesTo(o),
    );
    if (sources.length === 0) return;
    const name = nameOf(o);
    const report: ObjectReport = {
      file: l.file,
      line: l.line,
      object: name,
      from: sources.map((d) => d.id),
      to: this.target.id,
      action: 'rewritten',
      written: [],
      carried: [],
      lost: [],
      moot: [],
      added: [],
      notes: [],
      diagnostics: [],
      covered: new Set(),
    };
    this.reports.push(report);
    const entries = this.entriesOf(name);
    if (l.listItem !== undefined)
      return this.refuse(
        report,
        'objects inside a kind: List document are not rewritten; split the List first',
      );
    const refused = entries.filter((e) => !e.accepted);
    if (refused.length > 0) {
      report.diagnostics.push(
        ...this.before.diagnostics.filter((d) => d.severity === 'error' && names(d, name)),
      );
      return this.refuse(
        report,
        'the source configuration is refused; fix its errors first (tether lint)',
      );
    }
    // Values the source's controller would ignore or replace with its default: the migration
    // carries what they meant there (the default), so they are named here, not dropped unseen.
    report.diagnostics.push(
      ...this.before.diagnostics.filter(
        (d) => d.severity === 'warning' && INVALID_VALUE_REASONS.has(d.reason) && names(d, name),
      ),
    );
    const removal = removalEdits(o, sources);
    const plan: Plan = { report, placements: [] };
    const kinds = this.target.targetKinds ?? [];
    const fronting =
      o.kind === 'Service' && !kinds.includes('Service') && kinds.includes('Ingress');
    if (!fronting) this.watchReached(plan, name);
    if (kinds.includes(o.kind)) this.inPlace(l, plan, entries, removal);
    else if (
      !this.converted(l, plan, entries, removal) &&
      !this.fronted(l, plan, entries, removal)
    ) {
      report.lost.push(
        ...entries.flatMap((e) => this.fieldsOf(e).map((f) => ({ ...f, after: undefined }))),
      );
      report.notes.push(
        `${this.target.id} is written on ${kinds.join(' or ') || 'no kind'}; a ${o.kind} has nowhere to put it`,
      );
    }
  }

  /**
   * Entry points of other objects that this object's settings reach (a Huawei Service's
   * override of the Ingress in front of it) are compared after migration too, so a setting
   * that stops reaching them is reported rather than lost silently.
   */
  private watchReached(plan: Plan, name: ObjectName): void {
    const reached = this.reachedBy.get(objectId(name)) ?? [];
    for (const e of reached) {
      const holder = this.locatedByName.get(objectId(e.entry));
      if (holder)
        this.placements.push({
          plan,
          placement: { object: holder.object, sourceFor: new Map([[entryId(e), e]]) },
        });
    }
  }

  private refuse(report: ObjectReport, note: string): void {
    report.action = 'refused';
    report.notes.push(note);
  }

  /** Every field of an entry's policy, defaults included: what is lost when nothing can carry it. */
  private fieldsOf(e: ResolvedEntry): FieldOutcome[] {
    if (!e.policy) return [];
    return Object.entries(flatOf(e)).map(([field, before]) => {
      const outcome: FieldOutcome = { entry: entryId(e), field, before };
      const source = e.sources[field as keyof ResolvedEntry['sources']]?.[0];
      if (source) outcome.source = source;
      return outcome;
    });
  }

  private emit(object: KubeObject, entries: ResolvedEntry[], report: ObjectReport): ObjectEdits {
    if (!this.target.emit) {
      report.notes.push(`${this.target.id} cannot be written yet`);
      return emptyEdits();
    }
    const out = this.target.emit({
      object,
      entries,
      explicit: this.options.explicit ?? false,
      ...(this.options.sessionShape ? { sessionShape: this.options.sessionShape } : {}),
    });
    report.diagnostics.push(...out.diagnostics);
    for (const field of out.covers) report.covered.add(field);
    const adoption = this.options.adoptCookies
      ? adoptionAnnotations(entries, this.options.adoptCookiesUntil)
      : undefined;
    if (adoption) report.notes.push(adoption.note);
    return {
      removeAnnotations: out.removeAnnotations ?? [],
      setAnnotations: { ...out.annotations, ...adoption?.annotations },
      spec: out.spec,
    };
  }

  private inPlace(
    l: LocatedObject,
    plan: Plan,
    entries: ResolvedEntry[],
    removal: ObjectEdits,
  ): void {
    const stripped = applyToObject(l.object, removal);
    const edits = mergeEdits(removal, this.emit(stripped, entries, plan.report));
    this.addEdit(l, edits);
    plan.report.written.push(nameOf(l.object));
    this.place(plan, applyToObject(l.object, edits), new Map(entries.map((e) => [entryId(e), e])));
  }

  private converted(
    l: LocatedObject,
    plan: Plan,
    entries: ResolvedEntry[],
    removal: ObjectEdits,
  ): boolean {
    if (this.foldedCanary(l, plan, entries)) return true;
    const conversion = convert(l.object, this.target.targetKinds ?? [], {
      gateway: this.gatewayRef,
      ingressClass: this.options.ingressClass,
      regexRules: new Set(entries.filter((e) => e.route?.pathRegex).map((e) => e.entry.rule)),
      grpcRules: new Map(
        entries.flatMap((e) =>
          e.route?.backendProtocol === 'GRPC' || e.route?.backendProtocol === 'GRPCS'
            ? [[e.entry.rule, e.route.backendProtocol] as const]
            : [],
        ),
      ),
      canaries: this.canariesOf(entries),
    });
    if (!conversion) return false;
    if (
      conversion.objects.some(
        (o) => o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute' || o.kind === 'TLSRoute',
      )
    ) {
      this.gatewayDraft.add(l.object);
      this.firstRouteSource ??= { l, plan };
    }
    plan.report.action = 'converted';
    plan.report.notes.push(...conversion.notes);
    const written: KubeObject[] = [];
    for (const n of conversion.objects) {
      const sourceFor = new Map<string, ResolvedEntry>();
      const emitEntries: ResolvedEntry[] = [];
      for (const item of entriesOf(n).spec ?? []) {
        const rule = conversion.ruleMap.get(`${n.metadata.name}#${item.entry.rule}`);
        const source = entries.find(
          (e) => e.entry.rule === rule && e.backend.service === item.backend.service,
        );
        if (!source) continue;
        sourceFor.set(entryId(item), source);
        // A RegularExpression match that becomes a plain path needs the target's regex switch.
        const route =
          source.entry.pathType === 'RegularExpression' && source.route?.pathRegex !== true
            ? { ...source.route, pathRegex: true }
            : source.route;
        emitEntries.push({ ...source, route, entry: item.entry, backend: item.backend });
      }
      const edits = this.emit(n, emitEntries, plan.report);
      const finished = applyToObject(n, edits);
      written.push(finished);
      plan.report.written.push(nameOf(finished));
      this.place(plan, finished, sourceFor);
    }
    const key = `${l.file}#${l.document}`;
    if (this.options.keepSource) {
      plan.report.notes.push(
        `the source ${l.object.kind} is kept; delete it once the new objects serve`,
      );
      this.setChange(l, {
        type: 'append',
        objects: written,
        edits: hasEdits(removal) ? removal : undefined,
      });
      this.replaced.set(key, [applyToObject(l.object, removal), ...written]);
    } else {
      this.setChange(l, { type: 'replace', objects: written });
      this.replaced.set(key, written);
    }
    return true;
  }

  /** The canaries of an object's entry points, for a kind that splits traffic by weight. */
  private canariesOf(entries: readonly ResolvedEntry[]): Map<string, CanaryBackend> {
    const out = new Map<string, CanaryBackend>();
    if (!(this.target.targetKinds ?? []).includes('HTTPRoute')) return out;
    for (const e of entries) {
      const canary = e.route?.canary ? undefined : this.canaryAt.get(placeOf(e));
      const rules = canary?.route?.canary;
      if (!canary || !rules || typeof canary.backend.port !== 'number') continue;
      out.set(e.entry.rule, {
        service: canary.backend.service,
        port: canary.backend.port,
        weight: rules.weight ?? 0,
        total: rules.weightTotal ?? 100,
      });
    }
    return out;
  }

  /**
   * A canary Ingress whose every path has a primary goes into the primary's HTTPRoute as a
   * weighted backend (see `canariesOf`), so it writes no route of its own: a route of its own
   * would send all of its host and path to the canary.
   */
  private foldedCanary(l: LocatedObject, plan: Plan, entries: readonly ResolvedEntry[]): boolean {
    if (!(this.target.targetKinds ?? []).includes('HTTPRoute') || entries.length === 0)
      return false;
    const folded = entries.every(
      (e) =>
        e.route?.canary !== undefined &&
        typeof e.backend.port === 'number' &&
        this.primaryPlaces.has(placeOf(e)) &&
        this.canaryAt.get(placeOf(e)) === e,
    );
    if (!folded) return false;
    plan.report.action = 'converted';
    plan.report.notes.push(
      'a canary: folded into the HTTPRoute of its primary as a weighted backendRef (canary-weight of canary-weight-total), so it writes no route of its own',
    );
    // What a weight cannot say: routing by header or cookie, and the canary's own stickiness.
    for (const e of entries)
      for (const f of this.fieldsOf(e))
        if (FOLDED_CANARY_LOSSES.has(f.field) && !f.source?.isDefault)
          plan.report.lost.push({ ...f, after: undefined });
    if (this.options.keepSource) {
      plan.report.notes.push(
        `the source ${l.object.kind} is kept; delete it once the new objects serve`,
      );
      return true;
    }
    this.setChange(l, { type: 'replace', objects: [] });
    this.replaced.set(`${l.file}#${l.document}`, []);
    return true;
  }

  /** A Service's settings go onto the Ingresses in front of it when the target lives on Ingresses. */
  private fronted(
    l: LocatedObject,
    plan: Plan,
    entries: ResolvedEntry[],
    removal: ObjectEdits,
  ): boolean {
    const o = l.object;
    if (o.kind !== 'Service' || !(this.target.targetKinds ?? []).includes('Ingress')) return false;
    const name = nameOf(o);
    const fronts = this.located.filter(
      (f) =>
        f.object.kind === 'Ingress' &&
        namespaceOf(f.object) === name.namespace &&
        this.entriesOf(nameOf(f.object)).some((e) => e.backend.service === name.name),
    );
    if (fronts.length === 0) {
      // Nothing can carry the settings: the Service keeps them and every one is reported.
      plan.report.lost.push(...entries.flatMap((e) => this.fieldsOf(e)));
      plan.report.notes.push(
        `no Ingress in the input routes to Service ${name.namespace}/${name.name}, so there is nothing to write ${this.target.id} settings on; the Service is left as it was`,
      );
      return true;
    }
    this.addEdit(l, removal);
    plan.report.action = 'moved';
    // A LoadBalancer Service's own listeners lose what moved to the Ingresses: compare them too.
    if (entries.length > 0)
      this.place(plan, applyToObject(o, removal), new Map(entries.map((e) => [entryId(e), e])));
    for (const f of fronts) {
      const ingressEntries = this.entriesOf(nameOf(f.object)).filter(
        (e) => e.backend.service === name.name,
      );
      const sourceFor = new Map<string, ResolvedEntry>();
      const emitEntries = ingressEntries.flatMap((ie) => {
        // A ClusterIP Service has no entry point of its own: its settings already reach the
        // Ingress (Huawei's Service override), so the Ingress's resolved policy is the source.
        const reached = Object.values(ie.sources).some((list) =>
          list?.some(
            (s) => s.kind === 'Service' && s.namespace === name.namespace && s.name === name.name,
          ),
        );
        const source = reached
          ? ie
          : (entries.find((e) => e.backend.port === ie.backend.port) ?? entries[0]);
        if (!source) return [];
        sourceFor.set(entryId(ie), source);
        return [{ ...source, entry: ie.entry, backend: ie.backend }];
      });
      const edits = this.emit(f.object, emitEntries, plan.report);
      this.addEdit(f, edits);
      plan.report.written.push(nameOf(f.object));
      plan.report.notes.push(
        `settings written on Ingress ${namespaceOf(f.object)}/${f.object.metadata.name}, which routes to this Service`,
      );
      this.placements.push({ plan, placement: { object: f.object, sourceFor } });
    }
    return true;
  }

  private place(plan: Plan, object: KubeObject, sourceFor: Map<string, ResolvedEntry>): void {
    this.placements.push({ plan, placement: { object, sourceFor } });
  }

  private setChange(l: LocatedObject, change: DocumentChange): void {
    const byDoc = this.changes.get(l.file) ?? new Map<number, DocumentChange>();
    byDoc.set(l.document, change);
    this.changes.set(l.file, byDoc);
  }

  /**
   * Writes the Gateway the converted HTTPRoutes attach to, after the routes of the first
   * source, when the input has none of that name.
   */
  writeGateway(): void {
    const first = this.firstRouteSource;
    if (!first || this.gatewayDraft.empty) return;
    const inputs = this.located.map((l) => l.object);
    if (hasGateway(inputs, this.gatewayRef, namespaceOf(first.l.object))) return;
    const { gateway, notes } = this.gatewayDraft.build();
    const key = `${first.l.file}#${first.l.document}`;
    const change = this.changes.get(first.l.file)?.get(first.l.document);
    if (!change || change.type === 'edit') return;
    change.objects.push(gateway);
    // The replacement list is the change's own list unless the source is kept beside it.
    const replacement = this.replaced.get(key);
    if (replacement && replacement !== change.objects) replacement.push(gateway);
    first.plan.report.written.push(nameOf(gateway));
    first.plan.report.notes.push(
      `wrote Gateway ${gateway.metadata.namespace}/${gateway.metadata.name} (class tether) for the new routes: ${listenerSummary(gateway)}`,
      ...notes,
    );
  }

  /** Every object as it will be written, in input order. */
  objectsAfter(): KubeObject[] {
    const out: KubeObject[] = [];
    const seen = new Set<string>();
    for (const l of this.located) {
      const key = `${l.file}#${l.document}`;
      const replacement = this.replaced.get(key);
      if (replacement) {
        if (!seen.has(key)) out.push(...replacement);
        seen.add(key);
        continue;
      }
      const edits = this.edited.get(l);
      out.push(edits ? applyToObject(l.object, edits) : l.object);
    }
    return out;
  }

  /** Records the YAML edits of objects that stay in place. */
  finishChanges(): void {
    for (const [l, edits] of this.edited) {
      if (this.replaced.has(`${l.file}#${l.document}`) || !hasEdits(edits)) continue;
      this.setChange(l, { type: 'edit', edits });
    }
  }

  /** Compares what each placement now resolves to with what its source said. */
  verify(after: ReturnType<typeof analyze>): void {
    for (const { plan, placement } of this.placements) {
      const name = nameOf(placement.object);
      for (const [id, source] of placement.sourceFor) {
        const now = after.entries.find((e) => sameObject(e, name) && entryId(e) === id);
        const before = flatOf(source);
        const nowFlat = flatOf(now);
        for (const field of new Set([...Object.keys(before), ...Object.keys(nowFlat)])) {
          const b = (before as Record<string, unknown>)[field];
          const a = (nowFlat as Record<string, unknown>)[field];
          const outcome: FieldOutcome = {
            entry: `${name.kind} ${name.namespace}/${name.name} ${id}`,
            field,
            before: b,
            after: a,
          };
          // A field no dialect set (a model default) is blamed on what chose the mode.
          const from =
            source.sources[field as keyof ResolvedEntry['sources']]?.[0] ??
            source.sources.mode?.[0];
          const to = now?.sources[field as keyof ResolvedEntry['sources']]?.[0];
          if (from) outcome.source = from;
          if (to) outcome.target = to;
          // Adoption written by the migration is a note of its own, not a changed setting.
          if (b === undefined && field.startsWith('adoptCookies.') && this.options.adoptCookies)
            continue;
          if (b === a) plan.report.carried.push(outcome);
          // A field the source left unset that the target fills with its own default is a note;
          // one the target derives from what the user wrote changes behaviour and is a loss.
          else if (b === undefined && (!to || to.isDefault)) plan.report.added.push(outcome);
          else {
            const why = this.mootBecause(field, b, a, source);
            if (why) plan.report.moot.push({ ...outcome, why });
            else plan.report.lost.push(outcome);
          }
        }
        if (now && !now.accepted) {
          plan.report.diagnostics.push(
            ...after.diagnostics.filter(
              (d) =>
                d.severity === 'error' &&
                d.sources.some((s) => s.kind === name.kind && s.name === name.name),
            ),
          );
        }
      }
    }
  }
}

/** Migrates manifests from one dialect to another, keeping every other byte of the files. */
export function migrate(
  files: readonly { file: string; text: string }[],
  options: MigrateOptions,
): MigrationResult {
  const target = findDialect(options.to);
  const inputDiagnostics: Diagnostic[] = [];
  const located: LocatedObject[] = [];
  const documents = new Map<string, Document.Parsed[]>();
  for (const f of files) {
    const read = readManifestText(f.text, f.file);
    located.push(...read.objects);
    inputDiagnostics.push(...read.diagnostics);
    documents.set(f.file, read.documents);
  }
  if (!target) {
    inputDiagnostics.push(error('InvalidManifest', `unknown target dialect ${quote(options.to)}`));
    return {
      texts: new Map(files.map((f) => [f.file, f.text])),
      objects: located.map((l) => l.object),
      reports: [],
      inputDiagnostics,
      exitCode: 1,
    };
  }
  const migration = new Migration(located, analyze(located.map((l) => l.object)), target, options);
  for (const l of located) migration.plan(l);
  migration.writeGateway();
  migration.finishChanges();
  const objects = migration.objectsAfter();
  migration.verify(analyze(objects));
  for (const report of migration.reports) reportUnexplainedLosses(report);
  const texts = new Map(
    files.map((f) => [
      f.file,
      rewriteText(f.text, migration.changes.get(f.file) ?? new Map(), documents.get(f.file)),
    ]),
  );
  const invalid =
    inputDiagnostics.some((d) => d.severity === 'error') ||
    migration.reports.some((r) => r.action === 'refused');
  const lossy = migration.reports.some((r) => r.lost.length > 0);
  return {
    texts,
    objects,
    reports: migration.reports,
    inputDiagnostics,
    exitCode: invalid ? 1 : lossy ? 3 : 0,
  };
}

/** `HTTP on 80, HTTPS on 443 for each TLS host with its Secret, …`: what a written Gateway listens for. */
function listenerSummary(gateway: KubeObject): string {
  const listeners = (gateway.spec as { listeners: { protocol: string }[] }).listeners;
  const parts = ['HTTP on 80'];
  if (listeners.some((l) => l.protocol === 'HTTPS'))
    parts.push('HTTPS on 443 for each TLS host with its Secret');
  if (listeners.some((l) => l.protocol === 'TLS'))
    parts.push('TLS passthrough on 443 for the TLSRoutes');
  return parts.join(', ');
}
