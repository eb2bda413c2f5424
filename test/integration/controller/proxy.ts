/**
 * A controller fed by the Kubernetes source, driving a real proxy on 127.0.0.1, and a plain
 * HTTP client for it.
 */
import { request } from 'node:http';
import {
  CONTROLLER_NAME,
  Controller,
  KubeSource,
  type KubeSourceOptions,
  type ReconcileListener,
} from '@tether/controller';
import { createLogger, createProxy, type Proxy } from '@tether/dataplane';
import type { StandInApiServer } from '@tether/testkit';

export const COOKIE_KEY = Buffer.from('0123456789abcdef0123456789abcdef');

export interface Stack {
  source: KubeSource;
  controller: Controller;
  proxy: Proxy;
  port: number;
  stop(): Promise<void>;
}

/** Starts the proxy, then the controller; resolves once the first table is in force. */
export async function startStack(
  server: StandInApiServer,
  options: { source?: KubeSourceOptions; listeners?: ReconcileListener[] } = {},
): Promise<Stack> {
  const proxy = createProxy({
    cookieKey: COOKIE_KEY,
    http: { host: '127.0.0.1', port: 0 },
    admin: false,
    logger: createLogger('silent'),
    defaultMetrics: false,
  });
  const addresses = await proxy.start();
  const source = new KubeSource({
    kubeconfig: server.writeKubeconfig(),
    backoff: { initialMs: 50, maxMs: 300 },
    discoveryIntervalMs: 200,
    ...options.source,
  });
  const controller = new Controller({
    source,
    sink: proxy,
    serving: { ingressClass: 'tether', controllerName: CONTROLLER_NAME, serveAll: false },
    listeners: options.listeners ?? [],
  });
  await controller.start();
  return {
    source,
    controller,
    proxy,
    port: addresses.http?.port ?? 0,
    async stop() {
      await controller.stop();
      await proxy.stop();
    },
  };
}

export interface Reply {
  status: number;
  endpoint: string | undefined;
  setCookie: string[];
}

/** One GET through the proxy with the given Host (and Cookie) header. */
export function get(port: number, host: string, cookie?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        headers: { host, connection: 'close', ...(cookie ? { cookie } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const endpoint = res.headers['x-endpoint'];
          resolve({
            status: res.statusCode ?? 0,
            endpoint: typeof endpoint === 'string' ? endpoint : undefined,
            setCookie: res.headers['set-cookie'] ?? [],
          });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Polls through the proxy until `accept` holds; resolves with the elapsed time in ms. */
export async function routedWithin(
  port: number,
  host: string,
  accept: (reply: Reply) => boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  let last: Reply | undefined;
  while (Date.now() - started <= timeoutMs) {
    last = await get(port, host);
    if (accept(last)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(
    `${what}: not routed within ${timeoutMs} ms (last answer ${last?.status} from ${last?.endpoint ?? 'nobody'})`,
  );
}
