/**
 * `Status` objects shaped like kube-apiserver's, and the error type that carries them through
 * the request handlers.
 */
import type { JsonObject } from './types';

export interface StatusCause extends JsonObject {
  reason: string;
  message: string;
  field: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status extends JsonObject {
  kind: 'Status';
  apiVersion: 'v1';
}

export function status(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): Status {
  const body: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 300 ? 'Success' : 'Failure',
    message,
    reason,
    code,
  };
  if (details !== undefined) {
    const clean: JsonObject = {};
    for (const [key, value] of Object.entries(details)) {
      if (value !== undefined && value !== '') clean[key] = value as JsonObject[string];
    }
    if (Object.keys(clean).length > 0) body.details = clean;
  }
  if (reason === '') delete body.reason;
  if (message === '') delete body.message;
  return body;
}

/** A failure that a handler turns into an HTTP response carrying `status`. */
export class ApiError extends Error {
  constructor(readonly status: Status) {
    super(typeof status.message === 'string' ? status.message : 'error');
  }
  get code(): number {
    return typeof this.status.code === 'number' ? this.status.code : 500;
  }
}

/** "group/resource" is how the real server names a resource in messages ("ingresses.networking.k8s.io"). */
export interface ResourceName {
  group: string;
  plural: string;
}

function qualified(resource: ResourceName): string {
  return resource.group === '' ? resource.plural : `${resource.plural}.${resource.group}`;
}

export function notFound(resource: ResourceName, name: string): ApiError {
  return new ApiError(
    status(404, 'NotFound', `${qualified(resource)} "${name}" not found`, {
      name,
      group: resource.group,
      kind: resource.plural,
    }),
  );
}

export function alreadyExists(resource: ResourceName, name: string): ApiError {
  return new ApiError(
    status(409, 'AlreadyExists', `${qualified(resource)} "${name}" already exists`, {
      name,
      group: resource.group,
      kind: resource.plural,
    }),
  );
}

export function conflict(resource: ResourceName, name: string, why: string): ApiError {
  return new ApiError(
    status(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(resource)} "${name}": ${why}`,
      {
        name,
        group: resource.group,
        kind: resource.plural,
      },
    ),
  );
}

export const STALE_OBJECT =
  'the object has been modified; please apply your changes to the latest version and try again';

export function badRequest(message: string): ApiError {
  return new ApiError(status(400, 'BadRequest', message));
}

/** The generic answer for a path that names nothing this server serves. */
export function pathNotFound(): ApiError {
  return new ApiError(status(404, 'NotFound', 'the server could not find the requested resource'));
}

export function methodNotAllowed(verb: string, resource: ResourceName): ApiError {
  return new ApiError(
    status(
      405,
      'MethodNotAllowed',
      `${verb} is not supported on resources of kind "${qualified(resource)}"`,
    ),
  );
}

export function unsupportedMediaType(contentType: string): ApiError {
  return new ApiError(
    status(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got ${JSON.stringify(contentType)})`,
    ),
  );
}

export function tooLarge(limit: number): ApiError {
  return new ApiError(
    status(413, 'RequestEntityTooLarge', `the request body exceeds the limit of ${limit} bytes`),
  );
}

export function expired(message: string): ApiError {
  return new ApiError(status(410, 'Expired', message));
}

export function tooLargeResourceVersion(requested: number, current: number): ApiError {
  return new ApiError(
    status(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
      causes: [
        { reason: 'ResourceVersionTooLarge', message: 'Too large resource version', field: '' },
      ],
      retryAfterSeconds: 1,
    }),
  );
}

/** One field problem, formatted the way apimachinery's field.Error is. */
export interface FieldError {
  type: 'Required' | 'Invalid' | 'NotSupported' | 'Forbidden' | 'TooLong' | 'Duplicate';
  field: string;
  /** The offending value (shown for Invalid, NotSupported, Duplicate). */
  value?: unknown;
  detail?: string;
  /** For NotSupported: the accepted values. */
  supported?: readonly string[];
}

const CAUSE_REASON: Record<FieldError['type'], string> = {
  Required: 'FieldValueRequired',
  Invalid: 'FieldValueInvalid',
  NotSupported: 'FieldValueNotSupported',
  Forbidden: 'FieldValueForbidden',
  TooLong: 'FieldValueTooLong',
  Duplicate: 'FieldValueDuplicate',
};

function showValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === undefined || value === null) return 'null';
  return JSON.stringify(value);
}

export function fieldErrorBody(error: FieldError): string {
  const detail = error.detail !== undefined && error.detail !== '' ? `: ${error.detail}` : '';
  switch (error.type) {
    case 'Required':
      return `Required value${detail}`;
    case 'Forbidden':
      return `Forbidden${detail}`;
    case 'TooLong':
      return `Too long${detail}`;
    case 'Invalid':
      return `Invalid value: ${showValue(error.value)}${detail}`;
    case 'Duplicate':
      return `Duplicate value: ${showValue(error.value)}`;
    case 'NotSupported': {
      const supported = (error.supported ?? []).map((value) => JSON.stringify(value)).join(', ');
      return `Unsupported value: ${showValue(error.value)}: supported values: ${supported}`;
    }
  }
}

/** 422 Invalid, with one cause per field error. */
export function invalid(
  kind: string,
  group: string,
  name: string,
  errors: readonly FieldError[],
): ApiError {
  const lines = errors.map((error) => `${error.field}: ${fieldErrorBody(error)}`);
  const summary = lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`;
  const qualifiedKind = group === '' ? kind : `${kind}.${group}`;
  return new ApiError(
    status(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
      name,
      group,
      kind,
      causes: errors.map((error) => ({
        reason: CAUSE_REASON[error.type],
        message: fieldErrorBody(error),
        field: error.field,
      })),
    }),
  );
}

export function internalError(message: string): ApiError {
  return new ApiError(status(500, 'InternalError', `Internal error occurred: ${message}`));
}
