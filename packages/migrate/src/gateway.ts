/**
 * `migrate --to gateway-api`: the Gateway the new routes attach to (`--gateway [NAMESPACE/]NAME`,
 * default `tether`), and, when the input has no such Gateway, the Gateway itself: a listener
 * for HTTP on port 80 and, for each host the sources served over TLS, an HTTPS listener on 443
 * for that host with a reference to the same Secret, and a TLS listener in Passthrough mode on
 * 443 where a source was relayed as TLS (an OpenShift passthrough Route), of Tether's
 * GatewayClass.
 */
import { namespaceOf, readIngress, readRoute, type KubeObject } from '@tether/dialects';

export interface GatewayRef {
  name: string;
  /** Absent: each route's own namespace (parentRefs without a namespace). */
  namespace?: string;
}

/** `NAMESPACE/NAME` or `NAME`. */
export function parseGatewayRef(text: string): GatewayRef {
  const slash = text.indexOf('/');
  return slash < 0
    ? { name: text }
    : { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}

/** The parentRef a new route writes for the Gateway. */
export function parentRefOf(ref: GatewayRef): Record<string, string> {
  return ref.namespace === undefined
    ? { name: ref.name }
    : { name: ref.name, namespace: ref.namespace };
}

/** One TLS host of a source, with its Secret. */
interface TlsHost {
  host: string;
  secret: string;
  namespace: string;
}

/** What the Gateway to write is made from, gathered over the sources converted. */
export class GatewayDraft {
  readonly #hosts = new Map<string, TlsHost>();
  readonly #namespaces = new Set<string>();
  /** A source is relayed as TLS (an OpenShift passthrough Route): a TLS listener is written. */
  #passthrough = false;
  #first: string | undefined;

  constructor(readonly ref: GatewayRef) {}

  /** A source converted into routes: its namespace, and (an Ingress) its TLS hosts. */
  add(source: KubeObject): void {
    const namespace = namespaceOf(source);
    this.#first ??= namespace;
    this.#namespaces.add(namespace);
    if (source.kind === 'Route')
      this.#passthrough ||=
        readRoute(source).spec?.tls?.termination?.toLowerCase() === 'passthrough';
    if (source.kind !== 'Ingress') return;
    for (const tls of readIngress(source).spec?.tls ?? []) {
      if (!tls.secretName) continue;
      for (const host of tls.hosts ?? [])
        if (!this.#hosts.has(host))
          this.#hosts.set(host, { host, secret: tls.secretName, namespace });
    }
  }

  get empty(): boolean {
    return this.#first === undefined;
  }

  /** The Gateway, and notes on what it needs beyond itself. */
  build(): { gateway: KubeObject; notes: string[] } {
    const namespace = this.ref.namespace ?? this.#first ?? 'default';
    const notes: string[] = [];
    const crossNamespace = [...this.#namespaces].some((n) => n !== namespace);
    const allowedRoutes = { namespaces: { from: crossNamespace ? 'All' : 'Same' } };
    const listeners: Record<string, unknown>[] = [
      { name: 'http', protocol: 'HTTP', port: 80, allowedRoutes },
    ];
    let n = 0;
    for (const t of this.#hosts.values()) {
      const certificate: Record<string, string> = { kind: 'Secret', name: t.secret };
      if (t.namespace !== namespace) {
        certificate.namespace = t.namespace;
        notes.push(
          `Gateway ${namespace}/${this.ref.name} names Secret ${t.namespace}/${t.secret} for ${t.host}: add a ReferenceGrant in ${t.namespace} that lets Gateways of ${namespace} read it`,
        );
      }
      listeners.push({
        name: `https-${n++}`,
        protocol: 'HTTPS',
        port: 443,
        hostname: t.host,
        tls: { mode: 'Terminate', certificateRefs: [certificate] },
        allowedRoutes,
      });
    }
    if (this.#passthrough)
      listeners.push({
        name: 'tls-passthrough',
        protocol: 'TLS',
        port: 443,
        tls: { mode: 'Passthrough' },
        allowedRoutes: {
          namespaces: { ...allowedRoutes.namespaces },
          kinds: [{ kind: 'TLSRoute' }],
        },
      });
    return {
      gateway: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: this.ref.name, namespace },
        spec: { gatewayClassName: 'tether', listeners },
      },
      notes,
    };
  }
}

/** Whether the input already has the Gateway (then it is not written). */
export function hasGateway(
  objects: readonly KubeObject[],
  ref: GatewayRef,
  fallback: string,
): boolean {
  const namespace = ref.namespace ?? fallback;
  return objects.some(
    (o) => o.kind === 'Gateway' && o.metadata.name === ref.name && namespaceOf(o) === namespace,
  );
}
