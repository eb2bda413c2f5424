/**
 * The cookie configurations of OCI's two persistence models, as JSON annotation values:
 * reading them as OCI's Go decoder does (LbCookieSessionPersistenceConfigurationDetails and
 * SessionPersistenceConfigurationDetails), setting an LB cookie's policy fields with OCI's
 * defaults, and writing them back in OCI's field order.
 */
import { Diagnostic, SourceRef, error, quote, warning } from '@tether/model';
import { GoStruct, GoStructShape, decodeGoStruct } from '../go-struct';
import { suggestField } from '../suggest';
import type { FieldCollector } from '../../../helpers';

/** The name OCI gives its own cookie when none is configured (LB cookie, and app-cookie companion). */
export const OCI_DEFAULT_COOKIE_NAME = 'X-Oracle-BMC-LBS-Route';
/** OCI's default cookie Path. */
export const OCI_DEFAULT_COOKIE_PATH = '/';

/** OCI's LB-cookie configuration (LbCookieSessionPersistenceConfigurationDetails). */
export const LB_COOKIE_SHAPE = {
  cookieName: 'string',
  disableFallback: 'bool',
  domain: 'string',
  path: 'string',
  maxAgeInSeconds: 'int',
  isSecure: 'bool',
  isHttpOnly: 'bool',
} as const satisfies GoStructShape;

/** OCI's application-cookie configuration (SessionPersistenceConfigurationDetails). */
export const APP_COOKIE_SHAPE = {
  cookieName: 'string',
  disableFallback: 'bool',
} as const satisfies GoStructShape;

export type LbCookieConfig = GoStruct<typeof LB_COOKIE_SHAPE>;
export type AppCookieConfig = GoStruct<typeof APP_COOKIE_SHAPE>;

export interface ReadContext {
  source: SourceRef;
  diagnostics: Diagnostic[];
  /** The annotation of the other persistence model, named when a key belongs there. */
  otherModelKey: string;
  /**
   * A cookieName of only white space means unset (the default name), as the native ingress
   * controller normalises it (`pkg/util/util.go`, `getLbCookieFromJSONOnly`); the cloud
   * controller manager passes it to OCI, which refuses it.
   */
  blankCookieNameIsUnset?: boolean;
}

// RFC 6265 cookie-name: an HTTP token.
const COOKIE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Browsers store at most 4096 bytes per cookie, name included.
const MAX_COOKIE_NAME = 4096;
const HOST_NAME = /^[A-Za-z0-9._-]+$/;

/** A Domain OCI can carry: a host name of letters, digits, '-' and '.', at most 253 characters. */
export function isCookieDomain(domain: string): boolean {
  return domain.length <= 253 && HOST_NAME.test(domain);
}

/** Control characters and ';' would end or split the Set-Cookie attribute. */
export function unsafeInPath(path: string): boolean {
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x3b) return true;
  }
  return false;
}

export function isCookieName(name: string): boolean {
  return name.length <= MAX_COOKIE_NAME && COOKIE_TOKEN.test(name);
}

function unknownKeyWarnings(
  ctx: ReadContext,
  unknown: readonly { key: string; line: number; column: number }[],
  model: string,
  known: readonly string[],
  otherModelFields: readonly string[],
): void {
  for (const u of unknown) {
    const belongsElsewhere = otherModelFields.find((f) => f.toLowerCase() === u.key.toLowerCase());
    const suggestion = belongsElsewhere ? undefined : suggestField(u.key, known);
    let hint = '';
    if (belongsElsewhere) hint = `; ${belongsElsewhere} is a field of ${ctx.otherModelKey}`;
    else if (suggestion === 'maxAgeInSeconds')
      hint = `; did you mean "maxAgeInSeconds"? Without it the cookie lasts only for the browser session`;
    else if (suggestion) hint = `; did you mean ${quote(suggestion)}?`;
    ctx.diagnostics.push(
      warning(
        'UnknownField',
        `${ctx.source.field}: JSON key ${quote(u.key)} (line ${u.line}, column ${u.column}) is not a field of OCI's ${model} configuration; OCI would ignore it${hint}`,
        ctx.source,
      ),
    );
  }
}

function nullWarning(ctx: ReadContext): void {
  ctx.diagnostics.push(
    warning(
      'InvalidAnnotation',
      `${ctx.source.field}: JSON null is read as an empty object, so OCI would turn this persistence on with every default; remove the annotation to turn it off`,
      ctx.source,
    ),
  );
}

/** Checks a cookie name; `*` is accepted where the vendor means "any cookie". */
export function checkCookieName(
  ctx: ReadContext,
  name: string,
  jsonKey: string,
  allowAny: boolean,
): boolean {
  if ((allowAny && name === '*') || isCookieName(name)) return true;
  ctx.diagnostics.push(
    error(
      'InvalidAnnotation',
      `${ctx.source.field}: ${jsonKey} ${quote(name)} is not a valid cookie name (expected ${allowAny ? '"*" or ' : ''}letters, digits and !#$%&'*+-.^_\`|~ only, no spaces or control characters)`,
      ctx.source,
    ),
  );
  return false;
}

/**
 * Reads OCI's LB-cookie JSON. Returns the configuration, or undefined when OCI would refuse
 * it (every reason is in the diagnostics). An empty cookieName, domain or path counts as
 * unset, so OCI's defaults apply.
 */
export function readLbCookieConfig(text: string, ctx: ReadContext): LbCookieConfig | undefined {
  const decoded = decodeGoStruct(text, LB_COOKIE_SHAPE, ctx.source, ctx.diagnostics);
  unknownKeyWarnings(ctx, decoded.unknown, 'LB-cookie', Object.keys(LB_COOKIE_SHAPE), []);
  if (!decoded.ok) return undefined;
  if (decoded.isNull) nullWarning(ctx);
  const config: LbCookieConfig = { ...decoded.values };
  let ok = true;
  if (
    config.cookieName === '' ||
    (ctx.blankCookieNameIsUnset === true && config.cookieName?.trim() === '')
  )
    delete config.cookieName;
  if (config.domain === '') delete config.domain;
  if (config.path === '') delete config.path;
  if (config.cookieName !== undefined)
    ok = checkCookieName(ctx, config.cookieName, 'cookieName', false) && ok;
  if (config.domain !== undefined && !isCookieDomain(config.domain)) {
    ok = false;
    ctx.diagnostics.push(
      error(
        'InvalidAnnotation',
        `${ctx.source.field}: domain ${quote(config.domain)} is not a host name (expected letters, digits, '-' and '.', such as "example.com"; write international names in their xn-- form)`,
        ctx.source,
      ),
    );
  }
  if (config.path !== undefined) {
    if (unsafeInPath(config.path)) {
      ok = false;
      ctx.diagnostics.push(
        error(
          'InvalidAnnotation',
          `${ctx.source.field}: path ${quote(config.path)} contains a control character or ';', which cannot stand in a cookie Path`,
          ctx.source,
        ),
      );
    } else if (!config.path.startsWith('/')) {
      ctx.diagnostics.push(
        warning(
          'InvalidAnnotation',
          `${ctx.source.field}: path ${quote(config.path)} does not start with "/"; browsers ignore such a Path and scope the cookie to the request's directory`,
          ctx.source,
        ),
      );
    }
  }
  if (config.maxAgeInSeconds !== undefined) {
    if (config.maxAgeInSeconds < 1) {
      ok = false;
      ctx.diagnostics.push(
        error(
          'InvalidAnnotation',
          `${ctx.source.field}: maxAgeInSeconds ${config.maxAgeInSeconds} is not valid; OCI requires at least 1 (leave it out for a session cookie)`,
          ctx.source,
        ),
      );
    } else if (config.maxAgeInSeconds > Number.MAX_SAFE_INTEGER) {
      ctx.diagnostics.push(
        warning(
          'InvalidAnnotation',
          `${ctx.source.field}: maxAgeInSeconds is larger than Tether can hold exactly; using ${Number.MAX_SAFE_INTEGER}`,
          ctx.source,
        ),
      );
      config.maxAgeInSeconds = Number.MAX_SAFE_INTEGER;
    }
  }
  return ok ? config : undefined;
}

/**
 * Reads OCI's application-cookie JSON. Returns the fields as written (each dialect applies
 * its controller's own handling of cookieName and disableFallback), or undefined when OCI
 * would refuse the text.
 */
export function readAppCookieConfig(text: string, ctx: ReadContext): AppCookieConfig | undefined {
  const decoded = decodeGoStruct(text, APP_COOKIE_SHAPE, ctx.source, ctx.diagnostics);
  unknownKeyWarnings(
    ctx,
    decoded.unknown,
    'application-cookie',
    Object.keys(APP_COOKIE_SHAPE),
    Object.keys(LB_COOKIE_SHAPE).filter((k) => !(k in APP_COOKIE_SHAPE)),
  );
  if (!decoded.ok) return undefined;
  if (decoded.isNull) nullWarning(ctx);
  return { ...decoded.values };
}

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
