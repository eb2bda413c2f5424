/**
 * What the status of a served object should say, computed from the reconcile result and
 * the object as the API server has it. Pure: the writer compares and writes.
 */
import { isIP } from 'node:net';
import {
  attachRoute,
  namespaceOf,
  referenceGranted,
  type KubeObject,
  type ParseContext,
} from '@tether/dialects';
import type { Diagnostic } from '@tether/model';
import type { ReconcileResult } from './reconcile/reconcile';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

/** `status.loadBalancer.ingress` for the proxy's public addresses (IPs or host names). */
export function loadBalancerIngress(addresses: readonly string[]): LoadBalancerIngress[] {
  const seen = new Set<string>();
  const out: LoadBalancerIngress[] = [];
  for (const raw of addresses) {
    const address = raw.trim();
    if (address === '' || seen.has(address)) continue;
    seen.add(address);
    out.push(isIP(address) ? { ip: address } : { hostname: address });
  }
  return out;
}

/** The Ingress's current `status.loadBalancer.ingress`, or undefined when it has none. */
export function currentLoadBalancerIngress(object: KubeObject): unknown {
  const status = object.status as { loadBalancer?: { ingress?: unknown } } | undefined;
  return status?.loadBalancer?.ingress;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface RouteParentStatus {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: Condition[];
}

/** Looks objects up by kind in the current caches. */
export type ObjectLookup = (
  kind: string,
  namespace: string,
  name: string,
) => KubeObject | undefined;

function specOf(o: KubeObject | undefined): Record<string, unknown> {
  const spec = o?.spec;
  return typeof spec === 'object' && spec !== null ? (spec as Record<string, unknown>) : {};
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Whether a parentRef of `route` names a Gateway of a GatewayClass that `controllerName` runs. */
export function isOurParent(
  route: KubeObject,
  parentRef: Record<string, unknown>,
  lookup: ObjectLookup,
  controllerName: string,
): boolean {
  if ((str(parentRef.group) ?? GATEWAY_GROUP) !== GATEWAY_GROUP) return false;
  if ((str(parentRef.kind) ?? 'Gateway') !== 'Gateway') return false;
  const name = str(parentRef.name);
  if (!name) return false;
  const gateway = lookup('Gateway', str(parentRef.namespace) ?? namespaceOf(route), name);
  const className = str(specOf(gateway).gatewayClassName);
  if (!gateway || !className) return false;
  return str(specOf(lookup('GatewayClass', '', className)).controllerName) === controllerName;
}

function namesObject(d: Diagnostic, kind: string, namespace: string, name: string): boolean {
  return d.sources.some((s) => s.kind === kind && s.namespace === namespace && s.name === name);
}

function bounded(text: string, max = 1000): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Conditions with their lastTransitionTime: kept from `before` while a condition's status
 * stays, `now` when it changes or is new.
 */
export function withTransitionTimes<C extends Omit<Condition, 'lastTransitionTime'>>(
  conditions: readonly C[],
  before: unknown,
  now: Date,
): (C & { lastTransitionTime: string })[] {
  const previous = Array.isArray(before) ? (before as Partial<Condition>[]) : [];
  return conditions.map((c) => {
    const was = previous.find((p) => p?.type === c.type);
    const since =
      was?.status === c.status && typeof was.lastTransitionTime === 'string'
        ? was.lastTransitionTime
        : rfc3339(now);
    return { ...c, lastTransitionTime: since };
  });
}

/** Whole-second RFC 3339, as metav1.Time is written. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The Accepted and ResolvedRefs conditions of an HTTPRoute (or GRPCRoute) for our parents. Accepted is False
 * (UnsupportedValue) while a configuration of the route is refused (the last good policy stays
 * in force meanwhile); ResolvedRefs is False (BackendNotFound) while a backend is missing.
 */
export function routeConditions(
  route: KubeObject,
  result: ReconcileResult,
  lookup: ObjectLookup,
  context?: ParseContext,
): Omit<Condition, 'lastTransitionTime'>[] {
  const namespace = namespaceOf(route);
  const name = route.metadata.name;
  const generation = (route.metadata as { generation?: unknown }).generation;
  const observed = typeof generation === 'number' ? { observedGeneration: generation } : {};
  const kind = route.kind;
  const mine = result.diagnostics.filter((d) => namesObject(d, kind, namespace, name));
  const entries = result.entries.filter(
    (e) => e.entry.kind === kind && e.entry.namespace === namespace && e.entry.name === name,
  );
  const refused = entries.some((e) => !e.accepted);
  const errors = mine.filter((d) => d.severity === 'error');
  // Reconcile reports a missing backend only for entry points it serves; a refused one
  // still has references to resolve.
  const missing = [
    ...new Set([
      ...entries
        .filter((e) => !lookup('Service', e.backend.namespace, e.backend.service))
        .map((e) => `Service ${e.backend.namespace}/${e.backend.service} does not exist`),
      ...mine.filter((d) => d.reason === 'BackendNotFound').map((d) => d.message),
    ]),
  ];
  const accepted = refused
    ? {
        type: 'Accepted',
        status: 'False' as const,
        reason: 'UnsupportedValue',
        message: bounded(
          errors.length > 0
            ? errors.map((d) => `${d.reason}: ${d.message}`).join('; ')
            : 'the configuration of this route was refused; the last accepted one stays in force',
        ),
      }
    : {
        type: 'Accepted',
        status: 'True' as const,
        reason: 'Accepted',
        message: 'Route is accepted',
      };
  const refs = context ? backendRefProblems(route, context) : undefined;
  const resolved = refs
    ? { type: 'ResolvedRefs', status: 'False' as const, ...refs }
    : missing.length > 0
      ? {
          type: 'ResolvedRefs',
          status: 'False' as const,
          reason: 'BackendNotFound',
          message: bounded(missing.join('; ')),
        }
      : {
          type: 'ResolvedRefs',
          status: 'True' as const,
          reason: 'ResolvedRefs',
          message: 'All references are resolved',
        };
  return [
    { ...accepted, ...observed },
    { ...resolved, ...observed },
  ];
}

/**
 * The first backendRef problem other than a missing Service: a kind Tether cannot route to
 * (`InvalidKind`), or a Service in another namespace no ReferenceGrant allows (`RefNotPermitted`).
 */
function backendRefProblems(
  route: KubeObject,
  context: ParseContext,
): { reason: string; message: string } | undefined {
  const rules = specOf(route).rules;
  const namespace = namespaceOf(route);
  const invalid: string[] = [];
  const denied: string[] = [];
  for (const rule of Array.isArray(rules) ? rules : []) {
    const refs = (rule as { backendRefs?: unknown } | null)?.backendRefs;
    for (const ref of Array.isArray(refs) ? (refs as Record<string, unknown>[]) : []) {
      const kind = str(ref.kind) ?? 'Service';
      const group = typeof ref.group === 'string' ? ref.group : '';
      const name = str(ref.name) ?? '';
      if (kind !== 'Service' || group !== '') {
        invalid.push(`${group === '' ? '' : `${group}/`}${kind} ${name}`);
        continue;
      }
      const to = str(ref.namespace) ?? namespace;
      if (
        !referenceGranted(
          context,
          { group: GATEWAY_GROUP, kind: route.kind, namespace },
          { group: '', kind: 'Service', namespace: to, name },
        )
      )
        denied.push(`Service ${to}/${name}`);
    }
  }
  if (invalid.length > 0)
    return {
      reason: 'InvalidKind',
      message: bounded(`backendRefs of a kind Tether does not route to: ${invalid.join(', ')}`),
    };
  if (denied.length > 0)
    return {
      reason: 'RefNotPermitted',
      message: bounded(
        `no ReferenceGrant allows the reference to ${[...new Set(denied)].join(', ')}`,
      ),
    };
  return undefined;
}

function parentRefsOf(route: KubeObject): Record<string, unknown>[] {
  const refs = specOf(route).parentRefs;
  return Array.isArray(refs)
    ? refs.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
    : [];
}

export function currentParents(route: KubeObject): RouteParentStatus[] {
  const parents = (route.status as { parents?: unknown } | undefined)?.parents;
  return Array.isArray(parents)
    ? parents.filter((p): p is RouteParentStatus => typeof p === 'object' && p !== null)
    : [];
}

function sameRef(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = ['group', 'kind', 'namespace', 'name', 'sectionName', 'port'];
  return keys.every((k) => (a[k] ?? null) === (b[k] ?? null));
}

/**
 * The whole `status.parents` list: the entries of other controllers as they are, then one
 * entry per parentRef of ours (none when `served` is false). A condition keeps its
 * lastTransitionTime while its status stays the same.
 */
export function desiredParents(
  route: KubeObject,
  result: ReconcileResult | undefined,
  served: boolean,
  lookup: ObjectLookup,
  controllerName: string,
  now: Date,
  context?: ParseContext,
): RouteParentStatus[] {
  const current = currentParents(route);
  const others = current.filter((p) => p.controllerName !== controllerName);
  if (!served || !result) return others;
  const shared = routeConditions(route, result, lookup, context);
  const attachment = context ? attachRoute(route, context) : undefined;
  const ours: RouteParentStatus[] = [];
  for (const ref of parentRefsOf(route)) {
    if (!isOurParent(route, ref, lookup, controllerName)) continue;
    // A parent whose listeners do not take the route says why; the others share the verdict.
    const refusal = attachment?.find((a) => a.parentRef === ref)?.refusal;
    const conditions = refusal
      ? shared.map((c) =>
          c.type === 'Accepted' ? { ...c, status: 'False' as const, ...refusal } : c,
        )
      : shared;
    const before = current.find(
      (p) => p.controllerName === controllerName && sameRef(p.parentRef ?? {}, ref),
    );
    ours.push({
      parentRef: { ...ref },
      controllerName,
      conditions: withTransitionTimes(conditions, before?.conditions, now),
    });
  }
  return [...others, ...ours];
}

/** Compares two JSON values structurally, with object keys in any order. */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => sameJson(v, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => sameJson(ra[k], rb[k]));
}

/**
 * The conditions of a GatewayClass whose controllerName is ours: Accepted (Gateway API's
 * `GatewayClassConditionStatus`: the controller takes the class). The other conditions of the
 * object, another controller's or the API server's defaults, are replaced: only the class's
 * own controller writes its status. lastTransitionTime stays while the status does.
 */
export function desiredGatewayClassConditions(
  gatewayClass: KubeObject,
  now: Date,
): Record<string, unknown>[] {
  const generation = (gatewayClass.metadata as { generation?: unknown }).generation;
  const current = (
    (gatewayClass.status as { conditions?: Record<string, unknown>[] } | undefined)?.conditions ??
    []
  ).find((c) => c.type === 'Accepted');
  const since =
    current?.status === 'True' && typeof current.lastTransitionTime === 'string'
      ? current.lastTransitionTime
      : rfc3339(now);
  return [
    {
      type: 'Accepted',
      status: 'True',
      reason: 'Accepted',
      message: 'Tether serves the Gateways of this class',
      ...(typeof generation === 'number' ? { observedGeneration: generation } : {}),
      lastTransitionTime: since,
    },
  ];
}
