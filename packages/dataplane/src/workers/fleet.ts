/**
 * `--workers N`: the proxy on N processes that share its listeners (Node's cluster module, each
 * worker accepting on the shared sockets), so that one pod uses as many
 * cores as its CPU limit gives it. The primary runs the controller and the admin and API
 * listeners; every worker gets the same cookie key and every table the primary accepts, so any
 * worker gives a request the same answer. A worker that dies is replaced, with the table in
 * force, and the others serve on meanwhile.
 *
 * Metrics are the workers' together (prom-client's cluster aggregation: counters and
 * histograms summed; `tether_route_table_loaded` is the lowest of them, 1 once all have it).
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from '../logger';
import type { ProxyAddresses } from '../proxy/options';
import type { AcceptedRouteTable } from '../table/types';
import { isFromWorker, WORKER_ENV, type FromWorker, type ToWorker } from './messages';

export interface FleetOptions {
  count: number;
  cookieKey: Buffer;
  logger: Logger;
  /** The Service ports the workers could not open changed. */
  onPortsChanged?: () => void;
}

interface WorkerState {
  worker: Worker;
  /** The version of the last table the worker took. */
  version: string | undefined;
  listening: boolean;
}

export class ProxyFleet {
  readonly #options: FleetOptions;
  readonly #workers = new Map<number, WorkerState>();
  readonly #aggregator = new AggregatorRegistry();
  #table: AcceptedRouteTable | undefined;
  #addresses: ProxyAddresses = {};
  #ports: ReadonlyMap<string, string> = new Map();
  #stopping = false;

  constructor(options: FleetOptions) {
    this.#options = options;
    // Every worker accepts on the shared socket itself (as nginx's workers do) rather than
    // being handed connections by this process: a connection handed to a worker that has just
    // died would be lost, while one waiting in the shared backlog goes to a live worker.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ serialization: 'advanced' });
  }

  /** Forks the workers; resolves once every one listens, with their (shared) addresses. */
  async start(): Promise<ProxyAddresses> {
    await Promise.all(Array.from({ length: this.#options.count }, () => this.#fork()));
    return this.#addresses;
  }

  get addresses(): ProxyAddresses {
    return this.#addresses;
  }

  /** Every worker listens and serves the table in force. */
  get ready(): boolean {
    const version = this.#table?.version;
    if (version === undefined || this.#workers.size < this.#options.count) return false;
    for (const w of this.#workers.values()) if (!w.listening || w.version !== version) return false;
    return true;
  }

  /** Service ports of the table in force that the workers could not open. */
  get servicePortProblems(): ReadonlyMap<string, string> {
    return this.#ports;
  }

  /** Hands an accepted table to every worker, and to every worker forked later. */
  swap(table: AcceptedRouteTable): void {
    this.#table = table;
    for (const w of this.#workers.values())
      if (w.listening) this.#send(w.worker, { type: 'tether:table', table });
  }

  /** The workers' metrics together, in the Prometheus text format. */
  metrics(): Promise<string> {
    return this.#aggregator.clusterMetrics();
  }

  get contentType(): string {
    return this.#aggregator.contentType;
  }

  #fork(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = cluster.fork({ [WORKER_ENV]: '1' });
      const state: WorkerState = { worker, version: undefined, listening: false };
      this.#workers.set(worker.id, state);
      const onEarlyExit = (code: number | null): void =>
        reject(
          new Error(`proxy worker ${worker.id} exited with ${String(code)} before it listened`),
        );
      worker.once('exit', onEarlyExit);
      worker.on('message', (message: unknown) => {
        if (!isFromWorker(message)) return;
        if (message.type === 'tether:listening') {
          worker.off('exit', onEarlyExit);
          worker.once('exit', (code, signal) => this.#exited(state, code, signal));
          state.listening = true;
          this.#addresses = message.addresses;
          if (this.#table) this.#send(worker, { type: 'tether:table', table: this.#table });
          resolve();
        } else this.#onMessage(state, message);
      });
      worker.once('online', () =>
        this.#send(worker, { type: 'tether:start', cookieKey: this.#options.cookieKey }),
      );
    });
  }

  #onMessage(state: WorkerState, message: FromWorker): void {
    if (message.type === 'tether:swapped') state.version = message.version;
    else if (message.type === 'tether:ports') {
      const before = [...this.#ports].join();
      this.#ports = new Map(message.problems);
      if ([...this.#ports].join() !== before) this.#options.onPortsChanged?.();
    } else if (message.type === 'tether:refused')
      this.#options.logger.error(
        { worker: state.worker.id, version: message.version, reason: message.message },
        'a proxy worker refused a table the primary accepted',
      );
  }

  #exited(state: WorkerState, code: number | null, signal: string | null): void {
    this.#workers.delete(state.worker.id);
    if (this.#stopping) return;
    this.#options.logger.error(
      { worker: state.worker.id, code, signal },
      'proxy worker died: starting another; the others serve meanwhile',
    );
    this.#fork().catch((err: unknown) =>
      this.#options.logger.error(
        { err: { message: err instanceof Error ? err.message : String(err) } },
        'could not replace a proxy worker',
      ),
    );
  }

  #send(worker: Worker, message: ToWorker): void {
    if (worker.isConnected()) worker.send(message);
  }

  /** Graceful: each worker drains as a single proxy does, then exits. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#workers.values()].map(
      ({ worker }) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          worker.once('exit', () => resolve());
          this.#send(worker, { type: 'tether:stop' });
        }),
    );
    await Promise.all(exits);
  }
}
