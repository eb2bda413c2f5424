import { warning, type Diagnostic, type EntryRef } from '@tether/model';
import type {
  BackendSet,
  HostRoutes,
  ListenerRoutes,
  PathKind,
  RouteTable,
} from '@tether/dataplane';
import type { ParseCache } from './parse-cache';

/**
 * The route table from backend-set candidates: placed by listener, host and path, the oldest
 * object winning a contested path, ingress-nginx canaries folded into their primary; and the
 * patch of a few backend sets into a table built before.
 */

function pathKind(entry: EntryRef, regex: boolean): PathKind {
  if (regex || entry.pathType === 'RegularExpression') return 'RegularExpression';
  return entry.pathType === 'Exact' ? 'Exact' : 'Prefix';
}

/** Where a candidate goes in the table: worked out once, with the candidate. */
export interface Place {
  protocol: 'HTTP' | 'HTTPS';
  port: number | undefined;
  listenerKey: string;
  host: string;
  path: string;
  kind: PathKind;
  /** Listener, host, path type and path: two candidates with one key contest one route. */
  routeKey: string;
}

export interface Candidate {
  id: string;
  entry: EntryRef;
  set: BackendSet;
  created: string;
  canary: boolean;
  places: Place[];
}

export function placesOf(entry: EntryRef, regex: boolean): Place[] {
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
    const listenerKey = [protocol, port ?? ''].join(':');
    places.push({
      protocol,
      port,
      listenerKey,
      host,
      path,
      kind,
      routeKey: [listenerKey, host, kind, path].join(' '),
    });
  }
  // Kept with the candidate: at its exact length (see kept.ts).
  return places.slice();
}

/** Where a route was placed in the table, and which candidate holds it. */
export interface RouteAt {
  listener: number;
  host: number;
  path: number;
  holder: string;
}

/** What the table was built from, so that a later reconcile can patch it. */
export interface TableLayout {
  routes: Map<string, RouteAt>;
  canaries: number;
  /** DuplicateRoute and CanaryWithoutPrimary warnings. */
  diagnostics: Diagnostic[];
}

/** The table with the backend sets at `patches` replaced; everything else is shared. */
export function patchTable(
  table: RouteTable,
  generation: number,
  patches: readonly { at: RouteAt; set: BackendSet }[],
): RouteTable {
  const listeners = table.listeners.slice();
  const copied = new Set<object>();
  for (const { at, set } of patches) {
    let listener = listeners[at.listener]!;
    if (!copied.has(listener)) {
      listener = { ...listener, hosts: listener.hosts.slice() };
      listeners[at.listener] = listener;
      copied.add(listener);
    }
    let host = listener.hosts[at.host]!;
    if (!copied.has(host)) {
      host = { ...host, paths: host.paths.slice() };
      listener.hosts[at.host] = host;
      copied.add(host);
    }
    const path = host.paths[at.path]!;
    host.paths[at.path] = { ...path, backendSet: set };
  }
  return { ...table, version: String(generation), listeners };
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
export function buildTable(
  generation: number,
  candidates: Candidate[],
  layout: TableLayout,
  cache: ParseCache,
): RouteTable {
  const diagnostics = layout.diagnostics;
  // Code-unit order, not localeCompare: the same on every machine, and several times faster.
  const before = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const ordered = cache.sorted(
    'candidates',
    candidates,
    (a, b) => before(a.created, b.created) || before(a.id, b.id),
  );
  const listeners = new Map<
    string,
    {
      index: number;
      routes: ListenerRoutes;
      hosts: Map<string, { index: number; routes: HostRoutes }>;
    }
  >();
  const placed = new Map<string, Candidate>();
  const place = (c: Candidate, set: BackendSet, at: Place) => {
    let listener = listeners.get(at.listenerKey);
    if (!listener) {
      const routes: ListenerRoutes =
        at.port === undefined
          ? { protocol: at.protocol, hosts: [] }
          : { protocol: at.protocol, port: at.port, hosts: [] };
      listener = { index: listeners.size, routes, hosts: new Map() };
      listeners.set(at.listenerKey, listener);
    }
    let host = listener.hosts.get(at.host);
    if (!host) {
      host = {
        index: listener.routes.hosts.length,
        routes: {
          host: at.host,
          wildcardLabels: c.entry.kind === 'HTTPRoute' ? 'many' : 'one',
          paths: [],
        },
      };
      listener.hosts.set(at.host, host);
      listener.routes.hosts.push(host.routes);
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
    layout.routes.set(at.routeKey, {
      listener: listener.index,
      host: host.index,
      path: host.routes.paths.length,
      holder: c.id,
    });
    host.routes.paths.push({ path: at.path, pathType: at.kind, backendSet: set });
  };
  const primaries = ordered.filter((c) => !c.canary);
  const canaries = ordered.filter((c) => c.canary);
  layout.canaries = canaries.length;
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
  // Kept until the next full build: each host's paths at their exact length (see kept.ts).
  for (const l of listeners.values()) for (const h of l.routes.hosts) h.paths = h.paths.slice();
  return { version: String(generation), listeners: [...listeners.values()].map((l) => l.routes) };
}
