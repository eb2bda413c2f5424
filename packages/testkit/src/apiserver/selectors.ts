/**
 * Label and field selectors with the grammar of apimachinery's `labels.Parse` and
 * `fields.ParseSelector`. Parsing never throws: a bad selector comes back as an error string
 * that the server answers with 400 BadRequest, as kube-apiserver does.
 */

export type LabelRequirement =
  | { key: string; op: 'exists' | 'notExists' }
  | { key: string; op: 'in' | 'notIn'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const SPECIAL = new Set([',', '(', ')', '=', '!', '<', '>']);
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** A label key: an optional DNS-subdomain prefix and a name of at most 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (
    prefix !== undefined &&
    (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))
  ) {
    return 'prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters';
  }
  if (name.length === 0) return 'name part must be non-empty';
  if (name.length > 63) return 'name part must be no more than 63 characters';
  if (!NAME_PART.test(name)) {
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

/** A label value: empty, or at most 63 characters of the name alphabet. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (value !== '' && !NAME_PART.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
}

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < input.length) {
    const char = input[index]!;
    if (/\s/.test(char)) {
      index++;
      continue;
    }
    if (SPECIAL.has(char)) {
      const pair = input.slice(index, index + 2);
      if (pair === '==' || pair === '!=') {
        tokens.push({ kind: 'op', text: pair });
        index += 2;
      } else {
        tokens.push({ kind: 'op', text: char });
        index++;
      }
      continue;
    }
    let end = index;
    while (end < input.length && !SPECIAL.has(input[end]!) && !/\s/.test(input[end]!)) end++;
    tokens.push({ kind: 'word', text: input.slice(index, end) });
    index = end;
  }
  return tokens;
}

class LabelParser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }
  private next(): Token | undefined {
    return this.tokens[this.position++];
  }
  private atSeparator(): boolean {
    const token = this.peek();
    return token === undefined || (token.kind === 'op' && token.text === ',');
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    if (this.tokens.length === 0) return requirements;
    for (;;) {
      requirements.push(this.requirement());
      const token = this.next();
      if (token === undefined) return requirements;
      if (token.kind !== 'op' || token.text !== ',') {
        throw new Error(`found '${token.text}', expected: ',' or end of string`);
      }
    }
  }

  private key(): string {
    const token = this.next();
    if (token === undefined || token.kind !== 'word') {
      throw new Error(`found '${token?.text ?? ''}', expected: identifier`);
    }
    const problem = labelKeyProblem(token.text);
    if (problem !== undefined) throw new Error(`invalid label key "${token.text}": ${problem}`);
    return token.text;
  }

  private value(): string {
    if (this.atSeparator() || this.peek()?.text === ')') return '';
    const token = this.next();
    if (token === undefined || token.kind !== 'word') {
      throw new Error(`found '${token?.text ?? ''}', expected: identifier`);
    }
    const problem = labelValueProblem(token.text);
    if (problem !== undefined) throw new Error(`invalid label value: "${token.text}": ${problem}`);
    return token.text;
  }

  private requirement(): LabelRequirement {
    const first = this.peek();
    if (first?.kind === 'op' && first.text === '!') {
      this.next();
      return { key: this.key(), op: 'notExists' };
    }
    const key = this.key();
    if (this.atSeparator()) return { key, op: 'exists' };
    const operator = this.next()!;
    const text = operator.text;
    if (operator.kind === 'op' && (text === '=' || text === '=='))
      return { key, op: 'in', values: [this.value()] };
    if (operator.kind === 'op' && text === '!=')
      return { key, op: 'notIn', values: [this.value()] };
    if (operator.kind === 'op' && (text === '>' || text === '<')) {
      const token = this.next();
      const value = token?.kind === 'word' && /^-?\d+$/.test(token.text) ? Number(token.text) : NaN;
      if (!Number.isSafeInteger(value))
        throw new Error(`for '${text}' operator, the value must be an integer`);
      return { key, op: text === '>' ? 'gt' : 'lt', value };
    }
    if (operator.kind === 'word' && (text === 'in' || text === 'notin')) {
      const open = this.next();
      if (open?.text !== '(') throw new Error(`found '${open?.text ?? ''}', expected: '('`);
      const values: string[] = [];
      for (;;) {
        values.push(this.value());
        const token = this.next();
        if (token?.text === ')') break;
        if (token?.text !== ',')
          throw new Error(`found '${token?.text ?? ''}', expected: ',' or ')'`);
      }
      return { key, op: text === 'in' ? 'in' : 'notIn', values };
    }
    throw new Error(`found '${text}', expected: in, notin, =, ==, !=, gt, lt`);
  }
}

export function parseLabelSelector(input: string): Parsed<LabelRequirement[]> {
  try {
    return { ok: true, value: new LabelParser(tokenize(input)).parse() };
  } catch (error) {
    return { ok: false, error: `unable to parse requirement: ${(error as Error).message}` };
  }
}

export function matchesLabels(
  requirements: readonly LabelRequirement[],
  labels: Record<string, unknown>,
): boolean {
  return requirements.every((requirement) => {
    const raw = Object.hasOwn(labels, requirement.key) ? labels[requirement.key] : undefined;
    const present = typeof raw === 'string';
    const value = present ? raw : '';
    switch (requirement.op) {
      case 'exists':
        return present;
      case 'notExists':
        return !present;
      case 'in':
        return present && requirement.values.includes(value);
      case 'notIn':
        return !present || !requirement.values.includes(value);
      case 'gt':
      case 'lt': {
        if (!present || !/^-?\d+$/.test(value)) return false;
        const number = Number(value);
        return requirement.op === 'gt' ? number > requirement.value : number < requirement.value;
      }
    }
  });
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'ne';
  value: string;
}

/** Splits on unescaped commas; `\,` `\=` `\\` are escapes inside values. */
function splitTerms(input: string): string[] {
  const terms: string[] = [];
  let current = '';
  for (let index = 0; index < input.length; index++) {
    const char = input[index]!;
    if (char === '\\' && index + 1 < input.length) {
      current += char + input[index + 1]!;
      index++;
    } else if (char === ',') {
      terms.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  terms.push(current);
  return terms;
}

function unescapeValue(raw: string): Parsed<string> {
  let value = '';
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index]!;
    if (char === '\\') {
      const next = raw[index + 1];
      if (next !== '\\' && next !== ',' && next !== '=') {
        return { ok: false, error: `invalid field selector: invalid escape sequence in "${raw}"` };
      }
      value += next;
      index++;
    } else if (char === ',' || char === '=') {
      return { ok: false, error: `invalid field selector: unescaped ${char} in value "${raw}"` };
    } else {
      value += char;
    }
  }
  return { ok: true, value };
}

export function parseFieldSelector(input: string): Parsed<FieldRequirement[]> {
  const requirements: FieldRequirement[] = [];
  if (input.trim() === '') return { ok: true, value: requirements };
  for (const term of splitTerms(input)) {
    const match = /^([^=!\\]*?)(==|!=|=)(.*)$/s.exec(term);
    if (match === null || match[1]!.trim() === '') {
      return {
        ok: false,
        error: `invalid field selector: "${term}": invalid selector: '${input}'; can't understand '${term}'`,
      };
    }
    const value = unescapeValue(match[3]!);
    if (!value.ok) return value;
    requirements.push({
      field: match[1]!.trim(),
      op: match[2] === '!=' ? 'ne' : 'eq',
      value: value.value,
    });
  }
  return { ok: true, value: requirements };
}

export function matchesFields(
  requirements: readonly FieldRequirement[],
  valueOf: (field: string) => string,
): boolean {
  return requirements.every((requirement) => {
    const actual = valueOf(requirement.field);
    return requirement.op === 'eq' ? actual === requirement.value : actual !== requirement.value;
  });
}
