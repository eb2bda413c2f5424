import { Diagnostic, SourceRef, error, quote, warning } from '@tether/model';
import { ignoredByVendor, isPlainObject, parseGoBool } from '../helpers';
import { sourceOf } from '../kube';
import type { KubeObject } from '../types';
import { KEYS, NginxKey, SPEC } from './annotations';
import { MAX_ATTRIBUTE_LENGTH, goAtoi, isHeaderSafe, normalizeLines, safeInteger } from './values';

export const DIALECT = 'ingress-nginx' as const;
const VENDOR = 'ingress-nginx';

/**
 * What an interpreter makes of a value the controller's own check accepted: the value, or
 * the rest of a warning message (after "<key>: <value> ") saying why it cannot be used.
 */
export type Interpreted<T> = { value: T } | { message: string };

/** The text of an accepted value: as written, and after the controller's per-line trimming. */
export interface Text {
  raw: string;
  normalized: string;
}

export type Interpreter<T> = (text: Text, key: NginxKey) => Interpreted<T>;

/**
 * Reads the dialect's annotations of one object the way the controller does: its own check
 * on the raw text first (a failure is ignored or refuses the Ingress, as the table says),
 * then an interpreter that turns the text into a value Tether can use.
 */
export class AnnotationReader {
  /** Every key of the table that the object carries, whatever its value. */
  readonly written = new Set<NginxKey>();
  /** Set when a value makes the controller refuse the whole Ingress. */
  vendorRejects = false;
  private readonly annotations: Record<string, unknown>;

  constructor(
    readonly object: KubeObject,
    readonly diagnostics: Diagnostic[],
  ) {
    const metadata: unknown = object.metadata;
    const annotations = isPlainObject(metadata) ? metadata.annotations : undefined;
    this.annotations = isPlainObject(annotations) ? annotations : {};
    for (const key of KEYS) if (Object.hasOwn(this.annotations, key)) this.written.add(key);
  }

  source(key: string, isDefault = false): SourceRef {
    return sourceOf(DIALECT, this.object, key, isDefault);
  }

  /** The sources of those keys the object carries. */
  sources(...keys: NginxKey[]): SourceRef[] {
    return keys.filter((k) => this.written.has(k)).map((k) => this.source(k));
  }

  has(key: NginxKey): boolean {
    return this.written.has(key);
  }

  read<T>(key: NginxKey, interpret: Interpreter<T>): T | undefined {
    if (!this.written.has(key)) return undefined;
    const spec = SPEC[key];
    const source = this.source(key);
    const raw = this.annotations[key];
    if (typeof raw !== 'string') {
      this.diagnostics.push(
        warning(
          'InvalidAnnotation',
          `${key}: annotation values are strings, this one is ${raw === null ? 'null' : typeof raw}; ingress-nginx would ${spec.fallback}`,
          source,
        ),
      );
      return undefined;
    }
    // The controller skips its check for an empty value and then treats it as missing.
    if (raw !== '' && !spec.schema.safeParse(raw).success) {
      if (spec.onInvalid === 'reject') {
        this.vendorRejects = true;
        this.diagnostics.push(
          error(
            'InvalidAnnotation',
            `${key}: ${quote(raw)} is not valid (expected ${spec.expected}); ingress-nginx refuses the whole Ingress`,
            source,
          ),
        );
      } else {
        this.diagnostics.push(ignoredByVendor(VENDOR, source, raw, spec.expected, spec.fallback));
      }
      return undefined;
    }
    const normalized = normalizeLines(raw);
    if (normalized === '') {
      this.diagnostics.push(
        warning(
          'InvalidAnnotation',
          `${key}: ${quote(raw)} is empty; ingress-nginx treats it as missing and would ${spec.fallback}`,
          source,
        ),
      );
      return undefined;
    }
    const result = interpret({ raw, normalized }, key);
    if ('value' in result) return result.value;
    this.diagnostics.push(
      warning('InvalidAnnotation', `${key}: ${quote(raw)} ${result.message}`, source),
    );
    return undefined;
  }
}

/** A value from a fixed list, compared after the controller's trimming. */
export function oneOf<T extends string>(
  values: readonly T[],
  caseSensitive = true,
): Interpreter<T> {
  return ({ normalized }, key) => {
    const text = caseSensitive ? normalized : normalized.toLowerCase();
    const found = values.find((v) => (caseSensitive ? v : v.toLowerCase()) === text);
    if (found !== undefined) return { value: found };
    return {
      message: `spans several lines; ingress-nginx trims each line on its own, keeps the line break and so matches no value: it would ${SPEC[key].fallback}`,
    };
  };
}

/**
 * A name or attribute that goes into a header: the controller's characters, checked without
 * first dropping spaces as the controller does, and bounded in length.
 */
export function token(pattern: RegExp): Interpreter<string> {
  return ({ normalized }, key) => {
    if (normalized.length > MAX_ATTRIBUTE_LENGTH) {
      return {
        message: `is ${normalized.length} characters long (at most ${MAX_ATTRIBUTE_LENGTH}); Tether will ${SPEC[key].fallback}`,
      };
    }
    if (!pattern.test(normalized) || !isHeaderSafe(normalized)) {
      return {
        message: `contains spaces or line breaks; ingress-nginx ignores spaces when it checks the value but would send them as written, so Tether will ${SPEC[key].fallback}`,
      };
    }
    return { value: normalized };
  };
}

/** A Go boolean; the controller's check has already accepted the raw text. */
export const bool: Interpreter<boolean> = ({ raw }, key) => {
  const value = parseGoBool(raw);
  return value === undefined
    ? { message: `is not a boolean; ingress-nginx would ${SPEC[key].fallback}` }
    : { value };
};

/** A Go int that JavaScript can hold exactly. */
export const integer: Interpreter<number> = ({ raw }, key) => {
  const parsed = goAtoi(raw);
  const value = parsed === undefined ? undefined : safeInteger(parsed);
  return value === undefined
    ? { message: `is too large to be used exactly; Tether will ${SPEC[key].fallback}` }
    : { value };
};
