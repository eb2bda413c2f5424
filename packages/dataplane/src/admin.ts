/**
 * Two small listeners beside the proxy's own, kept off them so that no route table can
 * shadow them:
 *
 * - the admin listener: `/healthz` (the process answers), `/readyz` (a route table is
 *   loaded) and `/metrics` (Prometheus text), for probes and scrapers, on any address;
 * - the API listener: read-only JSON routes (the controller's `/api/policies` and
 *   `/api/events`), which show every route, cookie name and backend address. It binds to
 *   loopback unless told otherwise (in a Pod, `kubectl port-forward` arrives there), answers
 *   loopback peers only, and refuses any request that carries forwarding headers: a sidecar
 *   proxy in the same Pod also connects from loopback, and it is what adds them.
 *
 * Plain `node:http`: a few fixed routes need no framework, and loading Fastify alone costs
 * about 16 MiB of RSS.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ProxyMetrics } from './metrics';

export interface AdminState {
  ready(): boolean;
  tableVersion(): string | undefined;
  /** Metrics from elsewhere than this process's registry (the proxy workers'). */
  metrics?(): Promise<{ contentType: string; text: string }>;
}

/** Read-only JSON routes by path (for example `/api/events`). */
export type ApiRoutes = Readonly<Record<string, () => unknown>>;

const JSON_TYPE = 'application/json; charset=utf-8';

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON_TYPE, JSON.stringify(value));
}

/** Whether a peer is this host itself. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : address;
  return address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** Headers that only a proxy in front would add: a request with one came from elsewhere. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'];

/** Why the API refuses this caller, or undefined. */
export function apiRefusal(req: IncomingMessage): string | undefined {
  if (!isLoopback(req.socket.remoteAddress)) return 'the API answers on this host only';
  const forwarded = FORWARDING_HEADERS.find((h) => req.headers[h] !== undefined);
  if (forwarded) return `the API does not answer requests passed on by a proxy (${forwarded})`;
  return undefined;
}

function readOnly(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  sendJson(res, 405, { error: 'method not allowed' });
  return false;
}

export function createAdmin(metrics: ProxyMetrics, state: AdminState): Server {
  return createServer((req, res) => {
    if (!readOnly(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      if (state.ready()) sendJson(res, 200, { status: 'ready', table: state.tableVersion() });
      else sendJson(res, 503, { status: 'not ready', reason: 'no route table loaded yet' });
    } else if (path === '/metrics') {
      const collected = state.metrics
        ? state.metrics()
        : metrics.registry
            .metrics()
            .then((text) => ({ contentType: metrics.registry.contentType, text }));
      collected.then(
        ({ contentType, text }) => send(res, 200, contentType, text),
        () => sendJson(res, 500, { error: 'metrics unavailable' }),
      );
    } else {
      sendJson(res, 404, { error: 'not found' });
    }
  });
}

export function createApi(routes: ApiRoutes): Server {
  return createServer((req, res) => {
    const refusal = apiRefusal(req);
    if (refusal) return sendJson(res, 403, { error: refusal });
    if (!readOnly(req, res)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '';
    if (!Object.prototype.hasOwnProperty.call(routes, path))
      return sendJson(res, 404, { error: 'not found' });
    let body: string;
    try {
      body = JSON.stringify(routes[path]?.());
    } catch {
      return sendJson(res, 500, { error: 'unavailable' });
    }
    send(res, 200, JSON_TYPE, body);
  });
}
