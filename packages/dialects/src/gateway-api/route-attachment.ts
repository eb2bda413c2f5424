/**
 * Where a route attaches: to each listener its `parentRefs` name (a whole Gateway, or one
 * listener by `sectionName` and/or `port`) that allows its kind and namespace
 * (`allowedRoutes`, namespaces by label selector) and whose hostname meets one of the route's
 * hostnames (`hostnames.ts`). Pure, as `gateways.ts`.
 */
import { namespaceOf } from '../kube';
import { isPlainObject } from '../helpers';
import type { KubeObject, ParseContext } from '../types';
import {
  GATEWAY_GROUP,
  gatewayIndex,
  gatewayKey,
  objectsOf,
  str,
  type GatewayListener,
} from './gateways';
import { intersectHostnames } from './hostnames';

function labelsOfNamespace(context: ParseContext, name: string): Record<string, string> {
  const ns = objectsOf(context).namespaces.get(name);
  // Every namespace carries its name as a label (Kubernetes 1.22+), listed or not.
  return { ...(ns?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
}

/** A metav1.LabelSelector against labels; an unreadable selector selects nothing. */
export function selects(
  selector: Record<string, unknown>,
  labels: Record<string, string>,
): boolean {
  const match = isPlainObject(selector.matchLabels) ? selector.matchLabels : {};
  for (const [k, v] of Object.entries(match)) if (labels[k] !== v) return false;
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  for (const e of expressions) {
    if (!isPlainObject(e) || typeof e.key !== 'string') return false;
    const values = Array.isArray(e.values) ? e.values.filter((v) => typeof v === 'string') : [];
    const has = e.key in labels;
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (value === undefined || !values.includes(value)) return false;
        break;
      case 'NotIn':
        if (value !== undefined && values.includes(value)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

function allows(l: GatewayListener, route: KubeObject, context: ParseContext): boolean {
  if (!l.kinds.includes(route.kind)) return false;
  const routeNs = namespaceOf(route);
  switch (l.allowed.from) {
    case 'All':
      return true;
    case 'Same':
      return routeNs === namespaceOf(l.gateway);
    case 'Selector':
      return l.allowed.selector !== undefined
        ? selects(l.allowed.selector, labelsOfNamespace(context, routeNs))
        : false;
    default:
      return false;
  }
}

export interface AttachedListener {
  listener: GatewayListener;
  /** The names the route is served under there (`*` for any). */
  hosts: string[];
}

export interface ParentAttachment {
  index: number;
  parentRef: Record<string, unknown>;
  gateway?: KubeObject;
  listeners: AttachedListener[];
  /** Why the route is not accepted by this parent; absent when it attached. */
  refusal?: { reason: string; message: string };
}

/** The route's hostnames as written (`spec.hostnames`). */
function hostnamesOf(route: KubeObject): string[] | undefined {
  const spec = isPlainObject(route.spec) ? route.spec : {};
  return Array.isArray(spec.hostnames)
    ? spec.hostnames.filter((h): h is string => typeof h === 'string')
    : undefined;
}

/**
 * Where each of the route's Gateway parents takes it. Undefined when the snapshot holds no
 * Gateway at all (routes read from files alone): the route is then served on the proxy's own
 * listeners.
 */
export function attachRoute(
  route: KubeObject,
  context: ParseContext,
): ParentAttachment[] | undefined {
  const index = gatewayIndex(context);
  if (!index.any) return undefined;
  const spec = isPlainObject(route.spec) ? route.spec : {};
  const parents = Array.isArray(spec.parentRefs) ? spec.parentRefs : [];
  const hostnames = hostnamesOf(route);
  const out: ParentAttachment[] = [];
  parents.forEach((raw, i) => {
    if (!isPlainObject(raw)) return;
    const group = typeof raw.group === 'string' ? raw.group : GATEWAY_GROUP;
    const kind = str(raw.kind) ?? 'Gateway';
    if (group !== GATEWAY_GROUP || kind !== 'Gateway') return;
    const namespace = str(raw.namespace) ?? namespaceOf(route);
    const name = str(raw.name) ?? '';
    const found = index.byKey.get(gatewayKey(namespace, name));
    const attachment: ParentAttachment = { index: i, parentRef: raw, listeners: [] };
    out.push(attachment);
    if (!found) {
      attachment.refusal = {
        reason: 'NoMatchingParent',
        message: `Gateway ${namespace}/${name} is not one Tether serves`,
      };
      return;
    }
    attachment.gateway = found.gateway;
    const section = str(raw.sectionName);
    const port = typeof raw.port === 'number' ? raw.port : undefined;
    const named = found.listeners.filter(
      (l) =>
        (section === undefined || l.name === section) && (port === undefined || l.port === port),
    );
    if (named.length === 0) {
      attachment.refusal = {
        reason: 'NoMatchingParent',
        message: `Gateway ${namespace}/${name} has no listener${section ? ` named ${section}` : ''}${port !== undefined ? ` on port ${port}` : ''}`,
      };
      return;
    }
    const allowing = named.filter(
      (l) => l.accepted.status === 'True' && !l.conflicted && allows(l, route, context),
    );
    if (allowing.length === 0) {
      attachment.refusal = {
        reason: 'NotAllowedByListeners',
        message: `no listener of Gateway ${namespace}/${name} allows ${route.kind}s from namespace ${namespaceOf(route)}`,
      };
      return;
    }
    for (const listener of allowing) {
      const hosts = intersectHostnames(hostnames, listener.hostname);
      if (hosts.length > 0) attachment.listeners.push({ listener, hosts });
    }
    if (attachment.listeners.length === 0)
      attachment.refusal = {
        reason: 'NoMatchingListenerHostname',
        message: `no hostname of the route meets a listener hostname of Gateway ${namespace}/${name}`,
      };
  });
  return out;
}

/**
 * What a route's attachment reads besides the route: every Gateway (there are few), the
 * Secrets and ReferenceGrants their listeners name, and the route's Namespace (its labels).
 */
export function attachmentDependencies(route: KubeObject, context: ParseContext): KubeObject[] {
  const shared = sharedDependencies(context);
  if (shared.length === 0) return [];
  const namespace = objectsOf(context).namespaces.get(namespaceOf(route));
  return namespace ? [...shared, namespace] : shared;
}

const sharedDeps = new WeakMap<readonly KubeObject[], KubeObject[]>();

/** What every route's attachment reads, the same for all of them: found once per snapshot. */
function sharedDependencies(context: ParseContext): KubeObject[] {
  const known = sharedDeps.get(context.objects);
  if (known) return known;
  const index = gatewayIndex(context);
  const out: KubeObject[] = [];
  if (index.any) {
    const secrets = new Set<string>();
    for (const { gateway, listeners } of index.byKey.values()) {
      out.push(gateway);
      for (const l of listeners) if (l.tlsSecret !== undefined) secrets.add(l.tlsSecret);
    }
    const objects = objectsOf(context);
    for (const key of secrets) {
      const secret = objects.secrets.get(key);
      if (secret) out.push(secret);
    }
    out.push(...objects.grants);
  }
  sharedDeps.set(context.objects, out);
  return out;
}
