import type { KubeObject } from '@tether/dialects';
import { objectKey } from '../snapshot';

/** One object added (no `before`), removed (no `after`) or changed (both, same key). */
export interface ObjectChange {
  before?: KubeObject;
  after?: KubeObject;
  /** Where `after` is in the new snapshot, or where `before` was in the old one. */
  at: number;
}

/**
 * The objects that differ between two snapshots of the same source, found by identity: the
 * source hands over the same object while it is unchanged and keeps its order, so a walk of
 * both lists side by side finds the few that differ without indexing the rest. Undefined when
 * more than `max` differ, or when the difference is not a few additions, removals and
 * changes in place (objects moved around): then everything is worked out again.
 */
export function diffSnapshots(
  before: readonly KubeObject[],
  after: readonly KubeObject[],
  max: number,
): ObjectChange[] | undefined {
  const changes: ObjectChange[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const b = before[i];
    const a = after[j];
    if (b !== undefined && b === a) {
      i++;
      j++;
      continue;
    }
    const room = max - changes.length;
    if (room === 0) return undefined;
    if (a !== undefined && b !== undefined && objectKey(a) === objectKey(b)) {
      changes.push({ before: b, after: a, at: j });
      i++;
      j++;
      continue;
    }
    // How many objects were added here (until `b` comes back), or removed (until `a` does).
    const added = b === undefined ? after.length - j : distance(after, b, j, room);
    const removed = a === undefined ? before.length - i : distance(before, a, i, room);
    if (added > 0 && added <= room && (removed <= 0 || added <= removed)) {
      for (const end = j + added; j < end; j++) changes.push({ after: after[j]!, at: j });
    } else if (removed > 0 && removed <= room) {
      for (const end = i + removed; i < end; i++) changes.push({ before: before[i]!, at: i });
    } else return undefined;
  }
  // An object removed in one place and added in another moved: not a few edits.
  const gone = new Set(changes.filter((c) => !c.after).map((c) => objectKey(c.before!)));
  if (changes.some((c) => !c.before && gone.has(objectKey(c.after!)))) return undefined;
  return changes;
}

/** How far after `from` (at most `limit` places) `object` is in `list`; -1 when not there. */
function distance(
  list: readonly KubeObject[],
  object: KubeObject,
  from: number,
  limit: number,
): number {
  const end = Math.min(list.length, from + limit + 1);
  for (let k = from + 1; k < end; k++) if (list[k] === object) return k - from;
  return -1;
}
