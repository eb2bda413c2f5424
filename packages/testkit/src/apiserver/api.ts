/**
 * The REST semantics of kube-apiserver's generic registry, independent of HTTP: create, get,
 * list, update, patch, delete and deletecollection, with defaulting, validation, optimistic
 * concurrency, status subresources, generations and finalizers.
 */
import { randomUUID } from 'node:crypto';
import { NAMESPACES } from './catalogue';
import { jsonPatch, mergePatch, strategicMerge } from './patch';
import { hasSelectors, matches, type Filter } from './query';
import { apiVersionOf, type Allocator, type ResourceDef } from './resource';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  expired,
  internalError,
  invalid,
  notFound,
  STALE_OBJECT,
  status,
  tooLargeResourceVersion,
  unsupportedMediaType,
  type FieldError,
} from './status';
import { objectKey, type Store } from './store';
import { formatTime } from './time';
import {
  clone,
  isObject,
  jsonEqual,
  type Json,
  type JsonObject,
  type ObjectMeta,
  type StoredObject,
  removeKey,
} from './types';
import { validateMetadata } from './validation';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  /** Filled with the `Warning` headers the real server would send. */
  warnings?: string[];
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const PATCH_TYPES: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function patchTypeOf(contentType: string): PatchType {
  const bare = contentType.split(';')[0]!.trim().toLowerCase();
  const type = PATCH_TYPES[bare];
  if (type === undefined) throw unsupportedMediaType(contentType);
  return type;
}

export interface ListOptions {
  resourceVersion?: number;
  resourceVersionMatch?: string;
  limit?: number;
  continueToken?: string;
}

interface Snapshot {
  rv: number;
  items: StoredObject[];
  expires: number;
}

const SNAPSHOT_TTL_MS = 60_000;
const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Drops null values recursively: for the typed objects of the API, null means "unset". */
function withoutNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isObject(value)) return value;
  const result: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (item !== null && item !== undefined) result[key] = withoutNulls(item);
  }
  return result;
}

function metadataOf(object: JsonObject): JsonObject {
  return isObject(object.metadata) ? { ...object.metadata } : {};
}

function text(value: Json | undefined): string {
  return typeof value === 'string' ? value : '';
}

export class ResourceApi {
  private readonly snapshots = new Map<string, Snapshot>();

  constructor(
    private readonly store: Store,
    private readonly allocator: Allocator,
    private readonly options: { autoCreateNamespaces: () => boolean },
  ) {}

  /** The object as the given resource's API shows it, with kind and apiVersion. */
  toWire(def: ResourceDef, stored: StoredObject): JsonObject {
    const wire = def.toWire === undefined ? { ...stored } : def.toWire(stored);
    if (stored.metadata.namespace === '') {
      const { namespace: _namespace, ...metadata } = stored.metadata;
      wire.metadata = metadata;
    }
    return { ...wire, apiVersion: apiVersionOf(def), kind: def.kind };
  }

  get(def: ResourceDef, namespace: string, name: string): StoredObject {
    const found = this.store.get(def.storage, namespace, name);
    if (found === undefined) throw notFound(def, name);
    return found;
  }

  find(def: ResourceDef, namespace: string, name: string): StoredObject | undefined {
    return this.store.get(def.storage, namespace, name);
  }

  private checkVersion(requested: number | undefined, match: string | undefined): void {
    const current = this.store.resourceVersion;
    if (requested === undefined || requested === 0) return;
    if (match === 'Exact' && requested !== current) {
      throw expired(`too old resource version: ${requested} (${current})`);
    }
    if (requested > current) throw tooLargeResourceVersion(requested, current);
  }

  /** A list, optionally paged; pages after the first read from a snapshot, as etcd would. */
  list(
    def: ResourceDef,
    filter: Filter,
    options: ListOptions,
  ): { items: StoredObject[]; metadata: JsonObject } {
    this.expireSnapshots();
    let items: StoredObject[];
    let rv: number;
    let offset = 0;
    if (options.continueToken !== undefined && options.continueToken !== '') {
      const token = this.decodeContinue(options.continueToken);
      const snapshot = this.snapshots.get(token.id);
      if (snapshot === undefined) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. Start a new list without the continue parameter.',
        );
      }
      items = snapshot.items;
      rv = snapshot.rv;
      offset = token.offset;
    } else {
      this.checkVersion(options.resourceVersion, options.resourceVersionMatch);
      rv = this.store.resourceVersion;
      items = this.store.list(def.storage).filter((object) => matches(def, filter, object));
    }
    const metadata: JsonObject = { resourceVersion: String(rv) };
    const limit = options.limit ?? 0;
    if (limit > 0 && offset + limit < items.length) {
      const id = randomUUID();
      this.snapshots.set(id, { rv, items, expires: Date.now() + SNAPSHOT_TTL_MS });
      metadata.continue = Buffer.from(JSON.stringify({ id, offset: offset + limit, rv })).toString(
        'base64url',
      );
      if (!hasSelectors(filter)) metadata.remainingItemCount = items.length - offset - limit;
      return { items: items.slice(offset, offset + limit), metadata };
    }
    return { items: offset === 0 ? items : items.slice(offset), metadata };
  }

  private decodeContinue(token: string): { id: string; offset: number } {
    try {
      const decoded: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
      if (isObject(decoded as Json) && typeof (decoded as JsonObject).id === 'string') {
        const offset = (decoded as JsonObject).offset;
        if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) {
          return { id: (decoded as JsonObject).id as string, offset };
        }
      }
    } catch {
      // fall through to the error below
    }
    throw badRequest('invalid value for continue');
  }

  private expireSnapshots(): void {
    const now = Date.now();
    for (const [id, snapshot] of this.snapshots) {
      if (snapshot.expires < now) this.snapshots.delete(id);
    }
  }

  /** Turns a request body into the stored form, checking kind/apiVersion and unknown fields. */
  private decode(def: ResourceDef, body: Json, options: WriteOptions): JsonObject {
    if (!isObject(body)) throw badRequest('the body of the request must be a JSON object');
    const apiVersion = body.apiVersion;
    const kind = body.kind;
    if (
      (apiVersion !== undefined && apiVersion !== apiVersionOf(def)) ||
      (kind !== undefined && kind !== def.kind)
    ) {
      throw badRequest(
        `the API version in the data (${text(apiVersion)}) does not match the expected API version (${apiVersionOf(def)}) or the kind (${text(kind)}) is not ${def.kind}`,
      );
    }
    const wire: JsonObject = { ...body };
    if (def.topLevelFields !== undefined) {
      const unknown = Object.keys(wire).filter((key) => !def.topLevelFields!.includes(key));
      if (unknown.length > 0 && options.fieldValidation === 'Strict') {
        throw badRequest(
          `strict decoding error: ${unknown.map((key) => `unknown field "${key}"`).join(', ')}`,
        );
      }
      for (const key of unknown) {
        removeKey(wire, key);
        if (options.fieldValidation !== 'Ignore') options.warnings?.push(`unknown field "${key}"`);
      }
    }
    const stored = def.fromWire === undefined ? wire : def.fromWire(wire);
    const clean = withoutNulls(clone(stored)) as JsonObject;
    clean.apiVersion = def.fromWire === undefined ? apiVersionOf(def) : text(clean.apiVersion);
    clean.kind = def.kind;
    return clean;
  }

  private validate(def: ResourceDef, object: JsonObject, old: StoredObject | undefined): void {
    const errors: FieldError[] = validateMetadata(metadataOf(object), def.nameRule);
    if (def.validate !== undefined) errors.push(...def.validate(object, old));
    if (errors.length > 0)
      throw invalid(def.kind, def.group, text(metadataOf(object).name), errors);
  }

  private ensureNamespace(def: ResourceDef, namespace: string, options: WriteOptions): void {
    if (!def.namespaced || this.store.get(NAMESPACES.storage, '', namespace) !== undefined) return;
    if (!this.options.autoCreateNamespaces()) throw notFound(NAMESPACES, namespace);
    if (options.dryRun !== true) this.create(NAMESPACES, '', { metadata: { name: namespace } }, {});
  }

  create(def: ResourceDef, namespace: string, body: Json, options: WriteOptions): StoredObject {
    const object = this.decode(def, body, options);
    const metadata = metadataOf(object);
    if (text(metadata.name) === '' && text(metadata.generateName) !== '') {
      let suffix = '';
      for (let index = 0; index < 5; index++) {
        suffix += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
      }
      metadata.name = `${text(metadata.generateName)}${suffix}`;
    }
    if (def.namespaced) {
      if (text(metadata.namespace) !== '' && metadata.namespace !== namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      metadata.namespace = namespace;
    } else {
      delete metadata.namespace;
    }
    if (text(metadata.resourceVersion) !== '') {
      throw internalError('resourceVersion should not be set on objects to be created');
    }
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
    delete metadata.managedFields;
    metadata.uid = randomUUID();
    metadata.creationTimestamp = formatTime(this.allocator.now());
    if (def.hasGeneration) metadata.generation = 1;
    else delete metadata.generation;
    object.metadata = metadata;
    // The status of a resource with a status subresource cannot be set on create.
    if (def.hasStatus) delete object.status;
    def.defaults?.(object, undefined, this.allocator);
    this.validate(def, object, undefined);
    const name = text(metadata.name);
    this.ensureNamespace(def, namespace, options);
    if (this.store.get(def.storage, def.namespaced ? namespace : '', name) !== undefined) {
      throw alreadyExists(def, name);
    }
    const stored = this.asStored(object);
    if (options.dryRun === true)
      return { ...stored, metadata: { ...stored.metadata, resourceVersion: '' } };
    return this.store.commit(def.storage, 'ADDED', stored);
  }

  private asStored(object: JsonObject): StoredObject {
    const metadata = metadataOf(object) as ObjectMeta;
    metadata.namespace = text(metadata.namespace);
    return { ...object, metadata } as StoredObject;
  }

  /** PUT of the main resource (`subresource` '') or of `status`. */
  update(
    def: ResourceDef,
    namespace: string,
    name: string,
    body: Json,
    subresource: '' | 'status',
    options: WriteOptions,
  ): { object: StoredObject; created: boolean } {
    const ns = def.namespaced ? namespace : '';
    const old = this.store.get(def.storage, ns, name);
    const object = this.decode(def, body, options);
    const metadata = metadataOf(object);
    if (text(metadata.name) !== name) {
      throw badRequest(
        `the name of the object (${text(metadata.name)}) does not match the name on the URL (${name})`,
      );
    }
    if (def.namespaced && text(metadata.namespace) !== '' && metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (old === undefined) {
      if (!def.createOnUpdate || subresource !== '') throw notFound(def, name);
      // Create from the body as sent (in this API's form), without its resourceVersion.
      const sent = isObject(body) ? body : {};
      const { resourceVersion: _ignored, ...sentMetadata } = metadataOf(sent);
      return {
        object: this.create(def, namespace, { ...sent, metadata: sentMetadata }, options),
        created: true,
      };
    }
    const requestedVersion = text(metadata.resourceVersion);
    if (requestedVersion !== '' && requestedVersion !== old.metadata.resourceVersion) {
      throw conflict(def, name, STALE_OBJECT);
    }
    let next: JsonObject;
    if (subresource === 'status') {
      next = { ...old, status: object.status ?? null };
      if (next.status === null) delete next.status;
    } else {
      next = object;
      if (def.hasStatus) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      next.metadata = this.carrySystemFields(def, metadata, old);
    }
    return { object: this.finishUpdate(def, next, old, options), created: false };
  }

  private carrySystemFields(def: ResourceDef, metadata: JsonObject, old: StoredObject): JsonObject {
    const result: JsonObject = { ...metadata };
    for (const key of [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'namespace',
    ]) {
      if (old.metadata[key] === undefined) removeKey(result, key);
      else result[key] = old.metadata[key]!;
    }
    delete result.managedFields;
    if (!def.namespaced) delete result.namespace;
    return result;
  }

  private finishUpdate(
    def: ResourceDef,
    next: JsonObject,
    old: StoredObject,
    options: WriteOptions,
  ): StoredObject {
    const name = old.metadata.name;
    if (old.metadata.deletionTimestamp !== undefined) {
      const before = new Set(Array.isArray(old.metadata.finalizers) ? old.metadata.finalizers : []);
      const after = metadataOf(next).finalizers;
      if (Array.isArray(after) && after.some((finalizer) => !before.has(finalizer))) {
        throw invalid(def.kind, def.group, name, [
          {
            type: 'Forbidden',
            field: 'metadata.finalizers',
            detail: 'no new finalizers can be added if the object is being deleted',
          },
        ]);
      }
    }
    def.defaults?.(next, old, this.allocator);
    this.validate(def, next, old);
    if (def.hasGeneration) {
      const strip = (object: JsonObject): JsonObject => {
        const { metadata: _metadata, status: _status, ...rest } = object;
        return rest;
      };
      if (!jsonEqual(strip(next), strip(old))) {
        const metadata = metadataOf(next);
        metadata.generation =
          (typeof old.metadata.generation === 'number' ? old.metadata.generation : 1) + 1;
        next.metadata = metadata;
      }
    }
    const candidate = this.asStored(next);
    candidate.metadata.resourceVersion = old.metadata.resourceVersion;
    // Like the real server, an update that changes nothing writes nothing and notifies no one.
    if (jsonEqual(candidate, old)) return old;
    if (options.dryRun === true) return candidate;
    const finalizers = candidate.metadata.finalizers;
    if (
      candidate.metadata.deletionTimestamp !== undefined &&
      (!Array.isArray(finalizers) || finalizers.length === 0)
    ) {
      return this.store.commit(def.storage, 'DELETED', candidate, old);
    }
    return this.store.commit(def.storage, 'MODIFIED', candidate, old);
  }

  patch(
    def: ResourceDef,
    namespace: string,
    name: string,
    type: PatchType,
    body: Json,
    subresource: '' | 'status',
    options: WriteOptions,
  ): { object: StoredObject; created: boolean } {
    const ns = def.namespaced ? namespace : '';
    const old = this.store.get(def.storage, ns, name);
    if (type === 'strategic' && def.custom) {
      throw new ApiError(
        status(
          415,
          'UnsupportedMediaType',
          'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
        ),
      );
    }
    if (old === undefined) {
      if (type !== 'apply' || subresource !== '') throw notFound(def, name);
      const created = isObject(body) ? { ...body } : body;
      if (isObject(created)) created.metadata = { ...metadataOf(created), name };
      return { object: this.create(def, namespace, created, options), created: true };
    }
    const current = this.toWire(def, old);
    let patched: Json;
    switch (type) {
      case 'merge':
      case 'apply':
        if (!isObject(body)) throw badRequest('a merge patch must be a JSON object');
        patched = mergePatch(current, body);
        break;
      case 'strategic':
        if (!isObject(body)) throw badRequest('a strategic merge patch must be a JSON object');
        patched = strategicMerge(current, body);
        break;
      case 'json': {
        const result = jsonPatch(current, body);
        if (!result.ok) {
          throw new ApiError(
            status(
              422,
              'Invalid',
              `the server rejected our request due to an error in our request: ${result.error}`,
            ),
          );
        }
        patched = result.value;
        break;
      }
    }
    if (!isObject(patched)) throw badRequest('the patched object is not a JSON object');
    return this.update(def, namespace, name, patched, subresource, options);
  }

  /** DELETE of one object: immediate, unless finalizers hold it (then deletionTimestamp is set). */
  delete(
    def: ResourceDef,
    namespace: string,
    name: string,
    body: Json | undefined,
    options: WriteOptions,
  ): { object: StoredObject; gone: boolean } {
    const old = this.get(def, def.namespaced ? namespace : '', name);
    const preconditions = isObject(body) && isObject(body.preconditions) ? body.preconditions : {};
    if (typeof preconditions.uid === 'string' && preconditions.uid !== old.metadata.uid) {
      throw conflict(
        def,
        name,
        `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    if (
      typeof preconditions.resourceVersion === 'string' &&
      preconditions.resourceVersion !== old.metadata.resourceVersion
    ) {
      throw conflict(
        def,
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    if (options.dryRun === true) return { object: old, gone: true };
    const finalizers = old.metadata.finalizers;
    if (Array.isArray(finalizers) && finalizers.length > 0) {
      if (old.metadata.deletionTimestamp !== undefined) return { object: old, gone: false };
      const marked: StoredObject = {
        ...old,
        metadata: {
          ...old.metadata,
          deletionTimestamp: formatTime(this.allocator.now()),
          deletionGracePeriodSeconds: 0,
        },
      };
      return { object: this.store.commit(def.storage, 'MODIFIED', marked, old), gone: false };
    }
    if (def === NAMESPACES) this.emptyNamespace(name);
    return { object: this.store.commit(def.storage, 'DELETED', old, old), gone: true };
  }

  /** Deleting a namespace deletes what it holds (at once; the real server does it in the background). */
  private emptyNamespace(namespace: string): void {
    for (const storage of this.store.storages()) {
      for (const object of this.store.list(storage)) {
        if (object.metadata.namespace === namespace)
          this.store.commit(storage, 'DELETED', object, object);
      }
    }
  }

  deleteCollection(def: ResourceDef, filter: Filter, options: WriteOptions): StoredObject[] {
    const deleted: StoredObject[] = [];
    for (const object of this.store.list(def.storage)) {
      if (!matches(def, filter, object)) continue;
      deleted.push(
        this.delete(def, object.metadata.namespace, object.metadata.name, undefined, options)
          .object,
      );
    }
    return deleted;
  }

  /** Removes every object of a resource (used when an optional API group is switched off). */
  purge(def: ResourceDef): void {
    for (const object of this.store.list(def.storage)) {
      this.store.commit(def.storage, 'DELETED', object, object);
    }
  }

  key(object: StoredObject): string {
    return objectKey(object.metadata.namespace, object.metadata.name);
  }
}
