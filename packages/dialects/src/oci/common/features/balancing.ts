/** OCI load-balancer policies (ROUND_ROBIN, LEAST_CONNECTIONS, IP_HASH): what each one is in the model. */
import type { BalancingAlgorithm } from '@tether/model';

/** OCI load-balancer policies (names are matched exactly) and the algorithm each one is. */
export const OCI_POLICIES: Readonly<Record<string, BalancingAlgorithm>> = {
  ROUND_ROBIN: 'roundRobin',
  LEAST_CONNECTIONS: 'leastConnections',
  IP_HASH: 'sourceIpHash',
};

export const OCI_POLICY_NAMES = Object.keys(OCI_POLICIES);

export function ociPolicyAlgorithm(name: string): BalancingAlgorithm | undefined {
  return Object.prototype.hasOwnProperty.call(OCI_POLICIES, name) ? OCI_POLICIES[name] : undefined;
}
