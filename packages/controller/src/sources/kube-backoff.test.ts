import { describe, expect, it } from '@jest/globals';
import { backoffDelay, sleep } from './kube-backoff';

describe('backoffDelay', () => {
  const fixed = (r: number) => ({ initialMs: 100, maxMs: 1000, random: () => r });

  it.each([
    [0, 1, 0],
    [-3, 1, 0],
    [Number.NaN, 1, 0],
    [1, 1, 100],
    [2, 1, 200],
    [3, 1, 400],
    [4, 1, 800],
    [5, 1, 1000],
    [1000, 1, 1000],
    [Number.POSITIVE_INFINITY, 1, 1000],
    [1, 0, 50],
    [4, 0, 400],
    [5, 0.5, 750],
  ])('after %p failures with random %p waits %p ms', (failures, random, expected) => {
    expect(backoffDelay(failures, fixed(random))).toBe(expected);
  });

  it('keeps every wait between half and all of the capped exponential', () => {
    for (let failures = 1; failures < 60; failures++) {
      const full = Math.min(30_000, 250 * 2 ** (failures - 1));
      const wait = backoffDelay(failures);
      expect(wait).toBeGreaterThanOrEqual(Math.floor(full / 2));
      expect(wait).toBeLessThanOrEqual(full);
    }
  });

  it('clamps a random source that leaves [0, 1)', () => {
    expect(backoffDelay(1, { initialMs: 100, random: () => 7 })).toBe(100);
    expect(backoffDelay(1, { initialMs: 100, random: () => -7 })).toBe(50);
  });

  it('treats a cap below the initial wait as the initial wait', () => {
    expect(backoffDelay(3, { initialMs: 500, maxMs: 10, random: () => 1 })).toBe(500);
  });
});

describe('sleep', () => {
  it('ends early when its signal aborts', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const slept = sleep(10_000, controller.signal);
    controller.abort();
    await slept;
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('resolves at once for an already aborted signal', async () => {
    await expect(sleep(10_000, AbortSignal.abort())).resolves.toBeUndefined();
  });
});
