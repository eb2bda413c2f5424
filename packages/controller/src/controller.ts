import { error, warning, type Diagnostic } from '@tether/model';
import type { RouteTable } from '@tether/dataplane';
import { ReconcileState } from './reconcile/state';
import { servicePortOwners } from './reconcile/streams';
import { reconcile, type ReconcileResult } from './reconcile/reconcile';
import type { ServingOptions } from './serving';
import type { Snapshot } from './snapshot';
import type { Source } from './sources/source';

/** Where new tables go: the proxy in the same process. */
export interface TableSink {
  /** Validates and installs a table; throws (keeping the old one) when it is invalid. */
  swap(table: RouteTable): void;
  /** Service ports of the table in force that could not be opened (`TCP:80`), with why. */
  readonly servicePortProblems?: ReadonlyMap<string, string>;
}

/** Told about every reconcile: the event recorder, status writer, logs. */
export type ReconcileListener = (
  result: ReconcileResult,
  problems: readonly Diagnostic[],
) => void | Promise<void>;

/** A `PortUnavailable` warning on each Service whose port in the table could not be opened. */
function withPortProblems(
  result: ReconcileResult,
  problems: ReadonlyMap<string, string> | undefined,
): ReconcileResult {
  if (!problems || problems.size === 0) return result;
  const owners = servicePortOwners(result.table);
  const diagnostics: Diagnostic[] = [];
  for (const [key, why] of problems) {
    const [protocol, port] = key.split(':');
    for (const service of owners.get(key) ?? []) {
      const [, namespace = '', name = ''] = service.split('/');
      diagnostics.push(
        warning(
          'PortUnavailable',
          `${protocol} port ${port} of Service ${namespace}/${name} is not served: ${why}; its other ports are`,
          {
            dialect: 'kubernetes',
            kind: 'Service',
            namespace,
            name,
            field: `spec.ports[port=${port}]`,
          },
        ),
      );
    }
  }
  return diagnostics.length > 0
    ? { ...result, diagnostics: [...result.diagnostics, ...diagnostics] }
    : result;
}

export interface ControllerOptions {
  source: Source;
  sink: TableSink;
  serving: ServingOptions;
  listeners?: ReconcileListener[];
  log?: (
    level: 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => void;
}

export interface ControllerStats {
  reconciles: number;
  lastReconcileMs: number;
  parseCacheHits: number;
  parseCacheMisses: number;
  /** Reconciles that updated the previous result instead of rebuilding it. */
  updatedInPlace: number;
}

/**
 * Runs reconcile on every snapshot, newest first: snapshots that arrive while one is being
 * handled collapse into one run. Each accepted table is swapped into the proxy; a table the
 * proxy refuses leaves the previous one serving.
 */
export class Controller {
  private latestResult: ReconcileResult | undefined;
  private problems: readonly Diagnostic[] = [];
  private pending: { snapshot: Snapshot; problems: readonly Diagnostic[] } | undefined;
  private scheduled = false;
  private firstTable: Promise<void>;
  private resolveFirst!: () => void;
  private readonly state = new ReconcileState();
  readonly stats: ControllerStats = {
    reconciles: 0,
    lastReconcileMs: 0,
    parseCacheHits: 0,
    parseCacheMisses: 0,
    updatedInPlace: 0,
  };

  constructor(private readonly options: ControllerOptions) {
    this.firstTable = new Promise((resolve) => (this.resolveFirst = resolve));
  }

  /** Starts the source; resolves once the first table is in the proxy. */
  async start(): Promise<void> {
    await this.startSource();
    await this.whenReady();
  }

  /**
   * Starts the source and resolves as soon as it runs (a source that cannot reach its API
   * server keeps retrying); rejects when it cannot start at all (a missing kubeconfig).
   */
  startSource(): Promise<void> {
    return this.options.source.start((snapshot, problems) => this.enqueue(snapshot, problems));
  }

  /** Resolves once the first table is in the proxy. */
  whenReady(): Promise<void> {
    return this.firstTable;
  }

  async stop(): Promise<void> {
    await this.options.source.stop();
  }

  get ready(): boolean {
    return this.latestResult !== undefined;
  }

  get latest(): ReconcileResult | undefined {
    return this.latestResult;
  }

  /** Problems of reading input plus the diagnostics of the latest reconcile. */
  get diagnostics(): Diagnostic[] {
    return [...this.problems, ...(this.latestResult?.diagnostics ?? [])];
  }

  private enqueue(snapshot: Snapshot, problems: readonly Diagnostic[]): void {
    this.pending = { snapshot, problems };
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.runPending());
  }

  private runPending(): void {
    this.scheduled = false;
    const job = this.pending;
    this.pending = undefined;
    if (!job) return;
    const started = process.hrtime.bigint();
    let result: ReconcileResult;
    try {
      result = reconcile(job.snapshot, this.latestResult, {
        ...this.options.serving,
        state: this.state,
      });
    } catch (e) {
      this.options.log?.('error', 'reconcile failed; the previous table stays in force', {
        error: String(e),
      });
      return;
    }
    try {
      this.options.sink.swap(result.table);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.options.log?.(
        'error',
        'the proxy refused the new table; the previous one stays in force',
        { error: message },
      );
      result = {
        ...result,
        diagnostics: [
          ...result.diagnostics,
          error('InvalidObject', `the route table was refused: ${message.slice(0, 600)}`),
        ],
      };
      if (this.latestResult) {
        this.latestResult = { ...this.latestResult, diagnostics: result.diagnostics };
        return;
      }
    }
    result = withPortProblems(result, this.options.sink.servicePortProblems);
    this.stats.reconciles++;
    this.stats.lastReconcileMs = Number(process.hrtime.bigint() - started) / 1e6;
    this.stats.parseCacheHits = this.state.cache.hits;
    this.stats.parseCacheMisses = this.state.cache.misses;
    this.stats.updatedInPlace = this.state.cache.patched;
    this.latestResult = result;
    this.problems = job.problems;
    this.resolveFirst();
    this.notify(result, job.problems);
  }

  /**
   * The proxy opened or failed to open a Service port after the last reconcile: its
   * listeners hear the last result again with the ports' diagnostics brought up to date.
   */
  servicePortsChanged(): void {
    const latest = this.latestResult;
    if (!latest) return;
    const base = {
      ...latest,
      diagnostics: latest.diagnostics.filter((d) => d.reason !== 'PortUnavailable'),
    };
    const result = withPortProblems(base, this.options.sink.servicePortProblems);
    this.latestResult = result;
    this.notify(result, this.problems);
  }

  private notify(result: ReconcileResult, problems: readonly Diagnostic[]): void {
    for (const listener of this.options.listeners ?? []) {
      Promise.resolve(listener(result, problems)).catch((e: unknown) =>
        this.options.log?.('warn', 'a reconcile listener failed', { error: String(e) }),
      );
    }
  }
}
