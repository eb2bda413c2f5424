/**
 * The stand-in Kubernetes API server: an in-process HTTP server on 127.0.0.1 that the real
 * `@kubernetes/client-node` and `kubectl` talk to. See README.md beside this file for what it
 * does and does not implement.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceApi } from './api';
import { RESOURCES, resourceForKind } from './catalogue';
import { RequestHandler, type RequestInfo } from './http';
import { parseFilter } from './query';
import { OPTIONAL_GROUPS, type OptionalGroup, type ResourceDef } from './resource';
import { ApiError, badRequest, status } from './status';
import { Store, type ChangeType } from './store';
import { isObject, type Json, type JsonObject } from './types';

export interface ApiServerOptions {
  /** Port to listen on; 0 (the default) picks a free one. Restarts keep the port. */
  port?: number;
  /** Optional API groups ("installed CRDs"); default: all of them. */
  optionalGroups?: readonly OptionalGroup[];
  /** Changes kept per resource for watches to resume from; default 1000. */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them; default 1000 ms; 0 disables. */
  bookmarkIntervalMs?: number;
  /** Watch duration when the client gives no timeoutSeconds; default 1800 s, as the real server's minimum. */
  defaultWatchTimeoutSeconds?: number;
  /** Create a missing namespace on the first namespaced create (default true); false answers 404 like a real cluster. */
  autoCreateNamespaces?: boolean;
  /** Largest request body accepted; default 3 MiB, as the real server. */
  maxBodyBytes?: number;
  /** Requests kept in `requests`; default 10 000. */
  requestLogLimit?: number;
  /** Clock for creationTimestamp, deletionTimestamp and table ages. */
  now?: () => Date;
}

/** One injected failure; the first matching rule with times left applies. */
export interface FailureRule {
  method?: string;
  /** Matched against the path and query: a string is a substring, a RegExp is tested. */
  path?: string | RegExp;
  /** Only watch requests (true) or only non-watch requests (false). */
  watch?: boolean;
  /** How many requests this rule applies to; default 1, Infinity for all. */
  times?: number;
  /** Wait before answering (or before failing, when `status` is also set). */
  delayMs?: number;
  /** Answer with a Status of this code instead of serving the request. */
  status?: number;
  reason?: string;
  message?: string;
  /** Destroy the connection without an answer. */
  resetConnection?: boolean;
}

export interface RequestRecord extends RequestInfo {
  method: string;
  path: string;
  query: string;
  status: number;
  userAgent: string;
  /** Set when the answer came from an injected failure. */
  injected: boolean;
}

export interface ObjectChange {
  type: ChangeType;
  /** The object as its primary API shows it (core/v1 for Events). */
  object: JsonObject;
}

const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function primaryDef(storage: string): ResourceDef | undefined {
  return RESOURCES.find((def) => def.storage === storage);
}

function pathMatches(rule: FailureRule, target: string): boolean {
  if (rule.path === undefined) return true;
  return typeof rule.path === 'string' ? target.includes(rule.path) : rule.path.test(target);
}

export class StandInApiServer {
  private readonly store: Store;
  private readonly api: ResourceApi;
  private readonly handler: RequestHandler;
  private readonly enabledGroups: Set<OptionalGroup>;
  private readonly sockets = new Set<Socket>();
  private readonly failures: FailureRule[] = [];
  private readonly log: RequestRecord[] = [];
  private readonly requestLogLimit: number;
  private readonly tempDirs: string[] = [];
  private server: Server | undefined;
  private boundPort: number;
  private nextClusterIP = 1;
  private nextNodePort = 30000;

  constructor(options: ApiServerOptions = {}) {
    const now = options.now ?? (() => new Date());
    this.boundPort = options.port ?? 0;
    this.requestLogLimit = options.requestLogLimit ?? 10_000;
    this.enabledGroups = new Set(options.optionalGroups ?? OPTIONAL_GROUPS);
    this.store = new Store(options.historyLimit ?? 1000);
    const autoCreate = options.autoCreateNamespaces ?? true;
    this.api = new ResourceApi(
      this.store,
      {
        clusterIP: () => {
          const index = this.nextClusterIP++;
          return `10.96.${Math.floor(index / 254) % 256}.${(index % 254) + 1}`;
        },
        nodePort: () => (this.nextNodePort > 32767 ? 30000 : this.nextNodePort++),
        now,
      },
      { autoCreateNamespaces: () => autoCreate },
    );
    this.handler = new RequestHandler(this.store, this.api, {
      enabledGroups: this.enabledGroups,
      maxBodyBytes: options.maxBodyBytes ?? 3 * 1024 * 1024,
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000,
      defaultWatchTimeoutSeconds: options.defaultWatchTimeoutSeconds ?? 1800,
      now,
      serverAddress: () => `127.0.0.1:${this.boundPort}`,
    });
    for (const name of DEFAULT_NAMESPACES)
      this.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────

  /** Starts listening (again, on the same port after a stop). */
  async start(): Promise<void> {
    if (this.server !== undefined) return;
    const server = createServer((request, response) => void this.onRequest(request, response));
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /**
   * Stops listening and cuts every open connection, watches included, like an API server
   * that goes away. The objects stay: `start()` brings the same state back on the same port.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    for (const watch of [...this.handler.openWatches]) watch.close();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Stops the server and removes the kubeconfig files it wrote. */
  async close(): Promise<void> {
    await this.stop();
    for (const dir of this.tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  /** The current (latest) resourceVersion of the store. */
  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  // ── client configuration ────────────────────────────────────────────────────────────────

  /** A kubeconfig (JSON, which is valid YAML) for kubectl and `KubeConfig.loadFromString`. */
  kubeconfig(namespace = 'default'): string {
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'tether-testkit', cluster: { server: this.url, 'insecure-skip-tls-verify': true } },
      ],
      users: [{ name: 'tether-testkit', user: {} }],
      contexts: [
        {
          name: 'tether-testkit',
          context: { cluster: 'tether-testkit', user: 'tether-testkit', namespace },
        },
      ],
      'current-context': 'tether-testkit',
    });
  }

  /** Writes `kubeconfig()` to a temporary file (removed by `close()`) and returns its path. */
  writeKubeconfig(namespace = 'default'): string {
    const dir = mkdtempSync(join(tmpdir(), 'tether-apiserver-'));
    this.tempDirs.push(dir);
    const path = join(dir, 'kubeconfig');
    writeFileSync(path, this.kubeconfig(namespace), { mode: 0o600 });
    return path;
  }

  /** The shape `KubeConfig.loadFromOptions` takes (plain http needs skipTLSVerify there). */
  kubeConfigOptions(namespace = 'default'): {
    clusters: { name: string; server: string; skipTLSVerify: boolean }[];
    users: { name: string }[];
    contexts: { name: string; cluster: string; user: string; namespace: string }[];
    currentContext: string;
  } {
    return {
      clusters: [{ name: 'tether-testkit', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'tether-testkit' }],
      contexts: [
        { name: 'tether-testkit', cluster: 'tether-testkit', user: 'tether-testkit', namespace },
      ],
      currentContext: 'tether-testkit',
    };
  }

  // ── test controls ───────────────────────────────────────────────────────────────────────

  /** Installs (true) or removes (false) an optional API group; removing deletes its objects. */
  setGroupEnabled(group: OptionalGroup, enabled: boolean): void {
    if (enabled) {
      this.enabledGroups.add(group);
      return;
    }
    if (!this.enabledGroups.has(group)) return;
    for (const watch of [...this.handler.openWatches]) {
      if (watch.def.optionalGroup === group) watch.close();
    }
    for (const def of RESOURCES) if (def.optionalGroup === group) this.api.purge(def);
    this.enabledGroups.delete(group);
  }

  isGroupEnabled(group: OptionalGroup): boolean {
    return this.enabledGroups.has(group);
  }

  /** Adds a failure rule (see FailureRule). */
  injectFailure(rule: FailureRule): void {
    this.failures.push({ ...rule, times: rule.times ?? 1 });
  }

  clearFailures(): void {
    this.failures.length = 0;
  }

  /** Ends every open watch stream cleanly from the server side; returns how many. */
  closeWatches(): number {
    const open = [...this.handler.openWatches];
    for (const watch of open) watch.close();
    return open.length;
  }

  get openWatchCount(): number {
    return this.handler.openWatches.size;
  }

  /** Forgets the change history (of one resource, by plural, or all): older resume points get 410. */
  compact(plural?: string): void {
    if (plural === undefined) {
      this.store.compact();
      return;
    }
    const def = RESOURCES.find((candidate) => candidate.plural === plural);
    if (def !== undefined) this.store.compact(def.storage);
  }

  setHistoryLimit(limit: number): void {
    this.store.setHistoryLimit(limit);
  }

  /** The requests served so far (newest last, bounded by `requestLogLimit`). */
  get requests(): readonly RequestRecord[] {
    return this.log;
  }

  clearRequests(): void {
    this.log.length = 0;
  }

  /** Calls `listener` on every change, synchronously, after it is stored. */
  onChange(listener: (change: ObjectChange) => void): () => void {
    return this.store.subscribeAll((change) => {
      const def = primaryDef(change.storage);
      if (def !== undefined)
        listener({ type: change.type, object: this.api.toWire(def, change.object) });
    });
  }

  // ── objects, in process (same defaulting and validation as over HTTP) ───────────────────

  private defFor(object: Json): ResourceDef {
    if (
      !isObject(object) ||
      typeof object.apiVersion !== 'string' ||
      typeof object.kind !== 'string'
    ) {
      throw badRequest('an object needs apiVersion and kind');
    }
    const def = resourceForKind(object.apiVersion, object.kind);
    if (def === undefined)
      throw badRequest(`no resource serves ${object.apiVersion} ${object.kind}`);
    return def;
  }

  private lookup(apiVersion: string, kind: string): ResourceDef {
    const def = resourceForKind(apiVersion, kind);
    if (def === undefined) throw badRequest(`no resource serves ${apiVersion} ${kind}`);
    return def;
  }

  /**
   * Creates the object, or replaces it when it exists (ignoring resourceVersion; the stored
   * status is kept, as for any write to the main resource). Returns the stored object.
   */
  apply(object: JsonObject): JsonObject {
    const def = this.defFor(object);
    const metadata = isObject(object.metadata) ? object.metadata : {};
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    const namespace = def.namespaced
      ? typeof metadata.namespace === 'string' && metadata.namespace !== ''
        ? metadata.namespace
        : 'default'
      : '';
    const body: JsonObject = { ...object, metadata: { ...metadata, namespace } };
    if (!def.namespaced) delete (body.metadata as JsonObject).namespace;
    if (name !== '' && this.api.find(def, namespace, name) !== undefined) {
      delete (body.metadata as JsonObject).resourceVersion;
      return this.api.toWire(def, this.api.update(def, namespace, name, body, '', {}).object);
    }
    return this.api.toWire(def, this.api.create(def, namespace, body, {}));
  }

  /** Replaces the status of an existing object. */
  applyStatus(object: JsonObject): JsonObject {
    const def = this.defFor(object);
    const metadata = isObject(object.metadata) ? object.metadata : {};
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    const namespace =
      def.namespaced && typeof metadata.namespace === 'string'
        ? metadata.namespace
        : def.namespaced
          ? 'default'
          : '';
    const body: JsonObject = { ...object, metadata: { ...metadata } };
    delete (body.metadata as JsonObject).resourceVersion;
    return this.api.toWire(def, this.api.update(def, namespace, name, body, 'status', {}).object);
  }

  getObject(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): JsonObject | undefined {
    const def = this.lookup(apiVersion, kind);
    const found = this.api.find(def, def.namespaced ? namespace : '', name);
    return found === undefined ? undefined : this.api.toWire(def, found);
  }

  /** Objects of a kind, optionally in one namespace and filtered by a label selector. */
  listObjects(apiVersion: string, kind: string, namespace = '', labelSelector = ''): JsonObject[] {
    const def = this.lookup(apiVersion, kind);
    const filter = parseFilter(def, namespace, new URLSearchParams({ labelSelector }));
    return this.api.list(def, filter, {}).items.map((object) => this.api.toWire(def, object));
  }

  /** Deletes an object (finalizers still apply); returns false when it did not exist. */
  deleteObject(apiVersion: string, kind: string, namespace: string, name: string): boolean {
    const def = this.lookup(apiVersion, kind);
    const ns = def.namespaced ? namespace : '';
    if (this.api.find(def, ns, name) === undefined) return false;
    this.api.delete(def, ns, name, undefined, {});
    return true;
  }

  // ── HTTP ────────────────────────────────────────────────────────────────────────────────

  private async onRequest(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const record: RequestRecord = {
      verb: 'unknown',
      method: request.method ?? 'GET',
      path: url.pathname,
      query: url.search,
      status: 0,
      userAgent: request.headers['user-agent'] ?? '',
      injected: false,
    };
    this.log.push(record);
    if (this.log.length > this.requestLogLimit) {
      this.log.splice(0, this.log.length - this.requestLogLimit);
    }
    // A watch's status is known when its headers go out, long before the stream ends.
    const noteStatus = (): void => {
      if (record.status === 0 && response.headersSent) record.status = response.statusCode;
    };
    response.on('finish', noteStatus);
    response.on('close', noteStatus);

    const isWatch = /[?&]watch=(true|1)(&|$)/.test(url.search) || url.pathname.includes('/watch/');
    const rule = this.failures.find(
      (candidate) =>
        (candidate.times ?? 1) > 0 &&
        (candidate.method === undefined || candidate.method.toUpperCase() === record.method) &&
        (candidate.watch === undefined || candidate.watch === isWatch) &&
        pathMatches(candidate, url.pathname + url.search),
    );
    if (rule !== undefined) {
      rule.times = (rule.times ?? 1) - 1;
      if (rule.delayMs !== undefined && rule.delayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
      }
      if (rule.resetConnection === true) {
        record.injected = true;
        request.socket.destroy();
        return;
      }
      if (rule.status !== undefined) {
        record.injected = true;
        const failure = new ApiError(
          status(rule.status, rule.reason ?? 'InternalError', rule.message ?? 'injected failure'),
        );
        const text = JSON.stringify(failure.status);
        response.writeHead(rule.status, {
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
        });
        response.end(text);
        return;
      }
    }
    await this.handler.handle(request, response, url, record);
    noteStatus();
  }
}

/** Creates a stand-in API server and starts it. */
export async function startApiServer(options: ApiServerOptions = {}): Promise<StandInApiServer> {
  const server = new StandInApiServer(options);
  await server.start();
  return server;
}
