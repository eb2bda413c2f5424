/**
 * The admin listener (Fastify): `/healthz` (the process answers), `/readyz` (a route table is
 * loaded) and `/metrics` (Prometheus text). Kept off the proxy's listeners so that no route
 * table can shadow it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { ProxyMetrics } from './metrics';

export interface AdminState {
  ready(): boolean;
  tableVersion(): string | undefined;
}

export function createAdmin(metrics: ProxyMetrics, state: AdminState): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (!state.ready())
      return reply.code(503).send({ status: 'not ready', reason: 'no route table loaded yet' });
    return { status: 'ready', table: state.tableVersion() };
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
  return app;
}
