import type { Dialect, KubeObject } from '../types';
import { GATEWAY_TABLE } from './annotations';
import { crossCheckCookieNames } from './cross-check';
import { gatewayDependencies } from './dependencies';
import { emit, ownedSpec, targetKinds } from './emit';
import { parseGateway } from './parse';
import { apiGroup, isSessionPolicy } from './features/policies';
import { isBackendTlsPolicy } from './features/backend-tls';

/**
 * Every HTTPRoute is read, not only those with sessionPersistence: a backend policy on one of
 * its Services gives its rules session persistence too.
 */
function applies(object: KubeObject): boolean {
  return (
    ((object.kind === 'HTTPRoute' || object.kind === 'GRPCRoute' || object.kind === 'TLSRoute') &&
      apiGroup(object) === 'gateway.networking.k8s.io') ||
    isSessionPolicy(object) ||
    isBackendTlsPolicy(object)
  );
}

export const gatewayApi: Dialect = {
  id: 'gateway-api',
  title:
    'Gateway API sessionPersistence (HTTPRoute, GRPCRoute, BackendTrafficPolicy) and BackendTLSPolicy',
  prefixes: [],
  table: GATEWAY_TABLE,
  appliesTo: applies,
  parse: parseGateway,
  crossCheck: crossCheckCookieNames,
  dependencies: gatewayDependencies,
  targetKinds,
  emit,
  ownedSpec,
};
