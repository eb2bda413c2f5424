/**
 * Prometheus metrics of the proxy, on a registry of its own. Labels are backend set ids,
 * status codes and session events: never a cookie, header value or client address. Label
 * children are cached so that the hot path does one map read per counter.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionEvent } from './affinity';

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'backend_set' | 'code'>;
  readonly #latency: Histogram<'backend_set'>;
  readonly #sessions: Counter<'backend_set' | 'event'>;
  readonly #retries: Counter<'backend_set'>;
  readonly tableLoaded: Gauge;
  readonly swaps: Counter;
  readonly #requestChildren = new Map<string, { inc(): void }>();
  readonly #latencyChildren = new Map<string, { observe(v: number): void }>();
  readonly #sessionChildren = new Map<string, { inc(): void }>();

  constructor(defaultMetrics = true) {
    const registers = [this.registry];
    this.#requests = new Counter({
      name: 'tether_requests_total',
      help: 'Requests answered, by backend set ("" when no route matched) and status code',
      labelNames: ['backend_set', 'code'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'tether_upstream_latency_seconds',
      help: 'Time from sending a request upstream to its response headers',
      labelNames: ['backend_set'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#sessions = new Counter({
      name: 'tether_sessions_total',
      help: 'Sticky sessions created, moved to another endpoint (rebalanced) or refused (failed)',
      labelNames: ['backend_set', 'event'],
      registers,
    });
    this.#retries = new Counter({
      name: 'tether_upstream_retries_total',
      help: 'Requests sent again to another endpoint after a connection failure',
      labelNames: ['backend_set'],
      registers,
    });
    this.tableLoaded = new Gauge({
      name: 'tether_route_table_loaded',
      help: '1 once a route table is loaded',
      registers,
    });
    this.swaps = new Counter({
      name: 'tether_route_table_swaps_total',
      help: 'Route tables swapped in',
      registers,
    });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tether_' });
  }

  request(set: string, code: number): void {
    const key = `${set}\0${code}`;
    let child = this.#requestChildren.get(key);
    if (!child) {
      child = this.#requests.labels(set, String(code));
      this.#requestChildren.set(key, child);
    }
    child.inc();
  }

  upstreamLatency(set: string, seconds: number): void {
    let child = this.#latencyChildren.get(set);
    if (!child) {
      child = this.#latency.labels(set);
      this.#latencyChildren.set(set, child);
    }
    child.observe(seconds);
  }

  session(set: string, event: SessionEvent): void {
    const key = `${set}\0${event}`;
    let child = this.#sessionChildren.get(key);
    if (!child) {
      child = this.#sessions.labels(set, event);
      this.#sessionChildren.set(key, child);
    }
    child.inc();
  }

  retry(set: string): void {
    this.#retries.labels(set).inc();
  }
}
