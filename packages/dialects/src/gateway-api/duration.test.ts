import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DURATION_PATTERN } from './annotations';
import { MAX_DURATION_SECONDS, formatDuration, parseDuration } from './duration';

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

describe('gateway-api: GEP-2257 durations written out', () => {
  const cases: [number, string][] = [
    [1, '1s'],
    [59, '59s'],
    [60, '1m'],
    [90, '1m30s'],
    [3600, '1h'],
    [3601, '1h1s'],
    [5400, '1h30m'],
    [86_400, '24h'],
    [90_061, '25h1m1s'],
    [MAX_DURATION_SECONDS, '99999h59m59s'],
  ];
  for (const [seconds, text] of cases) {
    it(`${seconds} s is ${text}`, () =>
      expect(formatDuration(seconds)).toEqual({ text, capped: false }));
  }

  it('caps what no Duration can hold', () => {
    expect(formatDuration(MAX_DURATION_SECONDS + 1)).toEqual({
      text: '99999h59m59s',
      capped: true,
    });
    expect(formatDuration(2 ** 31)).toEqual({ text: '99999h59m59s', capped: true });
  });

  it('reads back as the same number of seconds, in the pattern the CRDs enforce', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_DURATION_SECONDS }), (seconds) => {
        const { text } = formatDuration(seconds);
        expect(text).toMatch(DURATION_PATTERN);
        expect(parseDuration(text)).toBe(seconds * 1000);
      }),
    );
  });
});
