import { warning, type Diagnostic, type EntryRef } from '@tether/model';
import type {
  BackendSet,
  HostRoutes,
  ListenerRoutes,
  PathKind,
  PathRoute,
  RouteTable,
} from '@tether/dataplane';
import { codeUnitOrder } from './kept';
import { recordShared, shadowedRoutes, type SharedPlace } from './shadowed-routes';
import type { ParseCache } from './parse-cache';

/**
 * The route table from backend-set candidates: placed by listener, host and path, the oldest
 * object winning a contested path, ingress-nginx canaries folded into their primary; and the
 * patch of a few backend sets into a table built before.
 */

function pathKind(pathType: EntryRef['pathType'], regex: boolean): PathKind {
  if (regex || pathType === 'RegularExpression') return 'RegularExpression';
  return pathType === 'Exact' ? 'Exact' : 'Prefix';
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
  /** The listener speaks HTTP/2 to clients (a Service's gRPC port). */
  http2: boolean;
  /** A Gateway listener's hostname: its routes are isolated from less specific listeners'. */
  hostname: string | undefined;
}

export interface Candidate {
  id: string;
  entry: EntryRef;
  set: BackendSet;
  created: string;
  canary: boolean;
  places: Place[];
}

/**
 * Where an entry point is served: per listener, on its host and on each alias host
 * (ingress-nginx server-alias, comma-separated in `aliases`), on its path and on each of
 * `morePaths` (a Gateway API rule's other matches).
 */
export function placesOf(entry: EntryRef, regex: boolean, aliases?: string): Place[] {
  // A Service's own listener is served on its port; an Ingress, HTTPRoute or Route on the proxy's listeners.
  const servicePort = entry.kind === 'Service';
  const ownHosts = [entry.host ?? '*', ...(aliases ? aliases.split(',') : [])];
  const paths = [
    { path: entry.path ?? '/', kind: pathKind(entry.pathType, regex) },
    ...(entry.morePaths ?? []).map((p) => ({ path: p.path, kind: pathKind(p.pathType, regex) })),
  ];
  const places: Place[] = [];
  for (const l of entry.listeners) {
    const protocol =
      l.protocol === 'HTTP' || l.protocol === 'HTTP2' || l.protocol === 'GRPC'
        ? 'HTTP'
        : l.protocol === 'HTTPS'
          ? 'HTTPS'
          : undefined;
    if (!protocol) continue;
    const port = servicePort || onOwnPort(l) === false ? l.port : undefined;
    // Every Gateway listener is isolated; `*` stands for one without a hostname.
    const hostname = l.gateway === undefined ? undefined : (l.hostname ?? '*');
    const listenerKey = listenerKeyOf(protocol, port, hostname);
    const hosts = l.hosts ?? ownHosts;
    for (const host of hosts)
      for (const { path, kind } of paths)
        places.push({
          protocol,
          port,
          listenerKey,
          host,
          path,
          kind,
          routeKey: [listenerKey, host, kind, path].join(' '),
          http2: servicePort && l.http2 === true,
          hostname,
        });
  }
  // Kept with the candidate: at its exact length (see kept.ts).
  return places.slice();
}

/** A table listener's identity: protocol, port (none: the proxy's own) and Gateway hostname. */
function listenerKeyOf(protocol: string, port: number | undefined, hostname: string | undefined) {
  return [protocol, port ?? '', hostname ?? ''].join(':');
}

/**
 * Whether a Gateway listener is one of the proxy's own: HTTP on 80 and HTTPS on 443 stand for
 * them, as an Ingress's ports do; any other port is opened as it is written. Undefined for a
 * listener that is not a Gateway's.
 */
function onOwnPort(l: EntryRef['listeners'][number]): boolean | undefined {
  if (l.gateway === undefined) return undefined;
  return (l.protocol === 'HTTP' && l.port === 80) || (l.protocol === 'HTTPS' && l.port === 443);
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
  /**
   * Creation time and id of the last candidate in table order, or later: a candidate that
   * sorts after it goes at the end of its host or listener, where a full build puts it too.
   */
  newest?: { created: string; id: string };
  /** DuplicateRoute and CanaryWithoutPrimary warnings. */
  diagnostics: Diagnostic[];
  /** The routes placed on the proxy's own listeners, by protocol and host (`sharedKeyOf`). */
  shared: Map<string, SharedPlace<Candidate>[]>;
}

/**
 * Edits of a table built before, copying only the listeners and hosts they touch: everything
 * else is shared with the old table (the proxy then checks only what changed).
 */
export class TableEditor {
  private readonly listeners: ListenerRoutes[];
  private readonly copied = new Set<object>();

  constructor(private readonly table: RouteTable) {
    this.listeners = table.listeners.slice();
  }

  /** Index of the listener `listenerKey` (see placesOf), or -1. */
  listenerIndex(listenerKey: string): number {
    return this.listeners.findIndex(
      (l) => listenerKeyOf(l.protocol, l.port, l.hostname) === listenerKey,
    );
  }

  /** Index of `host` on listener `listener`, or -1. */
  hostIndex(listener: number, host: string): number {
    return this.listeners[listener]?.hosts.findIndex((h) => h.host === host) ?? -1;
  }

  hostCount(listener: number): number {
    return this.listeners[listener]?.hosts.length ?? 0;
  }

  pathCount(listener: number, host: number): number {
    return this.listeners[listener]?.hosts[host]?.paths.length ?? 0;
  }

  /** Replaces the backend set of the route at `at`. */
  setBackendSet(at: RouteAt, set: BackendSet): void {
    const host = this.writableHost(at.listener, at.host);
    const path = host.paths[at.path];
    if (path) host.paths[at.path] = { ...path, backendSet: set };
  }

  /** Adds a route at the end of an existing host. */
  appendPath(listener: number, host: number, route: PathRoute): void {
    this.writableHost(listener, host).paths.push(route);
  }

  /** Adds a host at the end of a listener. */
  appendHost(listener: number, host: HostRoutes): void {
    this.writableListener(listener).hosts.push(host);
  }

  removePath(listener: number, host: number, path: number): void {
    this.writableHost(listener, host).paths.splice(path, 1);
  }

  removeHost(listener: number, host: number): void {
    this.writableListener(listener).hosts.splice(host, 1);
  }

  done(generation: number): RouteTable {
    return { ...this.table, version: String(generation), listeners: this.listeners };
  }

  private writableListener(index: number): ListenerRoutes {
    let listener = this.listeners[index]!;
    if (!this.copied.has(listener)) {
      listener = { ...listener, hosts: listener.hosts.slice() };
      this.listeners[index] = listener;
      this.copied.add(listener);
    }
    return listener;
  }

  private writableHost(listenerIndex: number, index: number): HostRoutes {
    const listener = this.writableListener(listenerIndex);
    let host = listener.hosts[index]!;
    if (!this.copied.has(host)) {
      host = { ...host, paths: host.paths.slice() };
      listener.hosts[index] = host;
      this.copied.add(host);
    }
    return host;
  }
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

/**
 * A route of no Gateway that a Gateway route on the proxy's own listener takes every request
 * of: not a contest the older wins, as the listener matcher tries the Gateway listener's
 * routes first whatever the age. Both are told which is served.
 */
function reportShadowed(layout: TableLayout, listeners: Iterable<{ routes: ListenerRoutes }>) {
  const hostnames = new Map<string, Set<string>>();
  for (const { routes } of listeners) {
    if (routes.port !== undefined || routes.hostname === undefined) continue;
    const names = hostnames.get(routes.protocol) ?? new Set<string>();
    names.add(routes.hostname);
    hostnames.set(routes.protocol, names);
  }
  if (hostnames.size === 0) return;
  for (const { shadowed, served } of shadowedRoutes(layout.shared, hostnames)) {
    const [s, g] = [shadowed.candidate, served.candidate];
    const at = shadowed.place;
    layout.diagnostics.push(
      warning(
        'DuplicateRoute',
        `${s.id} and ${g.id} both serve ${at.host}${at.path} on the proxy's ${at.protocol} listener; ${g.id} is a Gateway listener's route of ${served.place.path}, matched first, and is served`,
        source(s, s.entry.rule),
        source(g, g.entry.rule),
      ),
    );
  }
}

/** Host and path as written (absent ≠ empty), as a map key. */
function hostAndPath(entry: EntryRef): string {
  return JSON.stringify([entry.host ?? null, entry.path ?? null]);
}

/**
 * The order candidates are placed in, as ingress-nginx takes Ingresses: oldest first, then
 * by id. The first to claim a route holds it; hosts and paths go in the order first claimed.
 */
export function tableOrder(
  a: Pick<Candidate, 'created' | 'id'>,
  b: Pick<Candidate, 'created' | 'id'>,
): number {
  return codeUnitOrder(a.created, b.created) || codeUnitOrder(a.id, b.id);
}

/** Places backend sets by listener, host and path; the oldest object wins a contested path. */
export function buildTable(
  generation: number,
  candidates: Candidate[],
  layout: TableLayout,
  cache: ParseCache,
): RouteTable {
  const diagnostics = layout.diagnostics;
  const ordered = cache.sorted('candidates', candidates, tableOrder);
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
      if (at.hostname !== undefined) routes.hostname = at.hostname;
      listener = { index: listeners.size, routes, hosts: new Map() };
      listeners.set(at.listenerKey, listener);
    }
    if (at.http2) listener.routes.http2 = true;
    let host = listener.hosts.get(at.host);
    if (!host) {
      host = {
        index: listener.routes.hosts.length,
        routes: {
          host: at.host,
          wildcardLabels:
            c.entry.kind === 'HTTPRoute' || c.entry.kind === 'GRPCRoute' ? 'many' : 'one',
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
    recordShared(layout.shared, c, at);
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
      // ingress-nginx reads affinity-canary-behavior from the canary Ingress: `legacy` there
      // keeps the primary's affinity off the canary (controller.go, mergeAlternativeBackend).
      const policy =
        canary.set.policy.canaryBehavior === 'legacy' && set.policy.canaryBehavior !== 'legacy'
          ? { ...set.policy, canaryBehavior: 'legacy' as const }
          : set.policy;
      withCanaries.set(primary, { ...set, policy, backends: [...set.backends, ...folded] });
    }
  }
  for (const c of primaries) {
    const set = withCanaries.get(c) ?? c.set;
    for (const at of c.places) place(c, set, at);
  }
  reportShadowed(layout, listeners.values());
  const last = ordered.at(-1);
  layout.newest = last && { created: last.created, id: last.id };
  // Kept until the next full build: each host's paths at their exact length (see kept.ts).
  for (const l of listeners.values()) for (const h of l.routes.hosts) h.paths = h.paths.slice();
  return { version: String(generation), listeners: [...listeners.values()].map((l) => l.routes) };
}
