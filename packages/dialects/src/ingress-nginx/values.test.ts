import { describe, expect, it } from '@jest/globals';
import { goAtoi, goTrimSpace, isHeaderSafe, normalizeLines, safeInteger } from './values';

describe('Go-compatible text handling', () => {
  it.each([
    [' \t cookie \r\n', 'cookie'],
    ['\u00a0cookie\u3000', 'cookie'],
    ['\u0085cookie', 'cookie'],
    // Go does not count the byte-order mark as space; JavaScript's trim() would remove it.
    ['\ufeffcookie', '\ufeffcookie'],
  ])('goTrimSpace(%j) is %j', (text, trimmed) => {
    expect(goTrimSpace(text)).toBe(trimmed);
  });

  it.each([
    ['cookie', 'cookie'],
    ['  cookie  ', 'cookie'],
    ['cookie\n', 'cookie\n'],
    [' a \n b ', 'a\nb'],
    ['a\r\nb', 'a\nb'],
  ])('normalizeLines(%j) is %j', (text, normalized) => {
    expect(normalizeLines(text)).toBe(normalized);
  });

  it.each([
    ['42', 42n],
    ['+7', 7n],
    ['-0', 0n],
    ['9223372036854775807', 9223372036854775807n],
    ['9223372036854775808', undefined],
    [' 1', undefined],
    ['1.0', undefined],
    ['', undefined],
    ['٣', undefined],
  ])('goAtoi(%j) is %s', (text, value) => {
    expect(goAtoi(text)).toBe(value);
  });

  it('keeps only integers JavaScript holds exactly', () => {
    expect(safeInteger(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(safeInteger(2n ** 53n)).toBeUndefined();
  });

  it.each([
    ['/api/(.*)', true],
    ['INGRESSCOOKIE', true],
    ['a b', false],
    ['a;b', false],
    ['a\r\nb', false],
    ['é', false],
    ['', false],
  ])('isHeaderSafe(%j) is %s', (text, safe) => {
    expect(isHeaderSafe(text)).toBe(safe);
  });
});
