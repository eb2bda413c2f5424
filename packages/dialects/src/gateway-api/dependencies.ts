import { entriesOf } from '../kube';
import type { KubeObject, ParseContext } from '../types';
import { isSessionPolicy, policyDependencies, readPolicy } from './features/policies';
import { backendTlsDependencies } from './features/backend-tls';
import { attachmentDependencies } from './route-attachment';

/**
 * What else a gateway-api parse of `object` reads from the snapshot: an HTTPRoute takes the
 * session policies of its Services, a policy yields to older policies on its Services.
 */
export function gatewayDependencies(object: KubeObject, context: ParseContext): KubeObject[] {
  if (isSessionPolicy(object))
    return policyDependencies(object, context, readPolicy(object).targets);
  if (object.kind === 'TLSRoute') return attachmentDependencies(object, context);
  if (object.kind !== 'HTTPRoute' && object.kind !== 'GRPCRoute') return [];
  const backends = (entriesOf(object).spec ?? []).map((e) => e.backend);
  return [
    ...policyDependencies(object, context, backends),
    ...backendTlsDependencies(context, backends),
    ...attachmentDependencies(object, context),
  ];
}
