import { type Assembled, assemble, fieldAppliesToMode, MergedValues } from './assemble';
import { Diagnostic, error, quote, Reason, warning } from './diagnostics';
import { FieldSetting, Fragment, EntryFragment, BackendFragment } from './fragment';
import { POLICY_FIELDS, PolicyField } from './fields';
import { LoadBalancing, PersistencePolicy, RouteSettings } from './policy';
import {
  BackendRef,
  EntryRef,
  Listener,
  SourceRef,
  backendKey,
  entryKey,
  targetMatches,
} from './refs';

export interface ResolvedEntry {
  entry: EntryRef;
  backend: BackendRef;
  /** False when the configuration was refused; policy and balancing are then null. */
  accepted: boolean;
  policy: PersistencePolicy | null;
  loadBalancing: LoadBalancing | null;
  route: RouteSettings;
  /** For every field that a dialect set: where it came from (both sides of a conflict). */
  sources: Partial<Record<PolicyField, SourceRef[]>>;
}

export interface ResolveResult {
  entries: ResolvedEntry[];
  diagnostics: Diagnostic[];
}

interface Candidate extends FieldSetting {
  precedence: number;
}

interface Group {
  entry: EntryRef;
  backend: BackendRef;
  fragments: (EntryFragment | BackendFragment)[];
}

function conflictReason(field: PolicyField): Reason {
  if (field === 'mode') return 'ConflictingPersistence';
  if (field.startsWith('loadBalancing.')) return 'ConflictingLoadBalancing';
  return 'ConflictingValues';
}

function distinctValues(candidates: readonly Candidate[]): unknown[] {
  return [...new Set(candidates.map((c) => c.value))];
}

function uniqueSources(sources: readonly SourceRef[]): SourceRef[] {
  const seen = new Set<string>();
  return sources.filter((s) => {
    const key = JSON.stringify(s);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Picks one value for a field from every fragment that set it. Explicit values beat
 * defaults; among explicit values the highest precedence wins, and two different values at
 * that precedence are a conflict. A default gives way to an explicit value of another dialect
 * (with a warning where they differ).
 */
function mergeField(
  field: PolicyField,
  candidates: Candidate[],
  diagnostics: Diagnostic[],
): { chosen: FieldSetting; conflict: false } | { sources: SourceRef[]; conflict: true } {
  const explicit = candidates.filter((c) => !c.source.isDefault);
  const defaults = candidates.filter((c) => c.source.isDefault);
  if (explicit.length === 0) {
    const values = distinctValues(defaults);
    const first = defaults[0]!;
    if (values.length > 1) {
      diagnostics.push(
        warning(
          'DefaultOverridden',
          `${field}: dialects default to different values (${values.map((v) => quote(v)).join(', ')}); using ${quote(first.value)}`,
          ...defaults.map((d) => d.source),
        ),
      );
    }
    return { chosen: first, conflict: false };
  }
  const top = Math.max(...explicit.map((c) => c.precedence));
  const winners = explicit.filter((c) => c.precedence === top);
  const values = distinctValues(winners);
  if (values.length > 1) {
    diagnostics.push(
      error(
        conflictReason(field),
        `${field} is set to ${values.map((v) => quote(v)).join(' and ')} for the same entry point and backend`,
        ...uniqueSources(winners.map((w) => w.source)),
      ),
    );
    return { sources: uniqueSources(winners.map((w) => w.source)), conflict: true };
  }
  const chosen = winners[0]!;
  const overridden = explicit.filter((c) => c.precedence < top && c.value !== chosen.value);
  if (overridden.length > 0) {
    diagnostics.push(
      warning(
        'ValueOverridden',
        `${field}: ${quote(chosen.value)} overrides ${overridden.map((o) => quote(o.value)).join(', ')}`,
        chosen.source,
        ...overridden.map((o) => o.source),
      ),
    );
  }
  const displaced = defaults.filter(
    (d) => d.source.dialect !== chosen.source.dialect && d.value !== chosen.value,
  );
  if (displaced.length > 0) {
    diagnostics.push(
      warning(
        'DefaultOverridden',
        `${field}: ${quote(chosen.value)} replaces the default ${displaced.map((d) => quote(d.value)).join(', ')}`,
        chosen.source,
        ...displaced.map((d) => d.source),
      ),
    );
  }
  return { chosen, conflict: false };
}

/** Rules that hold whatever dialect the settings came from. */
function checkEntry(group: Group, policy: PersistencePolicy, merged: MergedValues): Diagnostic[] {
  const out: Diagnostic[] = [];
  const listeners = group.entry.listeners;
  const modeSource = merged.mode ? [merged.mode.source] : [];
  const onlyL4 =
    listeners.length > 0 && listeners.every((l) => l.protocol === 'TCP' || l.protocol === 'UDP');
  if (
    onlyL4 &&
    (policy.mode === 'cookie' || policy.mode === 'appCookie' || policy.mode === 'header')
  ) {
    out.push(
      error(
        'PersistenceOnTcpListener',
        `${policy.mode} persistence needs an HTTP listener, but ${entryKey(group.entry)} is served over ${listeners.map((l) => l.protocol).join(', ')} only`,
        ...modeSource,
      ),
    );
  }
  const hasHttps = listeners.some((l) => l.protocol === 'HTTPS');
  const secure = merged['cookie.secure'];
  if (
    policy.cookie?.secure === 'always' &&
    listeners.length > 0 &&
    !hasHttps &&
    !onlyL4 &&
    secure
  ) {
    // A warning, not a refusal: a dialect that refuses it (OCI: isSecure needs an HTTPS
    // listener) says so itself. ingress-nginx sets Secure on plain HTTP on purpose, for TLS
    // that ends at a load balancer in front of it.
    out.push(
      warning(
        'InsecureCookieOnHttpListener',
        `the cookie ${quote(policy.cookie.name)} is Secure-only but ${entryKey(group.entry)} serves plain HTTP only: browsers send it back only over HTTPS (as behind a load balancer that ends TLS)`,
        secure.source,
      ),
    );
  }
  const algorithm = merged['loadBalancing.algorithm'];
  if (
    policy.mode !== 'none' &&
    algorithm &&
    !algorithm.source.isDefault &&
    merged.mode &&
    algorithm.source.dialect !== merged.mode.source.dialect &&
    (algorithm.value === 'sourceIpHash' || algorithm.value === 'hash')
  ) {
    out.push(
      warning(
        'BalancingOverriddenByPersistence',
        `${policy.mode} persistence decides the endpoint for pinned clients; ${String(algorithm.value)} balancing applies only to their first request`,
        merged.mode.source,
        algorithm.source,
      ),
    );
  }
  for (const field of POLICY_FIELDS) {
    const setting = merged[field];
    if (!setting || setting.source.isDefault || fieldAppliesToMode(field, policy.mode)) continue;
    if (merged.mode && setting.source.dialect === merged.mode.source.dialect) continue;
    out.push(
      warning(
        'IneffectiveSetting',
        `${field} has no effect with ${policy.mode} persistence`,
        setting.source,
        ...modeSource,
      ),
    );
  }
  return out;
}

/**
 * A dialect that knows how its vendor serves an entry point (OCI's backend protocol, say)
 * replaces what the object's structure alone suggests; several dialects add up.
 */
function effectiveListeners(group: Group): Listener[] {
  const first = group.fragments[0] as EntryFragment;
  // Most entry points have one dialect that agrees with the structure: nothing to merge.
  if (
    group.fragments.every((f) => f.type !== 'entry' || f.entry.listeners === first.entry.listeners)
  ) {
    return first.entry.listeners;
  }
  const entryFragments = group.fragments.filter((f): f is EntryFragment => f.type === 'entry');
  const fromDialects = entryFragments.filter((f) => f.dialect !== 'kubernetes');
  const pool = fromDialects.length > 0 ? fromDialects : entryFragments;
  const seen = new Map<string, Listener>();
  for (const f of pool)
    for (const l of f.entry.listeners)
      seen.set(`${l.protocol}:${l.port ?? ''}:${l.gateway ?? ''}`, l);
  return [...seen.values()];
}

function groupFragments(fragments: readonly Fragment[]): Group[] {
  const groups = new Map<string, Group>();
  for (const f of fragments) {
    if (f.type !== 'entry') continue;
    const key = `${entryKey(f.entry)}→${backendKey(f.backend)}`;
    const group = groups.get(key);
    if (group) group.fragments.push(f);
    else groups.set(key, { entry: f.entry, backend: f.backend, fragments: [f] });
  }
  for (const group of groups.values()) {
    const listeners = effectiveListeners(group);
    // Only an entry whose dialects changed its listeners is copied; the others keep their object.
    if (listeners !== group.entry.listeners) group.entry = { ...group.entry, listeners };
  }
  // Backend-wide fragments are indexed by Service so each group looks up only its own.
  const backendWide = new Map<string, BackendFragment[]>();
  for (const f of fragments) {
    if (f.type !== 'backend') continue;
    const key = `${f.target.namespace}/${f.target.service}`;
    const list = backendWide.get(key);
    if (list) list.push(f);
    else backendWide.set(key, [f]);
  }
  for (const group of groups.values()) {
    for (const f of backendWide.get(`${group.backend.namespace}/${group.backend.service}`) ?? []) {
      if (targetMatches(f.target, group.backend)) group.fragments.push(f);
    }
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}

function resolveGroup(group: Group, diagnostics: Diagnostic[]): ResolvedEntry {
  const candidates = new Map<PolicyField, Candidate[]>();
  for (const fragment of group.fragments) {
    for (const field in fragment.values) {
      const setting = fragment.values[field as PolicyField]!;
      const candidate: Candidate = {
        value: setting.value,
        source: setting.source,
        precedence: fragment.precedence,
      };
      const list = candidates.get(field as PolicyField);
      if (list) list.push(candidate);
      else candidates.set(field as PolicyField, [candidate]);
    }
  }
  const merged: MergedValues = {};
  const sources: ResolvedEntry['sources'] = {};
  // Fields that came from one key share one list: a JSON annotation sets a whole cookie, and
  // resolved entries are kept, one list per field otherwise.
  const single: SourceRef[][] = [];
  const listOf = (source: SourceRef): SourceRef[] => {
    for (const list of single) if (list[0] === source) return list;
    const list = [source];
    single.push(list);
    return list;
  };
  const local: Diagnostic[] = [];
  let refused = false;
  for (const field of POLICY_FIELDS) {
    const list = candidates.get(field);
    if (!list) continue;
    const result = mergeField(field, list, local);
    if (result.conflict) {
      sources[field] = result.sources;
      refused = true;
    } else {
      sources[field] = listOf(result.chosen.source);
      merged[field] = result.chosen;
    }
  }
  if (refused) {
    diagnostics.push(...local);
    return resolvedEntry(group, sources);
  }
  const { result, diagnostics: assembleDiagnostics } = assemble(merged);
  local.push(...assembleDiagnostics);
  if (result) local.push(...checkEntry(group, result.policy, merged));
  diagnostics.push(...local);
  if (!result || local.some((d) => d.severity === 'error')) return resolvedEntry(group, sources);
  return resolvedEntry(group, sources, result);
}

/**
 * The route settings of every entry that has none: one object instead of one per entry.
 * Frozen, so a reader that changed it would fail rather than change every entry.
 */
const NO_ROUTE_SETTINGS: RouteSettings = Object.freeze({});

function isEmpty(o: object): boolean {
  for (const key in o) if (Object.prototype.hasOwnProperty.call(o, key)) return false;
  return true;
}

/**
 * A resolved entry, refused when nothing was assembled. One literal for both, so every
 * resolved entry has the same layout and keeps all its fields inside the object.
 */
function resolvedEntry(
  group: Group,
  sources: ResolvedEntry['sources'],
  assembled?: Assembled,
): ResolvedEntry {
  return {
    entry: group.entry,
    backend: group.backend,
    accepted: assembled !== undefined,
    policy: assembled ? assembled.policy : null,
    loadBalancing: assembled ? assembled.loadBalancing : null,
    route: assembled && !isEmpty(assembled.route) ? assembled.route : NO_ROUTE_SETTINGS,
    sources,
  };
}

/**
 * Merges fragments into one policy per entry point and backend, or refuses the pair with
 * diagnostics naming every source involved. Pure: same fragments, same result.
 */
export function resolve(fragments: readonly Fragment[]): ResolveResult {
  const diagnostics: Diagnostic[] = [];
  const entries = groupFragments(fragments).map((g) => resolveGroup(g, diagnostics));
  return { entries, diagnostics: dedupeDiagnostics(diagnostics) };
}

/** `Kind/namespace/name` of every object an error names. */
export function blamedObjects(diagnostics: readonly Diagnostic[]): Set<string> {
  const blamed = new Set<string>();
  for (const d of diagnostics) {
    if (d.severity !== 'error') continue;
    for (const s of d.sources) blamed.add(`${s.kind}/${s.namespace}/${s.name}`);
  }
  return blamed;
}

/** An entry point refused: it keeps its sources; its policy becomes null. */
export function refusedEntry(e: ResolvedEntry): ResolvedEntry {
  return e.accepted
    ? { ...e, accepted: false, policy: null, loadBalancing: null, route: NO_ROUTE_SETTINGS }
    : e;
}

/**
 * Refuses every entry point of an object that an error names: an invalid setting must not
 * silently serve a policy without it.
 */
export function refuseEntriesWithErrors(
  entries: readonly ResolvedEntry[],
  diagnostics: readonly Diagnostic[],
): ResolvedEntry[] {
  const blamed = blamedObjects(diagnostics);
  if (blamed.size === 0) return [...entries];
  return entries.map((e) =>
    blamed.has(`${e.entry.kind}/${e.entry.namespace}/${e.entry.name}`) ? refusedEntry(e) : e,
  );
}

/** The same problem found through several entry points is reported once. */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([d.severity, d.reason, d.message, d.sources]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
