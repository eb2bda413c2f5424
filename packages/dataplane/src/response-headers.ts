/**
 * The response head a client gets: the upstream's fields without the hop-by-hop ones (and those
 * its `Connection` field names), without a backend's Set-Cookie for the proxy's own cookie, and
 * with the session cookie (or header) the decision calls for. Shared by the HTTP/1.1 and the
 * HTTP/2 upstream exchanges.
 */
import { newToken, type AffinityContext, type Decision } from './affinity';
import { deleteCookieValue, parseSetCookie, setCookieValue } from './cookies';
import { HOP_BY_HOP_NAMES, isHopByHop, type IncomingFacts } from './headers';
import type { EndpointRuntime, SetRuntime } from './runtime';
import type { SessionToken } from './token';

/** By name length: whether a response header may need more than copying. */
const RESPONSE_SPECIAL: boolean[] = [];
for (const name of [...HOP_BY_HOP_NAMES, 'cache-control', 'set-cookie'])
  RESPONSE_SPECIAL[name.length] = true;

/** The name of a Set-Cookie value is `name` (before `=`, ignoring white space). */
function setCookieNamed(value: string, name: string): boolean {
  const eq = value.indexOf('=');
  return eq > 0 && value.slice(0, eq).trim() === name;
}

/** What a response head is built from. */
export interface ResponseContext {
  readonly host: {
    readonly affinity: AffinityContext;
    encodeToken(set: SetRuntime, token: SessionToken): string;
    session(set: SetRuntime, event: Decision['event']): void;
  };
  readonly set: SetRuntime;
  readonly facts: IncomingFacts;
  readonly decision: Decision;
  readonly endpoint: EndpointRuntime;
}

/** The response head as a flat [name, value, …] list, from the upstream's `raw` one. */
export function responseHeaders(x: ResponseContext, raw: string[], nowMs: number): string[] {
  const out: string[] = [];
  let dropped: string[] | undefined;
  let cacheControlAt = -1;
  let appSet = false;
  let appDeleted = false;
  const policy = x.set.policy;
  const appName = policy.mode === 'appCookie' ? policy.appCookie?.name : undefined;
  // The proxy's own cookie is the proxy's to set: a backend's cookie of that name is dropped
  // (as HAProxy's `cookie … insert` does), so it cannot overwrite or forge a session.
  const ownName = x.set.cookie?.name;
  const ownCookie = ownName !== undefined && ownName !== appName ? ownName : undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    if (!RESPONSE_SPECIAL[name.length]) {
      out.push(name, value);
      continue;
    }
    const lower = name.toLowerCase();
    if (isHopByHop(lower)) {
      if (lower === 'connection') {
        for (const t of value.split(',')) {
          const token = t.trim().toLowerCase();
          if (token && token !== 'close' && token !== 'keep-alive') (dropped ??= []).push(token);
        }
      }
      continue;
    }
    if (lower === 'cache-control') cacheControlAt = out.length + 1;
    else if (ownCookie !== undefined && lower === 'set-cookie' && setCookieNamed(value, ownCookie))
      continue;
    else if (appName !== undefined && lower === 'set-cookie') {
      const c = parseSetCookie(value, nowMs);
      if (c && (appName === '*' || c.name === appName)) {
        if (c.deletes) appDeleted = true;
        else appSet = true;
      }
    }
    out.push(name, value);
  }
  if (dropped) {
    for (let i = out.length - 2; i >= 0; i -= 2) {
      if (dropped.includes((out[i] ?? '').toLowerCase())) out.splice(i, 2);
    }
  }
  const d = x.decision;
  let token = d.issue;
  let deleteCompanion = false;
  if (appName !== undefined && d.sticky) {
    // Stickiness follows the backend's cookie: it starts (or is re-stated) when the backend
    // sets it and ends when the backend deletes it.
    if (appSet) token = newToken(x.set, x.endpoint, x.host.affinity);
    else if (appDeleted) {
      token = undefined;
      deleteCompanion = true;
    }
  }
  if (token && !d.pinned && d.issue === undefined) x.host.session(x.set, 'created');
  const spec = x.set.cookie;
  let setsCookie = false;
  if (token) {
    const value = x.host.encodeToken(x.set, token);
    if (policy.mode === 'header' && policy.header) {
      out.push(policy.header.name, value);
    } else if (spec) {
      const remaining =
        token.expiresAt === 0 ? undefined : Math.max(0, token.expiresAt - Math.floor(nowMs / 1000));
      out.push(
        'set-cookie',
        setCookieValue(
          spec,
          value,
          nowMs,
          { secure: x.facts.secure, userAgent: x.facts.userAgent },
          remaining,
        ),
      );
      setsCookie = true;
    }
  } else if (deleteCompanion && spec) {
    out.push(
      'set-cookie',
      deleteCookieValue(spec, { secure: x.facts.secure, userAgent: x.facts.userAgent }),
    );
    setsCookie = true;
  }
  if (setsCookie && spec?.nocache) {
    // As HAProxy's `nocache`: a response that sets the cookie must not be shared by caches.
    const existing = cacheControlAt >= 0 ? (out[cacheControlAt] ?? '') : '';
    if (cacheControlAt < 0) out.push('cache-control', 'private');
    else if (!/\b(private|no-store)\b/i.test(existing)) {
      const rest = existing.replace(/\bpublic\b\s*,?\s*/i, '').trim();
      out[cacheControlAt] = rest ? `private, ${rest}` : 'private';
    }
  }
  return out;
}
