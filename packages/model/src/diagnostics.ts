import { z } from 'zod';
import { SourceRef, describeSource } from './refs';

/**
 * The closed catalogue of reasons. A reason is a stable CamelCase word: tests, Events and
 * tools match on it, never on the message.
 */
export const REASONS = {
  // Reading input
  UnreadableFile: 'a manifest file or folder could not be read',
  InvalidManifest: 'a document is not valid YAML/JSON or not a Kubernetes object',
  KeptLastGoodManifest:
    'a manifest file no longer parses (perhaps caught half-written); the objects last read from it are still served',
  InvalidObject: 'a Kubernetes object does not have the shape its kind requires',
  UnknownKind: 'a Kubernetes object of a kind Tether does not read',
  // One annotation or field
  InvalidAnnotation: 'an annotation or field value is not valid',
  InvalidJson: 'an annotation that holds JSON is not valid JSON',
  UnknownAnnotation: 'an annotation key with a known prefix that the dialect does not define',
  UnknownField: 'a JSON or spec field the vendor does not define (it would be ignored or pruned)',
  MissingValue: 'a setting that another setting requires is missing',
  IneffectiveSetting: 'a setting the vendor would accept but not apply',
  ValueNormalised: 'a value the vendor accepts in another spelling, read in its canonical form',
  NotReproduced: 'a vendor behaviour that Tether reads but reproduces only approximately',
  // Combinations
  ConflictingPersistence: 'two persistence models configured for one entry point and backend',
  ConflictingValues: 'two explicit values disagree for one setting of one entry point and backend',
  ConflictingLoadBalancing: 'two balancing policies configured for one backend set',
  IncompatibleSettings: 'settings the vendor does not allow together',
  InsecureCookieOnHttpListener: 'a Secure-only cookie on a listener that serves only plain HTTP',
  PersistenceOnTcpListener: 'cookie or header persistence on a TCP listener',
  DuplicateCookieName: 'one cookie name used for sessions of different backends in one split',
  DefaultOverridden: "a dialect's default gave way to another dialect's explicit value",
  ValueOverridden: 'a value was overridden by a setting of higher precedence',
  VendorWouldMerge: 'the vendor would share this setting across objects that Tether keeps apart',
  BalancingOverriddenByPersistence: 'persistence takes precedence over the balancing setting',
  CookiePathIsRegex: 'the cookie Path would be the text of a regular expression',
  // Reconcile and migration
  BackendNotFound: 'a route names a Service or port that does not exist',
  DuplicateRoute:
    "two entry points claim the same host and path; the older one is served (on the proxy's own ports, a Gateway listener's route before an Ingress or Route)",
  PortUnavailable: 'a Service port Tether could not listen on; its other ports are served',
  CanaryWithoutPrimary: 'a canary names a host and path that no primary entry point serves',
  TlsSecretNotFound: 'an Ingress names a TLS Secret that does not exist',
  InvalidTlsSecret: 'a TLS Secret whose certificate or key is missing or cannot be loaded',
  ConflictingTlsSecret:
    'two Ingresses name different TLS Secrets for one host; the older one is served',
  NotAttached:
    'a Gateway API route that no listener of a parent Gateway takes; it is not served there',
  RefNotPermitted: 'a reference to another namespace that no ReferenceGrant there allows',
  UnsupportedByTarget: 'the target dialect cannot express this setting',
  Accepted: 'the configuration was accepted',
} as const;

export type Reason = keyof typeof REASONS;
export const ReasonSchema = z.enum(Object.keys(REASONS) as [Reason, ...Reason[]]);

export const Severity = z.enum(['error', 'warning', 'info']);
export type Severity = z.infer<typeof Severity>;

export const Diagnostic = z.object({
  severity: Severity,
  reason: ReasonSchema,
  message: z.string(),
  sources: z.array(SourceRef),
});
export type Diagnostic = z.infer<typeof Diagnostic>;

export function diagnostic(
  severity: Severity,
  reason: Reason,
  message: string,
  sources: SourceRef[],
): Diagnostic {
  return { severity, reason, message, sources };
}

export const error = (reason: Reason, message: string, ...sources: SourceRef[]): Diagnostic =>
  diagnostic('error', reason, message, sources);

export const warning = (reason: Reason, message: string, ...sources: SourceRef[]): Diagnostic =>
  diagnostic('warning', reason, message, sources);

export const info = (reason: Reason, message: string, ...sources: SourceRef[]): Diagnostic =>
  diagnostic('info', reason, message, sources);

/** Quote a user-supplied value for a message: bounded length, control characters escaped. */
export function quote(value: unknown, max = 80): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const escaped = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return escaped;
}

/** One line naming a diagnostic's reason, message and every source; used by the CLI and logs. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.sources.map(describeSource).join('; ');
  return `${d.severity} ${d.reason}: ${d.message}${where ? ` [${where}]` : ''}`;
}
