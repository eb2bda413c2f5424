import {
  quote,
  type FlatValues,
  type PolicyField,
  type ResolvedEntry,
  type SourceRef,
} from '@tether/model';
import { LossList, flatOf, type Losses, type Notes } from '../../emit-losses';

const COMPANION =
  "OCI issues the companion cookie of an application-cookie session itself; only the backend cookie's name and disableFallback are configurable";

/** The generic reason OCI cannot say a field as the source did. */
function why(field: PolicyField, before: unknown, writtenMode: unknown): string {
  if (writtenMode === 'appCookie' && field.startsWith('cookie.')) return COMPANION;
  switch (field) {
    case 'mode':
      return `OCI keeps sessions only with cookies; it has no ${String(before)} persistence`;
    case 'cookie.sameSite':
      return 'OCI has no SameSite setting for its cookie';
    case 'cookie.omitSameSiteNoneForOldClients':
      return 'OCI has no SameSite setting, so there is nothing to leave out for old clients';
    case 'cookie.nocache':
      return 'OCI does not add Cache-Control: private to the responses that set its cookie';
    case 'cookie.expiresSeconds':
      return 'OCI has no Expires attribute, only maxAgeInSeconds';
    case 'rebalance':
      return 'OCI has no balanced mode: a pinned client stays on its backend for as long as that backend is available';
    case 'absoluteTimeoutSeconds':
      return 'OCI has no absolute session limit; a session lasts as long as its cookie (maxAgeInSeconds)';
    case 'idleTimeoutSeconds':
      return 'OCI has no idle timeout for sessions; a session lasts as long as its cookie (maxAgeInSeconds)';
    case 'canaryBehavior':
      return 'OCI has no canary routing';
    case 'loadBalancing.hashKey':
      return 'OCI cannot hash on a request value';
    case 'route.pathRegex':
      return 'OCI has no setting that reads paths as regular expressions';
    case 'route.sslRedirect':
      return 'the OCI annotations Tether writes have no redirect from HTTP to HTTPS';
    default:
      if (field.startsWith('route.canary.')) return 'OCI has no canary routing';
      return `OCI cannot express ${field}`;
  }
}

/** Fields that take their source from another field when they have none of their own. */
const RELATED: Partial<Record<PolicyField, readonly PolicyField[]>> = {
  'cookie.lifetime': ['cookie.maxAgeSeconds', 'cookie.expiresSeconds'],
  'cookie.maxAgeSeconds': ['cookie.expiresSeconds'],
  'loadBalancing.hashKey': ['loadBalancing.algorithm'],
};

/** Where the source said a field, or the setting it follows from, or the mode. */
function sourcesFor(e: ResolvedEntry, field: PolicyField): SourceRef[] {
  for (const f of [field, ...(RELATED[field] ?? []), 'mode' as const]) {
    const sources = e.sources[f];
    if (sources && sources.length > 0) return sources;
  }
  return [];
}

const describe = (e: ResolvedEntry): string =>
  `${e.entry.rule} → ${e.backend.service}:${e.backend.port}`;

export interface OciLossInput {
  /** The dialect written, for the reason given to entries that differ from the first. */
  dialect: string;
  /** Entries with a policy; the first is the one written. */
  entries: readonly ResolvedEntry[];
  /** What the written annotations will resolve to. */
  expected: FlatValues;
  notes: Notes;
}

/**
 * One `UnsupportedByTarget` warning for every field whose value differs from what the written
 * annotations will give (`expected`), naming the source the value came from and why, and the
 * fields they cover. The annotations hold one setting per object, written from the first
 * entry; every other entry that says something else is reported too.
 */
export function ociLosses({ dialect, entries, expected, notes }: OciLossInput): Losses {
  const list = new LossList();
  const [first] = entries;
  if (!first) return list.result();
  const firstFlat = flatOf(first);
  for (const e of entries) {
    const flat = flatOf(e);
    const fields = new Set([...Object.keys(flat), ...Object.keys(expected)] as PolicyField[]);
    for (const field of fields) {
      const before = flat[field];
      const after = expected[field];
      if (before === after) continue;
      const differsFromFirst = e !== first && before !== firstFlat[field];
      const reason = differsFromFirst
        ? `${dialect} holds one setting per object, written from ${describe(first)}, where it is ${quote(firstFlat[field] ?? '(unset)')}`
        : (notes[field] ?? why(field, before, expected.mode));
      const where = differsFromFirst ? ` on ${describe(e)}` : '';
      list.add({ field, before, after, where, reason, sources: sourcesFor(e, field) });
    }
  }
  return list.result();
}
