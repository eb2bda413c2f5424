// What the CLI and the tests use of the controller; everything else stays inside the package.
export { Controller, type ReconcileListener, type TableSink } from './controller';
export { AcceptedLog } from './events/accepted-log';
export { describeApiError, loadClientNode, networkCodeOf, networkText } from './events/client';
export { oneLine } from './events/note';
export { directoryOf } from './events/objects';
export { listOurEvents, watchOurEvents, type EventQuery } from './events/query';
export { EventRecorder, type EventRecorderOptions } from './events/recorder';
export { SnapshotTap } from './events/tap';
export {
  eventObjectList,
  eventObjectOf,
  groupEvents,
  localEventsFromDiagnostics,
  type EventObject,
  type EventView,
} from './events/view';
export { LeaderElector, type LeaderElectorOptions } from './leader';
export { reconcile, type ReconcileOptions, type ReconcileResult } from './reconcile/reconcile';
export { ReconcileState } from './reconcile/state';
export { CONTROLLER_NAME } from './serving';
export type { Snapshot } from './snapshot';
export { FileSource, manifestFilesIn } from './sources/files';
export { KubeConfigError, loadKubeConfig, serverOf, type KubeConfig } from './sources/kube-client';
export { WATCHED_RESOURCES } from './sources/kube-resources';
export { KubeSource, type KubeSourceOptions } from './sources/kube';
export type { RouteParentStatus } from './status-desired';
export { StatusWriter } from './status';
