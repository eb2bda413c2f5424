/** Watch streams of the stand-in API server, over raw HTTP. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { call, openWatch, type WatchEvent, type WatchStream } from './http-client';

let server: StandInApiServer;
let base: string;
const streams: WatchStream[] = [];

beforeAll(async () => {
  server = await startApiServer({ historyLimit: 5, bookmarkIntervalMs: 100 });
  base = server.url;
});
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
});
afterAll(async () => {
  await server.close();
});

async function watch(path: string, headers: Record<string, string> = {}): Promise<WatchStream> {
  const stream = await openWatch(base, path, headers);
  streams.push(stream);
  return stream;
}

function configMap(
  name: string,
  data: Record<string, string> = {},
  labels: Record<string, string> = {},
): JsonObject {
  return { metadata: { name, labels }, data };
}

const names = (events: WatchEvent[]): string[] =>
  events.map(
    (event) =>
      `${event.type}:${String((event.object.metadata as JsonObject | undefined)?.name ?? '')}`,
  );

describe('watch', () => {
  it('sends headers at once, then ADDED, MODIFIED and DELETED with increasing versions', async () => {
    const stream = await watch('/api/v1/namespaces/w1/configmaps?watch=true');
    // The response (status and headers) arrived before any object exists.
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toBe('application/json');
    expect(stream.response.headers['transfer-encoding']).toBe('chunked');
    expect(stream.events).toEqual([]);

    await call(base, 'POST', '/api/v1/namespaces/w1/configmaps', configMap('a'));
    await call(
      base,
      'PATCH',
      '/api/v1/namespaces/w1/configmaps/a',
      { data: { k: 'v' } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    await call(base, 'DELETE', '/api/v1/namespaces/w1/configmaps/a');
    const events = await stream.until((seen) => seen.length >= 3);
    expect(names(events)).toEqual(['ADDED:a', 'MODIFIED:a', 'DELETED:a']);
    expect(events[1]!.object).toMatchObject({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      data: { k: 'v' },
    });
    const versions = events.map((event) =>
      Number((event.object.metadata as JsonObject).resourceVersion),
    );
    expect(versions[1]!).toBeGreaterThan(versions[0]!);
    // The DELETED event carries the version of the deletion itself.
    expect(versions[2]!).toBeGreaterThan(versions[1]!);
  });

  it('starts with synthetic ADDED events when no version (or "0") is given', async () => {
    await call(base, 'POST', '/api/v1/namespaces/w2/configmaps', configMap('x'));
    await call(base, 'POST', '/api/v1/namespaces/w2/configmaps', configMap('y'));
    for (const query of ['watch=1', 'watch=1&resourceVersion=0']) {
      const stream = await watch(`/api/v1/namespaces/w2/configmaps?${query}`);
      expect(names(await stream.until((seen) => seen.length >= 2))).toEqual(['ADDED:x', 'ADDED:y']);
    }
  });

  it('resumes after a given version, replaying only later changes', async () => {
    const created = (await call(base, 'POST', '/api/v1/namespaces/w3/configmaps', configMap('r1')))
      .json as JsonObject;
    const after = String((created.metadata as JsonObject).resourceVersion);
    await call(base, 'POST', '/api/v1/namespaces/w3/configmaps', configMap('r2'));
    await call(base, 'DELETE', '/api/v1/namespaces/w3/configmaps/r1');
    const stream = await watch(`/api/v1/namespaces/w3/configmaps?watch=1&resourceVersion=${after}`);
    expect(names(await stream.until((seen) => seen.length >= 2))).toEqual([
      'ADDED:r2',
      'DELETED:r1',
    ]);
  });

  it('answers a version older than the history with one 410 Expired ERROR event, then ends', async () => {
    const first = (await call(base, 'POST', '/api/v1/namespaces/w4/configmaps', configMap('old')))
      .json as JsonObject;
    const version = String((first.metadata as JsonObject).resourceVersion);
    for (let index = 0; index < 6; index++) {
      await call(
        base,
        'PATCH',
        '/api/v1/namespaces/w4/configmaps/old',
        { data: { n: String(index) } },
        { 'Content-Type': 'application/merge-patch+json' },
      );
    }
    const stream = await watch(
      `/api/v1/namespaces/w4/configmaps?watch=1&resourceVersion=${version}`,
    );
    await stream.untilEnded();
    expect(stream.response.statusCode).toBe(200);
    expect(stream.events).toHaveLength(1);
    expect(stream.events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 },
    });
    expect(String(stream.events[0]!.object.message)).toMatch(
      /^too old resource version: \d+ \(\d+\)$/,
    );
  });

  it('sends 410 after an explicit compaction too', async () => {
    const version = server.resourceVersion;
    await call(base, 'POST', '/api/v1/namespaces/w5/configmaps', configMap('c'));
    server.compact('configmaps');
    const stream = await watch(
      `/api/v1/namespaces/w5/configmaps?watch=1&resourceVersion=${version}`,
    );
    await stream.untilEnded();
    expect(stream.events[0]).toMatchObject({ type: 'ERROR', object: { code: 410 } });
    // Resuming from the current version works again.
    const fresh = await watch(
      `/api/v1/namespaces/w5/configmaps?watch=1&resourceVersion=${server.resourceVersion}`,
    );
    await call(base, 'DELETE', '/api/v1/namespaces/w5/configmaps/c');
    expect(names(await fresh.until((seen) => seen.length >= 1))).toEqual(['DELETED:c']);
  });

  it('answers 504 for a version from the future', async () => {
    const reply = await call(
      base,
      'GET',
      `/api/v1/configmaps?watch=1&resourceVersion=${Number(server.resourceVersion) + 50}`,
    );
    expect(reply.status).toBe(504);
    expect(reply.json).toMatchObject({
      reason: 'Timeout',
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }] },
    });
  });

  it('sends BOOKMARK events only when allowed, carrying the current version', async () => {
    const plain = await watch('/api/v1/namespaces/w6/configmaps?watch=1');
    const withBookmarks = await watch(
      '/api/v1/namespaces/w6/configmaps?watch=1&allowWatchBookmarks=true',
    );
    await call(
      base,
      'POST',
      '/api/v1/namespaces/elsewhere/configmaps',
      configMap('moves-the-version'),
    );
    const events = await withBookmarks.until(
      (seen) => seen.filter((event) => event.type === 'BOOKMARK').length >= 2,
    );
    const bookmark = events.find((event) => event.type === 'BOOKMARK')!;
    expect(bookmark.object).toEqual({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
    const last = events.filter((event) => event.type === 'BOOKMARK').pop()!;
    expect((last.object.metadata as JsonObject).resourceVersion).toBe(server.resourceVersion);
    expect(plain.events).toEqual([]);
  });

  it('ends the initial events with an annotated bookmark under sendInitialEvents=true', async () => {
    await call(base, 'POST', '/api/v1/namespaces/w7/configmaps', configMap('i1'));
    const stream = await watch(
      '/api/v1/namespaces/w7/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan',
    );
    const events = await stream.until((seen) => seen.length >= 2);
    expect(events[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'i1' } } });
    expect(events[1]).toMatchObject({
      type: 'BOOKMARK',
      object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } },
    });
  });

  it('honours timeoutSeconds by ending the stream cleanly', async () => {
    const started = Date.now();
    const stream = await watch('/api/v1/namespaces/w8/configmaps?watch=1&timeoutSeconds=1');
    await stream.untilEnded(3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(stream.events).toEqual([]);
  });

  it('applies selectors before and after each change (objects leaving are DELETED, arriving are ADDED)', async () => {
    const stream = await watch('/api/v1/namespaces/w9/configmaps?watch=1&labelSelector=tier%3Dweb');
    await call(
      base,
      'POST',
      '/api/v1/namespaces/w9/configmaps',
      configMap('s1', {}, { tier: 'db' }),
    );
    await call(
      base,
      'PATCH',
      '/api/v1/namespaces/w9/configmaps/s1',
      { metadata: { labels: { tier: 'web' } } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    await call(
      base,
      'PATCH',
      '/api/v1/namespaces/w9/configmaps/s1',
      { data: { a: 'b' } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    await call(
      base,
      'PATCH',
      '/api/v1/namespaces/w9/configmaps/s1',
      { metadata: { labels: { tier: 'db' } } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    await call(base, 'DELETE', '/api/v1/namespaces/w9/configmaps/s1');
    const events = await stream.until((seen) => seen.length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(names(stream.events)).toEqual(['ADDED:s1', 'MODIFIED:s1', 'DELETED:s1']);
    // The object that left the selection is shown as it was before, with the new version.
    expect((events[2]!.object.metadata as JsonObject).labels).toEqual({ tier: 'web' });
  });

  it('watches one object through a field selector and through the legacy /watch/ path', async () => {
    const bySelector = await watch(
      '/api/v1/namespaces/w10/configmaps?watch=1&fieldSelector=metadata.name%3Done',
    );
    const byPath = await watch('/api/v1/watch/namespaces/w10/configmaps/one');
    await call(base, 'POST', '/api/v1/namespaces/w10/configmaps', configMap('two'));
    await call(base, 'POST', '/api/v1/namespaces/w10/configmaps', configMap('one'));
    expect(names(await bySelector.until((seen) => seen.length >= 1))).toEqual(['ADDED:one']);
    expect(names(await byPath.until((seen) => seen.length >= 1))).toEqual(['ADDED:one']);
  });

  it('watches across namespaces and refuses bad selectors before streaming', async () => {
    const stream = await watch(
      '/api/v1/configmaps?watch=1&resourceVersion=' + server.resourceVersion,
    );
    await call(base, 'POST', '/api/v1/namespaces/w11a/configmaps', configMap('m'));
    await call(base, 'POST', '/api/v1/namespaces/w11b/configmaps', configMap('m'));
    const events = await stream.until((seen) => seen.length >= 2);
    expect(events.map((event) => (event.object.metadata as JsonObject).namespace)).toEqual([
      'w11a',
      'w11b',
    ]);
    const bad = await call(base, 'GET', '/api/v1/configmaps?watch=1&labelSelector=a%20b');
    expect(bad.status).toBe(400);
    const unknownField = await call(
      base,
      'GET',
      '/api/v1/configmaps?watch=1&fieldSelector=spec.x%3D1',
    );
    expect(unknownField.status).toBe(400);
    expect(unknownField.json).toMatchObject({ message: 'field label not supported: spec.x' });
  });

  it('ends open watches when the server stops, and counts them', async () => {
    const local = await startApiServer();
    try {
      const stream = await openWatch(local.url, '/api/v1/configmaps?watch=1');
      expect(local.openWatchCount).toBe(1);
      await local.stop();
      await stream.untilEnded();
      expect(local.openWatchCount).toBe(0);
    } finally {
      await local.close();
    }
  });
});
