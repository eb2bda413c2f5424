import { Diagnostic, EntryFragment, EntryRef, PRECEDENCE, quote, warning } from '@tether/model';
import { FieldCollector } from '../helpers';
import { EntryBackend, entriesOf, sourceOf } from '../kube';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import { DEFAULT_CANARY_WEIGHT_TOTAL, DEFAULT_COOKIE_NAME, KEY } from './annotations';
import { AnnotationReader, DIALECT } from './reader';
import { readSettings } from './settings';
import type { NginxSettings } from './settings-shape';
import { MAX_ATTRIBUTE_LENGTH, isHeaderSafe } from './values';

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

/**
 * The controller picks one balancer per upstream: the sticky one when affinity is "cookie",
 * else consistent hashing when upstream-hash-by is set, else load-balance, else the ConfigMap
 * default. With service-upstream the only endpoint is the ClusterIP, so nothing is balanced.
 */
const CLIENT_ADDRESS = '$remote_addr';

function balancingFields(c: FieldCollector, s: NginxSettings): void {
  if (s.affinity || s.serviceUpstream === true) return;
  if (s.hashBy === CLIENT_ADDRESS) {
    // Hashing on the client address alone is source-IP hashing, as OCI's IP_HASH or HAProxy's source.
    c.set('loadBalancing.algorithm', 'sourceIpHash', KEY.upstreamHashBy);
    return;
  }
  if (s.hashBy !== undefined) {
    c.set('loadBalancing.algorithm', 'hash', KEY.upstreamHashBy);
    c.set('loadBalancing.hashKey', s.hashBy, KEY.upstreamHashBy);
    return;
  }
  switch (s.loadBalance) {
    case 'round_robin':
      c.set('loadBalancing.algorithm', 'roundRobin', KEY.loadBalance);
      return;
    case 'ewma':
      c.set('loadBalancing.algorithm', 'ewma', KEY.loadBalance);
      return;
    case 'sticky_balanced':
    case 'sticky_persistent':
      // Without affinity no cookie is issued and each request gets a fresh random key.
      c.set('loadBalancing.algorithm', 'random', KEY.loadBalance);
      return;
    default:
      // Unset, or chash without a key to hash (warned about when reading).
      c.setDefault('loadBalancing.algorithm', 'roundRobin', KEY.loadBalance);
  }
}

function canaryFields(c: FieldCollector, s: NginxSettings): void {
  if (s.canary !== true) return;
  if (s.canaryWeight !== undefined) {
    c.set('route.canary.weight', Math.max(0, s.canaryWeight), KEY.canaryWeight);
  } else c.setDefault('route.canary.weight', 0, KEY.canaryWeight);
  if (s.canaryWeightTotal !== undefined && s.canaryWeightTotal > 0) {
    c.set('route.canary.weightTotal', s.canaryWeightTotal, KEY.canaryWeightTotal);
  } else
    c.setDefault('route.canary.weightTotal', DEFAULT_CANARY_WEIGHT_TOTAL, KEY.canaryWeightTotal);
  if (s.canaryHeader !== undefined) {
    c.set('route.canary.header', s.canaryHeader, KEY.canaryByHeader);
    if (s.canaryHeaderValue !== undefined) {
      c.set('route.canary.headerValue', s.canaryHeaderValue, KEY.canaryByHeaderValue);
    }
  }
  if (s.canaryCookie !== undefined)
    c.set('route.canary.cookie', s.canaryCookie, KEY.canaryByCookie);
}

function routeFields(c: FieldCollector, s: NginxSettings, entry: EntryRef): void {
  if (s.useRegex !== undefined) c.set('route.pathRegex', s.useRegex, KEY.useRegex);
  if (s.serverAlias !== undefined) c.set('route.serverAlias', s.serverAlias, KEY.serverAlias);
  const hasTls = entry.listeners.some((l) => l.protocol === 'HTTPS');
  // ssl-redirect acts only on hosts with TLS; the ConfigMap turns it on for them by default.
  if (s.sslRedirect === false || (s.sslRedirect === true && hasTls)) {
    c.set('route.sslRedirect', s.sslRedirect, KEY.sslRedirect);
  } else if (s.sslRedirect === undefined && hasTls) {
    c.setDefault('route.sslRedirect', true, KEY.sslRedirect);
  }
  canaryFields(c, s);
}

function entryFragment(
  object: KubeObject,
  s: NginxSettings,
  item: EntryBackend,
  diagnostics: Diagnostic[],
): EntryFragment {
  const c = new FieldCollector(DIALECT, object, diagnostics);
  if (s.affinity) cookieFields(c, s, item.entry, diagnostics);
  if (s.canaryBehavior !== undefined) {
    c.set('canaryBehavior', s.canaryBehavior, KEY.affinityCanaryBehavior);
  } else if (s.affinity) c.setDefault('canaryBehavior', 'sticky', KEY.affinityCanaryBehavior);
  balancingFields(c, s);
  routeFields(c, s, item.entry);
  return {
    type: 'entry',
    dialect: DIALECT,
    entry: item.entry,
    backend: item.backend,
    precedence: PRECEDENCE.entry,
    values: c.values,
  };
}

/** ssl-redirect "true" on a host without TLS does nothing; said once per host. */
function sslRedirectWithoutTls(
  object: KubeObject,
  s: NginxSettings,
  items: readonly EntryBackend[],
): Diagnostic[] {
  if (s.sslRedirect !== true) return [];
  const hosts = new Set<string>();
  for (const { entry } of items) {
    if (!entry.listeners.some((l) => l.protocol === 'HTTPS')) hosts.add(entry.host ?? '*');
  }
  return [...hosts].map((host) =>
    warning(
      'IneffectiveSetting',
      `${KEY.sslRedirect} is "true" but the host ${quote(host)} has no TLS in this Ingress, so ingress-nginx would not redirect it`,
      sourceOf(DIALECT, object, KEY.sslRedirect),
    ),
  );
}

/** ingress-nginx reads its annotations from Ingresses only. */
function notAnIngress(object: KubeObject): ParseResult {
  const reader = new AnnotationReader(object, []);
  return {
    fragments: [],
    diagnostics: [...reader.written].map((key) =>
      warning(
        'IneffectiveSetting',
        `${key} has no effect on a ${object.kind}: ingress-nginx reads its annotations from Ingresses only`,
        reader.source(key),
      ),
    ),
  };
}

/** One Ingress into one fragment per entry point and backend. Never throws. */
export function parse(object: KubeObject, _context?: ParseContext): ParseResult {
  if (object.kind !== 'Ingress') return notAnIngress(object);
  const { settings, diagnostics } = readSettings(object);
  // A refused Ingress contributes nothing: its entry points keep only their structure.
  if (settings.refused) return { fragments: [], diagnostics };
  // Problems with the spec itself are reported once, by the registry's structure pass.
  const items = entriesOf(object).spec ?? [];
  diagnostics.push(...sslRedirectWithoutTls(object, settings, items));
  const fragments = items.map((item) => entryFragment(object, settings, item, diagnostics));
  return { fragments, diagnostics };
}
