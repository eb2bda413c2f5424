/** Events through core/v1 and events.k8s.io/v1: one store, two views, the real validation rules. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { call, openWatch, type WatchStream } from './http-client';

let server: StandInApiServer;
let base: string;
const streams: WatchStream[] = [];

beforeAll(async () => {
  server = await startApiServer();
  base = server.url;
});
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
});
afterAll(async () => {
  await server.close();
});

const EVENTS_V1 = '/apis/events.k8s.io/v1/namespaces/shop/events';
const CORE = '/api/v1/namespaces/shop/events';

function newEvent(name: string, overrides: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: 'shop' },
    eventTime: '2026-01-02T03:04:05.123456Z',
    reportingController: 'tether.dev/ingress-controller',
    reportingInstance: 'tether-0',
    action: 'Reconcile',
    reason: 'ConflictingPersistence',
    type: 'Warning',
    note: 'annotation x=y conflicts with z',
    regarding: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      namespace: 'shop',
      name: 'web',
      uid: 'u-1',
    },
    ...overrides,
  };
}

describe('one store, two views', () => {
  it('shows an events.k8s.io/v1 event through core/v1 with the real field mapping', async () => {
    const created = await call(base, 'POST', EVENTS_V1, newEvent('mapped'));
    expect(created.status).toBe(201);
    const core = (await call(base, 'GET', `${CORE}/mapped`)).json as JsonObject;
    expect(core).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      involvedObject: { kind: 'Ingress', name: 'web', namespace: 'shop', uid: 'u-1' },
      message: 'annotation x=y conflicts with z',
      reportingComponent: 'tether.dev/ingress-controller',
      reportingInstance: 'tether-0',
      reason: 'ConflictingPersistence',
      type: 'Warning',
      action: 'Reconcile',
      eventTime: '2026-01-02T03:04:05.123456Z',
      // What an events.k8s.io/v1 writer never sets shows as the real server shows it.
      firstTimestamp: null,
      lastTimestamp: null,
      source: {},
    });
    expect(core).not.toHaveProperty('note');
    expect(core).not.toHaveProperty('regarding');
    expect(core.metadata).toMatchObject({
      resourceVersion: (created.json as { metadata: JsonObject }).metadata.resourceVersion,
    });
  });

  it('shows a legacy core/v1 event through events.k8s.io/v1 with deprecated fields', async () => {
    const legacy = {
      metadata: { name: 'legacy' },
      involvedObject: { kind: 'Service', namespace: 'shop', name: 'api' },
      reason: 'Sync',
      message: 'synced',
      type: 'Normal',
      source: { component: 'old-controller', host: 'node-1' },
      firstTimestamp: '2026-01-01T00:00:00Z',
      lastTimestamp: '2026-01-01T00:05:00Z',
      count: 4,
    };
    expect((await call(base, 'POST', CORE, legacy)).status).toBe(201);
    const viewed = (await call(base, 'GET', `${EVENTS_V1}/legacy`)).json as JsonObject;
    expect(viewed).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      regarding: { kind: 'Service', name: 'api' },
      note: 'synced',
      deprecatedSource: { component: 'old-controller', host: 'node-1' },
      deprecatedFirstTimestamp: '2026-01-01T00:00:00Z',
      deprecatedLastTimestamp: '2026-01-01T00:05:00Z',
      deprecatedCount: 4,
      eventTime: null,
    });
    expect(viewed).not.toHaveProperty('message');
    expect(viewed).not.toHaveProperty('involvedObject');
  });

  it('delivers one write to watchers of both APIs', async () => {
    const coreWatch = await openWatch(
      base,
      `${CORE}?watch=1&resourceVersion=${server.resourceVersion}`,
    );
    const v1Watch = await openWatch(
      base,
      `${EVENTS_V1}?watch=1&resourceVersion=${server.resourceVersion}`,
    );
    streams.push(coreWatch, v1Watch);
    await call(base, 'POST', EVENTS_V1, newEvent('watched'));
    const [coreEvent] = await coreWatch.until((seen) => seen.length >= 1);
    const [v1Event] = await v1Watch.until((seen) => seen.length >= 1);
    expect(coreEvent!.object).toMatchObject({
      apiVersion: 'v1',
      message: 'annotation x=y conflicts with z',
    });
    expect(v1Event!.object).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      note: 'annotation x=y conflicts with z',
    });
  });

  it('filters by regarding.* on events.k8s.io/v1 and involvedObject.* on core/v1', async () => {
    await call(
      base,
      'POST',
      EVENTS_V1,
      newEvent('on-other', { regarding: { kind: 'Ingress', namespace: 'shop', name: 'other' } }),
    );
    const v1 = (
      await call(
        base,
        'GET',
        `${EVENTS_V1}?fieldSelector=regarding.name%3Dother,reportingController%3Dtether.dev/ingress-controller`,
      )
    ).json as {
      items: JsonObject[];
    };
    expect(v1.items.map((item) => (item.metadata as JsonObject).name)).toEqual(['on-other']);
    const core = (
      await call(
        base,
        'GET',
        `${CORE}?fieldSelector=involvedObject.name%3Dother,involvedObject.kind%3DIngress,type%3DWarning`,
      )
    ).json as {
      items: JsonObject[];
    };
    expect(core.items.map((item) => (item.metadata as JsonObject).name)).toEqual(['on-other']);
    // Each API knows only its own field names.
    expect((await call(base, 'GET', `${CORE}?fieldSelector=regarding.name%3Dother`)).status).toBe(
      400,
    );
    expect(
      (await call(base, 'GET', `${EVENTS_V1}?fieldSelector=involvedObject.name%3Dother`)).status,
    ).toBe(400);
  });
});

describe('events.k8s.io/v1 validation', () => {
  it.each<[string, JsonObject, string]>([
    ['no eventTime', { eventTime: null }, 'eventTime'],
    ['no reportingController', { reportingController: '' }, 'reportingController'],
    [
      'a reportingController that is not a qualified name',
      { reportingController: 'Tether Controller!' },
      'reportingController',
    ],
    ['no reportingInstance', { reportingInstance: '' }, 'reportingInstance'],
    ['no action', { action: '' }, 'action'],
    ['no reason', { reason: '' }, 'reason'],
    ['a reason over 128 characters', { reason: 'R'.repeat(129) }, 'reason'],
    ['a note over 1024 characters', { note: 'n'.repeat(1025) }, 'note'],
    ['a type other than Normal/Warning', { type: 'Error' }, 'type'],
    ['deprecatedCount set', { deprecatedCount: 3 }, 'deprecatedCount'],
    ['deprecatedSource set', { deprecatedSource: { component: 'x' } }, 'deprecatedSource'],
    [
      'a series of one',
      { series: { count: 1, lastObservedTime: '2026-01-02T03:04:05.000000Z' } },
      'series.count',
    ],
    ['a series without lastObservedTime', { series: { count: 2 } }, 'series.lastObservedTime'],
    [
      'a regarding namespace that differs',
      { regarding: { kind: 'Ingress', namespace: '', name: 'web' } },
      'regarding.namespace',
    ],
  ])('refuses an event with %s', async (_title, overrides, field) => {
    const reply = await call(base, 'POST', EVENTS_V1, newEvent('invalid', overrides));
    expect(reply.status).toBe(422);
    const causes = (reply.json as { details: { causes: JsonObject[] } }).details.causes;
    expect(causes.map((cause) => cause.field)).toContain(field);
  });

  it('creates an event on PUT, through either API', async () => {
    const v1 = await call(base, 'PUT', `${EVENTS_V1}/put-created`, newEvent('put-created'));
    expect(v1.status).toBe(201);
    expect(v1.json).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      note: 'annotation x=y conflicts with z',
    });
    const core = await call(base, 'PUT', `${CORE}/put-core`, {
      metadata: { name: 'put-core' },
      involvedObject: { kind: 'Service', namespace: 'shop', name: 'a' },
      reason: 'R',
      message: 'm',
    });
    expect(core.status).toBe(201);
  });

  it('accepts a note of exactly 1024 characters', async () => {
    expect(
      (await call(base, 'POST', EVENTS_V1, newEvent('limit', { note: 'n'.repeat(1024) }))).status,
    ).toBe(201);
  });

  it('lets an update change the series but nothing else', async () => {
    const created = (await call(base, 'POST', EVENTS_V1, newEvent('series'))).json as JsonObject;
    const series = { count: 2, lastObservedTime: '2026-01-02T03:05:00.000000Z' };
    const repeated = await call(base, 'PUT', `${EVENTS_V1}/series`, { ...created, series });
    expect(repeated.status).toBe(200);
    expect(repeated.json).toMatchObject({ series });
    const patched = await call(
      base,
      'PATCH',
      `${EVENTS_V1}/series`,
      { series: { count: 3, lastObservedTime: '2026-01-02T03:06:00.000000Z' } },
      {
        'Content-Type': 'application/merge-patch+json',
      },
    );
    expect(patched.status).toBe(200);
    const core = (await call(base, 'GET', `${CORE}/series`)).json as JsonObject;
    expect(core.series).toEqual({ count: 3, lastObservedTime: '2026-01-02T03:06:00.000000Z' });

    const renote = await call(
      base,
      'PATCH',
      `${EVENTS_V1}/series`,
      { note: 'changed' },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(renote.status).toBe(422);
    expect((renote.json as { message: string }).message).toContain(
      'note: Invalid value: "changed": field is immutable',
    );
    const retype = await call(
      base,
      'PATCH',
      `${EVENTS_V1}/series`,
      { type: 'Normal' },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(retype.status).toBe(422);
  });

  it('keeps the looser legacy rules on core/v1', async () => {
    // core/v1 lets a legacy writer change the message and count of an existing event.
    await call(base, 'POST', CORE, {
      metadata: { name: 'loose' },
      involvedObject: { kind: 'Service', namespace: 'shop', name: 'a' },
      reason: 'R',
      message: 'one',
    });
    const patched = await call(
      base,
      'PATCH',
      `${CORE}/loose`,
      { message: 'two', count: 2 },
      { 'Content-Type': 'application/strategic-merge-patch+json' },
    );
    expect(patched.status).toBe(200);
    // But the namespace of the involved object must still match.
    const mismatch = await call(base, 'POST', CORE, {
      metadata: { name: 'mismatch' },
      involvedObject: { kind: 'Service', namespace: 'other', name: 'a' },
    });
    expect(mismatch.status).toBe(422);
  });

  it('drops a core/v1 field sent to events.k8s.io/v1 with a warning, instead of mapping it', async () => {
    const reply = await call(base, 'POST', EVENTS_V1, {
      ...newEvent('wrong-name'),
      message: 'this field does not exist here',
    });
    expect(reply.status).toBe(201);
    expect(reply.headers.warning).toContain('unknown field \\"message\\"');
    expect(reply.json).toMatchObject({ note: 'annotation x=y conflicts with z' });
  });
});

describe('tables', () => {
  it('answers kubectl-style Table requests for events with the real columns', async () => {
    const reply = await call(
      base,
      'GET',
      `${CORE}?fieldSelector=metadata.name%3Dmapped`,
      undefined,
      {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      },
    );
    const table = reply.json as {
      kind: string;
      columnDefinitions: JsonObject[];
      rows: { cells: unknown[]; object: JsonObject }[];
    };
    expect(table.kind).toBe('Table');
    expect(
      table.columnDefinitions
        .filter((column) => column.priority === 0)
        .map((column) => column.name),
    ).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    expect(table.rows).toHaveLength(1);
    const cells = table.rows[0]!.cells;
    expect(cells.slice(1, 4)).toEqual(['Warning', 'ConflictingPersistence', 'ingress/web']);
    expect(cells[6]).toBe('annotation x=y conflicts with z');
    expect(cells[8]).toBe(1);
    expect(table.rows[0]!.object).toMatchObject({
      kind: 'PartialObjectMetadata',
      metadata: { name: 'mapped' },
    });
  });
});
