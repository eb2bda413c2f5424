// What the OCI load balancer and the OCI native ingress controller share.
export { annotation, isBlank, presentKeys } from './annotations';
export { ociAnnotations } from './emit-annotations';
export { ociLosses } from './emit-losses';
export { planPersistence, planWrite, readBack, type OciTarget } from './emit-plan';
export { OCI_POLICY_NAMES, ociPolicyAlgorithm, readOciPolicy } from './features/balancing';
export { applyAppCookie, checkCookieName, OCI_DEFAULT_COOKIE_NAME } from './features/cookie';
export { applyCookiePersistence, isPlainHttpListener } from './features/persistence';
export { suggestField } from './suggest';
