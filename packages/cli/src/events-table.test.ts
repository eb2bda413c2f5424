import { describe, expect, it } from '@jest/globals';
import type { EventView } from '@tether/controller';
import { humanDuration, renderEventsTable } from './events-table';

describe('humanDuration', () => {
  it.each([
    [-5000, '<invalid>'],
    [-500, '0s'],
    [0, '0s'],
    [59_000, '59s'],
    [119_999, '119s'],
    [120_000, '2m'],
    [185_000, '3m5s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3_600_000, '3h'],
    [3 * 3_600_000 + 60_000, '3h1m'],
    [8 * 3_600_000, '8h'],
    [47 * 3_600_000, '47h'],
    [2 * 86_400_000, '2d'],
    [2 * 86_400_000 + 3_600_000, '2d1h'],
    [30 * 86_400_000, '30d'],
    [3 * 365 * 86_400_000, '3y'],
    [(3 * 365 + 4) * 86_400_000, '3y4d'],
    [10 * 365 * 86_400_000, '10y'],
  ])('%i ms → %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

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
