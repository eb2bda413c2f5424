// The schemas, reasons and resolve() every other package builds on.
export {
  adoptionInForce,
  formatAdoptionSources,
  parseAdoptionSources,
  type AdoptionSource,
  type ParsedAdoption,
} from './adoption';
export { assemble, type MergedValues } from './assemble';
export {
  Diagnostic,
  error,
  formatDiagnostic,
  info,
  quote,
  Severity,
  warning,
  type Reason,
} from './diagnostics';
export { humanDuration } from './duration';
export type { FieldValue, PolicyField } from './fields';
export { flattenPolicy, type FlatValues } from './flatten';
export {
  BackendFragment,
  EntryFragment,
  Fragment,
  PRECEDENCE,
  setField,
  type FieldValues,
} from './fragment';
export {
  AdoptableFormat,
  BackendProtocol,
  backendSpeaksHttp2,
  backendSpeaksTls,
  BackendTls,
  BalancingAlgorithm,
  CookieAdoption,
  CookieSpec,
  LoadBalancing,
  PersistenceMode,
  PersistencePolicy,
  RouteSettings,
  SameSite,
} from './policy';
export {
  backendKey,
  BackendRef,
  describeSource,
  DialectId,
  entryKey,
  EntryRef,
  Listener,
  Origin,
  PathMatchType,
  SourceRef,
} from './refs';
export {
  blamedObjects,
  dedupeDiagnostics,
  refusedEntry,
  refuseEntriesWithErrors,
  resolve,
  type ResolvedEntry,
  type ResolveResult,
} from './resolve';
