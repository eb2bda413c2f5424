/**
 * @kubernetes/client-node 1.4 ships only ES modules. This package compiles to CommonJS, so the
 * client is loaded with a dynamic import (a real `import()` in the built output, a `require`
 * of the transformed module under jest) and only its types are imported statically.
 */
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };

export type ClientNode = typeof K8s;
export type { K8s };

let loading: Promise<ClientNode> | undefined;

export function loadClientNode(): Promise<ClientNode> {
  loading ??= import('@kubernetes/client-node');
  return loading;
}

/**
 * An API client of `kind` whose every request is aborted after `timeoutMs`: without it a
 * server that accepts the connection and never answers would hold a lease renewal (or a
 * write) for ever.
 */
export function apiClient<T>(
  k8s: ClientNode,
  kubeConfig: K8s.KubeConfig,
  kind: new (configuration: K8s.Configuration) => T,
  timeoutMs: number,
): T {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const configuration = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    authMethods: { default: kubeConfig },
    promiseMiddleware: [
      {
        pre: async (context) => {
          context.setSignal(AbortSignal.timeout(timeoutMs));
          return context;
        },
        post: async (response) => response,
      },
    ],
  });
  return new kind(configuration);
}

/** The HTTP status of a failed call, or undefined for a network failure. */
export function statusOf(k8s: ClientNode, e: unknown): number | undefined {
  return e instanceof k8s.ApiException ? e.code : undefined;
}

/** One line for logs and the CLI: the API server's own message when there is one. */
export function describeApiError(k8s: ClientNode, e: unknown): string {
  if (e instanceof k8s.ApiException) {
    const body: unknown = e.body;
    let message: unknown;
    if (typeof body === 'string') {
      try {
        message = (JSON.parse(body) as { message?: unknown }).message;
      } catch {
        message = body;
      }
    } else if (typeof body === 'object' && body !== null) {
      message = (body as { message?: unknown }).message;
    }
    const text = typeof message === 'string' && message ? message : `HTTP ${e.code}`;
    return `${text.slice(0, 300)} (${e.code})`;
  }
  const code = networkCodeOf(e);
  if (code) return code === 'ABORT_ERR' ? 'no answer in time' : networkText(code);
  return e instanceof Error ? e.message : String(e);
}

/** ECONNREFUSED and friends, wherever node-fetch or undici put them. */
export function networkCodeOf(e: unknown): string | undefined {
  for (let at: unknown = e, depth = 0; at && depth < 4; depth++) {
    const err = at as { code?: unknown; name?: unknown; type?: unknown; cause?: unknown };
    if (typeof err.code === 'string' && /^E[A-Z_]+$/.test(err.code)) return err.code;
    if (err.name === 'AbortError' || err.name === 'TimeoutError' || err.type === 'aborted')
      return 'ABORT_ERR';
    at = err.cause;
  }
  return undefined;
}

const NETWORK_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ABORT_ERR: 'no answer in time',
};

export function networkText(code: string): string {
  return NETWORK_TEXT[code] ?? code;
}
