import { Diagnostic, SourceRef, warning } from '@tether/model';
import { entriesOf, namespaceOf, sourceOf } from '../kube';
import type { KubeObject, ParsedObject } from '../types';
import { DEFAULT_COOKIE_NAME, DEFAULT_SUBSET_SIZE, KEY, NginxKey } from './annotations';
import { DIALECT } from './reader';
import { settingsOf } from './settings';
import type { NginxSettings } from './settings-shape';

/** One Ingress that sends traffic to an upstream. */
interface Member {
  object: KubeObject;
  settings: NginxSettings;
}

/** A setting the controller keeps once per upstream, as the controller would see it. */
interface Aspect {
  key: NginxKey;
  /** cookie: compared among the Ingresses with affinity; balancing: when none has affinity. */
  among: 'all' | 'cookie' | 'balancing';
  value(s: NginxSettings): string;
}

const ASPECTS: readonly Aspect[] = [
  { key: KEY.affinity, among: 'all', value: (s) => (s.affinity ? 'cookie' : 'off') },
  { key: KEY.affinityMode, among: 'cookie', value: (s) => s.affinityMode ?? 'balanced' },
  { key: KEY.cookieName, among: 'cookie', value: (s) => s.cookieName ?? DEFAULT_COOKIE_NAME },
  // Unset, the Path is each location's own path, which is not a difference.
  { key: KEY.cookiePath, among: 'cookie', value: (s) => s.cookiePath ?? '' },
  { key: KEY.cookieDomain, among: 'cookie', value: (s) => s.cookieDomain ?? '' },
  { key: KEY.cookieSecure, among: 'cookie', value: (s) => String(s.cookieSecure ?? false) },
  { key: KEY.cookieSameSite, among: 'cookie', value: (s) => s.sameSite?.written ?? '' },
  {
    key: KEY.cookieConditionalSameSiteNone,
    among: 'cookie',
    value: (s) => String(s.conditionalSameSiteNone ?? false),
  },
  { key: KEY.cookieMaxAge, among: 'cookie', value: (s) => String(s.maxAgeSeconds ?? '') },
  { key: KEY.cookieExpires, among: 'cookie', value: (s) => String(s.expiresSeconds ?? '') },
  {
    key: KEY.cookieChangeOnFailure,
    among: 'cookie',
    value: (s) => String(s.changeOnFailure ?? false),
  },
  { key: KEY.loadBalance, among: 'balancing', value: (s) => s.loadBalance ?? 'round_robin' },
  { key: KEY.upstreamHashBy, among: 'balancing', value: (s) => s.hashBy ?? '' },
  {
    key: KEY.upstreamHashBySubset,
    among: 'balancing',
    value: (s) => String(s.hashBySubset ?? false),
  },
  {
    key: KEY.upstreamHashBySubsetSize,
    among: 'balancing',
    value: (s) => String(s.hashBySubsetSize ?? DEFAULT_SUBSET_SIZE),
  },
];

function nameOf(object: KubeObject): string {
  return `${namespaceOf(object)}/${object.metadata.name}`;
}

/**
 * The order the controller processes Ingresses in: oldest first, and by namespace/name
 * descending when the creation times are equal (or, as in manifest files, missing).
 */
function controllerOrder(a: Member, b: Member): number {
  const time = (m: Member): number => {
    const parsed = Date.parse(m.object.metadata.creationTimestamp ?? '');
    return Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed;
  };
  const byTime = time(a) - time(b);
  if (byTime !== 0 && !Number.isNaN(byTime)) return byTime;
  const [x, y] = [nameOf(a.object), nameOf(b.object)];
  return x < y ? 1 : x > y ? -1 : 0;
}

/** One upstream name (nearly every Ingress) or several. */
type Upstreams = string | readonly string[];

const NO_UPSTREAMS: readonly string[] = [];

/**
 * The upstreams of each parse result, worked out once: the check runs on every reconcile over
 * every nginx Ingress, and parse results are kept (and reused) for unchanged objects.
 */
const upstreamsByParse = new WeakMap<ParsedObject, Upstreams>();

/** The upstreams an accepted Ingress sends traffic to, keyed as the controller names them. */
function readUpstreams({ object, result }: ParsedObject): Upstreams {
  if (object.kind !== 'Ingress') return NO_UPSTREAMS;
  const settings = settingsOf(object);
  if (settings.vendorRejects) return NO_UPSTREAMS;
  // The fragments name every backend; a refused Ingress has none, so read its spec again.
  const backends = settings.refused
    ? (entriesOf(object).spec ?? []).map((item) => item.backend)
    : result.fragments.flatMap((f) => (f.type === 'entry' ? [f.backend] : []));
  const seen = new Set<string>();
  const names: string[] = [];
  for (const { namespace, service, port } of backends) {
    // Joined rather than concatenated: a name that is kept stays one flat string.
    const name = [namespace, service, port].join('-');
    if (seen.has(name)) continue;
    seen.add(name);
    names.push(name);
  }
  // Kept as long as the parse result: a list at its exact length, or the one name alone.
  if (names.length > 1) return names.slice();
  return names[0] ?? NO_UPSTREAMS;
}

function upstreamsOf(parsed: ParsedObject): Upstreams {
  let found = upstreamsByParse.get(parsed);
  if (found === undefined) {
    found = readUpstreams(parsed);
    upstreamsByParse.set(parsed, found);
  }
  return found;
}

/** The Ingresses that send traffic to each upstream, in the order they were given. */
function upstreams(parsed: readonly ParsedObject[]): Map<string, ParsedObject | ParsedObject[]> {
  // Most upstreams have one Ingress: it is stored alone, and a list made only for a second.
  const out = new Map<string, ParsedObject | ParsedObject[]>();
  const add = (upstream: string, p: ParsedObject): void => {
    const found = out.get(upstream);
    if (found === undefined) out.set(upstream, p);
    else if (Array.isArray(found)) found.push(p);
    else out.set(upstream, [found, p]);
  };
  for (const p of parsed) {
    const names = upstreamsOf(p);
    if (typeof names === 'string') add(names, p);
    else for (const name of names) add(name, p);
  }
  return out;
}

function differingKeys(members: readonly Member[]): NginxKey[] {
  const withAffinity = members.filter((m) => m.settings.affinity);
  return ASPECTS.filter((aspect) => {
    const group =
      aspect.among === 'all'
        ? members
        : aspect.among === 'cookie'
          ? withAffinity
          : withAffinity.length === 0
            ? members
            : [];
    return new Set(group.map((m) => aspect.value(m.settings))).size > 1;
  }).map((aspect) => aspect.key);
}

function explain(upstream: string, members: readonly Member[], keys: readonly NginxKey[]): string {
  const withAffinity = members.filter((m) => m.settings.affinity);
  const first = withAffinity[0];
  const last = withAffinity[withAffinity.length - 1];
  const parts: string[] = [];
  if (first && last) {
    parts.push(`affinity and affinity-mode from ${nameOf(first.object)} (the first)`);
    if (withAffinity.length > 1) {
      parts.push(
        `the cookie attributes from ${nameOf(last.object)} (each later Ingress overwrites them)`,
      );
    }
    if (withAffinity.length < members.length) {
      parts.push('a sticky balancer that honours the cookie on the paths without affinity too');
    }
  } else {
    parts.push(`the balancing of ${nameOf(members[0]!.object)} (the Ingress that created it)`);
  }
  return (
    `Ingresses ${members.map((m) => nameOf(m.object)).join(', ')} send traffic to upstream ${upstream} ` +
    `with different ${keys.join(', ')}; ingress-nginx would merge them into one upstream with ` +
    `${parts.join(', ')}. Tether keeps each Ingress's own settings`
  );
}

/**
 * Row 19: the controller shares one affinity and balancing configuration per upstream
 * (namespace-service-port) across every Ingress that reaches it. Tether scopes them per
 * entry point, so where they differ it warns that the vendor would have merged them.
 */
export function crossCheck(parsed: readonly ParsedObject[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  upstreams(parsed).forEach((shared, upstream) => {
    if (!Array.isArray(shared)) return;
    const members = shared
      .map(({ object }): Member => ({ object, settings: settingsOf(object) }))
      .sort(controllerOrder);
    const keys = differingKeys(members);
    if (keys.length === 0) return;
    const sources: SourceRef[] = members.flatMap((m) =>
      keys.map((key) => sourceOf(DIALECT, m.object, key, !m.settings.written.has(key))),
    );
    out.push(warning('VendorWouldMerge', explain(upstream, members, keys), ...sources));
  });
  return out;
}
