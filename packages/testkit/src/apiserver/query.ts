/** Parsing of the selector and version parameters shared by list, watch and deletecollection. */
import type { ResourceDef } from './resource';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldRequirement,
  type LabelRequirement,
} from './selectors';
import { badRequest } from './status';
import { isObject, type JsonObject, type StoredObject } from './types';

export interface Filter {
  /** '' for all namespaces. */
  namespace: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

export function fieldValue(def: ResourceDef, object: JsonObject, field: string): string {
  const metadata = isObject(object.metadata) ? object.metadata : {};
  if (field === 'metadata.name') return typeof metadata.name === 'string' ? metadata.name : '';
  if (field === 'metadata.namespace')
    return typeof metadata.namespace === 'string' ? metadata.namespace : '';
  const getter = def.fieldSelectors[field];
  return getter === undefined ? '' : getter(object);
}

/** Builds a filter from query parameters; a bad selector is a 400, as on the real server. */
export function parseFilter(def: ResourceDef, namespace: string, params: URLSearchParams): Filter {
  const labels = parseLabelSelector(params.get('labelSelector') ?? '');
  if (!labels.ok) throw badRequest(labels.error);
  const fields = parseFieldSelector(params.get('fieldSelector') ?? '');
  if (!fields.ok) throw badRequest(fields.error);
  for (const requirement of fields.value) {
    const known =
      requirement.field === 'metadata.name' ||
      requirement.field === 'metadata.namespace' ||
      Object.hasOwn(def.fieldSelectors, requirement.field);
    if (!known) throw badRequest(`field label not supported: ${requirement.field}`);
  }
  return { namespace, labels: labels.value, fields: fields.value };
}

export function matches(def: ResourceDef, filter: Filter, object: StoredObject): boolean {
  if (filter.namespace !== '' && object.metadata.namespace !== filter.namespace) return false;
  const labels = isObject(object.metadata.labels) ? object.metadata.labels : {};
  if (!matchesLabels(filter.labels, labels)) return false;
  return matchesFields(filter.fields, (field) => fieldValue(def, object, field));
}

export function hasSelectors(filter: Filter): boolean {
  return filter.labels.length > 0 || filter.fields.length > 0;
}

/** A resourceVersion parameter: undefined when absent or empty. */
export function parseResourceVersion(raw: string | null): number | undefined {
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,15}$/.test(raw)) throw badRequest(`invalid resource version: ${JSON.stringify(raw)}`);
  return Number(raw);
}
