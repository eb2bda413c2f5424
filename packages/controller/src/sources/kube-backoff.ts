/** How long to wait before trying again after failures: exponential, capped, with jitter. */
export interface BackoffOptions {
  /** The wait after the first failure; default 250 ms. */
  initialMs?: number;
  /** The longest wait; default 30 s. */
  maxMs?: number;
  /** Random number in [0, 1); tests pass a fixed one. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 30_000 } as const;

/**
 * The wait before attempt number `failures` (1 = after the first failure): the initial wait
 * doubled per further failure, capped, then scaled into [half, whole] so that many clients
 * that failed together do not come back together.
 */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  if (!(failures >= 1)) return 0;
  const initial = Math.max(1, options.initialMs ?? DEFAULT_BACKOFF.initialMs);
  const max = Math.max(initial, options.maxMs ?? DEFAULT_BACKOFF.maxMs);
  // 2^40 already exceeds any cap; bounding the exponent keeps the arithmetic finite.
  const exponent = Math.min(failures - 1, 40);
  const full = Math.min(max, initial * 2 ** exponent);
  const random = options.random ?? Math.random;
  return Math.round(full / 2 + (full / 2) * Math.min(Math.max(random(), 0), 1));
}

/** Resolves after `ms`, or at once when the signal is (or becomes) aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
