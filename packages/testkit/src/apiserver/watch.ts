/**
 * Watch streams: one JSON object per line over a chunked response whose headers are sent at
 * once, with the semantics of kube-apiserver's watch cache:
 * - no resourceVersion, or "0": synthetic ADDED events for what exists, then changes;
 * - resourceVersion N: every change after N, replayed from the bounded history, or one
 *   ERROR event carrying a 410 Expired Status when N is older than that history;
 * - selectors apply to the object before and after a change, so an object that stops
 *   matching is seen as DELETED and one that starts matching as ADDED;
 * - allowWatchBookmarks=true: periodic BOOKMARK events carrying the current version;
 *   sendInitialEvents=true: the initial ADDED events end with a bookmark annotated
 *   `k8s.io/initial-events-end: "true"`;
 * - timeoutSeconds: the server ends the stream cleanly after that long.
 */
import type { ServerResponse } from 'node:http';
import type { ResourceApi } from './api';
import { matches, type Filter } from './query';
import { apiVersionOf, type ResourceDef } from './resource';
import { expired, type Status } from './status';
import type { Change, Store } from './store';
import { buildTable, type IncludeObject } from './table';
import type { JsonObject, StoredObject } from './types';

export interface WatchRequest {
  def: ResourceDef;
  filter: Filter;
  /** undefined when absent or empty. */
  resourceVersion: number | undefined;
  allowBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
  timeoutSeconds: number;
  table: IncludeObject | undefined;
}

export interface WatchSettings {
  bookmarkIntervalMs: number;
  now: () => number;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** An open watch stream; `close()` ends it from the server side. */
export interface OpenWatch {
  def: ResourceDef;
  close(): void;
}

export function startWatch(
  response: ServerResponse,
  request: WatchRequest,
  store: Store,
  api: ResourceApi,
  settings: WatchSettings,
  onClose: () => void,
): OpenWatch {
  const { def, filter } = request;
  let closed = false;
  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let unsubscribe = (): void => undefined;

  const close = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearTimeout(bookmarkTimer);
    clearTimeout(timeoutTimer);
    if (!response.writableEnded) response.end();
    onClose();
  };

  const encode = (object: StoredObject): JsonObject => {
    const wire = api.toWire(def, object);
    if (request.table === undefined) return wire;
    return buildTable(def, [wire], settings.now(), request.table, {
      resourceVersion: object.metadata.resourceVersion,
    });
  };
  const send = (type: EventType, object: JsonObject | Status): void => {
    if (closed) return;
    response.write(`${JSON.stringify({ type, object })}\n`);
  };
  const bookmark = (annotations?: Record<string, string>): void => {
    const metadata: JsonObject = { resourceVersion: String(store.resourceVersion) };
    if (annotations !== undefined) metadata.annotations = annotations;
    send('BOOKMARK', { kind: def.kind, apiVersion: apiVersionOf(def), metadata });
  };
  const deliver = (change: Change): void => {
    const now = change.type !== 'DELETED' && matches(def, filter, change.object);
    const before = change.previous !== undefined && matches(def, filter, change.previous);
    if (change.type === 'DELETED') {
      if (before) send('DELETED', encode(change.object));
    } else if (now && (change.type === 'ADDED' || !before)) {
      send('ADDED', encode(change.object));
    } else if (now) {
      send('MODIFIED', encode(change.object));
    } else if (before && change.previous !== undefined) {
      const gone: StoredObject = {
        ...change.previous,
        metadata: { ...change.previous.metadata, resourceVersion: String(change.rv) },
      };
      send('DELETED', encode(gone));
    }
  };

  response.statusCode = 200;
  response.setHeader('Content-Type', 'application/json');
  response.setHeader('Cache-Control', 'no-cache, private');
  response.setHeader('Transfer-Encoding', 'chunked');
  response.flushHeaders();
  response.socket?.setNoDelay(true);

  const requested = request.resourceVersion;
  const initialState =
    requested === undefined || requested === 0 || request.sendInitialEvents === true;
  let replay: Change[] = [];
  if (!initialState) {
    const since = store.changesSince(def.storage, requested);
    if (since === undefined) {
      send(
        'ERROR',
        expired(`too old resource version: ${requested} (${store.oldestResumable(def.storage)})`)
          .status,
      );
      close();
      return { def, close };
    }
    replay = since;
  }
  // Everything below runs in one tick: no change can slip between the snapshot and the subscription.
  if (initialState) {
    for (const object of store.list(def.storage)) {
      if (matches(def, filter, object)) send('ADDED', encode(object));
    }
    if (request.sendInitialEvents === true && request.allowBookmarks) {
      bookmark({ 'k8s.io/initial-events-end': 'true' });
    }
  }
  for (const change of replay) deliver(change);
  unsubscribe = store.subscribe(def.storage, deliver);

  if (request.allowBookmarks && settings.bookmarkIntervalMs > 0) {
    const tick = (): void => {
      bookmark();
      bookmarkTimer = setTimeout(tick, settings.bookmarkIntervalMs);
    };
    bookmarkTimer = setTimeout(tick, settings.bookmarkIntervalMs);
  }
  if (request.timeoutSeconds > 0) timeoutTimer = setTimeout(close, request.timeoutSeconds * 1000);
  response.on('close', close);
  return { def, close };
}
