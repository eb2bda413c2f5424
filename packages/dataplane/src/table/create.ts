/** Accepting a table: checked whole or by its changes, then frozen in place and branded. */
import {
  acceptedHosts,
  acceptedSets,
  inspectWhole,
  isObject,
  type IdUse,
  type Inspection,
  type TableIndex,
} from './check';
import { inspectChanges, type HostChange } from './diff';
import {
  RouteTableError,
  type AcceptedRouteTable,
  type ListenerRoutes,
  type RouteTable,
  type TlsCertificate,
} from './types';

/** Tables made by {@link createRouteTable}: already checked and frozen. */
const validated = new WeakSet<object>();

function isAccepted(table: RouteTable | undefined): table is AcceptedRouteTable {
  return table !== undefined && validated.has(table);
}

/** How a table differs from the table it was checked against, and how much the check did. */
export interface TableDerivation {
  /** The table it was checked against; undefined when it was checked whole. */
  readonly previous: AcceptedRouteTable | undefined;
  /** The hosts replaced, added or removed since `previous` (empty when checked whole). */
  readonly changes: readonly HostChange[];
  /**
   * Host positions where the input held a new object equal to the accepted host there (same
   * name, wildcard mode, and routes with the same paths and set objects): the accepted host
   * was put back in its place.
   */
  readonly equalHosts: number;
  /** Host objects whose own fields, paths and sets were checked (those not accepted before). */
  readonly checkedHosts: number;
  /** Host objects entered into the indexes (every host when checked whole). */
  readonly indexedHosts: number;
}

const indexes = new WeakMap<RouteTable, TableIndex>();
const derivations = new WeakMap<RouteTable, TableDerivation>();

/**
 * The set ids of an accepted table, while it is the newest of its line: a table checked by
 * its changes takes the indexes over from the table before (copying them would cost as much
 * as building them), which from then on is checked whole if used as `previous` again.
 */
export function tableIds(table: RouteTable): ReadonlyMap<string, IdUse> | undefined {
  return indexes.get(table)?.ids;
}

/** How an accepted table was checked, and against which previous table. */
export function tableDerivation(table: RouteTable): TableDerivation | undefined {
  return derivations.get(table);
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || acceptedSets.has(value)) return;
  // Objects frozen by someone else may still hold unfrozen children: always descend.
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

/**
 * Freezes what a check found new: the sets not accepted before deeply, the hosts not accepted
 * before with their routes (without walking into the sets again: a route's own fields are
 * strings and its set), then the listeners, the certificates and the table itself. Hosts and
 * sets kept from an accepted table are frozen already.
 */
function freezeNew(table: RouteTable, run: Inspection, previous: RouteTable | undefined): void {
  for (const set of run.newSets) {
    deepFreeze(set);
    acceptedSets.add(set);
  }
  for (const host of run.newHosts) {
    for (const route of host.paths) Object.freeze(route);
    Object.freeze(host.paths);
    Object.freeze(host);
    acceptedHosts.add(host);
  }
  for (let li = 0; li < table.listeners.length; li++) {
    const listener = table.listeners[li] as ListenerRoutes;
    if (listener === previous?.listeners[li]) continue;
    Object.freeze(listener.hosts);
    Object.freeze(listener);
  }
  Object.freeze(table.listeners);
  if (Array.isArray(table.streams) && !Object.isFrozen(table.streams)) {
    for (const s of table.streams) Object.freeze(s);
    Object.freeze(table.streams);
  }
  const certificates: unknown = table.certificates;
  if (Array.isArray(certificates) && !Object.isFrozen(certificates)) {
    for (const c of certificates as unknown[]) {
      if (!isObject(c) || Object.isFrozen(c)) continue;
      const hosts: unknown = (c as TlsCertificate).hosts;
      if (Array.isArray(hosts)) Object.freeze(hosts);
      Object.freeze(c);
    }
    Object.freeze(certificates);
  }
  Object.freeze(table);
}

/**
 * Validates a candidate table and deep-freezes it IN PLACE: the caller hands the table over
 * and must not change it afterwards (build the next table from new objects where something
 * changed; unchanged listeners, hosts, routes and backend sets may and should be the same
 * objects, which makes the next swap cheap).
 *
 * With `previous` (an accepted table, normally the one in force), a table with as many
 * listeners is checked by its changes only: listeners and hosts that are the same objects as
 * in `previous` (hosts in the same order, with some replaced, added or removed) are neither
 * checked nor frozen again, a new host object equal to the accepted host at its place is
 * swapped for that host in the listener's list (which the caller has handed over), and the
 * host-name and set-id indexes are carried over and updated for the hosts that changed.
 * Otherwise, or when much changed, it is checked whole (hosts and sets accepted before still
 * skip their own checks); both ways accept and refuse the same tables.
 *
 * Throws {@link RouteTableError} listing every problem; nothing is frozen then, and the
 * caller keeps its last good table.
 */
export function createRouteTable(
  input: RouteTable,
  previous?: AcceptedRouteTable,
): AcceptedRouteTable {
  if (isAccepted(input)) return input;
  const before = isAccepted(previous) ? indexes.get(previous) : undefined;
  const incremental = previous && before ? inspectChanges(input, previous, before) : undefined;
  if (incremental && previous) {
    const { inspection, apply, changes, equal } = incremental;
    const index = apply();
    freezeNew(input, inspection, previous);
    indexes.delete(previous);
    indexes.set(input, index);
    // The table before has been compiled: what it derived from is no longer needed. Kept, it
    // would hold every earlier table alive, one link per swap.
    derivations.delete(previous);
    derivations.set(input, {
      previous,
      changes,
      equalHosts: equal,
      checkedHosts: inspection.newHosts.size,
      indexedHosts: changes.length,
    });
  } else {
    const { inspection, index } = inspectWhole(input);
    if (inspection.problems.length > 0) throw new RouteTableError(inspection.problems);
    freezeNew(input, inspection, undefined);
    indexes.set(input, index);
    let hosts = 0;
    for (const listener of input.listeners) hosts += listener.hosts.length;
    derivations.set(input, {
      previous: undefined,
      changes: [],
      equalHosts: 0,
      checkedHosts: inspection.newHosts.size,
      indexedHosts: hosts,
    });
  }
  validated.add(input);
  return input as AcceptedRouteTable;
}

/** An empty table: every request gets 404. */
export function emptyRouteTable(version = 'empty'): AcceptedRouteTable {
  return createRouteTable({ version, listeners: [] });
}
