/**
 * The patch formats kube-apiserver accepts:
 * - JSON merge patch (RFC 7386);
 * - JSON patch (RFC 6902);
 * - strategic merge patch, approximated: a merge patch that understands the `$patch`,
 *   `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` directives and merges
 *   the few lists that Tether's objects declare mergeable (see MERGE_KEYS); every other list
 *   is replaced, as the real server does for lists without a merge strategy.
 * Every function returns an error string instead of throwing.
 */
import { apply as applyMergePatch } from 'json-merge-patch';
import { applyPatch, type Operation } from 'rfc6902';
import { clone, isObject, jsonEqual, type Json, type JsonObject, removeKey } from './types';

export type PatchResult = { ok: true; value: Json } | { ok: false; error: string };

/** RFC 7386, by the `json-merge-patch` library, on a copy: the inputs are left as they are. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  return applyMergePatch(target === undefined ? null : clone(target), clone(patch)) as Json;
}

/**
 * RFC 6902, applied by the `rfc6902` library to a private copy: the real server applies a
 * JSON patch all or nothing, so any failed operation refuses the whole patch and leaves the
 * stored object untouched. Operations are checked for shape first, as the library assumes
 * well-formed ones.
 */
export function jsonPatch(target: Json, operations: Json): PatchResult {
  if (!Array.isArray(operations))
    return { ok: false, error: 'a JSON patch must be an array of operations' };
  for (const operation of operations) {
    if (
      !isObject(operation) ||
      typeof operation.op !== 'string' ||
      typeof operation.path !== 'string'
    )
      return { ok: false, error: 'every JSON patch operation needs string "op" and "path"' };
    if (operation.path !== '' && !operation.path.startsWith('/'))
      return { ok: false, error: `invalid JSON pointer "${operation.path}"` };
    if (['add', 'replace', 'test'].includes(operation.op) && !Object.hasOwn(operation, 'value'))
      return { ok: false, error: `operation "${operation.op}" needs a "value"` };
    if (operation.op === 'remove' && operation.path === '')
      return { ok: false, error: 'cannot remove the whole document' };
    if (['move', 'copy'].includes(operation.op) && typeof operation.from !== 'string')
      return { ok: false, error: `operation "${operation.op}" needs "from"` };
  }
  // The library changes the document in place; the root is wrapped so that an operation on
  // the whole document ("" path) replaces a member rather than the object itself.
  const box: JsonObject = { document: clone(target) };
  const rooted = (operations as JsonObject[]).map((o) => ({
    ...o,
    path: `/document${o.path as string}`,
    ...(typeof o.from === 'string' ? { from: `/document${o.from}` } : {}),
  }));
  const failed = applyPatch(box, rooted as Operation[]).find((e) => e !== null);
  if (failed) return { ok: false, error: failed.message };
  return { ok: true, value: box.document ?? null };
}

/**
 * Lists that Kubernetes declares `patchStrategy: merge`, by field name, with their merge key.
 * Only the ones found in the objects Tether reads or writes; everything else is atomic.
 */
const MERGE_KEYS: Record<string, string> = {
  ports: 'port', // Service.spec.ports
  conditions: 'type', // status conditions
  ownerReferences: 'uid',
  containers: 'name',
  env: 'name',
};
/** Lists of scalars merged as sets. */
const MERGED_SCALAR_LISTS = new Set(['finalizers']);

function mergeKeyedList(current: Json[], patch: Json[], key: string): Json[] {
  const result = current.map((item) => item);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const keyValue = item[key];
    const index = result.findIndex(
      (existing) => isObject(existing) && jsonEqual(existing[key], keyValue),
    );
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = strategicMerge(result[index], item);
    else result.push(strategicMerge(undefined, item));
  }
  return result;
}

function orderBy(list: Json[], order: Json, key: string | undefined): Json[] {
  if (!Array.isArray(order)) return list;
  const rank = (item: Json): number => {
    const probe = key !== undefined && isObject(item) ? item[key] : item;
    const index = order.findIndex((entry) =>
      jsonEqual(key !== undefined && isObject(entry) ? entry[key] : entry, probe),
    );
    return index < 0 ? order.length : index;
  };
  return [...list].sort((a, b) => rank(a) - rank(b));
}

export function strategicMerge(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _ignored, ...rest } = patch;
    return strategicMerge(undefined, rest);
  }
  if (patch.$patch === 'delete') return null;
  let result: JsonObject = isObject(target) ? { ...target } : {};
  const retain = patch.$retainKeys;
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const existing = result[field];
      if (Array.isArray(existing) && Array.isArray(value)) {
        result[field] = existing.filter((item) => !value.some((gone) => jsonEqual(gone, item)));
      }
      continue;
    }
    if (value === null) {
      removeKey(result, key);
      continue;
    }
    const existing = result[key];
    const mergeKey = MERGE_KEYS[key];
    if (Array.isArray(value) && Array.isArray(existing) && mergeKey !== undefined) {
      result[key] = mergeKeyedList(existing, value, mergeKey);
    } else if (Array.isArray(value) && Array.isArray(existing) && MERGED_SCALAR_LISTS.has(key)) {
      result[key] = [
        ...existing,
        ...value.filter((item) => !existing.some((old) => jsonEqual(old, item))),
      ];
    } else if (Array.isArray(value)) {
      result[key] = value
        .filter((item) => !(isObject(item) && item.$patch === 'delete'))
        .map((item) => strategicMerge(undefined, item));
    } else {
      result[key] = strategicMerge(existing, value);
    }
  }
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith('$setElementOrder/')) continue;
    const field = key.slice('$setElementOrder/'.length);
    const list = result[field];
    if (Array.isArray(list)) result[field] = orderBy(list, order, MERGE_KEYS[field]);
  }
  if (Array.isArray(retain)) {
    const keep = new Set(retain.filter((key): key is string => typeof key === 'string'));
    result = Object.fromEntries(Object.entries(result).filter(([key]) => keep.has(key)));
  }
  return result;
}
