/**
 * Gateways and their listeners as Tether serves them: what each listener serves, its
 * conditions, and the conflicts between listeners.
 *
 * - A listener of protocol HTTP or HTTPS serves HTTPRoutes and GRPCRoutes; one of protocol TLS
 *   in Passthrough mode serves TLSRoutes. Any other protocol (TCP, UDP, TLS Terminate, a
 *   custom one) is not accepted (`UnsupportedProtocol`) and serves nothing.
 * - Two listeners on one port conflict when the proxy cannot tell them apart: another protocol
 *   family (HTTP against HTTPS or TLS) is `ProtocolConflict`, the same hostname
 *   `HostnameConflict`. Within a Gateway every one of them is conflicted (the spec allows no
 *   winner); across Gateways the oldest (then by namespace/name) keeps the port. A conflicted
 *   listener serves nothing.
 * - An HTTPS listener serves its first `certificateRefs` Secret; one in another namespace only
 *   where a ReferenceGrant there lets Gateways of the listener's namespace read it. A listener
 *   whose certificate cannot be resolved attaches routes but serves none of them.
 *
 * Where routes attach to these listeners is `route-attachment.ts`. Pure: everything comes from
 * the parse context's objects; the controller writes status from the same answers.
 */
import { namespaceOf } from '../kube';
import { isPlainObject } from '../helpers';
import type { KubeObject, ParseContext } from '../types';
import { referenceGranted } from './reference-grants';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface Condition {
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface GatewayListener {
  gateway: KubeObject;
  /** `namespace/gateway/listener`: the model's `Listener.gateway`. */
  id: string;
  index: number;
  name: string;
  port: number;
  /** As written. */
  protocol: string;
  hostname?: string;
  /** The kinds of route it serves (status `supportedKinds`). */
  kinds: string[];
  accepted: Condition;
  conflicted?: Condition;
  resolvedRefs: Condition;
  /** `namespace/name` of the Secret an HTTPS listener serves, when it resolved. */
  tlsSecret?: string;
  allowed: AllowedRoutes;
}

interface AllowedRoutes {
  from: string;
  selector?: Record<string, unknown>;
}

/** Whether the listener takes part in serving (accepted, not conflicted, references resolved). */
export function listenerServes(l: GatewayListener): boolean {
  return l.accepted.status === 'True' && !l.conflicted && l.resolvedRefs.status === 'True';
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function gatewayKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

const ROUTE_KINDS: Record<string, string[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
};

const OK = (reason: string, message: string): Condition => ({ status: 'True', reason, message });
const NOT = (reason: string, message: string): Condition => ({
  status: 'False',
  reason,
  message,
});

/** The kinds a listener serves, and the condition for kinds it was asked for and cannot. */
function routeKinds(protocol: string, raw: unknown): { kinds: string[]; invalid: string[] } {
  const possible = ROUTE_KINDS[protocol] ?? [];
  if (!Array.isArray(raw) || raw.length === 0) return { kinds: possible, invalid: [] };
  const kinds: string[] = [];
  const invalid: string[] = [];
  for (const k of raw) {
    if (!isPlainObject(k)) continue;
    const kind = str(k.kind) ?? '';
    const group = typeof k.group === 'string' ? k.group : GATEWAY_GROUP;
    if (group === GATEWAY_GROUP && possible.includes(kind)) {
      if (!kinds.includes(kind)) kinds.push(kind);
    } else invalid.push(group === GATEWAY_GROUP ? kind : `${group}/${kind}`);
  }
  return { kinds, invalid };
}

function secretOf(
  gateway: KubeObject,
  tls: Record<string, unknown>,
  context: ParseContext,
): { secret?: string; condition: Condition } {
  const refs = Array.isArray(tls.certificateRefs) ? tls.certificateRefs : [];
  const ref = refs[0];
  if (!isPlainObject(ref) || !str(ref.name))
    return { condition: NOT('InvalidCertificateRef', 'an HTTPS listener needs a certificateRef') };
  const group = typeof ref.group === 'string' ? ref.group : '';
  const kind = str(ref.kind) ?? 'Secret';
  if (group !== '' || kind !== 'Secret')
    return {
      condition: NOT('InvalidCertificateRef', `certificateRefs of kind ${kind} are not supported`),
    };
  const name = str(ref.name)!;
  const namespace = str(ref.namespace) ?? namespaceOf(gateway);
  const secret = gatewayKey(namespace, name);
  if (
    namespace !== namespaceOf(gateway) &&
    !referenceGranted(
      context,
      { group: GATEWAY_GROUP, kind: 'Gateway', namespace: namespaceOf(gateway) },
      { group: '', kind: 'Secret', namespace, name },
    )
  )
    return {
      condition: NOT(
        'RefNotPermitted',
        `Secret ${secret} is in another namespace and no ReferenceGrant there lets Gateways of ${namespaceOf(gateway)} read it`,
      ),
    };
  if (!objectsOf(context).secrets.has(secret))
    return { condition: NOT('InvalidCertificateRef', `Secret ${secret} does not exist`) };
  return { secret, condition: OK('ResolvedRefs', 'All references are resolved') };
}

function readListener(
  gateway: KubeObject,
  raw: unknown,
  index: number,
  context: ParseContext,
): GatewayListener | undefined {
  if (!isPlainObject(raw)) return undefined;
  const name = str(raw.name) ?? `listener-${index}`;
  const port = typeof raw.port === 'number' && Number.isInteger(raw.port) ? raw.port : 0;
  const protocol = str(raw.protocol) ?? '';
  const hostname = str(raw.hostname);
  const tls = isPlainObject(raw.tls) ? raw.tls : {};
  const mode = str(tls.mode) ?? 'Terminate';
  const allowedRaw = isPlainObject(raw.allowedRoutes) ? raw.allowedRoutes : {};
  const namespaces = isPlainObject(allowedRaw.namespaces) ? allowedRaw.namespaces : {};
  const allowed: AllowedRoutes = { from: str(namespaces.from) ?? 'Same' };
  if (isPlainObject(namespaces.selector)) allowed.selector = namespaces.selector;
  // Passthrough is read from the ClientHello on the proxy's HTTPS listener: port 443 only.
  const supported =
    protocol === 'HTTP' ||
    protocol === 'HTTPS' ||
    (protocol === 'TLS' && mode === 'Passthrough' && port === 443);
  const { kinds, invalid } = routeKinds(supported ? protocol : '', allowedRaw.kinds);
  let resolvedRefs = OK('ResolvedRefs', 'All references are resolved');
  let tlsSecret: string | undefined;
  if (supported && protocol === 'HTTPS') {
    const read = secretOf(gateway, tls, context);
    resolvedRefs = read.condition;
    tlsSecret = read.secret;
  }
  if (supported && invalid.length > 0)
    resolvedRefs = NOT(
      'InvalidRouteKinds',
      `allowedRoutes.kinds names ${invalid.join(', ')}, which a ${protocol} listener does not serve`,
    );
  const listener: GatewayListener = {
    gateway,
    id: `${namespaceOf(gateway)}/${gateway.metadata.name}/${name}`,
    index,
    name,
    port,
    protocol,
    kinds: supported ? kinds : [],
    accepted: supported
      ? OK('Accepted', 'Listener is accepted')
      : NOT(
          'UnsupportedProtocol',
          protocol === 'TLS'
            ? 'TLS listeners are served in Passthrough mode on port 443 only'
            : `protocol ${protocol || '(none)'} is not served; HTTP, HTTPS and TLS (Passthrough) are`,
        ),
    resolvedRefs,
    allowed,
  };
  if (hostname !== undefined) listener.hostname = hostname.toLowerCase();
  if (tlsSecret !== undefined) listener.tlsSecret = tlsSecret;
  return listener;
}

/** HTTP, or TLS of either kind: two listeners of one family may share a port. */
function family(protocol: string): string {
  return protocol === 'HTTP' ? 'HTTP' : 'TLS';
}

/** Two listeners on one port that the proxy could not tell apart, or not serve together. */
function clash(a: GatewayListener, b: GatewayListener): boolean {
  return (
    a.port === b.port && (family(a.protocol) !== family(b.protocol) || a.hostname === b.hostname)
  );
}

function conflict(l: GatewayListener, other: GatewayListener): Condition {
  const protocolConflict = family(other.protocol) !== family(l.protocol);
  return {
    status: 'True',
    reason: protocolConflict ? 'ProtocolConflict' : 'HostnameConflict',
    message: protocolConflict
      ? `port ${l.port} is also served as ${other.protocol} by listener ${other.id}`
      : `port ${l.port} with ${l.hostname ? `hostname ${l.hostname}` : 'no hostname'} is also served by listener ${other.id}`,
  };
}

function olderFirst(a: KubeObject, b: KubeObject): number {
  const age = (o: KubeObject) => o.metadata.creationTimestamp ?? '~';
  const byAge = age(a) < age(b) ? -1 : age(a) > age(b) ? 1 : 0;
  if (byAge !== 0) return byAge;
  const id = (o: KubeObject) => gatewayKey(namespaceOf(o), o.metadata.name);
  return id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0;
}

/** The objects listeners and attachments read, by kind: found once per snapshot, not per route. */
export interface SnapshotObjects {
  secrets: Map<string, KubeObject>;
  grants: KubeObject[];
  namespaces: Map<string, KubeObject>;
}

const snapshotObjects = new WeakMap<readonly KubeObject[], SnapshotObjects>();

export function objectsOf(context: ParseContext): SnapshotObjects {
  const known = snapshotObjects.get(context.objects);
  if (known) return known;
  const found: SnapshotObjects = { secrets: new Map(), grants: [], namespaces: new Map() };
  for (const o of context.objects) {
    if (o.kind === 'Secret') found.secrets.set(gatewayKey(namespaceOf(o), o.metadata.name), o);
    else if (o.kind === 'ReferenceGrant') found.grants.push(o);
    else if (o.kind === 'Namespace') found.namespaces.set(o.metadata.name, o);
  }
  snapshotObjects.set(context.objects, found);
  return found;
}

export interface GatewayIndex {
  /** Whether the snapshot holds any Gateway: without one, routes are served on the proxy's own listeners. */
  any: boolean;
  byKey: Map<string, { gateway: KubeObject; listeners: GatewayListener[] }>;
}

const indexes = new WeakMap<readonly KubeObject[], GatewayIndex>();

function isGateway(o: KubeObject): boolean {
  return o.kind === 'Gateway' && o.apiVersion.startsWith(`${GATEWAY_GROUP}/`);
}

/** Every Gateway of the snapshot with its listeners read and their conflicts found; built once per snapshot. */
export function gatewayIndex(context: ParseContext): GatewayIndex {
  const known = indexes.get(context.objects);
  if (known) return known;
  const gateways = context.objects.filter(isGateway).sort(olderFirst);
  const index: GatewayIndex = { any: gateways.length > 0, byKey: new Map() };
  const claims = new Map<number, GatewayListener[]>();
  for (const gateway of gateways) {
    const spec = isPlainObject(gateway.spec) ? gateway.spec : {};
    const raw = Array.isArray(spec.listeners) ? spec.listeners : [];
    const listeners: GatewayListener[] = [];
    raw.forEach((r, i) => {
      const l = readListener(gateway, r, i, context);
      if (l) listeners.push(l);
    });
    const accepted = listeners.filter((l) => l.accepted.status === 'True');
    // Within a Gateway no conflicting listener wins: every one of them is Conflicted.
    for (const l of accepted) {
      const other = accepted.find((o) => o !== l && clash(o, l));
      if (other) l.conflicted = conflict(l, other);
    }
    // Across Gateways the older keeps what it serves: a newer Gateway cannot take it down.
    for (const l of accepted) {
      if (l.conflicted) continue;
      const other = (claims.get(l.port) ?? []).find((o) => clash(o, l));
      if (other) l.conflicted = conflict(l, other);
    }
    for (const l of accepted)
      if (!l.conflicted) claims.set(l.port, [...(claims.get(l.port) ?? []), l]);
    index.byKey.set(gatewayKey(namespaceOf(gateway), gateway.metadata.name), {
      gateway,
      listeners,
    });
  }
  indexes.set(context.objects, index);
  return index;
}
