/**
 * Cookie affinity: `affinity: cookie` and the session-cookie-* keys, `affinity-mode`,
 * `affinity-canary-behavior` — how they are read, checked together, turned into policy
 * fields, and written back from a policy (with what the other persistence modes lose).
 */
import {
  CookieSpec,
  Diagnostic,
  EntryRef,
  PersistencePolicy,
  PolicyField,
  error,
  info,
  quote,
  warning,
} from '@tether/model';
import type { FieldCollector } from '../../helpers';
import { sourceOf } from '../../kube';
import {
  BASIC_CHARS,
  DEFAULT_COOKIE_NAME,
  KEY,
  NginxKey,
  SECONDS_CHECK,
  URL_CHARS,
} from '../annotations';
import type { Expression } from '../expression';
import { AnnotationReader, DIALECT, Interpreter, bool, oneOf, token } from '../reader';
import type { NginxSettings, SameSiteSetting } from '../settings-shape';
import { MAX_ATTRIBUTE_LENGTH, isHeaderSafe } from '../values';

/** The cookie attributes, which the controller reads only when affinity is "cookie". */
export const COOKIE_KEYS: readonly NginxKey[] = [
  KEY.affinityMode,
  KEY.cookieName,
  KEY.cookiePath,
  KEY.cookieDomain,
  KEY.cookieSecure,
  KEY.cookieSameSite,
  KEY.cookieConditionalSameSiteNone,
  KEY.cookieMaxAge,
  KEY.cookieExpires,
  KEY.cookieChangeOnFailure,
];

const sameSiteText: Interpreter<SameSiteSetting> = (text, key) => {
  const found = oneOf(['Strict', 'Lax', 'None'] as const, false)(text, key);
  return 'value' in found ? { value: { value: found.value, written: text.normalized } } : found;
};

/**
 * Max-Age and Expires. The controller checks the text again after trimming and drops it when
 * that check fails; what passes goes to nginx as text, where only a whole number works.
 */
const seconds: Interpreter<number> = ({ normalized }, key) => {
  const what = key === KEY.cookieMaxAge ? 'Max-Age' : 'Expires';
  if (!SECONDS_CHECK.test(normalized)) {
    return {
      message: `is not a number of seconds; ingress-nginx would silently leave ${what} out`,
    };
  }
  const value = /^-?\d+$/.test(normalized) ? Number(normalized) : undefined;
  if (value === undefined || !Number.isSafeInteger(value)) {
    return {
      message: `is not a whole number of seconds Tether can hold; it gets past ingress-nginx's check (anchored at one end only) but nginx could not make a valid ${what} of it; Tether will leave ${what} out`,
    };
  }
  return { value };
};

function readCookie(reader: AnnotationReader, settings: NginxSettings): void {
  settings.affinityMode = reader.read(KEY.affinityMode, oneOf(['balanced', 'persistent']));
  settings.cookieName = reader.read(KEY.cookieName, token(BASIC_CHARS));
  settings.cookiePath = reader.read(KEY.cookiePath, token(URL_CHARS));
  settings.cookieDomain = reader.read(KEY.cookieDomain, token(BASIC_CHARS));
  settings.cookieSecure = reader.read(KEY.cookieSecure, bool);
  settings.sameSite = reader.read(KEY.cookieSameSite, sameSiteText);
  settings.conditionalSameSiteNone = reader.read(KEY.cookieConditionalSameSiteNone, bool);
  settings.maxAgeSeconds = reader.read(KEY.cookieMaxAge, seconds);
  settings.expiresSeconds = reader.read(KEY.cookieExpires, seconds);
  settings.changeOnFailure = reader.read(KEY.cookieChangeOnFailure, bool);
}

function warnCookieKeysWithoutAffinity(reader: AnnotationReader): void {
  for (const key of COOKIE_KEYS) {
    if (!reader.has(key)) continue;
    reader.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${key} has no effect: ingress-nginx reads the cookie settings only when ${KEY.affinity} is "cookie"`,
        reader.source(key),
        ...reader.sources(KEY.affinity),
      ),
    );
  }
}

/** Reads cookie affinity, its cookie (only when affinity is "cookie") and the canary behaviour. */
export function readAffinity(reader: AnnotationReader, settings: NginxSettings): void {
  settings.affinity = reader.read(KEY.affinity, oneOf(['cookie'])) === 'cookie';
  if (settings.affinity) readCookie(reader, settings);
  else warnCookieKeysWithoutAffinity(reader);
  settings.canaryBehavior = reader.read(KEY.affinityCanaryBehavior, oneOf(['sticky', 'legacy']));
}

function cookieRules(r: AnnotationReader, s: NginxSettings): void {
  if (s.sameSite && s.sameSite.written !== s.sameSite.value) {
    r.diagnostics.push(
      info(
        'ValueNormalised',
        `${KEY.cookieSameSite}: ingress-nginx sends ${quote(s.sameSite.written)} as written; browsers read SameSite without regard to case, so Tether uses ${s.sameSite.value}`,
        r.source(KEY.cookieSameSite),
      ),
    );
  }
  if (s.conditionalSameSiteNone === true && s.sameSite?.written !== 'None') {
    r.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEY.cookieConditionalSameSiteNone} takes effect only when ${KEY.cookieSameSite} is exactly "None" (${s.sameSite ? `it is ${quote(s.sameSite.written)}` : 'it is not set'}); ingress-nginx would never leave SameSite out`,
        r.source(KEY.cookieConditionalSameSiteNone),
        ...r.sources(KEY.cookieSameSite),
      ),
    );
  }
  for (const [key, value] of [
    [KEY.cookieMaxAge, s.maxAgeSeconds],
    [KEY.cookieExpires, s.expiresSeconds],
  ] as const) {
    if (value === undefined || value > 0) continue;
    r.diagnostics.push(
      warning(
        'InvalidAnnotation',
        `${key}: ${value} seconds makes browsers discard the cookie at once, so sessions never stick; ingress-nginx sends it anyway, and so does Tether`,
        r.source(key),
      ),
    );
  }
  // Row 18: with regular-expression paths the cookie Path would be the expression's text.
  if (s.useRegex === true && s.cookiePath === undefined) {
    r.diagnostics.push(
      warning(
        'CookiePathIsRegex',
        `${KEY.useRegex} is "true" and no valid ${KEY.cookiePath} is set, so the cookie Path is the text of each path's regular expression, which browsers compare literally; set ${KEY.cookiePath}`,
        ...r.sources(KEY.useRegex, KEY.affinity, KEY.cookiePath),
      ),
    );
  }
}

/** The affinity rules that look at several annotations together. */
export function checkAffinity(r: AnnotationReader, s: NginxSettings): void {
  if (s.affinity) cookieRules(r, s);
  // Row 20: with service-upstream there is one upstream address, so nothing can be pinned.
  if (s.affinity && s.serviceUpstream === true) {
    s.refused = true;
    r.diagnostics.push(
      error(
        'IncompatibleSettings',
        `${KEY.affinity} "cookie" cannot work with ${KEY.serviceUpstream} "true": ingress-nginx would proxy to the Service's ClusterIP alone and sessions would silently not stick; Tether refuses the Ingress`,
        r.source(KEY.affinity),
        r.source(KEY.serviceUpstream),
      ),
    );
  }
}

/** The spec path of an Ingress entry's path, for sources: `rules[0].paths[1]` → `spec.rules[0].http.paths[1].path`. */
function pathField(entry: EntryRef): string {
  return entry.rule === 'defaultBackend'
    ? 'spec.defaultBackend'
    : `spec.${entry.rule.replace('.paths', '.http.paths')}.path`;
}

function cookieFields(
  c: FieldCollector,
  s: NginxSettings,
  entry: EntryRef,
  diagnostics: Diagnostic[],
): void {
  c.set('mode', 'cookie', KEY.affinity);
  if (s.cookieName !== undefined) c.set('cookie.name', s.cookieName, KEY.cookieName);
  else c.setDefault('cookie.name', DEFAULT_COOKIE_NAME, KEY.cookieName);
  if (s.cookiePath !== undefined) c.set('cookie.path', s.cookiePath, KEY.cookiePath);
  else if (entry.path !== undefined) {
    // The controller's default Path is the Ingress path exactly as written.
    if (isHeaderSafe(entry.path) && entry.path.length <= MAX_ATTRIBUTE_LENGTH) {
      c.setDefault('cookie.path', entry.path, KEY.cookiePath);
    } else {
      diagnostics.push(
        warning(
          'InvalidObject',
          `the path ${quote(entry.path)} would be the cookie Path, but it holds spaces, ";" or control characters that would break the cookie header; Tether sends the cookie without a Path (set ${KEY.cookiePath})`,
          sourceOf(DIALECT, c.object, pathField(entry)),
        ),
      );
    }
  }
  if (s.cookieDomain !== undefined) c.set('cookie.domain', s.cookieDomain, KEY.cookieDomain);
  c.setDefault('cookie.httpOnly', true, KEY.affinity);
  if (s.cookieSecure !== undefined) {
    c.set('cookie.secure', s.cookieSecure ? 'always' : 'https', KEY.cookieSecure);
  } else c.setDefault('cookie.secure', 'https', KEY.cookieSecure);
  if (s.sameSite) c.set('cookie.sameSite', s.sameSite.value, KEY.cookieSameSite);
  // The controller leaves SameSite out for old browsers only when it is written exactly "None".
  const omitForOldClients = s.conditionalSameSiteNone === true && s.sameSite?.written === 'None';
  if (s.conditionalSameSiteNone === false || omitForOldClients) {
    c.set(
      'cookie.omitSameSiteNoneForOldClients',
      omitForOldClients,
      KEY.cookieConditionalSameSiteNone,
    );
  } else {
    c.setDefault('cookie.omitSameSiteNoneForOldClients', false, KEY.cookieConditionalSameSiteNone);
  }
  if (s.maxAgeSeconds !== undefined)
    c.set('cookie.maxAgeSeconds', s.maxAgeSeconds, KEY.cookieMaxAge);
  if (s.expiresSeconds !== undefined) {
    c.set('cookie.expiresSeconds', s.expiresSeconds, KEY.cookieExpires);
  }
  c.setDefault('cookie.nocache', false, KEY.affinity);
  if (s.affinityMode !== undefined) c.set('rebalance', s.affinityMode, KEY.affinityMode);
  else c.setDefault('rebalance', 'balanced', KEY.affinityMode);
  // false (the default): a pinned peer that fails is tried again while it is listed
  // (sticky.lua picks a new one only when change_on_failure is true).
  if (s.changeOnFailure !== undefined) {
    c.set(
      'onFailure',
      s.changeOnFailure ? 'retryElsewhere' : 'retryPinned',
      KEY.cookieChangeOnFailure,
    );
  } else c.setDefault('onFailure', 'retryPinned', KEY.cookieChangeOnFailure);
}

/** The persistence fields of one entry point. */
export function affinityFields(
  c: FieldCollector,
  s: NginxSettings,
  entry: EntryRef,
  diagnostics: Diagnostic[],
): void {
  if (s.affinity) cookieFields(c, s, entry, diagnostics);
  if (s.canaryBehavior !== undefined) {
    c.set('canaryBehavior', s.canaryBehavior, KEY.affinityCanaryBehavior);
  } else if (s.affinity) c.setDefault('canaryBehavior', 'sticky', KEY.affinityCanaryBehavior);
}

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
function cookiePolicyFields(cookie: CookieSpec | undefined): PolicyField[] {
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
        ...cookiePolicyFields(policy.cookie),
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
        ...cookiePolicyFields(policy.cookie),
      );
    }
    otherModes(x, policy);
    withoutAffinity(x, policy);
  }
  timeouts(x, policy);
  canaryBehavior(x, policy);
}
