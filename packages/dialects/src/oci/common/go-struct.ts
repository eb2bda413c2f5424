import { Diagnostic, SourceRef, error } from '@tether/model';
import { lineColumn, matchGoJsonKeys } from '../../helpers';
import { findJsonSyntaxError } from '../../json-syntax';
import { JsonKind, topLevelMembers } from './json-members';

/** The Go types OCI's configuration structs use: every field is an optional pointer. */
export type GoFieldType = 'string' | 'bool' | 'int';
export type GoStructShape = Readonly<Record<string, GoFieldType>>;

type GoValue<T extends GoFieldType> = T extends 'string'
  ? string
  : T extends 'bool'
    ? boolean
    : number;
export type GoStruct<S extends GoStructShape> = { -readonly [K in keyof S]?: GoValue<S[K]> };

export interface UnknownKey {
  key: string;
  line: number;
  column: number;
}

export interface DecodeResult<S extends GoStructShape> {
  /** False when OCI would refuse the text: a JSON syntax error, a non-object, or a wrong type. */
  ok: boolean;
  /** True when the text is JSON `null`, which Go decodes into an untouched (all-unset) struct. */
  isNull: boolean;
  /** The fields that carry a value; JSON `null` leaves a field unset, as Go does for pointers. */
  values: GoStruct<S>;
  /** Keys that match no field: Go skips them silently. */
  unknown: UnknownKey[];
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function jsonKindOf(value: unknown): JsonKind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  return 'object';
}

const GO_TYPE_WORDS: Record<GoFieldType, string> = {
  string: 'a string',
  bool: 'true or false',
  int: 'a whole number',
};

/** A syntax error with its line and column, or undefined when the text is valid JSON. */
function syntaxError(text: string, source: SourceRef): Diagnostic | undefined {
  let thrown: unknown;
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    thrown = e;
  }
  const found = findJsonSyntaxError(text) ?? {
    offset: text.length,
    message: thrown instanceof Error ? thrown.message : 'not valid JSON',
  };
  const at = lineColumn(text, found.offset);
  return error(
    'InvalidJson',
    `${source.field}: invalid JSON at line ${at.line}, column ${at.column}: ${found.message}`,
    source,
  );
}

/**
 * Decodes an integer the way Go's encoding/json does for an `int` field: the literal must be
 * plain digits (no fraction or exponent) and fit in 64 bits.
 */
function goInt(raw: string): number | undefined {
  if (!/^-?(0|[1-9]\d*)$/.test(raw)) return undefined;
  const big = BigInt(raw);
  if (big < INT64_MIN || big > INT64_MAX) return undefined;
  return Number(big);
}

function convert(type: GoFieldType, value: unknown, raw: string): unknown {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'bool':
      return typeof value === 'boolean' ? value : undefined;
    case 'int':
      return typeof value === 'number' ? goInt(raw) : undefined;
  }
}

/**
 * Decodes annotation JSON into a struct of optional fields with Go's encoding/json rules:
 * keys match exactly or case-insensitively, a later duplicate wins, unknown keys are skipped,
 * `null` leaves a field unset, and a value of the wrong type is an error (OCI's controllers
 * refuse the annotation). Every problem is reported with its line and column.
 */
export function decodeGoStruct<S extends GoStructShape>(
  text: string,
  shape: S,
  source: SourceRef,
  diagnostics: Diagnostic[],
): DecodeResult<S> {
  const values: GoStruct<S> = {};
  const result: DecodeResult<S> = { ok: false, isNull: false, values, unknown: [] };
  const syntax = syntaxError(text, source);
  if (syntax) {
    diagnostics.push(syntax);
    return result;
  }
  const top = topLevelMembers(text);
  if (top.kind === 'null') return { ...result, ok: true, isNull: true };
  if (top.kind !== 'object') {
    const at = lineColumn(text, top.offset);
    diagnostics.push(
      error(
        'InvalidJson',
        `${source.field}: expected a JSON object at line ${at.line}, column ${at.column}, found ${top.kind === 'array' ? 'an array' : `a ${top.kind}`}`,
        source,
      ),
    );
    return result;
  }
  const known = Object.keys(shape);
  let ok = true;
  for (const member of top.members) {
    const match = matchGoJsonKeys({ [member.key]: member.value }, known);
    const field = Object.keys(match.values)[0];
    if (field === undefined) {
      result.unknown.push({ key: member.key, ...lineColumn(text, member.keyOffset) });
      continue;
    }
    const type = shape[field];
    if (type === undefined) continue;
    if (member.value === null) {
      Reflect.deleteProperty(values, field);
      continue;
    }
    const converted = convert(type, member.value, member.raw);
    if (converted === undefined) {
      ok = false;
      const at = lineColumn(text, member.valueOffset);
      const found =
        type === 'int' && typeof member.value === 'number'
          ? `the number ${member.raw.length > 40 ? `${member.raw.slice(0, 40)}…` : member.raw}`
          : jsonKindOf(member.value) === 'array'
            ? 'an array'
            : `a ${jsonKindOf(member.value)}`;
      diagnostics.push(
        error(
          'InvalidJson',
          `${source.field}: ${JSON.stringify(member.key)} at line ${at.line}, column ${at.column} must be ${GO_TYPE_WORDS[type]}${type === 'int' ? ' that fits in 64 bits' : ''}, found ${found}`,
          source,
        ),
      );
      continue;
    }
    (values as Record<string, unknown>)[field] = converted;
  }
  result.ok = ok;
  return result;
}
