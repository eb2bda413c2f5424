/** Builders shared by the data plane's table and runtime tests. */
import { EndpointStats, type CompileContext } from '../../packages/dataplane/src/runtime';
import { RouteTableError, type BackendSet } from '../../packages/dataplane/src/table/types';
import { TokenCodec } from '../../packages/dataplane/src/token';

/** What compiling a table needs: a fixed cookie key, and counters made on first use. */
export function compileContext(): CompileContext {
  const stats = new Map<string, EndpointStats>();
  return {
    codec: new TokenCodec(Buffer.from('0123456789abcdef0123456789abcdef')),
    stats: (origin) => {
      let s = stats.get(origin);
      if (!s) {
        s = new EndpointStats(origin);
        stats.set(origin, s);
      }
      return s;
    },
  };
}

/** A backend set without persistence: one Service port, one ready endpoint at `address`. */
export function plainSet(id: string, address = '10.0.0.1'): BackendSet {
  return {
    id,
    policy: { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
    loadBalancing: { algorithm: 'roundRobin' },
    route: {},
    backends: [
      {
        ref: { namespace: 'default', service: id, port: 80 },
        endpoints: [{ address, port: 8080, ready: true }],
      },
    ],
  };
}

/** The problems a table check reports, none when it accepts. */
export function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (err) {
    if (err instanceof RouteTableError) return err.problems;
    throw err;
  }
  return [];
}
