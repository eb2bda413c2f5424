/** The real @kubernetes/client-node 1.4 against the stand-in API server. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { startApiServer, type StandInApiServer } from '@tether/testkit';

let k8s: typeof K8s;
let server: StandInApiServer;
let kc: K8s.KubeConfig;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  k8s = await import('@kubernetes/client-node');
  server = await startApiServer({ historyLimit: 3 });
  kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig());
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await server.close();
});

function service(name: string, annotations: Record<string, string> = {}): K8s.V1Service {
  return {
    metadata: { name, annotations },
    spec: { ports: [{ port: 80, targetPort: 8080 }], selector: { app: name } },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof k8s.ApiException) return error.code;
    throw error;
  }
  throw new Error('expected an ApiException');
}

/** Polls until `check` returns true or `timeoutMs` passes. */
async function eventually(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('typed APIs', () => {
  it('does CoreV1Api Service CRUD with 404 and 409 as ApiExceptions', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedService({ namespace: 'crud', body: service('web') });
    expect(created.metadata?.uid).toBeDefined();
    expect(created.spec?.sessionAffinity).toBe('None');

    const read = await core.readNamespacedService({ namespace: 'crud', name: 'web' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

    read.metadata!.annotations = { 'example.com/x': '1' };
    const replaced = await core.replaceNamespacedService({
      namespace: 'crud',
      name: 'web',
      body: read,
    });
    expect(replaced.metadata?.annotations).toEqual({ 'example.com/x': '1' });
    // The same object again carries a stale resourceVersion now.
    expect(
      await codeOf(core.replaceNamespacedService({ namespace: 'crud', name: 'web', body: read })),
    ).toBe(409);

    const patched = await core.patchNamespacedService(
      {
        namespace: 'crud',
        name: 'web',
        body: { metadata: { annotations: { 'example.com/y': '2' } } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    expect(patched.metadata?.annotations).toEqual({ 'example.com/x': '1', 'example.com/y': '2' });

    const jsonPatched = await core.patchNamespacedService(
      {
        namespace: 'crud',
        name: 'web',
        body: [{ op: 'remove', path: '/metadata/annotations/example.com~1x' }],
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch),
    );
    expect(jsonPatched.metadata?.annotations).toEqual({ 'example.com/y': '2' });

    const list = await core.listNamespacedService({ namespace: 'crud' });
    expect(list.items.map((item) => item.metadata?.name)).toEqual(['web']);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(jsonPatched.metadata?.resourceVersion),
    );

    await core.deleteNamespacedService({ namespace: 'crud', name: 'web' });
    expect(await codeOf(core.readNamespacedService({ namespace: 'crud', name: 'web' }))).toBe(404);
    expect(
      await codeOf(
        core.createNamespacedService({
          namespace: 'crud',
          body: { metadata: { name: 'Bad_Name' }, spec: { ports: [{ port: 1 }] } },
        }),
      ),
    ).toBe(422);
  });

  it('writes Ingress status through NetworkingV1Api and lists across namespaces', async () => {
    const networking = kc.makeApiClient(k8s.NetworkingV1Api);
    await networking.createIngressClass({
      body: { metadata: { name: 'tether' }, spec: { controller: 'tether.dev/ingress-controller' } },
    });
    const ingress: K8s.V1Ingress = {
      metadata: { name: 'shop' },
      spec: {
        ingressClassName: 'tether',
        rules: [
          {
            host: 'shop.example',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    };
    const created = await networking.createNamespacedIngress({ namespace: 'net', body: ingress });
    created.status = { loadBalancer: { ingress: [{ ip: '127.0.0.1' }] } };
    const withStatus = await networking.replaceNamespacedIngressStatus({
      namespace: 'net',
      name: 'shop',
      body: created,
    });
    expect(withStatus.status?.loadBalancer?.ingress?.[0]?.ip).toBe('127.0.0.1');
    expect(withStatus.metadata?.generation).toBe(1);
    const all = await networking.listIngressForAllNamespaces();
    expect(all.items.map((item) => `${item.metadata?.namespace}/${item.metadata?.name}`)).toContain(
      'net/shop',
    );
    const classes = await networking.listIngressClass();
    expect(classes.items[0]?.spec?.controller).toBe('tether.dev/ingress-controller');
  });

  it('takes a Lease with optimistic concurrency, as leader election does', async () => {
    const coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    const now = new Date();
    const lease = await coordination.createNamespacedLease({
      namespace: 'kube-system',
      body: {
        metadata: { name: 'tether' },
        spec: {
          holderIdentity: 'a',
          leaseDurationSeconds: 15,
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        },
      },
    });
    const first = structuredClone(lease);
    first.spec!.holderIdentity = 'b';
    const second = structuredClone(lease);
    second.spec!.holderIdentity = 'c';
    const taken = await coordination.replaceNamespacedLease({
      namespace: 'kube-system',
      name: 'tether',
      body: first,
    });
    expect(taken.spec?.holderIdentity).toBe('b');
    // The server re-encodes MicroTime with six fractional digits, as kube-apiserver does.
    expect(String(taken.spec?.renewTime)).toBe(now.toISOString().replace(/Z$/, '000Z'));
    expect(
      await codeOf(
        coordination.replaceNamespacedLease({
          namespace: 'kube-system',
          name: 'tether',
          body: second,
        }),
      ),
    ).toBe(409);
    expect(
      await codeOf(
        coordination.createNamespacedLease({
          namespace: 'kube-system',
          body: { metadata: { name: 'tether' } },
        }),
      ),
    ).toBe(409);
  });

  it('writes an events.k8s.io/v1 Event that CoreV1Api reads back with mapped fields', async () => {
    const events = kc.makeApiClient(k8s.EventsV1Api);
    await events.createNamespacedEvent({
      namespace: 'ev',
      body: {
        metadata: { name: 'web.1' },
        eventTime: new Date() as unknown as K8s.V1MicroTime,
        reportingController: 'tether.dev/ingress-controller',
        reportingInstance: 'tether-0',
        action: 'Reconcile',
        reason: 'InvalidAnnotation',
        type: 'Warning',
        note: 'bad value',
        regarding: {
          kind: 'Ingress',
          namespace: 'ev',
          name: 'web',
          apiVersion: 'networking.k8s.io/v1',
        },
      },
    });
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const list = await core.listNamespacedEvent({
      namespace: 'ev',
      fieldSelector: 'involvedObject.name=web',
    });
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({
      message: 'bad value',
      reportingComponent: 'tether.dev/ingress-controller',
      reason: 'InvalidAnnotation',
    });
  });

  it('uses discovery through KubernetesObjectApi for any kind, custom ones included', async () => {
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const route: K8s.KubernetesObject & { spec: unknown } = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'generic' },
      spec: { rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
    };
    const created = await objects.create(route);
    expect(created.metadata?.generation).toBe(1);
    const patched = await objects.patch(
      {
        apiVersion: route.apiVersion,
        kind: route.kind,
        metadata: { name: 'r', namespace: 'generic', labels: { a: 'b' } },
      },
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );
    expect(patched.metadata?.labels).toEqual({ a: 'b' });
    const list = await objects.list('gateway.networking.k8s.io/v1', 'HTTPRoute', 'generic');
    expect(list.items.map((item) => item.kind)).toEqual(['HTTPRoute']);
  });
});

describe('informers and watches', () => {
  it('delivers add, update and delete to makeInformer', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/services', () =>
      core.listNamespacedService({ namespace: 'inf' }),
    );
    const seen: string[] = [];
    informer.on('add', (object) => seen.push(`add:${object.metadata?.name}`));
    informer.on('update', (object) =>
      seen.push(`update:${object.metadata?.name}:${object.metadata?.annotations?.v ?? ''}`),
    );
    informer.on('delete', (object) => seen.push(`delete:${object.metadata?.name}`));
    await core.createNamespacedService({ namespace: 'inf', body: service('before') });
    await informer.start();
    cleanups.push(() => informer.stop());
    await eventually(() => seen.includes('add:before'));
    await core.createNamespacedService({ namespace: 'inf', body: service('after') });
    await core.patchNamespacedService(
      { namespace: 'inf', name: 'after', body: { metadata: { annotations: { v: '2' } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedService({ namespace: 'inf', name: 'before' });
    await eventually(() => seen.length >= 4);
    expect(seen).toEqual(['add:before', 'add:after', 'update:after:2', 'delete:before']);
    expect(informer.list('inf').map((object) => object.metadata?.name)).toEqual(['after']);
  });

  it('relists after a 410 Expired instead of missing changes', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/gone/configmaps', () =>
      core.listNamespacedConfigMap({ namespace: 'gone' }),
    );
    const deleted: string[] = [];
    informer.on('delete', (object) => deleted.push(object.metadata?.name ?? ''));
    await core.createNamespacedConfigMap({ namespace: 'gone', body: { metadata: { name: 'a' } } });
    await informer.start();
    cleanups.push(() => informer.stop());
    await eventually(() => informer.list('gone').length === 1);
    server.clearRequests();
    // Drop the informer's watch and hold its next one back while the objects change and the
    // history is compacted: the resumed watch then gets 410 Expired and the informer relists.
    server.injectFailure({ watch: true, path: '/namespaces/gone/configmaps', delayMs: 500 });
    expect(server.closeWatches()).toBeGreaterThanOrEqual(1);
    await core.deleteNamespacedConfigMap({ namespace: 'gone', name: 'a' });
    await core.createNamespacedConfigMap({ namespace: 'gone', body: { metadata: { name: 'b' } } });
    server.compact('configmaps');
    await eventually(
      () =>
        informer
          .list('gone')
          .map((object) => object.metadata?.name)
          .join() === 'b',
    );
    expect(deleted).toEqual(['a']);
    const traffic = (): string[] =>
      server.requests
        .filter((request) => request.resource === 'configmaps' && request.method === 'GET')
        .map((request) => request.verb);
    await eventually(() => traffic().length >= 3);
    // The resumed watch (answered with 410) came first, then the relist, then a fresh watch.
    expect(traffic().slice(0, 3)).toEqual(['watch', 'list', 'watch']);
    expect(traffic().filter((verb) => verb === 'list')).toHaveLength(1);
  });

  it('resumes a Watch from a resourceVersion', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const first = await core.createNamespacedConfigMap({
      namespace: 'resume',
      body: { metadata: { name: 'one' } },
    });
    await core.createNamespacedConfigMap({
      namespace: 'resume',
      body: { metadata: { name: 'two' } },
    });
    const events: string[] = [];
    const watch = new k8s.Watch(kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/resume/configmaps',
      { resourceVersion: first.metadata?.resourceVersion, allowWatchBookmarks: true },
      (type, object: K8s.V1ConfigMap) => events.push(`${type}:${object.metadata?.name ?? ''}`),
      () => undefined,
    );
    cleanups.push(() => controller.abort());
    await eventually(() => events.includes('ADDED:two'));
    expect(events).toEqual(['ADDED:two']);
  });
});
