import { describe, expect, it } from '@jest/globals';
import { KeyedBuckets, TokenBucket } from './rate';

describe('TokenBucket', () => {
  it('allows the burst at once, then the rate', () => {
    const bucket = new TokenBucket(3, 2, 0);
    expect([0, 0, 0, 0].map(() => bucket.take(0))).toEqual([true, true, true, false]);
    expect(bucket.waitMs(0)).toBe(500);
    expect(bucket.take(499)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    // Refill never exceeds the burst, however long it was idle.
    expect([0, 0, 0, 0].map(() => bucket.take(1_000_000))).toEqual([true, true, true, false]);
  });

  it('never refills at rate zero, and ignores time going backwards', () => {
    const bucket = new TokenBucket(1, 0, 1000);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.waitMs(5000)).toBe(Infinity);
    const back = new TokenBucket(1, 1, 1000);
    back.take(1000);
    expect(back.take(0)).toBe(false);
    expect(back.take(2000)).toBe(true);
  });
});

describe('KeyedBuckets', () => {
  it('limits each key on its own and forgets full buckets when many exist', () => {
    const buckets = new KeyedBuckets(1, 1, 3);
    expect(buckets.bucket('a', 0).take(0)).toBe(true);
    expect(buckets.bucket('a', 0).take(0)).toBe(false);
    expect(buckets.bucket('b', 0).take(0)).toBe(true);
    buckets.bucket('c', 0);
    expect(buckets.size).toBe(3);
    // At 10 s every bucket is full again: making a fourth prunes them.
    buckets.bucket('d', 10_000);
    expect(buckets.size).toBe(1);
  });
});
