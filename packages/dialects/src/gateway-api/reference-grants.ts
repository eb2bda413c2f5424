/**
 * ReferenceGrant (Gateway API, `v1beta1`): an object in one namespace may refer to an object in
 * another only where a ReferenceGrant in the target's namespace lists the referring kind and
 * namespace in `from` and the target's kind (and name, when it gives one) in `to`.
 */
import { namespaceOf } from '../kube';
import { isPlainObject } from '../helpers';
import type { KubeObject, ParseContext } from '../types';

export interface ReferenceFrom {
  group: string;
  kind: string;
  namespace: string;
}

export interface ReferenceTo {
  /** '' for the core group (Secret, Service). */
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

function isReferenceGrant(o: KubeObject): boolean {
  return o.kind === 'ReferenceGrant' && o.apiVersion.startsWith('gateway.networking.k8s.io/');
}

const indexes = new WeakMap<readonly KubeObject[], Map<string, KubeObject[]>>();

function grantsIn(objects: readonly KubeObject[], namespace: string): KubeObject[] {
  let index = indexes.get(objects);
  if (!index) {
    index = new Map();
    for (const o of objects) {
      if (!isReferenceGrant(o)) continue;
      const ns = namespaceOf(o);
      index.set(ns, [...(index.get(ns) ?? []), o]);
    }
    indexes.set(objects, index);
  }
  return index.get(namespace) ?? [];
}

function groupOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Whether a reference from `from` to `to` is allowed; within one namespace it always is. */
export function referenceGranted(
  context: Pick<ParseContext, 'objects'>,
  from: ReferenceFrom,
  to: ReferenceTo,
): boolean {
  if (from.namespace === to.namespace) return true;
  return grantsIn(context.objects, to.namespace).some((grant) => {
    const spec = isPlainObject(grant.spec) ? grant.spec : {};
    const froms = Array.isArray(spec.from) ? spec.from : [];
    const tos = Array.isArray(spec.to) ? spec.to : [];
    const fromOk = froms.some(
      (f) =>
        isPlainObject(f) &&
        groupOf(f.group) === from.group &&
        f.kind === from.kind &&
        f.namespace === from.namespace,
    );
    const toOk = tos.some(
      (t) =>
        isPlainObject(t) &&
        groupOf(t.group) === to.group &&
        t.kind === to.kind &&
        (t.name === undefined || t.name === '' || t.name === to.name),
    );
    return fromOk && toOk;
  });
}

/** The ReferenceGrants of a namespace, for the parse caches' dependencies. */
export function referenceGrantsIn(context: ParseContext, namespace: string): KubeObject[] {
  return grantsIn(context.objects, namespace);
}
