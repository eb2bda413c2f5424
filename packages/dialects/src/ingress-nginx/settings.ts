import { Diagnostic, warning } from '@tether/model';
import type { KubeObject } from '../types';
import {
  BASIC_CHARS,
  HASH_BY_CHARS,
  KEY,
  LOAD_BALANCE_VALUES,
  NginxKey,
  SECONDS_CHECK,
  SPEC,
  URL_CHARS,
} from './annotations';
import { AnnotationReader, Interpreter, bool, integer, oneOf, token } from './reader';
import { applyRules } from './rules';
import type { NginxSettings, SameSiteSetting } from './settings-shape';

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

const HOST_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * server-alias: names separated by commas, each trimmed, empty ones skipped and repeats
 * dropped, as the controller splits them; every one must be a host name (its
 * ValidateArrayOfServerName), else the annotation is ignored.
 */
const hostNames: Interpreter<string> = ({ normalized }, key) => {
  const names = [
    ...new Set(
      normalized
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== ''),
    ),
  ];
  const bad = names.find((n) => n.length > 253 || !HOST_NAME.test(n));
  if (names.length === 0 || bad !== undefined)
    return {
      message: `${bad === undefined ? 'names no host' : `has ${JSON.stringify(bad.slice(0, 80))}, which is not a host name`}; ingress-nginx would ${SPEC[key].fallback}`,
    };
  return { value: names.join(',') };
};

const sameSite: Interpreter<SameSiteSetting> = (text, key) => {
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
  settings.sameSite = reader.read(KEY.cookieSameSite, sameSite);
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

/**
 * The settings last read from each object, so that the cross-Ingress check does not read every
 * Ingress twice. Reading is pure, so a stale entry can only come from an object changed in
 * place, which the registry never does.
 */
const lastRead = new WeakMap<KubeObject, NginxSettings>();

/** The settings of an object, from the last read when there was one. */
export function settingsOf(object: KubeObject): NginxSettings {
  return lastRead.get(object) ?? readSettings(object).settings;
}

/** Reads one object's annotations into settings, with a diagnostic for every value set aside. */
export function readSettings(object: KubeObject): {
  settings: NginxSettings;
  diagnostics: Diagnostic[];
} {
  const diagnostics: Diagnostic[] = [];
  const reader = new AnnotationReader(object, diagnostics);
  const settings: NginxSettings = {
    written: reader.written,
    vendorRejects: false,
    refused: false,
    affinity: reader.read(KEY.affinity, oneOf(['cookie'])) === 'cookie',
  };
  if (settings.affinity) readCookie(reader, settings);
  else warnCookieKeysWithoutAffinity(reader);
  settings.canaryBehavior = reader.read(KEY.affinityCanaryBehavior, oneOf(['sticky', 'legacy']));
  settings.loadBalance = reader.read(KEY.loadBalance, oneOf(LOAD_BALANCE_VALUES));
  settings.hashBy = reader.read(KEY.upstreamHashBy, token(HASH_BY_CHARS));
  settings.hashBySubset = reader.read(KEY.upstreamHashBySubset, bool);
  settings.hashBySubsetSize = reader.read(KEY.upstreamHashBySubsetSize, integer);
  settings.canary = reader.read(KEY.canary, bool);
  settings.canaryWeight = reader.read(KEY.canaryWeight, integer);
  settings.canaryWeightTotal = reader.read(KEY.canaryWeightTotal, integer);
  settings.canaryHeader = reader.read(KEY.canaryByHeader, token(BASIC_CHARS));
  settings.canaryHeaderValue = reader.read(KEY.canaryByHeaderValue, token(BASIC_CHARS));
  settings.canaryCookie = reader.read(KEY.canaryByCookie, token(BASIC_CHARS));
  settings.useRegex = reader.read(KEY.useRegex, bool);
  settings.serverAlias = reader.read(KEY.serverAlias, hostNames);
  settings.sslRedirect = reader.read(KEY.sslRedirect, bool);
  settings.serviceUpstream = reader.read(KEY.serviceUpstream, bool);
  settings.vendorRejects = reader.vendorRejects;
  applyRules(reader, settings);
  settings.refused = settings.refused || settings.vendorRejects;
  lastRead.set(object, settings);
  return { settings, diagnostics };
}
