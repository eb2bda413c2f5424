import { ACCEPTED_REASON } from './classify';
import { acceptedDraft, type EventDraft } from './drafts';
import type { ObjectReference } from './objects';

/** What the API server holds for one of our Events; the fields an update may not change. */
export interface WrittenEvent {
  name: string;
  namespace: string;
  resourceVersion: string;
  /** The series count on the server (1 for an Event without a series). */
  count: number;
  eventTime: string;
  reportingInstance: string;
  action: string;
  regarding: ObjectReference;
  related?: ObjectReference;
  /** When it was last observed (series.lastObservedTime, else eventTime), in ms. */
  lastObserved: number;
}

/** An Event read back from the API server with the draft it stands for. */
export interface ExistingEvent {
  draft: EventDraft;
  written: WrittenEvent;
}

export interface BookEntry {
  draft: EventDraft;
  /** Occurrences so far: the series count the Event should show once written. */
  occurrences: number;
  firstObserved: number;
  lastObserved: number;
  /**
   * When this replica last saw it appear (absent before, present now). Undefined for a problem
   * already there at the first reconcile: that one is not news, a previous process saw it.
   */
  appearedAt?: number;
  /** Seen in the latest reconcile (never true for Accepted, which marks a moment). */
  active: boolean;
  written?: WrittenEvent;
  /** No write before this time (ms), after a failure. */
  retryAt: number;
  failures: number;
}

export interface BookOptions {
  /** How long an inactive, fully written entry is remembered for folding a recurrence. */
  retentionMs: number;
  /** Entries kept at most; beyond it new problems are dropped (and counted). */
  maxEntries: number;
}

/**
 * How much later than the server's last observation this replica must have seen a problem
 * appear to count it as an occurrence the server does not know: two replicas reconcile the same
 * change at slightly different times, on clocks that differ a little.
 */
const SEED_SLACK_MS = 2000;

/** Returns the current reference of an object that still exists, else undefined. */
export type PresentObject = (ref: ObjectReference) => ObjectReference | undefined;

/**
 * The occurrence ledger behind the recorder, free of I/O and timers.
 *
 * An occurrence is a problem that appears: a draft seen in a reconcile when it was not seen in
 * the previous one. The same draft reconcile after reconcile is one occurrence; one that goes
 * away and comes back is a second one, folded into the first Event's series. An object whose
 * last Warning draft goes away, and that still exists, gets an Accepted occurrence. Writes are
 * what is pending: entries whose occurrences exceed what the server shows, so any number of
 * occurrences between two writes cost one write.
 */
export class EventBook {
  private readonly entries = new Map<string, BookEntry>();
  /** Keys with something to write, oldest first. */
  private readonly pendingKeys = new Set<string>();
  /** Objects with an active Warning draft, with their latest reference. */
  private troubled = new Map<string, ObjectReference>();
  /** Problems not tracked because the book was full. */
  dropped = 0;
  private observedOnce = false;

  constructor(private readonly options: BookOptions) {}

  get size(): number {
    return this.entries.size;
  }

  get pendingCount(): number {
    return this.pendingKeys.size;
  }

  entry(key: string): BookEntry | undefined {
    return this.entries.get(key);
  }

  /** Records one reconcile's drafts. */
  observe(drafts: readonly EventDraft[], present: PresentObject, now: number): void {
    const seen = new Set<string>();
    const troubled = new Map<string, ObjectReference>();
    for (const draft of drafts) {
      if (seen.has(draft.key)) continue;
      seen.add(draft.key);
      if (draft.type === 'Warning') troubled.set(draft.objectId, draft.regarding);
      const entry = this.entries.get(draft.key);
      if (!entry) {
        this.add(draft, now, true, this.observedOnce ? now : undefined);
        continue;
      }
      // A newer reference (resourceVersion, uid) for Events still to be created.
      entry.draft = draft;
      if (!entry.active) {
        entry.active = true;
        this.occur(entry, now);
      }
    }
    this.observedOnce = true;
    for (const entry of this.entries.values())
      if (entry.active && !seen.has(entry.draft.key)) entry.active = false;
    for (const [id, ref] of this.troubled) {
      if (troubled.has(id)) continue;
      const current = present(ref);
      if (current) this.accept(current, now);
    }
    this.troubled = troubled;
    this.evict(now);
  }

  /**
   * Takes the API server's Events as the record of what was reported (on taking the lead, when
   * another replica may have written meanwhile):
   * - a problem with an Event keeps the Event's count, plus one when this replica saw it appear
   *   after the Event's last observation (a recurrence the writer missed);
   * - a problem without one keeps what this replica counted and gets created;
   * - an object whose newest Event of ours is a Warning, but that is clean now, gets its
   *   Accepted Event (it was fixed while nobody wrote).
   */
  seed(existing: readonly ExistingEvent[], present: PresentObject, now: number): void {
    const newest = new Map<string, ExistingEvent>();
    for (const e of existing) {
      const before = newest.get(e.draft.key);
      if (!before || before.written.lastObserved < e.written.lastObserved)
        newest.set(e.draft.key, e);
    }
    for (const entry of this.entries.values()) {
      const server = newest.get(entry.draft.key)?.written;
      entry.retryAt = 0;
      entry.failures = 0;
      if (!server) {
        delete entry.written;
        continue;
      }
      entry.written = server;
      const missed =
        entry.appearedAt !== undefined && entry.appearedAt > server.lastObserved + SEED_SLACK_MS;
      entry.occurrences = server.count + (missed ? 1 : 0);
    }
    for (const { draft, written } of newest.values()) {
      if (this.entries.has(draft.key) || this.entries.size >= this.options.maxEntries) continue;
      this.entries.set(draft.key, {
        draft,
        occurrences: written.count,
        firstObserved: written.lastObserved,
        lastObserved: written.lastObserved,
        active: false,
        written,
        retryAt: 0,
        failures: 0,
      });
    }
    this.pendingKeys.clear();
    for (const [key, entry] of this.entries)
      if (entry.occurrences > (entry.written?.count ?? 0)) this.pendingKeys.add(key);
    // Newest Warning against newest Accepted, per object, as the server has them.
    const lastWarning = new Map<string, ExistingEvent>();
    const lastAccepted = new Map<string, number>();
    for (const e of newest.values()) {
      const id = e.draft.objectId;
      if (e.draft.type === 'Warning') {
        const before = lastWarning.get(id);
        if (!before || before.written.lastObserved < e.written.lastObserved) lastWarning.set(id, e);
      } else if (e.draft.reason === ACCEPTED_REASON) {
        lastAccepted.set(id, Math.max(lastAccepted.get(id) ?? 0, e.written.lastObserved));
      }
    }
    for (const [id, warning] of lastWarning) {
      if (this.troubled.has(id)) continue;
      if ((lastAccepted.get(id) ?? -1) >= warning.written.lastObserved) continue;
      const current = present(warning.draft.regarding);
      if (!current || this.pendingKeys.has(acceptedDraft(current).key)) continue;
      this.accept(current, now);
    }
    this.evict(now);
  }

  /** The oldest entry with something to write that `allowed` lets through now. */
  nextPending(now: number, allowed: (entry: BookEntry) => boolean): BookEntry | undefined {
    for (const key of this.pendingKeys) {
      const entry = this.entries.get(key);
      if (!entry) {
        this.pendingKeys.delete(key);
        continue;
      }
      if (entry.retryAt <= now && allowed(entry)) return entry;
    }
    return undefined;
  }

  /** Earliest time a failed entry may be tried again (Infinity when none waits). */
  nextRetryAt(): number {
    let at = Infinity;
    for (const key of this.pendingKeys) at = Math.min(at, this.entries.get(key)?.retryAt ?? at);
    return at;
  }

  /** The server now holds `written` for this entry. */
  markWritten(key: string, written: WrittenEvent): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.written = written;
    entry.failures = 0;
    entry.retryAt = 0;
    // More occurrences may have come in while the write was in flight: they stay pending.
    if (entry.occurrences <= written.count) this.pendingKeys.delete(key);
  }

  /** The Event is gone from the server (expired or deleted): the next write creates it again. */
  forgetWritten(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    delete entry.written;
    this.pendingKeys.add(key);
  }

  /** A write failed: back off this entry exponentially, up to `maxMs`. */
  markFailed(key: string, now: number, baseMs: number, maxMs: number): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.failures++;
    entry.retryAt = now + Math.min(maxMs, baseMs * 2 ** Math.min(entry.failures - 1, 20));
  }

  /** Gives up on an entry the server refuses for good (an invalid Event). */
  abandon(key: string): void {
    const entry = this.entries.get(key);
    this.pendingKeys.delete(key);
    if (entry && !entry.active) this.entries.delete(key);
    else if (entry) entry.occurrences = entry.written?.count ?? 0;
  }

  private add(
    draft: EventDraft,
    now: number,
    active: boolean,
    appearedAt: number | undefined,
  ): BookEntry | undefined {
    if (this.entries.size >= this.options.maxEntries) this.evict(now, true);
    if (this.entries.size >= this.options.maxEntries) {
      this.dropped++;
      return undefined;
    }
    const entry: BookEntry = {
      draft,
      occurrences: 1,
      firstObserved: now,
      lastObserved: now,
      active,
      retryAt: 0,
      failures: 0,
    };
    if (appearedAt !== undefined) entry.appearedAt = appearedAt;
    this.entries.set(draft.key, entry);
    this.pendingKeys.add(draft.key);
    return entry;
  }

  private occur(entry: BookEntry, now: number): void {
    entry.occurrences++;
    entry.lastObserved = now;
    entry.appearedAt = now;
    this.pendingKeys.add(entry.draft.key);
  }

  private accept(regarding: ObjectReference, now: number): void {
    const draft = acceptedDraft(regarding);
    const entry = this.entries.get(draft.key);
    if (entry) {
      entry.draft = draft;
      this.occur(entry, now);
    } else {
      this.add(draft, now, false, now);
    }
  }

  /**
   * Forgets inactive entries last seen longer ago than the retention (written or not: the API
   * server lets Events expire after about that long too), or (when `force`, because the book
   * is full) the oldest inactive entries with nothing to write, whatever their age.
   */
  private evict(now: number, force = false): void {
    for (const [key, e] of this.entries) {
      if (e.active || now - e.lastObserved <= this.options.retentionMs) continue;
      this.entries.delete(key);
      this.pendingKeys.delete(key);
    }
    if (!force || this.entries.size < this.options.maxEntries) return;
    const idle = [...this.entries.values()]
      .filter((e) => !e.active && !this.pendingKeys.has(e.draft.key))
      .sort((a, b) => a.lastObserved - b.lastObserved);
    for (const e of idle) {
      if (this.entries.size < this.options.maxEntries) break;
      this.entries.delete(e.draft.key);
    }
  }
}
