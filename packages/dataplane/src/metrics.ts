/**
 * Prometheus metrics of the proxy (prom-client), on a registry of its own. Labels are backend
 * set ids, status codes and session events: never a cookie, header value or client address.
 *
 * Counts are tallied in plain numbers on the hot path and handed to prom-client when
 * `/metrics` is scraped: prom-client hashes the label set on every call, even through a
 * labelled child, which costs more than the count itself. Counters are refilled in their
 * `collect` hook; the latency histogram, which prom-client cannot be refilled into, reports
 * its own buckets through `get()`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SessionEvent } from './affinity';

const SESSION_EVENTS: readonly SessionEvent[] = ['created', 'rebalanced', 'failed', 'adopted'];
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const LATENCY_NAME = 'tether_upstream_latency_seconds';
const LATENCY_HELP = 'Time from sending a request upstream to its response headers';

/** Histogram counts of one backend set: per bucket (not cumulative), then sum and count. */
interface LatencyTally {
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** One exported line, in the shape prom-client's histogram export uses (`le` apart from the other labels). */
interface LatencyValue {
  metricName: string;
  labels: { le?: string | number };
  sharedLabels: { backend_set: string };
  value: number;
}

/** A prom-client histogram whose values come from tallies kept outside it. */
class TalliedHistogram extends Histogram<'backend_set' | 'le'> {
  constructor(
    registers: Registry[],
    private readonly tallies: Map<string, LatencyTally>,
  ) {
    super({
      name: LATENCY_NAME,
      help: LATENCY_HELP,
      labelNames: ['backend_set'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
  }

  /**
   * What prom-client's registry (and the base `get()`) read when exporting a histogram; built
   * here from the tallies instead of from observations.
   */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: string;
    values: LatencyValue[];
    aggregator: string;
  }> {
    const values: LatencyValue[] = [];
    for (const [set, t] of this.tallies) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += t.buckets[i] ?? 0;
        values.push({
          metricName: `${LATENCY_NAME}_bucket`,
          labels: { le },
          sharedLabels: { backend_set: set },
          value: cumulative,
        });
      });
      values.push({
        metricName: `${LATENCY_NAME}_bucket`,
        labels: { le: '+Inf' },
        sharedLabels: { backend_set: set },
        value: t.count,
      });
      values.push({
        metricName: `${LATENCY_NAME}_sum`,
        labels: {},
        sharedLabels: { backend_set: set },
        value: t.sum,
      });
      values.push({
        metricName: `${LATENCY_NAME}_count`,
        labels: {},
        sharedLabels: { backend_set: set },
        value: t.count,
      });
    }
    return { name: LATENCY_NAME, help: LATENCY_HELP, type: 'histogram', values, aggregator: 'sum' };
  }
}

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
  /** Exceptions caught in the data path, by where; each closed one exchange, not the process. */
  readonly internalErrors: Counter<'where'>;
  /** Upstream responses refused as malformed (502), by what was wrong. */
  readonly badResponses: Counter<'reason'>;
  /** Previous load balancers' cookies read, by format and whether they named an endpoint. */
  readonly adoptedCookies: Counter<'format' | 'result'>;
  /** HTTP/2 connections opened, and closed by the proxy for a reason (`rapid_reset`). */
  readonly http2Connections: Counter<'event'>;
  readonly #tallies = new Map<string, SetTally>();
  readonly #latencies = new Map<string, LatencyTally>();

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
      help: 'Sticky sessions created, moved to another endpoint (rebalanced), refused (failed) or taken over from a previous load balancer cookie (adopted)',
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
    new TalliedHistogram(registers, this.#latencies);
    this.tableLoaded = new Gauge({
      name: 'tether_route_table_loaded',
      help: '1 once a route table is loaded (with proxy workers: once every one has it)',
      registers,
      aggregator: 'min',
    });
    this.swaps = new Counter({
      name: 'tether_route_table_swaps_total',
      help: 'Route tables swapped in',
      registers,
    });
    this.internalErrors = new Counter({
      name: 'tether_internal_errors_total',
      help: 'Exceptions caught while handling one exchange (the exchange was closed, the proxy kept serving)',
      labelNames: ['where'],
      registers,
    });
    this.badResponses = new Counter({
      name: 'tether_upstream_bad_responses_total',
      help: "Upstream responses refused with 502 because Node's own parser would not accept them, or they were ambiguous",
      labelNames: ['reason'],
      registers,
    });
    this.adoptedCookies = new Counter({
      name: 'tether_adopted_cookies_total',
      help: "Requests that carried a previous load balancer's session cookie, by its format and result: adopted (sent to the endpoint it names, with Tether's cookie) or missed (it names no serving endpoint)",
      labelNames: ['format', 'result'],
      registers,
    });
    this.http2Connections = new Counter({
      name: 'tether_http2_connections_total',
      help: 'HTTP/2 client connections: opened, and closed by the proxy because the client cancelled most of its streams before their answer (rapid_reset)',
      labelNames: ['event'],
      registers,
    });
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'tether_' });
  }

  #tally(set: string): SetTally {
    let t = this.#tallies.get(set);
    if (!t) {
      t = { codes: [], sessions: { created: 0, rebalanced: 0, failed: 0, adopted: 0 }, retries: 0 };
      this.#tallies.set(set, t);
    }
    return t;
  }

  request(set: string, code: number): void {
    const codes = this.#tally(set).codes;
    codes[code] = (codes[code] ?? 0) + 1;
  }

  upstreamLatency(set: string, seconds: number): void {
    let t = this.#latencies.get(set);
    if (!t) {
      t = { buckets: new Float64Array(LATENCY_BUCKETS.length), sum: 0, count: 0 };
      this.#latencies.set(set, t);
    }
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] ?? Infinity)) i++;
    if (i < LATENCY_BUCKETS.length) t.buckets[i] = (t.buckets[i] ?? 0) + 1;
    t.sum += seconds;
    t.count++;
  }

  session(set: string, event: SessionEvent): void {
    this.#tally(set).sessions[event]++;
  }

  retry(set: string): void {
    this.#tally(set).retries++;
  }
}
