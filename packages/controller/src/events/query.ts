/** Reading our Events from the cluster, for `tether events`. */
import { REPORTING_CONTROLLER } from './classify';
import { apiClient, describeApiError, loadClientNode, type K8s } from './client';
import { eventViewOf, storedEventObject, type EventObject, type EventView } from './view';

export interface EventQuery {
  /** One namespace; undefined for every namespace. */
  namespace?: string;
  /** Only Events about this object (`--for kind/name`). */
  kind?: string;
  name?: string;
}

function fieldSelector(query: EventQuery): string {
  const parts = [`reportingController=${REPORTING_CONTROLLER}`];
  if (query.kind) parts.push(`regarding.kind=${query.kind}`);
  if (query.name) parts.push(`regarding.name=${query.name}`);
  return parts.join(',');
}

/** The same selection on our side, for servers that ignore a selector. */
function matches(ev: K8s.EventsV1Event, query: EventQuery): boolean {
  if (ev.reportingController !== REPORTING_CONTROLLER) return false;
  if (query.namespace && ev.metadata?.namespace !== query.namespace) return false;
  if (query.kind && ev.regarding?.kind !== query.kind) return false;
  if (query.name && ev.regarding?.name !== query.name) return false;
  return true;
}

function collectionPath(query: EventQuery): string {
  return query.namespace
    ? `/apis/events.k8s.io/v1/namespaces/${encodeURIComponent(query.namespace)}/events`
    : '/apis/events.k8s.io/v1/events';
}

export interface ListedEvents {
  items: EventView[];
  /** The same Events as the API stores them, in the same order. */
  objects: EventObject[];
  /** The list's version, to watch from. */
  resourceVersion?: string;
}

/** Lists our Events, page by page. Throws the client's error (see `describeApiError`). */
export async function listOurEvents(
  kubeConfig: K8s.KubeConfig,
  query: EventQuery,
  timeoutMs = 15_000,
): Promise<ListedEvents> {
  const k8s = await loadClientNode();
  const api = apiClient(k8s, kubeConfig, k8s.EventsV1Api, timeoutMs);
  const items: EventView[] = [];
  const objects: EventObject[] = [];
  let resourceVersion: string | undefined;
  let page: string | undefined;
  do {
    const request = {
      fieldSelector: fieldSelector(query),
      limit: 500,
      ...(page ? { _continue: page } : {}),
    };
    const list = query.namespace
      ? await api.listNamespacedEvent({ namespace: query.namespace, ...request })
      : await api.listEventForAllNamespaces(request);
    resourceVersion ??= list.metadata?.resourceVersion;
    for (const ev of list.items) {
      const view = matches(ev, query) ? eventViewOf(ev) : undefined;
      if (view) {
        items.push(view);
        objects.push(storedEventObject(ev));
      }
    }
    page = list.metadata?._continue || undefined;
  } while (page);
  return { items, objects, resourceVersion };
}

export interface WatchHandlers {
  /** An Event of ours was created or its series moved. */
  onChange(view: EventView): void;
  /** The watch broke and will be opened again (after a backoff). */
  onError?(message: string): void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Streams changes to our Events from `resourceVersion` on until `signal` aborts. A watch that
 * ends is opened again; one whose version expired (410) lists again first, without printing
 * what was already there; failures back off from 1 s to 30 s.
 */
export async function watchOurEvents(
  kubeConfig: K8s.KubeConfig,
  query: EventQuery,
  resourceVersion: string | undefined,
  handlers: WatchHandlers,
  signal: AbortSignal,
): Promise<void> {
  const k8s = await loadClientNode();
  const watch = new k8s.Watch(kubeConfig);
  let version = resourceVersion;
  let failures = 0;
  let current: AbortController | undefined;
  const abort = () => current?.abort();
  signal.addEventListener('abort', abort, { once: true });
  try {
    await follow();
  } finally {
    signal.removeEventListener('abort', abort);
  }

  async function follow(): Promise<void> {
    while (!signal.aborted) {
      if (!version) {
        try {
          version = (await listOurEvents(kubeConfig, query)).resourceVersion;
        } catch (e) {
          handlers.onError?.(describeApiError(k8s, e));
          await sleep(Math.min(30_000, 1000 * 2 ** failures++), signal);
          continue;
        }
      }
      const ended = await new Promise<unknown>((resolve) => {
        const params = {
          fieldSelector: fieldSelector(query),
          allowWatchBookmarks: true,
          ...(version ? { resourceVersion: version } : {}),
        };
        const onEvent = (phase: string, object: unknown) => {
          const ev = object as K8s.EventsV1Event & { code?: number };
          if (phase === 'ERROR') {
            if (ev.code === 410) version = undefined;
            return;
          }
          version = ev.metadata?.resourceVersion ?? version;
          if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
          const view = matches(ev, query) ? eventViewOf(ev) : undefined;
          if (view) handlers.onChange(view);
        };
        void watch.watch(collectionPath(query), params, onEvent, resolve).then((controller) => {
          current = controller;
          if (signal.aborted) controller.abort();
        });
      });
      if (signal.aborted) break;
      if (ended) {
        const status = (ended as { statusCode?: unknown }).statusCode;
        handlers.onError?.(
          typeof status === 'number' ? `watch refused (${status})` : describeApiError(k8s, ended),
        );
        if (status === 410) version = undefined;
        await sleep(Math.min(30_000, 1000 * 2 ** failures++), signal);
      } else {
        failures = 0;
      }
    }
  }
}
