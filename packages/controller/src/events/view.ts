/**
 * One shape for our Events wherever they come from: the cluster (`tether events`) or the
 * diagnostics of a local `tether serve` (`GET /api/events`).
 */
import type { Diagnostic, Severity } from '@tether/model';
import { REPORTING_CONTROLLER, type EventType } from './classify';
import type { K8s } from './client';
import { draftsOf } from './drafts';
import { objectIdOf, type ObjectDirectory } from './objects';
import { countOf, lastObservedOf, timeText } from './wire';

export interface EventView {
  type: EventType;
  /** The stable CamelCase reason from the catalogue (or `Accepted`). */
  reason: string;
  /** The object the Event is about; a problem of a manifest file names kind `File`. */
  object: { kind: string; namespace?: string; name: string };
  /** Message plus the annotations (with values, where known) it is about; at most 1 KiB. */
  note: string;
  /** Occurrences: the Event's series count, 1 for a current diagnostic. */
  count: number;
  /** ISO times; absent where unknown. */
  firstSeen?: string;
  lastSeen?: string;
  /** Local only: the diagnostic's severity and where in a manifest file it was read. */
  severity?: Severity;
  location?: string;
  /** Cluster only: who wrote it and the Event's own name. */
  reportingInstance?: string;
  name?: string;
}

/** The body of `GET /api/events` and of `tether events -o json`. */
export interface EventViewList {
  kind: 'EventList';
  reportingController: typeof REPORTING_CONTROLLER;
  items: EventView[];
}

export function eventViewList(items: EventView[]): EventViewList {
  return { kind: 'EventList', reportingController: REPORTING_CONTROLLER, items };
}

/**
 * The current diagnostics as the Events the recorder would write: one item per diagnostic and
 * object, Warning or Normal by the same rules, infos left out. Pure: `now` (when given) becomes
 * every item's lastSeen, and a directory (when given) adds each annotation's value to the note.
 */
export function localEventsFromDiagnostics(
  diagnostics: readonly Diagnostic[],
  options: { now?: Date; directory?: ObjectDirectory } = {},
): EventViewList {
  const items: EventView[] = [];
  for (const d of diagnostics) {
    for (const draft of draftsOf(d, options.directory, true)) {
      const { kind, namespace, name } = draft.regarding;
      const item: EventView = {
        type: draft.type,
        reason: draft.reason,
        object: namespace ? { kind, namespace, name } : { kind, name },
        note: draft.note,
        count: 1,
        severity: d.severity,
      };
      const located = d.sources.find(
        (s) => s.file && objectIdOf(s.kind, s.namespace, s.name) === draft.objectId,
      );
      if (located?.file)
        item.location = located.line ? `${located.file}:${located.line}` : located.file;
      if (options.now) item.lastSeen = options.now.toISOString();
      items.push(item);
    }
  }
  return eventViewList(items);
}

/** An events.k8s.io/v1 Event as a view; undefined for one that names no object. */
export function eventViewOf(ev: K8s.EventsV1Event): EventView | undefined {
  const regarding = ev.regarding;
  if (!regarding?.kind || !regarding.name) return undefined;
  const last = lastObservedOf(ev);
  const first = timeText(ev.eventTime) ?? timeText(ev.deprecatedFirstTimestamp);
  const view: EventView = {
    type: ev.type === 'Warning' ? 'Warning' : 'Normal',
    reason: ev.reason ?? '',
    object: regarding.namespace
      ? { kind: regarding.kind, namespace: regarding.namespace, name: regarding.name }
      : { kind: regarding.kind, name: regarding.name },
    note: ev.note ?? '',
    count: countOf(ev),
  };
  if (first) view.firstSeen = new Date(Date.parse(first)).toISOString();
  if (last !== undefined) view.lastSeen = new Date(last).toISOString();
  if (ev.reportingInstance) view.reportingInstance = ev.reportingInstance;
  if (ev.metadata?.name) view.name = ev.metadata.name;
  return view;
}

/**
 * Repeats as one row: items with the same object, type, reason and note add their counts and
 * keep the earliest first and latest last time. Sorted oldest first, as `kubectl events` does;
 * items without times keep their order, before the timed ones.
 */
export function groupEvents(items: readonly EventView[]): EventView[] {
  const groups = new Map<string, EventView>();
  for (const item of items) {
    const key = JSON.stringify([
      item.object.kind,
      item.object.namespace ?? '',
      item.object.name,
      item.type,
      item.reason,
      item.note,
    ]);
    const group = groups.get(key);
    if (!group) {
      groups.set(key, { ...item });
      continue;
    }
    group.count += item.count;
    if (item.firstSeen && (!group.firstSeen || item.firstSeen < group.firstSeen))
      group.firstSeen = item.firstSeen;
    if (item.lastSeen && (!group.lastSeen || item.lastSeen > group.lastSeen))
      group.lastSeen = item.lastSeen;
  }
  return [...groups.values()]
    .map((item, index) => ({ item, index }))
    .sort((a, b) => {
      const at = a.item.lastSeen ?? '';
      const bt = b.item.lastSeen ?? '';
      return at === bt ? a.index - b.index : at < bt ? -1 : 1;
    })
    .map(({ item }) => item);
}

/** An `events.k8s.io/v1` Event, as JSON. */
export type EventObject = Record<string, unknown>;

/** `events.k8s.io/v1` EventList: what `kubectl events -o json` prints, so scripts read ours alike. */
export function eventObjectList(items: EventObject[], resourceVersion?: string): EventObject {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'EventList',
    metadata: resourceVersion ? { resourceVersion } : {},
    items,
  };
}

/** An Event as the API stores it, from a client object (dates become RFC 3339 text). */
export function storedEventObject(ev: K8s.EventsV1Event): EventObject {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    ...(JSON.parse(JSON.stringify(ev)) as EventObject),
  };
}

/**
 * A view (a local run's current diagnostic) in the shape the recorder writes in a cluster:
 * same reason, type, note, regarding, reportingController and action; a local run's own
 * fields (severity, location) go to annotations, where kubectl shows them and scripts can skip them.
 */
export function eventObjectOf(view: EventView, reportingInstance = 'local'): EventObject {
  const { kind, namespace, name } = view.object;
  const time = view.lastSeen ?? view.firstSeen;
  const annotations: Record<string, string> = {};
  if (view.severity) annotations['tether.dev/severity'] = view.severity;
  if (view.location) annotations['tether.dev/location'] = view.location;
  const event: EventObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {
      name: view.name ?? `${name}.${eventSuffix(view)}`,
      ...(namespace ? { namespace } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: view.reportingInstance ?? reportingInstance,
    action: 'Reconcile',
    reason: view.reason,
    type: view.type,
    note: view.note,
    regarding: { kind, ...(namespace ? { namespace } : {}), name },
  };
  if (view.firstSeen ?? time) event.eventTime = view.firstSeen ?? time;
  if (view.count > 1 && time) event.series = { count: view.count, lastObservedTime: time };
  return event;
}

/** A stable name suffix for a local item: the hash of what identifies it. */
function eventSuffix(view: EventView): string {
  let h = 0x811c9dc5;
  for (const ch of `${view.object.kind}/${view.object.name}|${view.type}|${view.reason}|${view.note}`) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
