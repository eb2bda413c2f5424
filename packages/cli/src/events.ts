/**
 * `tether events`: the reconcile problems a user needs to see, like `kubectl events` but only
 * the Events Tether writes — from the cluster, or from a local `tether serve` (`--api`).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import {
  describeApiError,
  eventObjectList,
  eventObjectOf,
  groupEvents,
  KubeConfigError,
  listOurEvents,
  loadClientNode,
  loadKubeConfig,
  networkCodeOf,
  networkText,
  serverOf,
  watchOurEvents,
  type EventObject,
  type EventQuery,
  type EventView,
  type KubeConfig,
} from '@tether/controller';
import { renderData } from './output';
import { eventRow, formatRow, headerRow, widthsOf } from './events-table';

export interface EventsOptions {
  kubeconfig?: string;
  namespace?: string;
  allNamespaces?: boolean;
  for?: string;
  types?: string;
  watch?: boolean;
  /** A local `tether serve`'s API address. */
  api?: string;
  /** The former name of `api`, still read. */
  admin?: string;
  output: 'table' | 'json' | 'yaml';
}

export interface EventsIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface EventsRun {
  /** Ends `--watch` (the command installs SIGINT/SIGTERM handlers when none is given). */
  signal?: AbortSignal;
  /** How often `--watch --api` asks the local server again; default 2 s. */
  pollMs?: number;
  now?: () => number;
  env?: NodeJS.ProcessEnv;
}

/** A problem with the command line or the connection: printed as one line, exit code 1. */
class EventsError extends Error {}

const KINDS: Readonly<Record<string, string>> = {
  ingress: 'Ingress',
  ingresses: 'Ingress',
  ing: 'Ingress',
  service: 'Service',
  services: 'Service',
  svc: 'Service',
  httproute: 'HTTPRoute',
  httproutes: 'HTTPRoute',
  route: 'Route',
  routes: 'Route',
  gateway: 'Gateway',
  gateways: 'Gateway',
  gtw: 'Gateway',
  gatewayclass: 'GatewayClass',
  gatewayclasses: 'GatewayClass',
  gc: 'GatewayClass',
  ingressclass: 'IngressClass',
  ingressclasses: 'IngressClass',
  endpointslice: 'EndpointSlice',
  endpointslices: 'EndpointSlice',
  secret: 'Secret',
  secrets: 'Secret',
  tlsroute: 'TLSRoute',
  tlsroutes: 'TLSRoute',
  grpcroute: 'GRPCRoute',
  grpcroutes: 'GRPCRoute',
  backendtlspolicy: 'BackendTLSPolicy',
  backendtlspolicies: 'BackendTLSPolicy',
  btlspolicy: 'BackendTLSPolicy',
  xbackendtrafficpolicy: 'XBackendTrafficPolicy',
  xbackendtrafficpolicies: 'XBackendTrafficPolicy',
  referencegrant: 'ReferenceGrant',
  referencegrants: 'ReferenceGrant',
  refgrant: 'ReferenceGrant',
};

/** `--for ingress/web` (or `ingresses.networking.k8s.io/web`, `Ingress/web`) → kind and name. */
export function parseFor(value: string): { kind: string; name: string } {
  const match = /^([A-Za-z][A-Za-z0-9.-]*)\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)$/.exec(value.trim());
  if (!match) throw new EventsError(`--for takes KIND/NAME, for example ingress/web`);
  const [, written = '', name = ''] = match;
  const resource = written.split('.')[0] ?? '';
  const kind = KINDS[resource.toLowerCase()] ?? (/^[A-Z]/.test(resource) ? resource : undefined);
  if (!kind)
    throw new EventsError(
      `--for ${value}: unknown kind ${JSON.stringify(resource)}; use one of ingress, service, httproute, route, gateway, …`,
    );
  return { kind, name };
}

/** `--types Warning,normal` → the set of Event types to show (all when not given). */
export function parseTypes(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const types = new Set<string>();
  for (const part of value.split(',')) {
    const t = part.trim().toLowerCase();
    if (t === 'warning') types.add('Warning');
    else if (t === 'normal') types.add('Normal');
    else throw new EventsError(`--types: ${JSON.stringify(part.trim())} is not Normal or Warning`);
  }
  return types;
}

/** The API address as a base URL: `127.0.0.1:9091` and `http://127.0.0.1:9091/` both work. */
export function apiUrl(value: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new EventsError(`--api ${value}: not an address (HOST:PORT or http://HOST:PORT)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new EventsError(`--api ${value}: only http and https addresses`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function isEventView(v: unknown): v is EventView {
  const e = v as Partial<EventView> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    (e.type === 'Warning' || e.type === 'Normal') &&
    typeof e.reason === 'string' &&
    typeof e.note === 'string' &&
    typeof e.count === 'number' &&
    typeof e.object?.kind === 'string' &&
    typeof e.object.name === 'string'
  );
}

/** GET <api>/api/events from a local `tether serve`. */
export async function fetchLocalEvents(base: string, timeoutMs = 5000): Promise<EventView[]> {
  const url = `${base}/api/events`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const code = networkCodeOf(e);
    throw new EventsError(
      `cannot reach tether serve at ${base}: ${code ? networkText(code) : String(e)}`,
    );
  }
  if (!response.ok)
    throw new EventsError(`tether serve at ${base} answered ${response.status} for /api/events`);
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    throw new EventsError(`tether serve at ${base}: /api/events did not answer JSON`);
  }
  const items = (body as { items?: unknown } | null)?.items;
  if (!Array.isArray(items))
    throw new EventsError(`tether serve at ${base}: /api/events has no list of items`);
  return items.filter(isEventView);
}

/** The kubeconfig `kubectl` would use: --kubeconfig, $KUBECONFIG, ~/.kube/config, in-cluster. */
function kubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) return flag;
  const fromEnv = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (fromEnv.length > 0) return fromEnv.find((p) => existsSync(p)) ?? fromEnv[0];
  const home = join(env.HOME ?? homedir(), '.kube', 'config');
  return existsSync(home) ? home : undefined;
}

async function clusterConfig(
  options: EventsOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ kc: KubeConfig; namespace: string }> {
  const path = kubeconfigPath(options.kubeconfig, env);
  let kc: KubeConfig;
  try {
    kc = await loadKubeConfig(path === undefined ? { env } : { kubeconfig: path, env });
  } catch (e) {
    if (!(e instanceof KubeConfigError)) throw e;
    if (path === undefined)
      throw new EventsError(
        'no kubeconfig found (give --kubeconfig, set KUBECONFIG, or read a local tether serve with --api HOST:PORT)',
      );
    throw new EventsError(e.message);
  }
  const context = kc.getContextObject(kc.getCurrentContext());
  return { kc, namespace: context?.namespace || 'default' };
}

function matchesLocal(view: EventView, query: EventQuery, types: Set<string> | undefined): boolean {
  if (types && !types.has(view.type)) return false;
  if (query.namespace !== undefined && (view.object.namespace ?? '') !== query.namespace)
    return false;
  if (query.kind && view.object.kind !== query.kind) return false;
  if (query.name && view.object.name !== query.name) return false;
  return true;
}

function untilInterrupted(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Prints a list, then (with --watch) one row or document per change. */
class Printer {
  private widths: number[] | undefined;

  constructor(
    private readonly io: EventsIo,
    private readonly options: EventsOptions,
    private readonly now: () => number,
  ) {}

  private get table() {
    return { namespaces: this.options.allNamespaces === true, now: this.now() };
  }

  /**
   * `stored`: the Events as the API server stores them (from a cluster); a local run's items
   * are shaped like them. JSON and YAML print an events.k8s.io/v1 EventList, as
   * `kubectl events -o json` does.
   */
  list(
    items: EventView[],
    where: string,
    stored?: { objects: EventObject[]; resourceVersion?: string | undefined },
  ): void {
    if (this.options.output !== 'table') {
      if (this.options.watch) for (const item of items) this.change(item);
      else
        this.io.stdout(
          renderData(
            eventObjectList(
              stored?.objects ?? items.map((v) => eventObjectOf(v)),
              stored?.resourceVersion,
            ),
            this.options.output,
          ),
        );
      return;
    }
    const grouped = groupEvents(items);
    if (grouped.length === 0) {
      if (!this.options.watch) this.io.stderr(`No events found${where}.\n`);
      return;
    }
    const rows = [headerRow(this.table), ...grouped.map((v) => eventRow(v, this.table))];
    const widths = widthsOf(rows);
    this.widths = widths;
    this.io.stdout(`${rows.map((r) => formatRow(r, widths)).join('\n')}\n`);
  }

  change(item: EventView): void {
    if (this.options.output === 'json') {
      this.io.stdout(`${JSON.stringify(eventObjectOf(item), null, 2)}\n`);
      return;
    }
    if (this.options.output === 'yaml') {
      this.io.stdout(`---\n${renderData(eventObjectOf(item), 'yaml')}`);
      return;
    }
    const row = eventRow(item, this.table);
    if (!this.widths) {
      this.widths = widthsOf([headerRow(this.table), row]);
      this.io.stdout(`${formatRow(headerRow(this.table), this.widths)}\n`);
    }
    this.io.stdout(`${formatRow(row, this.widths)}\n`);
  }
}

/** Runs the command; returns the exit code (errors are printed as one line). */
export async function runEvents(
  options: EventsOptions,
  io: EventsIo,
  run: EventsRun = {},
): Promise<number> {
  const now = run.now ?? Date.now;
  try {
    const types = parseTypes(options.types);
    const target = options.for ? parseFor(options.for) : undefined;
    const local = options.api ?? options.admin;
    if (local !== undefined && options.kubeconfig !== undefined)
      throw new EventsError('give either --api (a local tether serve) or --kubeconfig, not both');
    if (options.allNamespaces && options.namespace !== undefined)
      throw new EventsError('give either -n NAMESPACE or -A, not both');
    const printer = new Printer(io, options, now);
    const interrupt = options.watch && !run.signal ? untilInterrupted() : undefined;
    const signal = run.signal ?? interrupt?.signal ?? new AbortController().signal;
    try {
      if (local !== undefined) {
        // A local run serves every namespace from one process: all of them unless -n says.
        const query: EventQuery = { ...target };
        if (options.namespace !== undefined) query.namespace = options.namespace;
        await readLocal(apiUrl(local), query, types, options, printer, io, signal, run);
      } else {
        await cluster(options, target, types, printer, io, signal, run.env ?? process.env);
      }
    } finally {
      interrupt?.dispose();
    }
    return 0;
  } catch (e) {
    if (e instanceof EventsError) {
      io.stderr(`tether events: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

async function readLocal(
  base: string,
  query: EventQuery,
  types: Set<string> | undefined,
  options: EventsOptions,
  printer: Printer,
  io: EventsIo,
  signal: AbortSignal,
  run: EventsRun,
): Promise<void> {
  const select = (items: EventView[]) => items.filter((v) => matchesLocal(v, query, types));
  const first = select(await fetchLocalEvents(base));
  printer.list(first, query.namespace ? ` in ${query.namespace} namespace` : '');
  if (!options.watch) return;
  const identity = (v: EventView) =>
    JSON.stringify([v.object, v.type, v.reason, v.note, v.location ?? '']);
  let shown = new Set(first.map(identity));
  let failing = false;
  while (!signal.aborted) {
    await sleep(run.pollMs ?? 2000, signal);
    if (signal.aborted) break;
    let items: EventView[];
    try {
      items = select(await fetchLocalEvents(base));
      failing = false;
    } catch (e) {
      if (!failing) io.stderr(`tether events: ${e instanceof Error ? e.message : String(e)}\n`);
      failing = true;
      continue;
    }
    // A local run has no history: show what appeared since the last look.
    const current = new Set<string>();
    for (const item of items) {
      const id = identity(item);
      current.add(id);
      if (!shown.has(id)) printer.change(item);
    }
    shown = current;
  }
}

async function cluster(
  options: EventsOptions,
  target: { kind: string; name: string } | undefined,
  types: Set<string> | undefined,
  printer: Printer,
  io: EventsIo,
  signal: AbortSignal,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const { kc, namespace } = await clusterConfig(options, env);
  const query: EventQuery = { ...target };
  if (!options.allNamespaces) query.namespace = options.namespace ?? namespace;
  const keep = (v: EventView) => !types || types.has(v.type);
  let listed;
  try {
    listed = await listOurEvents(kc, query);
  } catch (e) {
    throw new EventsError(await describeListError(e, serverOf(kc)));
  }
  const kept = listed.items.map((v, i) => [v, listed.objects[i]] as const).filter(([v]) => keep(v));
  printer.list(
    kept.map(([v]) => v),
    query.namespace === undefined ? '' : ` in ${query.namespace} namespace`,
    {
      objects: kept.map(([v, o]) => o ?? eventObjectOf(v)),
      resourceVersion: listed.resourceVersion,
    },
  );
  if (!options.watch) return;
  await watchOurEvents(
    kc,
    query,
    listed.resourceVersion,
    {
      onChange: (view) => {
        if (keep(view)) printer.change(view);
      },
      onError: (message) => io.stderr(`tether events: watch: ${message}; retrying\n`),
    },
    signal,
  );
}

async function describeListError(e: unknown, server: string): Promise<string> {
  const code = networkCodeOf(e);
  if (code) return `cannot reach the API server at ${server}: ${networkText(code)}`;
  const k8s = await loadClientNode();
  if (e instanceof k8s.ApiException)
    return `the API server at ${server} refused to list events: ${describeApiError(k8s, e)}`;
  return `API server at ${server}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
}
