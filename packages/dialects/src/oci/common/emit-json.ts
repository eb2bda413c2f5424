import {
  APP_COOKIE_SHAPE,
  AppCookieConfig,
  LB_COOKIE_SHAPE,
  LbCookieConfig,
} from './cookie-config';

/**
 * Compact JSON with OCI's field names in the order OCI's API documents them; fields left
 * undefined are left out, so OCI's own defaults apply to them.
 */
function inShapeOrder(shape: Readonly<Record<string, string>>, config: object): string {
  const values = config as Readonly<Record<string, unknown>>;
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(shape)) if (values[key] !== undefined) ordered[key] = values[key];
  return JSON.stringify(ordered);
}

/** The LB-cookie annotation value: cookieName, disableFallback, domain, path, maxAgeInSeconds, isSecure, isHttpOnly. */
export function lbCookieJson(config: LbCookieConfig): string {
  return inShapeOrder(LB_COOKIE_SHAPE, config);
}

/** The application-cookie annotation value: cookieName, disableFallback. */
export function appCookieJson(config: AppCookieConfig): string {
  return inShapeOrder(APP_COOKIE_SHAPE, config);
}
