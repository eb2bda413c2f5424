/**
 * The text form of cookie adoption, as the `tether.dev/adopt-cookies` annotation and the
 * `--adopt-cookies` flag write it: formats separated by commas, each optionally followed by
 * `=` and the name of the previous cookie, e.g. `ingress-nginx` or `traefik=_sticky`.
 */
import { AdoptableFormat, type CookieAdoption } from './policy';

export type AdoptionSource = CookieAdoption['sources'][number];

/** Why a format is not on the list: said when a user asks for it. */
const NOT_ADOPTABLE: Readonly<Record<string, string>> = {
  oci: "OCI's cookies are opaque values keyed by Oracle's load balancer; no other proxy can tell which backend one names",
  'oci-lb':
    "OCI's cookies are opaque values keyed by Oracle's load balancer; no other proxy can tell which backend one names",
  'oci-native-ingress':
    "OCI's cookies are opaque values keyed by Oracle's load balancer; no other proxy can tell which backend one names",
  'huawei-cce':
    "Huawei ELB's cookies are opaque values of the load balancer; no other proxy can tell which backend one names",
};

/** A cookie name as RFC 6265 allows it (an HTTP token). */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export interface ParsedAdoption {
  sources: AdoptionSource[];
  /** One sentence per item that could not be read. */
  problems: string[];
}

/** Reads the text form; never throws. Items that cannot be read are reported and left out. */
export function parseAdoptionSources(text: string): ParsedAdoption {
  const sources: AdoptionSource[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    const cookieName = eq < 0 ? undefined : item.slice(eq + 1).trim();
    const format = AdoptableFormat.safeParse(name);
    if (!format.success) {
      problems.push(
        NOT_ADOPTABLE[name] !== undefined
          ? `${name} cannot be adopted: ${NOT_ADOPTABLE[name]}`
          : `${JSON.stringify(name)} is not a cookie format Tether can adopt (${AdoptableFormat.options.join(', ')})`,
      );
      continue;
    }
    if (cookieName !== undefined && !COOKIE_NAME.test(cookieName)) {
      problems.push(`${JSON.stringify(cookieName)} is not a cookie name`);
      continue;
    }
    const key = `${format.data}=${cookieName ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    sources.push(
      cookieName === undefined ? { format: format.data } : { format: format.data, cookieName },
    );
  }
  if (sources.length === 0 && problems.length === 0) problems.push('no cookie format is named');
  return { sources, problems };
}

/** The text form of `sources`, as `parseAdoptionSources` reads it. */
export function formatAdoptionSources(sources: readonly AdoptionSource[]): string {
  return sources.map((s) => (s.cookieName ? `${s.format}=${s.cookieName}` : s.format)).join(',');
}

/** Whether adoption is still in force at `nowMs`. */
export function adoptionInForce(adoption: CookieAdoption, nowMs: number): boolean {
  return adoption.until === undefined || nowMs < Date.parse(adoption.until);
}
