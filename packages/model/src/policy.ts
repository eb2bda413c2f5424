import { z } from 'zod';

export const PersistenceMode = z.enum(['none', 'cookie', 'appCookie', 'sourceIp', 'header']);
export type PersistenceMode = z.infer<typeof PersistenceMode>;

export const SameSite = z.enum(['Strict', 'Lax', 'None']);
export type SameSite = z.infer<typeof SameSite>;

export const SecureMode = z.enum(['always', 'https', 'never']);
export type SecureMode = z.infer<typeof SecureMode>;

/** The cookie the balancer itself issues (in `appCookie` mode, its companion cookie). */
export const CookieSpec = z.object({
  name: z.string().min(1),
  path: z.string().optional(),
  domain: z.string().optional(),
  /** `Max-Age`; negative values are passed through as the vendor does (they delete the cookie). */
  maxAgeSeconds: z.number().int().optional(),
  /** `Expires` = time of issue + this many seconds. */
  expiresSeconds: z.number().int().optional(),
  httpOnly: z.boolean(),
  /** `always` sets Secure on every response; `https` only on responses to HTTPS requests. */
  secure: SecureMode,
  sameSite: SameSite.optional(),
  /** Leave out `SameSite=None` for user agents known to mishandle it. */
  omitSameSiteNoneForOldClients: z.boolean(),
  /** `session` cookies carry neither Max-Age nor Expires. */
  lifetime: z.enum(['session', 'permanent']),
  /** Add `Cache-Control: private` to responses that set the cookie. */
  nocache: z.boolean(),
});
export type CookieSpec = z.infer<typeof CookieSpec>;

export const Rebalance = z.enum(['persistent', 'balanced']);
/**
 * What happens when the pinned endpoint is gone or refuses connections:
 * - `rebalance`: another endpoint and a new session once it is gone, not serving, or refused
 *   a connection lately (HAProxy's `redispatch`, OCI's fallback);
 * - `fail`: 502 for as long as the client presents the session (OCI `disableFallback`);
 * - `retryElsewhere`: as `rebalance`, and a connection that broke before any response is
 *   retried elsewhere too (ingress-nginx `session-cookie-change-on-failure: true`);
 * - `retryPinned`: the pinned endpoint is tried for as long as it is listed and serving, a
 *   refusal answers 502 with no new session; only once it is gone does the client move
 *   (ingress-nginx's default, `change-on-failure: false`).
 */
export const OnFailure = z.enum(['rebalance', 'fail', 'retryElsewhere', 'retryPinned']);
export const CanaryBehavior = z.enum(['sticky', 'legacy']);

/** The cookie formats of other load balancers that Tether can map to an endpoint. */
export const AdoptableFormat = z.enum(['ingress-nginx', 'openshift', 'envoy-gateway', 'traefik']);
export type AdoptableFormat = z.infer<typeof AdoptableFormat>;

/**
 * Honour another load balancer's session cookies while clients move over: a request that
 * carries one goes to the endpoint it names (if that endpoint is still in the set) and gets
 * Tether's own cookie for it.
 */
export const CookieAdoption = z.object({
  sources: z
    .array(
      z.object({
        format: AdoptableFormat,
        /** The previous cookie's name; by default the policy's own cookie name. */
        cookieName: z.string().min(1).optional(),
      }),
    )
    .min(1),
  /** RFC 3339 instant after which the previous cookies are ignored. */
  until: z.string().optional(),
});
export type CookieAdoption = z.infer<typeof CookieAdoption>;

export const PersistencePolicy = z.object({
  mode: PersistenceMode,
  cookie: CookieSpec.optional(),
  /** `*` means any cookie the backend sets. */
  appCookie: z.object({ name: z.string().min(1) }).optional(),
  header: z.object({ name: z.string().min(1) }).optional(),
  sourceIp: z.object({ timeoutSeconds: z.number().int().positive().optional() }).optional(),
  /** What scaling does to existing sessions. */
  rebalance: Rebalance,
  /** What happens when the pinned endpoint is gone or refuses connections. */
  onFailure: OnFailure,
  absoluteTimeoutSeconds: z.number().int().positive().optional(),
  idleTimeoutSeconds: z.number().int().positive().optional(),
  /** Whether a session pinned to a canary (or to the primary) stays on that side. */
  canaryBehavior: CanaryBehavior.optional(),
  /** Another load balancer's cookies that are honoured (cookie mode only). */
  adoptCookies: CookieAdoption.optional(),
});
export type PersistencePolicy = z.infer<typeof PersistencePolicy>;

export const BalancingAlgorithm = z.enum([
  'roundRobin',
  'leastConnections',
  'sourceIpHash',
  'random',
  'ewma',
  'hash',
]);
export type BalancingAlgorithm = z.infer<typeof BalancingAlgorithm>;

export const LoadBalancing = z.object({
  algorithm: BalancingAlgorithm,
  /** For `hash`: the request value hashed, in nginx variable syntax (`$remote_addr`, `$http_x_user`). */
  hashKey: z.string().optional(),
});
export type LoadBalancing = z.infer<typeof LoadBalancing>;

/**
 * TLS from the proxy to the endpoints (OpenShift `reencrypt`, ingress-nginx `backend-protocol:
 * HTTPS`): whether the endpoint's certificate is verified, against what, under which name, and
 * whether that name is sent as SNI.
 */
export const BackendTls = z.object({
  verify: z.boolean().optional(),
  /** The name checked against the certificate, and sent as SNI when `sni`. */
  serverName: z.string().min(1).optional(),
  sni: z.boolean().optional(),
  /** `namespace/name` of a Secret whose `ca.crt` the certificate is verified against. */
  caSecret: z.string().min(1).optional(),
  /** `namespace/name` of a ConfigMap whose `ca.crt` is the CA to verify against (Gateway API BackendTLSPolicy). */
  caConfigMap: z.string().min(1).optional(),
  /** PEM of the CA the certificate is verified against (OpenShift destinationCACertificate). */
  caCertificate: z.string().min(1).optional(),
  /**
   * Verify against the proxy's service CA bundle (`--backend-ca-file`) under `serverName`
   * when the proxy has one, and not at all when it has none (the OpenShift router's default
   * destination CA).
   */
  serviceCa: z.boolean().optional(),
});
export type BackendTls = z.infer<typeof BackendTls>;

export const BackendProtocol = z.enum(['HTTP', 'HTTPS', 'GRPC', 'GRPCS']);
export type BackendProtocol = z.infer<typeof BackendProtocol>;

/** Whether the proxy speaks TLS to the endpoints of a route with this protocol. */
export function backendSpeaksTls(protocol: BackendProtocol | undefined): boolean {
  return protocol === 'HTTPS' || protocol === 'GRPCS';
}

/** Whether the proxy speaks HTTP/2 to the endpoints of a route with this protocol. */
export function backendSpeaksHttp2(protocol: BackendProtocol | undefined): boolean {
  return protocol === 'GRPC' || protocol === 'GRPCS';
}

/** Routing details that some dialects put in annotations next to their persistence settings. */
export const RouteSettings = z.object({
  pathRegex: z.boolean().optional(),
  sslRedirect: z.boolean().optional(),
  /** More host names that get the entry point's routes (ingress-nginx server-alias), comma-separated. */
  serverAlias: z.string().min(1).optional(),
  /**
   * What the proxy speaks to the endpoints: HTTP/1.1 unless a dialect says otherwise; HTTPS is
   * HTTP/1.1 over TLS, GRPC is HTTP/2 in clear text (h2c) and GRPCS HTTP/2 over TLS, with
   * trailers passed through.
   */
  backendProtocol: BackendProtocol.optional(),
  /**
   * Why this backend of the entry point may not be used (Gateway API `RefNotPermitted`: a
   * Service in another namespace that no ReferenceGrant allows): it keeps its share of a
   * split with no endpoint, so requests sent its way are refused.
   */
  backendRefused: z.string().min(1).optional(),
  backendTls: BackendTls.optional(),
  canary: z
    .object({
      weight: z.number().int().nonnegative().optional(),
      weightTotal: z.number().int().positive().optional(),
      header: z.string().optional(),
      headerValue: z.string().optional(),
      cookie: z.string().optional(),
    })
    .optional(),
});
export type RouteSettings = z.infer<typeof RouteSettings>;
