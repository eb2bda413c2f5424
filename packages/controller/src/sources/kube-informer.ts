/**
 * One watched resource: a client-node informer (`ListWatch`, what `makeInformer` builds, plus
 * a field selector) that survives what client-node's informer does not:
 *
 * - it stops on any error but 410: we restart it after an exponential, jittered, capped wait;
 * - it lists again at once, with no wait, after every 410 Expired: a server that keeps
 *   answering 410 would make it spin, so consecutive expiries (and watches that end at once
 *   without delivering anything) pace its next request with the same backoff;
 * - it never asks for bookmarks and watches without a timeout: we ask for bookmarks (fewer
 *   410s after quiet periods) and a 5–10 minute server-side timeout, as client-go does.
 *
 * Lists are plain JSON requests (the generated clients would turn timestamps into Dates and
 * objects into class instances); watches go through client-node's `Watch`.
 */
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import type { KubeObject } from '@tether/dialects';
import { backoffDelay, sleep, type BackoffOptions } from './kube-backoff';
import { describeKubeError, type ClientNode, type KubeConfig, type KubeHttp } from './kube-client';
import { apiVersionOf, collectionPath, resourceName, type WatchedResource } from './kube-resources';

/** Where `kubectl apply` keeps the manifest it last applied. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A watch that lasted this long was healthy, whatever it delivered. */
const HEALTHY_WATCH_MS = 5000;

export interface InformerListener {
  /** An object was added, changed or deleted (including by a relist). */
  changed(informer: ResilientInformer): void;
  /** The first list has been applied: the cache is complete from now on. */
  synced(informer: ResilientInformer): void;
  /** The informer failed and will restart after `retryInMs`. */
  failed(informer: ResilientInformer, message: string, retryInMs: number, status?: number): void;
  /** It works again after failures. */
  recovered(informer: ResilientInformer): void;
}

export interface InformerOptions {
  backoff?: BackoffOptions;
  /** Server-side watch timeout range in seconds; default 300–600. */
  watchTimeoutSeconds?: readonly [min: number, max: number];
}

export interface InformerStats {
  lists: number;
  watches: number;
  /** Restarts after errors. */
  restarts: number;
  /** 410 Expired answers. */
  expired: number;
  /** Requests that were held back because the previous ones failed in a row. */
  paced: number;
}

type WatchCallback = (phase: string, object: unknown, raw?: unknown) => void;

function statusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown; status?: unknown; code?: unknown } | undefined;
  for (const value of [e?.statusCode, e?.status, e?.code])
    if (typeof value === 'number') return value;
  return undefined;
}

export class ResilientInformer {
  readonly name: string;
  readonly stats: InformerStats = { lists: 0, watches: 0, restarts: 0, expired: 0, paced: 0 };
  /** The one-line message of the failure in progress; undefined while healthy. */
  lastError: string | undefined;
  /** The HTTP status of that failure, when the server answered. */
  lastStatus: number | undefined;
  private readonly listWatch: K8s.ListWatch<K8s.KubernetesObject>;
  /** The cache as a list, built when asked for and kept in step with updates. */
  private listed: KubeObject[] | undefined;
  private readonly kind: string;
  private readonly apiVersion: string;
  private failures = 0;
  /** Wait before the next list or watch that the informer starts by itself. */
  private pace = 0;
  private epoch = 0;
  private running = false;
  private isSynced = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private sleeps = new AbortController();
  /** The kept keys of each object, for resources with `keepData` (see keptUnchanged). */
  private readonly keptData = new Map<string, string>();

  constructor(
    k8s: ClientNode,
    kc: KubeConfig,
    private readonly http: KubeHttp,
    readonly resource: WatchedResource,
    private readonly listener: InformerListener,
    private readonly options: InformerOptions = {},
  ) {
    this.name = resourceName(resource);
    this.kind = resource.kind;
    this.apiVersion = apiVersionOf(resource);
    const inner = new k8s.Watch(kc);
    const paced: K8s.Watch = {
      config: kc,
      watch: (path, query, callback, done) => this.watch(inner, path, query, callback, done),
    };
    this.listWatch = new k8s.ListWatch(
      collectionPath(resource),
      paced,
      () => this.listObjects(),
      false,
      undefined,
      resource.fieldSelector,
    );
    const changed = (): void => listener.changed(this);
    this.listWatch.on('add', (object: K8s.KubernetesObject) => {
      this.listed?.push(object as KubeObject);
      this.keptUnchanged(object as KubeObject);
      changed();
    });
    this.listWatch.on('update', (object: K8s.KubernetesObject) => {
      this.patchListed(object as KubeObject, true);
      // Of a Secret kept for one key, a change elsewhere (a rotated token) changes nothing here.
      if (!this.keptUnchanged(object as KubeObject)) changed();
    });
    this.listWatch.on('delete', (object: K8s.KubernetesObject) => {
      this.patchListed(object as KubeObject, false);
      this.keptData.delete(`${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`);
      changed();
    });
    this.listWatch.on('error', (err: unknown) => this.onError(err));
  }

  get synced(): boolean {
    return this.isSynced;
  }

  /**
   * Every object in the cache (raw JSON as the API server sent it, kind and apiVersion set).
   * The list is ours and changes with the cache: read it, do not keep it.
   */
  list(): readonly KubeObject[] {
    this.listed ??= this.listWatch.list() as unknown[] as KubeObject[];
    return this.listed;
  }

  /**
   * The list follows the cache rather than being listed again on every change (listing tens
   * of thousands of objects allocated megabytes per change): an updated object takes its old
   * place, a new one goes at the end, a deleted one leaves.
   */
  /**
   * Whether the kept keys of an object (`keepData`) are what they were at its last change;
   * remembers them. Always false for resources kept whole.
   */
  private keptUnchanged(object: KubeObject): boolean {
    if (!this.resource.keepData) return false;
    const key = `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    const kept = JSON.stringify([object.data ?? null, object.stringData ?? null]);
    const same = this.keptData.get(key) === kept;
    this.keptData.set(key, kept);
    return same;
  }

  private patchListed(object: KubeObject, updated: boolean): void {
    const listed = this.listed;
    if (!listed) return;
    const { name, namespace = '' } = object.metadata;
    const at = listed.findIndex(
      (o) => o.metadata.name === name && (o.metadata.namespace ?? '') === namespace,
    );
    if (at < 0) this.listed = undefined;
    else if (updated) listed[at] = object;
    else listed.splice(at, 1);
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.listWatch.get(name, namespace) as KubeObject | undefined;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.epoch++;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.sleeps.abort();
    this.sleeps = new AbortController();
    await this.listWatch.stop();
  }

  private run(): void {
    this.epoch++;
    this.listWatch.start().catch((e: unknown) => this.onError(e));
  }

  private current(epoch: number): boolean {
    return this.running && epoch === this.epoch;
  }

  /** Consumes the pending pause before a request the informer makes by itself. */
  private async paced(): Promise<void> {
    const wait = this.pace;
    this.pace = 0;
    if (wait <= 0) return;
    this.stats.paced++;
    await sleep(wait, this.sleeps.signal);
  }

  private async listObjects(): Promise<K8s.KubernetesListObject<K8s.KubernetesObject>> {
    const epoch = this.epoch;
    await this.paced();
    if (!this.current(epoch)) throw new Error('stopped');
    const selector = this.resource.fieldSelector;
    const path = `${collectionPath(this.resource)}${selector ? `?fieldSelector=${encodeURIComponent(selector)}` : ''}`;
    const body = (await this.http.json({ path, timeoutMs: 120_000 })) as {
      metadata?: { resourceVersion?: unknown };
      items?: unknown;
    };
    if (!this.current(epoch)) throw new Error('stopped');
    this.stats.lists++;
    const items = Array.isArray(body?.items) ? body.items : [];
    for (const item of items) {
      this.normalise(item);
      // A first list sends no update to compare with: remember what the first kept keys are.
      // (Not on a relist: its updates are compared with what was kept before.)
      if (this.resource.keepData) {
        const o = item as KubeObject;
        const key = `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
        if (!this.keptData.has(key)) this.keptUnchanged(o);
      }
    }
    const version = body?.metadata?.resourceVersion;
    return {
      metadata: { resourceVersion: typeof version === 'string' ? version : '' },
      items: items as K8s.KubernetesObject[],
    };
  }

  /**
   * Built-in lists leave kind and apiVersion out of their items: set them. Two things are
   * large and never read, and every cached object would carry them: managedFields, and the
   * copy of the whole manifest `kubectl apply` keeps in an annotation (kilobytes per object
   * on real clusters). Both are dropped, in place (the object is our own parse).
   */
  private normalise(object: unknown): void {
    if (typeof object !== 'object' || object === null) return;
    const o = object as { kind?: unknown; apiVersion?: unknown; metadata?: unknown };
    if (o.kind === undefined) o.kind = this.kind;
    if (o.apiVersion === undefined) o.apiVersion = this.apiVersion;
    const metadata = o.metadata as { managedFields?: unknown; annotations?: unknown } | undefined;
    if (!metadata || typeof metadata !== 'object') return;
    if (metadata.managedFields !== undefined) delete metadata.managedFields;
    const annotations = metadata.annotations as Record<string, unknown> | undefined;
    if (annotations && typeof annotations === 'object' && LAST_APPLIED in annotations)
      Reflect.deleteProperty(annotations, LAST_APPLIED);
    const keep = this.resource.keepData;
    if (keep) {
      const holder = object as Record<string, unknown>;
      for (const field of ['data', 'stringData']) {
        const data = holder[field];
        if (typeof data !== 'object' || data === null) continue;
        for (const key of Object.keys(data))
          if (!keep.includes(key)) Reflect.deleteProperty(data, key);
      }
    }
  }

  private async watch(
    inner: K8s.Watch,
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: WatchCallback,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const epoch = this.epoch;
    // The informer calls watch right after applying a list: from here the cache is complete.
    if (!this.isSynced && this.current(epoch)) {
      this.isSynced = true;
      this.listener.synced(this);
    }
    await this.paced();
    if (!this.current(epoch)) return new AbortController();
    const [min, max] = this.options.watchTimeoutSeconds ?? [300, 600];
    const timeoutSeconds = Math.round(min + Math.random() * Math.max(0, max - min));
    const started = Date.now();
    let delivered = false;
    let expired = false;
    this.stats.watches++;
    return inner.watch(
      path,
      { ...query, allowWatchBookmarks: true, timeoutSeconds },
      (phase, object: unknown, raw: unknown) => {
        if (phase === 'ERROR') {
          if (statusOf(object) === 410) expired = true;
        } else {
          this.normalise(object);
          if (!delivered) {
            delivered = true;
            this.healthy();
          }
        }
        callback(phase, object, raw);
      },
      (err: unknown) => {
        if (this.current(epoch)) {
          if (expired || statusOf(err) === 410) {
            this.stats.expired++;
            this.unhealthy();
          } else if (!err) {
            if (Date.now() - started >= HEALTHY_WATCH_MS) this.healthy();
            else if (!delivered) this.unhealthy();
          }
        }
        done(err);
      },
    );
  }

  private healthy(): void {
    this.failures = 0;
    if (this.lastError !== undefined) {
      this.lastError = undefined;
      this.lastStatus = undefined;
      this.listener.recovered(this);
    }
  }

  /** The informer goes on by itself; from the second failure in a row its next request waits. */
  private unhealthy(): void {
    this.failures++;
    this.pace = this.failures >= 2 ? backoffDelay(this.failures - 1, this.options.backoff) : 0;
  }

  private onError(err: unknown): void {
    if (!this.running) return;
    this.failures++;
    this.stats.restarts++;
    const retryIn = backoffDelay(this.failures, this.options.backoff);
    this.lastError = describeKubeError(err, this.http.server);
    this.lastStatus = statusOf(err);
    this.listener.failed(this, this.lastError, retryIn, statusOf(err));
    clearTimeout(this.restartTimer);
    const epoch = this.epoch;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.current(epoch)) this.run();
    }, retryIn);
  }
}
