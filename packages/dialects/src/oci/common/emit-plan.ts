import { BalancingAlgorithm, FlatValues, PolicyField, quote } from '@tether/model';
import {
  AppCookieConfig,
  LbCookieConfig,
  OCI_DEFAULT_COOKIE_NAME,
  OCI_DEFAULT_COOKIE_PATH,
  isCookieDomain,
  isCookieName,
  unsafeInPath,
} from './features/cookie';
import type { Notes } from '../../emit-losses';

export type OciPolicyName = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'IP_HASH';

const POLICY_OF: Partial<Record<BalancingAlgorithm, OciPolicyName>> = {
  roundRobin: 'ROUND_ROBIN',
  leastConnections: 'LEAST_CONNECTIONS',
  sourceIpHash: 'IP_HASH',
};
const ALGORITHM_OF: Record<OciPolicyName, BalancingAlgorithm> = {
  ROUND_ROBIN: 'roundRobin',
  LEAST_CONNECTIONS: 'leastConnections',
  IP_HASH: 'sourceIpHash',
};

export type PersistenceWrite =
  | { kind: 'none' }
  | { kind: 'lbCookie'; config: LbCookieConfig }
  | { kind: 'appCookie'; config: AppCookieConfig };

/** What one OCI controller's annotations will say for an object. */
export interface OciWrite {
  persistence: PersistenceWrite;
  /** The policy the backend sets will use. */
  policy: OciPolicyName;
  /** Whether the policy annotation must be written (it differs from the default, or explicit). */
  writePolicy: boolean;
}

/** The controller that will read the annotations, and what it allows on this object. */
export interface OciTarget {
  defaultPolicy: OciPolicyName;
  /** Whether the controller passes an application cookie's disableFallback on to OCI. */
  keepsAppCookieFallback: boolean;
  /** Why the controller can keep no session on this object at all (TCP pass-through, say). */
  noPersistence?: string;
  /** Whether every listener of the object terminates TLS (then isSecure: true is allowed). */
  allHttps: boolean;
  explicit: boolean;
}

const FOLLOWS_MODE = 'follows mode, which is not written (see mode)';

function planMode(flat: FlatValues, target: OciTarget, notes: Notes): PersistenceWrite {
  const mode = flat.mode ?? 'none';
  if (mode === 'none') return { kind: 'none' };
  if ((mode === 'cookie' || mode === 'appCookie') && target.noPersistence) {
    notes.mode = target.noPersistence;
    return { kind: 'none' };
  }
  if (mode === 'cookie') return { kind: 'lbCookie', config: planLbCookie(flat, target, notes) };
  if (mode === 'appCookie') return planAppCookie(flat, target, notes);
  if (mode === 'sourceIp') {
    notes.mode =
      'OCI keeps sessions only with cookies; its IP_HASH policy hashes client addresses for requests without a session cookie, which is balancing, not a session (add IP_HASH by hand if that is close enough)';
    notes['sourceIp.timeoutSeconds'] = 'OCI has no source-address session to time out';
  } else notes.mode = `OCI keeps sessions only with cookies; it has no ${mode} persistence`;
  return { kind: 'none' };
}

function planCookieName(flat: FlatValues, config: LbCookieConfig, target: OciTarget, notes: Notes) {
  const name = flat['cookie.name'];
  if (name === undefined) return;
  if (!isCookieName(name)) {
    notes['cookie.name'] =
      `OCI refuses ${quote(name)} as a cookie name (it must be an HTTP token), so OCI's default name is used`;
    if (target.explicit) config.cookieName = OCI_DEFAULT_COOKIE_NAME;
  } else if (name !== OCI_DEFAULT_COOKIE_NAME || target.explicit) config.cookieName = name;
}

function planFallback(
  flat: FlatValues,
  config: { disableFallback?: boolean },
  writable: boolean,
  target: OciTarget,
  notes: Notes,
): void {
  const onFailure = flat.onFailure ?? 'rebalance';
  if (onFailure === 'retryElsewhere')
    notes.onFailure =
      'OCI does not retry a failed request on another backend; it moves the client only when the pinned backend is unavailable (disableFallback false)';
  if (onFailure === 'retryPinned')
    notes.onFailure =
      'OCI does not keep a client on a backend that refuses connections: it moves the client once the backend fails its health check (disableFallback false)';
  if (!writable) return;
  if (onFailure === 'fail') config.disableFallback = true;
  else if (target.explicit) config.disableFallback = false;
}

function planPath(flat: FlatValues, config: LbCookieConfig, target: OciTarget, notes: Notes) {
  const path = flat['cookie.path'];
  const fallback = `OCI's default Path ${OCI_DEFAULT_COOKIE_PATH} is used`;
  if (path === undefined)
    notes['cookie.path'] =
      `OCI always gives its cookie a Path; the source sets none (browsers would use the request's directory), so ${fallback}`;
  else if (path === '') notes['cookie.path'] = `OCI reads an empty path as unset, so ${fallback}`;
  else if (unsafeInPath(path))
    notes['cookie.path'] =
      `OCI refuses a path with control characters or ';' (${quote(path)}), so ${fallback}`;
  else if (path !== OCI_DEFAULT_COOKIE_PATH || target.explicit) config.path = path;
  if (target.explicit && config.path === undefined) config.path = OCI_DEFAULT_COOKIE_PATH;
}

function planDomain(flat: FlatValues, config: LbCookieConfig, notes: Notes): void {
  const domain = flat['cookie.domain'];
  if (domain === undefined) return;
  if (isCookieDomain(domain)) config.domain = domain;
  else
    notes['cookie.domain'] =
      domain === ''
        ? 'OCI reads an empty domain as unset'
        : `OCI refuses ${quote(domain)} as a domain (a host name of letters, digits, '-' and '.'), so the cookie carries no Domain`;
}

/** Max-Age, else the Expires offset as Max-Age; OCI has no Expires and needs at least 1 s. */
function planLifetime(flat: FlatValues, config: LbCookieConfig, notes: Notes): void {
  const maxAge = flat['cookie.maxAgeSeconds'];
  const expires = flat['cookie.expiresSeconds'];
  if (maxAge !== undefined && maxAge >= 1) {
    config.maxAgeInSeconds = maxAge;
    if (expires !== undefined)
      notes['cookie.expiresSeconds'] =
        `OCI has no Expires attribute, only maxAgeInSeconds; the cookie keeps its Max-Age of ${maxAge} s`;
  } else if (maxAge !== undefined) {
    notes['cookie.maxAgeSeconds'] =
      `OCI requires maxAgeInSeconds of at least 1; a Max-Age of ${maxAge} (the browser drops the cookie at once) cannot be written, so the cookie lasts for the browser session`;
    if (expires !== undefined)
      notes['cookie.expiresSeconds'] = 'OCI has no Expires attribute, only maxAgeInSeconds';
  } else if (expires !== undefined && expires >= 1) {
    config.maxAgeInSeconds = expires;
    notes['cookie.expiresSeconds'] =
      `OCI has no Expires attribute; written as maxAgeInSeconds ${expires}, the same lifetime counted by the browser from when it receives the cookie`;
    notes['cookie.maxAgeSeconds'] = `written from cookie.expiresSeconds (${expires} s)`;
  } else if (expires !== undefined) {
    notes['cookie.expiresSeconds'] =
      `OCI has no Expires attribute, and maxAgeInSeconds must be at least 1, so an Expires offset of ${expires} s cannot be written`;
  }
  const lifetime = flat['cookie.lifetime'];
  const written = config.maxAgeInSeconds !== undefined ? 'permanent' : 'session';
  if (lifetime === 'permanent' && written === 'session')
    notes['cookie.lifetime'] =
      'OCI makes its cookie outlive the browser session only through maxAgeInSeconds, which cannot be written here';
  else if (lifetime === 'session' && written === 'permanent')
    notes['cookie.lifetime'] = 'an OCI cookie with maxAgeInSeconds is always permanent';
}

function planSecure(flat: FlatValues, config: LbCookieConfig, target: OciTarget, notes: Notes) {
  const secure = flat['cookie.secure'] ?? 'never';
  if (secure === 'never') {
    if (target.explicit) config.isSecure = false;
    return;
  }
  if (target.allHttps) {
    config.isSecure = true;
    if (secure === 'https')
      notes['cookie.secure'] =
        'OCI has only isSecure true or false, not Secure on HTTPS responses only; every listener here terminates TLS, so isSecure: true sets Secure on the same responses';
    return;
  }
  if (target.explicit) config.isSecure = false;
  notes['cookie.secure'] =
    secure === 'https'
      ? 'OCI has only isSecure true or false, not Secure on HTTPS responses only, and it refuses isSecure: true where a listener serves plain HTTP, as one does here; the cookie is written without Secure'
      : 'OCI refuses isSecure: true on a backend set that a plain-HTTP listener uses, as one does here; the cookie is written without Secure';
}

function planLbCookie(flat: FlatValues, target: OciTarget, notes: Notes): LbCookieConfig {
  const config: LbCookieConfig = {};
  planCookieName(flat, config, target, notes);
  planFallback(flat, config, true, target, notes);
  planDomain(flat, config, notes);
  planPath(flat, config, target, notes);
  planLifetime(flat, config, notes);
  planSecure(flat, config, target, notes);
  if (flat['cookie.httpOnly'] === true) config.isHttpOnly = true;
  else if (target.explicit) config.isHttpOnly = false;
  return config;
}

function planAppCookie(flat: FlatValues, target: OciTarget, notes: Notes): PersistenceWrite {
  const name = flat['appCookie.name'];
  if (name === undefined || (name !== '*' && !isCookieName(name))) {
    notes['appCookie.name'] =
      `OCI refuses ${quote(name ?? '')} as the backend cookie's name (an HTTP token, or "*" for any cookie)`;
    notes.mode = 'follows appCookie.name, which cannot be written';
    return { kind: 'none' };
  }
  const config: AppCookieConfig = { cookieName: name };
  if (flat.onFailure === 'fail' && !target.keepsAppCookieFallback)
    notes.onFailure =
      'the OCI native ingress controller drops disableFallback of an application cookie, so OCI moves clients to another backend when theirs is gone';
  planFallback(flat, config, target.keepsAppCookieFallback, target, notes);
  return { kind: 'appCookie', config };
}

function planPolicy(
  flat: FlatValues,
  target: OciTarget,
  notes: Notes,
): { policy: OciPolicyName; writePolicy: boolean } {
  const algorithm = flat['loadBalancing.algorithm'] ?? 'roundRobin';
  let policy = POLICY_OF[algorithm];
  if (algorithm === 'hash' && flat['loadBalancing.hashKey'] === '$remote_addr') {
    policy = 'IP_HASH';
    const note =
      'OCI cannot hash on a request value; IP_HASH, which hashes the client address as $remote_addr does, is written instead';
    notes['loadBalancing.algorithm'] = note;
    notes['loadBalancing.hashKey'] = note;
  } else if (policy === undefined) {
    notes['loadBalancing.algorithm'] =
      `OCI's policies are ROUND_ROBIN, LEAST_CONNECTIONS and IP_HASH; it has no ${algorithm} balancing, so the default ${target.defaultPolicy} applies`;
    if (algorithm === 'hash') notes['loadBalancing.hashKey'] = 'OCI cannot hash on a request value';
  }
  const chosen = policy ?? target.defaultPolicy;
  return { policy: chosen, writePolicy: chosen !== target.defaultPolicy || target.explicit };
}

/** The persistence to write; when the mode cannot be written, its fields follow it. */
export function planPersistence(
  flat: FlatValues,
  target: OciTarget,
  notes: Notes,
): PersistenceWrite {
  const persistence = planMode(flat, target, notes);
  if (persistence.kind === 'none' && flat.mode !== undefined && flat.mode !== 'none') {
    for (const field of Object.keys(flat) as PolicyField[])
      if (/^(cookie|appCookie|header|sourceIp)\./.test(field) && !notes[field])
        notes[field] = FOLLOWS_MODE;
  }
  return persistence;
}

/** Decides what to write for a policy, with a note for every field it cannot say as given. */
export function planWrite(flat: FlatValues, target: OciTarget): { write: OciWrite; notes: Notes } {
  const notes: Notes = {};
  const persistence = planPersistence(flat, target, notes);
  return { write: { persistence, ...planPolicy(flat, target, notes) }, notes };
}

export const algorithmOf = (policy: OciPolicyName): BalancingAlgorithm => ALGORITHM_OF[policy];

/**
 * What the dialect's parser gives back for a write: OCI's defaults for every field left out
 * and the model's defaults for what OCI cannot say. Must mirror `applyLbCookie`/`applyAppCookie`.
 */
export function readBack(write: OciWrite, keepsAppCookieFallback: boolean): FlatValues {
  const flat: FlatValues = {
    mode: 'none',
    rebalance: 'persistent',
    onFailure: 'rebalance',
    'loadBalancing.algorithm': algorithmOf(write.policy),
  };
  const p = write.persistence;
  if (p.kind === 'none') return flat;
  const cookieDefaults: FlatValues = {
    'cookie.httpOnly': false,
    'cookie.secure': 'never',
    'cookie.omitSameSiteNoneForOldClients': false,
    'cookie.lifetime': 'session',
    'cookie.nocache': false,
  };
  if (p.kind === 'appCookie') {
    return {
      ...flat,
      ...cookieDefaults,
      mode: 'appCookie',
      'cookie.name': OCI_DEFAULT_COOKIE_NAME,
      'appCookie.name': p.config.cookieName ?? '*',
      onFailure: keepsAppCookieFallback && p.config.disableFallback ? 'fail' : 'rebalance',
    };
  }
  const c = p.config;
  const out: FlatValues = {
    ...flat,
    ...cookieDefaults,
    mode: 'cookie',
    'cookie.name': c.cookieName ?? OCI_DEFAULT_COOKIE_NAME,
    'cookie.path': c.path ?? OCI_DEFAULT_COOKIE_PATH,
    'cookie.httpOnly': c.isHttpOnly ?? false,
    'cookie.secure': c.isSecure ? 'always' : 'never',
    onFailure: c.disableFallback ? 'fail' : 'rebalance',
  };
  if (c.domain !== undefined) out['cookie.domain'] = c.domain;
  if (c.maxAgeInSeconds !== undefined) {
    out['cookie.maxAgeSeconds'] = c.maxAgeInSeconds;
    out['cookie.lifetime'] = 'permanent';
  }
  return out;
}
