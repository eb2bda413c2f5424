import { z } from 'zod';
import type { KeySpec } from '../types';

/** The spec paths kube-service reads; they double as the `field` of every source. */
export const AFFINITY = 'spec.sessionAffinity';
export const CONFIG = 'spec.sessionAffinityConfig';
export const CLIENT_IP = 'spec.sessionAffinityConfig.clientIP';
export const TIMEOUT = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';

/** What the API server fills in for `timeoutSeconds` when `ClientIP` is chosen without one. */
export const DEFAULT_TIMEOUT_SECONDS = 10800;
/** The largest timeout the API server accepts (one day); 86400 itself passes. */
export const MAX_TIMEOUT_SECONDS = 86400;
/** `timeoutSeconds` is an int32 in the API; larger numbers fail to decode. */
export const INT32_MAX = 2147483647;

export const AFFINITY_VALUES = ['None', 'ClientIP'] as const;

export const table: readonly KeySpec[] = [
  {
    key: AFFINITY,
    type: 'field',
    kinds: ['Service'],
    schema: z.enum(AFFINITY_VALUES),
    default: 'None',
    doc: 'ClientIP pins each client address to one endpoint of the Service; None balances every connection.',
  },
  {
    key: TIMEOUT,
    type: 'field',
    kinds: ['Service'],
    schema: z.number().int().positive().max(MAX_TIMEOUT_SECONDS),
    default: String(DEFAULT_TIMEOUT_SECONDS),
    doc: 'Seconds a client address stays pinned after its last new connection (1 to 86400); only with ClientIP.',
  },
];
