import { describe, expect, it } from '@jest/globals';
import { EventBook, type ExistingEvent, type WrittenEvent } from './book';
import { acceptedDraft, draftKey, type EventDraft } from './drafts';
import { objectIdOf, type ObjectReference } from './objects';

const web: ObjectReference = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  namespace: 'shop',
  name: 'web',
};
const api: ObjectReference = { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'api' };

function draft(
  ref: ObjectReference,
  reason = 'ConflictingPersistence',
  type: 'Warning' | 'Normal' = 'Warning',
): EventDraft {
  const objectId = objectIdOf(ref.kind, ref.namespace, ref.name);
  const note = `${reason} on ${ref.name}`;
  return {
    key: draftKey(objectId, type, reason, note),
    objectId,
    regarding: ref,
    type,
    reason,
    note,
  };
}

const everyObject = (ref: ObjectReference) => ref;
const noObject = () => undefined;

function book(maxEntries = 100, retentionMs = 60_000): EventBook {
  return new EventBook({ maxEntries, retentionMs });
}

function written(d: EventDraft, count: number, lastObserved: number): WrittenEvent {
  return {
    name: `${d.regarding.name}.1`,
    namespace: 'shop',
    resourceVersion: '1',
    count,
    eventTime: new Date(lastObserved).toISOString(),
    reportingInstance: 'other',
    action: 'Reconcile',
    regarding: d.regarding,
    lastObserved,
  };
}

/** Pending entries as [reason, occurrences, written count]. */
function pending(b: EventBook, now = 0): [string, number, number][] {
  const out: [string, number, number][] = [];
  const seen = new Set<string>();
  for (;;) {
    const e = b.nextPending(now, (x) => !seen.has(x.draft.key));
    if (!e) return out;
    seen.add(e.draft.key);
    out.push([`${e.draft.reason} ${e.draft.regarding.name}`, e.occurrences, e.written?.count ?? 0]);
  }
}

/** Writes everything pending, as the recorder would after successful calls. */
function writeAll(b: EventBook, now = 0): void {
  for (let e = b.nextPending(now, () => true); e; e = b.nextPending(now, () => true))
    b.markWritten(e.draft.key, written(e.draft, e.occurrences, e.lastObserved));
}

describe('EventBook occurrences', () => {
  it('counts a problem once while it stays, again when it comes back', () => {
    const b = book();
    const conflict = draft(web);
    b.observe([conflict, conflict], everyObject, 1);
    expect(pending(b)).toEqual([['ConflictingPersistence web', 1, 0]]);
    writeAll(b);
    b.observe([conflict], everyObject, 2);
    b.observe([conflict], everyObject, 3);
    expect(pending(b)).toEqual([]);
    b.observe([], everyObject, 4);
    b.observe([conflict], everyObject, 5);
    // Oldest first: the fix at 4, then the return at 5.
    expect(pending(b)).toEqual([
      ['Accepted web', 1, 0],
      ['ConflictingPersistence web', 2, 1],
    ]);
  });

  it('writes Accepted once per fix of an object that had a Warning, and only then', () => {
    const b = book();
    const warning = draft(web);
    const advisory = draft(api, 'ValueNormalised', 'Normal');
    b.observe([warning, advisory], everyObject, 1);
    writeAll(b);
    b.observe([], everyObject, 2);
    b.observe([], everyObject, 3);
    // The Normal draft going away is no fix: only the Ingress gets an Accepted.
    expect(pending(b)).toEqual([['Accepted web', 1, 0]]);
    writeAll(b);
    b.observe([warning], everyObject, 4);
    b.observe([], everyObject, 5);
    expect(pending(b)).toEqual([
      ['ConflictingPersistence web', 2, 1],
      ['Accepted web', 2, 1],
    ]);
  });

  it('gives no Accepted to an object that is gone', () => {
    const b = book();
    b.observe([draft(web)], everyObject, 1);
    writeAll(b);
    b.observe([], noObject, 2);
    expect(pending(b)).toEqual([]);
  });

  it('folds occurrences that come while a write is in flight into the next write', () => {
    const b = book();
    const conflict = draft(web);
    b.observe([conflict], everyObject, 1);
    const inFlight = b.nextPending(1, () => true)!;
    const count = inFlight.occurrences;
    for (let t = 2; t < 12; t += 2) {
      b.observe([], everyObject, t);
      b.observe([conflict], everyObject, t + 1);
    }
    b.markWritten(conflict.key, written(conflict, count, 1));
    expect(pending(b)).toEqual([
      ['ConflictingPersistence web', 6, 1],
      ['Accepted web', 5, 0],
    ]);
  });
});

describe('EventBook limits', () => {
  it('drops new problems when full of active ones, and counts them', () => {
    const b = book(2);
    b.observe([draft(web, 'A'), draft(web, 'B'), draft(web, 'C')], everyObject, 1);
    expect(b.size).toBe(2);
    expect(b.dropped).toBe(1);
  });

  it('makes room by forgetting the oldest resolved, written problems', () => {
    const b = book(2);
    b.observe([draft(api, 'A')], everyObject, 1);
    writeAll(b);
    b.observe([draft(api, 'B')], everyObject, 2);
    writeAll(b);
    b.observe([draft(web, 'C')], noObject, 3);
    expect(b.dropped).toBe(0);
    expect(pending(b)).toEqual([['C web', 1, 0]]);
    expect(b.entry(draft(api, 'A').key)).toBeUndefined();
  });

  it('forgets resolved problems after the retention, so a late return is a new Event', () => {
    const b = book(100, 1000);
    const conflict = draft(web);
    b.observe([conflict], noObject, 0);
    writeAll(b);
    b.observe([], noObject, 10);
    b.observe([], noObject, 2000);
    expect(b.size).toBe(0);
    b.observe([conflict], noObject, 2001);
    expect(pending(b)).toEqual([['ConflictingPersistence web', 1, 0]]);
  });

  it('backs a failed entry off and gives up on a refused one', () => {
    const b = book();
    const conflict = draft(web);
    b.observe([conflict], everyObject, 0);
    b.markFailed(conflict.key, 0, 100, 1000);
    expect(b.nextPending(50, () => true)).toBeUndefined();
    expect(b.nextRetryAt()).toBe(100);
    b.markFailed(conflict.key, 100, 100, 1000);
    expect(b.nextRetryAt()).toBe(300);
    expect(b.nextPending(300, () => true)?.draft.key).toBe(conflict.key);
    b.abandon(conflict.key);
    expect(b.pendingCount).toBe(0);
  });
});

describe('EventBook.seed', () => {
  const existing = (d: EventDraft, count: number, lastObserved: number): ExistingEvent => ({
    draft: d,
    written: written(d, count, lastObserved),
  });

  it('takes the server count for a problem that was there already', () => {
    const b = book();
    b.observe([draft(web)], everyObject, 100_000);
    b.seed([existing(draft(web), 4, 1000)], everyObject, 100_001);
    expect(pending(b)).toEqual([]);
    expect(b.entry(draft(web).key)?.occurrences).toBe(4);
  });

  it('adds one for a recurrence this replica saw after the server’s last observation', () => {
    const b = book();
    b.observe([], everyObject, 1);
    b.observe([draft(web)], everyObject, 10_000);
    b.seed([existing(draft(web), 4, 1000)], everyObject, 10_001);
    expect(pending(b)).toEqual([['ConflictingPersistence web', 5, 4]]);
  });

  it('creates what the server lacks with everything counted, resolved or not', () => {
    const b = book();
    b.observe([draft(web)], everyObject, 1);
    b.observe([], everyObject, 2);
    b.observe([draft(web)], everyObject, 3);
    b.observe([], everyObject, 4);
    b.seed([], everyObject, 5);
    expect(pending(b)).toEqual([
      ['ConflictingPersistence web', 2, 0],
      ['Accepted web', 2, 0],
    ]);
  });

  it('announces a fix the server never heard of, unless it has an Accepted newer than the Warning', () => {
    const fixedSince = book();
    fixedSince.observe([], everyObject, 5000);
    fixedSince.seed([existing(draft(web), 1, 1000)], everyObject, 5001);
    expect(pending(fixedSince)).toEqual([['Accepted web', 1, 0]]);

    const alreadySaid = book();
    alreadySaid.observe([], everyObject, 5000);
    alreadySaid.seed(
      [existing(draft(web), 1, 1000), existing(acceptedDraft(web), 1, 2000)],
      everyObject,
      5001,
    );
    expect(pending(alreadySaid)).toEqual([]);

    const gone = book();
    gone.observe([], noObject, 5000);
    gone.seed([existing(draft(web), 1, 1000)], noObject, 5001);
    expect(pending(gone)).toEqual([]);
  });

  it('remembers server Events it had not seen, to fold their return into the series', () => {
    const b = book();
    b.observe([], everyObject, 1000);
    b.seed([existing(draft(api), 3, 900), existing(acceptedDraft(api), 1, 950)], everyObject, 1001);
    expect(pending(b)).toEqual([]);
    b.observe([draft(api)], everyObject, 2000);
    expect(pending(b)).toEqual([['ConflictingPersistence api', 4, 3]]);
  });
});
