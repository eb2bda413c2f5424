/**
 * Events, stored once and served through two APIs, as kube-apiserver does:
 * core/v1 `events` and events.k8s.io/v1 `events`. The stored form is the core/v1 shape; the
 * events.k8s.io/v1 view renames fields with the same mapping as the real conversion:
 *
 *   events.k8s.io/v1          core/v1
 *   regarding                 involvedObject
 *   note                      message
 *   reportingController       reportingComponent
 *   deprecatedSource          source
 *   deprecatedFirstTimestamp  firstTimestamp
 *   deprecatedLastTimestamp   lastTimestamp
 *   deprecatedCount           count
 *   (same name in both: eventTime, series, action, reason, type, related, reportingInstance)
 *
 * Validation follows the real rules: events.k8s.io/v1 creates need eventTime,
 * reportingController, reportingInstance, action and reason, a note of at most 1024
 * characters, no deprecated fields, and a series with count ≥ 2; events.k8s.io/v1 updates
 * may change only the series and metadata. core/v1 keeps the looser legacy rules.
 */
import { labelKeyProblem } from '../selectors';
import { column, resource, type ResourceDef, type TableSpec } from '../resource';
import type { FieldError } from '../status';
import { ageOf, normalizeTime, parseTime } from '../time';
import { isObject, jsonEqual, stringAt, type Json, type JsonObject, removeKey } from '../types';

type Flavor = 'core' | 'events';

/** Stored (core/v1) field → events.k8s.io/v1 field, for renamed fields. */
const RENAMED: ReadonlyArray<readonly [string, string]> = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['source', 'deprecatedSource'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['count', 'deprecatedCount'],
];
const SHARED = [
  'apiVersion',
  'kind',
  'metadata',
  'eventTime',
  'series',
  'action',
  'reason',
  'type',
  'related',
  'reportingInstance',
];

export const CORE_EVENT_FIELDS = [...SHARED, ...RENAMED.map(([core]) => core)];
export const EVENTS_V1_FIELDS = [...SHARED, ...RENAMED.map(([, events]) => events)];

/** The name a stored field has in the API the client used (for error messages). */
function fieldName(flavor: Flavor, stored: string): string {
  if (flavor === 'core') return stored;
  const [head, ...rest] = stored.split('.');
  const renamed = RENAMED.find(([core]) => core === head);
  return [renamed?.[1] ?? head, ...rest].join('.');
}

function isEmpty(value: Json | undefined): boolean {
  return (
    value === undefined ||
    value === null ||
    value === '' ||
    value === 0 ||
    (isObject(value) && Object.values(value).every(isEmpty))
  );
}

export function eventsV1FromStored(stored: JsonObject): JsonObject {
  const wire: JsonObject = { apiVersion: 'events.k8s.io/v1', kind: 'Event' };
  for (const key of SHARED) {
    if (key === 'apiVersion' || key === 'kind') continue;
    const value = stored[key];
    if (!isEmpty(value)) wire[key] = value!;
  }
  wire.eventTime = stored.eventTime ?? null;
  wire.regarding = isObject(stored.involvedObject) ? stored.involvedObject : {};
  for (const [core, events] of RENAMED) {
    if (core === 'involvedObject') continue;
    const value = stored[core];
    if (!isEmpty(value)) wire[events] = value!;
  }
  return wire;
}

/** Fields the views fill with empty placeholders; they mean "unset" when written back. */
function dropPlaceholders(stored: JsonObject): JsonObject {
  for (const key of ['involvedObject', 'source', 'reportingComponent', 'reportingInstance']) {
    if (isEmpty(stored[key])) removeKey(stored, key);
  }
  return stored;
}

export function storedFromCore(wire: JsonObject): JsonObject {
  return dropPlaceholders({ ...wire });
}

export function storedFromEventsV1(wire: JsonObject): JsonObject {
  const stored: JsonObject = {};
  for (const key of SHARED) {
    if (wire[key] !== undefined) stored[key] = wire[key];
  }
  for (const [core, events] of RENAMED) {
    if (wire[events] !== undefined) stored[core] = wire[events];
  }
  stored.apiVersion = 'v1';
  stored.kind = 'Event';
  return dropPlaceholders(stored);
}

/** The core/v1 view shows absent timestamps as null and absent strings as "", as the real one does. */
export function coreFromStored(stored: JsonObject): JsonObject {
  return {
    ...stored,
    involvedObject: isObject(stored.involvedObject) ? stored.involvedObject : {},
    source: isObject(stored.source) ? stored.source : {},
    firstTimestamp: stored.firstTimestamp ?? null,
    lastTimestamp: stored.lastTimestamp ?? null,
    eventTime: stored.eventTime ?? null,
    reportingComponent: stored.reportingComponent ?? '',
    reportingInstance: stored.reportingInstance ?? '',
  };
}

function text(object: JsonObject, key: string): string {
  const value = object[key];
  return typeof value === 'string' ? value : '';
}

function validateSeries(object: JsonObject, flavor: Flavor, errors: FieldError[]): void {
  const series = object.series;
  if (series === undefined || series === null) return;
  if (!isObject(series)) {
    errors.push({ type: 'Invalid', field: 'series', value: series, detail: 'must be an object' });
    return;
  }
  const count = series.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 2) {
    errors.push({
      type: 'Invalid',
      field: fieldName(flavor, 'series.count'),
      value: count ?? null,
      detail: 'should be at least 2',
    });
  }
  if (parseTime(series.lastObservedTime) === undefined) {
    errors.push({ type: 'Required', field: fieldName(flavor, 'series.lastObservedTime') });
  }
}

/** Rules every event meets whichever API wrote it (apimachinery's "legacy" event validation). */
function validateLegacy(object: JsonObject, flavor: Flavor, errors: FieldError[]): void {
  const namespace = stringAt(object, ['metadata', 'namespace']);
  const involved = isObject(object.involvedObject) ? object.involvedObject : {};
  const involvedNamespace = text(involved, 'namespace');
  const namespaceField = fieldName(flavor, 'involvedObject.namespace');
  const newStyle = parseTime(object.eventTime) !== undefined;
  if (!newStyle) {
    const allowed =
      involvedNamespace === ''
        ? ['', 'default'].includes(namespace)
        : namespace === involvedNamespace;
    if (!allowed)
      errors.push({
        type: 'Invalid',
        field: namespaceField,
        value: involvedNamespace,
        detail: 'does not match event.namespace',
      });
    return;
  }
  if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') {
    errors.push({
      type: 'Invalid',
      field: namespaceField,
      value: involvedNamespace,
      detail: 'does not match event.namespace',
    });
  }
  const controllerField = fieldName(flavor, 'reportingComponent');
  const controller = text(object, 'reportingComponent');
  if (controller === '') errors.push({ type: 'Required', field: controllerField });
  else {
    const problem = labelKeyProblem(controller);
    if (problem !== undefined)
      errors.push({ type: 'Invalid', field: controllerField, value: controller, detail: problem });
  }
  const limits: ReadonlyArray<readonly [string, number]> = [
    ['reportingInstance', 128],
    ['action', 128],
    ['reason', 128],
  ];
  for (const [key, limit] of limits) {
    const value = text(object, key);
    if (value === '') errors.push({ type: 'Required', field: key });
    else if (value.length > limit)
      errors.push({
        type: 'Invalid',
        field: key,
        value: '',
        detail: `can have at most ${limit} characters`,
      });
  }
  if (text(object, 'message').length > 1024) {
    errors.push({
      type: 'Invalid',
      field: fieldName(flavor, 'message'),
      value: '',
      detail: 'can have at most 1024 characters',
    });
  }
}

/** Timestamps come back in the server's own format, as the real server re-encodes them. */
function eventDefaults(object: JsonObject): void {
  for (const [key, micro] of [
    ['eventTime', true],
    ['firstTimestamp', false],
    ['lastTimestamp', false],
  ] as const) {
    if (object[key] !== undefined) object[key] = normalizeTime(object[key], micro);
  }
  if (isObject(object.series) && object.series.lastObservedTime !== undefined) {
    object.series.lastObservedTime = normalizeTime(object.series.lastObservedTime, true);
  }
}

function validateTimes(object: JsonObject, flavor: Flavor, errors: FieldError[]): void {
  const series = isObject(object.series) ? object.series : {};
  const times: ReadonlyArray<readonly [string, Json | undefined]> = [
    ['eventTime', object.eventTime],
    ['firstTimestamp', object.firstTimestamp],
    ['lastTimestamp', object.lastTimestamp],
    ['series.lastObservedTime', series.lastObservedTime],
  ];
  for (const [field, value] of times) {
    if (value !== undefined && value !== null && parseTime(value) === undefined) {
      errors.push({
        type: 'Invalid',
        field: fieldName(flavor, field),
        value,
        detail: 'must be an RFC 3339 time',
      });
    }
  }
}

function validateEvent(flavor: Flavor) {
  return (object: JsonObject, old: JsonObject | undefined): FieldError[] => {
    const errors: FieldError[] = [];
    validateTimes(object, flavor, errors);
    validateLegacy(object, flavor, errors);
    if (flavor === 'core') return errors;
    if (old === undefined) {
      validateSeries(object, flavor, errors);
      if (parseTime(object.eventTime) === undefined)
        errors.push({ type: 'Required', field: 'eventTime' });
      const type = text(object, 'type');
      if (type !== 'Normal' && type !== 'Warning') {
        errors.push({
          type: 'Invalid',
          field: 'type',
          value: '',
          detail: `has invalid value: ${type}`,
        });
      }
      for (const stored of ['firstTimestamp', 'lastTimestamp', 'count', 'source']) {
        if (!isEmpty(object[stored])) {
          errors.push({
            type: 'Invalid',
            field: fieldName(flavor, stored),
            value: '',
            detail: 'needs to be unset',
          });
        }
      }
      return errors;
    }
    if (!jsonEqual(object.series, old.series)) validateSeries(object, flavor, errors);
    const immutable = [
      'involvedObject',
      'reason',
      'message',
      'source',
      'firstTimestamp',
      'lastTimestamp',
      'count',
      'type',
      'eventTime',
      'action',
      'related',
      'reportingComponent',
      'reportingInstance',
    ];
    for (const stored of immutable) {
      const before = isEmpty(old[stored]) ? undefined : old[stored];
      const after = isEmpty(object[stored]) ? undefined : object[stored];
      if (!jsonEqual(before, after)) {
        errors.push({
          type: 'Invalid',
          field: fieldName(flavor, stored),
          value: after ?? null,
          detail: 'field is immutable',
        });
      }
    }
    return errors;
  };
}

function involvedField(key: string) {
  return (stored: JsonObject): string => stringAt(stored, ['involvedObject', key]);
}
const INVOLVED_KEYS = [
  'kind',
  'namespace',
  'name',
  'uid',
  'apiVersion',
  'resourceVersion',
  'fieldPath',
];

function eventCells(stored: JsonObject, now: number): Json[] {
  const firstSeen = stored.firstTimestamp ?? stored.eventTime;
  let lastSeen = isEmpty(stored.lastTimestamp) ? firstSeen : stored.lastTimestamp;
  let count = typeof stored.count === 'number' ? stored.count : 0;
  if (isObject(stored.series)) {
    lastSeen = stored.series.lastObservedTime;
    count = typeof stored.series.count === 'number' ? stored.series.count : count;
  } else if (count === 0) {
    count = 1;
  }
  const involved = isObject(stored.involvedObject) ? stored.involvedObject : {};
  const kind = text(involved, 'kind').toLowerCase();
  const target = text(involved, 'name') === '' ? kind : `${kind}/${text(involved, 'name')}`;
  const source = isObject(stored.source) ? stored.source : {};
  const component = text(source, 'component') || text(stored, 'reportingComponent');
  const host = text(source, 'host') || text(stored, 'reportingInstance');
  return [
    ageOf(lastSeen, now),
    text(stored, 'type'),
    text(stored, 'reason'),
    target,
    text(involved, 'fieldPath'),
    host === '' ? component : `${component}, ${host}`,
    text(stored, 'message').trim(),
    ageOf(firstSeen, now),
    count,
    stringAt(stored, ['metadata', 'name']),
  ];
}

function eventTable(toStored: (wire: JsonObject) => JsonObject): TableSpec {
  return {
    columns: [
      column('Last Seen', 'Time since the event was last seen'),
      column('Type', 'Type of the event (Normal or Warning)'),
      column('Reason', 'Why the event was recorded'),
      column('Object', 'The object the event is about'),
      column('Subobject', 'The part of the object the event is about', 1),
      column('Source', 'The component that reported the event', 1),
      column('Message', 'A human-readable description', 0),
      column('First Seen', 'Time since the event was first seen', 1),
      column('Count', 'How many times the event occurred', 1, 'integer'),
      column('Name', 'Name of the event', 1),
    ],
    cells: (object, now) => eventCells(toStored(object), now),
  };
}

export const coreEvents: ResourceDef = resource({
  group: '',
  version: 'v1',
  plural: 'events',
  singular: 'event',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  storage: 'events',
  createOnUpdate: true,
  topLevelFields: CORE_EVENT_FIELDS,
  fieldSelectors: {
    ...Object.fromEntries(
      INVOLVED_KEYS.map((key) => [`involvedObject.${key}`, involvedField(key)]),
    ),
    reason: (stored) => text(stored, 'reason'),
    reportingComponent: (stored) => text(stored, 'reportingComponent'),
    source: (stored) => stringAt(stored, ['source', 'component']),
    type: (stored) => text(stored, 'type'),
  },
  toWire: coreFromStored,
  fromWire: storedFromCore,
  defaults: eventDefaults,
  validate: validateEvent('core'),
  table: eventTable((wire) => wire),
});

export const eventsV1: ResourceDef = resource({
  group: 'events.k8s.io',
  version: 'v1',
  plural: 'events',
  singular: 'event',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  storage: 'events',
  createOnUpdate: true,
  topLevelFields: EVENTS_V1_FIELDS,
  fieldSelectors: {
    ...Object.fromEntries(INVOLVED_KEYS.map((key) => [`regarding.${key}`, involvedField(key)])),
    reason: (stored) => text(stored, 'reason'),
    reportingController: (stored) => text(stored, 'reportingComponent'),
    type: (stored) => text(stored, 'type'),
  },
  toWire: eventsV1FromStored,
  fromWire: storedFromEventsV1,
  defaults: eventDefaults,
  validate: validateEvent('events'),
  table: eventTable(storedFromEventsV1),
});
