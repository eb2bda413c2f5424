import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@tether/dialects';
import { error, info, warning } from '@tether/model';
import { directoryOf } from './objects';
import { groupEvents, localEventsFromDiagnostics, type EventView } from './view';

const ingress: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web', namespace: 'shop', annotations: { 'x/a': 'on' } },
};

describe('localEventsFromDiagnostics', () => {
  const source = {
    dialect: 'ingress-nginx' as const,
    kind: 'Ingress',
    namespace: 'shop',
    name: 'web',
    field: 'x/a',
  };

  it('lists one item per diagnostic and object, by the recorder’s rules, in a stable shape', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const list = localEventsFromDiagnostics(
      [
        error('InvalidAnnotation', 'bad value', { ...source, file: 'm.yaml', line: 7 }),
        warning('ValueNormalised', 'read as on', source),
        info('IneffectiveSetting', 'fyi', source),
        error('UnreadableFile', 'gone.yaml: no such file', {
          dialect: 'kubernetes',
          kind: 'File',
          namespace: '',
          name: 'gone.yaml',
          field: 'file',
          file: 'gone.yaml',
        }),
      ],
      { now, directory: directoryOf([ingress]) },
    );
    expect(list).toEqual({
      kind: 'EventList',
      reportingController: 'tether.dev/ingress-controller',
      items: [
        {
          type: 'Warning',
          reason: 'InvalidAnnotation',
          object: { kind: 'Ingress', namespace: 'shop', name: 'web' },
          note: 'bad value [annotation x/a="on"]',
          count: 1,
          severity: 'error',
          location: 'm.yaml:7',
          lastSeen: '2026-03-01T12:00:00.000Z',
        },
        {
          type: 'Normal',
          reason: 'ValueNormalised',
          object: { kind: 'Ingress', namespace: 'shop', name: 'web' },
          note: 'read as on [annotation x/a="on"]',
          count: 1,
          severity: 'warning',
          lastSeen: '2026-03-01T12:00:00.000Z',
        },
        {
          type: 'Warning',
          reason: 'UnreadableFile',
          object: { kind: 'File', name: 'gone.yaml' },
          note: 'gone.yaml: no such file [file]',
          count: 1,
          severity: 'error',
          location: 'gone.yaml',
          lastSeen: '2026-03-01T12:00:00.000Z',
        },
      ],
    });
  });

  it('is JSON as it stands and has no times without now', () => {
    const list = localEventsFromDiagnostics([error('InvalidAnnotation', 'bad', source)]);
    expect(JSON.parse(JSON.stringify(list))).toEqual(list);
    expect(list.items[0]).not.toHaveProperty('lastSeen');
    expect(list.items[0]!.note).toBe('bad [x/a]');
  });
});

describe('groupEvents', () => {
  const base: EventView = {
    type: 'Warning',
    reason: 'R',
    object: { kind: 'Ingress', namespace: 'shop', name: 'web' },
    note: 'n',
    count: 1,
  };

  it('sums repeats, keeps the first and last times, and sorts oldest first', () => {
    const grouped = groupEvents([
      {
        ...base,
        count: 2,
        firstSeen: '2026-01-01T00:00:05.000Z',
        lastSeen: '2026-01-01T00:00:09.000Z',
      },
      { ...base, note: 'other', lastSeen: '2026-01-01T00:00:01.000Z' },
      {
        ...base,
        count: 3,
        firstSeen: '2026-01-01T00:00:02.000Z',
        lastSeen: '2026-01-01T00:00:04.000Z',
      },
      { ...base, object: { kind: 'Ingress', namespace: 'other', name: 'web' } },
    ]);
    expect(
      grouped.map((g) => [g.object.namespace, g.note, g.count, g.firstSeen, g.lastSeen]),
    ).toEqual([
      ['other', 'n', 1, undefined, undefined],
      ['shop', 'other', 1, undefined, '2026-01-01T00:00:01.000Z'],
      ['shop', 'n', 5, '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:09.000Z'],
    ]);
  });
});
