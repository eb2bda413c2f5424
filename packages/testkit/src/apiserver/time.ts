import { humanDuration } from '@tether/model';
/** Timestamp formats of the Kubernetes API and the age column of kubectl tables. */

/** metav1.Time: RFC 3339 with whole seconds. */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** metav1.MicroTime: RFC 3339 with six fractional digits. */
export function formatMicroTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i;

/** Milliseconds since the epoch, or undefined when the value is not an RFC 3339 timestamp. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !RFC3339.test(value)) return undefined;
  const millis = Date.parse(value);
  return Number.isNaN(millis) ? undefined : millis;
}

/**
 * A timestamp as the real server writes it back: metav1.Time in UTC with whole seconds,
 * metav1.MicroTime in UTC with six fractional digits. Anything unparseable is returned as is
 * (validation reports it).
 */
export function normalizeTime<T>(value: T, micro: boolean): T | string {
  if (typeof value !== 'string') return value;
  const match = RFC3339.exec(value);
  const millis = parseTime(value);
  if (match === null || millis === undefined) return value;
  const seconds = new Date(Math.floor(millis / 1000) * 1000).toISOString().slice(0, 19);
  if (!micro) return `${seconds}Z`;
  const fraction = `${match[2] ?? ''}000000`.slice(0, 6);
  return `${seconds}.${fraction}Z`;
}

/** The age of a timestamp relative to `now`, or "<unknown>" when there is none. */
export function ageOf(value: unknown, now: number): string {
  const millis = parseTime(value);
  return millis === undefined ? '<unknown>' : humanDuration(now - millis);
}
