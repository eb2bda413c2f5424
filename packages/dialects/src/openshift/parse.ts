import { createHash } from 'node:crypto';
import {
  BalancingAlgorithm,
  Diagnostic,
  EntryFragment,
  PRECEDENCE,
  error,
  info,
  quote,
  warning,
} from '@tether/model';
import { FieldCollector, ignoredByVendor, parseGoBool, refusedByVendor } from '../helpers';
import { RouteSpec, annotationsOf, namespaceOf, readRoute, routeEntries, sourceOf } from '../kube';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import {
  ALTERNATE_BACKENDS,
  BALANCE,
  BALANCE_VALUES,
  COOKIE_NAME,
  COOKIE_NAME_PATTERN,
  COOKIE_SAME_SITE,
  DISABLE_COOKIES,
  INSECURE_POLICIES,
  INSECURE_POLICY,
  LEGACY_COOKIE_NAME,
  NOT_ENFORCED,
  SAME_SITE_VALUES,
  TERMINATION,
  TERMINATIONS,
} from './annotations';

const VENDOR = 'the OpenShift router';

type Termination = (typeof TERMINATIONS)[number] | 'none';
type InsecurePolicy = (typeof INSECURE_POLICIES)[number] | '';

interface Tls {
  termination: Termination;
  insecure: InsecurePolicy;
}

export const ALGORITHMS: Record<(typeof BALANCE_VALUES)[number], BalancingAlgorithm> = {
  roundrobin: 'roundRobin',
  leastconn: 'leastConnections',
  source: 'sourceIpHash',
  random: 'random',
};

function isOneOf<T extends string>(values: readonly T[], raw: string | undefined): raw is T {
  return raw !== undefined && (values as readonly string[]).includes(raw);
}

/**
 * The router's default cookie name: the md5 hex of the route key. The router formats the key
 * as "<termination> <namespace>:<name>" but does so before it has read the termination, so
 * the termination part is always empty and the text starts with a space.
 */
export function defaultCookieName(namespace: string, name: string): string {
  return createHash('md5').update(` ${namespace}:${name}`).digest('hex');
}

/** The API server accepts only these exact spellings; anything else never reaches a router. */
function readTls(object: KubeObject, spec: RouteSpec, diagnostics: Diagnostic[]): Tls | undefined {
  if (spec.tls === undefined) return { termination: 'none', insecure: '' };
  const termination = spec.tls.termination;
  if (!isOneOf(TERMINATIONS, termination)) {
    diagnostics.push(
      refusedByVendor(
        sourceOf('openshift', object, TERMINATION),
        termination ?? '',
        'edge, reencrypt or passthrough, in lower case; the API server rejects the Route',
      ),
    );
    return undefined;
  }
  const insecure = spec.tls.insecureEdgeTerminationPolicy ?? '';
  // Passthrough routes may redirect plain HTTP to HTTPS but never serve it.
  const allowed: readonly InsecurePolicy[] =
    termination === 'passthrough' ? ['None', 'Redirect', ''] : [...INSECURE_POLICIES, ''];
  if (!isOneOf(allowed, insecure)) {
    diagnostics.push(
      refusedByVendor(
        sourceOf('openshift', object, INSECURE_POLICY),
        insecure,
        `${allowed.filter(Boolean).join(', ')} or empty for ${termination} routes; the API server rejects the Route`,
      ),
    );
    return undefined;
  }
  return { termination, insecure };
}

/** Services with weight above 0 after the router's clamping (absent = 1, range 0–256). */
function activeServices(spec: RouteSpec): number {
  const weights = new Map<string, number>();
  for (const to of [spec.to, ...(spec.alternateBackends ?? [])])
    weights.set(to.name, Math.min(256, Math.max(0, to.weight ?? 1)));
  return [...weights.values()].filter((w) => w > 0).length;
}

/**
 * The algorithm the router uses when `balance` is absent or invalid. A split over several
 * active Services is balanced round robin whatever the router's environment says; otherwise
 * the router's own default applies (random, source for TCP).
 */
export function defaultAlgorithm(spec: RouteSpec, passthrough: boolean): BalancingAlgorithm {
  if (activeServices(spec) > 1) return 'roundRobin';
  return passthrough ? 'sourceIpHash' : 'random';
}

function readBalance(
  c: FieldCollector,
  spec: RouteSpec,
  raw: string | undefined,
  passthrough: boolean,
): BalancingAlgorithm {
  if (isOneOf(BALANCE_VALUES, raw)) {
    c.set('loadBalancing.algorithm', ALGORITHMS[raw], BALANCE);
    return ALGORITHMS[raw];
  }
  if (raw !== undefined) {
    c.diagnostics.push(
      ignoredByVendor(
        VENDOR,
        c.source(BALANCE),
        raw,
        BALANCE_VALUES.join(', '),
        'use its default algorithm',
      ),
    );
  }
  const algorithm = defaultAlgorithm(spec, passthrough);
  const split = activeServices(spec) > 1;
  c.setDefault('loadBalancing.algorithm', algorithm, split ? ALTERNATE_BACKENDS : BALANCE);
  return algorithm;
}

/** Passthrough routes are TCP: the router never sees HTTP, so no cookie setting can apply. */
function checkPassthroughCookies(
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

function readDisabled(c: FieldCollector, raw: string | undefined): boolean | undefined {
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
function readCookie(
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

function notes(object: KubeObject, annotations: Record<string, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const key of Object.keys(annotations)) {
    const what = NOT_ENFORCED[key];
    if (what !== undefined) {
      out.push(
        info(
          'NotReproduced',
          `${key} (${what}) is an OpenShift router setting that Tether does not enforce`,
          sourceOf('openshift', object, key),
        ),
      );
    }
  }
  if (annotations[LEGACY_COOKIE_NAME] !== undefined) {
    out.push(
      warning(
        'IneffectiveSetting',
        `${LEGACY_COOKIE_NAME} is never read by ${VENDOR}; the cookie name is set with ${COOKIE_NAME}`,
        sourceOf('openshift', object, LEGACY_COOKIE_NAME),
      ),
    );
  }
  return out;
}

/** One OpenShift Route into one fragment per backend Service; never throws. */
export function parseRoute(object: KubeObject, _context: ParseContext): ParseResult {
  const diagnostics: Diagnostic[] = [];
  // A Route whose spec is malformed is already reported by the structure reader.
  const { spec } = readRoute(object);
  if (!spec) return { fragments: [], diagnostics };
  const annotations = annotationsOf(object);
  diagnostics.push(...notes(object, annotations));
  const tls = readTls(object, spec, diagnostics);
  if (!tls) return { fragments: [], diagnostics };
  const c = new FieldCollector('openshift', object, diagnostics);
  const passthrough = tls.termination === 'passthrough';
  const disabled = passthrough ? undefined : readDisabled(c, annotations[DISABLE_COOKIES]);
  if (passthrough) {
    checkPassthroughCookies(
      c,
      annotations,
      parseGoBool(annotations[DISABLE_COOKIES] ?? '') === true,
    );
  } else {
    readCookie(c, object, annotations, tls, disabled);
  }
  const algorithm = readBalance(c, spec, annotations[BALANCE], passthrough);
  if (algorithm === 'sourceIpHash' && !passthrough && disabled !== true) {
    diagnostics.push(
      info(
        'BalancingOverriddenByPersistence',
        `${BALANCE}: a client holding the route's cookie goes to its pinned endpoint; source balancing only places its first request`,
        c.source(BALANCE),
      ),
    );
  }
  const fragments: EntryFragment[] = routeEntries(object, spec).map((item) => ({
    type: 'entry',
    dialect: 'openshift',
    entry: item.entry,
    backend: item.backend,
    precedence: PRECEDENCE.entry,
    values: { ...c.values },
  }));
  return { fragments, diagnostics };
}
