import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { BookEntry } from './book';
import { loadClientNode, type ClientNode } from './client';
import { draftsOf } from './drafts';
import { directoryOf } from './objects';
import { error } from '@tether/model';
import { eventName, existingFromEvent, microTime, newEventBody, seriesUpdateBody } from './wire';

let k8s: ClientNode;
beforeAll(async () => {
  k8s = await loadClientNode();
});

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

describe('eventName', () => {
  it('is a valid, unique object name whatever the object is called', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (name) => {
        const made = eventName(name, 1_767_323_045_123);
        expect(made.length).toBeLessThanOrEqual(253);
        expect(made).toMatch(DNS_SUBDOMAIN);
        expect(seen.has(made)).toBe(false);
        seen.add(made);
      }),
    );
    expect(eventName('web', 0)).toMatch(/^web\.[0-9a-f]+$/);
  });
});

describe('microTime', () => {
  it('writes six fractional digits and sends a stored time back unchanged', () => {
    expect(JSON.stringify({ t: microTime(k8s, Date.parse('2026-01-02T03:04:05.123Z')) })).toBe(
      '{"t":"2026-01-02T03:04:05.123000Z"}',
    );
    expect(JSON.stringify(microTime(k8s, '2026-01-02T03:04:05.123456Z'))).toBe(
      '"2026-01-02T03:04:05.123456Z"',
    );
  });
});

describe('Event bodies', () => {
  const ingress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'shop', uid: 'u1', annotations: { 'x/y': 'z' } },
  };
  const [draft] = draftsOf(
    error('InvalidAnnotation', 'bad', {
      dialect: 'ingress-nginx',
      kind: 'Ingress',
      namespace: 'shop',
      name: 'web',
      field: 'x/y',
    }),
    directoryOf([ingress]),
  );
  const entry = (occurrences: number): BookEntry => ({
    draft: draft!,
    occurrences,
    firstObserved: Date.parse('2026-01-02T03:04:05Z'),
    lastObserved: Date.parse('2026-01-02T03:05:00Z'),
    active: true,
    retryAt: 0,
    failures: 0,
  });

  it('reads back as the same draft, so a new leader finds what the old one wrote', () => {
    const body = newEventBody(k8s, entry(1), 'web.1', 'tether-0');
    expect(body.series).toBeUndefined();
    const stored = JSON.parse(JSON.stringify(body)) as typeof body;
    const back = existingFromEvent({
      ...stored,
      metadata: { ...stored.metadata, resourceVersion: '5' },
    });
    expect(back?.draft).toEqual({ ...draft, regarding: { ...draft!.regarding } });
    expect(back?.written).toMatchObject({
      name: 'web.1',
      namespace: 'shop',
      count: 1,
      reportingInstance: 'tether-0',
    });
  });

  it('starts with a series when it already happened more than once, and updates only the series', () => {
    const body = newEventBody(k8s, entry(3), 'web.1', 'tether-0');
    expect(JSON.parse(JSON.stringify(body.series))).toEqual({
      count: 3,
      lastObservedTime: '2026-01-02T03:05:00.000000Z',
    });
    const stored = JSON.parse(
      JSON.stringify({ ...body, metadata: { ...body.metadata, resourceVersion: '5' } }),
    );
    const written = existingFromEvent(stored)!.written;
    const update = JSON.parse(JSON.stringify(seriesUpdateBody(k8s, entry(4), written)));
    expect({ ...update, series: undefined, metadata: undefined }).toEqual({
      ...stored,
      series: undefined,
      metadata: undefined,
    });
    expect(update.series.count).toBe(4);
    expect(update.metadata).toEqual({ name: 'web.1', namespace: 'shop', resourceVersion: '5' });
  });

  it('ignores Events that are not ours or lack what an update needs', () => {
    const body = JSON.parse(JSON.stringify(newEventBody(k8s, entry(1), 'web.1', 'tether-0')));
    expect(existingFromEvent({ ...body, reportingController: 'someone.else/x' })).toBeUndefined();
    expect(existingFromEvent(body)).toBeUndefined();
    expect(
      existingFromEvent({
        ...body,
        metadata: { name: 'web.1', resourceVersion: '1' },
        type: 'Error',
      }),
    ).toBeUndefined();
  });
});
