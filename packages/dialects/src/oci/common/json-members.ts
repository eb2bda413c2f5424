/**
 * Walks the top level of a JSON text that is already known to be valid, keeping every
 * member of an object in document order with the offset of its key and value. JSON.parse
 * alone loses duplicate keys and positions; Go's decoder sees both, and so must we to
 * report what OCI would do and where.
 */

export type JsonKind = 'object' | 'array' | 'string' | 'number' | 'boolean' | 'null';

export interface JsonMember {
  key: string;
  /** The value as parsed. */
  value: unknown;
  /** The value's text as written (numbers keep their exact digits). */
  raw: string;
  keyOffset: number;
  valueOffset: number;
}

export interface JsonTopLevel {
  kind: JsonKind;
  /** Offset of the first character of the top-level value. */
  offset: number;
  /** Members in document order when the top level is an object, else empty. */
  members: JsonMember[];
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipWhitespace(text: string, i: number): number {
  let at = i;
  while (at < text.length && WHITESPACE.has(text[at] ?? '')) at++;
  return at;
}

/** Index just past the closing quote of the string that opens at `i`. */
function skipString(text: string, i: number): number {
  let at = i + 1;
  while (at < text.length) {
    const ch = text[at];
    if (ch === '\\') at += 2;
    else if (ch === '"') return at + 1;
    else at++;
  }
  return text.length;
}

/** Index just past the value that starts at `i` (iterative, so deep nesting cannot overflow). */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first === '{' || first === '[') {
    let depth = 0;
    let at = i;
    while (at < text.length) {
      const ch = text[at];
      if (ch === '"') {
        at = skipString(text, at);
        continue;
      }
      if (ch === '{' || ch === '[') depth++;
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0) return at + 1;
      }
      at++;
    }
    return text.length;
  }
  let at = i;
  while (at < text.length && !WHITESPACE.has(text[at] ?? '') && !',}]'.includes(text[at] ?? ''))
    at++;
  return at;
}

function kindOf(ch: string | undefined): JsonKind {
  switch (ch) {
    case '{':
      return 'object';
    case '[':
      return 'array';
    case '"':
      return 'string';
    case 't':
    case 'f':
      return 'boolean';
    case 'n':
      return 'null';
    default:
      return 'number';
  }
}

/** Reads the top level of `text`, which must be valid JSON (check with JSON.parse first). */
export function topLevelMembers(text: string): JsonTopLevel {
  const offset = skipWhitespace(text, 0);
  const kind = kindOf(text[offset]);
  const members: JsonMember[] = [];
  if (kind !== 'object') return { kind, offset, members };
  let at = skipWhitespace(text, offset + 1);
  while (at < text.length && text[at] !== '}') {
    const keyOffset = at;
    const keyEnd = skipString(text, at);
    const key = JSON.parse(text.slice(keyOffset, keyEnd)) as string;
    at = skipWhitespace(text, keyEnd);
    at = skipWhitespace(text, at + 1); // past ':'
    const valueOffset = at;
    const valueEnd = skipValue(text, at);
    const raw = text.slice(valueOffset, valueEnd);
    members.push({ key, value: JSON.parse(raw) as unknown, raw, keyOffset, valueOffset });
    at = skipWhitespace(text, valueEnd);
    if (text[at] === ',') at = skipWhitespace(text, at + 1);
  }
  return { kind, offset, members };
}
