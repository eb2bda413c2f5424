import type { Diagnostic, DialectId, SourceRef } from '@tether/model';
import type { KubeObject } from '@tether/dialects';

export interface MigrateOptions {
  to: DialectId;
  /** Only settings of this dialect move; by default every dialect other than the target. */
  from?: DialectId;
  /** Also write values equal to the target's defaults. */
  explicit?: boolean;
  /** Keep the source object next to a converted one. */
  keepSource?: boolean;
  /** The Gateway that HTTPRoutes made from Ingresses or Routes attach to. */
  gateway?: string;
  /** The IngressClass that Ingresses made from Routes or HTTPRoutes name. */
  ingressClass?: string;
  /** Gateway API: write the released sessionPersistence shape (default) or the newer union. */
  sessionShape?: 'released' | 'union';
  /**
   * Write `tether.dev/adopt-cookies` where the source's cookie can be adopted (ingress-nginx,
   * OpenShift), so that Tether keeps the sessions the previous controller started.
   */
  adoptCookies?: boolean;
  /** RFC 3339 end of that adoption (`tether.dev/adopt-cookies-until`). */
  adoptCookiesUntil?: string;
}

export interface ObjectName {
  kind: string;
  namespace: string;
  name: string;
}

/** One setting and what became of it. */
export interface FieldOutcome {
  entry: string;
  field: string;
  before?: unknown;
  after?: unknown;
  /** Where the value came from in the input. */
  source?: SourceRef;
  /** Where the target now says it, when it does. */
  target?: SourceRef;
}

export interface ObjectReport {
  file: string;
  line: number;
  object: ObjectName;
  from: DialectId[];
  to: DialectId;
  action: 'rewritten' | 'converted' | 'moved' | 'refused';
  /** Objects written or changed to carry the settings. */
  written: ObjectName[];
  carried: FieldOutcome[];
  lost: FieldOutcome[];
  /** Differences with no effect on this object (a canary setting where no canary routes): not losses. */
  moot: (FieldOutcome & { why: string })[];
  /** Settings the source left unset that the target fills with its own default. */
  added: FieldOutcome[];
  notes: string[];
  diagnostics: Diagnostic[];
  /** Fields whose loss the target's emitters already state (their `covers`). */
  covered: Set<string>;
}

export interface MigrationResult {
  /** New text of every input file (unchanged files byte for byte). */
  texts: Map<string, string>;
  /** Every object after migration, in input order, for JSON output. */
  objects: KubeObject[];
  reports: ObjectReport[];
  /** Problems reading the input: those documents are passed through untouched. */
  inputDiagnostics: Diagnostic[];
  exitCode: 0 | 1 | 3;
}
