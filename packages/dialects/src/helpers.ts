import {
  Diagnostic,
  DialectId,
  FieldValue,
  FieldValues,
  PolicyField,
  SourceRef,
  error,
  quote,
  setField,
  warning,
} from '@tether/model';
import { findJsonSyntaxError } from './json-syntax';
import { sourceOf } from './kube';
import type { KubeObject } from './types';

/**
 * Collects one dialect's settings for one object: each value is checked against the model,
 * tagged with the key it came from, and any problem becomes a diagnostic.
 */
export class FieldCollector {
  readonly values: FieldValues = {};
  /**
   * One source per key and kind: several fields often come from one key (a JSON annotation
   * holds a whole cookie), and the sources live as long as the object's parse result.
   */
  private readonly sourcesByKey = new Map<string, SourceRef>();
  private readonly defaultsByKey = new Map<string, SourceRef>();
  constructor(
    readonly dialect: DialectId,
    readonly object: KubeObject,
    readonly diagnostics: Diagnostic[],
  ) {}

  source(key: string, isDefault = false): SourceRef {
    const known = isDefault ? this.defaultsByKey : this.sourcesByKey;
    let source = known.get(key);
    if (!source) {
      source = sourceOf(this.dialect, this.object, key, isDefault);
      known.set(key, source);
    }
    return source;
  }

  /** Sets a value the user wrote under `key`. */
  set<F extends PolicyField>(field: F, value: FieldValue<F>, key: string): void {
    const problem = setField(this.values, field, value, this.source(key));
    if (problem) this.diagnostics.push(problem);
  }

  /** Sets the vendor's default; `key` names the setting whose default it is. */
  setDefault<F extends PolicyField>(field: F, value: FieldValue<F>, key: string): void {
    const problem = setField(this.values, field, value, this.source(key, true));
    if (problem) this.diagnostics.push(problem);
  }
}

/** Go's strconv.ParseBool, which several vendors use for boolean annotations. */
export function parseGoBool(raw: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  return undefined;
}

/** Line and column (1-based) of a character offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/**
 * Parses JSON held in an annotation. A syntax error becomes an `InvalidJson` error that names
 * the line and column inside the annotation value.
 */
export function parseJsonValue(
  text: string,
  source: SourceRef,
): { value?: unknown; diagnostic?: Diagnostic } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (e) {
    const found = findJsonSyntaxError(text) ?? {
      offset: text.length,
      message: e instanceof Error ? e.message : String(e),
    };
    const { line, column } = lineColumn(text, found.offset);
    return {
      diagnostic: error(
        'InvalidJson',
        `${source.field}: invalid JSON at line ${line}, column ${column}: ${found.message} (value ${quote(text)})`,
        source,
      ),
    };
  }
}

/**
 * Matches JSON object keys to known field names the way Go's encoding/json does: exact match
 * first, then case-insensitive. Returns the values by canonical name and the keys that match
 * nothing (Go ignores those silently).
 */
export function matchGoJsonKeys(
  object: Record<string, unknown>,
  known: readonly string[],
): { values: Record<string, unknown>; unknown: string[] } {
  const values: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(object)) {
    const canonical = known.find((k) => k === key) ?? known.find((k) => foldsEqual(k, key));
    if (canonical === undefined) unknown.push(key);
    // Go assigns fields in document order, so a later duplicate wins.
    else values[canonical] = value;
  }
  return { values, unknown };
}

/**
 * Go's case folding for JSON keys: Unicode simple folding, so `ſ` matches `s` and the Kelvin
 * sign matches `k`. Comparing both upper- and lower-cased forms covers those.
 */
function foldsEqual(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase();
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A warning for a value the vendor itself would silently ignore or replace. */
export function ignoredByVendor(
  vendor: string,
  source: SourceRef,
  value: unknown,
  expected: string,
  fallback: string,
): Diagnostic {
  return warning(
    'InvalidAnnotation',
    `${source.field}: ${quote(value)} is not valid (expected ${expected}); ${vendor} would silently ${fallback}`,
    source,
  );
}

/** An error for a value the vendor would refuse. */
export function refusedByVendor(source: SourceRef, value: unknown, expected: string): Diagnostic {
  return error(
    'InvalidAnnotation',
    `${source.field}: ${quote(value)} is not valid (expected ${expected})`,
    source,
  );
}
