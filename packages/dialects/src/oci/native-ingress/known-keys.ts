import { PREFIX } from './annotations';

/**
 * Keys the OCI native ingress controller defines for concerns outside session persistence
 * (health checks, TLS towards the backends, firewalls, tags, IngressClass settings). They
 * are valid, so they are not reported as unknown, but Tether does not read them.
 */
export const NIC_KEYS_NOT_READ: ReadonlySet<string> = new Set(
  [
    'id',
    'backend-tls-enabled',
    'mutual-tls-authentication',
    'waf-policy-ocid',
    'firewall-id',
    'network-security-group-ids',
    'delete-protection-enabled',
    'reserved-private-ip-address-id',
    'defined-tags',
    'freeform-tags',
    'healthcheck-protocol',
    'healthcheck-port',
    'healthcheck-path',
    'healthcheck-interval-milliseconds',
    'healthcheck-timeout-milliseconds',
    'healthcheck-retries',
    'healthcheck-return-code',
    'healthcheck-response-regex',
    'healthcheck-force-plaintext',
  ].map((k) => `${PREFIX}${k}`),
);
