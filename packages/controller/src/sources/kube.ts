/**
 * The Kubernetes source: informers for every resource routing needs, delivering one Snapshot
 * per burst of changes. Custom resources (Gateway API, OpenShift Routes) are watched only
 * while API discovery lists them, and discovery runs again periodically, so a CRD installed
 * later is picked up and one removed is dropped.
 */
import type { KubeObject } from '@tether/dialects';
import type { Diagnostic } from '@tether/model';
import type { Snapshot } from '../snapshot';
import { backoffDelay, type BackoffOptions } from './kube-backoff';
import {
  KubeHttp,
  describeKubeError,
  loadClientNode,
  loadKubeConfig,
  type ClientNode,
  type KubeConfig,
  type KubeConfigSource,
} from './kube-client';
import { discoverOptional } from './kube-discovery';
import { ResilientInformer, type InformerListener, type InformerStats } from './kube-informer';
import {
  WATCHED_RESOURCES,
  objectPath,
  resourceName,
  type WatchedResource,
} from './kube-resources';
import type { Source } from './source';

export type LogFunction = (
  level: 'info' | 'warn' | 'error',
  message: string,
  fields?: Record<string, unknown>,
) => void;

export interface KubeSourceOptions extends KubeConfigSource {
  /**
   * Shortest time between two snapshots: the first change after a quiet spell is delivered at
   * once, later ones in the same burst together when this has passed. Default 25 ms.
   */
  coalesceMs?: number;
  /** How often API discovery runs again to notice CRDs installed or removed; default 30 s. */
  discoveryIntervalMs?: number;
  /** Waits between retries after errors (informers and discovery). */
  backoff?: BackoffOptions;
  /** Server-side watch timeout range in seconds; default 300–600. */
  watchTimeoutSeconds?: readonly [min: number, max: number];
  /** The resources to watch; default WATCHED_RESOURCES. */
  resources?: readonly WatchedResource[];
  log?: LogFunction;
}

export type KubeSourcePhase = 'stopped' | 'connecting' | 'syncing' | 'ready';

export interface KubeSourceState {
  /**
   * `connecting`: discovery has not answered yet; `syncing`: some resource has not been
   * listed yet; `ready`: snapshots are being delivered (some watches may be failing and
   * retrying: see `problems`).
   */
  phase: KubeSourcePhase;
  /** The API server's address. */
  server: string;
  /** Resources watched now. */
  watching: string[];
  /** Resources not listed yet (the first snapshot waits for them). */
  waitingFor: string[];
  /** One line per failing resource (or discovery), while it retries. */
  problems: string[];
  /** Snapshots delivered so far. */
  generation: number;
}

/** A best-effort resource this account may not read: the first snapshot does not wait for it. */
function forbidden(informer: ResilientInformer): boolean {
  return (
    informer.resource.bestEffort === true &&
    (informer.lastStatus === 401 || informer.lastStatus === 403)
  );
}

type SnapshotCallback = (snapshot: Snapshot, problems: readonly Diagnostic[]) => void;

export class KubeSource implements Source {
  private k8s: ClientNode | undefined;
  private kc: KubeConfig | undefined;
  private http: KubeHttp | undefined;
  private readonly informers = new Map<WatchedResource, ResilientInformer>();
  private onSnapshot: SnapshotCallback | undefined;
  private discovered = false;
  private discoveryFailures = 0;
  private discoveryProblem: string | undefined;
  private discoveryTimer: NodeJS.Timeout | undefined;
  private discovering: Promise<void> | undefined;
  private emitTimer: NodeJS.Timeout | undefined;
  private lastEmit = 0;
  private generation = 0;
  private running = false;
  private readonly log: LogFunction;

  constructor(private readonly options: KubeSourceOptions = {}) {
    this.log = options.log ?? (() => undefined);
  }

  /**
   * Loads the kubeconfig (rejecting with a one-line KubeConfigError when it is missing or
   * unusable) and starts discovery and the informers. Resolves at once: an API server that
   * cannot be reached is retried with backoff, and the first snapshot comes when every
   * resource has been listed (`waiting` is true until then).
   */
  async start(onSnapshot: SnapshotCallback): Promise<void> {
    if (this.running) throw new Error('the Kubernetes source is already started');
    this.k8s = await loadClientNode();
    this.kc = await loadKubeConfig(this.options);
    this.http = new KubeHttp(this.kc);
    this.onSnapshot = onSnapshot;
    this.running = true;
    for (const r of this.resources()) if (!r.optional) this.addInformer(r);
    this.scheduleDiscovery(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.onSnapshot = undefined;
    clearTimeout(this.discoveryTimer);
    clearTimeout(this.emitTimer);
    this.discoveryTimer = undefined;
    this.emitTimer = undefined;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
    await this.discovering;
  }

  /** True from start until the first snapshot: the controller is not ready meanwhile. */
  get waiting(): boolean {
    return this.generation === 0;
  }

  get state(): KubeSourceState {
    const informers = [...this.informers.values()];
    const problems = informers
      .filter((i) => i.lastError !== undefined)
      .map((i) => `${i.name}: ${i.lastError}`);
    if (this.discoveryProblem) problems.unshift(`discovery: ${this.discoveryProblem}`);
    const waitingFor = informers.filter((i) => !i.synced).map((i) => i.name);
    return {
      phase: !this.running
        ? 'stopped'
        : !this.discovered
          ? 'connecting'
          : this.generation === 0
            ? 'syncing'
            : 'ready',
      server: this.http?.server ?? '',
      watching: informers.map((i) => i.name),
      waitingFor,
      problems,
      generation: this.generation,
    };
  }

  /** Counters per watched resource, for metrics and tests. */
  get stats(): Record<string, InformerStats> {
    const out: Record<string, InformerStats> = {};
    for (const i of this.informers.values()) out[i.name] = { ...i.stats };
    return out;
  }

  /** Every cached object of a kind (only kinds watched now). */
  list(kind: string): readonly KubeObject[] {
    const lists: (readonly KubeObject[])[] = [];
    for (const [resource, informer] of this.informers)
      if (resource.kind === kind) lists.push(informer.list());
    // One watch per kind but Secrets (one per type): its own list, not a copy.
    return lists.length === 1 ? lists[0]! : lists.flat();
  }

  /** An object from the caches, by kind (only kinds watched now). */
  get(kind: string, namespace: string, name: string): KubeObject | undefined {
    for (const [resource, informer] of this.informers) {
      if (resource.kind !== kind) continue;
      const found = informer.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  /**
   * A JSON merge patch of an object's status subresource (for the status writer); resolves
   * with the stored object, rejects with a KubeRequestError (status 409 on a stale
   * resourceVersion precondition, 404 when the object is gone).
   */
  async patchStatus(
    kind: string,
    namespace: string,
    name: string,
    patch: unknown,
  ): Promise<KubeObject> {
    const http = this.http;
    if (!http) throw new Error('the Kubernetes source is not started');
    const resource = this.resources().find((r) => r.kind === kind);
    if (!resource) throw new Error(`${kind} is not a kind this source knows`);
    return (await http.json({
      method: 'PATCH',
      path: objectPath(resource, namespace, name, 'status'),
      body: patch,
      contentType: 'application/merge-patch+json',
    })) as KubeObject;
  }

  private resources(): readonly WatchedResource[] {
    return this.options.resources ?? WATCHED_RESOURCES;
  }

  private readonly listener: InformerListener = {
    changed: () => this.scheduleSnapshot(),
    synced: () => this.scheduleSnapshot(),
    failed: (informer, message, retryInMs, status) => {
      // One line per new problem, not one per retry.
      if (this.logged.get(informer) !== message) {
        this.logged.set(informer, message);
        this.logFailure(informer, message, retryInMs);
      }
      // A custom resource that went away: discovery drops its informer.
      if (status === 404 && informer.resource.optional) this.scheduleDiscovery(0);
      // A best-effort resource we may not read no longer holds the first snapshot back.
      if (forbidden(informer)) this.scheduleSnapshot();
    },
    recovered: (informer) => {
      this.logged.delete(informer);
      this.log('info', `watching ${informer.name} again`);
    },
  };

  private readonly logged = new Map<ResilientInformer, string>();

  private logFailure(informer: ResilientInformer, message: string, retryInMs: number): void {
    const fields = { resource: informer.name, retryInMs };
    if (this.generation === 0)
      this.log('warn', `waiting for the API server: ${message}; retrying`, fields);
    else this.log('warn', `watch of ${informer.name} failed: ${message}; retrying`, fields);
  }

  private addInformer(resource: WatchedResource): void {
    if (!this.k8s || !this.kc || !this.http || this.informers.has(resource)) return;
    const informer = new ResilientInformer(this.k8s, this.kc, this.http, resource, this.listener, {
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      ...(this.options.watchTimeoutSeconds
        ? { watchTimeoutSeconds: this.options.watchTimeoutSeconds }
        : {}),
    });
    this.informers.set(resource, informer);
    informer.start();
  }

  private scheduleDiscovery(delayMs: number): void {
    if (!this.running) return;
    clearTimeout(this.discoveryTimer);
    this.discoveryTimer = setTimeout(() => {
      this.discoveryTimer = undefined;
      this.discovering = this.discover();
    }, delayMs);
    // Periodic rediscovery must not keep a process alive on its own.
    if (this.discovered) this.discoveryTimer.unref();
  }

  private async discover(): Promise<void> {
    const http = this.http;
    if (!http || !this.running) return;
    let found: Set<WatchedResource>;
    try {
      found = await discoverOptional(http, this.resources());
    } catch (e) {
      if (!this.running) return;
      const message = describeKubeError(e, http.server);
      const status = (e as { status?: unknown }).status;
      if (!this.discovered && (status === 401 || status === 403 || status === 404)) {
        // The server answers but refuses discovery: serve the built-in resources rather than
        // never becoming ready; custom resources are looked for again later.
        this.log('warn', `API discovery refused (${message}); watching built-in resources only`);
        found = new Set();
      } else {
        this.discoveryFailed(message);
        return;
      }
    }
    if (!this.running) return;
    if (this.discoveryProblem) this.log('info', `API discovery works again at ${http.server}`);
    this.discoveryFailures = 0;
    this.discoveryProblem = undefined;
    await this.watchDiscovered(found);
  }

  private discoveryFailed(message: string): void {
    this.discoveryFailures++;
    const retryIn = backoffDelay(this.discoveryFailures, this.options.backoff);
    if (message !== this.discoveryProblem)
      this.log(
        'warn',
        `${this.discovered ? 'API discovery failed' : 'waiting for the API server'}: ${message}; retrying`,
        { retryInMs: retryIn },
      );
    this.discoveryProblem = message;
    this.scheduleDiscovery(
      this.discovered ? Math.max(retryIn, this.options.discoveryIntervalMs ?? 30_000) : retryIn,
    );
  }

  /** Starts informers for custom resources served now, stops those of resources gone. */
  private async watchDiscovered(found: ReadonlySet<WatchedResource>): Promise<void> {
    const removed: Promise<void>[] = [];
    for (const r of this.resources()) {
      if (!r.optional) continue;
      const watched = this.informers.get(r);
      if (found.has(r) && !watched) {
        if (this.discovered) this.log('info', `${resourceName(r)} is served now; watching it`);
        this.addInformer(r);
      } else if (!found.has(r) && watched) {
        this.log('info', `${resourceName(r)} is no longer served; its objects are dropped`);
        this.informers.delete(r);
        removed.push(watched.stop());
      }
    }
    this.discovered = true;
    await Promise.all(removed);
    // Also covers the case where every required informer had listed before discovery answered.
    this.scheduleSnapshot();
    this.scheduleDiscovery(this.options.discoveryIntervalMs ?? 30_000);
  }

  private allSynced(): boolean {
    if (!this.discovered) return false;
    for (const i of this.informers.values()) if (!i.synced && !forbidden(i)) return false;
    return true;
  }

  private scheduleSnapshot(): void {
    if (!this.running || this.emitTimer !== undefined) return;
    // Before the first snapshot, nothing goes out until every resource is listed.
    if (this.generation === 0 && !this.allSynced()) return;
    const coalesce = this.options.coalesceMs ?? 25;
    const wait = Math.max(0, this.lastEmit + coalesce - Date.now());
    this.emitTimer = setTimeout(() => {
      this.emitTimer = undefined;
      this.emit();
    }, wait);
  }

  private emit(): void {
    const deliver = this.onSnapshot;
    if (!deliver) return;
    // One copy at its final size: snapshots of tens of thousands of objects go out on every
    // change, and growing one by push allocated several times its size each time.
    const lists = [...this.informers.values()].map((informer) => informer.list());
    const objects = ([] as KubeObject[]).concat(...lists);
    this.lastEmit = Date.now();
    this.generation++;
    if (this.generation === 1)
      this.log('info', `listed every resource from ${this.http?.server ?? ''}`, {
        objects: objects.length,
        resources: [...this.informers.values()].map((i) => i.name),
      });
    deliver({ generation: this.generation, objects }, []);
  }
}
