import type { EntryRef, Listener } from '@tether/model';
import type { NicProtocol } from '../annotations';

/** What the native ingress controller builds an Ingress's listeners from. */
export interface NicListenerPlan {
  protocol: NicProtocol;
  /** Hosts listed under spec.tls with a secret. */
  tlsHosts: ReadonlySet<string>;
  /** A certificate annotation makes every host TLS. */
  certificate: boolean;
  httpPort?: number;
  httpsPort?: number;
}

/**
 * The one listener that serves an entry: the controller opens a listener per Service port
 * (or the port annotation), with TLS when the rule's host is a TLS host (exact match) or a
 * certificate is given. TCP listeners pass connections through and ignore TLS and routing.
 */
export function nicListener(
  entry: EntryRef,
  servicePort: number | undefined,
  plan: NicListenerPlan,
): Listener {
  const at = (port: number | undefined): Listener =>
    port === undefined ? { protocol: 'TCP' } : { protocol: 'TCP', port };
  if (plan.protocol === 'TCP') return at(servicePort);
  const tls = plan.certificate || (entry.host !== undefined && plan.tlsHosts.has(entry.host));
  const port = tls ? (plan.httpsPort ?? servicePort) : (plan.httpPort ?? servicePort);
  const protocol: Listener['protocol'] = tls ? 'HTTPS' : plan.protocol;
  return port === undefined ? { protocol } : { protocol, port };
}
