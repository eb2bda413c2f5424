/** What both sides of the OpenShift dialect know of the router: its TLS modes and a Route's facts. */
import type { BalancingAlgorithm, Diagnostic } from '@tether/model';
import { refusedByVendor } from '../helpers';
import { sourceOf, type RouteSpec } from '../kube';
import type { KubeObject } from '../types';
import { INSECURE_POLICIES, INSECURE_POLICY, TERMINATION, TERMINATIONS } from './annotations';

export const VENDOR = 'the OpenShift router';

export type Termination = (typeof TERMINATIONS)[number] | 'none';
export type InsecurePolicy = (typeof INSECURE_POLICIES)[number] | '';

export interface Tls {
  termination: Termination;
  insecure: InsecurePolicy;
}

export function isOneOf<T extends string>(values: readonly T[], raw: string | undefined): raw is T {
  return raw !== undefined && (values as readonly string[]).includes(raw);
}

/** The API server accepts only these exact spellings; anything else never reaches a router. */
export function readTls(
  object: KubeObject,
  spec: RouteSpec,
  diagnostics: Diagnostic[],
): Tls | undefined {
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

/** What the router does with a Route whatever its annotations say. */
export interface RouteFacts {
  passthrough: boolean;
  /** The router marks the cookie Secure, and then also sends SameSite. */
  secure: boolean;
  /** How the route is served, for messages. */
  served: string;
  defaultName: string;
  defaultAlgorithm: BalancingAlgorithm;
}
