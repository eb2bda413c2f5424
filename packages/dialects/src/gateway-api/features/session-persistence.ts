import {
  Diagnostic,
  FieldValue,
  PolicyField,
  SourceRef,
  error,
  info,
  quote,
  warning,
} from '@tether/model';
import { isPlainObject, refusedByVendor } from '../../helpers';
import {
  COOKIE_PATH_MAX,
  LIFETIME_TYPES,
  SESSION_NAME_MAX,
  SESSION_TYPES,
  TOKEN_NAME_MAX,
  TOKEN_PATTERN,
  UNION_FIELDS,
  V1_FIELDS,
} from '../annotations';
import { parseDuration } from '../duration';

/** One value of a session configuration, with the spec path it came from. */
export interface Setting {
  field: PolicyField;
  value: FieldValue<PolicyField>;
  /** The spec path of the value, or of the setting whose default it is. */
  key: string;
  isDefault: boolean;
}

export interface Session {
  mode: 'cookie' | 'header';
  settings: Setting[];
  /** No name was given: whoever applies the session generates one per route rule. */
  generateName: boolean;
  /** The spec path that would have named the cookie or header. */
  nameKey: string;
}

export interface SessionRead {
  /** Absent when the API server would refuse the configuration (or there is none). */
  session?: Session;
  diagnostics: Diagnostic[];
}

type SourceFor = (field: string) => SourceRef;

/** Reads the fields one at a time; `refused` records whether the API server would reject it. */
class Reader {
  readonly diagnostics: Diagnostic[] = [];
  refused = false;
  constructor(
    readonly base: string,
    readonly source: SourceFor,
  ) {}

  path(field: string): string {
    return `${this.base}.${field}`;
  }

  refuse(field: string, value: unknown, expected: string): void {
    this.refused = true;
    this.diagnostics.push(refusedByVendor(this.source(this.path(field)), value, expected));
  }

  fail(reason: 'MissingValue' | 'IncompatibleSettings', message: string, ...fields: string[]) {
    this.refused = true;
    this.diagnostics.push(
      error(reason, message, ...fields.map((f) => this.source(f ? this.path(f) : this.base))),
    );
  }

  pruned(field: string, why: string): void {
    this.diagnostics.push(
      warning(
        'UnknownField',
        `${this.path(field)}: ${why}; the API server prunes it, so it has no effect`,
        this.source(this.path(field)),
      ),
    );
  }

  /** Seconds of a Duration field; sub-second parts round up, zero is refused. */
  duration(field: string, raw: unknown): number | undefined {
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined) {
      this.refuse(
        field,
        raw,
        'a Duration such as 30s, 15m or 1h30m (1–4 groups of 1–5 digits with h, m, s or ms)',
      );
      return undefined;
    }
    if (ms === 0) {
      this.refuse(field, raw, 'a Duration longer than zero');
      return undefined;
    }
    const seconds = Math.ceil(ms / 1000);
    if (seconds * 1000 !== ms) {
      this.diagnostics.push(
        info(
          'NotReproduced',
          `${this.path(field)}: Tether keeps session times in whole seconds; ${quote(raw)} is rounded up to ${seconds}s`,
          this.source(this.path(field)),
        ),
      );
    }
    return seconds;
  }

  oneOf<T extends string>(field: string, raw: unknown, values: readonly T[]): T | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as T;
    this.refuse(field, raw, values.join(' or '));
    return undefined;
  }

  object(field: string, raw: unknown): Record<string, unknown> | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (isPlainObject(raw)) return raw;
    this.refuse(field, raw, 'an object');
    return undefined;
  }

  /** A cookie or header name of the newer shape: 1–256 token characters. */
  token(field: string, raw: unknown): string | undefined {
    if (raw === undefined) return undefined;
    if (typeof raw === 'string' && raw.length <= TOKEN_NAME_MAX && TOKEN_PATTERN.test(raw))
      return raw;
    this.refuse(
      field,
      raw,
      `1–${TOKEN_NAME_MAX} token characters (letters, digits, !#$%&'*+-.^_\`|~)`,
    );
    return undefined;
  }

  unknownKeys(field: string, raw: Record<string, unknown>, known: readonly string[]): void {
    for (const key of Object.keys(raw))
      if (!known.includes(key)) this.pruned(`${field}.${key}`, 'not a field of this object');
  }
}

/**
 * The v1.1–v1.6 `sessionName` names the cookie or the header. The CRD only caps its length,
 * but a name outside the token characters cannot be sent as either, so it is refused here.
 */
function readSessionName(r: Reader, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length > SESSION_NAME_MAX) {
    r.refuse('sessionName', raw, `a string of at most ${SESSION_NAME_MAX} characters`);
    return undefined;
  }
  if (raw === '') {
    r.diagnostics.push(
      warning(
        'InvalidAnnotation',
        `${r.path('sessionName')} is empty; a name unique to the route rule is used instead`,
        r.source(r.path('sessionName')),
      ),
    );
    return undefined;
  }
  if (!TOKEN_PATTERN.test(raw)) {
    r.refuse(
      'sessionName',
      raw,
      "token characters only (letters, digits, !#$%&'*+-.^_`|~): the name is sent as a cookie or header name",
    );
    return undefined;
  }
  return raw;
}

function readCookiePath(r: Reader, raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  // A Path must start with "/" and cannot hold ";" or control characters (RFC 6265).
  if (
    typeof raw === 'string' &&
    raw.length <= COOKIE_PATH_MAX &&
    raw.startsWith('/') &&
    // eslint-disable-next-line no-control-regex
    !/[;\u0000-\u001f\u007f]/.test(raw)
  )
    return raw;
  r.refuse(
    'cookie.path',
    raw,
    `a path starting with "/" of at most ${COOKIE_PATH_MAX} characters, without ";" or control characters`,
  );
  return undefined;
}

interface Parts {
  type: 'Cookie' | 'Header';
  typeGiven: boolean;
  name?: string;
  nameKey: string;
  path?: string;
  lifetime?: 'Session' | 'Permanent';
  lifetimeKey: string;
  absolute?: number;
  idle?: number;
}

/** v1.1–v1.6: sessionName, absoluteTimeout, idleTimeout, type, cookieConfig.lifetimeType. */
function readV1(r: Reader, raw: Record<string, unknown>, parts: Parts): void {
  parts.nameKey = r.path('sessionName');
  parts.lifetimeKey = r.path('cookieConfig.lifetimeType');
  parts.name = readSessionName(r, raw.sessionName);
  if (raw.idleTimeout !== undefined) {
    parts.idle = r.duration('idleTimeout', raw.idleTimeout);
    if (parts.idle !== undefined) {
      r.diagnostics.push(
        warning(
          'UnknownField',
          `${r.path('idleTimeout')}: only the v1.1–v1.5 CRDs define it; from v1.6 on the API server prunes it (kubectl warns). Tether honours it as the older CRDs would keep it`,
          r.source(r.path('idleTimeout')),
        ),
      );
    }
  }
  const cookieConfig = r.object('cookieConfig', raw.cookieConfig);
  if (cookieConfig === undefined) return;
  r.unknownKeys('cookieConfig', cookieConfig, ['lifetimeType']);
  parts.lifetime = r.oneOf('cookieConfig.lifetimeType', cookieConfig.lifetimeType, LIFETIME_TYPES);
  if (parts.type === 'Header') {
    r.fail(
      'IncompatibleSettings',
      `${r.path('cookieConfig')} is only allowed with type Cookie (the v1.5+ CRDs reject it with type Header)`,
      'cookieConfig',
      'type',
    );
  }
}

/** The newer union: type with a `cookie` or `header` member that must match it. */
function readUnion(r: Reader, raw: Record<string, unknown>, parts: Parts): void {
  parts.nameKey = r.path(parts.type === 'Cookie' ? 'cookie.name' : 'header.name');
  parts.lifetimeKey = r.path('cookie.lifetimeType');
  const cookie = r.object('cookie', raw.cookie);
  const header = r.object('header', raw.header);
  if (parts.type === 'Cookie' && raw.header !== undefined)
    r.fail(
      'IncompatibleSettings',
      `${r.path('header')} is only allowed with type Header`,
      'header',
      'type',
    );
  if (parts.type === 'Header' && raw.cookie !== undefined)
    r.fail(
      'IncompatibleSettings',
      `${r.path('cookie')} is only allowed with type Cookie`,
      'cookie',
      'type',
    );
  if (parts.type === 'Cookie' && raw.cookie === undefined)
    r.fail('MissingValue', `${r.base}: type Cookie requires a cookie object`, '');
  if (parts.type === 'Header' && raw.header === undefined)
    r.fail('MissingValue', `${r.base}: type Header requires a header object with a name`, '');
  if (cookie !== undefined) {
    r.unknownKeys('cookie', cookie, ['name', 'path', 'lifetimeType']);
    if (parts.type === 'Cookie') parts.name = r.token('cookie.name', cookie.name);
    parts.path = readCookiePath(r, cookie.path);
    parts.lifetime = r.oneOf('cookie.lifetimeType', cookie.lifetimeType, LIFETIME_TYPES);
  }
  if (header !== undefined) {
    r.unknownKeys('header', header, ['name']);
    if (header.name === undefined)
      r.fail('MissingValue', `${r.path('header.name')} is required`, 'header');
    else if (parts.type === 'Header') parts.name = r.token('header.name', header.name);
  }
}

function settingsOf(r: Reader, parts: Parts): Session {
  const settings: Setting[] = [];
  const put = (
    field: PolicyField,
    value: FieldValue<PolicyField>,
    key: string,
    isDefault = false,
  ) => settings.push({ field, value, key, isDefault });
  const mode = parts.type === 'Cookie' ? 'cookie' : 'header';
  put('mode', mode, parts.typeGiven ? r.path('type') : r.base);
  if (mode === 'cookie') {
    if (parts.name !== undefined) put('cookie.name', parts.name, parts.nameKey);
    if (parts.path !== undefined) put('cookie.path', parts.path, r.path('cookie.path'));
    else put('cookie.path', '/', r.path('cookie.path'), true);
    // GEP-1619 recommends Secure, HttpOnly and SameSite=Strict. Secure is sent on HTTPS
    // responses only: over plain HTTP a Secure cookie would never come back.
    put('cookie.httpOnly', true, r.base, true);
    put('cookie.secure', 'https', r.base, true);
    put('cookie.sameSite', 'Strict', r.base, true);
    const permanent = parts.lifetime === 'Permanent';
    put(
      'cookie.lifetime',
      permanent ? 'permanent' : 'session',
      parts.lifetimeKey,
      parts.lifetime === undefined,
    );
    if (permanent && parts.absolute !== undefined)
      put('cookie.maxAgeSeconds', parts.absolute, r.path('absoluteTimeout'));
  } else if (parts.name !== undefined) {
    put('header.name', parts.name, parts.nameKey);
  }
  if (parts.absolute !== undefined)
    put('absoluteTimeoutSeconds', parts.absolute, r.path('absoluteTimeout'));
  if (parts.idle !== undefined) put('idleTimeoutSeconds', parts.idle, r.path('idleTimeout'));
  // The GEP asks to keep sessions across selector changes and to re-pin when a backend fails.
  put('rebalance', 'persistent', r.base, true);
  put('onFailure', 'rebalance', r.base, true);
  return { mode, settings, generateName: parts.name === undefined, nameKey: parts.nameKey };
}

/**
 * Reads one `sessionPersistence` value, in the v1.1–v1.6 shape or the newer cookie/header
 * union (recognised by a `cookie` or `header` member). Whatever the API server would refuse
 * is an error and yields no session; fields it would prune are warnings.
 */
export function readSession(raw: unknown, base: string, source: SourceFor): SessionRead {
  const r = new Reader(base, source);
  if (!isPlainObject(raw)) {
    r.diagnostics.push(refusedByVendor(source(base), raw, 'an object'));
    return { diagnostics: r.diagnostics };
  }
  const union = raw.cookie !== undefined || raw.header !== undefined;
  for (const key of Object.keys(raw)) {
    if ((union ? UNION_FIELDS : V1_FIELDS).includes(key)) continue;
    if (union && V1_FIELDS.includes(key))
      r.pruned(
        key,
        'belongs to the v1.1–v1.6 shape, which the cookie/header CRDs no longer define',
      );
    else r.pruned(key, 'not a sessionPersistence field');
  }
  const type = r.oneOf('type', raw.type, SESSION_TYPES);
  if (r.refused) return { diagnostics: r.diagnostics };
  const parts: Parts = {
    type: type ?? 'Cookie',
    typeGiven: type !== undefined,
    nameKey: '',
    lifetimeKey: '',
    absolute: r.duration('absoluteTimeout', raw.absoluteTimeout),
  };
  if (union) readUnion(r, raw, parts);
  else readV1(r, raw, parts);
  if (parts.lifetime === 'Permanent' && raw.absoluteTimeout === undefined) {
    r.fail(
      'MissingValue',
      `${parts.lifetimeKey}: Permanent needs absoluteTimeout, which sets the cookie's Max-Age`,
      parts.lifetimeKey.slice(base.length + 1),
      'absoluteTimeout',
    );
  }
  if (r.refused) return { diagnostics: r.diagnostics };
  return { session: settingsOf(r, parts), diagnostics: r.diagnostics };
}
