import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import {
  AcceptedLog,
  Controller,
  CONTROLLER_NAME,
  EventRecorder,
  FileSource,
  KubeSource,
  LeaderElector,
  SnapshotTap,
  StatusWriter,
  loadKubeConfig,
  localEventsFromDiagnostics,
  type ReconcileListener,
  type ReconcileResult,
  type TableSink,
} from '@tether/controller';
import {
  createLogger,
  createProxy,
  loadCookieKey,
  ProxyFleet,
  reportServicePorts,
  serveAsWorker,
  type Logger,
  type Proxy,
  type ProxyAddresses,
  type ProxyOptions,
  type RouteTable,
} from '@tether/dataplane';
import {
  formatDiagnostic,
  parseAdoptionSources,
  type CookieAdoption,
  type Diagnostic,
} from '@tether/model';
import { parseAddress } from './address';

/** The options of `serve` and `up`: one schema for the flags, their checks and their types. */
export const ServeOptionsSchema = z.object({
  manifests: z.array(z.string()).optional(),
  /** Without manifests: a kubeconfig file, else the in-cluster service account. */
  kubeconfig: z.string().optional(),
  /** Addresses written into Ingress status.loadBalancer (the proxy's public IPs or names). */
  publishAddress: z.array(z.string()).optional(),
  listen: z.string(),
  listenTls: z.string().optional(),
  /** The ports clients reach --listen and --listen-tls on (behind a Service or NAT). */
  publicHttpPort: z.coerce.number().int().min(1).max(65535).optional(),
  publicHttpsPort: z.coerce.number().int().min(1).max(65535).optional(),
  /** False: --listen-tls offers HTTP/1.1 only (commander's `--no-http2`). */
  http2: z.boolean().optional(),
  /** HTTP/2 with prior knowledge on --listen. */
  h2c: z.boolean().optional(),
  tlsCert: z.string().optional(),
  tlsKey: z.string().optional(),
  admin: z.string(),
  api: z.string(),
  ingressClass: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a Kubernetes object name'),
  cookieKeyFile: z.string().optional(),
  /** The service CA bundle reencrypt Routes without their own CA verify their pods against. */
  backendCaFile: z.string().optional(),
  /** The address LoadBalancer Service ports are bound on; default: the host of --listen. */
  serviceListen: z.string().optional(),
  /** Added to every Service port; `up` defaults it to 10000. */
  servicePortOffset: z.coerce.number().int().min(0).max(65534).optional(),
  serviceLoadBalancers: z.enum(['class', 'all']).optional(),
  /** Previous load balancers' cookies honoured on every cookie route that names none itself. */
  adoptCookies: z.string().optional(),
  adoptCookiesUntil: z.iso.datetime({ offset: true }).optional(),
  /** Proxy processes sharing the listeners; `auto`: one per CPU. */
  workers: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
});
export type ServeOptions = z.infer<typeof ServeOptionsSchema>;

/** The command-line flags of `serve` and `up`, in the order `--help` lists them. */
export const SERVE_FLAGS: readonly [flags: string, description: string, defaultValue?: string][] = [
  ['--listen <host:port>', 'where the proxy listens for HTTP', '127.0.0.1:8080'],
  [
    '--listen-tls <host:port>',
    'where the proxy listens for HTTPS (needs --tls-cert and --tls-key)',
  ],
  [
    '--tls-cert <file>',
    'PEM certificate for --listen-tls: served to names no Ingress spec.tls certificate covers',
  ],
  ['--tls-key <file>', 'PEM private key for --listen-tls'],
  ['--no-http2', 'offer only HTTP/1.1 on --listen-tls (by default ALPN offers h2 and http/1.1)'],
  [
    '--h2c',
    'also serve HTTP/2 with prior knowledge (h2c) on --listen, next to HTTP/1.1, for clients such as gRPC without TLS',
  ],
  [
    '--public-http-port <n>',
    'the port clients reach --listen on, behind a Service or NAT (default: the port bound): routes of that port are served there',
  ],
  [
    '--public-https-port <n>',
    'the port clients reach --listen-tls on (default: the port bound): redirects to HTTPS name it (none for 443)',
  ],
  ['--admin <host:port>', 'health, readiness and metrics', '127.0.0.1:9090'],
  [
    '--api <host:port>',
    'the JSON API (/api/policies, /api/events) for `tether events`; answers this host only',
    '127.0.0.1:9091',
  ],
  ['--ingress-class <name>', 'the IngressClass this controller serves', 'tether'],
  [
    '--cookie-key-file <file>',
    'key for session cookies; every replica needs the same one (or set TETHER_COOKIE_KEY)',
  ],
  [
    '--backend-ca-file <file>',
    "PEM CA bundle that OpenShift reencrypt Routes without a destinationCACertificate verify their pods against, under <service>.<namespace>.svc (the router's default destination CA, the service CA)",
  ],
  [
    '--service-load-balancers <which>',
    'LoadBalancer Services to open listeners for: class (loadBalancerClass tether.dev/service-lb) or all (also those without a class); with --manifests every one',
    'class',
  ],
  [
    '--service-listen <host>',
    'the address LoadBalancer Service ports are bound on (default: the host of --listen)',
  ],
  [
    '--service-port-offset <n>',
    'added to every Service port, so that port 80 listens on 80 + n (default 0; 10000 for up)',
  ],
  [
    '--adopt-cookies <formats>',
    "honour a previous load balancer's session cookies on every cookie route (ingress-nginx, openshift, envoy-gateway, traefik; format=name for another cookie name), moving clients to Tether's cookie",
  ],
  ['--adopt-cookies-until <time>', 'RFC 3339 time after which --adopt-cookies stops'],
  [
    '--workers <n>',
    'run the proxy on n processes sharing its listeners, or auto for one per CPU (default 1); the controller, admin and API stay in the first process, and metrics add up every worker',
  ],
  ['--log-level <level>', 'fatal, error, warn, info, debug or trace', 'info'],
];

/** The cluster-wide adoption of `--adopt-cookies`; throws a usage error for what it cannot read. */
export function adoptionOption(options: ServeOptions): CookieAdoption | undefined {
  if (options.adoptCookies === undefined) {
    if (options.adoptCookiesUntil !== undefined)
      throw new Error('--adopt-cookies-until needs --adopt-cookies');
    return undefined;
  }
  const { sources, problems } = parseAdoptionSources(options.adoptCookies);
  if (problems.length > 0) throw new Error(`--adopt-cookies: ${problems.join('; ')}`);
  return options.adoptCookiesUntil === undefined
    ? { sources }
    : { sources, until: options.adoptCookiesUntil };
}

export interface Running {
  proxy: Proxy;
  controller: Controller;
  addresses: ProxyAddresses;
  logger: Logger;
  stop(): Promise<void>;
}

/** Errors a user can act on, as one line each; anything else is reported as it is. */
export function describeStartError(e: unknown): string {
  const err = e as NodeJS.ErrnoException & { address?: string; port?: number };
  if (err?.code === 'EADDRINUSE')
    return `${err.address ?? ''}:${err.port ?? ''} is already in use; pick another with --listen/--admin/--api`;
  if (err?.code === 'EACCES' && err.port !== undefined)
    return `not allowed to listen on port ${err.port}`;
  if (err?.code === 'EADDRNOTAVAIL')
    return `${err.address ?? 'the address'} is not an address of this machine`;
  if (err?.code === 'ENOENT' && err.path) return `${err.path}: no such file`;
  return e instanceof Error ? e.message : String(e);
}

/** Logs the diagnostics of a reconcile when they differ from the previous one's. */
function diagnosticLogger(
  logger: Logger,
): (result: ReconcileResult, problems: readonly Diagnostic[]) => void {
  let previous = '';
  return (result, problems) => {
    const all = [...problems, ...result.diagnostics].filter((d) => d.severity !== 'info');
    const text = all.map(formatDiagnostic).join('\n');
    if (text === previous) return;
    previous = text;
    for (const d of all) {
      const fields = {
        reason: d.reason,
        objects: d.sources.map((s) => `${s.kind} ${s.namespace}/${s.name} ${s.field}`),
      };
      if (d.severity === 'error') logger.error(fields, d.message);
      else logger.warn(fields, d.message);
    }
    logger.info(
      { table: result.table.version, served: result.served.length, problems: all.length },
      'configuration reconciled',
    );
  };
}

/** Everything cluster mode adds: leader election, Events and status, writing only while leading. */
interface ClusterParts {
  source: SnapshotTap;
  listeners: ReconcileListener[];
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function clusterParts(options: ServeOptions, logger: Logger): Promise<ClusterParts> {
  const log = (
    level: 'info' | 'warn' | 'error',
    message: string,
    fields?: Record<string, unknown>,
  ) => logger[level](fields ?? {}, message);
  const config = options.kubeconfig ? { kubeconfig: options.kubeconfig } : {};
  const kubeSource = new KubeSource({ ...config, log });
  const source = new SnapshotTap(kubeSource);
  const kubeConfig = await loadKubeConfig(config);
  const late: { recorder?: EventRecorder; status?: StatusWriter } = {};
  const elector = new LeaderElector({
    kubeConfig,
    namespace: process.env.POD_NAMESPACE ?? 'default',
    name: `tether-${options.ingressClass}`,
    ...(process.env.POD_NAME ? { identity: process.env.POD_NAME } : {}),
    // A new leader catches up: Events it did not write and status it did not keep.
    onStartedLeading: () => {
      void late.recorder?.resync();
      void late.status?.resync();
    },
    log,
  });
  const recorder = await EventRecorder.create({
    kubeConfig,
    isLeader: () => elector.isLeader(),
    log,
  });
  late.recorder = recorder;
  const status = new StatusWriter({
    target: kubeSource,
    addresses: options.publishAddress ?? [],
    isLeader: () => elector.isLeader(),
    log,
  });
  late.status = status;
  return {
    source,
    listeners: [recorder.listener(() => source.directory()), status.listener],
    start: () => elector.start(),
    async stop() {
      await status.stop();
      await recorder.stop();
      await elector.stop();
    },
  };
}

/** The JSON of `GET /api/policies`: what `tether explain -o json` prints, for the objects served now. */
function policiesView(controller: Controller): unknown {
  const latest = controller.latest;
  return {
    table: latest?.table.version ?? null,
    backends: (latest?.entries ?? []).map((e) => ({
      backend: e.backend,
      entry: e.entry,
      accepted: e.accepted,
      policy: e.policy,
      loadBalancing: e.loadBalancing,
      route: e.route,
      sources: e.sources,
    })),
    diagnostics: controller.diagnostics,
  };
}

/** How many proxy processes `--workers` asks for: a number, or `auto` for one per CPU. */
export function workerCount(options: ServeOptions): number {
  const w = options.workers;
  if (w === undefined) return 1;
  return w === 'auto' ? availableParallelism() : w;
}

/**
 * The proxy's own listeners as the flags give them: HTTP (and h2c), HTTPS, the Service ports.
 * The same for a single proxy and for each worker.
 */
function dataListeners(
  options: ServeOptions,
  servicePortOffset: number | undefined,
): Pick<ProxyOptions, 'http' | 'https' | 'services' | 'adoptCookies' | 'serviceCa'> {
  const listen = parseAddress(options.listen, '--listen');
  const tls = options.listenTls ? parseAddress(options.listenTls, '--listen-tls') : undefined;
  if (tls && (!options.tlsCert || !options.tlsKey))
    throw new Error('--listen-tls needs --tls-cert and --tls-key');
  if (!tls && options.publicHttpsPort !== undefined)
    throw new Error('--public-https-port needs --listen-tls');
  const adoptCookies = adoptionOption(options);
  return {
    ...(adoptCookies ? { adoptCookies } : {}),
    ...(options.backendCaFile ? { serviceCa: readFileSync(options.backendCaFile, 'utf8') } : {}),
    http: {
      ...listen,
      ...(options.publicHttpPort === undefined ? {} : { publicPort: options.publicHttpPort }),
      ...(options.h2c ? { http2: true } : {}),
    },
    services: {
      host: options.serviceListen ?? listen.host ?? '127.0.0.1',
      portOffset: options.servicePortOffset ?? servicePortOffset ?? 0,
    },
    ...(tls
      ? {
          https: {
            ...tls,
            ...(options.publicHttpsPort === undefined
              ? {}
              : { publicPort: options.publicHttpsPort }),
            ...(options.http2 === false ? { http2: false } : {}),
            cert: readFileSync(options.tlsCert!),
            key: readFileSync(options.tlsKey!),
          },
        }
      : {}),
  };
}

/**
 * A proxy worker of `serve --workers`: the listeners the flags give, shared with the other
 * workers, the cookie key and tables from the primary, no admin or API listener.
 */
export async function startServeWorker(options: ServeOptions): Promise<{ stop(): Promise<void> }> {
  const logger = createLogger(options.logLevel);
  const data = dataListeners(options, undefined);
  const proxy = await serveAsWorker((cookieKey) => {
    const p: Proxy = createProxy({
      ...data,
      cookieKey,
      worker: true,
      admin: false,
      api: false,
      logger,
      onServicePortsChanged: () => reportServicePorts(p),
    });
    return p;
  });
  return { stop: () => proxy.stop() };
}

/**
 * Starts the proxy and the controller that feeds it. With manifests it resolves once the first
 * table is in force; from a cluster it resolves once the source runs, and the proxy answers
 * 503 and /readyz stays not ready until the first table (an unreachable API server is
 * retried with backoff).
 */
export async function startServe(
  options: ServeOptions,
  extra: Pick<ProxyOptions, 'notFoundText'> & { servicePortOffset?: number } = {},
): Promise<Running> {
  const logger = createLogger(options.logLevel);
  const admin = parseAddress(options.admin, '--admin');
  const apiAddress = parseAddress(options.api, '--api');
  const data = dataListeners(options, extra.servicePortOffset);
  const workers = workerCount(options);
  const cluster = options.manifests === undefined ? await clusterParts(options, logger) : undefined;
  const source =
    cluster?.source ?? new SnapshotTap(new FileSource({ paths: options.manifests ?? [] }));
  const api: Record<string, () => unknown> = {};
  const accepted = new AcceptedLog();
  const { servicePortOffset: _offset, ...proxyExtra } = extra;
  // The controller exists once the proxy does; a port that fails to bind later tells it.
  const portsChanged: { notify?: () => void } = {};
  let cookieKey = loadCookieKey(options.cookieKeyFile);
  let fleet: ProxyFleet | undefined;
  if (workers > 1) {
    if (!cookieKey) {
      cookieKey = randomBytes(32);
      logger.warn(
        "no cookie key configured: generated a random one for every worker; replicas of this proxy will not honour each other's session cookies",
      );
    }
    fleet = new ProxyFleet({
      count: workers,
      cookieKey,
      logger,
      onPortsChanged: () => portsChanged.notify?.(),
    });
  }
  const theFleet = fleet;
  // With workers, this process's proxy has no listener of its own: it checks and compiles each
  // table, and serves the admin and API listeners for the workers together.
  const proxy = createProxy({
    ...(cookieKey ? { cookieKey } : {}),
    ...(theFleet
      ? {
          http: false,
          adminView: {
            ready: () => theFleet.ready,
            metrics: async () => ({
              contentType: theFleet.contentType,
              text: await theFleet.metrics(),
            }),
          },
        }
      : {
          ...data,
          onServicePortsChanged: () => portsChanged.notify?.(),
        }),
    admin,
    api: apiAddress,
    apiRoutes: api,
    ...proxyExtra,
    logger,
  });
  const sink: TableSink = theFleet
    ? {
        swap(table: RouteTable) {
          proxy.swap(table);
          theFleet.swap(proxy.table!);
        },
        get servicePortProblems() {
          return theFleet.servicePortProblems;
        },
      }
    : proxy;
  const controller = new Controller({
    source,
    sink,
    serving: {
      ingressClass: options.ingressClass,
      controllerName: CONTROLLER_NAME,
      serveAll: options.manifests !== undefined,
      serviceLoadBalancers: options.serviceLoadBalancers ?? 'class',
    },
    listeners: [
      diagnosticLogger(logger),
      // A fixed configuration gives the Normal Accepted item a cluster's recorder writes.
      (result, problems) =>
        accepted.observe([...problems, ...result.diagnostics], source.directory(), new Date()),
      ...(cluster?.listeners ?? []),
    ],
    log: (level, message, fields) => logger[level](fields ?? {}, message),
  });
  portsChanged.notify = () => controller.servicePortsChanged();
  api['/api/policies'] = () => policiesView(controller);
  api['/api/events'] = () => {
    const current = localEventsFromDiagnostics(controller.diagnostics, {
      now: new Date(),
      directory: source.directory(),
    });
    return { ...current, items: [...current.items, ...accepted.items] };
  };
  const own = await proxy.start();
  const addresses: ProxyAddresses = theFleet ? { ...own, ...(await theFleet.start()) } : own;
  try {
    await controller.startSource();
    await cluster?.start();
    if (!cluster) await controller.whenReady();
  } catch (e) {
    await controller.stop().catch(() => undefined);
    await cluster?.stop().catch(() => undefined);
    await theFleet?.stop();
    await proxy.stop();
    throw e;
  }
  return {
    proxy,
    controller,
    addresses,
    logger,
    async stop() {
      await controller.stop();
      await cluster?.stop();
      await theFleet?.stop();
      await proxy.stop();
    },
  };
}
