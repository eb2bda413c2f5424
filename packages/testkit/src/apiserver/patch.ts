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
import { clone, isObject, jsonEqual, type Json, type JsonObject, removeKey } from './types';

export type PatchResult = { ok: true; value: Json } | { ok: false; error: string };

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) removeKey(result, key);
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function decodePointer(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  return pointer
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(token: string, length: number, forInsert: boolean): number | undefined {
  if (forInsert && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
  const index = Number(token);
  const limit = forInsert ? length : length - 1;
  return index <= limit ? index : undefined;
}

/** Returns the parent container and last token, or an error. */
function locate(
  document: Json,
  path: string[],
): { ok: true; parent: JsonObject | Json[]; token: string } | { ok: false; error: string } {
  let current: Json = document;
  for (const token of path.slice(0, -1)) {
    if (Array.isArray(current)) {
      const index = arrayIndex(token, current.length, false);
      if (index === undefined) return { ok: false, error: `index ${token} out of range` };
      current = current[index]!;
    } else if (isObject(current)) {
      if (!Object.hasOwn(current, token))
        return { ok: false, error: `missing path element "${token}"` };
      current = current[token]!;
    } else {
      return { ok: false, error: `cannot descend into a scalar at "${token}"` };
    }
  }
  if (!Array.isArray(current) && !isObject(current))
    return { ok: false, error: 'target parent is not a container' };
  return { ok: true, parent: current, token: path[path.length - 1]! };
}

function getAt(document: Json, path: string[]): Json | undefined {
  let current: Json | undefined = document;
  for (const token of path) {
    if (Array.isArray(current)) {
      const index = arrayIndex(token, current.length, false);
      current = index === undefined ? undefined : current[index];
    } else if (isObject(current)) {
      current = Object.hasOwn(current, token) ? current[token] : undefined;
    } else {
      return undefined;
    }
  }
  return current;
}

function removeAt(
  document: Json,
  path: string[],
): { ok: true; removed: Json } | { ok: false; error: string } {
  const found = locate(document, path);
  if (!found.ok) return found;
  const { parent, token } = found;
  if (Array.isArray(parent)) {
    const index = arrayIndex(token, parent.length, false);
    if (index === undefined) return { ok: false, error: `index ${token} out of range` };
    return { ok: true, removed: parent.splice(index, 1)[0]! };
  }
  if (!Object.hasOwn(parent, token)) return { ok: false, error: `missing key "${token}"` };
  const removed = parent[token]!;
  removeKey(parent, token);
  return { ok: true, removed };
}

function addAt(
  document: Json,
  path: string[],
  value: Json,
  replace: boolean,
): { ok: true } | { ok: false; error: string } {
  const found = locate(document, path);
  if (!found.ok) return found;
  const { parent, token } = found;
  if (Array.isArray(parent)) {
    const index = arrayIndex(token, parent.length, !replace);
    if (index === undefined) return { ok: false, error: `index ${token} out of range` };
    if (replace) parent[index] = value;
    else parent.splice(index, 0, value);
    return { ok: true };
  }
  if (replace && !Object.hasOwn(parent, token))
    return { ok: false, error: `missing key "${token}"` };
  parent[token] = value;
  return { ok: true };
}

export function jsonPatch(target: Json, operations: Json): PatchResult {
  if (!Array.isArray(operations))
    return { ok: false, error: 'a JSON patch must be an array of operations' };
  // Operations apply to a private copy: a failing operation leaves the stored object untouched.
  let document = clone(target);
  for (const operation of operations) {
    if (
      !isObject(operation) ||
      typeof operation.op !== 'string' ||
      typeof operation.path !== 'string'
    ) {
      return { ok: false, error: 'every JSON patch operation needs string "op" and "path"' };
    }
    const path = decodePointer(operation.path);
    if (path === undefined) return { ok: false, error: `invalid JSON pointer "${operation.path}"` };
    const needsValue = ['add', 'replace', 'test'].includes(operation.op);
    if (needsValue && !Object.hasOwn(operation, 'value')) {
      return { ok: false, error: `operation "${operation.op}" needs a "value"` };
    }
    const value = operation.value ?? null;
    let outcome: { ok: true } | { ok: false; error: string } = { ok: true };
    switch (operation.op) {
      case 'add':
        if (path.length === 0) document = clone(value);
        else outcome = addAt(document, path, clone(value), false);
        break;
      case 'replace':
        if (path.length === 0) document = clone(value);
        else outcome = addAt(document, path, clone(value), true);
        break;
      case 'remove':
        outcome =
          path.length === 0
            ? { ok: false, error: 'cannot remove the whole document' }
            : removeAt(document, path);
        break;
      case 'test': {
        const actual = getAt(document, path);
        if (actual === undefined || !jsonEqual(actual, value)) {
          outcome = { ok: false, error: `testing value ${operation.path} failed` };
        }
        break;
      }
      case 'move':
      case 'copy': {
        if (typeof operation.from !== 'string')
          return { ok: false, error: `operation "${operation.op}" needs "from"` };
        const from = decodePointer(operation.from);
        if (from === undefined)
          return { ok: false, error: `invalid JSON pointer "${operation.from}"` };
        const source = getAt(document, from);
        if (source === undefined)
          return { ok: false, error: `missing value at "${operation.from}"` };
        if (operation.op === 'move') {
          const removed = removeAt(document, from);
          if (!removed.ok) return removed;
        }
        outcome = path.length === 0 ? { ok: true } : addAt(document, path, clone(source), false);
        if (path.length === 0) document = clone(source);
        break;
      }
      default:
        return { ok: false, error: `unknown JSON patch operation "${operation.op}"` };
    }
    if (!outcome.ok) return outcome;
  }
  return { ok: true, value: document };
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
