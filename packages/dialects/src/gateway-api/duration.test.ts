import { describe, expect, it } from '@jest/globals';
import { parseDuration } from './duration';

describe('gateway-api: GEP-2257 durations', () => {
  const valid: [string, number][] = [
    ['1s', 1000],
    ['0s', 0],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h30m', 5_400_000],
    ['1h1h', 7_200_000],
    ['500ms', 500],
    ['1m5ms', 60_005],
    ['1h2m3s4ms', 3_723_004],
    ['99999h', 99_999 * 3_600_000],
    ['00001s', 1000],
  ];
  for (const [raw, ms] of valid) {
    it(`${raw} is ${ms} ms`, () => expect(parseDuration(raw)).toBe(ms));
  }

  const invalid: unknown[] = [
    '',
    '1',
    's',
    '1d',
    '1.5h',
    '-1s',
    '+1s',
    '100000s',
    '1h2m3s4ms5s',
    ' 1s',
    '1s ',
    '1s\n',
    '1S',
    'PT1H',
    '١s',
    '1µs',
    60,
    null,
    undefined,
    { seconds: 1 },
  ];
  for (const raw of invalid) {
    it(`${JSON.stringify(raw) ?? 'undefined'} is not a Duration`, () =>
      expect(parseDuration(raw)).toBeUndefined());
  }
});
