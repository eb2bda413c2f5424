/** What the stand-in knows about one resource (one group/version/plural). */
import type { FieldError } from './status';
import type { Json, JsonObject, StoredObject } from './types';
import { ageOf } from './time';
import type { NameRule } from './validation';

/** API groups served only when a test asks for them (their CRDs are "installed"). */
export const OPTIONAL_GROUPS = [
  'gateway.networking.k8s.io',
  'gateway.networking.x-k8s.io',
  'route.openshift.io',
] as const;
export type OptionalGroup = (typeof OPTIONAL_GROUPS)[number];

export interface ColumnDefinition extends JsonObject {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableSpec {
  columns: ColumnDefinition[];
  /** One cell per column, from the object as the client sees it (wire form). */
  cells(object: JsonObject, now: number): Json[];
}

/** Server-side allocation of values that kube-apiserver assigns (cluster IPs, node ports). */
export interface Allocator {
  clusterIP(): string;
  nodePort(): number;
  now(): Date;
}

export interface ResourceDef {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Has a `/status` subresource: main-resource writes keep the stored status. */
  hasStatus: boolean;
  /** Maintains metadata.generation (bumped when anything but metadata and status changes). */
  hasGeneration: boolean;
  /** A custom resource: list items carry kind/apiVersion, DELETE answers with the object. */
  custom: boolean;
  /** Storage bucket; two resources with one bucket are two views of the same objects. */
  storage: string;
  nameRule: NameRule;
  optionalGroup?: OptionalGroup;
  /** PUT of a missing object creates it (as for Endpoints, Events and Leases). */
  createOnUpdate: boolean;
  /**
   * The top-level fields the real schema knows. Others are dropped on write, with a warning
   * (or a 400 under `fieldValidation=Strict`), as kube-apiserver does. Undefined: keep all.
   */
  topLevelFields?: string[];
  /** Field-selector fields beyond metadata.name and metadata.namespace, read from the stored form. */
  fieldSelectors: Record<string, (stored: JsonObject) => string>;
  /** Stored form → the form this resource's API shows. Identity unless given. */
  toWire?(stored: JsonObject): JsonObject;
  /** The form this API accepts → stored form. Identity unless given. */
  fromWire?(wire: JsonObject): JsonObject;
  /** Fills server-side defaults into a new or updated object (stored form). */
  defaults?(object: JsonObject, old: StoredObject | undefined, allocate: Allocator): void;
  /** Kind-specific rules, on the stored form; `old` is set for updates. */
  validate?(object: JsonObject, old: StoredObject | undefined): FieldError[];
  table: TableSpec;
}

export function apiVersionOf(def: Pick<ResourceDef, 'group' | 'version'>): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}

export function column(
  name: string,
  description: string,
  priority = 0,
  type = 'string',
): ColumnDefinition {
  return { name, type, format: name === 'Name' ? 'name' : '', description, priority };
}

function metadataOf(object: JsonObject): JsonObject {
  const metadata = object.metadata;
  return typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
    ? metadata
    : {};
}

export function nameCell(object: JsonObject): string {
  const name = metadataOf(object).name;
  return typeof name === 'string' ? name : '';
}

export function ageCell(object: JsonObject, now: number): string {
  return ageOf(metadataOf(object).creationTimestamp, now);
}

/** The table every resource without its own printer gets: Name and Age. */
export const DEFAULT_TABLE: TableSpec = {
  columns: [
    column('Name', 'Name of the object'),
    column('Age', 'Time since the object was created'),
  ],
  cells: (object, now) => [nameCell(object), ageCell(object, now)],
};

/** Shared defaults of a definition; kinds override what differs. */
export function resource(
  fields: Pick<ResourceDef, 'group' | 'version' | 'plural' | 'singular' | 'kind' | 'namespaced'> &
    Partial<ResourceDef>,
): ResourceDef {
  return {
    shortNames: [],
    categories: [],
    hasStatus: false,
    hasGeneration: false,
    custom: false,
    storage: `${fields.group}/${fields.plural}`,
    nameRule: 'subdomain',
    createOnUpdate: false,
    fieldSelectors: {},
    table: DEFAULT_TABLE,
    ...fields,
  };
}
