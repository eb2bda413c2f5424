/** Edit distance, stopping early once it exceeds `limit` (keys are short; inputs may not be). */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
      current.push(value);
      best = Math.min(best, value);
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] ?? limit + 1;
}

const squash = (s: string): string => s.toLowerCase().replace(/[-_\s]/g, '');

/** Words people use for a cookie lifetime; OCI's only lifetime field is maxAgeInSeconds. */
const LIFETIME_WORDS = ['maxage', 'ttl', 'expires', 'expiry', 'lifetime', 'timeout'];

/**
 * The known field a mistyped JSON key most likely meant, if any: lifetime words map to
 * `maxAgeInSeconds` where that field exists, otherwise the nearest name within a small
 * edit distance.
 */
export function suggestField(key: string, known: readonly string[]): string | undefined {
  if (key.length > 64) return undefined;
  const wanted = squash(key);
  if (known.includes('maxAgeInSeconds') && LIFETIME_WORDS.some((w) => wanted.startsWith(w)))
    return 'maxAgeInSeconds';
  let best: { name: string; score: number } | undefined;
  for (const name of known) {
    const limit = name.length > 8 ? 3 : 2;
    const score = distance(wanted, squash(name), limit);
    if (score <= limit && (best === undefined || score < best.score)) best = { name, score };
  }
  return best?.name;
}
