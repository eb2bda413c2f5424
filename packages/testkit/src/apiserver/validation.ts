/** Object-metadata validation shared by every kind, following apimachinery's rules. */
import { labelKeyProblem, labelValueProblem } from './selectors';
import type { FieldError } from './status';
import { isObject, type Json, type JsonObject } from './types';

export type NameRule = 'subdomain' | 'label' | 'label1035';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Total size of all annotations (keys and values), as in apimachinery. */
const ANNOTATIONS_LIMIT = 256 * 1024;

export function nameProblem(name: string, rule: NameRule): string | undefined {
  switch (rule) {
    case 'subdomain':
      if (name.length > 253) return 'must be no more than 253 characters';
      if (!SUBDOMAIN.test(name)) {
        return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
      }
      return undefined;
    case 'label':
      if (name.length > 63) return 'must be no more than 63 characters';
      if (!LABEL.test(name)) {
        return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
      }
      return undefined;
    case 'label1035':
      if (name.length > 63) return 'must be no more than 63 characters';
      if (!LABEL_1035.test(name)) {
        return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
      }
      return undefined;
  }
}

function validateStringMap(
  map: Json | undefined,
  field: string,
  checkValue: (value: string) => string | undefined,
): FieldError[] {
  if (map === undefined || map === null) return [];
  if (!isObject(map))
    return [{ type: 'Invalid', field, value: map, detail: 'must be a map of strings' }];
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(map)) {
    const keyProblem = labelKeyProblem(key);
    if (keyProblem !== undefined)
      errors.push({ type: 'Invalid', field, value: key, detail: keyProblem });
    if (typeof value !== 'string') {
      errors.push({
        type: 'Invalid',
        field: `${field}[${key}]`,
        value,
        detail: 'must be a string',
      });
      continue;
    }
    const valueProblem = checkValue(value);
    if (valueProblem !== undefined)
      errors.push({ type: 'Invalid', field, value, detail: valueProblem });
  }
  return errors;
}

export function validateMetadata(metadata: JsonObject, rule: NameRule): FieldError[] {
  const errors: FieldError[] = [];
  const name = metadata.name;
  if (typeof name !== 'string' || name === '') {
    errors.push({
      type: 'Required',
      field: 'metadata.name',
      detail: 'name or generateName is required',
    });
  } else {
    const problem = nameProblem(name, rule);
    if (problem !== undefined)
      errors.push({ type: 'Invalid', field: 'metadata.name', value: name, detail: problem });
  }
  errors.push(...validateStringMap(metadata.labels, 'metadata.labels', labelValueProblem));
  errors.push(...validateStringMap(metadata.annotations, 'metadata.annotations', () => undefined));
  if (isObject(metadata.annotations)) {
    let size = 0;
    for (const [key, value] of Object.entries(metadata.annotations)) {
      size += key.length + (typeof value === 'string' ? value.length : 0);
    }
    if (size > ANNOTATIONS_LIMIT) {
      errors.push({
        type: 'TooLong',
        field: 'metadata.annotations',
        detail: `may not be more than ${ANNOTATIONS_LIMIT} bytes`,
      });
    }
  }
  const finalizers = metadata.finalizers;
  if (finalizers !== undefined && finalizers !== null) {
    if (!Array.isArray(finalizers) || finalizers.some((item) => typeof item !== 'string')) {
      errors.push({
        type: 'Invalid',
        field: 'metadata.finalizers',
        value: finalizers,
        detail: 'must be a list of strings',
      });
    }
  }
  return errors;
}

/** Helpers for kind-specific validation. */
export function requireString(
  object: JsonObject,
  key: string,
  field: string,
  errors: FieldError[],
): string | undefined {
  const value = object[key];
  if (value === undefined || value === null || value === '') {
    errors.push({ type: 'Required', field });
    return undefined;
  }
  if (typeof value !== 'string') {
    errors.push({ type: 'Invalid', field, value, detail: 'must be a string' });
    return undefined;
  }
  return value;
}

export function oneOf(
  value: Json | undefined,
  allowed: readonly string[],
  field: string,
  errors: FieldError[],
): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    errors.push({ type: 'NotSupported', field, value, supported: allowed });
  }
}

export function integerIn(
  value: Json | undefined,
  min: number,
  max: number,
  field: string,
  errors: FieldError[],
): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    errors.push({
      type: 'Invalid',
      field,
      value,
      detail: `must be an integer between ${min} and ${max}, inclusive`,
    });
  }
}
