/**
 * Checking a table by its changes: the hosts of the listeners that are new objects, lined up
 * with those of the accepted table they replace.
 */
import { checkStreams, Inspection, isObject, type TableIndex } from './check';
import type { HostRoutes, ListenerRoutes, PathRoute, RouteTable } from './types';

/**
 * A host of one listener that changed since the table checked against: replaced (both
 * objects; usually under the same name), removed (`after` undefined) or added (`before`
 * undefined).
 */
export interface HostChange {
  readonly listener: number;
  readonly before: HostRoutes | undefined;
  readonly after: HostRoutes | undefined;
}

/**
 * Host positions that may go unmatched in a table checked by its changes (hosts added, removed
 * or moved, beyond those replaced at their place) before it is checked whole instead.
 */
const UNMATCHED_MAX = 512;

/**
 * Whether a new host object says exactly what an accepted one says: then it passes every
 * check the accepted one passed, and the indexes and matchers built for that one serve it.
 */
function sameHost(h: HostRoutes, was: HostRoutes): boolean {
  if (h.host !== was.host || h.wildcardLabels !== was.wildcardLabels) return false;
  const paths = h.paths;
  const wasPaths = was.paths;
  if (!Array.isArray(paths) || paths.length !== wasPaths.length) return false;
  for (let pi = 0; pi < paths.length; pi++) {
    const p = paths[pi];
    const q = wasPaths[pi] as PathRoute;
    if (!isObject(p) || p.backendSet !== q.backendSet) return false;
    if (p.path !== q.path || p.pathType !== q.pathType) return false;
  }
  return true;
}

/** What one pass over the changed listeners found: host changes, equal hosts, unmatched hosts. */
class ListenerDiff {
  readonly changes: HostChange[] = [];
  /**
   * Accepted hosts to put back in place of equal new objects (see {@link sameHost}), and
   * where: listener and position, two numbers per host. A full build of the table makes
   * every host anew; putting the accepted ones back spares freezing them all again, and the
   * next table that shares them is checked by identity.
   */
  readonly equal: HostRoutes[] = [];
  readonly equalAt: number[] = [];
  unmatched = 0;
  constructor(readonly own: Inspection) {}

  /**
   * Lines the hosts of a changed listener up with those of the listener it replaces, in
   * order: the same object, or an equal one, is kept; a host under the name of the host at
   * its place replaces it; others are added, and the hosts they pass over removed, paired by
   * name where they meet. False when the change is too large or the order changed (a kept
   * host is found behind the place reached), when an equal host cannot be put back (`fixed`:
   * the list is frozen or shared), or a host cannot be checked on its own: the table is then
   * checked whole.
   */
  walk(
    li: number,
    hosts: readonly HostRoutes[],
    fixed: boolean,
    old: readonly HostRoutes[],
    names: Map<string, HostRoutes>,
  ): boolean {
    const added: HostRoutes[] = [];
    const removed: HostRoutes[] = [];
    let oi = 0;
    for (let hi = 0; hi < hosts.length;) {
      const h = hosts[hi] as HostRoutes;
      const was = old[oi];
      if (h === was) {
        oi++;
        hi++;
        continue;
      }
      if (!isObject(h) || typeof h.host !== 'string') return false;
      if (was !== undefined && sameHost(h, was)) {
        if (fixed) return false;
        this.equal.push(was);
        this.equalAt.push(li, hi);
        oi++;
        hi++;
        continue;
      }
      const known = names.get(h.host.toLowerCase());
      if (known !== undefined && (known === h || sameHost(h, known))) {
        // A host kept further on: those before it in the old listener are gone.
        while (oi < old.length && old[oi] !== known) {
          removed.push(old[oi] as HostRoutes);
          oi++;
          if (++this.unmatched > UNMATCHED_MAX) return false;
        }
        if (oi === old.length) return false; // found behind: moved, or listed twice
        continue;
      }
      if (this.own.host(h, li, hi) === undefined) return false;
      if (known !== undefined && known === was) {
        this.changes.push({ listener: li, before: was, after: h });
        oi++;
      } else {
        added.push(h);
        if (++this.unmatched > UNMATCHED_MAX) return false;
      }
      hi++;
    }
    for (; oi < old.length; oi++) {
      removed.push(old[oi] as HostRoutes);
      if (++this.unmatched > UNMATCHED_MAX) return false;
    }
    // An added host under the name of a removed one replaces it.
    const gone = new Map<string, HostRoutes>();
    for (const h of removed) gone.set(h.host.toLowerCase(), h);
    for (const host of added) {
      const name = host.host.toLowerCase();
      const before = gone.get(name);
      if (before !== undefined) gone.delete(name);
      this.changes.push({ listener: li, before, after: host });
    }
    for (const before of gone.values())
      this.changes.push({ listener: li, before, after: undefined });
    return true;
  }
}

/**
 * Checks a table against the accepted table it replaces, looking only at what changed: the
 * listeners that are new objects, and in them the hosts that are neither the same object nor
 * an equal one as before (see {@link ListenerDiff.walk}). Undefined when the listeners differ
 * in number, when the change is large, or when a problem was found: the caller then checks
 * the table whole, which also spells out every problem where it is.
 */
export function inspectChanges(
  input: RouteTable,
  previous: RouteTable,
  before: TableIndex,
):
  | { inspection: Inspection; apply: () => TableIndex; changes: HostChange[]; equal: number }
  | undefined {
  if (!isObject(input) || typeof input.version !== 'string' || !Array.isArray(input.listeners))
    return undefined;
  if (input.listeners.length !== previous.listeners.length) return undefined;
  const own = new Inspection();
  const diff = new ListenerDiff(own);
  for (let li = 0; li < input.listeners.length; li++) {
    const listener = input.listeners[li] as ListenerRoutes;
    const old = previous.listeners[li] as ListenerRoutes;
    if (listener === old) continue;
    if (!own.listener(listener, `listeners[${li}]`)) return undefined;
    const names = before.names[li];
    const hosts = listener.hosts;
    const fixed =
      Object.isFrozen(hosts) || input.listeners.some((l, i) => i !== li && l?.hosts === hosts);
    if (names === undefined || !diff.walk(li, hosts, fixed, old.hosts, names)) return undefined;
  }
  if (input.streams !== previous.streams) checkStreams(input, own);
  if (own.problems.length > 0) return undefined;
  const changes = diff.changes;
  // Names: per listener, the hosts that left give their names up before the new ones claim
  // theirs (two hosts may swap names). Worked out beside the index, which changes only once
  // the table is accepted.
  const freed = new Map<number, Set<string>>();
  const claimed = new Map<number, Map<string, HostRoutes>>();
  for (const c of changes) {
    if (c.before === undefined) continue;
    const name = c.before.host.toLowerCase();
    if (before.names[c.listener]?.get(name) !== c.before) continue;
    let set = freed.get(c.listener);
    if (!set) freed.set(c.listener, (set = new Set()));
    set.add(name);
  }
  for (const c of changes) {
    if (c.after === undefined) continue;
    const name = c.after.host.toLowerCase();
    let mine = claimed.get(c.listener);
    if (!mine) claimed.set(c.listener, (mine = new Map()));
    const taken = before.names[c.listener]?.has(name) && !freed.get(c.listener)?.has(name);
    if (taken || mine.has(name)) return undefined;
    mine.set(name, c.after);
  }
  // Set ids: every route that left first (a set moves between listeners too), then those that joined.
  const run = new Inspection(before.ids);
  for (const c of changes) if (c.before) run.removeIds(c.before);
  for (const c of changes) if (c.after) run.addIds(c.after, c.listener, 0); // a problem here means: check whole
  if (run.problems.length > 0) return undefined;
  /** Called once the table is accepted, before it is frozen. */
  const apply = (): TableIndex => {
    const { equal, equalAt } = diff;
    for (let i = 0; i < equal.length; i++) {
      const hosts = input.listeners[equalAt[2 * i] as number]?.hosts as HostRoutes[];
      hosts[equalAt[2 * i + 1] as number] = equal[i] as HostRoutes;
    }
    for (const [li, set] of freed) for (const name of set) before.names[li]?.delete(name);
    for (const [li, mine] of claimed) for (const [name, h] of mine) before.names[li]?.set(name, h);
    for (const [id, use] of run.ids) {
      if (use.refs === 0) before.ids.delete(id);
      else before.ids.set(id, use);
    }
    return before;
  };
  return { inspection: own, apply, changes, equal: diff.equal.length };
}
