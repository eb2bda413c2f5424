import type { KubeObject } from '../../types';

/** An annotation's value when it is a string; anything else counts as absent. */
export function annotation(object: KubeObject, key: string): string | undefined {
  const all: unknown = object.metadata?.annotations;
  if (typeof all !== 'object' || all === null) return undefined;
  if (!Object.prototype.hasOwnProperty.call(all, key)) return undefined;
  const value = (all as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

/** OCI's controllers treat an empty or whitespace-only JSON annotation as absent. */
export function isBlank(value: string | undefined): boolean {
  return value === undefined || value.trim() === '';
}

/** The keys of `keys` that the object carries. */
export function presentKeys(object: KubeObject, keys: readonly string[]): string[] {
  return keys.filter((k) => annotation(object, k) !== undefined);
}
