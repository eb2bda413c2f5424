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

/** The longest Duration GEP-2257 can write with one group per unit: 99999h59m59s. */
export const MAX_DURATION_SECONDS = 99_999 * 3600 + 59 * 60 + 59;

/**
 * Whole seconds as a GEP-2257 Duration in its canonical form: each unit once, largest first,
 * zero units left out (`5400` → `1h30m`). Longer times are capped at `99999h59m59s`.
 */
export function formatDuration(seconds: number): { text: string; capped: boolean } {
  const capped = seconds > MAX_DURATION_SECONDS;
  const total = Math.max(0, Math.min(Math.floor(seconds), MAX_DURATION_SECONDS));
  const parts: [number, string][] = [
    [Math.floor(total / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'm'],
    [total % 60, 's'],
  ];
  const text = parts
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join('');
  return { text: text || '0s', capped };
}
