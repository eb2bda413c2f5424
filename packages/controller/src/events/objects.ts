import { annotationsOf, namespaceOf, type KubeObject } from '@tether/dialects';

/** An Event's `regarding`/`related`: the object as the API server knows it. */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

/** Kinds we read that have no namespace; their Events live in `default`, as client-go puts them. */
const CLUSTER_SCOPED = new Set(['IngressClass', 'GatewayClass', 'Namespace']);

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

/** Where Events about an object are written. */
export function eventNamespaceOf(ref: Pick<ObjectReference, 'namespace'>): string {
  return ref.namespace || 'default';
}

/**
 * One key per object, the same whether it comes from a diagnostic's source (whose namespace of
 * a cluster-scoped object reads `default`) or from an Event's `regarding` (where it is empty).
 */
export function objectIdOf(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace || 'default'}/${name}`;
}

/** The objects of a snapshot, found by the kind, namespace and name that diagnostics name. */
export interface ObjectDirectory {
  find(kind: string, namespace: string, name: string): KubeObject | undefined;
}

export function directoryOf(objects: readonly KubeObject[]): ObjectDirectory {
  const byId = new Map<string, KubeObject>();
  for (const o of objects) byId.set(objectIdOf(o.kind, namespaceOf(o), o.metadata.name), o);
  return { find: (kind, namespace, name) => byId.get(objectIdOf(kind, namespace, name)) };
}

export function referenceOf(o: KubeObject): ObjectReference {
  const ref: ObjectReference = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name };
  if (!CLUSTER_SCOPED.has(o.kind)) ref.namespace = namespaceOf(o);
  if (o.metadata.uid) ref.uid = o.metadata.uid;
  if (o.metadata.resourceVersion) ref.resourceVersion = o.metadata.resourceVersion;
  return ref;
}

export type FieldValue = { place: 'annotation' | 'field'; value: unknown };

const MAX_PATH_STEPS = 32;

/**
 * The value a diagnostic's `field` names on the object: an annotation, or a spec path such as
 * `spec.rules[0].sessionPersistence.sessionName`. Undefined when the field is neither (a rule
 * locator like `rules[0].paths[1]` that is not a path from the object root).
 */
export function fieldValueOf(o: KubeObject, field: string): FieldValue | undefined {
  const annotations = annotationsOf(o);
  if (Object.hasOwn(annotations, field)) return { place: 'annotation', value: annotations[field] };
  const steps = field.match(/[^.[\]]+/g);
  if (!steps || steps.length > MAX_PATH_STEPS) return undefined;
  let at: unknown = o;
  for (const step of steps) {
    if (Array.isArray(at) && /^\d+$/.test(step)) at = at[Number(step)];
    else if (typeof at === 'object' && at !== null && Object.hasOwn(at, step))
      at = (at as Record<string, unknown>)[step];
    else return undefined;
  }
  return at === undefined || at === o ? undefined : { place: 'field', value: at };
}
