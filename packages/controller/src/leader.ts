/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's algorithm and timings:
 * every replica serves traffic; only the one holding the Lease writes Events and status.
 *
 * - A candidate tries every `retryPeriod` (with up to 120 % jitter) to take the Lease. It may
 *   when nobody holds it, when it holds it already, or when the holder has not renewed for
 *   `leaseDuration` — measured on this replica's clock from the moment it last saw the Lease
 *   change, so clock skew between nodes does not matter.
 * - The leader renews every `retryPeriod`. When no renewal has succeeded for `renewDeadline`,
 *   it stops leading (before anyone else may take over at `leaseDuration`); it then goes back
 *   to being a candidate.
 * - Every write is an update with the resourceVersion read: two candidates racing for an
 *   expired Lease get one success and one 409, and the loser simply tries again later.
 * - `stop()` releases a held Lease (empty holder, 1 s duration) so that another replica takes
 *   over at its next try instead of waiting out the lease duration (unless `releaseOnStop` is
 *   false).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import {
  apiClient,
  describeApiError,
  loadClientNode,
  statusOf,
  type ClientNode,
  type K8s,
} from './events/client';
import { microTime, timeText } from './events/wire';

export interface LeaderElectorOptions {
  kubeConfig: K8s.KubeConfig;
  /** Where the Lease lives and what it is called. */
  namespace: string;
  name: string;
  /** This replica's name in `holderIdentity`; default `<hostname>_<random uuid>`. */
  identity?: string;
  /** client-go's defaults: 15 s, 10 s and 2 s. */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /**
   * Give the Lease up on `stop()` (default true). False leaves it to expire, as a replica that
   * dies does.
   */
  releaseOnStop?: boolean;
  onStartedLeading?(): void;
  onStoppedLeading?(): void;
  /** The holder changed (including to this replica, or to nobody: ''). */
  onNewLeader?(identity: string): void;
  log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

const JITTER = 1.2;

interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions: number;
}

function recordOf(lease: K8s.V1Lease): LeaseRecord {
  const spec = lease.spec ?? {};
  const record: LeaseRecord = {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
  const acquireTime = timeText(spec.acquireTime);
  const renewTime = timeText(spec.renewTime);
  if (acquireTime) record.acquireTime = acquireTime;
  if (renewTime) record.renewTime = renewTime;
  return record;
}

export class LeaderElector {
  readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private client: { k8s: ClientNode; api: K8s.CoordinationV1Api } | undefined;
  private leading = false;
  private lastRenew = 0;
  private observed: { raw: string; record: LeaseRecord; at: number } | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private failing = false;

  constructor(private readonly options: LeaderElectorOptions) {
    this.identity = options.identity || `${hostname()}_${randomUUID()}`;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs))
      throw new Error('leader election: the lease duration must be longer than the renew deadline');
    if (!(this.renewDeadlineMs > JITTER * this.retryPeriodMs))
      throw new Error('leader election: the renew deadline must exceed 1.2 × the retry period');
    if (!(this.retryPeriodMs > 0)) throw new Error('leader election: the retry period must be > 0');
  }

  /** True while this replica holds the Lease and renewed it within the renew deadline. */
  isLeader(): boolean {
    return this.leading && Date.now() - this.lastRenew < this.renewDeadlineMs;
  }

  /** The holder last seen on the Lease ('' for nobody, undefined before the first read). */
  get leader(): string | undefined {
    return this.observed?.record.holderIdentity;
  }

  /** Starts campaigning; returns at once. */
  async start(): Promise<void> {
    if (this.loop) return;
    const k8s = await loadClientNode();
    // A request may take at most the retry period, so a stuck one never outlives the deadline.
    const api = apiClient(k8s, this.options.kubeConfig, k8s.CoordinationV1Api, this.retryPeriodMs);
    const client = { k8s, api };
    this.client = client;
    this.stopped = false;
    this.loop = this.run(client);
  }

  /** Stops campaigning, releases the Lease if held, and tells onStoppedLeading. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
    this.loop = undefined;
    if (this.leading && this.client && this.options.releaseOnStop !== false)
      await this.release(this.client);
    this.setLeading(false);
  }

  private async run(client: { k8s: ClientNode; api: K8s.CoordinationV1Api }): Promise<void> {
    while (!this.stopped) {
      const renewed = await this.tryAcquireOrRenew(client);
      if (this.stopped) break;
      const now = Date.now();
      if (renewed) {
        this.lastRenew = now;
        this.setLeading(true);
      } else if (this.leading) {
        const heldByOther = this.leader !== undefined && this.leader !== this.identity;
        if (heldByOther || now - this.lastRenew >= this.renewDeadlineMs) this.setLeading(false);
      }
      const wait = this.leading
        ? this.retryPeriodMs
        : this.retryPeriodMs * (1 + Math.random() * JITTER);
      await this.sleep(this.leading ? Math.min(wait, this.untilDeadline(now)) : wait);
    }
  }

  private untilDeadline(now: number): number {
    return Math.max(0, this.lastRenew + this.renewDeadlineMs - now);
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    this.options.log?.('info', leading ? 'started leading' : 'stopped leading', {
      lease: `${this.options.namespace}/${this.options.name}`,
      identity: this.identity,
    });
    if (leading) this.options.onStartedLeading?.();
    else this.options.onStoppedLeading?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wake = () => done();
      this.wakeUp = wake;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private observe(lease: K8s.V1Lease, now: number): LeaseRecord {
    const record = recordOf(lease);
    const raw = JSON.stringify(record);
    if (this.observed?.raw !== raw) {
      const before = this.observed?.record.holderIdentity;
      this.observed = { raw, record, at: now };
      if (before !== record.holderIdentity) this.options.onNewLeader?.(record.holderIdentity);
    }
    return record;
  }

  private spec(k8s: ClientNode, previous: LeaseRecord | undefined, now: number): K8s.V1LeaseSpec {
    const mine = previous?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
      acquireTime: microTime(k8s, mine && previous?.acquireTime ? previous.acquireTime : now),
      renewTime: microTime(k8s, now),
      leaseTransitions: previous
        ? mine
          ? previous.leaseTransitions
          : previous.leaseTransitions + 1
        : 0,
    };
  }

  /** One round of client-go's tryAcquireOrRenew; true when this replica holds the Lease now. */
  private async tryAcquireOrRenew({
    k8s,
    api,
  }: {
    k8s: ClientNode;
    api: K8s.CoordinationV1Api;
  }): Promise<boolean> {
    const { namespace, name } = this.options;
    const now = Date.now();
    try {
      let lease: K8s.V1Lease;
      try {
        lease = await api.readNamespacedLease({ name, namespace });
      } catch (e) {
        if (statusOf(k8s, e) !== 404) throw e;
        const created = await api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: this.spec(k8s, undefined, now) },
        });
        this.observe(created, now);
        this.recovered();
        return true;
      }
      const record = this.observe(lease, now);
      const holder = record.holderIdentity;
      const expiresAt = (this.observed?.at ?? now) + record.leaseDurationSeconds * 1000;
      if (holder && holder !== this.identity && expiresAt > now) {
        this.recovered();
        return false;
      }
      const updated = await api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: this.spec(k8s, record, now) },
      });
      this.observe(updated, now);
      this.recovered();
      return true;
    } catch (e) {
      const status = statusOf(k8s, e);
      // 409: another candidate wrote first (or created it); the next round reads its record.
      if (status !== 409 && !this.failing) {
        this.failing = true;
        this.options.log?.('warn', 'leader election: cannot read or write the Lease', {
          lease: `${namespace}/${name}`,
          error: describeApiError(k8s, e),
        });
      }
      return false;
    }
  }

  private recovered(): void {
    this.failing = false;
  }

  /** Gives the Lease up so another replica need not wait for it to expire. */
  private async release({
    k8s,
    api,
  }: {
    k8s: ClientNode;
    api: K8s.CoordinationV1Api;
  }): Promise<void> {
    const { namespace, name } = this.options;
    try {
      const lease = await api.readNamespacedLease({ name, namespace });
      const record = recordOf(lease);
      if (record.holderIdentity !== this.identity) return;
      const now = Date.now();
      await api.replaceNamespacedLease({
        name,
        namespace,
        body: {
          ...lease,
          spec: {
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: microTime(k8s, now),
            renewTime: microTime(k8s, now),
            leaseTransitions: record.leaseTransitions,
          },
        },
      });
    } catch (e) {
      this.options.log?.('warn', 'leader election: could not release the Lease', {
        lease: `${namespace}/${name}`,
        error: describeApiError(k8s, e),
      });
    }
  }
}
