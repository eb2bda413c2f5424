/**
 * `reencrypt` Routes: the router ends the client's TLS and opens TLS again to the pod. From
 * openshift/router `images/router/haproxy/conf/haproxy-config.template` (the `server` line of
 * a reencrypt backend): `ssl`, then `verify required ca-file` with the Route's
 * `spec.tls.destinationCACertificate` when it has one, else with the router's default
 * destination CA (the service CA bundle, where the router is given one), else `verify none`;
 * no `sni`, so the router sends no server name, and without `verifyhost` (which the router
 * adds only with its default destination CA) HAProxy checks the certificate's chain, not its
 * name.
 */
import type { FieldCollector } from '../../helpers';
import type { RouteSpec } from '../../kube';
import { TERMINATION } from '../annotations';

const DESTINATION_CA = 'spec.tls.destinationCACertificate';

/** Reads a reencrypt Route's TLS to its endpoints; nothing for other terminations. */
export function readBackendTls(
  c: FieldCollector,
  spec: RouteSpec,
  termination: string,
  namespace: string,
): void {
  if (termination !== 'reencrypt') return;
  c.set('route.backendProtocol', 'HTTPS', TERMINATION);
  const ca = spec.tls?.destinationCACertificate;
  if (typeof ca === 'string' && ca.trim() !== '') {
    c.set('route.backendTls.verify', true, DESTINATION_CA);
    c.set('route.backendTls.caCertificate', ca, DESTINATION_CA);
  } else {
    // The router's default destination CA: the service CA bundle, under the Service's name.
    // Without one given to the proxy (--backend-ca-file), no verification, as the router.
    c.setDefault('route.backendTls.verify', false, DESTINATION_CA);
    c.setDefault('route.backendTls.serviceCa', true, DESTINATION_CA);
    c.setDefault('route.backendTls.serverName', `${spec.to.name}.${namespace}.svc`, DESTINATION_CA);
  }
  c.setDefault('route.backendTls.sni', false, TERMINATION);
}
