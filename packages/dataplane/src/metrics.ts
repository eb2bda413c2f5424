/**
 * Prometheus metrics of the proxy (prom-client), on a registry of its own. Labels are backend
 * set ids, status codes and session events: never a cookie, header value or client address.
 *
 * Counters are tallied in plain numbers on the hot path and handed to prom-client when
 * `/metrics` is scraped (prom-client hashes the label set on every call, even through a
 * labelled child, which costs more than the count itself). The latency histogram is observed
 * per request through cached children.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionEvent } from './affinity';

const SESSION_EVENTS: readonly SessionEvent[] = ['created', 'rebalanced', 'failed'];

/** Running totals of one backend set. */
interface SetTally {
  /** Requests by status code (sparse). */
  codes: number[];
  sessions: Record<SessionEvent, number>;
  retries: number;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly tableLoaded: Gauge;
  readonly swaps: Counter;
  readonly #latency: Histogram<'backend_set'>;
  readonly #tallies = new Map<string, SetTally>();
  readonly #latencyChildren = new Map<string, { observe(v: number): void }>();

  constructor(defaultMetrics = true) {
    const registers = [this.registry];
    const tallies = this.#tallies;
    new Counter({
      name: 'tether_requests_total',
      help: 'Requests answered, by backend set ("" when no route matched) and status code',
      labelNames: ['backend_set', 'code'],
      registers,
      collect() {
        this.reset();
        for (const [set, t] of tallies) {
          t.codes.forEach((n, code) => this.inc({ backend_set: set, code: String(code) }, n));
        }
      },
    });
    new Counter({
      name: 'tether_sessions_total',
      help: 'Sticky sessions created, moved to another endpoint (rebalanced) or refused (failed)',
      labelNames: ['backend_set', 'event'],
      registers,
      collect() {
        this.reset();
        for (const [set, t] of tallies) {
          for (const event of SESSION_EVENTS) {
            if (t.sessions[event] > 0) this.inc({ backend_set: set, event }, t.sessions[event]);
          }
        }
      },
    });
    new Counter({
      name: 'tether_upstream_retries_total',
      help: 'Requests sent again to another endpoint after a connection failure',
      labelNames: ['backend_set'],
      registers,
      collect() {
        this.reset();
        for (const [set, t] of tallies)
          if (t.retries > 0) this.inc({ backend_set: set }, t.retries);
      },
    });
    this.#latency = new Histogram({
      name: 'tether_upstream_latency_seconds',
      help: 'Time from sending a request upstream to its response headers',
      labelNames: ['backend_set'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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

  #tally(set: string): SetTally {
    let t = this.#tallies.get(set);
    if (!t) {
      t = { codes: [], sessions: { created: 0, rebalanced: 0, failed: 0 }, retries: 0 };
      this.#tallies.set(set, t);
    }
    return t;
  }

  request(set: string, code: number): void {
    const codes = this.#tally(set).codes;
    codes[code] = (codes[code] ?? 0) + 1;
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
    this.#tally(set).sessions[event]++;
  }

  retry(set: string): void {
    this.#tally(set).retries++;
  }
}
