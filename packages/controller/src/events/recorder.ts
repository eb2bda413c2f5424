import { hostname } from 'node:os';
import type { Diagnostic } from '@tether/model';
import type { ReconcileListener } from '../controller';
import { EventBook, type BookEntry, type ExistingEvent, type PresentObject } from './book';
import { REPORTING_CONTROLLER } from './classify';
import {
  apiClient,
  describeApiError,
  loadClientNode,
  statusOf,
  type ClientNode,
  type K8s,
} from './client';
import { DraftCache } from './drafts';
import { referenceOf, type ObjectDirectory } from './objects';
import { KeyedBuckets, TokenBucket } from './rate';
import { eventName, existingFromEvent, newEventBody, seriesUpdateBody, timeText } from './wire';

export type RecorderLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface EventRecorderOptions {
  kubeConfig: K8s.KubeConfig;
  /** Only the leader writes; a replica that is not leading keeps count but writes nothing. */
  isLeader(): boolean;
  /** The `reportingInstance` of new Events: by default $POD_NAME, else the host name. */
  reportingInstance?: string;
  /** Writes per second across all objects (default 5) and the burst allowed (default 50). */
  qps?: number;
  burst?: number;
  /** Writes per object: a burst (default 10), then this many per minute (default 2). */
  perObjectBurst?: number;
  perObjectPerMinute?: number;
  /** Problems tracked at most (default 20 000); beyond it new ones are dropped and counted. */
  maxTracked?: number;
  /** How long a resolved problem is remembered to fold its return into a series (default 1 h). */
  retentionMs?: number;
  /** Every API request is aborted after this long (default 10 s). */
  requestTimeoutMs?: number;
  /** Backoff after a failed write: doubles from `retryBaseMs` (1 s) up to `retryMaxMs` (60 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  log?: RecorderLog;
}

export interface EventRecorderStats {
  created: number;
  updated: number;
  failed: number;
  /** Times the writer waited for the global or a per-object rate limit. */
  rateLimited: number;
  /** Problems not tracked because `maxTracked` was reached. */
  dropped: number;
  /** Events of ours read back on taking the lead. */
  seeded: number;
}

const LIST_PAGE = 500;

/**
 * Turns the diagnostics of every reconcile into `events.k8s.io/v1` Events, one per problem and
 * object, folding recurrences into the Event's series. Only the leader writes; on taking the
 * lead it reads our existing Events back, so a handover neither repeats nor loses an Event.
 * Writes go out one at a time, under a global and a per-object token bucket; occurrences that
 * pile up meanwhile are folded into one write.
 */
export class EventRecorder {
  readonly stats: EventRecorderStats = {
    created: 0,
    updated: 0,
    failed: 0,
    rateLimited: 0,
    dropped: 0,
    seeded: 0,
  };
  private readonly api: K8s.EventsV1Api;
  private readonly book: EventBook;
  private readonly drafts = new DraftCache();
  private readonly global: TokenBucket;
  private readonly perObject: KeyedBuckets;
  private readonly reportingInstance: string;
  private directory: ObjectDirectory | undefined;
  private seeded = false;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private draining: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private seedFailures = 0;
  private waiters: (() => void)[] = [];

  static async create(options: EventRecorderOptions): Promise<EventRecorder> {
    return new EventRecorder(await loadClientNode(), options);
  }

  private constructor(
    private readonly k8s: ClientNode,
    private readonly options: EventRecorderOptions,
  ) {
    this.api = apiClient(
      k8s,
      options.kubeConfig,
      k8s.EventsV1Api,
      options.requestTimeoutMs ?? 10_000,
    );
    this.book = new EventBook({
      retentionMs: options.retentionMs ?? 3_600_000,
      maxEntries: options.maxTracked ?? 20_000,
    });
    this.global = new TokenBucket(options.burst ?? 50, options.qps ?? 5, Date.now());
    this.perObject = new KeyedBuckets(
      options.perObjectBurst ?? 10,
      (options.perObjectPerMinute ?? 2) / 60,
    );
    this.reportingInstance = (
      options.reportingInstance ||
      process.env.POD_NAME ||
      hostname() ||
      'tether'
    ).slice(0, 128);
  }

  /** Records one reconcile: `diagnostics` about the objects `directory` holds. */
  observe(diagnostics: readonly Diagnostic[], directory: ObjectDirectory): void {
    if (this.stopped) return;
    this.directory = directory;
    const drafts = diagnostics.flatMap((d) => this.drafts.draftsOf(d, directory));
    this.book.observe(drafts, this.present, Date.now());
    this.stats.dropped = this.book.dropped;
    this.wake(0);
  }

  /** A listener for the controller; `directory` gives the objects of the latest snapshot. */
  listener(directory: () => ObjectDirectory): ReconcileListener {
    return (result, problems) => this.observe([...problems, ...result.diagnostics], directory());
  }

  /** Reads our Events back before the next write: call it when this replica starts leading. */
  resync(): void {
    this.seeded = false;
    this.wake(0);
  }

  /**
   * Resolves once nothing is left to write, or nothing can be written (not leading, stopped).
   * Rate limits and backoff are waited for.
   */
  settled(): Promise<void> {
    if (this.isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get pending(): number {
    return this.book.pendingCount;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
    this.notify();
  }

  private readonly present: PresentObject = (ref) => {
    const object = this.directory?.find(ref.kind, ref.namespace ?? 'default', ref.name);
    return object ? referenceOf(object) : undefined;
  };

  private isSettled(): boolean {
    if (this.stopped || !this.options.isLeader()) return true;
    return !this.draining && this.pending === 0 && (this.seeded || !this.directory);
  }

  private notify(): void {
    if (!this.isSettled()) return;
    for (const resolve of this.waiters.splice(0)) resolve();
  }

  private wake(delayMs: number): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.draining = this.drain().then(
        (next) => this.drained(next),
        (e: unknown) => {
          this.options.log?.('error', 'the Event writer failed', { error: String(e) });
          this.drained(this.backoff(1));
        },
      );
    }, delayMs);
  }

  private drained(nextMs: number): void {
    this.draining = undefined;
    if (this.again) this.wake(0);
    else if (nextMs < Infinity && (this.pending > 0 || !this.seeded))
      this.wake(Math.max(0, nextMs));
    this.notify();
  }

  /**
   * Writes what is pending while leading and allowed. Returns when to try again (ms from now;
   * Infinity when only a new reconcile or a change of leader can give it work).
   */
  private async drain(): Promise<number> {
    let next = Infinity;
    for (;;) {
      this.again = false;
      // Nothing to compare with before the first reconcile: reading Events back then would
      // count every problem still there as a recurrence.
      if (this.stopped || !this.options.isLeader() || !this.directory) {
        if (!this.options.isLeader()) this.seeded = false;
        break;
      }
      if (!this.seeded) {
        if (!(await this.seed())) {
          next = this.backoff(this.seedFailures);
          break;
        }
        continue;
      }
      const now = Date.now();
      if (!this.global.available(now)) {
        this.stats.rateLimited++;
        next = this.global.waitMs(now);
        break;
      }
      let objectWait = Infinity;
      const entry = this.book.nextPending(now, (e) => {
        const bucket = this.perObject.bucket(e.draft.objectId, now);
        if (bucket.available(now)) return true;
        objectWait = Math.min(objectWait, bucket.waitMs(now));
        return false;
      });
      if (!entry) {
        if (objectWait < Infinity) this.stats.rateLimited++;
        next = Math.min(objectWait, this.book.nextRetryAt() - now);
        break;
      }
      this.global.take(now);
      this.perObject.bucket(entry.draft.objectId, now).take(now);
      await this.write(entry);
    }
    return next;
  }

  private backoff(failures: number): number {
    const base = this.options.retryBaseMs ?? 1000;
    return Math.min(this.options.retryMaxMs ?? 60_000, base * 2 ** Math.min(failures, 20));
  }

  /** Lists our Events (every namespace, page by page) and hands them to the book. */
  private async seed(): Promise<boolean> {
    const existing: ExistingEvent[] = [];
    let page: string | undefined;
    try {
      do {
        const list: K8s.EventsV1EventList = await this.api.listEventForAllNamespaces({
          fieldSelector: `reportingController=${REPORTING_CONTROLLER}`,
          limit: LIST_PAGE,
          ...(page ? { _continue: page } : {}),
        });
        for (const item of list.items) {
          const found = existingFromEvent(item);
          if (found) existing.push(found);
        }
        page = list.metadata?._continue || undefined;
      } while (page);
    } catch (e) {
      this.seedFailures++;
      this.options.log?.('warn', 'could not read existing Events back; retrying', {
        error: describeApiError(this.k8s, e),
      });
      return false;
    }
    this.seedFailures = 0;
    this.book.seed(existing, this.present, Date.now());
    this.stats.seeded += existing.length;
    this.seeded = true;
    return true;
  }

  private async write(entry: BookEntry): Promise<void> {
    const key = entry.draft.key;
    const written = entry.written;
    const occurrences = entry.occurrences;
    try {
      if (!written) {
        const body = newEventBody(
          this.k8s,
          entry,
          eventName(entry.draft.regarding.name, Date.now()),
          this.reportingInstance,
        );
        const namespace = body.metadata?.namespace ?? 'default';
        const made = await this.api.createNamespacedEvent({ namespace, body });
        this.book.markWritten(key, {
          name: made.metadata?.name ?? body.metadata?.name ?? '',
          namespace,
          resourceVersion: made.metadata?.resourceVersion ?? '',
          count: occurrences,
          eventTime: timeText(made.eventTime) ?? timeText(body.eventTime) ?? '',
          reportingInstance: this.reportingInstance,
          action: body.action ?? '',
          regarding: entry.draft.regarding,
          ...(entry.draft.related ? { related: entry.draft.related } : {}),
          lastObserved: entry.lastObserved,
        });
        this.stats.created++;
      } else {
        const body = seriesUpdateBody(this.k8s, entry, written);
        const made = await this.api.replaceNamespacedEvent({
          name: written.name,
          namespace: written.namespace,
          body,
        });
        this.book.markWritten(key, {
          ...written,
          resourceVersion: made.metadata?.resourceVersion ?? written.resourceVersion,
          count: occurrences,
          lastObserved: entry.lastObserved,
        });
        this.stats.updated++;
      }
    } catch (e) {
      await this.writeFailed(entry, e);
    }
  }

  private async writeFailed(entry: BookEntry, e: unknown): Promise<void> {
    const key = entry.draft.key;
    const status = statusOf(this.k8s, e);
    const written = entry.written;
    if (written && status === 404) {
      // Expired or deleted: the next write creates it again with the whole count.
      this.book.forgetWritten(key);
      return;
    }
    if (written && status === 409) {
      // Someone else (a previous leader) moved its series: take the server's version and count.
      try {
        const current = existingFromEvent(
          await this.api.readNamespacedEvent({ name: written.name, namespace: written.namespace }),
        );
        if (current) {
          // Keep what this replica saw since its last write on top of the server's count.
          entry.occurrences = current.written.count + (entry.occurrences - written.count);
          this.book.markWritten(key, current.written);
          return;
        }
      } catch (again) {
        if (statusOf(this.k8s, again) === 404) {
          this.book.forgetWritten(key);
          return;
        }
      }
    }
    this.stats.failed++;
    const fields = {
      reason: entry.draft.reason,
      object: entry.draft.objectId,
      error: describeApiError(this.k8s, e),
    };
    if (status === 400 || status === 422) {
      this.options.log?.('error', 'the API server refused an Event; it is dropped', fields);
      this.book.abandon(key);
      return;
    }
    this.options.log?.('warn', 'could not write an Event; retrying with backoff', fields);
    this.book.markFailed(
      key,
      Date.now(),
      this.options.retryBaseMs ?? 1000,
      this.options.retryMaxMs ?? 60_000,
    );
  }
}
