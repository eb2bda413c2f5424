import { CookieSpec, EntryRef, PersistencePolicy, PolicyField, quote } from '@tether/model';
import { DEFAULT_COOKIE_NAME, KEY } from './annotations';
import type { Expression } from './expression';
import { MAX_ATTRIBUTE_LENGTH, isHeaderSafe } from './values';

/** What the Ingress itself says that decides what persistence can be written on it. */
export interface IngressFacts {
  /** `service-upstream: "true"`: nginx proxies to the ClusterIP alone, so nothing can be pinned. */
  serviceUpstream: boolean;
}

/** The cookie Path the controller sends without session-cookie-path: the Ingress path as written. */
export function defaultCookiePath(entry: EntryRef): string | undefined {
  const path = entry.path;
  return path !== undefined && isHeaderSafe(path) && path.length <= MAX_ATTRIBUTE_LENGTH
    ? path
    : undefined;
}

function hasHttps(entry: EntryRef): boolean {
  return entry.listeners.some((l) => l.protocol === 'HTTPS');
}

/** The policy fields of a cookie, as flat paths, for naming every source of a lost cookie. */
function cookieFields(cookie: CookieSpec | undefined): PolicyField[] {
  return Object.keys(cookie ?? {}).map((k) => `cookie.${k}` as PolicyField);
}

function cookiePath(x: Expression, path: string | undefined): void {
  const own = defaultCookiePath(x.entry.entry);
  if (path === undefined) {
    if (own !== undefined)
      x.unsupported(
        `ingress-nginx always gives its cookie a Path (the Ingress path ${quote(own)} unless ${KEY.cookiePath} says otherwise), so a cookie without Path cannot be written`,
        'cookie.path',
      );
    return;
  }
  // Equal to the entry's own path: the controller's default, which differs from path to path.
  if (path === own) x.writeDefault(KEY.cookiePath, path, 'cookie.path');
  else x.write(KEY.cookiePath, path, 'cookie.path');
}

function cookieSecure(x: Expression, secure: CookieSpec['secure']): void {
  const entry = x.entry.entry;
  const https = hasHttps(entry);
  if (secure === 'https') {
    x.writeDefault(KEY.cookieSecure, 'false', 'cookie.secure');
  } else if (secure === 'always') {
    if (https || entry.listeners.length === 0) x.write(KEY.cookieSecure, 'true', 'cookie.secure');
    else
      x.unsupported(
        `the Ingress serves ${quote(entry.host ?? '*')} over plain HTTP only, where a Secure-only cookie would never come back (Tether refuses that); ${KEY.cookieSecure} is left out, so nginx sets Secure on HTTPS requests only (list the host under spec.tls to serve it over HTTPS)`,
        'cookie.secure',
      );
  } else if (https) {
    x.unsupported(
      'ingress-nginx marks its cookie Secure on every response to an HTTPS request and cannot be told not to',
      'cookie.secure',
    );
  } else {
    x.sameBehaviour(
      'ingress-nginx marks its cookie Secure on responses to HTTPS requests, and this entry point serves plain HTTP only, so the cookie is never Secure, as before',
      'cookie.secure',
    );
  }
}

function sameSite(x: Expression, cookie: CookieSpec): void {
  if (cookie.sameSite !== undefined)
    x.write(KEY.cookieSameSite, cookie.sameSite, 'cookie.sameSite');
  if (!cookie.omitSameSiteNoneForOldClients) {
    x.writeDefault(
      KEY.cookieConditionalSameSiteNone,
      'false',
      'cookie.omitSameSiteNoneForOldClients',
    );
  } else if (cookie.sameSite === 'None') {
    x.write(KEY.cookieConditionalSameSiteNone, 'true', 'cookie.omitSameSiteNoneForOldClients');
  } else {
    x.unsupported(
      `ingress-nginx leaves SameSite out for old browsers only when SameSite is "None" (here ${cookie.sameSite === undefined ? 'it is not set' : `it is ${quote(cookie.sameSite)}`})`,
      'cookie.omitSameSiteNoneForOldClients',
    );
  }
}

/** Max-Age and Expires go to nginx as whole seconds; nothing else decides the lifetime. */
function lifetime(x: Expression, cookie: CookieSpec): void {
  let permanent = false;
  for (const [key, field, value] of [
    [KEY.cookieMaxAge, 'cookie.maxAgeSeconds', cookie.maxAgeSeconds],
    [KEY.cookieExpires, 'cookie.expiresSeconds', cookie.expiresSeconds],
  ] as const) {
    if (value === undefined) continue;
    if (Number.isSafeInteger(value)) {
      x.write(key, String(value), field);
      permanent = true;
    } else {
      x.unsupported(`${value} seconds is too large to write as ${key}`, field);
    }
  }
  if (cookie.lifetime === 'permanent' && !permanent) {
    x.unsupported(
      `the cookie is permanent but has no Max-Age or Expires; ingress-nginx makes a cookie outlive the browser session only through ${KEY.cookieMaxAge} or ${KEY.cookieExpires}, so it becomes a session cookie`,
      'cookie.lifetime',
    );
  } else if (cookie.lifetime === 'session' && permanent) {
    x.unsupported(
      'ingress-nginx sends Max-Age or Expires as given, which makes the session cookie outlive the browser session',
      'cookie.lifetime',
    );
  }
}

function cookie(x: Expression, policy: PersistencePolicy, cookie: CookieSpec): void {
  x.write(KEY.affinity, 'cookie', 'mode');
  if (cookie.name === DEFAULT_COOKIE_NAME)
    x.writeDefault(KEY.cookieName, cookie.name, 'cookie.name');
  else x.write(KEY.cookieName, cookie.name, 'cookie.name');
  cookiePath(x, cookie.path);
  if (cookie.domain !== undefined) x.write(KEY.cookieDomain, cookie.domain, 'cookie.domain');
  if (!cookie.httpOnly)
    x.unsupported(
      'ingress-nginx always marks its affinity cookie HttpOnly, so scripts in the page can no longer read it',
      'cookie.httpOnly',
    );
  cookieSecure(x, cookie.secure);
  sameSite(x, cookie);
  lifetime(x, cookie);
  if (cookie.nocache)
    x.unsupported(
      'ingress-nginx cannot add Cache-Control: private to the responses that set its cookie, so a shared cache may keep them',
      'cookie.nocache',
    );
  if (policy.rebalance === 'persistent') x.write(KEY.affinityMode, 'persistent', 'rebalance');
  else x.writeDefault(KEY.affinityMode, 'balanced', 'rebalance');
  switch (policy.onFailure) {
    case 'retryElsewhere':
      x.write(KEY.cookieChangeOnFailure, 'true', 'onFailure');
      break;
    case 'retryPinned':
      x.writeDefault(KEY.cookieChangeOnFailure, 'false', 'onFailure');
      break;
    case 'rebalance':
      // The nearest: the client moves after a failed attempt. ingress-nginx then also retries
      // a connection that broke before the response, which the source did not.
      x.write(KEY.cookieChangeOnFailure, 'true', 'onFailure');
      x.unsupported(
        `ingress-nginx moves a pinned client only with ${KEY.cookieChangeOnFailure}: "true", which also retries a request whose connection broke before the response; it has no mode that moves only clients whose endpoint is gone or refuses`,
        'onFailure',
      );
      break;
    case 'fail':
      x.unsupported(
        'ingress-nginx cannot fail closed (like OCI disableFallback): when the pinned endpoint is gone it always sends the client to another one',
        'onFailure',
      );
  }
}

/** Rebalancing and failover exist in ingress-nginx only together with cookie affinity. */
function withoutAffinity(x: Expression, policy: PersistencePolicy): void {
  if (policy.rebalance !== 'persistent')
    x.unsupported(
      `ingress-nginx has ${KEY.affinityMode} only with cookie affinity, so rebalance ${quote(policy.rebalance)} cannot be written`,
      'rebalance',
    );
  if (policy.onFailure !== 'rebalance')
    x.unsupported(
      `ingress-nginx chooses what happens after a failure (${KEY.cookieChangeOnFailure}) only with cookie affinity, so onFailure ${quote(policy.onFailure)} cannot be written`,
      'onFailure',
    );
}

function otherModes(x: Expression, policy: PersistencePolicy): void {
  switch (policy.mode) {
    case 'appCookie':
      x.unsupported(
        `ingress-nginx pins sessions only with a cookie of its own; it cannot follow the application's cookie ${quote(policy.appCookie?.name ?? '')}, so no persistence is written`,
        'mode',
        'appCookie.name',
        ...cookieFields(policy.cookie),
      );
      break;
    case 'header':
      // Hashing by the header is not the same thing: clients that have not yet been given a
      // session header would all hash alike and land on one endpoint.
      x.unsupported(
        `ingress-nginx has no header persistence; it can only hash requests by a header (upstream-hash-by "$http_…"), which issues nothing and would send every client without ${quote(policy.header?.name ?? '')} to one endpoint, so no persistence is written`,
        'mode',
        'header.name',
      );
      break;
    case 'sourceIp':
      // The hash itself is written with the balancing (upstream-hash-by "$remote_addr").
      if (policy.sourceIp?.timeoutSeconds !== undefined)
        x.unsupported(
          `hashing the client address has no timeout in ingress-nginx, so the ${policy.sourceIp.timeoutSeconds} s session timeout is lost`,
          'sourceIp.timeoutSeconds',
        );
      break;
    default:
      break;
  }
}

function timeouts(x: Expression, policy: PersistencePolicy): void {
  const absolute = policy.absoluteTimeoutSeconds;
  if (absolute !== undefined) {
    const byMaxAge =
      policy.mode === 'cookie' && policy.cookie?.maxAgeSeconds === absolute
        ? `; the cookie's Max-Age of ${absolute} s still ends the session in the browser`
        : '';
    x.unsupported(
      `ingress-nginx does not time sessions out itself, so the absolute timeout of ${absolute} s is lost${byMaxAge}`,
      'absoluteTimeoutSeconds',
    );
  }
  if (policy.idleTimeoutSeconds !== undefined)
    x.unsupported(
      `ingress-nginx has no idle timeout: it issues its cookie once and never refreshes it, so the ${policy.idleTimeoutSeconds} s idle timeout is lost`,
      'idleTimeoutSeconds',
    );
}

function canaryBehavior(x: Expression, policy: PersistencePolicy): void {
  const behavior = policy.canaryBehavior;
  if (behavior === undefined) return;
  // The controller defaults it only for Ingresses with cookie affinity.
  if (behavior === 'sticky' && policy.mode === 'cookie')
    x.writeDefault(KEY.affinityCanaryBehavior, behavior, 'canaryBehavior');
  else x.write(KEY.affinityCanaryBehavior, behavior, 'canaryBehavior');
}

/** The persistence part of a policy: cookie affinity, or what the other modes lose. */
export function expressPersistence(
  x: Expression,
  policy: PersistencePolicy,
  facts: IngressFacts,
): void {
  if (policy.mode === 'cookie' && policy.cookie && !facts.serviceUpstream) {
    cookie(x, policy, policy.cookie);
  } else {
    if (policy.mode === 'cookie') {
      x.unsupported(
        `${KEY.serviceUpstream} is "true" on this Ingress: ingress-nginx proxies to the Service's ClusterIP alone and cannot pin sessions, so no cookie affinity is written (remove ${KEY.serviceUpstream} to keep it)`,
        'mode',
        ...cookieFields(policy.cookie),
      );
    }
    otherModes(x, policy);
    withoutAffinity(x, policy);
  }
  timeouts(x, policy);
  canaryBehavior(x, policy);
}
