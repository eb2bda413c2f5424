import { describe, expect, it } from '@jest/globals';
import type { EventView } from '@tether/controller';
import { renderEventsTable } from './events-table';

const NOW = Date.parse('2026-03-01T12:00:00Z');

function view(overrides: Partial<EventView>): EventView {
  return {
    type: 'Warning',
    reason: 'ConflictingPersistence',
    object: { kind: 'Ingress', namespace: 'shop', name: 'web' },
    note: 'two models',
    count: 1,
    lastSeen: new Date(NOW - 30_000).toISOString(),
    ...overrides,
  };
}

function cells(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(/\s{3,}/));
}

describe('renderEventsTable', () => {
  it('shows kubectl-like columns with COUNT, oldest first', () => {
    const text = renderEventsTable(
      [
        view({ lastSeen: new Date(NOW - 5000).toISOString(), count: 3 }),
        view({
          type: 'Normal',
          reason: 'Accepted',
          object: { kind: 'Service', namespace: 'shop', name: 'api' },
          note: 'configuration accepted',
          lastSeen: new Date(NOW - 600_000).toISOString(),
        }),
      ],
      { namespaces: false, now: NOW },
    );
    expect(cells(text)).toEqual([
      ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'COUNT', 'NOTE'],
      ['10m', 'Normal', 'Accepted', 'Service/api', '1', 'configuration accepted'],
      ['5s', 'Warning', 'ConflictingPersistence', 'Ingress/web', '3', 'two models'],
    ]);
  });

  it('groups repeats into one row with the summed count and the latest time', () => {
    const text = renderEventsTable(
      [
        view({ count: 2, lastSeen: new Date(NOW - 90_000).toISOString() }),
        view({ count: 4, lastSeen: new Date(NOW - 10_000).toISOString() }),
        view({ note: 'another problem' }),
      ],
      { namespaces: false, now: NOW },
    );
    expect(cells(text).slice(1)).toEqual([
      ['30s', 'Warning', 'ConflictingPersistence', 'Ingress/web', '1', 'another problem'],
      ['10s', 'Warning', 'ConflictingPersistence', 'Ingress/web', '6', 'two models'],
    ]);
  });

  it('adds a NAMESPACE column for every namespace, and says <unknown> without a time', () => {
    const text = renderEventsTable(
      [
        view({
          object: { kind: 'File', name: 'a.yaml' },
          lastSeen: undefined,
          location: 'a.yaml:3',
        }),
        view({}),
      ],
      { namespaces: true, now: NOW },
    );
    const lines = text.trimEnd().split('\n');
    expect(lines[0]!.split(/\s{3,}/)).toEqual([
      'NAMESPACE',
      'LAST SEEN',
      'TYPE',
      'REASON',
      'OBJECT',
      'COUNT',
      'NOTE',
    ]);
    // No namespace and no time (a manifest file of a local run): first, blank and <unknown>.
    expect(lines[1]).toMatch(
      /^ {12}<unknown>\s+Warning\s+ConflictingPersistence\s+File\/a\.yaml\s+1\s+two models \(a\.yaml:3\)$/,
    );
    expect(lines[2]!.split(/\s{3,}/)).toEqual([
      'shop',
      '30s',
      'Warning',
      'ConflictingPersistence',
      'Ingress/web',
      '1',
      'two models',
    ]);
  });

  it('keeps each row on one line whatever the note holds, and aligns unicode', () => {
    const text = renderEventsTable(
      [
        view({ note: 'line one\r\nline two\u2028three', object: { kind: 'Ingress', name: 'ünï' } }),
        view({ reason: 'InvalidAnnotation', object: { kind: 'Ingress', name: 'plain' } }),
      ],
      { namespaces: false, now: NOW },
    );
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toContain('line one  line two three');
    expect(lines[1]!.indexOf('ConflictingPersistence')).toBe(
      lines[2]!.indexOf('InvalidAnnotation'),
    );
    expect([...lines[1]!].indexOf('1')).toBe([...lines[2]!].indexOf('1'));
  });

  it('is empty for no events', () => {
    expect(renderEventsTable([], { namespaces: false, now: NOW })).toBe('');
  });
});
