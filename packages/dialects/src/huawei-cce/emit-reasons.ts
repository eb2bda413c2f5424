import type { PolicyField } from '@tether/model';

/** Why CCE cannot say a field, whatever the policy around it. */
const WHY: Partial<Record<PolicyField, string>> = {
  'cookie.name': 'ELB names the cookie it inserts itself; CCE has no annotation for the name',
  'cookie.path': 'CCE has no cookie path',
  'cookie.domain': 'CCE has no cookie domain',
  'cookie.httpOnly': 'CCE cannot choose HttpOnly for the inserted cookie',
  'cookie.secure': 'CCE cannot choose the Secure attribute of the inserted cookie',
  'cookie.sameSite': 'CCE has no SameSite setting',
  'cookie.omitSameSiteNoneForOldClients': 'CCE has no SameSite setting',
  'cookie.nocache': 'CCE cannot mark responses that set the cookie Cache-Control: private',
  'cookie.lifetime':
    'with APP_COOKIE CCE takes no timeout, so the companion cookie lasts for the browser session',
  'cookie.maxAgeSeconds':
    'with APP_COOKIE CCE takes no timeout, so the companion cookie has no Max-Age',
  'cookie.expiresSeconds':
    'CCE sets one lifetime, persistence_timeout, which ELB writes as Max-Age; it has no Expires',
  'header.name': 'CCE has no header-based stickiness',
  absoluteTimeoutSeconds:
    'CCE has one persistence_timeout per sticky session and no separate absolute limit',
  idleTimeoutSeconds: 'CCE has no idle timeout for sticky sessions',
  canaryBehavior: 'CCE has no canary routing',
  'loadBalancing.hashKey': 'ELB hashes only the client address (SOURCE_IP); it takes no hash key',
};

const ON_FAILURE: Record<string, string> = {
  fail: 'CCE cannot fail closed (as OCI disableFallback does): ELB sends the client to another backend when its backend is gone',
  retryElsewhere:
    'CCE has no retry of a failed request on another backend (as ingress-nginx session-cookie-change-on-failure)',
  retryPinned:
    'ELB does not keep a client on a backend that refuses connections (as ingress-nginx does by default); it moves the client once the backend fails its health check',
};

/** Why CCE cannot carry `field` with the value `before`; specific notes of a plan come first. */
export function whyCce(field: PolicyField, before: unknown): string {
  if (field === 'rebalance' && before === 'balanced')
    return 'CCE has no balanced mode (as ingress-nginx affinity-mode: balanced); ELB keeps sessions pinned when backends are added';
  if (field === 'onFailure' && typeof before === 'string' && ON_FAILURE[before])
    return ON_FAILURE[before];
  if (field.startsWith('route.')) return `CCE's ELB annotations have no equivalent of ${field}`;
  return WHY[field] ?? `CCE cannot express ${field}`;
}
