export * from './snapshot';
export * from './serving';
export * from './endpoints';
export * from './parse-cache';
export * from './reconcile';
export * from './controller';
export * from './sources/source';
export * from './sources/files';
export * from './sources/kube';
export * from './sources/kube-client';
export * from './sources/kube-resources';
export { backoffDelay, type BackoffOptions } from './sources/kube-backoff';
export type { InformerStats } from './sources/kube-informer';
export * from './status';
export {
  desiredParents,
  loadBalancerIngress,
  routeConditions,
  type Condition,
  type RouteParentStatus,
} from './status-desired';
export * from './events';
export * from './leader';
