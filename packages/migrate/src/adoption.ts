/**
 * What `migrate --adopt-cookies` writes: the adoption annotation for the cookies of a source
 * whose values name their endpoint in a way Tether can compute (ingress-nginx, OpenShift),
 * and a note that says for how long sessions are carried over.
 */
import {
  formatAdoptionSources,
  humanDuration,
  type AdoptableFormat,
  type AdoptionSource,
  type ResolvedEntry,
} from '@tether/model';

const ADOPT_COOKIES = 'tether.dev/adopt-cookies';
const ADOPT_COOKIES_UNTIL = 'tether.dev/adopt-cookies-until';

/** The source dialects whose cookies can be adopted, and their format. */
const ADOPTABLE: Readonly<Record<string, AdoptableFormat>> = {
  'ingress-nginx': 'ingress-nginx',
  openshift: 'openshift',
};

/** How long the source's cookie lives in a browser, in words. */
function lifetimeOf(e: ResolvedEntry): string {
  const cookie = e.policy?.cookie;
  const seconds = cookie?.maxAgeSeconds ?? cookie?.expiresSeconds;
  return seconds === undefined
    ? 'a session cookie, kept until the browser closes'
    : `kept for ${humanDuration(seconds * 1000)}`;
}

export interface AdoptionWrite {
  annotations: Record<string, string>;
  note: string;
}

/** The annotations for the adoptable cookies of `entries`; undefined when none is adoptable. */
export function adoptionAnnotations(
  entries: readonly ResolvedEntry[],
  until: string | undefined,
): AdoptionWrite | undefined {
  const sources: AdoptionSource[] = [];
  const lifetimes = new Set<string>();
  for (const e of entries) {
    if (e.policy?.mode !== 'cookie' || !e.policy.cookie || e.policy.adoptCookies) continue;
    const format = ADOPTABLE[e.sources.mode?.[0]?.dialect ?? ''];
    if (!format) continue;
    const cookieName = e.policy.cookie.name;
    if (!sources.some((s) => s.format === format && s.cookieName === cookieName))
      sources.push({ format, cookieName });
    lifetimes.add(lifetimeOf(e));
  }
  if (sources.length === 0) return undefined;
  const annotations: Record<string, string> = { [ADOPT_COOKIES]: formatAdoptionSources(sources) };
  if (until !== undefined) annotations[ADOPT_COOKIES_UNTIL] = until;
  const cookies = sources.map((s) => `${s.format}'s cookie ${s.cookieName ?? ''}`).join(', ');
  const span =
    until !== undefined
      ? `until ${until}`
      : `with no end date (the previous cookie is ${[...lifetimes].join('; ')}: set ${ADOPT_COOKIES_UNTIL} to that long after the switch)`;
  return {
    annotations,
    note: `${ADOPT_COOKIES}: clients that present ${cookies} keep their endpoint and move to Tether's cookie, ${span}`,
  };
}
