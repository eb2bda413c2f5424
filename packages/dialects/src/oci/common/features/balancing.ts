/** OCI load-balancer policies (ROUND_ROBIN, LEAST_CONNECTIONS, IP_HASH): what each one is in the model. */
import type { BalancingAlgorithm } from '@tether/model';
import { refusedByVendor, type FieldCollector } from '../../../helpers';
import type { KubeObject } from '../../../types';
import { annotation } from '../annotations';

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

/**
 * Reads a policy annotation: absent, the product's default; an OCI name, its algorithm; any
 * other value, refused as `refuser` refuses it (the cloud controller manager refuses the
 * Service, the native ingress controller's backend set is refused by the OCI API).
 */
export function readOciPolicy(
  object: KubeObject,
  c: FieldCollector,
  key: string,
  fallback: BalancingAlgorithm,
  refuser: string,
): void {
  const raw = annotation(object, key);
  if (raw === undefined) {
    c.setDefault('loadBalancing.algorithm', fallback, key);
    return;
  }
  const algorithm = ociPolicyAlgorithm(raw);
  if (algorithm) c.set('loadBalancing.algorithm', algorithm, key);
  else
    c.diagnostics.push(
      refusedByVendor(
        c.source(key),
        raw,
        `exactly ROUND_ROBIN, LEAST_CONNECTIONS or IP_HASH; ${refuser}`,
      ),
    );
}
