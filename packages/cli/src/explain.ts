import { analyze, indexLocated, locateSource, type LocatedObject } from '@tether/dialects';
import {
  flattenPolicy,
  type BackendRef,
  type Diagnostic,
  type EntryRef,
  type LoadBalancing,
  type PersistencePolicy,
  type PolicyField,
  type RouteSettings,
  type SourceRef,
} from '@tether/model';

/** One entry point and backend as `explain -o json` prints it: a public, stable contract. */
export interface ExplainedBackend {
  backend: BackendRef;
  entry: EntryRef;
  accepted: boolean;
  policy: PersistencePolicy | null;
  loadBalancing: LoadBalancing | null;
  route: RouteSettings;
  sources: Partial<Record<PolicyField, SourceRef[]>>;
  /** Where a Service's own listeners are served (Service entry points only). */
  served?: ServedListener[];
}

/** A Service listener as `serve --manifests` and `up` open it. */
export interface ServedListener {
  protocol: string;
  address: string;
  /** 7: the HTTP data plane (cookies and all); 4: a TCP or UDP relay. */
  layer: 4 | 7;
}

/** Where Service listeners would listen: the same options `serve` takes. */
export interface ServiceAddressOptions {
  host: string;
  portOffset: number;
}

export interface ExplainReport {
  backends: ExplainedBackend[];
  diagnostics: Diagnostic[];
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Parses and resolves the objects; every source carries the file and line it came from. */
export function explain(
  objects: readonly LocatedObject[],
  readDiagnostics: readonly Diagnostic[],
  serviceAddresses: ServiceAddressOptions = { host: '127.0.0.1', portOffset: 0 },
): ExplainReport {
  const index = indexLocated(objects);
  const analysis = analyze(objects.map((o) => o.object));
  const locate = (sources: readonly SourceRef[]): SourceRef[] =>
    sources.map((s) => locateSource(s, index));
  const backends = analysis.entries.map((e) => ({
    backend: e.backend,
    entry: e.entry,
    accepted: e.accepted,
    policy: e.policy,
    loadBalancing: e.loadBalancing,
    route: e.route,
    sources: Object.fromEntries(
      Object.entries(e.sources).map(([field, s]) => [field, locate(s ?? [])]),
    ),
    ...(e.entry.kind === 'Service' && e.accepted
      ? { served: servedListeners(e.entry, serviceAddresses) }
      : {}),
  }));
  const diagnostics = [...readDiagnostics, ...analysis.diagnostics]
    .map((d) => ({ ...d, sources: locate(d.sources) }))
    .sort(
      (a, b) =>
        SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
        locationOrder(a).localeCompare(locationOrder(b)) ||
        lineOf(a) - lineOf(b),
    );
  return { backends, diagnostics };
}

const locationOrder = (d: Diagnostic): string => d.sources[0]?.file ?? '';
const lineOf = (d: Diagnostic): number => d.sources[0]?.line ?? 0;

function location(s: SourceRef): string {
  return s.file ? `${s.file}${s.line ? `:${s.line}` : ''}` : '';
}

function describe(s: SourceRef): string {
  if (s.isDefault) return `default of ${s.dialect} (${s.field})`;
  const where = location(s);
  return `${s.kind} ${s.namespace}/${s.name} ${s.field}${where ? `  ${where}` : ''}`;
}

/**
 * The listeners a Service entry point opens in manifest mode (`serve --manifests`, `up`), where
 * every LoadBalancer Service is served: a TCP or UDP relay, or the HTTP data plane.
 */
function servedListeners(e: EntryRef, at: ServiceAddressOptions): ServedListener[] {
  const host = at.host.includes(':') ? `[${at.host}]` : at.host;
  return e.listeners
    .filter((l) => l.port !== undefined)
    .map((l) => ({
      protocol: l.protocol,
      address: `${host}:${(l.port ?? 0) + at.portOffset}`,
      layer: l.protocol === 'TCP' || l.protocol === 'UDP' ? 4 : 7,
    }));
}

/** How Tether serves a Service's own listeners, and where. */
function servedText(b: ExplainedBackend): string {
  if (b.entry.kind !== 'Service') return '';
  const layer = b.entry.listeners.some((l) => l.protocol === 'TCP' || l.protocol === 'UDP')
    ? 'layer 4: relayed, source address only'
    : 'layer 7: HTTP';
  const at = (b.served ?? []).map((s) => `${s.protocol} ${s.address}`).join(', ');
  return `  ${layer}${at ? `; served at ${at}` : '; not served'}`;
}

/** `HTTP:80`, a Gateway listener's name, and the host names served there when they are several. */
function listenerText(l: EntryRef['listeners'][number]): string {
  const base = `${l.protocol}${l.port ? `:${l.port}` : ''}`;
  const gateway = l.gateway === undefined ? '' : ` Gateway ${l.gateway}`;
  const hosts = l.hosts && l.hosts.join(' ') !== '*' ? ` ${l.hosts.join(' ')}` : '';
  return `${base}${gateway}${hosts}`;
}

function entryTitle(b: ExplainedBackend): string {
  const e = b.entry;
  const where = [e.host ?? '*', e.path ?? ''].join('');
  const listeners = e.listeners.map(listenerText).join(', ');
  return `${e.kind} ${e.namespace}/${e.name} ${e.rule}  ${where}${e.pathType ? ` (${e.pathType})` : ''}  [${listeners || 'no listener'}]${servedText(b)}`;
}

function table(rows: string[][], indent: string): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0))) ?? [];
  return rows.map(
    (r) =>
      indent +
      r
        .map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c))
        .join('  ')
        .trimEnd(),
  );
}

function showValue(v: unknown): string {
  if (typeof v !== 'string') return JSON.stringify(v);
  // A PEM certificate in a field: its first line and its size, not a block in the table.
  const lines = v.trim().split('\n');
  return lines.length > 1 ? `${lines[0]}… (${lines.length} lines)` : v;
}

export function formatDiagnosticLine(d: Diagnostic): string {
  const first = d.sources.find((s) => s.file);
  const where = first ? `${location(first)}: ` : '';
  const others =
    d.sources.length > 1
      ? `  (${d.sources.map((s) => `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name} ${s.field}`).join('; ')})`
      : '';
  return `${where}${d.severity} ${d.reason}: ${d.message}${others}`;
}

/** The human form: one block per entry point and backend, then the diagnostics. */
export function renderExplainText(report: ExplainReport): string {
  const lines: string[] = [];
  let lastEntry = '';
  for (const b of report.backends) {
    const title = entryTitle(b);
    if (title !== lastEntry) {
      if (lines.length > 0) lines.push('');
      lines.push(title);
      lastEntry = title;
    }
    const status = b.accepted ? 'accepted' : 'REFUSED: the last good configuration stays in force';
    lines.push(`  → ${b.backend.namespace}/${b.backend.service}:${b.backend.port}  ${status}`);
    if (!b.policy) continue;
    const flat = flattenPolicy(b.policy, b.loadBalancing, b.route);
    const rows = Object.entries(flat).map(([field, value]) => {
      const sources = b.sources[field as PolicyField];
      const from =
        sources && sources.length > 0 ? sources.map(describe).join('; ') : 'default of tether';
      return [field, showValue(value), from];
    });
    lines.push(...table(rows, '    '));
  }
  if (report.backends.length === 0)
    lines.push(
      'No entry points found (Services of type LoadBalancer, Ingresses, HTTPRoutes, Routes).',
    );
  lines.push('');
  const counted = report.diagnostics.filter((d) => d.severity !== 'info');
  lines.push(
    counted.length === 0
      ? 'No problems found.'
      : `${counted.length} problem${counted.length === 1 ? '' : 's'}:`,
  );
  for (const d of report.diagnostics) lines.push(`  ${formatDiagnosticLine(d)}`);
  return `${lines.join('\n')}\n`;
}
