/** JSON values as they travel over the wire. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** The metadata fields the stand-in reads or maintains; everything else passes through. */
export interface ObjectMeta extends JsonObject {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
}

/**
 * An object as stored. Stored objects are never mutated after they enter the store: every
 * write stores a fresh copy, so history entries and list snapshots can share references.
 */
export interface StoredObject extends JsonObject {
  metadata: ObjectMeta;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a nested value by path without throwing on the way. */
export function dig(value: Json | undefined, path: readonly string[]): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A string field, or '' when absent or of another type. */
export function stringAt(value: Json | undefined, path: readonly string[]): string {
  const found = dig(value, path);
  return typeof found === 'string' ? found : '';
}

export function clone<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Structural equality of two JSON values (key order ignored). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => jsonEqual(item, b[index]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keysA = Object.keys(a).filter((key) => a[key] !== undefined);
    const keysB = Object.keys(b).filter((key) => b[key] !== undefined);
    if (keysA.length !== keysB.length) return false;
    return keysA.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
  }
  return false;
}

/** Removes a key chosen at run time (a JSON map's key, not a property of a fixed shape). */
export function removeKey(object: JsonObject, key: string): void {
  Reflect.deleteProperty(object, key);
}
