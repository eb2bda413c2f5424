import type { SameSite } from '@tether/model';
import type { LoadBalanceValue, NginxKey, BackendProtocolValue } from './annotations';

export interface SameSiteSetting {
  value: SameSite;
  /** As written (after trimming): the controller sends it that way. */
  written: string;
}

/**
 * What the controller makes of one Ingress's annotations: only the values it would use. A key
 * whose value it would ignore is absent here (with a warning); defaults are applied later.
 */
export interface NginxSettings {
  written: ReadonlySet<NginxKey>;
  /** The controller would refuse the whole Ingress (an invalid load-balance, say). */
  vendorRejects: boolean;
  /** Tether refuses the Ingress: the controller would, or its settings cannot work together. */
  refused: boolean;
  affinity: boolean;
  affinityMode?: 'balanced' | 'persistent';
  canaryBehavior?: 'sticky' | 'legacy';
  cookieName?: string;
  cookiePath?: string;
  cookieDomain?: string;
  cookieSecure?: boolean;
  sameSite?: SameSiteSetting;
  conditionalSameSiteNone?: boolean;
  maxAgeSeconds?: number;
  expiresSeconds?: number;
  changeOnFailure?: boolean;
  loadBalance?: LoadBalanceValue;
  hashBy?: string;
  hashBySubset?: boolean;
  hashBySubsetSize?: number;
  canary?: boolean;
  canaryWeight?: number;
  canaryWeightTotal?: number;
  canaryHeader?: string;
  canaryHeaderValue?: string;
  canaryCookie?: string;
  useRegex?: boolean;
  /** Alias host names, lower case, comma-joined. */
  serverAlias?: string;
  sslRedirect?: boolean;
  serviceUpstream?: boolean;
  backendProtocol?: BackendProtocolValue;
  proxySslSecret?: string;
  proxySslVerify?: boolean;
  proxySslName?: string;
  proxySslServerName?: boolean;
  sslPassthrough?: boolean;
}
