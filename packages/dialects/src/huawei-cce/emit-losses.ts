/** What CCE cannot say of a policy, and why: the losses its emitter reports. */
import {
  quote,
  type FlatValues,
  type PolicyField,
  type ResolvedEntry,
  type SourceRef,
} from '@tether/model';
import { LossList, flatOf, type Losses, type Notes } from '../emit-losses';

/** Why CCE cannot say a field, whatever the policy around it. */
const WHY: Partial<Record<PolicyField, string>> = {
  'cookie.name': 'ELB names the cookie it inserts itself; CCE has no annotation for the name',
  'cookie.path': 'CCE has no cookie path',
  'cookie.domain': 'CCE has no cookie domain',
  'cookie.httpOnly': 'CCE cannot choose HttpOnly for the inserted cookie',
  'cookie.secure': 'CCE cannot choose the Secure attribute of the inserted cookie',
  'cookie.sameSite': 'CCE has no SameSite setting',
  'cookie.omitSameSiteNoneForOldClients': 'CCE has no SameSite setting',
  'cookie.nocache': 'CCE cannot mark responses that set the cookie Cache-Control: private',
  'cookie.lifetime':
    'with APP_COOKIE CCE takes no timeout, so the companion cookie lasts for the browser session',
  'cookie.maxAgeSeconds':
    'with APP_COOKIE CCE takes no timeout, so the companion cookie has no Max-Age',
  'cookie.expiresSeconds':
    'CCE sets one lifetime, persistence_timeout, which ELB writes as Max-Age; it has no Expires',
  'header.name': 'CCE has no header-based stickiness',
  absoluteTimeoutSeconds:
    'CCE has one persistence_timeout per sticky session and no separate absolute limit',
  idleTimeoutSeconds: 'CCE has no idle timeout for sticky sessions',
  canaryBehavior: 'CCE has no canary routing',
  'loadBalancing.hashKey': 'ELB hashes only the client address (SOURCE_IP); it takes no hash key',
};

const ON_FAILURE: Record<string, string> = {
  fail: 'CCE cannot fail closed (as OCI disableFallback does): ELB sends the client to another backend when its backend is gone',
  retryElsewhere:
    'CCE has no retry of a failed request on another backend (as ingress-nginx session-cookie-change-on-failure)',
  retryPinned:
    'ELB does not keep a client on a backend that refuses connections (as ingress-nginx does by default); it moves the client once the backend fails its health check',
};

/** Why CCE cannot carry `field` with the value `before`; specific notes of a plan come first. */
export function whyCce(field: PolicyField, before: unknown): string {
  if (field === 'rebalance' && before === 'balanced')
    return 'CCE has no balanced mode (as ingress-nginx affinity-mode: balanced); ELB keeps sessions pinned when backends are added';
  if (field === 'onFailure' && typeof before === 'string' && ON_FAILURE[before])
    return ON_FAILURE[before];
  if (field.startsWith('route.')) return `CCE's ELB annotations have no equivalent of ${field}`;
  return WHY[field] ?? `CCE cannot express ${field}`;
}

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
