import type { Listener } from '@tether/model';

export type BackendProtocol = 'HTTP' | 'TCP' | 'GRPC';

/** What the cloud controller manager builds each listener from. */
export interface ListenerPlan {
  /** The backend-protocol annotation; undefined means each port's own protocol. */
  protocol?: BackendProtocol;
  /** Ports that terminate TLS: listed in ssl-ports while a tls-secret is given. */
  tlsPorts: ReadonlySet<number>;
  /** The tls-secret as `namespace/name` (a bare name is in the Service's namespace). */
  tlsSecret?: string;
  /** Ports whose backend sets speak TLS to the backends: ssl-ports, with a backendset secret. */
  backendTlsPorts: ReadonlySet<number>;
}

/**
 * The listener OCI serves for one Service port. UDP ports keep their protocol (the layer-7
 * load balancer refuses them anyway). A TLS-terminating HTTP or GRPC listener is HTTPS (a
 * GRPC one speaking HTTP/2 to clients, and gRPC to the backends);
 * a TLS-terminating TCP listener is still TCP to the requests inside it, and names the
 * Secret it ends TLS with: the backends receive the plain stream.
 */
export function ccmListener(structure: Listener, plan: ListenerPlan): Listener {
  if (structure.protocol === 'UDP') return structure;
  const protocol = plan.protocol ?? 'TCP';
  const tls = structure.port !== undefined && plan.tlsPorts.has(structure.port);
  const out: Listener = { protocol: protocol === 'TCP' ? 'TCP' : tls ? 'HTTPS' : protocol };
  if (structure.port !== undefined) out.port = structure.port;
  // A gRPC listener takes HTTP/2 from clients (OCI requires it to end TLS; Tether also takes
  // it in clear text, with prior knowledge).
  if (protocol === 'GRPC') out.http2 = true;
  if (tls && plan.tlsSecret !== undefined) out.tlsSecret = plan.tlsSecret;
  return out;
}
