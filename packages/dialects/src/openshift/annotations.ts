import { z } from 'zod';
import { parseGoBool } from '../helpers';
import type { KeySpec } from '../types';

export const DISABLE_COOKIES = 'haproxy.router.openshift.io/disable_cookies';
export const COOKIE_NAME = 'router.openshift.io/cookie_name';
export const COOKIE_SAME_SITE = 'router.openshift.io/cookie-same-site';
export const BALANCE = 'haproxy.router.openshift.io/balance';
/** Listed by old 3.x documentation; the router template has never read it. */
export const LEGACY_COOKIE_NAME = 'haproxy.router.openshift.io/cookie_name';

export const TERMINATION = 'spec.tls.termination';
export const INSECURE_POLICY = 'spec.tls.insecureEdgeTerminationPolicy';
export const ALTERNATE_BACKENDS = 'spec.alternateBackends';

/** The router matches the whole value against these patterns (its `firstMatch` helper). */
export const COOKIE_NAME_PATTERN = /^[a-zA-Z0-9_-]+$/;
export const SAME_SITE_VALUES = ['Lax', 'Strict', 'None'] as const;
export const BALANCE_VALUES = ['roundrobin', 'leastconn', 'source', 'random'] as const;
export const TERMINATIONS = ['edge', 'reencrypt', 'passthrough'] as const;
export const INSECURE_POLICIES = ['None', 'Allow', 'Redirect'] as const;

/**
 * Route annotations the OpenShift router applies that have nothing to do with session
 * persistence and that Tether does not enforce. They get a soft note instead of the
 * unknown-key warning, because they are valid OpenShift settings.
 */
export const NOT_ENFORCED: Readonly<Record<string, string>> = {
  'haproxy.router.openshift.io/timeout': 'server timeout for the route',
  'haproxy.router.openshift.io/timeout-tunnel': 'tunnel (WebSocket, passthrough) timeout',
  'haproxy.router.openshift.io/ip_allowlist': 'source addresses allowed to reach the route',
  'haproxy.router.openshift.io/ip_whitelist':
    'source addresses allowed to reach the route (older spelling)',
  'haproxy.router.openshift.io/rate-limit-connections': 'turns on per-client rate limiting',
  'haproxy.router.openshift.io/rate-limit-connections.concurrent-tcp':
    'concurrent TCP connections allowed per client address',
  'haproxy.router.openshift.io/rate-limit-connections.rate-tcp':
    'TCP connection rate allowed per client address',
  'haproxy.router.openshift.io/rate-limit-connections.rate-http':
    'HTTP request rate allowed per client address',
  'haproxy.router.openshift.io/hsts_header': 'Strict-Transport-Security header for secure routes',
  'haproxy.router.openshift.io/rewrite-target': 'rewrites the matched path before forwarding',
  'haproxy.router.openshift.io/set-forwarded-headers': 'how Forwarded and X-Forwarded-* are set',
  'haproxy.router.openshift.io/h1-adjust-case': 'adjusts the case of HTTP/1 header names',
  'haproxy.router.openshift.io/pod-concurrent-connections':
    'connections each endpoint accepts at once',
  'router.openshift.io/haproxy.health.check.interval': 'interval of the endpoint health checks',
};

const goBool = z.string().refine((v) => parseGoBool(v) !== undefined, 'a Go boolean');

const ROUTE = ['Route'] as const;

export const OPENSHIFT_TABLE: readonly KeySpec[] = [
  {
    key: DISABLE_COOKIES,
    type: 'annotation',
    kinds: ROUTE,
    schema: goBool,
    default: 'false (the router inserts a cookie on http, edge and reencrypt routes)',
    doc: 'Turns the sticky cookie off when true (Go boolean: true, TRUE, 1, t, …).',
  },
  {
    key: COOKIE_NAME,
    type: 'annotation',
    kinds: ROUTE,
    schema: z.string().regex(COOKIE_NAME_PATTERN),
    default: 'md5 hex of " <namespace>:<route name>" (the route key)',
    doc: 'Name of the sticky cookie; letters, digits, "_" and "-" only, else the default is used.',
  },
  {
    key: COOKIE_SAME_SITE,
    type: 'annotation',
    kinds: ROUTE,
    schema: z.enum(SAME_SITE_VALUES),
    default: 'None',
    doc: 'SameSite of the cookie; only emitted on edge/reencrypt routes that do not Allow HTTP.',
  },
  {
    key: BALANCE,
    type: 'annotation',
    kinds: ROUTE,
    schema: z.enum(BALANCE_VALUES),
    default: 'roundrobin with more than one active backend, else random (passthrough: source)',
    doc: 'Balancing algorithm for requests that carry no valid cookie.',
  },
  {
    key: TERMINATION,
    type: 'field',
    kinds: ROUTE,
    schema: z.enum(TERMINATIONS),
    default: 'none (plain HTTP)',
    doc: 'TLS termination; passthrough routes are TCP and get no cookie, edge/reencrypt get Secure.',
  },
  {
    key: INSECURE_POLICY,
    type: 'field',
    kinds: ROUTE,
    schema: z.enum(INSECURE_POLICIES),
    default: 'None',
    doc: 'Plain-HTTP handling of a TLS route; Allow drops Secure and SameSite from the cookie.',
  },
  {
    key: ALTERNATE_BACKENDS,
    type: 'field',
    kinds: ROUTE,
    schema: z.array(z.looseObject({ name: z.string(), weight: z.number().int().optional() })),
    doc: 'Extra Services of a split; more than one with weight > 0 makes roundrobin the default.',
  },
  {
    key: LEGACY_COOKIE_NAME,
    type: 'annotation',
    kinds: ROUTE,
    schema: z.string(),
    doc: 'Named in old documentation but never read by the router; use router.openshift.io/cookie_name.',
  },
  ...Object.entries(NOT_ENFORCED).map(([key, what]): KeySpec => ({
    key,
    type: 'annotation',
    keepOnMigration: true,
    kinds: ROUTE,
    schema: z.string(),
    doc: `Recognised, not enforced by Tether: ${what}.`,
  })),
];
