import {
  Diagnostic,
  PolicyField,
  ResolvedEntry,
  SourceRef,
  info,
  quote,
  warning,
} from '@tether/model';
import { BASIC_CHARS, HASH_BY_CHARS, KEY, NginxKey, SPEC, URL_CHARS } from './annotations';
import { MAX_ATTRIBUTE_LENGTH, isHeaderSafe } from './values';

/** One annotation value and the policy fields it carries, for messages about them. */
export interface Written {
  value: string;
  fields: readonly PolicyField[];
}

/**
 * The keys whose value is free text: the controller checks them against a character class,
 * and the parser also refuses spaces, `;`, control characters and overlong values.
 */
const TEXT_PATTERNS: Partial<Record<NginxKey, RegExp>> = {
  [KEY.cookieName]: BASIC_CHARS,
  [KEY.cookiePath]: URL_CHARS,
  [KEY.cookieDomain]: BASIC_CHARS,
  [KEY.upstreamHashBy]: HASH_BY_CHARS,
  [KEY.canaryByHeader]: BASIC_CHARS,
  [KEY.canaryByHeaderValue]: BASIC_CHARS,
  [KEY.canaryByCookie]: BASIC_CHARS,
};

/** Why ingress-nginx (or the parser that mirrors it) would not take `value` for `key`. */
function unwritable(key: NginxKey, value: string): string | undefined {
  const pattern = TEXT_PATTERNS[key];
  if (pattern === undefined) return undefined;
  if (value.length > MAX_ATTRIBUTE_LENGTH)
    return `it is ${value.length} characters long (at most ${MAX_ATTRIBUTE_LENGTH})`;
  if (!pattern.test(value) || !isHeaderSafe(value))
    return `${key.slice(key.indexOf('/') + 1)} takes only ${SPEC[key].expected}`;
  return undefined;
}

/**
 * What one entry's policy needs on the Ingress: the annotations that differ from the
 * controller's defaults (`required`), the defaults it relies on (`defaults`, written only
 * when asked to be explicit) and a diagnostic for each part ingress-nginx cannot say.
 */
export class Expression {
  readonly required = new Map<NginxKey, Written>();
  readonly defaults = new Map<NginxKey, Written>();
  readonly diagnostics: Diagnostic[] = [];

  constructor(readonly entry: ResolvedEntry) {}

  /** The value this entry needs for `key`, written or by default; undefined: the key must be absent. */
  want(key: NginxKey): string | undefined {
    return (this.required.get(key) ?? this.defaults.get(key))?.value;
  }

  /** The fields behind `key` in this entry, for naming sources. */
  fieldsOf(key: NginxKey): readonly PolicyField[] {
    return (this.required.get(key) ?? this.defaults.get(key))?.fields ?? [];
  }

  /**
   * Writes a value that differs from the controller's default. Free text the controller
   * would refuse is not written: the loss is reported with what ingress-nginx does instead.
   */
  write(key: NginxKey, value: string, ...fields: PolicyField[]): boolean {
    const problem = unwritable(key, value);
    if (problem !== undefined) {
      this.unsupported(
        `${quote(value)} cannot be written as ${key}: ${problem}; ingress-nginx would ${SPEC[key].fallback}`,
        ...fields,
      );
      return false;
    }
    this.required.set(key, { value, fields });
    return true;
  }

  /** Records that the entry relies on the controller's default for `key`, spelled `value`. */
  writeDefault(key: NginxKey, value: string, ...fields: PolicyField[]): void {
    this.defaults.set(key, { value, fields });
  }

  /**
   * The sources of the fields; a field that only the model's defaults filled has none, and
   * then the setting that chose the persistence mode stands for it.
   */
  sources(...fields: PolicyField[]): SourceRef[] {
    const own = fields.flatMap((f) => this.entry.sources[f] ?? []);
    const found = own.length > 0 ? own : (this.entry.sources.mode ?? []);
    const seen = new Set<string>();
    return found.filter((s) => {
      const id = JSON.stringify(s);
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    });
  }

  /** A part of the policy ingress-nginx cannot say; the message says why. */
  unsupported(message: string, ...fields: PolicyField[]): void {
    this.diagnostics.push(warning('UnsupportedByTarget', message, ...this.sources(...fields)));
  }

  /** A difference in the model that changes nothing in what clients see. */
  sameBehaviour(message: string, ...fields: PolicyField[]): void {
    this.diagnostics.push(info('UnsupportedByTarget', message, ...this.sources(...fields)));
  }
}
