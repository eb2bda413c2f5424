/** Marks a key of the base map as removed. */
const GONE: unique symbol = Symbol('gone');

/**
 * `base` with a few keys set to other values, added or removed: an update of a few entry
 * points does not copy every last good policy (a copy of 10,000 entries per change). Keys
 * keep the base's order; added ones come after.
 */
export class Overridden<K, V> implements ReadonlyMap<K, V> {
  readonly size: number;

  constructor(
    readonly base: ReadonlyMap<K, V>,
    readonly changes: ReadonlyMap<K, V | typeof GONE>,
  ) {
    let size = base.size;
    changes.forEach((value, key) => {
      if (value === GONE) size -= base.has(key) ? 1 : 0;
      else size += base.has(key) ? 0 : 1;
    });
    this.size = size;
  }

  get(key: K): V | undefined {
    if (!this.changes.has(key)) return this.base.get(key);
    const value = this.changes.get(key);
    return value === GONE ? undefined : value;
  }

  has(key: K): boolean {
    return this.changes.has(key) ? this.changes.get(key) !== GONE : this.base.has(key);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.base) {
      if (!this.changes.has(key)) yield [key, value];
      else {
        const changed = this.changes.get(key);
        if (changed !== GONE) yield [key, changed as V];
      }
    }
    for (const [key, value] of this.changes)
      if (value !== GONE && !this.base.has(key)) yield [key, value];
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }
}

/** Past this many changed values, an Overridden map is flattened into a plain one. */
const MAX_OVERRIDES = 1024;

/**
 * `map` with the values of `changes` set (new keys added) and the keys of `removed` taken
 * out, sharing `map`'s entries.
 */
export function overridden<K, V>(
  map: ReadonlyMap<K, V>,
  changes: ReadonlyMap<K, V>,
  removed: Iterable<K> = [],
): ReadonlyMap<K, V> {
  const base = map instanceof Overridden ? (map.base as ReadonlyMap<K, V>) : map;
  const merged = new Map<K, V | typeof GONE>(
    map instanceof Overridden ? (map.changes as ReadonlyMap<K, V | typeof GONE>) : [],
  );
  for (const key of removed) merged.set(key, GONE);
  for (const [key, value] of changes) merged.set(key, value);
  const out = new Overridden(base, merged);
  return merged.size > MAX_OVERRIDES ? new Map(out) : out;
}
