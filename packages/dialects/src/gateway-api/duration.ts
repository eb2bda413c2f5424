import { DURATION_PATTERN } from './annotations';

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/**
 * Milliseconds of a GEP-2257 Duration (`1h30m`, `500ms`), or undefined when the text does not
 * match the pattern the CRDs enforce. Units may repeat, as Go's ParseDuration allows.
 */
export function parseDuration(raw: unknown): number | undefined {
  if (typeof raw !== 'string' || !DURATION_PATTERN.test(raw)) return undefined;
  let total = 0;
  // `ms` is tried before `m` so that "5ms" is not read as five minutes and a stray "s".
  for (const match of raw.matchAll(/([0-9]{1,5})(ms|h|m|s)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  }
  return total;
}
