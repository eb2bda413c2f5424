/**
 * How ingress-nginx turns annotation text into values. Its controller is written in Go, so
 * trimming and number parsing follow Go's standard library, which differs from JavaScript's
 * in small ways that decide whether a value is accepted.
 */

/** The characters Go's `strings.TrimSpace` removes (Unicode White_Space, without U+FEFF). */
const GO_SPACE =
  '\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const GO_TRIM = new RegExp(`^[${GO_SPACE}]+|[${GO_SPACE}]+$`, 'g');

export function goTrimSpace(text: string): string {
  return text.replace(GO_TRIM, '');
}

/**
 * The controller trims every line of a string annotation on its own and joins the lines again,
 * so a value written as a YAML block (`|`) keeps its final line break: `"cookie\n"`.
 */
export function normalizeLines(text: string): string {
  return text.split('\n').map(goTrimSpace).join('\n');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Go's `strconv.Atoi` on a 64-bit machine: an optional sign and decimal digits, nothing else
 * (no spaces), within the int64 range. Returns undefined where Atoi reports an error.
 */
export function goAtoi(text: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text.startsWith('+') ? text.slice(1) : text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** A whole number JavaScript holds exactly, or undefined. */
export function safeInteger(value: bigint): number | undefined {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Text that can go into a Set-Cookie attribute or a header as it is: printable ASCII without
 * spaces or `;`. Anything else (CR/LF, other control characters, Unicode) could split or
 * break the header, so it never reaches a policy.
 */
export function isHeaderSafe(text: string): boolean {
  return /^[\x21-\x3a\x3c-\x7e]+$/.test(text);
}

/** Longest name or attribute Tether accepts; browsers cap a whole cookie at about 4 KiB. */
export const MAX_ATTRIBUTE_LENGTH = 1024;
