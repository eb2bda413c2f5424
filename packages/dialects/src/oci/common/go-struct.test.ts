import { describe, expect, it } from '@jest/globals';
import type { Diagnostic, SourceRef } from '@tether/model';
import { decodeGoStruct } from './go-struct';
import { topLevelMembers } from './json-members';

const source: SourceRef = {
  dialect: 'oci-lb',
  kind: 'Service',
  namespace: 'default',
  name: 'web',
  field: 'example.com/config',
};
const SHAPE = { cookieName: 'string', isSecure: 'bool', maxAgeInSeconds: 'int' } as const;

function decode(text: string) {
  const diagnostics: Diagnostic[] = [];
  const result = decodeGoStruct(text, SHAPE, source, diagnostics);
  return { ...result, diagnostics };
}

describe('topLevelMembers', () => {
  it('keeps duplicate keys in order with their offsets', () => {
    const text = '{ "a": 1, "a" : [2, {"x": "}"}], "b":"\\"q" }';
    const top = topLevelMembers(text);
    expect(top.kind).toBe('object');
    expect(top.members.map((m) => [m.key, m.raw])).toEqual([
      ['a', '1'],
      ['a', '[2, {"x": "}"}]'],
      ['b', '"\\"q"'],
    ]);
    expect(text.slice(top.members[1]!.keyOffset)).toMatch(/^"a" :/);
  });

  it.each([
    ['[1]', 'array'],
    [' "x"', 'string'],
    ['12', 'number'],
    ['true', 'boolean'],
    ['null', 'null'],
  ])('classifies %s as %s', (text, kind) => {
    expect(topLevelMembers(text).kind).toBe(kind);
  });

  it('walks deeply nested values without recursion', () => {
    const deep = `{"a": ${'['.repeat(5000)}${']'.repeat(5000)}, "b": 1}`;
    expect(topLevelMembers(deep).members.map((m) => m.key)).toEqual(['a', 'b']);
  });
});

describe('decodeGoStruct (Go encoding/json rules)', () => {
  it.each([
    [
      'exact keys',
      '{"cookieName":"A","isSecure":true,"maxAgeInSeconds":60}',
      { cookieName: 'A', isSecure: true, maxAgeInSeconds: 60 },
    ],
    [
      'case-insensitive keys',
      '{"COOKIENAME":"A","issecure":false}',
      { cookieName: 'A', isSecure: false },
    ],
    ['a later duplicate wins', '{"cookieName":"A","cookiename":"B"}', { cookieName: 'B' }],
    ['null leaves a field unset', '{"cookieName":"A","cookieName":null}', {}],
    [
      'negative integers pass (range checks come later)',
      '{"maxAgeInSeconds":-5}',
      { maxAgeInSeconds: -5 },
    ],
    ['unicode strings', '{"cookieName":"κουκι"}', { cookieName: 'κουκι' }],
  ])('%s', (_name, text, values) => {
    const r = decode(text);
    expect(r.ok).toBe(true);
    expect(r.values).toEqual(values);
    expect(r.diagnostics).toEqual([]);
  });

  it('reports unknown keys with line and column and keeps going', () => {
    const r = decode('{\n  "maxAge": 3600,\n  "cookieName": "A"\n}');
    expect(r.ok).toBe(true);
    expect(r.values).toEqual({ cookieName: 'A' });
    expect(r.unknown).toEqual([{ key: 'maxAge', line: 2, column: 3 }]);
  });

  it.each([
    ['a number for a string', '{"cookieName": 123}', 'line 1, column 16'],
    ['a string for a bool', '{\n"isSecure": "true"}', 'line 2, column 13'],
    ['a fraction for an int', '{"maxAgeInSeconds": 1.5}', 'line 1, column 21'],
    ['an exponent for an int', '{"maxAgeInSeconds": 1e3}', 'line 1, column 21'],
    ['an int beyond 64 bits', '{"maxAgeInSeconds": 9223372036854775808}', 'line 1, column 21'],
    ['an object for a string', '{"cookieName": {}}', 'line 1, column 16'],
  ])('refuses %s with its position', (_name, text, where) => {
    const r = decode(text);
    expect(r.ok).toBe(false);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]!.reason).toBe('InvalidJson');
    expect(r.diagnostics[0]!.message).toContain(where);
    expect(r.diagnostics[0]!.sources).toEqual([source]);
  });

  it('accepts the largest 64-bit integer', () => {
    const r = decode('{"maxAgeInSeconds": 9223372036854775807}');
    expect(r.ok).toBe(true);
    expect(r.values.maxAgeInSeconds).toBeGreaterThan(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['{"cookieName": "A",}', 'line 1, column'],
    ['{\n  "cookieName": "A"\n', 'line 3'],
    ["{'cookieName': 'A'}", 'line 1, column 2'],
  ])('reports a syntax error in %j with its position', (text, where) => {
    const r = decode(text);
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]!.reason).toBe('InvalidJson');
    expect(r.diagnostics[0]!.message).toContain(where);
  });

  it.each(['[]', '"x"', '7', 'true'])('refuses a top level that is not an object: %s', (text) => {
    const r = decode(text);
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]!.message).toContain('expected a JSON object at line 1, column 1');
  });

  it('decodes JSON null into an empty struct, as Go does', () => {
    const r = decode(' null ');
    expect(r).toMatchObject({ ok: true, isNull: true, values: {} });
  });

  it('never throws on hostile keys', () => {
    const r = decode('{"__proto__": 1, "constructor": "x", "cookieName": "A"}');
    expect(r.values).toEqual({ cookieName: 'A' });
    expect(r.unknown.map((u) => u.key)).toEqual(['__proto__', 'constructor']);
  });
});

describe('syntax errors carry the position of the first bad character', () => {
  it.each([
    ['{"cookieName": "A",\n "path": }', 'line 2, column 10', 'unexpected "}"'],
    ['{"a": 1,}', 'line 1, column 9', 'expected a double-quoted property name'],
    ['{"a" 1}', 'line 1, column 6', "expected ':'"],
    ['{"a": [1 2]}', 'line 1, column 10', "expected ',' or ']'"],
    ['{"a": "x\ny"}', 'line 1, column 9', 'control character'],
    ['{"a": "\\q"}', 'line 1, column 8', 'invalid escape'],
    ['{"a": "\\u12G4"}', 'line 1, column 8', '\\u escape'],
    ['{"a": 01}', 'line 1, column 8', "expected ',' or '}'"],
    ['{"a": -}', 'line 1, column 7', 'invalid number'],
    ['{"a": tru}', 'line 1, column 7', 'unexpected "t"'],
    ['{"a": 1} x', 'line 1, column 10', 'after the end'],
    ['{"a": "x', 'line 1, column 9', 'unterminated string'],
    ['\n\n{', 'line 3, column 2', 'end of input'],
    ['\ufeff{}', 'line 1, column 1', 'unexpected'],
    ['', 'line 1, column 1', 'end of input'],
  ])('%j', (text, where, what) => {
    const r = decode(text);
    expect(r.ok).toBe(false);
    expect(r.diagnostics[0]!.message).toContain(where);
    expect(r.diagnostics[0]!.message).toContain(what);
  });

  it('accepts what JSON.parse accepts', () => {
    for (const text of ['{}', '{"a":[1,-2.5e+3,{"b":null}],"c":"\\u00e9\\n"}', ' {"a" : true } ']) {
      expect(decode(text).diagnostics.filter((d) => d.reason === 'InvalidJson')).toEqual([]);
    }
  });
});
