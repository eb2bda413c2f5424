/**
 * Balancing: `haproxy.router.openshift.io/balance` — read (with the router's defaults, which
 * depend on the split and on passthrough) and written back as the nearest `balance` value.
 */
import { quote, type BalancingAlgorithm, type FlatValues } from '@tether/model';
import type { Notes } from '../../emit-losses';
import { ignoredByVendor, type FieldCollector } from '../../helpers';
import type { RouteSpec } from '../../kube';
import { ALTERNATE_BACKENDS, BALANCE, BALANCE_VALUES } from '../annotations';
import { VENDOR, isOneOf } from '../router';

export type Balance = (typeof BALANCE_VALUES)[number];

export const ALGORITHMS: Record<(typeof BALANCE_VALUES)[number], BalancingAlgorithm> = {
  roundrobin: 'roundRobin',
  leastconn: 'leastConnections',
  source: 'sourceIpHash',
  random: 'random',
};

/** Services with weight above 0 after the router's clamping (absent = 1, range 0–256). */
function activeServices(spec: RouteSpec): number {
  const weights = new Map<string, number>();
  for (const to of [spec.to, ...(spec.alternateBackends ?? [])])
    weights.set(to.name, Math.min(256, Math.max(0, to.weight ?? 1)));
  return [...weights.values()].filter((w) => w > 0).length;
}

/**
 * The algorithm the router uses when `balance` is absent or invalid. A split over several
 * active Services is balanced round robin whatever the router's environment says; otherwise
 * the router's own default applies (random, source for TCP).
 */
export function defaultAlgorithm(spec: RouteSpec, passthrough: boolean): BalancingAlgorithm {
  if (activeServices(spec) > 1) return 'roundRobin';
  return passthrough ? 'sourceIpHash' : 'random';
}

export function readBalance(
  c: FieldCollector,
  spec: RouteSpec,
  raw: string | undefined,
  passthrough: boolean,
): BalancingAlgorithm {
  if (isOneOf(BALANCE_VALUES, raw)) {
    c.set('loadBalancing.algorithm', ALGORITHMS[raw], BALANCE);
    return ALGORITHMS[raw];
  }
  if (raw !== undefined) {
    c.diagnostics.push(
      ignoredByVendor(
        VENDOR,
        c.source(BALANCE),
        raw,
        BALANCE_VALUES.join(', '),
        'use its default algorithm',
      ),
    );
  }
  const algorithm = defaultAlgorithm(spec, passthrough);
  const split = activeServices(spec) > 1;
  c.setDefault('loadBalancing.algorithm', algorithm, split ? ALTERNATE_BACKENDS : BALANCE);
  return algorithm;
}

const BALANCE_OF: Partial<Record<BalancingAlgorithm, Balance>> = Object.fromEntries(
  Object.entries(ALGORITHMS).map(([balance, algorithm]) => [algorithm, balance as Balance]),
);

/** nginx-style hash keys that hash the client address, as `balance: source` does. */
const ADDRESS_KEYS = ['$remote_addr', '$binary_remote_addr'];

/** The `balance` value closest to the source's algorithm, with notes where it is not exact. */
export function planBalance(flat: FlatValues, notes: Notes): Balance | undefined {
  const algorithm = flat['loadBalancing.algorithm'];
  const key = flat['loadBalancing.hashKey'];
  if (flat.mode === 'sourceIp') {
    const note =
      'written as balance: source, the router’s nearest match for source-IP persistence (see mode)';
    if (algorithm !== 'sourceIpHash') notes['loadBalancing.algorithm'] = note;
    if (key !== undefined) notes['loadBalancing.hashKey'] = note;
    return 'source';
  }
  if (algorithm === undefined) return undefined;
  const direct = BALANCE_OF[algorithm];
  if (direct !== undefined) return direct;
  if (algorithm === 'ewma') {
    notes['loadBalancing.algorithm'] =
      'the router has no latency-weighted (EWMA) balancing; written as leastconn, which also sends new requests to the least busy endpoints';
    return 'leastconn';
  }
  if (key !== undefined && ADDRESS_KEYS.includes(key)) {
    const note = `the router hashes only the client address, with balance: source, which is what ${key} hashed; written as source`;
    notes['loadBalancing.algorithm'] = note;
    notes['loadBalancing.hashKey'] = note;
    return 'source';
  }
  const note = `the router can hash only the client address (balance: source), not ${quote(key ?? '(no key)')}; its default algorithm applies`;
  notes['loadBalancing.algorithm'] = note;
  if (key !== undefined) notes['loadBalancing.hashKey'] = note;
  return undefined;
}
