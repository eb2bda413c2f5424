/**
 * Keeps the status of served objects up to date through their status subresource: Ingress and
 * LoadBalancer Service `status.loadBalancer.ingress` (the proxy's public addresses) and HTTPRoute
 * `status.parents[]` (Accepted and ResolvedRefs for each parent Gateway of ours). Writes only
 * what differs from the object as the caches have it, and only while `isLeader()` says so.
 */
import { parseContext, type KubeObject, type ParseContext } from '@tether/dialects';
import { desiredGatewayStatus } from './gateway-status';
import { servicePortOwners } from './reconcile/streams';
import type { ReconcileListener } from './controller';
import type { ReconcileResult } from './reconcile/reconcile';
import { CONTROLLER_NAME, gatewaysOf } from './serving';
import { backoffDelay } from './sources/kube-backoff';
import type { LogFunction } from './sources/kube';
import {
  currentLoadBalancerIngress,
  currentParents,
  desiredParents,
  loadBalancerIngress,
  sameJson,
  desiredGatewayClassConditions,
} from './status-desired';

/** Where objects are read (informer caches) and status is written: `KubeSource` is one. */
export interface StatusTarget {
  get(kind: string, namespace: string, name: string): KubeObject | undefined;
  /** Every cached object of a kind (only kinds watched now). */
  list?(kind: string): readonly KubeObject[];
  /** A JSON merge patch of the object's status subresource; resolves with the stored object. */
  patchStatus(kind: string, namespace: string, name: string, patch: unknown): Promise<KubeObject>;
}

export interface StatusWriterOptions {
  target: StatusTarget;
  /**
   * The proxy's public addresses (IPs or DNS names) for Ingress `status.loadBalancer`. With
   * none, Ingress status is left alone.
   */
  addresses: readonly string[];
  /** The GatewayClass controller name whose parents we report; default tether.dev/ingress-controller. */
  controllerName?: string;
  /** Checked before every pass and every write; default: always the leader. */
  isLeader?: () => boolean;
  /** Writes in flight at once; default 4. */
  concurrency?: number;
  now?: () => Date;
  log?: LogFunction;
}

export interface StatusStats {
  passes: number;
  writes: number;
  /** 409 answers: the object changed meanwhile; the next reconcile writes again. */
  conflicts: number;
  failures: number;
  /** Passes skipped because this replica is not the leader. */
  notLeader: number;
}

interface Written {
  desired: string;
  before: string | undefined;
  after: string | undefined;
}

/** The Gateway API routes whose parents we report. */
const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute', 'TLSRoute'] as const;
type RouteKind = (typeof ROUTE_KINDS)[number];

function routeKindOf(key: string): RouteKind | undefined {
  return ROUTE_KINDS.find((k) => key.startsWith(`${k}/`));
}

interface Job {
  kind: 'Ingress' | 'Service' | 'GatewayClass' | 'Gateway' | RouteKind;
  namespace: string;
  name: string;
  desired: unknown;
  patch: unknown;
  resourceVersion: string | undefined;
}

function splitKey(key: string): [kind: string, namespace: string, name: string] {
  const [kind = '', namespace = '', ...rest] = key.split('/');
  return [kind, namespace, rest.join('/')];
}

export class StatusWriter {
  readonly stats: StatusStats = { passes: 0, writes: 0, conflicts: 0, failures: 0, notLeader: 0 };
  /** Pass this to the Controller's `listeners`. */
  readonly listener: ReconcileListener = (result) => this.update(result);
  private latest: ReconcileResult | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private failedPasses = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly written = new Map<string, Written>();
  /** Objects whose status we keep (or kept): cleared when they stop being served. */
  private readonly owned = new Set<string>();
  /** Ingresses (as cached) already showing our addresses: not compared again. */
  private readonly upToDate = new WeakSet<KubeObject>();
  private readonly controllerName: string;
  private readonly isLeader: () => boolean;

  constructor(private readonly options: StatusWriterOptions) {
    this.controllerName = options.controllerName ?? CONTROLLER_NAME;
    this.isLeader = options.isLeader ?? (() => true);
  }

  /** Brings status in line with a reconcile result. */
  update(result: ReconcileResult): Promise<void> {
    this.latest = result;
    return this.kick();
  }

  /** Runs again with the latest result: call it when this replica becomes the leader. */
  resync(): Promise<void> {
    return this.kick();
  }

  /** Ends retries; a pass in progress finishes its writes. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.running;
  }

  private kick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    const result = this.latest;
    if (!result) return;
    if (!this.isLeader()) {
      this.stats.notLeader++;
      return;
    }
    this.stats.passes++;
    const gateways = this.gatewayContext();
    const jobs = [
      ...this.loadBalancerJobs(result, 'Ingress'),
      ...this.loadBalancerJobs(result, 'Service'),
      ...this.routeJobs(result, gateways.context),
      ...this.gatewayClassJobs(),
      ...this.gatewayJobs(gateways),
    ];
    let failures = 0;
    let firstFailure = '';
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length && !this.stopped) {
        const job = jobs[next++]!;
        if (!this.isLeader()) return;
        const outcome = await this.write(job);
        if (outcome !== undefined) {
          failures++;
          firstFailure ||= outcome;
        }
      }
    };
    const workers = Math.max(1, Math.min(this.options.concurrency ?? 4, jobs.length));
    await Promise.all(Array.from({ length: workers }, worker));
    if (failures === 0) {
      this.failedPasses = 0;
      return;
    }
    // Nothing else may trigger a reconcile soon: try again by ourselves.
    this.failedPasses++;
    const retryIn = backoffDelay(this.failedPasses);
    this.options.log?.('warn', `could not write the status of ${failures} object(s); retrying`, {
      error: firstFailure,
      retryInMs: retryIn,
    });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.resync(), retryIn);
    this.retryTimer.unref();
  }

  /** Undefined when written (or nothing to do), else the one-line failure. */
  private async write(job: Job): Promise<string | undefined> {
    const key = `${job.kind}/${job.namespace}/${job.name}`;
    try {
      const stored = await this.options.target.patchStatus(
        job.kind,
        job.namespace,
        job.name,
        job.patch,
      );
      this.stats.writes++;
      this.written.set(key, {
        desired: JSON.stringify(job.desired),
        before: job.resourceVersion,
        after: stored?.metadata?.resourceVersion,
      });
      return undefined;
    } catch (e) {
      const status = (e as { status?: unknown }).status;
      this.written.delete(key);
      if (status === 409) {
        this.stats.conflicts++;
        return undefined;
      }
      if (status === 404) return undefined;
      this.stats.failures++;
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** True when we wrote exactly this and the cache has not seen a newer object since. */
  private alreadyWritten(key: string, object: KubeObject, desired: unknown): boolean {
    const w = this.written.get(key);
    if (!w || w.desired !== JSON.stringify(desired)) return false;
    const rv = object.metadata.resourceVersion;
    return rv === w.before || rv === w.after;
  }

  /**
   * `status.loadBalancer.ingress` of the Ingresses we serve, and of the LoadBalancer Services
   * whose own listeners we serve (those whose ports are in the table).
   */
  private loadBalancerJobs(result: ReconcileResult, kind: 'Ingress' | 'Service'): Job[] {
    const desired = loadBalancerIngress(this.options.addresses);
    if (desired.length === 0) return [];
    const served =
      kind === 'Ingress'
        ? new Set(result.served.filter((k) => k.startsWith('Ingress/')))
        : new Set([...servicePortOwners(result.table).values()].flatMap((set) => [...set]));
    const jobs: Job[] = [];
    for (const key of new Set([...served, ...this.owned])) {
      if (!key.startsWith(`${kind}/`)) continue;
      const [, namespace, name] = splitKey(key);
      const object = this.options.target.get(kind, namespace, name);
      if (!object) {
        this.owned.delete(key);
        this.written.delete(key);
        continue;
      }
      if (served.has(key) && this.upToDate.has(object)) continue;
      const current = currentLoadBalancerIngress(object);
      if (served.has(key)) {
        this.owned.add(key);
        if (sameJson(current, desired)) {
          this.upToDate.add(object);
          continue;
        }
        if (this.alreadyWritten(key, object, desired)) continue;
        jobs.push(this.job(kind, object, desired, { loadBalancer: { ingress: desired } }));
      } else {
        // No longer ours: take our addresses away, once.
        this.owned.delete(key);
        this.written.delete(key);
        if (sameJson(current, desired))
          jobs.push(this.job(kind, object, null, { loadBalancer: { ingress: null } }));
      }
    }
    return jobs;
  }

  /** `Accepted` on the GatewayClasses whose controllerName is ours. */
  private gatewayClassJobs(): Job[] {
    const now = (this.options.now ?? (() => new Date()))();
    const jobs: Job[] = [];
    for (const gc of this.options.target.list?.('GatewayClass') ?? []) {
      const spec = gc.spec as { controllerName?: unknown } | undefined;
      if (spec?.controllerName !== this.controllerName) continue;
      const desired = desiredGatewayClassConditions(gc, now);
      const current = (gc.status as { conditions?: unknown } | undefined)?.conditions;
      const key = `GatewayClass//${gc.metadata.name}`;
      if (sameJson(current, desired) || this.alreadyWritten(key, gc, desired)) continue;
      jobs.push(this.job('GatewayClass', gc, desired, { conditions: desired }));
    }
    return jobs;
  }

  /**
   * Our Gateways and what their listeners read (Secrets, ReferenceGrants, Namespaces), as the
   * routes were parsed: the same reading decides where routes attach and what status says.
   */
  private gatewayContext(): { context: ParseContext; ours: KubeObject[] } {
    const list = (kind: string) => this.options.target.list?.(kind) ?? [];
    const ours = gatewaysOf([...list('GatewayClass'), ...list('Gateway')], this.controllerName);
    const objects = [...ours, ...list('Secret'), ...list('ReferenceGrant'), ...list('Namespace')];
    return { context: parseContext(objects), ours };
  }

  /** Gateways of our classes: conditions, addresses, listeners. */
  private gatewayJobs(gateways: { context: ParseContext; ours: KubeObject[] }): Job[] {
    if (gateways.ours.length === 0) return [];
    const now = (this.options.now ?? (() => new Date()))();
    const routes = ROUTE_KINDS.flatMap((kind) => this.options.target.list?.(kind) ?? []);
    const jobs: Job[] = [];
    for (const gateway of gateways.ours) {
      const desired = desiredGatewayStatus({
        gateway,
        context: gateways.context,
        routes,
        addresses: this.options.addresses,
        now,
      });
      const key = `Gateway/${gateway.metadata.namespace ?? ''}/${gateway.metadata.name}`;
      const current = (gateway.status ?? {}) as Record<string, unknown>;
      const currentPart = {
        addresses: current.addresses,
        conditions: current.conditions,
        listeners: current.listeners,
      };
      if (sameJson(currentPart, desired) || this.alreadyWritten(key, gateway, desired)) continue;
      jobs.push(this.job('Gateway', gateway, desired, desired));
    }
    return jobs;
  }

  private routeJobs(result: ReconcileResult, context: ParseContext): Job[] {
    const served = new Set(result.served.filter((k) => routeKindOf(k) !== undefined));
    const now = (this.options.now ?? (() => new Date()))();
    const lookup = (kind: string, namespace: string, name: string) =>
      this.options.target.get(kind, namespace, name);
    const jobs: Job[] = [];
    for (const key of new Set([...served, ...this.owned])) {
      const kind = routeKindOf(key);
      if (!kind) continue;
      const [, namespace, name] = splitKey(key);
      const route = this.options.target.get(kind, namespace, name);
      if (!route) {
        this.owned.delete(key);
        this.written.delete(key);
        continue;
      }
      const isServed = served.has(key);
      if (isServed) this.owned.add(key);
      else this.owned.delete(key);
      const desired = desiredParents(
        route,
        result,
        isServed,
        lookup,
        this.controllerName,
        now,
        context,
      );
      if (sameJson(currentParents(route), desired) || this.alreadyWritten(key, route, desired))
        continue;
      // The list is replaced whole: the resourceVersion makes the write fail (409) rather
      // than drop an entry another controller added meanwhile.
      jobs.push(
        this.job(kind, route, desired, { parents: desired }, route.metadata.resourceVersion),
      );
    }
    return jobs;
  }

  private job(
    kind: Job['kind'],
    object: KubeObject,
    desired: unknown,
    status: unknown,
    precondition?: string,
  ): Job {
    const patch =
      precondition === undefined
        ? { status }
        : { metadata: { resourceVersion: precondition }, status };
    return {
      kind,
      namespace: object.metadata.namespace ?? '',
      name: object.metadata.name,
      desired,
      patch,
      resourceVersion: object.metadata.resourceVersion,
    };
  }
}
