import type { Diagnostic, Reason } from '@tether/model';

export type EventType = 'Normal' | 'Warning';

/** Who writes our Events; `tether events` and the seeding list select on it. */
export const REPORTING_CONTROLLER = 'tether.dev/ingress-controller';
/** The `action` of every Event we write: they all come out of one reconcile. */
export const EVENT_ACTION = 'Reconcile';
/** The reason of the Normal Event that says an object's configuration is accepted again. */
export const ACCEPTED_REASON: Reason = 'Accepted';

/**
 * Warnings after which Tether still serves the object exactly as it is written: the Event only
 * adds context (a spelling read in its canonical form, a vendor nuance reproduced
 * approximately, a dialect default that gave way to a value the user wrote, settings the vendor
 * would share that Tether keeps per object, a kind Tether does not read, a migration gap).
 * They become `Normal` Events.
 *
 * Every other warning changes behaviour — something written is ignored, refused, overridden or
 * served differently (an invalid or unknown annotation, a conflict, an overridden value, a
 * Secure cookie on plain HTTP, a route that is not served, a missing backend) — and becomes a
 * `Warning` Event, as every error does. A reason added to the catalogue later is a `Warning`
 * until it is listed here: the safe side for a reader who filters on `--types=Warning`.
 */
export const ADVISORY_REASONS: ReadonlySet<Reason> = new Set<Reason>([
  'ValueNormalised',
  'NotReproduced',
  'DefaultOverridden',
  'VendorWouldMerge',
  'UnknownKind',
  'UnsupportedByTarget',
  'Accepted',
]);

/**
 * The Event type of a diagnostic, or undefined when it is not written at all: `info`
 * diagnostics describe how a correct configuration is read (`tether explain` shows them) and
 * would bury the problems under one Event per object.
 */
export function eventTypeOf(d: Pick<Diagnostic, 'severity' | 'reason'>): EventType | undefined {
  if (d.severity === 'error') return 'Warning';
  if (d.severity === 'warning') return ADVISORY_REASONS.has(d.reason) ? 'Normal' : 'Warning';
  return undefined;
}
