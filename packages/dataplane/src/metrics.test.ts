import { describe, expect, it } from '@jest/globals';
import { ProxyMetrics } from './metrics';

describe('metrics', () => {
  it('exports tallied counters and the latency histogram in Prometheus text and JSON', async () => {
    const m = new ProxyMetrics(false);
    m.request('set-a', 200);
    m.request('set-a', 200);
    m.request('set-a', 502);
    m.session('set-a', 'created');
    m.session('set-a', 'failed');
    m.retry('set-a');
    m.upstreamLatency('set-a', 0.003);
    m.upstreamLatency('set-a', 0.2);
    m.upstreamLatency('set-a', 30);
    const text = await m.registry.metrics();
    for (const line of [
      'tether_requests_total{backend_set="set-a",code="200"} 2',
      'tether_requests_total{backend_set="set-a",code="502"} 1',
      'tether_sessions_total{backend_set="set-a",event="created"} 1',
      'tether_sessions_total{backend_set="set-a",event="failed"} 1',
      'tether_upstream_retries_total{backend_set="set-a"} 1',
      'tether_upstream_latency_seconds_bucket{le="0.0025",backend_set="set-a"} 0',
      'tether_upstream_latency_seconds_bucket{le="0.005",backend_set="set-a"} 1',
      'tether_upstream_latency_seconds_bucket{le="0.25",backend_set="set-a"} 2',
      'tether_upstream_latency_seconds_bucket{le="10",backend_set="set-a"} 2',
      'tether_upstream_latency_seconds_bucket{le="+Inf",backend_set="set-a"} 3',
      'tether_upstream_latency_seconds_sum{backend_set="set-a"} 30.203',
      'tether_upstream_latency_seconds_count{backend_set="set-a"} 3',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).not.toContain('event="rebalanced"');
    const json = await m.registry.getMetricsAsJSON();
    const latency = json.find((x) => x.name === 'tether_upstream_latency_seconds');
    expect(latency?.values.at(-1)).toEqual({
      metricName: 'tether_upstream_latency_seconds_count',
      value: 3,
      labels: { backend_set: 'set-a' },
    });
  });
});
