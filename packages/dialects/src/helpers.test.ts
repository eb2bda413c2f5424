import { describe, expect, it } from '@jest/globals';
import { lineColumn, matchGoJsonKeys, parseGoBool, parseJsonValue } from './helpers';

const source = {
  dialect: 'oci-lb' as const,
  kind: 'Service',
  namespace: 'ns',
  name: 'lb',
  field: 'x/config',
};

describe('parseJsonValue', () => {
  it('returns the value of valid JSON', () => {
    expect(parseJsonValue('{"a": 1}', source)).toEqual({ value: { a: 1 } });
  });

  it.each([
    ['{"a": 1,}', 1, 9],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3],
    ['{"a": ', 1, 7],
    ['', 1, 1],
    ['{"path": }', 1, 10],
  ])('reports %j as InvalidJson at line %i column %i', (text, line, column) => {
    const { diagnostic } = parseJsonValue(text, source);
    expect(diagnostic?.reason).toBe('InvalidJson');
    expect(diagnostic?.message).toContain(`line ${line}, column ${column}`);
    expect(diagnostic?.sources).toEqual([source]);
  });
});

describe('matchGoJsonKeys', () => {
  it('matches case-insensitively, prefers exact matches and lists unknown keys', () => {
    const result = matchGoJsonKeys({ COOKIENAME: 'a', maxAge: 5, isSecure: true }, [
      'cookieName',
      'isSecure',
    ]);
    expect(result).toEqual({ values: { cookieName: 'a', isSecure: true }, unknown: ['maxAge'] });
  });

  it('folds case as Go does, beyond ASCII', () => {
    expect(matchGoJsonKeys({ iſSecure: true, Key: 1 }, ['isSecure', 'key']).values).toEqual({
      isSecure: true,
      key: 1,
    });
  });
});

describe('parseGoBool', () => {
  it.each([
    ['1', true],
    ['t', true],
    ['TRUE', true],
    ['True', true],
    ['0', false],
    ['F', false],
    ['false', false],
    ['yes', undefined],
    [' true', undefined],
    ['tRUE', undefined],
  ])('%j → %j', (raw, expected) => {
    expect(parseGoBool(raw)).toBe(expected);
  });
});

describe('lineColumn', () => {
  it('counts from 1', () => {
    expect(lineColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
