/**
 * Helpers for what reconcile keeps between runs. With tens of thousands of objects, small
 * per-object overheads add up to tens of MiB:
 *
 * - an array grown by `push` keeps spare room (17 slots for one item, about 130 bytes), so a
 *   list that is kept is copied to its exact length once it is complete;
 * - most objects have nothing in most lists, and one frozen empty list serves them all;
 * - a key built with `+` or a template literal is a chain of pieces (about 32 bytes per
 *   piece) until something flattens it; `join` builds it in one piece.
 */

/** The one empty list shared by everything kept. */
export const NONE: readonly never[] = Object.freeze([]);

/** `list` to keep: the shared empty list, or a copy of exactly its length. */
export function kept<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? NONE : list.slice();
}

/** The parts joined by `/` into one flat string (`Kind/namespace/name`, `namespace/name`). */
export function pathKey(...parts: readonly string[]): string {
  return parts.join('/');
}

/** Code-unit order, not localeCompare: the same on every machine, and several times faster. */
export function codeUnitOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
