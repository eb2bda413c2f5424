/** `meta.k8s.io/v1` Table answers, which kubectl asks for to print `kubectl get`. */
import type { ResourceDef } from './resource';
import type { Json, JsonObject } from './types';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** True when an Accept header asks for a Table (kubectl get does, with JSON as a fallback). */
export function wantsTable(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((part) => {
    const params = part.split(';').map((param) => param.trim());
    return (
      params.includes('as=Table') &&
      params.includes('g=meta.k8s.io') &&
      (params.includes('v=v1') || params.includes('v=v1beta1'))
    );
  });
}

export function includeObjectOf(raw: string | null): IncludeObject {
  return raw === 'None' || raw === 'Object' ? raw : 'Metadata';
}

function rowObject(wire: JsonObject, include: IncludeObject): Json | undefined {
  if (include === 'None') return undefined;
  if (include === 'Object') return wire;
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: wire.metadata ?? {},
  };
}

export function buildTable(
  def: ResourceDef,
  objects: readonly JsonObject[],
  now: number,
  include: IncludeObject,
  listMetadata: JsonObject,
): JsonObject {
  const rows = objects.map((wire) => {
    const row: JsonObject = { cells: def.table.cells(wire, now) };
    const object = rowObject(wire, include);
    if (object !== undefined) row.object = object;
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMetadata,
    columnDefinitions: def.table.columns,
    rows,
  };
}
