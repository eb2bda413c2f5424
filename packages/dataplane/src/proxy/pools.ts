/**
 * The connection pools to upstream origins, and the counters per origin that the endpoints of
 * every backend set leading there share. An origin no table uses any more has its pool closed
 * after a grace period (requests routed by the old table may still use it); one that comes
 * back in time keeps it.
 */
import { countOrigins, EndpointStats, type CompiledTable, type EndpointRuntime } from '../runtime';
import { UpstreamPool } from '../upstream/pool';
import type { UpstreamTls } from '../upstream/tls';
import type { ProxyLimits } from './options';

/** How long a pool stays open after its origin left the table (requests of the old table may still use it). */
const POOL_GRACE_MS = 30_000;

export class OriginPools {
  /** By origin; over TLS by origin and TLS options (`origin#key`). */
  readonly #pools = new Map<string, UpstreamPool>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Counters per origin, shared by the endpoints of every set that leads there. */
  readonly #stats = new Map<string, EndpointStats>();

  constructor(
    private readonly limits: ProxyLimits,
    private readonly internalError: (where: string, err: unknown) => void,
  ) {}

  statsFor(origin: string): EndpointStats {
    let s = this.#stats.get(origin);
    if (!s) {
      s = new EndpointStats(origin);
      this.#stats.set(origin, s);
    }
    return s;
  }

  /**
   * Counts the endpoints per origin of a table just swapped in (see the runtime's
   * countOrigins), and starts or stops the grace period of each origin it drops or brings back.
   */
  countOrigins(compiled: CompiledTable): void {
    countOrigins(
      compiled,
      (origin) => {
        const timer = this.#timers.get(origin);
        if (timer) {
          clearTimeout(timer);
          this.#timers.delete(origin);
        }
      },
      (origin) => {
        if (!this.#timers.has(origin)) this.#retireLater(origin);
      },
    );
  }

  #retireLater(origin: string): void {
    const timer = setTimeout(() => {
      this.#timers.delete(origin);
      for (const [key, pool] of this.#pools)
        if (key === origin || key.startsWith(`${origin}#`)) {
          this.#pools.delete(key);
          pool.close();
        }
      this.#stats.delete(origin);
    }, POOL_GRACE_MS);
    timer.unref();
    this.#timers.set(origin, timer);
  }

  pool(ep: EndpointRuntime, tls?: UpstreamTls): UpstreamPool {
    const key = tls ? `${ep.origin}#${tls.key}` : ep.origin;
    let p = this.#pools.get(key);
    if (!p) {
      p = new UpstreamPool(ep.address, ep.port, {
        ...(tls ? { tls: tls.options } : {}),
        connections: this.limits.upstreamConnections,
        connectTimeout: this.limits.upstreamConnectTimeoutMs,
        headersTimeout: this.limits.upstreamHeadersTimeoutMs,
        bodyTimeout: this.limits.upstreamBodyTimeoutMs,
        keepAliveTimeout: 30_000,
        queueLimit: this.limits.upstreamQueueLimit,
        queueTimeout: this.limits.upstreamQueueTimeoutMs,
        internalError: (where, err) => this.internalError(where, err),
      });
      this.#pools.set(key, p);
    }
    return p;
  }

  /** Closes every pool now (the proxy is stopping). */
  destroy(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const p of this.#pools.values()) p.destroy();
    this.#pools.clear();
  }
}
