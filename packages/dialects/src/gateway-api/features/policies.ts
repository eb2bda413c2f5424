import { Diagnostic, info, quote, warning } from '@tether/model';
import { isPlainObject, refusedByVendor } from '../../helpers';
import { namespaceOf, sourceOf } from '../../kube';
import type { KubeObject, ParseContext } from '../../types';
import { Session, readSession } from './session-persistence';

/**
 * Policy kinds that attach session persistence to Services, with the API groups that define
 * them. Other projects ship kinds of the same name (Envoy Gateway's BackendTrafficPolicy) with
 * other fields; those are not read.
 */
const POLICY_GROUPS: Readonly<Record<string, readonly string[]>> = {
  XBackendTrafficPolicy: ['gateway.networking.x-k8s.io'],
  BackendLBPolicy: ['gateway.networking.k8s.io'],
  BackendTrafficPolicy: ['gateway.networking.k8s.io', 'gateway.networking.x-k8s.io'],
};

export function apiGroup(object: KubeObject): string {
  const slash = object.apiVersion.indexOf('/');
  return slash < 0 ? '' : object.apiVersion.slice(0, slash);
}

export function isSessionPolicy(object: KubeObject): boolean {
  return POLICY_GROUPS[object.kind]?.includes(apiGroup(object)) ?? false;
}

export interface PolicyTarget {
  namespace: string;
  service: string;
  /** The spec path of the reference, `spec.targetRefs[0]`. */
  key: string;
}

export interface PolicyRead {
  object: KubeObject;
  targets: PolicyTarget[];
  /** Absent when the policy has none or the API server would refuse the object. */
  session?: Session;
  diagnostics: Diagnostic[];
}

const SPEC_FIELDS = ['targetRefs', 'sessionPersistence', 'retryConstraint'];

function readTargets(object: KubeObject, raw: unknown, diagnostics: Diagnostic[]) {
  const source = (field: string) => sourceOf('gateway-api', object, field);
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 16) {
    diagnostics.push(
      refusedByVendor(source('spec.targetRefs'), raw, 'a list of 1 to 16 target references'),
    );
    return undefined;
  }
  const targets: PolicyTarget[] = [];
  for (const [i, ref] of raw.entries()) {
    const key = `spec.targetRefs[${i}]`;
    if (
      !isPlainObject(ref) ||
      typeof ref.group !== 'string' ||
      typeof ref.kind !== 'string' ||
      typeof ref.name !== 'string' ||
      ref.name === ''
    ) {
      diagnostics.push(refusedByVendor(source(key), ref, 'an object with group, kind and name'));
      return undefined;
    }
    if (ref.group === '' && ref.kind === 'Service') {
      targets.push({ namespace: namespaceOf(object), service: ref.name, key });
    } else {
      diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${key}: Tether attaches session persistence to Services only; ${quote(`${ref.group}/${ref.kind}`)} ${quote(ref.name)} is left alone`,
          source(key),
        ),
      );
    }
  }
  return targets;
}

/** Reads an XBackendTrafficPolicy or BackendLBPolicy: its Service targets and its session. */
export function readPolicy(object: KubeObject): PolicyRead {
  const diagnostics: Diagnostic[] = [];
  const source = (field: string) => sourceOf('gateway-api', object, field);
  const spec = object.spec;
  if (!isPlainObject(spec)) {
    diagnostics.push(refusedByVendor(source('spec'), spec, 'an object with targetRefs'));
    return { object, targets: [], diagnostics };
  }
  for (const key of Object.keys(spec)) {
    if (key === 'retryConstraint') {
      diagnostics.push(
        info(
          'NotReproduced',
          'spec.retryConstraint is not enforced by Tether',
          source(`spec.${key}`),
        ),
      );
    } else if (!SPEC_FIELDS.includes(key)) {
      diagnostics.push(
        warning(
          'UnknownField',
          `spec.${key} is not a field of ${object.kind}; the API server prunes it`,
          source(`spec.${key}`),
        ),
      );
    }
  }
  const targets = readTargets(object, spec.targetRefs, diagnostics);
  if (targets === undefined) return { object, targets: [], diagnostics };
  if (spec.sessionPersistence === undefined || spec.sessionPersistence === null)
    return { object, targets, diagnostics };
  const read = readSession(spec.sessionPersistence, 'spec.sessionPersistence', source);
  diagnostics.push(...read.diagnostics);
  return read.session
    ? { object, targets, session: read.session, diagnostics }
    : { object, targets, diagnostics };
}

/** GEP-713: among conflicting policies the oldest wins, then the first by namespace/name. */
function precedes(a: PolicyRead, b: PolicyRead): number {
  // Objects read from files have no timestamp yet: they count as the newest.
  const age = (p: PolicyRead) => p.object.metadata.creationTimestamp ?? '~';
  const id = (p: PolicyRead) => `${namespaceOf(p.object)}/${p.object.metadata.name}`;
  const byAge = age(a).localeCompare(age(b));
  return byAge !== 0 ? byAge : id(a).localeCompare(id(b));
}

type PolicyIndex = Map<string, PolicyRead[]>;
const indexes = new WeakMap<readonly KubeObject[], PolicyIndex>();

function buildIndex(objects: readonly KubeObject[]): PolicyIndex {
  const byService: PolicyIndex = new Map();
  for (const object of objects) {
    if (!isSessionPolicy(object)) continue;
    const read = readPolicy(object);
    if (!read.session) continue;
    const services = new Set(read.targets.map((t) => `${t.namespace}/${t.service}`));
    for (const service of services)
      byService.set(service, [...(byService.get(service) ?? []), read]);
  }
  for (const list of byService.values()) list.sort(precedes);
  return byService;
}

/**
 * The policies with a session that target a Service, the one that applies first. The index
 * is built once per snapshot.
 */
export function policiesFor(
  context: ParseContext,
  namespace: string,
  service: string,
): readonly PolicyRead[] {
  let index = indexes.get(context.objects);
  if (!index) {
    index = buildIndex(context.objects);
    indexes.set(context.objects, index);
  }
  return index.get(`${namespace}/${service}`) ?? [];
}

export function sameObject(a: KubeObject, b: KubeObject): boolean {
  return (
    a === b ||
    (a.kind === b.kind && namespaceOf(a) === namespaceOf(b) && a.metadata.name === b.metadata.name)
  );
}

/**
 * Objects other than `object` whose content its parse reads: the session policies on the
 * Services an HTTPRoute routes to, or the other policies on the Services a policy targets.
 * A cache of parse results must treat a change in any of them as a change of the object.
 */
export function policyDependencies(
  object: KubeObject,
  context: ParseContext,
  services: readonly { namespace: string; service: string }[],
): KubeObject[] {
  const seen = new Set<KubeObject>();
  for (const s of services)
    for (const p of policiesFor(context, s.namespace, s.service))
      if (!sameObject(p.object, object)) seen.add(p.object);
  return [...seen];
}
