import {
  DIALECTS,
  entriesOf,
  parseContext,
  type KubeObject,
  type ParsedObject,
} from '@tether/dialects';
import {
  Diagnostic,
  EntryRef,
  Fragment,
  ResolvedEntry,
  dedupeDiagnostics,
  entryKey,
  refuseEntriesWithErrors,
  resolve,
  warning,
} from '@tether/model';
import type {
  BackendSet,
  ListenerRoutes,
  PathKind,
  RouteTable,
  WeightedBackend,
} from '@tether/dataplane';
import { EndpointIndex } from './endpoints';
import { ParseCache } from './parse-cache';
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

function pathKind(entry: EntryRef, regex: boolean): PathKind {
  if (regex || entry.pathType === 'RegularExpression') return 'RegularExpression';
  return entry.pathType === 'Exact' ? 'Exact' : 'Prefix';
}

/** Weight of each backend of a split entry point, from the object that defines it. */
function weightsOf(objects: readonly KubeObject[]): Map<string, number> {
  const weights = new Map<string, number>();
  for (const o of objects) {
    for (const item of entriesOf(o).spec ?? []) {
      if (item.weight !== undefined)
        weights.set(`${entryKey(item.entry)}→${item.backend.service}`, item.weight);
    }
  }
  return weights;
}

interface Candidate {
  id: string;
  entry: EntryRef;
  set: BackendSet;
  created: string;
  canary: boolean;
}

function parseAll(
  objects: readonly KubeObject[],
  cache: ParseCache,
): { fragments: Fragment[]; diagnostics: Diagnostic[] } {
  const context = parseContext(objects);
  const fragments: Fragment[] = [];
  const diagnostics: Diagnostic[] = [];
  const parsed: ParsedObject[] = [];
  for (const o of objects) {
    const result = cache.parse(o, context);
    fragments.push(...result.fragments);
    diagnostics.push(...result.diagnostics);
    parsed.push(...result.parsed);
  }
  cache.retain(new Set(objects.map(objectKey)));
  for (const dialect of DIALECTS) {
    if (dialect.crossCheck)
      diagnostics.push(...dialect.crossCheck(parsed.filter((p) => p.dialect === dialect.id)));
  }
  return { fragments, diagnostics };
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
  const parsed = parseAll(objects, cache);
  const resolved = resolve(parsed.fragments);
  const diagnostics = [...parsed.diagnostics, ...resolved.diagnostics];
  const endpoints = new EndpointIndex(objects);
  const weights = weightsOf(objects);
  const created = new Map(objects.map((o) => [objectKey(o), o.metadata.creationTimestamp ?? '']));
  const lastGood = new Map<string, GoodPolicy>();

  // One backend set per entry point; its backends are the entry's (weighted) Service ports.
  const sets = new Map<string, Candidate>();
  for (const e of refuseEntriesWithErrors(resolved.entries, parsed.diagnostics)) {
    const id = entryKey(e.entry);
    const good: GoodPolicy | undefined =
      e.accepted && e.policy && e.loadBalancing
        ? { policy: e.policy, loadBalancing: e.loadBalancing, route: e.route }
        : previous?.lastGood.get(id);
    if (!good) continue;
    const eps = endpoints.endpoints(e.backend);
    if (eps === undefined) {
      diagnostics.push(
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
    const weight = weights.get(`${id}→${e.backend.service}`);
    if (weight !== undefined) backend.weight = weight;
    const existing = sets.get(id);
    if (existing) {
      existing.set.backends.push(backend);
      continue;
    }
    lastGood.set(id, good);
    sets.set(id, {
      id,
      entry: e.entry,
      created: created.get(`${e.entry.kind}/${e.entry.namespace}/${e.entry.name}`) ?? '',
      canary: good.route.canary !== undefined,
      set: { id, ...good, backends: [backend] },
    });
  }
  const table = buildTable(snapshot.generation, [...sets.values()], diagnostics);
  return {
    table,
    entries: refuseEntriesWithErrors(resolved.entries, parsed.diagnostics),
    diagnostics: dedupeDiagnostics(diagnostics),
    served: objects
      .filter((o) => ['Ingress', 'HTTPRoute', 'Route', 'Service'].includes(o.kind))
      .map(objectKey),
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

/** Places backend sets by listener, host and path; the oldest object wins a contested path. */
function buildTable(
  generation: number,
  candidates: Candidate[],
  diagnostics: Diagnostic[],
): RouteTable {
  const ordered = [...candidates].sort((a, b) =>
    a.created === b.created ? a.id.localeCompare(b.id) : a.created.localeCompare(b.created),
  );
  const listeners = new Map<string, ListenerRoutes>();
  const placed = new Map<string, Candidate>();
  const place = (c: Candidate, protocol: 'HTTP' | 'HTTPS', port: number | undefined) => {
    const listenerKey = `${protocol}:${port ?? ''}`;
    let listener = listeners.get(listenerKey);
    if (!listener) {
      listener = port === undefined ? { protocol, hosts: [] } : { protocol, port, hosts: [] };
      listeners.set(listenerKey, listener);
    }
    const hostName = c.entry.host ?? '*';
    let host = listener.hosts.find((h) => h.host === hostName);
    if (!host) {
      host = {
        host: hostName,
        wildcardLabels: c.entry.kind === 'HTTPRoute' ? 'many' : 'one',
        paths: [],
      };
      listener.hosts.push(host);
    }
    const path = c.entry.path ?? '/';
    const kind = pathKind(c.entry, c.set.route.pathRegex === true);
    const routeKey = `${listenerKey} ${hostName} ${kind} ${path}`;
    const holder = placed.get(routeKey);
    if (holder) {
      if (holder.id !== c.id)
        diagnostics.push(
          warning(
            'DuplicateRoute',
            `${c.id} and ${holder.id} both serve ${hostName}${path}; ${holder.id} is older and is served`,
            source(c, c.entry.rule),
            source(holder, holder.entry.rule),
          ),
        );
      return;
    }
    placed.set(routeKey, c);
    host.paths.push({ path, pathType: kind, backendSet: c.set });
  };
  const primaries = ordered.filter((c) => !c.canary);
  for (const c of primaries) {
    // A Service's own listener is served on its port; an Ingress, HTTPRoute or Route on the proxy's listeners.
    const servicePort = c.entry.kind === 'Service';
    for (const l of c.entry.listeners) {
      if (l.protocol === 'HTTP' || l.protocol === 'HTTP2' || l.protocol === 'GRPC')
        place(c, 'HTTP', servicePort ? l.port : undefined);
      else if (l.protocol === 'HTTPS') place(c, 'HTTPS', servicePort ? l.port : undefined);
    }
  }
  for (const canary of ordered.filter((c) => c.canary)) {
    const primary = primaries.find(
      (p) => p.entry.host === canary.entry.host && p.entry.path === canary.entry.path,
    );
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
    for (const b of canary.set.backends)
      primary.set.backends.push({ ...b, canary: canary.set.route.canary ?? {} });
  }
  return { version: String(generation), listeners: [...listeners.values()] };
}
