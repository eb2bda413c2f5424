import {
  quote,
  type FlatValues,
  type PolicyField,
  type ResolvedEntry,
  type SourceRef,
} from '@tether/model';
import { LossList, flatOf, type Losses, type Notes } from '../emit-losses';

/** Fields whose sources stand in for a field the source policy did not set. */
const RELATED: Partial<Record<PolicyField, readonly PolicyField[]>> = {
  'cookie.maxAgeSeconds': ['cookie.expiresSeconds', 'absoluteTimeoutSeconds', 'cookie.lifetime'],
  'cookie.lifetime': ['cookie.maxAgeSeconds', 'cookie.expiresSeconds', 'absoluteTimeoutSeconds'],
  'sourceIp.timeoutSeconds': ['idleTimeoutSeconds', 'absoluteTimeoutSeconds'],
  idleTimeoutSeconds: ['sourceIp.timeoutSeconds', 'absoluteTimeoutSeconds'],
};

const MODE_GROUPS = ['cookie.', 'appCookie.', 'header.', 'sourceIp.'];

function sourcesFor(e: ResolvedEntry, field: PolicyField): SourceRef[] {
  for (const f of [field, ...(RELATED[field] ?? []), 'mode' as const]) {
    const sources = e.sources[f];
    if (sources && sources.length > 0) return sources;
  }
  return [];
}

export interface ExpectedLossInput {
  /** Entries with a policy; the first is the one written. */
  entries: readonly ResolvedEntry[];
  /** What the written object will resolve to. */
  expected: FlatValues;
  notes: Notes;
  why: (field: PolicyField, before: unknown) => string;
  /** What holds the one setting of an object, e.g. "the annotations hold one setting per object". */
  oneSetting: string;
}

/**
 * `UnsupportedByTarget` for every field where an entry's policy differs from what the target
 * will say, naming the field's source and why, and the fields they cover. An annotation
 * dialect holds one setting per object, so an entry that differs from the first is reported
 * as such.
 */
export function expectedLosses({
  entries,
  expected,
  notes,
  why,
  oneSetting,
}: ExpectedLossInput): Losses {
  const list = new LossList();
  const [first] = entries;
  if (!first) return list.result();
  const firstFlat = flatOf(first);
  const modeDropped = firstFlat.mode !== expected.mode;
  for (const e of entries) {
    const flat = flatOf(e);
    const fields = new Set([...Object.keys(flat), ...Object.keys(expected)] as PolicyField[]);
    for (const field of fields) {
      const before = flat[field];
      const after = expected[field];
      if (before === after) continue;
      const differsFromFirst = e !== first && before !== firstFlat[field];
      let reason: string;
      if (differsFromFirst)
        reason = `${oneSetting}, written from ${first.entry.rule}, where it is ${quote(firstFlat[field] ?? '(unset)')}`;
      else if (notes[field]) reason = notes[field];
      else if (modeDropped && field !== 'mode' && MODE_GROUPS.some((g) => field.startsWith(g))) {
        // A field with no source of its own (a model default) adds nothing to the mode's report.
        if (!e.sources[field]?.length) continue;
        reason = 'follows the sticky mode, which is not written here (see mode)';
      } else reason = why(field, before);
      const where = differsFromFirst ? ` on ${e.entry.rule}` : '';
      list.add({ field, before, after, where, reason, sources: sourcesFor(e, field) });
    }
  }
  return list.result();
}
