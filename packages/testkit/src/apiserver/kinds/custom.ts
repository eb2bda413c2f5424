/**
 * Custom resources Tether reads when their CRDs exist: Gateway API, its experimental
 * BackendTrafficPolicy, and OpenShift Routes. Like any custom resource without a schema
 * they are stored as given (no pruning, no defaulting), keep metadata.generation, and have a
 * `/status` subresource.
 */
import { resource, type OptionalGroup, type ResourceDef } from '../resource';

function custom(
  optionalGroup: OptionalGroup,
  version: string,
  plural: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[] = [],
): ResourceDef {
  return resource({
    group: optionalGroup,
    version,
    plural,
    singular: kind.toLowerCase(),
    kind,
    namespaced,
    shortNames,
    hasStatus: true,
    hasGeneration: true,
    custom: true,
    optionalGroup,
  });
}

export const gatewayclasses = custom(
  'gateway.networking.k8s.io',
  'v1',
  'gatewayclasses',
  'GatewayClass',
  false,
  ['gc'],
);
export const gateways = custom('gateway.networking.k8s.io', 'v1', 'gateways', 'Gateway', true, [
  'gtw',
]);
export const httproutes = custom(
  'gateway.networking.k8s.io',
  'v1',
  'httproutes',
  'HTTPRoute',
  true,
);
export const grpcroutes = custom(
  'gateway.networking.k8s.io',
  'v1',
  'grpcroutes',
  'GRPCRoute',
  true,
);
export const tlsroutes = custom('gateway.networking.k8s.io', 'v1', 'tlsroutes', 'TLSRoute', true);
export const backendtlspolicies = custom(
  'gateway.networking.k8s.io',
  'v1',
  'backendtlspolicies',
  'BackendTLSPolicy',
  true,
  ['btlspolicy'],
);
export const xbackendtrafficpolicies = custom(
  'gateway.networking.x-k8s.io',
  'v1alpha1',
  'xbackendtrafficpolicies',
  'XBackendTrafficPolicy',
  true,
  ['xbtrafficpolicy'],
);
export const referencegrants = custom(
  'gateway.networking.k8s.io',
  'v1beta1',
  'referencegrants',
  'ReferenceGrant',
  true,
  ['refgrant'],
);
export const routes = custom('route.openshift.io', 'v1', 'routes', 'Route', true);
