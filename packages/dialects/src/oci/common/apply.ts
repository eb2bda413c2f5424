import type { FieldCollector } from '../../helpers';
import {
  AppCookieConfig,
  LbCookieConfig,
  OCI_DEFAULT_COOKIE_NAME,
  OCI_DEFAULT_COOKIE_PATH,
} from './cookie-config';

/**
 * Sets LB-cookie persistence from OCI's configuration. Fields left out get OCI's defaults:
 * the cookie name, Path `/`, no Secure, no HttpOnly, no Max-Age (a session cookie) and
 * fallback to another backend when the pinned one is gone.
 */
export function applyLbCookie(c: FieldCollector, config: LbCookieConfig, key: string): void {
  c.set('mode', 'cookie', key);
  if (config.cookieName !== undefined) c.set('cookie.name', config.cookieName, key);
  else c.setDefault('cookie.name', OCI_DEFAULT_COOKIE_NAME, key);
  if (config.path !== undefined) c.set('cookie.path', config.path, key);
  else c.setDefault('cookie.path', OCI_DEFAULT_COOKIE_PATH, key);
  if (config.domain !== undefined) c.set('cookie.domain', config.domain, key);
  if (config.maxAgeInSeconds !== undefined)
    c.set('cookie.maxAgeSeconds', config.maxAgeInSeconds, key);
  if (config.isSecure !== undefined)
    c.set('cookie.secure', config.isSecure ? 'always' : 'never', key);
  else c.setDefault('cookie.secure', 'never', key);
  if (config.isHttpOnly !== undefined) c.set('cookie.httpOnly', config.isHttpOnly, key);
  else c.setDefault('cookie.httpOnly', false, key);
  applyFallback(c, config.disableFallback, key);
}

/**
 * Sets application-cookie persistence: the balancer follows the backend's cookie `name`
 * (`*` = any) and issues its own companion cookie under OCI's default name.
 */
export function applyAppCookie(
  c: FieldCollector,
  name: string,
  disableFallback: AppCookieConfig['disableFallback'],
  key: string,
): void {
  c.set('mode', 'appCookie', key);
  c.set('appCookie.name', name, key);
  c.setDefault('cookie.name', OCI_DEFAULT_COOKIE_NAME, key);
  applyFallback(c, disableFallback, key);
}

/** disableFallback: OCI answers 502 while the pinned backend is gone instead of moving the client. */
function applyFallback(c: FieldCollector, disableFallback: boolean | undefined, key: string): void {
  if (disableFallback !== undefined)
    c.set('onFailure', disableFallback ? 'fail' : 'rebalance', key);
  else c.setDefault('onFailure', 'rebalance', key);
}
