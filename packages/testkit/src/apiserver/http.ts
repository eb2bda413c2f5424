/** HTTP front of the stand-in: routing, bodies, content types and error responses. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { patchTypeOf, type FieldValidation, type ResourceApi, type WriteOptions } from './api';
import { resourceFor, servedGroupVersions } from './catalogue';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  OPENAPI_V2_CONTENT_TYPE,
  OPENAPI_V3_ROOT,
  VERSION_INFO,
} from './discovery';
import { parseFilter, parseResourceVersion } from './query';
import { apiVersionOf, type OptionalGroup, type ResourceDef } from './resource';
import {
  ApiError,
  badRequest,
  internalError,
  methodNotAllowed,
  pathNotFound,
  status,
  tooLarge,
  tooLargeResourceVersion,
} from './status';
import type { Store } from './store';
import { buildTable, includeObjectOf, wantsTable } from './table';
import type { Json, JsonObject } from './types';
import { startWatch, type OpenWatch } from './watch';

export interface HandlerSettings {
  enabledGroups: Set<OptionalGroup>;
  maxBodyBytes: number;
  bookmarkIntervalMs: number;
  defaultWatchTimeoutSeconds: number;
  now: () => Date;
  serverAddress: () => string;
}

/** What a request was, for the request log tests assert on. */
export interface RequestInfo {
  verb: string;
  group?: string;
  version?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface Target {
  def: ResourceDef;
  namespace: string;
  name: string;
  subresource: string;
  watchPath: boolean;
}

function send(response: ServerResponse, code: number, body: Json, warnings: string[] = []): void {
  const text = JSON.stringify(body);
  for (const warning of warnings)
    response.appendHeader('Warning', `299 - ${JSON.stringify(warning)}`);
  response.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(tooLarge(limit));
        request.removeAllListeners('data');
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function parseJson(raw: Buffer): Json {
  const text = raw.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw badRequest(`the request body is not valid JSON: ${(error as Error).message}`);
  }
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === '') return true;
  const bare = contentType.split(';')[0]!.trim().toLowerCase();
  return bare === 'application/json' || bare === '*/*';
}

function flag(params: URLSearchParams, name: string): boolean {
  const value = params.get(name);
  return value === 'true' || value === '1';
}

function fieldValidationOf(params: URLSearchParams): FieldValidation {
  const value = params.get('fieldValidation');
  if (value === null || value === '' || value === 'Warn') return 'Warn';
  if (value === 'Strict' || value === 'Ignore') return value;
  throw badRequest(`fieldValidation parameter unsupported: ${value}`);
}

function nonNegativeInteger(params: URLSearchParams, name: string): number | undefined {
  const raw = params.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw badRequest(`invalid ${name}: ${JSON.stringify(raw)}`);
  return Number(raw);
}

export class RequestHandler {
  readonly openWatches = new Set<OpenWatch>();

  constructor(
    private readonly store: Store,
    private readonly api: ResourceApi,
    private readonly settings: HandlerSettings,
  ) {}

  /** Handles one request; returns what it was, for the request log. */
  async handle(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    info: RequestInfo,
  ): Promise<void> {
    try {
      await this.route(request, response, url, info);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : internalError((error as Error).message);
      if (response.headersSent) {
        response.destroy();
        return;
      }
      send(response, apiError.code, apiError.status);
    }
  }

  private async route(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    info: RequestInfo,
  ): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = request.method ?? 'GET';
    const served = servedGroupVersions(this.settings.enabledGroups);
    if (method === 'GET') {
      const fixed = this.fixedDocument(path, served);
      if (fixed !== undefined) {
        info.verb = 'discovery';
        if (typeof fixed === 'string') {
          response.writeHead(200, { 'Content-Type': 'text/plain' });
          response.end(fixed);
        } else {
          send(response, 200, fixed);
        }
        return;
      }
      if (path === '/openapi/v2') {
        info.verb = 'discovery';
        response.writeHead(200, { 'Content-Type': OPENAPI_V2_CONTENT_TYPE, 'Content-Length': 0 });
        response.end();
        return;
      }
    }
    const target = this.resolve(path, served);
    if (target === undefined) throw pathNotFound();
    const { def } = target;
    info.group = def.group;
    info.version = def.version;
    info.resource = def.plural;
    if (target.subresource !== '') info.subresource = target.subresource;
    if (target.namespace !== '') info.namespace = target.namespace;
    if (target.name !== '') info.name = target.name;
    const params = url.searchParams;
    const watch = target.watchPath || flag(params, 'watch');
    if (target.subresource !== '' && target.subresource !== 'status') throw pathNotFound();
    if (target.subresource === 'status' && !def.hasStatus) throw pathNotFound();
    if (target.name === '') await this.collection(request, response, target, params, watch, info);
    else await this.item(request, response, target, params, watch, info);
  }

  private fixedDocument(
    path: string,
    served: ReturnType<typeof servedGroupVersions>,
  ): JsonObject | string | undefined {
    if (path === '/api') return apiVersions(this.settings.serverAddress());
    if (path === '/apis') return apiGroupList(served);
    if (path === '/version') return VERSION_INFO;
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return 'ok';
    if (path === '/openapi/v3') return OPENAPI_V3_ROOT;
    const core = served.find((entry) => entry.group === '');
    if (path === '/api/v1' && core !== undefined) return apiResourceList(core);
    const match = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (match === null) return undefined;
    const [, group, version] = match;
    if (version === undefined) return apiGroup(group!, served);
    const entry = served.find(
      (candidate) => candidate.group === group && candidate.version === version,
    );
    return entry === undefined ? undefined : apiResourceList(entry);
  }

  private resolve(
    path: string,
    served: ReturnType<typeof servedGroupVersions>,
  ): Target | undefined {
    let parts: string[];
    try {
      parts = path.split('/').slice(1).map(decodeURIComponent);
    } catch {
      throw badRequest(`malformed path: ${JSON.stringify(path)}`);
    }
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      version = parts[1]!;
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1]!;
      version = parts[2]!;
      rest = parts.slice(3);
    } else {
      return undefined;
    }
    const entry = served.find(
      (candidate) => candidate.group === group && candidate.version === version,
    );
    if (entry === undefined) return undefined;
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    let namespace = '';
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const def = resourceFor(group, version, rest[2]!);
      if (def !== undefined && def.namespaced && entry.resources.includes(def)) {
        namespace = rest[1]!;
        rest = rest.slice(2);
      }
    }
    const def = resourceFor(group, version, rest[0] ?? '');
    if (def === undefined || !entry.resources.includes(def) || rest.length > 3) return undefined;
    if (namespace === '' && def.namespaced && rest.length >= 2) return undefined;
    return { def, namespace, name: rest[1] ?? '', subresource: rest[2] ?? '', watchPath };
  }

  private writeOptions(params: URLSearchParams): WriteOptions & { warnings: string[] } {
    const dryRun = params.getAll('dryRun');
    if (dryRun.some((value) => value !== 'All'))
      throw badRequest('dryRun parameter unsupported: only "All" is allowed');
    return { dryRun: dryRun.length > 0, fieldValidation: fieldValidationOf(params), warnings: [] };
  }

  private async body(request: IncomingMessage): Promise<Buffer> {
    return readBody(request, this.settings.maxBodyBytes);
  }

  private async jsonBody(request: IncomingMessage): Promise<Json> {
    const contentType = request.headers['content-type'];
    const raw = await this.body(request);
    if (!isJsonContentType(contentType)) {
      throw new ApiError(
        status(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: application/json (got ${JSON.stringify(contentType ?? '')})`,
        ),
      );
    }
    return parseJson(raw);
  }

  private async collection(
    request: IncomingMessage,
    response: ServerResponse,
    target: Target,
    params: URLSearchParams,
    watch: boolean,
    info: RequestInfo,
  ): Promise<void> {
    const { def, namespace } = target;
    const method = request.method ?? 'GET';
    if (method === 'GET') {
      const filter = parseFilter(def, namespace, params);
      if (watch) {
        info.verb = 'watch';
        this.watch(request, response, target, params, filter);
        return;
      }
      info.verb = 'list';
      const limit = nonNegativeInteger(params, 'limit');
      const continueToken = params.get('continue') ?? undefined;
      const resourceVersion = parseResourceVersion(params.get('resourceVersion'));
      const resourceVersionMatch = params.get('resourceVersionMatch') ?? undefined;
      const listOptions = {
        ...(limit === undefined ? {} : { limit }),
        ...(continueToken === undefined ? {} : { continueToken }),
        ...(resourceVersion === undefined ? {} : { resourceVersion }),
        ...(resourceVersionMatch === undefined ? {} : { resourceVersionMatch }),
      };
      const { items, metadata } = this.api.list(def, filter, listOptions);
      const wire = items.map((object) => this.api.toWire(def, object));
      if (wantsTable(request.headers.accept)) {
        const table = buildTable(
          def,
          wire,
          this.settings.now().getTime(),
          includeObjectOf(params.get('includeObject')),
          metadata,
        );
        send(response, 200, table);
        return;
      }
      send(response, 200, {
        kind: `${def.kind}List`,
        apiVersion: apiVersionOf(def),
        metadata,
        // Lists of built-in kinds omit each item's kind and apiVersion; custom resources keep them.
        items: def.custom
          ? wire
          : wire.map(({ kind: _kind, apiVersion: _apiVersion, ...rest }) => rest),
      });
      return;
    }
    if (method === 'POST') {
      info.verb = 'create';
      if (def.namespaced && namespace === '') throw methodNotAllowed('create', def);
      const options = this.writeOptions(params);
      const body = await this.jsonBody(request);
      const created = this.api.create(def, namespace, body, options);
      send(response, 201, this.api.toWire(def, created), options.warnings);
      return;
    }
    if (method === 'DELETE') {
      info.verb = 'deletecollection';
      const filter = parseFilter(def, namespace, params);
      const options = this.writeOptions(params);
      await this.body(request);
      const deleted = this.api.deleteCollection(def, filter, options);
      send(response, 200, {
        kind: `${def.kind}List`,
        apiVersion: apiVersionOf(def),
        metadata: { resourceVersion: String(this.store.resourceVersion) },
        items: deleted.map((object) => this.api.toWire(def, object)),
      });
      return;
    }
    throw methodNotAllowed(method.toLowerCase(), def);
  }

  private watch(
    request: IncomingMessage,
    response: ServerResponse,
    target: Target,
    params: URLSearchParams,
    filter: ReturnType<typeof parseFilter>,
  ): void {
    const timeout = nonNegativeInteger(params, 'timeoutSeconds');
    const sendInitial = params.get('sendInitialEvents');
    const resourceVersion = parseResourceVersion(params.get('resourceVersion'));
    // The real watch cache waits a moment for a future version, then gives up with 504.
    if (resourceVersion !== undefined && resourceVersion > this.store.resourceVersion) {
      throw tooLargeResourceVersion(resourceVersion, this.store.resourceVersion);
    }
    const open = startWatch(
      response,
      {
        def: target.def,
        filter,
        resourceVersion,
        allowBookmarks: flag(params, 'allowWatchBookmarks'),
        sendInitialEvents: sendInitial === null ? undefined : sendInitial === 'true',
        timeoutSeconds: timeout ?? this.settings.defaultWatchTimeoutSeconds,
        table: wantsTable(request.headers.accept)
          ? includeObjectOf(params.get('includeObject'))
          : undefined,
      },
      this.store,
      this.api,
      {
        bookmarkIntervalMs: this.settings.bookmarkIntervalMs,
        now: () => this.settings.now().getTime(),
      },
      () => this.openWatches.delete(open),
    );
    if (!response.writableEnded) this.openWatches.add(open);
  }

  private async item(
    request: IncomingMessage,
    response: ServerResponse,
    target: Target,
    params: URLSearchParams,
    watch: boolean,
    info: RequestInfo,
  ): Promise<void> {
    const { def, namespace, name } = target;
    const subresource = target.subresource === 'status' ? 'status' : '';
    const method = request.method ?? 'GET';
    if (method === 'GET' && watch) {
      info.verb = 'watch';
      const filter = parseFilter(def, namespace, params);
      filter.fields.push({ field: 'metadata.name', op: 'eq', value: name });
      this.watch(request, response, target, params, filter);
      return;
    }
    switch (method) {
      case 'GET': {
        info.verb = 'get';
        const object = this.api.toWire(def, this.api.get(def, namespace, name));
        if (wantsTable(request.headers.accept)) {
          const metadata = { resourceVersion: String(this.store.resourceVersion) };
          send(
            response,
            200,
            buildTable(
              def,
              [object],
              this.settings.now().getTime(),
              includeObjectOf(params.get('includeObject')),
              metadata,
            ),
          );
        } else {
          send(response, 200, object);
        }
        return;
      }
      case 'PUT': {
        info.verb = 'update';
        const options = this.writeOptions(params);
        const body = await this.jsonBody(request);
        const result = this.api.update(def, namespace, name, body, subresource, options);
        send(
          response,
          result.created ? 201 : 200,
          this.api.toWire(def, result.object),
          options.warnings,
        );
        return;
      }
      case 'PATCH': {
        info.verb = 'patch';
        const options = this.writeOptions(params);
        const type = patchTypeOf(request.headers['content-type'] ?? '');
        const raw = await this.body(request);
        let body: Json;
        try {
          body = parseJson(raw);
        } catch (error) {
          if (type === 'apply')
            throw badRequest(
              'the stand-in API server accepts server-side apply bodies in JSON only',
            );
          throw error;
        }
        const result = this.api.patch(def, namespace, name, type, body, subresource, options);
        send(
          response,
          result.created ? 201 : 200,
          this.api.toWire(def, result.object),
          options.warnings,
        );
        return;
      }
      case 'DELETE': {
        info.verb = 'delete';
        if (subresource !== '') throw methodNotAllowed('delete', def);
        const options = this.writeOptions(params);
        const raw = await this.body(request);
        const body = raw.toString('utf8').trim() === '' ? undefined : parseJson(raw);
        const result = this.api.delete(def, namespace, name, body, options);
        if (!result.gone) {
          send(response, 202, this.api.toWire(def, result.object));
        } else if (def.custom) {
          send(response, 200, this.api.toWire(def, result.object));
        } else {
          send(
            response,
            200,
            status(200, '', '', {
              name,
              group: def.group,
              kind: def.plural,
              uid: result.object.metadata.uid,
            }),
          );
        }
        return;
      }
      default:
        throw methodNotAllowed(method.toLowerCase(), def);
    }
  }
}
