import type { KubeObject } from '@tether/dialects';
import { describeSource, quote, type Diagnostic, type SourceRef } from '@tether/model';
import { ACCEPTED_REASON, eventTypeOf, type EventType } from './classify';
import { composeNote } from './note';
import {
  fieldValueOf,
  isClusterScoped,
  objectIdOf,
  referenceOf,
  type ObjectDirectory,
  type ObjectReference,
} from './objects';

/** What one Event says about one object, before it is written. */
export interface EventDraft {
  /** Identity for folding repeats: object, type, reason and note. */
  key: string;
  /** `Kind/namespace/name` of the object the Event is about. */
  objectId: string;
  regarding: ObjectReference;
  /** The first other object the same diagnostic names, if any. */
  related?: ObjectReference;
  type: EventType;
  reason: string;
  note: string;
}

/**
 * The fold identity of an Event: the same for a draft and for the Event written from it. Kept
 * as plain text (at most about 1.3 KiB; a hash would cost more time than the memory it saves).
 */
export function draftKey(objectId: string, type: string, reason: string, note: string): string {
  return `${objectId}\u0000${type}\u0000${reason}\u0000${note}`;
}

/** apiVersion of the kinds diagnostics name, for a reference made without the object at hand. */
const API_VERSIONS: Readonly<Record<string, string>> = {
  Service: 'v1',
  Secret: 'v1',
  Ingress: 'networking.k8s.io/v1',
  IngressClass: 'networking.k8s.io/v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Gateway: 'gateway.networking.k8s.io/v1',
  GatewayClass: 'gateway.networking.k8s.io/v1',
  HTTPRoute: 'gateway.networking.k8s.io/v1',
  GRPCRoute: 'gateway.networking.k8s.io/v1',
  TLSRoute: 'gateway.networking.k8s.io/v1',
  XBackendTrafficPolicy: 'gateway.networking.x-k8s.io/v1alpha1',
  BackendTLSPolicy: 'gateway.networking.k8s.io/v1',
  ConfigMap: 'v1',
  Route: 'route.openshift.io/v1',
};

/** How a source names its place on the object: the annotation or field with its value. */
function placeOf(source: SourceRef, directory: ObjectDirectory | undefined): string {
  if (source.isDefault) return `default of ${source.dialect} for ${source.field}`;
  const object = directory?.find(source.kind, source.namespace, source.name);
  const found = object ? fieldValueOf(object, source.field) : undefined;
  if (!found) return source.field;
  return `${found.place === 'annotation' ? 'annotation ' : ''}${source.field}=${quote(found.value)}`;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

/**
 * One draft per object a diagnostic names (a conflict between two objects gives one Event on
 * each). With a directory, the note carries each annotation's value and objects missing from it
 * (deleted since) get no draft, unless `keepUnknown` asks for a reference made from the sources
 * alone (as without a directory): a manifest file that could not be read is no object, but a
 * local listing still shows its problem.
 */
export function draftsOf(
  d: Diagnostic,
  directory?: ObjectDirectory,
  keepUnknown = false,
): EventDraft[] {
  const type = eventTypeOf(d);
  if (!type) return [];
  const byObject = new Map<string, SourceRef[]>();
  for (const s of d.sources) {
    const id = objectIdOf(s.kind, s.namespace, s.name);
    const list = byObject.get(id);
    if (list) list.push(s);
    else byObject.set(id, [s]);
  }
  const references = new Map<string, ObjectReference>();
  for (const [id, sources] of byObject) {
    const first = sources[0]!;
    const object = directory?.find(first.kind, first.namespace, first.name);
    if (object) {
      references.set(id, referenceOf(object));
    } else if (!directory || keepUnknown) {
      const ref: ObjectReference = {
        apiVersion: API_VERSIONS[first.kind] ?? '',
        kind: first.kind,
        name: first.name,
      };
      if (first.namespace && !isClusterScoped(first.kind)) ref.namespace = first.namespace;
      references.set(id, ref);
    }
  }
  const drafts: EventDraft[] = [];
  for (const [id, sources] of byObject) {
    const regarding = references.get(id);
    if (!regarding) continue;
    const others = d.sources.filter((s) => objectIdOf(s.kind, s.namespace, s.name) !== id);
    const places = unique([
      ...sources.map((s) => placeOf(s, directory)),
      ...others.map((s) => `also ${describeSource(s)}`),
    ]);
    const note = composeNote(d.message, places);
    const draft: EventDraft = {
      key: draftKey(id, type, d.reason, note),
      objectId: id,
      regarding,
      type,
      reason: d.reason,
      note,
    };
    const relatedId = others[0] && objectIdOf(others[0].kind, others[0].namespace, others[0].name);
    const related = relatedId === undefined ? undefined : references.get(relatedId);
    if (related) draft.related = related;
    drafts.push(draft);
  }
  return drafts;
}

/** The Normal Event that says an object's configuration is accepted again. */
export function acceptedDraft(regarding: ObjectReference): EventDraft {
  const id = objectIdOf(regarding.kind, regarding.namespace, regarding.name);
  const where = `${regarding.namespace ? `${regarding.namespace}/` : ''}${regarding.name}`;
  const note = `${regarding.kind} ${where}: configuration accepted; the problems reported earlier are resolved`;
  return {
    key: draftKey(id, 'Normal', ACCEPTED_REASON, note),
    objectId: id,
    regarding,
    type: 'Normal',
    reason: ACCEPTED_REASON,
    note,
  };
}

/**
 * draftsOf for every reconcile, without redoing the work for diagnostics that did not change:
 * the parse cache hands back the same diagnostic objects for unchanged objects, and a draft
 * stays valid while the objects it names are the same ones in the directory.
 */
export class DraftCache {
  private cache = new WeakMap<
    Diagnostic,
    { objects: (KubeObject | undefined)[]; drafts: EventDraft[] }
  >();

  draftsOf(d: Diagnostic, directory: ObjectDirectory): EventDraft[] {
    const objects = d.sources.map((s) => directory.find(s.kind, s.namespace, s.name));
    const hit = this.cache.get(d);
    if (
      hit &&
      hit.objects.length === objects.length &&
      hit.objects.every((o, i) => o === objects[i])
    )
      return hit.drafts;
    const drafts = draftsOf(d, directory);
    this.cache.set(d, { objects, drafts });
    return drafts;
  }
}
