/**
 * Cookie text: reading one cookie from a `Cookie` header, removing it before the request goes
 * upstream, writing `Set-Cookie` values for the balancer's cookie, and reading the backend's
 * `Set-Cookie` headers in application-cookie mode. Hand-written scanners, kept for speed:
 * the hot path reads one cookie per request and must not split the whole header into objects
 * as general cookie parsers do. `npm run bench` measures the proxy's CPU per request against
 * HAProxy and Fastify; cookies.test.ts pins the edge cases.
 */
import type { CookieSpec } from '@tether/model';

/** The value of cookie `name` in a `Cookie` header, or undefined. First occurrence wins. */
export function readCookie(header: string, name: string): string | undefined {
  let from = 0;
  while (from < header.length) {
    const at = header.indexOf(name, from);
    if (at < 0) return undefined;
    const eq = at + name.length;
    if (header.charCodeAt(eq) === 61 /* = */ && startsPair(header, at)) {
      let end = header.indexOf(';', eq + 1);
      if (end < 0) end = header.length;
      return header.slice(eq + 1, end).trim();
    }
    from = at + 1;
  }
  return undefined;
}

/** True when position `at` begins a name=value pair (start of header, or after `;` and spaces). */
function startsPair(header: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 9)) i--;
  return i < 0 || header.charCodeAt(i) === 59; /* ; */
}

/** The header without every pair named `name`; undefined when nothing is left. */
export function removeCookie(header: string, name: string): string | undefined {
  if (!header.includes(name)) return header;
  // The usual case: the header holds our cookie alone.
  if (header.startsWith(name) && header.charCodeAt(name.length) === 61 && !header.includes(';'))
    return undefined;
  const kept: string[] = [];
  for (const part of header.split(';')) {
    const trimmed = part.trim();
    if (trimmed.length === 0) continue;
    const eq = trimmed.indexOf('=');
    const partName = eq < 0 ? trimmed : trimmed.slice(0, eq);
    if (partName !== name) kept.push(trimmed);
  }
  return kept.length > 0 ? kept.join('; ') : undefined;
}

/** What the request tells about the client, for the attributes that depend on it. */
export interface CookieContext {
  secure: boolean;
  userAgent: string | undefined;
}

/** Attributes for a balancer cookie issued now that stays valid until `expiresAt` (unix s, 0 = none). */
export function setCookieValue(
  spec: CookieSpec,
  value: string,
  nowMs: number,
  ctx: CookieContext,
  permanentMaxAge: number | undefined,
): string {
  let out = `${spec.name}=${value}; Path=${spec.path ?? '/'}`;
  if (spec.domain) out += `; Domain=${spec.domain}`;
  if (spec.lifetime === 'permanent') {
    const maxAge =
      spec.maxAgeSeconds ?? (spec.expiresSeconds === undefined ? permanentMaxAge : undefined);
    if (maxAge !== undefined) out += `; Max-Age=${maxAge}`;
    if (spec.expiresSeconds !== undefined) {
      out += `; Expires=${new Date(nowMs + spec.expiresSeconds * 1000).toUTCString()}`;
    }
  }
  if (spec.secure === 'always' || (spec.secure === 'https' && ctx.secure)) out += '; Secure';
  if (spec.httpOnly) out += '; HttpOnly';
  if (
    spec.sameSite &&
    !(
      spec.sameSite === 'None' &&
      spec.omitSameSiteNoneForOldClients &&
      mishandlesSameSiteNone(ctx.userAgent)
    )
  ) {
    out += `; SameSite=${spec.sameSite}`;
  }
  return out;
}

/** A `Set-Cookie` value that makes the client drop cookie `name`. */
export function deleteCookieValue(spec: CookieSpec, ctx: CookieContext): string {
  let out = `${spec.name}=; Path=${spec.path ?? '/'}`;
  if (spec.domain) out += `; Domain=${spec.domain}`;
  out += '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  if (spec.secure === 'always' || (spec.secure === 'https' && ctx.secure)) out += '; Secure';
  if (spec.httpOnly) out += '; HttpOnly';
  return out;
}

/** A backend `Set-Cookie` value: its cookie name and whether it deletes the cookie. */
export interface BackendCookie {
  name: string;
  deletes: boolean;
}

/** Reads a `Set-Cookie` value from a backend. Deletion: empty-dated (`Max-Age<=0` or past `Expires`). */
export function parseSetCookie(value: string, nowMs: number): BackendCookie | null {
  const eq = value.indexOf('=');
  const semi = value.indexOf(';');
  if (eq <= 0 || (semi >= 0 && semi < eq)) return null;
  const name = value.slice(0, eq).trim();
  if (name.length === 0) return null;
  let deletes = false;
  if (semi >= 0) {
    for (const attr of value.slice(semi + 1).split(';')) {
      const aEq = attr.indexOf('=');
      const key = (aEq < 0 ? attr : attr.slice(0, aEq)).trim().toLowerCase();
      const val = aEq < 0 ? '' : attr.slice(aEq + 1).trim();
      if (key === 'max-age') {
        const n = Number(val);
        if (Number.isFinite(n) && n <= 0) deletes = true;
      } else if (key === 'expires') {
        const t = Date.parse(val);
        if (Number.isFinite(t) && t <= nowMs) deletes = true;
      }
    }
  }
  return { name, deletes };
}

/**
 * Whether a user agent gets no `SameSite=None` when the policy asks to leave it out for old
 * clients. Only ingress-nginx's `session-cookie-conditional-samesite-none` asks, so these are
 * its rules (`rootfs/etc/nginx/lua/util/same_site.lua`), plain substring tests, not Chromium's
 * own list: any `Chrome/4`, `Chrome/5` or `Chrome/6` (so Chrome 41, 50 and 67 too, and 4 to
 * 6 digit versions starting so), iOS 12, iPadOS 12, and macOS 10.14 Safari without `Chrome`.
 * No User-Agent keeps `SameSite=None`, as there.
 */
export function mishandlesSameSiteNone(ua: string | undefined): boolean {
  if (!ua) return false;
  return (
    ua.includes('Chrome/4') ||
    ua.includes('Chrome/5') ||
    ua.includes('Chrome/6') ||
    ua.includes('CPU iPhone OS 12') ||
    ua.includes('iPad; CPU OS 12') ||
    (ua.includes('Macintosh') &&
      ua.includes('Intel Mac OS X 10_14') &&
      ua.includes('Safari') &&
      !ua.includes('Chrome'))
  );
}
