/**
 * A map with the same keys, in the same order, as `base`, and other values for a few of
 * them: an update of a few entry points does not copy every last good policy.
 */
export class Overridden<K, V> implements ReadonlyMap<K, V> {
  constructor(
    readonly base: ReadonlyMap<K, V>,
    readonly changes: ReadonlyMap<K, V>,
  ) {}

  get size(): number {
    return this.base.size;
  }

  get(key: K): V | undefined {
    return this.changes.has(key) ? this.changes.get(key) : this.base.get(key);
  }

  has(key: K): boolean {
    return this.base.has(key);
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.base) {
      const changed = this.changes.get(key);
      yield [key, changed !== undefined || this.changes.has(key) ? (changed as V) : value];
    }
  }

  keys(): MapIterator<K> {
    return this.base.keys();
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

/** `map` with other values for some of its keys (every key of `changes` is one of `map`'s). */
export function overridden<K, V>(
  map: ReadonlyMap<K, V>,
  changes: ReadonlyMap<K, V>,
): ReadonlyMap<K, V> {
  if (!(map instanceof Overridden)) return new Overridden(map, changes);
  const merged = new Map<K, V>(map.changes as ReadonlyMap<K, V>);
  for (const [key, value] of changes) merged.set(key, value);
  const out = new Overridden(map.base as ReadonlyMap<K, V>, merged);
  return merged.size > MAX_OVERRIDES ? new Map(out) : out;
}
