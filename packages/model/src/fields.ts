import { z } from 'zod';
import {
  BackendProtocol,
  BalancingAlgorithm,
  CanaryBehavior,
  OnFailure,
  PersistenceMode,
  Rebalance,
  SameSite,
  SecureMode,
} from './policy';

/**
 * Every setting a fragment can carry, as a flat path into the resolved entry. Merging,
 * provenance and conflicts all work on these paths, so one generic rule serves every field.
 */
export const FIELD_SCHEMAS = {
  mode: PersistenceMode,
  'cookie.name': z.string().min(1),
  'cookie.path': z.string(),
  'cookie.domain': z.string(),
  'cookie.maxAgeSeconds': z.number().int(),
  'cookie.expiresSeconds': z.number().int(),
  'cookie.httpOnly': z.boolean(),
  'cookie.secure': SecureMode,
  'cookie.sameSite': SameSite,
  'cookie.omitSameSiteNoneForOldClients': z.boolean(),
  'cookie.lifetime': z.enum(['session', 'permanent']),
  'cookie.nocache': z.boolean(),
  'appCookie.name': z.string().min(1),
  'header.name': z.string().min(1),
  'sourceIp.timeoutSeconds': z.number().int().positive(),
  rebalance: Rebalance,
  onFailure: OnFailure,
  absoluteTimeoutSeconds: z.number().int().positive(),
  idleTimeoutSeconds: z.number().int().positive(),
  canaryBehavior: CanaryBehavior,
  'loadBalancing.algorithm': BalancingAlgorithm,
  'loadBalancing.hashKey': z.string().min(1),
  'route.pathRegex': z.boolean(),
  'route.sslRedirect': z.boolean(),
  'route.serverAlias': z.string().min(1),
  'route.canary.weight': z.number().int().nonnegative(),
  'route.canary.weightTotal': z.number().int().positive(),
  'route.canary.header': z.string(),
  'route.canary.headerValue': z.string(),
  'route.canary.cookie': z.string(),
  'route.backendProtocol': BackendProtocol,
  'route.backendRefused': z.string().min(1),
  'route.backendTls.verify': z.boolean(),
  'route.backendTls.serverName': z.string().min(1),
  'route.backendTls.sni': z.boolean(),
  'route.backendTls.caSecret': z.string().min(1),
  'route.backendTls.caConfigMap': z.string().min(1),
  'route.backendTls.caCertificate': z.string().min(1),
  'route.backendTls.serviceCa': z.boolean(),
  /** `format[=cookie name]`, comma-separated: see `parseAdoptionSources`. */
  'adoptCookies.sources': z.string().min(1),
  'adoptCookies.until': z.iso.datetime({ offset: true }),
} as const;

export type PolicyField = keyof typeof FIELD_SCHEMAS;
export type FieldValue<F extends PolicyField> = z.infer<(typeof FIELD_SCHEMAS)[F]>;
export const POLICY_FIELDS = Object.keys(FIELD_SCHEMAS) as PolicyField[];

export function isPolicyField(s: string): s is PolicyField {
  return Object.prototype.hasOwnProperty.call(FIELD_SCHEMAS, s);
}
