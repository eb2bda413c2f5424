/**
 * Picking an endpoint for a request that no session pins: first a backend of the side (by
 * backend weight), then one of its endpoints by the set's algorithm. Only endpoints that
 * take new sessions and are not marked down by a recent refused connection are candidates.
 * Loops over arrays instead of filtering them, so that a pick allocates nothing.
 */
import type { BalancingAlgorithm } from '@tether/model';
import { rendezvousScore } from './hash';
import { acceptsNew, type BackendRuntime, type EndpointRuntime, type Side } from './runtime';

/** Latency assumed for an endpoint that has not answered yet, in ms. */
const EWMA_DEFAULT_MS = 10;

export interface PickOptions {
  algorithm: BalancingAlgorithm;
  /** The hashed request value for `hash` and `sourceIpHash`. */
  key: number;
  nowMs: number;
  /** An endpoint that just failed for this request. */
  exclude: EndpointRuntime | undefined;
}

export function candidate(ep: EndpointRuntime, o: PickOptions): boolean {
  return acceptsNew(ep) && ep !== o.exclude && ep.stats.downUntil <= o.nowMs;
}

function hasCandidate(b: BackendRuntime, o: PickOptions): boolean {
  for (const ep of b.endpoints) if (candidate(ep, o)) return true;
  return false;
}

function byHash(b: BackendRuntime, o: PickOptions): EndpointRuntime | undefined {
  let best: EndpointRuntime | undefined;
  let bestScore = -Infinity;
  for (const ep of b.endpoints) {
    if (!candidate(ep, o)) continue;
    const s = rendezvousScore(o.key, { seed: ep.seed, weight: ep.weight });
    if (s > bestScore) {
      bestScore = s;
      best = ep;
    }
  }
  return best;
}

/** nginx's smooth weighted round robin: even spread, weights honoured, no bursts. */
function roundRobin(b: BackendRuntime, o: PickOptions): EndpointRuntime | undefined {
  let total = 0;
  let best: EndpointRuntime | undefined;
  for (const ep of b.endpoints) {
    if (!candidate(ep, o)) continue;
    ep.current += ep.weight;
    total += ep.weight;
    if (!best || ep.current > best.current) best = ep;
  }
  if (best) best.current -= total;
  return best;
}

function leastConnections(b: BackendRuntime, o: PickOptions): EndpointRuntime | undefined {
  const n = b.endpoints.length;
  let best: EndpointRuntime | undefined;
  let bestLoad = Infinity;
  // Start where the last pick stopped, so that ties rotate instead of piling on the first.
  const start = b.rr++ % Math.max(n, 1);
  for (let i = 0; i < n; i++) {
    const ep = b.endpoints[(start + i) % n];
    if (!ep || !candidate(ep, o)) continue;
    const load = (ep.stats.active + 1) / ep.weight;
    if (load < bestLoad) {
      bestLoad = load;
      best = ep;
    }
  }
  return best;
}

function weightedRandom(b: BackendRuntime, o: PickOptions): EndpointRuntime | undefined {
  let total = 0;
  for (const ep of b.endpoints) if (candidate(ep, o)) total += ep.weight;
  let r = Math.random() * total;
  let last: EndpointRuntime | undefined;
  for (const ep of b.endpoints) {
    if (!candidate(ep, o)) continue;
    last = ep;
    r -= ep.weight;
    if (r < 0) return ep;
  }
  return last;
}

/** Power of two choices on latency × load, as nginx's EWMA balancer does. */
function ewma(b: BackendRuntime, o: PickOptions): EndpointRuntime | undefined {
  const first = weightedRandom(b, o);
  if (!first) return undefined;
  const second = weightedRandom(b, { ...o, exclude: first });
  if (!second || second === o.exclude) return first;
  const score = (ep: EndpointRuntime): number =>
    ((ep.stats.ewmaMs || EWMA_DEFAULT_MS) * (ep.stats.active + 1)) / ep.weight;
  return score(second) < score(first) ? second : first;
}

function pickInBackend(b: BackendRuntime, o: PickOptions): EndpointRuntime | undefined {
  switch (o.algorithm) {
    case 'roundRobin':
      return roundRobin(b, o);
    case 'leastConnections':
      return leastConnections(b, o);
    case 'random':
      return weightedRandom(b, o);
    case 'ewma':
      return ewma(b, o);
    case 'sourceIpHash':
    case 'hash':
      return byHash(b, o);
  }
}

function pickBackend(side: Side, o: PickOptions): BackendRuntime | undefined {
  if (side.backends.length === 1) {
    const only = side.backends[0];
    return only && hasCandidate(only, o) ? only : undefined;
  }
  const hashed = o.algorithm === 'hash' || o.algorithm === 'sourceIpHash';
  let total = 0;
  let best: BackendRuntime | undefined;
  let bestScore = -Infinity;
  for (const b of side.backends) {
    if (b.weight <= 0 || !hasCandidate(b, o)) continue;
    if (hashed) {
      const s = rendezvousScore(o.key, { seed: b.seed, weight: b.weight });
      if (s > bestScore) {
        bestScore = s;
        best = b;
      }
    } else {
      total += b.weight;
      if (Math.random() * total < b.weight) best = b; // reservoir sampling by weight
    }
  }
  return best;
}

/** An endpoint of the side for a request no session pins, or undefined when none can take it. */
export function pickEndpoint(side: Side, o: PickOptions): EndpointRuntime | undefined {
  const backend = pickBackend(side, o);
  return backend ? pickInBackend(backend, o) : undefined;
}
