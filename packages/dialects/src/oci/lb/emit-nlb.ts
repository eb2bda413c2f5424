import type { FlatValues } from '@tether/model';
import type { Notes } from '../../emit-losses';
import { annotation, planPersistence } from '../common';
import type { KubeObject } from '../../types';
import { KEYS, NLB_POLICY_NAMES } from './annotations';

type NlbPolicy = (typeof NLB_POLICY_NAMES)[number];

const NLB = 'an OCI network load balancer (load-balancer-type: nlb)';
const FIVE_TUPLE_KEY = '$remote_addr:$remote_port';

function planNlbPolicy(flat: FlatValues, notes: Notes): NlbPolicy {
  const algorithm = flat['loadBalancing.algorithm'] ?? 'roundRobin';
  const hashKey = flat['loadBalancing.hashKey'];
  if (algorithm === 'sourceIpHash') return 'TWO_TUPLE';
  if (algorithm === 'hash' && hashKey === FIVE_TUPLE_KEY) return 'FIVE_TUPLE';
  if (algorithm === 'hash' && hashKey === '$remote_addr') {
    const note = `${NLB} cannot hash on a request value; TWO_TUPLE, which hashes the client address as $remote_addr does, is written instead`;
    notes['loadBalancing.algorithm'] = note;
    notes['loadBalancing.hashKey'] = note;
    return 'TWO_TUPLE';
  }
  notes['loadBalancing.algorithm'] =
    `${NLB} only hashes connections (backend-policy FIVE_TUPLE, THREE_TUPLE or TWO_TUPLE); it has no ${algorithm} balancing, so the default FIVE_TUPLE applies`;
  if (hashKey !== undefined)
    notes['loadBalancing.hashKey'] =
      `${NLB} hashes the client address and port, not ${hashKey}; the default FIVE_TUPLE applies`;
  return 'FIVE_TUPLE';
}

/** What the oci-lb parser reads from a network load balancer with this backend policy. */
function readBackNlb(policy: NlbPolicy): FlatValues {
  const flat: FlatValues = { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' };
  if (policy !== 'FIVE_TUPLE') return { ...flat, 'loadBalancing.algorithm': 'sourceIpHash' };
  return { ...flat, 'loadBalancing.algorithm': 'hash', 'loadBalancing.hashKey': FIVE_TUPLE_KEY };
}

/**
 * A network load balancer keeps no sessions: only its hashing policy can be written. It is not
 * switched to a layer-7 load balancer, since OCI would replace the load balancer to do that.
 */
export function planNlb(
  object: KubeObject,
  flat: FlatValues,
  explicit: boolean,
): { annotations: Record<string, string>; expected: FlatValues; notes: Notes; diagnostics: [] } {
  const notes: Notes = {};
  planPersistence(
    flat,
    {
      defaultPolicy: 'ROUND_ROBIN',
      keepsAppCookieFallback: true,
      noPersistence: `${NLB} has no cookie persistence; OCI keeps cookie sessions only on layer-7 load balancers`,
      allHttps: false,
      explicit,
    },
    notes,
  );
  if (flat.mode === 'sourceIp')
    notes.mode = `${NLB} keeps no sessions; its TWO_TUPLE backend policy hashes client addresses, which is balancing, not a session`;
  if (flat.mode === 'header') notes.mode = `${NLB} keeps no sessions; it cannot pin by header`;
  const policy = planNlbPolicy(flat, notes);
  const existing = annotation(object, KEYS.nlbPolicy);
  const annotations: Record<string, string> = {};
  if (existing !== policy && (policy !== 'FIVE_TUPLE' || explicit || existing !== undefined))
    annotations[KEYS.nlbPolicy] = policy;
  return { annotations, expected: readBackNlb(policy), notes, diagnostics: [] };
}
