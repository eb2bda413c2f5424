/**
 * The admin listener: `/healthz` (the process answers), `/readyz` (a route table is loaded)
 * and `/metrics` (Prometheus text), plus the read-only JSON routes a caller adds, for local
 * callers only. Kept off the proxy's listeners so that no route table can shadow it. Three fixed routes need no framework; a plain `node:http` server keeps the
 * proxy's memory within its budget (loading Fastify alone costs about 16 MiB of RSS).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { ProxyMetrics } from './metrics';

export interface AdminState {
  ready(): boolean;
  tableVersion(): string | undefined;
  /** More read-only JSON routes by path (the controller's `/api/events`, `/api/policies`). */
  api?: Readonly<Record<string, () => unknown>>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Whether a peer is this host itself. The JSON routes show every route, cookie name and
 * backend address, so they answer only there (in a Pod, `kubectl port-forward` arrives from
 * loopback); health, readiness and metrics answer anyone, for probes and scrapers.
 */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

export function createAdmin(metrics: ProxyMetrics, state: AdminState): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, JSON_TYPE, JSON.stringify({ error: 'method not allowed' }));
      return;
    }
    if (path === '/healthz') {
      send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ok' }));
    } else if (path === '/readyz') {
      if (state.ready())
        send(res, 200, JSON_TYPE, JSON.stringify({ status: 'ready', table: state.tableVersion() }));
      else
        send(
          res,
          503,
          JSON_TYPE,
          JSON.stringify({ status: 'not ready', reason: 'no route table loaded yet' }),
        );
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => send(res, 200, metrics.registry.contentType, text),
        () => send(res, 500, JSON_TYPE, JSON.stringify({ error: 'metrics unavailable' })),
      );
    } else if (
      path !== undefined &&
      state.api &&
      Object.prototype.hasOwnProperty.call(state.api, path)
    ) {
      if (!isLoopback(req.socket.remoteAddress)) {
        send(
          res,
          403,
          JSON_TYPE,
          JSON.stringify({
            error: 'the admin API answers on this host only (kubectl port-forward)',
          }),
        );
        return;
      }
      let body: string;
      try {
        body = JSON.stringify(state.api[path]!());
      } catch {
        send(res, 500, JSON_TYPE, JSON.stringify({ error: 'unavailable' }));
        return;
      }
      send(res, 200, JSON_TYPE, body);
    } else {
      send(res, 404, JSON_TYPE, JSON.stringify({ error: 'not found' }));
    }
  });
}
