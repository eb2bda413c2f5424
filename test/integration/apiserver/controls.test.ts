/** Test controls of the stand-in: stop/restart, injected failures, request log, in-process objects. */
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from '@jest/globals';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import {
  startApiServer,
  type JsonObject,
  type ObjectChange,
  type StandInApiServer,
} from '@tether/testkit';
import { call, openWatch } from './http-client';

const servers: StandInApiServer[] = [];
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  for (const server of servers.splice(0)) await server.close();
});

async function start(
  options: Parameters<typeof startApiServer>[0] = {},
): Promise<StandInApiServer> {
  const server = await startApiServer(options);
  servers.push(server);
  return server;
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('stop and restart', () => {
  it('comes back on the same port with the same objects and versions', async () => {
    const server = await start();
    const port = server.port;
    await call(server.url, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'kept' },
    });
    const version = server.resourceVersion;
    await server.stop();
    expect(server.running).toBe(false);
    // A pooled keep-alive socket may first fail with a hang-up; a new connection is refused.
    await expect(call(server.url, 'GET', '/api')).rejects.toThrow(
      /ECONNREFUSED|socket hang up|ECONNRESET/,
    );
    await expect(call(server.url, 'GET', '/api')).rejects.toThrow(/ECONNREFUSED/);
    await server.start();
    expect(server.port).toBe(port);
    const reply = await call(server.url, 'GET', '/api/v1/namespaces/default/configmaps/kept');
    expect(reply.status).toBe(200);
    expect(server.resourceVersion).toBe(version);
  });

  it('lets a client-node informer that is restarted after the outage catch up', async () => {
    const k8s = await import('@kubernetes/client-node');
    const server = await start();
    const kc = new k8s.KubeConfig();
    kc.loadFromString(server.kubeconfig());
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'default' }),
    );
    const errors: unknown[] = [];
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    // client-node stops an informer on any error other than 410; restarting it is the caller's job.
    informer.on('error', (error: unknown) => {
      errors.push(error);
      if (!stopped) retry = setTimeout(() => void informer.start(), 100);
    });
    cleanups.push(async () => {
      stopped = true;
      clearTimeout(retry);
      await informer.stop();
    });
    server.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'before', namespace: 'default' },
    });
    await informer.start();
    await eventually(() => informer.list('default').length === 1);

    await server.stop();
    await eventually(() => errors.length > 0);
    server.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'during', namespace: 'default' },
    });
    await server.start();
    await eventually(
      () =>
        informer
          .list('default')
          .map((object: K8s.V1ConfigMap) => object.metadata?.name)
          .join() === 'before,during',
    );
  });
});

describe('injected failures', () => {
  it('answers with a Status of the given code, for the given number of matching requests', async () => {
    const server = await start();
    server.injectFailure({
      method: 'GET',
      path: '/configmaps',
      status: 503,
      reason: 'ServiceUnavailable',
      message: 'down for a moment',
      times: 2,
    });
    const first = await call(server.url, 'GET', '/api/v1/namespaces/default/configmaps');
    expect(first.status).toBe(503);
    expect(first.json).toMatchObject({
      kind: 'Status',
      code: 503,
      reason: 'ServiceUnavailable',
      message: 'down for a moment',
    });
    // Other paths and methods are not affected.
    expect((await call(server.url, 'GET', '/api/v1/namespaces/default/secrets')).status).toBe(200);
    expect(
      (
        await call(server.url, 'POST', '/api/v1/namespaces/default/configmaps', {
          metadata: { name: 'x' },
        })
      ).status,
    ).toBe(201);
    expect((await call(server.url, 'GET', '/api/v1/namespaces/default/configmaps')).status).toBe(
      503,
    );
    expect((await call(server.url, 'GET', '/api/v1/namespaces/default/configmaps')).status).toBe(
      200,
    );
    expect(server.requests.filter((request) => request.injected)).toHaveLength(2);
  });

  it('can reset the connection, delay, and target only watches', async () => {
    const server = await start();
    server.injectFailure({ path: /\/secrets$/, resetConnection: true });
    await expect(call(server.url, 'GET', '/api/v1/namespaces/default/secrets')).rejects.toThrow(
      /socket hang up|ECONNRESET/,
    );
    server.injectFailure({ path: '/endpoints', delayMs: 300 });
    const started = Date.now();
    expect((await call(server.url, 'GET', '/api/v1/namespaces/default/endpoints')).status).toBe(
      200,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    server.injectFailure({ watch: true, status: 500, times: Infinity });
    expect((await call(server.url, 'GET', '/api/v1/namespaces/default/endpoints')).status).toBe(
      200,
    );
    expect(
      (await call(server.url, 'GET', '/api/v1/namespaces/default/endpoints?watch=true')).status,
    ).toBe(500);
    server.clearFailures();
    const stream = await openWatch(server.url, '/api/v1/namespaces/default/endpoints?watch=true');
    cleanups.push(() => stream.close());
    expect(stream.response.statusCode).toBe(200);
  });
});

describe('request log and change feed', () => {
  it('records verb, resource, namespace, name and status of each request', async () => {
    const server = await start();
    await call(server.url, 'POST', '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases', {
      metadata: { name: 'l' },
    });
    await call(
      server.url,
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l',
      undefined,
      { 'User-Agent': 'replica-a' },
    );
    await call(
      server.url,
      'GET',
      '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/missing',
    );
    const leases = server.requests.filter((request) => request.resource === 'leases');
    expect(
      leases.map((request) => [request.verb, request.namespace, request.name, request.status]),
    ).toEqual([
      ['create', 'kube-system', undefined, 201],
      ['get', 'kube-system', 'l', 200],
      ['get', 'kube-system', 'missing', 404],
    ]);
    expect(leases[1]!.userAgent).toBe('replica-a');
    expect(leases[0]!.group).toBe('coordination.k8s.io');
    server.clearRequests();
    expect(server.requests).toHaveLength(0);
  });

  it('keeps only the newest requests beyond the limit', async () => {
    const server = await start({ requestLogLimit: 3 });
    for (let index = 0; index < 5; index++)
      await call(server.url, 'GET', `/api/v1/namespaces/default/configmaps?n=${index}`);
    expect(server.requests.map((request) => request.query)).toEqual(['?n=2', '?n=3', '?n=4']);
  });

  it('reports every change in process, events in their core/v1 form', async () => {
    const server = await start();
    const changes: ObjectChange[] = [];
    cleanups.push(server.onChange((change) => changes.push(change)));
    await call(server.url, 'POST', '/apis/events.k8s.io/v1/namespaces/default/events', {
      metadata: { name: 'e' },
      eventTime: '2026-01-01T00:00:00.000000Z',
      reportingController: 'tether.dev/ingress-controller',
      reportingInstance: 'i',
      action: 'A',
      reason: 'R',
      type: 'Normal',
      regarding: { kind: 'Service', namespace: 'default', name: 's' },
    });
    await call(server.url, 'DELETE', '/api/v1/namespaces/default/events/e');
    expect(
      changes.map((change) => [
        change.type,
        change.object.apiVersion,
        (change.object.metadata as JsonObject).name,
      ]),
    ).toEqual([
      ['ADDED', 'v1', 'e'],
      ['DELETED', 'v1', 'e'],
    ]);
  });
});

describe('optional API groups', () => {
  it('switching a group off removes its discovery, objects and watches; on again starts empty', async () => {
    const server = await start({ optionalGroups: ['route.openshift.io'] });
    server.apply({
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata: { name: 'r', namespace: 'default' },
      spec: { to: { kind: 'Service', name: 's' } },
    });
    const stream = await openWatch(server.url, '/apis/route.openshift.io/v1/routes?watch=1');
    cleanups.push(() => stream.close());
    await stream.until((events) => events.length === 1);
    server.setGroupEnabled('route.openshift.io', false);
    await stream.untilEnded();
    expect(server.isGroupEnabled('route.openshift.io')).toBe(false);
    expect((await call(server.url, 'GET', '/apis/route.openshift.io/v1')).status).toBe(404);
    server.setGroupEnabled('route.openshift.io', true);
    const list = (await call(server.url, 'GET', '/apis/route.openshift.io/v1/routes')).json as {
      items: unknown[];
    };
    expect(list.items).toEqual([]);
  });
});

describe('in-process objects', () => {
  it('applies, reads, lists, updates status and deletes with the same rules as HTTP', async () => {
    const server = await start();
    const created = server.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', labels: { a: '1' } },
      spec: { ports: [{ port: 80 }] },
    });
    expect(created).toMatchObject({
      metadata: { namespace: 'default' },
      spec: { type: 'ClusterIP' },
    });
    const replaced = server.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', labels: { a: '2' } },
      spec: { ports: [{ port: 80 }] },
    });
    expect((replaced.spec as JsonObject).clusterIP).toBe((created.spec as JsonObject).clusterIP);
    expect(() =>
      server.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'bad' }, spec: {} }),
    ).toThrow(/spec\.ports: Required value/);
    expect(() =>
      server.apply({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } }),
    ).toThrow(/no resource serves/);

    const withStatus = server.applyStatus({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', namespace: 'default' },
      status: { loadBalancer: { ingress: [{ ip: '127.0.0.2' }] } },
    });
    expect(withStatus.status).toEqual({ loadBalancer: { ingress: [{ ip: '127.0.0.2' }] } });
    expect(
      server
        .listObjects('v1', 'Service', 'default', 'a=2')
        .map((object) => (object.metadata as JsonObject).name),
    ).toEqual(['svc']);
    expect(server.listObjects('v1', 'Service', '', 'a=1')).toEqual([]);
    expect(server.deleteObject('v1', 'Service', 'default', 'svc')).toBe(true);
    expect(server.deleteObject('v1', 'Service', 'default', 'svc')).toBe(false);
    expect(server.getObject('v1', 'Service', 'default', 'svc')).toBeUndefined();
  });

  it('writes a kubeconfig that points at the server and removes it on close', async () => {
    const server = await startApiServer();
    const path = server.writeKubeconfig('team');
    const config = JSON.parse(readFileSync(path, 'utf8')) as {
      clusters: { cluster: JsonObject }[];
      contexts: { context: JsonObject }[];
    };
    expect(config.clusters[0]!.cluster).toEqual({
      server: server.url,
      'insecure-skip-tls-verify': true,
    });
    expect(config.contexts[0]!.context.namespace).toBe('team');
    await server.close();
    expect(existsSync(path)).toBe(false);
  });
});
