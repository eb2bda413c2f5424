import { z } from 'zod';
import type { KeySpec } from '../types';

/** GEP-2257 Duration: up to four groups of 1–5 digits and a unit. */
export const DURATION_PATTERN = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
/** RFC 7230 token characters, the pattern of the newer `cookie.name` and `header.name`. */
export const TOKEN_PATTERN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
export const SESSION_NAME_MAX = 128;
export const TOKEN_NAME_MAX = 256;
export const COOKIE_PATH_MAX = 1024;

export const SESSION_TYPES = ['Cookie', 'Header'] as const;
export const LIFETIME_TYPES = ['Session', 'Permanent'] as const;

/** Fields of the v1.1–v1.6 shape (`idleTimeout` only up to v1.5). */
export const V1_FIELDS = ['sessionName', 'absoluteTimeout', 'idleTimeout', 'type', 'cookieConfig'];
/** Fields of the newer discriminated shape. */
export const UNION_FIELDS = ['type', 'absoluteTimeout', 'cookie', 'header'];

const RULE = 'spec.rules[].sessionPersistence';
const ROUTE = ['HTTPRoute'] as const;
const POLICIES = ['XBackendTrafficPolicy', 'BackendLBPolicy', 'BackendTrafficPolicy'] as const;

const duration = z.string().regex(DURATION_PATTERN);
const token = z.string().min(1).max(TOKEN_NAME_MAX).regex(TOKEN_PATTERN);

export const GATEWAY_TABLE: readonly KeySpec[] = [
  {
    key: RULE,
    type: 'field',
    kinds: ROUTE,
    schema: z.looseObject({}),
    doc: 'Session persistence for the backends of one route rule (experimental channel); beats a backend policy.',
  },
  {
    key: `${RULE}.type`,
    type: 'field',
    kinds: ROUTE,
    schema: z.enum(SESSION_TYPES),
    default: 'Cookie',
    doc: 'Cookie: the gateway issues a cookie; Header: the client echoes a header the gateway sets.',
  },
  {
    key: `${RULE}.sessionName`,
    type: 'field',
    kinds: ROUTE,
    schema: z.string().max(SESSION_NAME_MAX),
    default: 'a name unique to the route rule, chosen by the implementation',
    doc: 'Name of the cookie or header (v1.1–v1.6 shape), at most 128 characters.',
  },
  {
    key: `${RULE}.absoluteTimeout`,
    type: 'field',
    kinds: ROUTE,
    schema: duration,
    doc: 'Session lifetime (Duration such as 1h30m); Max-Age for Permanent cookies, enforced by the gateway otherwise.',
  },
  {
    key: `${RULE}.idleTimeout`,
    type: 'field',
    kinds: ROUTE,
    schema: duration,
    doc: 'Idle timeout of the session; only in v1.1–v1.5 CRDs, later ones prune it.',
  },
  {
    key: `${RULE}.cookieConfig.lifetimeType`,
    type: 'field',
    kinds: ROUTE,
    schema: z.enum(LIFETIME_TYPES),
    default: 'Session',
    doc: 'Session: no Max-Age/Expires; Permanent: Max-Age from absoluteTimeout, which is then required.',
  },
  {
    key: `${RULE}.cookie.name`,
    type: 'field',
    kinds: ROUTE,
    schema: token,
    default: 'a name unique to the route rule, chosen by the implementation',
    doc: 'Cookie name (newer shape): 1–256 token characters.',
  },
  {
    key: `${RULE}.cookie.path`,
    type: 'field',
    kinds: ROUTE,
    schema: z.string().max(COOKIE_PATH_MAX),
    default: '/',
    doc: 'Cookie Path (newer shape), at most 1024 characters.',
  },
  {
    key: `${RULE}.cookie.lifetimeType`,
    type: 'field',
    kinds: ROUTE,
    schema: z.enum(LIFETIME_TYPES),
    default: 'Session',
    doc: 'Session or Permanent (newer shape); Permanent requires absoluteTimeout.',
  },
  {
    key: `${RULE}.header.name`,
    type: 'field',
    kinds: ROUTE,
    schema: token,
    doc: 'Header carrying the session (newer shape), required with type Header.',
  },
  {
    key: 'spec.targetRefs',
    type: 'field',
    kinds: [...POLICIES, 'BackendTLSPolicy'],
    schema: z
      .array(z.looseObject({ group: z.string(), kind: z.string(), name: z.string().min(1) }))
      .min(1)
      .max(16),
    doc: 'Services (group "", kind Service) in the policy namespace whose routes get the persistence, or (BackendTLSPolicy, with sectionName for one port by name) whose endpoints are spoken to over TLS.',
  },
  {
    key: 'spec.sessionPersistence',
    type: 'field',
    kinds: POLICIES,
    schema: z.looseObject({}),
    doc: 'Same fields as a route rule sessionPersistence; applies to route rules without their own.',
  },
  {
    key: 'spec.validation.hostname',
    type: 'field',
    kinds: ['BackendTLSPolicy'],
    schema: z.string().min(1),
    doc: 'The name the endpoints certificate is checked against, sent as SNI.',
  },
  {
    key: 'spec.validation.caCertificateRefs',
    type: 'field',
    kinds: ['BackendTLSPolicy'],
    schema: z.array(z.looseObject({ group: z.string(), kind: z.string(), name: z.string() })),
    doc: 'ConfigMaps (key ca.crt) holding the CA the certificate is verified against; Tether reads the first.',
  },
  {
    key: 'spec.validation.wellKnownCACertificates',
    type: 'field',
    kinds: ['BackendTLSPolicy'],
    schema: z.literal('System'),
    doc: 'System: verify against the system CAs instead of caCertificateRefs (exactly one of the two).',
  },
];
