/**
 * Finds the first syntax error in a JSON text and where it is. JSON.parse on Node 20 names
 * the position for some errors only ("Unexpected token" has none), so JSON annotations are
 * checked with this scanner to give every error a line and column. Iterative: no nesting
 * depth can overflow the stack.
 *
 * Kept rather than jsonc-parser: in strict mode that parser agrees with JSON.parse on which
 * texts are valid (20,000 generated near-JSON texts), but it points at the start of a bad
 * token rather than the bad character (`[nullK]` → the `n`, `1.#5` → the `1`), for about a
 * third of those texts, and names no found character; users read these positions to fix an
 * annotation by hand.
 */

export interface JsonSyntaxError {
  offset: number;
  message: string;
}

type Expect = 'value' | 'valueOrEnd' | 'keyOrEnd' | 'key' | 'colon' | 'commaOrEnd' | 'end';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

function describe(ch: string): string {
  return `unexpected ${JSON.stringify(ch)}`;
}

/** End of the string opening at `i`, or the error inside it. */
function scanString(text: string, i: number): number | JsonSyntaxError {
  let at = i + 1;
  while (at < text.length) {
    const ch = text[at]!;
    if (ch === '"') return at + 1;
    if (ch === '\\') {
      const next = text[at + 1];
      if (next === 'u') {
        if (!HEX4.test(text.slice(at + 2, at + 6)))
          return { offset: at, message: 'invalid \\u escape (expected four hex digits)' };
        at += 6;
        continue;
      }
      if (next === undefined || !ESCAPES.has(next))
        return { offset: at, message: 'invalid escape in a string' };
      at += 2;
      continue;
    }
    if (ch.charCodeAt(0) < 0x20)
      return { offset: at, message: 'control character inside a string (escape it)' };
    at++;
  }
  return { offset: text.length, message: 'unterminated string' };
}

function scanScalar(text: string, i: number): number | JsonSyntaxError {
  const ch = text[i]!;
  if (ch === '"') return scanString(text, i);
  for (const word of ['true', 'false', 'null'])
    if (text.startsWith(word, i)) return i + word.length;
  if (ch === '-' || (ch >= '0' && ch <= '9')) {
    NUMBER.lastIndex = i;
    const match = NUMBER.exec(text);
    if (match && match[0] !== '-') return i + match[0].length;
    return { offset: i, message: 'invalid number' };
  }
  return { offset: i, message: describe(ch) };
}

export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: string[] = [];
  let expect: Expect = 'value';
  let at = 0;
  const afterValue = (): Expect => (stack.length > 0 ? 'commaOrEnd' : 'end');
  for (;;) {
    while (at < text.length && WHITESPACE.has(text[at]!)) at++;
    if (at >= text.length)
      return expect === 'end'
        ? undefined
        : { offset: text.length, message: 'unexpected end of input' };
    const ch = text[at]!;
    switch (expect) {
      case 'end':
        return { offset: at, message: `${describe(ch)} after the end of the JSON value` };
      case 'colon':
        if (ch !== ':')
          return {
            offset: at,
            message: `expected ':' after a property name, found ${JSON.stringify(ch)}`,
          };
        at++;
        expect = 'value';
        continue;
      case 'keyOrEnd':
      case 'key': {
        if (expect === 'keyOrEnd' && ch === '}') {
          stack.pop();
          at++;
          expect = afterValue();
          continue;
        }
        if (ch !== '"')
          return {
            offset: at,
            message: `expected a double-quoted property name, found ${JSON.stringify(ch)}`,
          };
        const end = scanString(text, at);
        if (typeof end !== 'number') return end;
        at = end;
        expect = 'colon';
        continue;
      }
      case 'commaOrEnd': {
        const close = stack[stack.length - 1] === '{' ? '}' : ']';
        if (ch === ',') {
          at++;
          expect = close === '}' ? 'key' : 'value';
        } else if (ch === close) {
          stack.pop();
          at++;
          expect = afterValue();
        } else
          return { offset: at, message: `expected ',' or '${close}', found ${JSON.stringify(ch)}` };
        continue;
      }
      case 'value':
      case 'valueOrEnd': {
        if (expect === 'valueOrEnd' && ch === ']') {
          stack.pop();
          at++;
          expect = afterValue();
          continue;
        }
        if (ch === '{' || ch === '[') {
          stack.push(ch);
          at++;
          expect = ch === '{' ? 'keyOrEnd' : 'valueOrEnd';
          continue;
        }
        const end = scanScalar(text, at);
        if (typeof end !== 'number') return end;
        at = end;
        expect = afterValue();
        continue;
      }
    }
  }
}
