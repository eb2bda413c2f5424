import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { findJsonSyntaxError } from './json-syntax';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonSyntaxError agrees with JSON.parse', () => {
  it('on valid documents', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(findJsonSyntaxError(text)).toBeUndefined();
      }),
      { numRuns: 500 },
    );
  });

  it('on documents with one character changed, dropped or added', () => {
    const edited = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('drop', 'insert', 'replace'),
        fc.string({ maxLength: 1 }),
      )
      .map(([text, n, op, ch]) => {
        const i = text.length === 0 ? 0 : n % text.length;
        if (op === 'drop') return text.slice(0, i) + text.slice(i + 1);
        if (op === 'insert') return text.slice(0, i) + ch + text.slice(i);
        return text.slice(0, i) + ch + text.slice(i + 1);
      });
    fc.assert(
      fc.property(edited, (text) => {
        const error = findJsonSyntaxError(text);
        expect(error === undefined).toBe(parses(text));
        if (error) expect(error.offset).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 2000 },
    );
  });
});
