/**
 * The router's cookie: `disable_cookies`, `cookie_name` and `cookie-same-site` — read as the
 * router applies them (not on passthrough routes; Secure and SameSite only over TLS), and
 * written back from a policy.
 */
import { createHash } from 'node:crypto';
import { error, quote, warning, type FlatValues } from '@tether/model';
import type { Notes } from '../../emit-losses';
import { ignoredByVendor, parseGoBool, type FieldCollector } from '../../helpers';
import { namespaceOf } from '../../kube';
import type { KubeObject } from '../../types';
import {
  COOKIE_NAME,
  COOKIE_NAME_PATTERN,
  COOKIE_SAME_SITE,
  DISABLE_COOKIES,
  INSECURE_POLICY,
  SAME_SITE_VALUES,
  TERMINATION,
} from '../annotations';
import { VENDOR, isOneOf, type RouteFacts, type Tls } from '../router';

/**
 * The router's default cookie name: the md5 hex of the route key. The router formats the key
 * as "<termination> <namespace>:<name>" but does so before it has read the termination, so
 * the termination part is always empty and the text starts with a space.
 */
export function defaultCookieName(namespace: string, name: string): string {
  return createHash('md5').update(` ${namespace}:${name}`).digest('hex');
}

/** Passthrough routes are TCP: the router never sees HTTP, so no cookie setting can apply. */
export function checkPassthroughCookies(
  c: FieldCollector,
  annotations: Record<string, string>,
  disabled: boolean,
): void {
  if (annotations[COOKIE_NAME] !== undefined) {
    const message = `${COOKIE_NAME}: passthrough routes forward TLS as TCP, so ${VENDOR} cannot set or read a cookie; terminate TLS at the router (edge or reencrypt) or remove the annotation`;
    c.diagnostics.push(
      disabled
        ? warning('IneffectiveSetting', message, c.source(COOKIE_NAME))
        : error('PersistenceOnTcpListener', message, c.source(COOKIE_NAME)),
    );
  }
  if (annotations[COOKIE_SAME_SITE] !== undefined) {
    c.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${COOKIE_SAME_SITE}: passthrough routes carry no cookie, so the value has no effect`,
        c.source(COOKIE_SAME_SITE),
      ),
    );
  }
}

export function readDisabled(c: FieldCollector, raw: string | undefined): boolean | undefined {
  if (raw === undefined) return undefined;
  const parsed = parseGoBool(raw);
  if (parsed === undefined) {
    c.diagnostics.push(
      ignoredByVendor(
        VENDOR,
        c.source(DISABLE_COOKIES),
        raw,
        'a Go boolean such as true, false, 1 or 0',
        'read it as false and keep the cookie on',
      ),
    );
  }
  return parsed;
}

function readCookieName(c: FieldCollector, object: KubeObject, raw: string | undefined): void {
  if (raw !== undefined && COOKIE_NAME_PATTERN.test(raw)) {
    c.set('cookie.name', raw, COOKIE_NAME);
    return;
  }
  if (raw !== undefined) {
    c.diagnostics.push(
      ignoredByVendor(
        VENDOR,
        c.source(COOKIE_NAME),
        raw,
        'letters, digits, "_" and "-" only',
        'name the cookie after the route key hash instead',
      ),
    );
  }
  c.setDefault(
    'cookie.name',
    defaultCookieName(namespaceOf(object), object.metadata.name),
    COOKIE_NAME,
  );
}

/** Secure and SameSite are emitted together, only where the router serves the route over TLS only. */
function readSecurity(c: FieldCollector, tls: Tls, raw: string | undefined): void {
  const secure =
    (tls.termination === 'edge' || tls.termination === 'reencrypt') && tls.insecure !== 'Allow';
  if (!secure) {
    c.setDefault('cookie.secure', 'never', TERMINATION);
    if (raw !== undefined) {
      const why =
        tls.insecure === 'Allow'
          ? 'the route allows plain HTTP (insecureEdgeTerminationPolicy: Allow)'
          : 'the route is plain HTTP';
      c.diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${COOKIE_SAME_SITE}: ${VENDOR} emits SameSite only together with Secure, and ${why}; the value ${quote(raw)} is dropped`,
          c.source(COOKIE_SAME_SITE),
          ...(tls.insecure === 'Allow' ? [c.source(INSECURE_POLICY)] : []),
        ),
      );
    }
    return;
  }
  c.setDefault('cookie.secure', 'always', TERMINATION);
  if (isOneOf(SAME_SITE_VALUES, raw)) {
    c.set('cookie.sameSite', raw, COOKIE_SAME_SITE);
    return;
  }
  if (raw !== undefined) {
    c.diagnostics.push(
      ignoredByVendor(
        VENDOR,
        c.source(COOKIE_SAME_SITE),
        raw,
        'Lax, Strict or None (case-sensitive)',
        'use None',
      ),
    );
  }
  c.setDefault('cookie.sameSite', 'None', COOKIE_SAME_SITE);
}

/** The cookie line the router writes for http, edge and reencrypt backends. */
export function readCookie(
  c: FieldCollector,
  object: KubeObject,
  annotations: Record<string, string>,
  tls: Tls,
  disabled: boolean | undefined,
): void {
  if (disabled === true) {
    c.set('mode', 'none', DISABLE_COOKIES);
    for (const key of [COOKIE_NAME, COOKIE_SAME_SITE]) {
      if (annotations[key] === undefined) continue;
      c.diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${key} has no effect: ${DISABLE_COOKIES} turns the cookie off`,
          c.source(key),
          c.source(DISABLE_COOKIES),
        ),
      );
    }
    return;
  }
  if (disabled === false) c.set('mode', 'cookie', DISABLE_COOKIES);
  else c.setDefault('mode', 'cookie', DISABLE_COOKIES);
  readCookieName(c, object, annotations[COOKIE_NAME]);
  // insert indirect nocache httponly, path always "/", no expiry, option redispatch.
  c.setDefault('cookie.path', '/', DISABLE_COOKIES);
  c.setDefault('cookie.httpOnly', true, DISABLE_COOKIES);
  c.setDefault('cookie.lifetime', 'session', DISABLE_COOKIES);
  c.setDefault('cookie.nocache', true, DISABLE_COOKIES);
  c.setDefault('rebalance', 'persistent', DISABLE_COOKIES);
  c.setDefault('onFailure', 'rebalance', DISABLE_COOKIES);
  readSecurity(c, tls, annotations[COOKIE_SAME_SITE]);
}

/** The cookie annotations: off, or on with its name and SameSite where the router uses them. */
export function planCookie(
  flat: FlatValues,
  facts: RouteFacts,
  write: (key: string, value: string, isDefault: boolean) => void,
  notes: Notes,
): void {
  const mode = flat.mode ?? 'none';
  if (mode === 'sourceIp') {
    notes.mode =
      'the router keeps no table of client addresses; written as balance: source with the cookie off, which hashes the client address over the current endpoints, so a client moves when endpoints come or go';
    if (!facts.passthrough) write(DISABLE_COOKIES, 'true', false);
    return;
  }
  if (facts.passthrough) {
    // The router never sees HTTP on a passthrough route; disable_cookies would have no effect.
    if (mode !== 'none')
      notes.mode = `${facts.served}: the router forwards TLS as TCP and cannot set or read a cookie; terminate TLS at the router (edge or reencrypt) to keep ${mode} persistence`;
    return;
  }
  if (mode === 'none') {
    write(DISABLE_COOKIES, 'true', false);
    return;
  }
  write(DISABLE_COOKIES, 'false', true);
  if (mode === 'appCookie')
    notes.mode =
      'the router cannot follow a cookie the application sets; its own cookie pins clients instead';
  if (mode === 'header')
    notes.mode =
      'the router has no header persistence; its own cookie pins the clients that keep cookies';
  const name = flat['cookie.name'];
  if (name === undefined || COOKIE_NAME_PATTERN.test(name)) {
    const written = name ?? facts.defaultName;
    write(COOKIE_NAME, written, written === facts.defaultName);
  } else {
    notes['cookie.name'] =
      'the router takes only letters, digits, "_" and "-" in cookie_name and would ignore it; the cookie is named after the route key hash instead';
  }
  if (!facts.secure) return;
  const sameSite = flat['cookie.sameSite'] ?? 'None';
  write(COOKIE_SAME_SITE, sameSite, sameSite === 'None');
}
