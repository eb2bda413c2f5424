// The public face of the dialects: the registry, the analysis pipeline, the readers of
// Kubernetes objects and manifests that the migration, the controller and the CLI share.
export { DIALECTS, findDialect } from './registry';
export { analyze, crossCheck, parseContext, parseObject, type Analysis } from './pipeline';
export type { Dialect, KubeObject, ParseContext, ParsedObject } from './types';
export {
  annotationsOf,
  conditionalMatch,
  entriesOf,
  grpcMethodPath,
  grpcRulePaths,
  httpRulePaths,
  ingressEntries,
  namespaceOf,
  readGRPCRoute,
  readHTTPRoute,
  readIngress,
  readRoute,
  readService,
  readTLSRoute,
  sourceOf,
} from './kube';
export { indexLocated, locateSource, readManifestText, type LocatedObject } from './manifest';
export { applyToObject, emptyEdits, mergeEdits, type ObjectEdits } from './edits';
export { flatOf } from './emit-losses';
export { gatewayIndex, listenerServes, type GatewayListener } from './gateway-api/gateways';
export { attachRoute, type ParentAttachment } from './gateway-api/route-attachment';
export { referenceGranted } from './gateway-api/reference-grants';
