import { Diagnostic, FieldValue, PolicyField, warning } from '@tether/model';
import { FieldCollector, refusedByVendor } from '../../../helpers';
import { sourceOf } from '../../../kube';
import type { KubeObject } from '../../../types';
import { annotation, isBlank } from '../../common';
import { KEYS } from '../annotations';

const DIALECT = 'oci-lb';

/**
 * How the network load balancer spreads connections. FIVE_TUPLE hashes each connection
 * (client address and port), so a new connection may land anywhere; the other two hash the
 * client address only, which keeps a client on one backend.
 */
export function readNlbPolicy(object: KubeObject, c: FieldCollector): void {
  const raw = annotation(object, KEYS.nlbPolicy);
  const value = raw ?? 'FIVE_TUPLE';
  const set = <F extends PolicyField>(field: F, v: FieldValue<F>): void =>
    raw === undefined ? c.setDefault(field, v, KEYS.nlbPolicy) : c.set(field, v, KEYS.nlbPolicy);
  if (value === 'FIVE_TUPLE') {
    set('loadBalancing.algorithm', 'hash');
    set('loadBalancing.hashKey', '$remote_addr:$remote_port');
  } else if (value === 'THREE_TUPLE' || value === 'TWO_TUPLE') {
    set('loadBalancing.algorithm', 'sourceIpHash');
  } else {
    c.diagnostics.push(
      refusedByVendor(
        c.source(KEYS.nlbPolicy),
        value,
        'exactly FIVE_TUPLE, THREE_TUPLE or TWO_TUPLE; the OCI cloud controller manager refuses the Service',
      ),
    );
  }
}

/**
 * Everything the network load balancer does not read: cookie persistence (it has none) and
 * the layer-7 listener and policy settings. Each one is reported, none is applied.
 */
export function warnIgnoredOnNlb(object: KubeObject, diagnostics: Diagnostic[]): void {
  for (const key of [KEYS.lbCookie, KEYS.appCookie]) {
    const raw = annotation(object, key);
    if (raw === undefined || isBlank(raw)) continue;
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${key} has no effect: OCI network load balancers (${KEYS.lbType}: nlb) have no cookie persistence, so the cloud controller manager ignores it`,
        sourceOf(DIALECT, object, key),
        sourceOf(DIALECT, object, KEYS.lbType),
      ),
    );
  }
  for (const key of [
    KEYS.policy,
    KEYS.backendProtocol,
    KEYS.sslPorts,
    KEYS.tlsSecret,
    KEYS.backendSetSecret,
  ]) {
    if (annotation(object, key) === undefined) continue;
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${key} applies only to the layer-7 load balancer; it has no effect with ${KEYS.lbType}: nlb`,
        sourceOf(DIALECT, object, key),
      ),
    );
  }
}
