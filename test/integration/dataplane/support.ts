/**
 * Helpers for the data-plane integration tests: table builders, a plain HTTP client that
 * shows every response header, and proxy start/stop with a controllable clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { request as httpsRequest } from 'node:https';
import type { LoadBalancing, PersistencePolicy, RouteSettings, CookieSpec } from '@tether/model';
import {
  createLogger,
  type Logger,
  createProxy,
  createRouteTable,
  type BackendSet,
  type Endpoint,
  type HostRoutes,
  type Proxy,
  type ProxyLimits,
  type ProxyOptions,
  type RouteTable,
  type WeightedBackend,
} from '@tether/dataplane';
import type { EchoServer } from '@tether/echo';

export const KEY = Buffer.from('0123456789abcdef0123456789abcdef');

export function cookieSpec(over: Partial<CookieSpec> = {}): CookieSpec {
  return {
    name: 'STICKY',
    path: '/',
    httpOnly: true,
    secure: 'never',
    omitSameSiteNoneForOldClients: false,
    lifetime: 'session',
    nocache: false,
    ...over,
  };
}

export function cookiePolicy(
  over: Partial<PersistencePolicy> = {},
  cookie: Partial<CookieSpec> = {},
): PersistencePolicy {
  return {
    mode: 'cookie',
    cookie: cookieSpec(cookie),
    rebalance: 'persistent',
    onFailure: 'rebalance',
    ...over,
  };
}

export function endpointOf(echo: EchoServer, over: Partial<Endpoint> = {}): Endpoint {
  return { address: echo.host, port: echo.port, ready: true, ...over };
}

export function backend(
  echoes: readonly EchoServer[],
  over: Partial<WeightedBackend> = {},
  service = 'web',
): WeightedBackend {
  return {
    ref: { namespace: 'default', service, port: 80 },
    endpoints: echoes.map((e) => endpointOf(e)),
    ...over,
  };
}

export interface SetOptions {
  id?: string;
  policy?: PersistencePolicy;
  loadBalancing?: LoadBalancing;
  route?: RouteSettings;
}

export function backendSet(backends: WeightedBackend[], o: SetOptions = {}): BackendSet {
  return {
    id: o.id ?? 'Ingress/default/web#rules[0].paths[0]',
    policy: o.policy ?? cookiePolicy(),
    loadBalancing: o.loadBalancing ?? { algorithm: 'roundRobin' },
    route: o.route ?? {},
    backends,
  };
}

/** A table with one catch-all host and one `/` prefix route on plain HTTP (and HTTPS). */
export function simpleTable(set: BackendSet, version = '1'): RouteTable {
  const hosts: HostRoutes[] = [
    { host: '*', paths: [{ path: '/', pathType: 'Prefix', backendSet: set }] },
  ];
  return createRouteTable({
    version,
    listeners: [
      { protocol: 'HTTP', hosts },
      { protocol: 'HTTPS', hosts },
    ],
  });
}

export class Clock {
  constructor(public ms = Date.UTC(2026, 0, 1)) {}
  now = (): number => this.ms;
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

export async function startProxy(
  table: RouteTable | undefined,
  options: Partial<ProxyOptions> = {},
): Promise<Proxy & { port: number }> {
  const proxy = createProxy({
    cookieKey: KEY,
    http: { port: 0 },
    admin: false,
    defaultMetrics: false,
    logger: silentLogger(),
    ...(table ? { table } : {}),
    ...options,
  });
  const addresses = await proxy.start();
  return Object.assign(proxy, { port: addresses.http?.port ?? 0 });
}

export function silentLogger(): Logger {
  return createLogger('silent');
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  endpoint: string | undefined;
  setCookies: string[];
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  https?: boolean;
  timeoutMs?: number;
}

/** One request on a fresh connection (no pooling, so nothing outlives a test). */
export function call(port: number, path = '/', o: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const make = o.https ? httpsRequest : httpRequest;
    const req = make(
      {
        host: '127.0.0.1',
        port,
        path,
        method: o.method ?? 'GET',
        headers: o.headers,
        agent: false,
        rejectUnauthorized: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const setCookie = res.headers['set-cookie'] ?? [];
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
            endpoint:
              typeof res.headers['x-endpoint'] === 'string' ? res.headers['x-endpoint'] : undefined,
            setCookies: setCookie,
          });
        });
      },
    );
    req.setTimeout(o.timeoutMs ?? 10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** `NAME=value` of the first Set-Cookie for `name`, or undefined. */
export function cookiePair(reply: Reply, name = 'STICKY'): string | undefined {
  const c = reply.setCookies.find((s) => s.startsWith(`${name}=`));
  return c?.split(';')[0];
}

/** Sends `n` requests and counts answers per endpoint. */
export async function spread(
  port: number,
  n: number,
  o: CallOptions = {},
  path = '/',
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const r = await call(port, path, o);
    const key = r.endpoint ?? `status ${r.status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export interface ProcessOptions {
  key?: Buffer;
  limits?: Partial<ProxyLimits>;
  /** Calls of the proxy's clock that throw (see fixtures/proxy-process.cjs). */
  faultAtClockCalls?: number[];
  /** Open the table's Service ports (see ProxyOptions.services). */
  services?: { host?: string; portOffset?: number; udpIdleMs?: number };
}

/**
 * Starts the proxy in a process of its own (so that an uncaught exception would end it, not
 * the test). Starting compiles the sources first, which takes a few seconds on a busy machine.
 */
export function startProxyProcess(
  table: RouteTable,
  o: ProcessOptions = {},
): Promise<{
  child: ChildProcess;
  port: number;
  services: Record<string, { address: string; port: number }>;
}> {
  const child = spawn(
    process.execPath,
    [
      join(__dirname, 'fixtures', 'proxy-process.cjs'),
      JSON.stringify({
        table,
        key: (o.key ?? KEY).toString('hex'),
        limits: o.limits ?? {},
        faultAtClockCalls: o.faultAtClockCalls ?? [],
        services: o.services,
      }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line)
        resolve({
          child,
          ...(JSON.parse(line) as {
            port: number;
            services: Record<string, { address: string; port: number }>;
          }),
        });
    });
    child.once('exit', (code) => reject(new Error(`proxy process exited with ${code}`)));
  });
}

/** Writes `text` on a new connection; resolves with everything that comes back until close or `ms`. */
export function rawExchange(port: number, text: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let out = '';
    socket.on('data', (d: Buffer) => (out += d.toString('latin1')));
    socket.on('error', () => resolve(out));
    socket.on('close', () => resolve(out));
    socket.setTimeout(ms, () => socket.destroy());
  });
}
