import type { KubeObject, SpecEdit } from './types';

/** The changes to one object: annotations to remove and set, and spec fields to set or remove. */
export interface ObjectEdits {
  removeAnnotations: string[];
  setAnnotations: Record<string, string>;
  spec: SpecEdit[];
}

export function emptyEdits(): ObjectEdits {
  return { removeAnnotations: [], setAnnotations: {}, spec: [] };
}

export function mergeEdits(a: ObjectEdits, b: ObjectEdits): ObjectEdits {
  return {
    removeAnnotations: [...new Set([...a.removeAnnotations, ...b.removeAnnotations])],
    setAnnotations: { ...a.setAnnotations, ...b.setAnnotations },
    spec: [...a.spec, ...b.spec],
  };
}

function setPath(
  root: Record<string, unknown>,
  path: readonly (string | number)[],
  value: unknown,
): void {
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = node[key];
    if (typeof next !== 'object' || next === null) {
      // Removing below a missing node removes nothing.
      if (value === undefined) return;
      node[key] = typeof path[i + 1] === 'number' ? [] : {};
    }
    node = node[key] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (last === undefined) return;
  if (value === undefined) Reflect.deleteProperty(node, last);
  else node[last] = value;
}

/** The object with the edits applied, as the YAML rewrite will produce it; the input is not changed. */
export function applyToObject(object: KubeObject, edits: ObjectEdits): KubeObject {
  const copy = structuredClone(object);
  const removed = new Set(edits.removeAnnotations);
  const annotations = Object.fromEntries(
    Object.entries(copy.metadata.annotations ?? {}).filter(([key]) => !removed.has(key)),
  );
  Object.assign(annotations, edits.setAnnotations);
  if (Object.keys(annotations).length > 0) copy.metadata.annotations = annotations;
  else delete copy.metadata.annotations;
  for (const edit of edits.spec)
    setPath(copy as unknown as Record<string, unknown>, edit.path, edit.value);
  return copy;
}
