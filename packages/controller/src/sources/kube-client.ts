/**
 * The Kubernetes client: loading `@kubernetes/client-node` (an ES module, loaded with a dynamic
 * import so that this CommonJS package can use it), finding the cluster (a kubeconfig file,
 * or the service account when running in a Pod), and plain JSON requests for what the
 * generated clients would turn into class instances (lists, discovery, status patches).
 */
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };

export type ClientNode = typeof K8s;
export type KubeConfig = K8s.KubeConfig;

let loading: Promise<ClientNode> | undefined;

/** The client library, imported once. */
export function loadClientNode(): Promise<ClientNode> {
  loading ??= import('@kubernetes/client-node');
  return loading;
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** A problem the user must fix (a missing file, a kubeconfig without a cluster); not retried. */
export class KubeConfigError extends Error {
  override name = 'KubeConfigError';
}

export interface KubeConfigSource {
  /** Path of a kubeconfig file; without one, the in-cluster service account is used. */
  kubeconfig?: string;
  /** A context of the kubeconfig other than its current one. */
  context?: string;
  /** Environment for the in-cluster lookup; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0]?.slice(0, 300) ?? '';
}

/** Loads the configuration, or throws a KubeConfigError whose message is one line. */
export async function loadKubeConfig(source: KubeConfigSource): Promise<KubeConfig> {
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  const path = source.kubeconfig;
  if (path !== undefined && path !== '') {
    if (!existsSync(path)) throw new KubeConfigError(`kubeconfig ${path}: no such file`);
    try {
      // Read first so that an unreadable file says so, rather than failing inside the parser.
      readFileSync(path);
      kc.loadFromFile(path);
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code ?? firstLine(String(e));
      throw new KubeConfigError(`kubeconfig ${path}: cannot be read (${reason})`);
    }
    if (source.context !== undefined) {
      if (!kc.getContexts().some((c) => c.name === source.context))
        throw new KubeConfigError(`kubeconfig ${path}: no context named ${source.context}`);
      kc.setCurrentContext(source.context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster?.server)
      throw new KubeConfigError(
        `kubeconfig ${path}: the current context names no cluster with a server address`,
      );
    return kc;
  }
  const env = source.env ?? process.env;
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT)
    throw new KubeConfigError(
      'no kubeconfig given and not running inside a cluster (KUBERNETES_SERVICE_HOST is not set); pass a kubeconfig or manifest files',
    );
  if (!existsSync(`${SERVICE_ACCOUNT}/token`))
    throw new KubeConfigError(
      `running inside a cluster but ${SERVICE_ACCOUNT}/token is missing; mount a service account token`,
    );
  kc.loadFromCluster();
  return kc;
}

/** The API server's address, for messages. */
export function serverOf(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? '(no server)';
}

/** An error answer or a failed connection, with a one-line message. */
export class KubeRequestError extends Error {
  override name = 'KubeRequestError';
  constructor(
    message: string,
    /** The HTTP status, when the server answered. */
    readonly status?: number,
    /** The Kubernetes `reason` of a Status answer, such as `Conflict` or `Expired`. */
    readonly reason?: string,
  ) {
    super(message);
  }
}

const CONNECTION_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
};

/** One line that says what went wrong talking to the API server at `server`. */
export function describeKubeError(e: unknown, server: string): string {
  if (e instanceof KubeRequestError) return e.message;
  const err = e as { code?: unknown; statusCode?: unknown; message?: unknown; cause?: unknown };
  const code = typeof err?.code === 'string' ? err.code : undefined;
  if (code !== undefined && CONNECTION_CODES[code] !== undefined)
    return `cannot reach the API server at ${server}: ${CONNECTION_CODES[code]} (${code})`;
  if (typeof err?.statusCode === 'number')
    return `the API server at ${server} answered ${err.statusCode}`;
  const cause = err?.cause as { code?: unknown } | undefined;
  if (typeof cause?.code === 'string' && CONNECTION_CODES[cause.code] !== undefined)
    return `cannot reach the API server at ${server}: ${CONNECTION_CODES[cause.code]} (${cause.code})`;
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return `API server at ${server}: ${firstLine(message)}`;
}

export interface KubeRequest {
  method?: 'GET' | 'PATCH' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
  contentType?: string;
  /** Default 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** JSON requests to the API server with the kubeconfig's credentials and TLS settings. */
export class KubeHttp {
  readonly server: string;

  constructor(private readonly kc: KubeConfig) {
    this.server = serverOf(kc).replace(/\/+$/, '');
  }

  /** Sends a request; resolves with the parsed body of a 2xx answer, else rejects with a KubeRequestError. */
  async json(req: KubeRequest): Promise<unknown> {
    const options: RequestOptions & { headers: Record<string, string> } = { headers: {} };
    await this.kc.applyToHTTPSOptions(options);
    const url = new URL(this.server + req.path);
    const method = req.method ?? 'GET';
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = {
      ...(options.headers as Record<string, string>),
      accept: 'application/json',
      'user-agent': 'tether-controller',
    };
    if (payload) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const request = send(url, {
        method,
        headers,
        agent: options.agent,
        ...(options.auth ? { auth: options.auth } : {}),
        timeout: req.timeoutMs ?? 30_000,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      request.on('timeout', () =>
        request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })),
      );
      request.on('error', reject);
      request.on('response', (res: IncomingMessage) => {
        // Decoded as they come: a list of 10,000 objects is megabytes, and gathering the raw
        // pieces into one Buffer left tens of MiB of native memory the process never gave back.
        const chunks: string[] = [];
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: chunks.join('') }));
      });
      request.end(payload);
    }).catch((e: unknown) => {
      throw new KubeRequestError(describeKubeError(e, this.server));
    });
    let body: unknown;
    try {
      body = response.text === '' ? undefined : JSON.parse(response.text);
    } catch {
      body = undefined;
    }
    if (response.status >= 200 && response.status < 300) return body;
    const status = body as { message?: unknown; reason?: unknown } | undefined;
    const message = typeof status?.message === 'string' ? status.message : firstLine(response.text);
    throw new KubeRequestError(
      `${method} ${req.path}: ${response.status}${message ? ` ${firstLine(message)}` : ''}`,
      response.status,
      typeof status?.reason === 'string' ? status.reason : undefined,
    );
  }
}
