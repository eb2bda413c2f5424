/** Our Events as the API server stores them: building them and reading them back. */
import type { BookEntry, ExistingEvent, WrittenEvent } from './book';
import { EVENT_ACTION, REPORTING_CONTROLLER, type EventType } from './classify';
import type { ClientNode, K8s } from './client';
import { draftKey } from './drafts';
import { eventNamespaceOf, objectIdOf, type ObjectReference } from './objects';

/**
 * A `MicroTime` that serialises to exactly `text`. An Event's eventTime may not change on
 * update, so the stored text goes back as it came (client-node hands MicroTime fields over as
 * the server's strings); new times are written with six fractional digits, as the server
 * stores them.
 */
export function microTime(k8s: ClientNode, at: number | string): K8s.V1MicroTime {
  const text =
    typeof at === 'string' ? at : new Date(at).toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
  const time = new k8s.V1MicroTime(Date.parse(text));
  time.toISOString = () => text;
  return time;
}

/** A time field as client-node returns it (a string for MicroTime, a Date for Time). */
export function timeText(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
  if (typeof value === 'string' && value) return value;
  return undefined;
}

function timeMs(value: unknown): number | undefined {
  const text = timeText(value);
  const ms = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

let sequence = 0;

/**
 * `<object name>.<hex>` like client-go's Event names, unique within this process: the hex is
 * the time in nanoseconds plus a counter, so two Events in one millisecond do not collide.
 */
export function eventName(objectName: string, now: number): string {
  // Objects from a cluster have valid names already; anything else is made into one.
  const labels = objectName
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .split('.')
    .map((label) => label.replace(/^-+|-+$/g, ''))
    .filter(Boolean);
  const base =
    labels
      .join('.')
      .slice(0, 236)
      .replace(/[^a-z0-9]+$/, '') || 'object';
  sequence = (sequence + 1) % 1_000_000;
  return `${base}.${(BigInt(now) * 1_000_000n + BigInt(sequence)).toString(16)}`;
}

function reference(ref: ObjectReference): K8s.V1ObjectReference {
  const out: K8s.V1ObjectReference = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name };
  if (ref.namespace) out.namespace = ref.namespace;
  if (ref.uid) out.uid = ref.uid;
  if (ref.resourceVersion) out.resourceVersion = ref.resourceVersion;
  return out;
}

function series(k8s: ClientNode, count: number, lastObserved: number): K8s.EventsV1EventSeries {
  return { count, lastObservedTime: microTime(k8s, lastObserved) };
}

/** A new Event for an entry; with a series when it occurred more than once before this write. */
export function newEventBody(
  k8s: ClientNode,
  entry: BookEntry,
  name: string,
  reportingInstance: string,
): K8s.EventsV1Event {
  const { draft } = entry;
  const body: K8s.EventsV1Event = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: eventNamespaceOf(draft.regarding) },
    eventTime: microTime(k8s, entry.firstObserved),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance,
    action: EVENT_ACTION,
    reason: draft.reason,
    type: draft.type,
    note: draft.note,
    regarding: reference(draft.regarding),
  };
  if (draft.related) body.related = reference(draft.related);
  if (entry.occurrences > 1) body.series = series(k8s, entry.occurrences, entry.lastObserved);
  return body;
}

/** The same Event with its series brought up to the entry's occurrences (nothing else changes). */
export function seriesUpdateBody(
  k8s: ClientNode,
  entry: BookEntry,
  written: WrittenEvent,
): K8s.EventsV1Event {
  const body: K8s.EventsV1Event = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {
      name: written.name,
      namespace: written.namespace,
      resourceVersion: written.resourceVersion,
    },
    eventTime: microTime(k8s, written.eventTime),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: written.reportingInstance,
    action: written.action,
    reason: entry.draft.reason,
    type: entry.draft.type,
    note: entry.draft.note,
    regarding: reference(written.regarding),
    series: series(k8s, entry.occurrences, entry.lastObserved),
  };
  if (written.related) body.related = reference(written.related);
  return body;
}

function referenceFrom(ref: K8s.V1ObjectReference | undefined): ObjectReference | undefined {
  if (!ref?.kind || !ref.name) return undefined;
  const out: ObjectReference = { apiVersion: ref.apiVersion ?? '', kind: ref.kind, name: ref.name };
  if (ref.namespace) out.namespace = ref.namespace;
  if (ref.uid) out.uid = ref.uid;
  if (ref.resourceVersion) out.resourceVersion = ref.resourceVersion;
  return out;
}

/** The count an Event shows: its series, else the legacy count, else one. */
export function countOf(ev: K8s.EventsV1Event): number {
  const count = ev.series?.count ?? ev.deprecatedCount;
  return typeof count === 'number' && count >= 1 ? count : 1;
}

/** When an Event was last observed, in ms (series, else eventTime, else its legacy times). */
export function lastObservedOf(ev: K8s.EventsV1Event): number | undefined {
  return (
    timeMs(ev.series?.lastObservedTime) ??
    timeMs(ev.eventTime) ??
    timeMs(ev.deprecatedLastTimestamp) ??
    timeMs(ev.metadata?.creationTimestamp)
  );
}

/** An Event of ours read back, as the book needs it; undefined for anything else. */
export function existingFromEvent(ev: K8s.EventsV1Event): ExistingEvent | undefined {
  if (ev.reportingController !== REPORTING_CONTROLLER) return undefined;
  const regarding = referenceFrom(ev.regarding);
  const type = ev.type;
  const name = ev.metadata?.name;
  const resourceVersion = ev.metadata?.resourceVersion;
  const eventTime = timeText(ev.eventTime);
  if (!regarding || (type !== 'Normal' && type !== 'Warning') || !ev.reason) return undefined;
  if (!name || !resourceVersion || !eventTime) return undefined;
  const note = ev.note ?? '';
  const objectId = objectIdOf(regarding.kind, regarding.namespace, regarding.name);
  const related = referenceFrom(ev.related);
  const written: WrittenEvent = {
    name,
    namespace: ev.metadata?.namespace ?? eventNamespaceOf(regarding),
    resourceVersion,
    count: countOf(ev),
    eventTime,
    reportingInstance: ev.reportingInstance ?? '',
    action: ev.action ?? EVENT_ACTION,
    regarding,
    lastObserved: lastObservedOf(ev) ?? 0,
  };
  if (related) written.related = related;
  const draft = {
    key: draftKey(objectId, type, ev.reason, note),
    objectId,
    regarding,
    type: type as EventType,
    reason: ev.reason,
    note,
  };
  return related ? { draft: { ...draft, related }, written } : { draft, written };
}
