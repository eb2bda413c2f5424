/** KubeSource: the real @kubernetes/client-node informers against the stand-in API server. */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import {
  KubeConfigError,
  KubeSource,
  WATCHED_RESOURCES,
  type KubeSourceOptions,
} from '@tether/controller';
import { startApiServer, type ApiServerOptions, type StandInApiServer } from '@tether/testkit';
import {
  NS,
  SnapshotLog,
  eventually,
  gateway,
  gatewayClass,
  httpRoute,
  ingress,
  ingressClass,
  service,
  slice,
} from './support';

jest.setTimeout(20_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: ApiServerOptions = {}): Promise<StandInApiServer> {
  const s = await startApiServer(options);
  cleanups.push(() => s.close());
  return s;
}

function source(s: StandInApiServer, options: KubeSourceOptions = {}): KubeSource {
  const src = new KubeSource({
    kubeconfig: s.writeKubeconfig(),
    backoff: { initialMs: 50, maxMs: 400 },
    discoveryIntervalMs: 200,
    ...options,
  });
  cleanups.push(() => src.stop());
  return src;
}

function listRequests(s: StandInApiServer, path: string): number {
  return s.requests.filter((r) => r.path === path && r.verb === 'list').length;
}

describe('KubeSource', () => {
  it('delivers the first snapshot once every resource is listed, kind and apiVersion set', async () => {
    const s = await server();
    s.apply(ingressClass());
    s.apply(service('web'));
    s.apply(slice('web', 8080));
    s.apply(ingress('web', { host: 'web.example', service: 'web' }));
    s.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cert', namespace: NS },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': '', 'tls.key': '' },
    });
    s.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'password', namespace: NS },
      data: { password: 'c2VjcmV0' },
    });
    s.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'backend-ca', namespace: NS },
      data: { 'ca.crt': 'Y2E=', 'tls.key': 'a2V5' },
    });
    s.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'registry', namespace: NS },
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': 'e30=' },
    });
    s.apply(gatewayClass());
    s.apply(gateway());
    s.apply(httpRoute('route', { host: 'route.example', service: 'web' }));
    s.apply({
      apiVersion: 'route.openshift.io/v1',
      kind: 'Route',
      metadata: { name: 'os', namespace: NS },
      spec: { host: 'os.example', to: { kind: 'Service', name: 'web' } },
    });
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    expect(src.waiting).toBe(true);
    await eventually(() => log.latest, 5000, 'first snapshot');
    expect(src.waiting).toBe(false);
    expect(log.snapshots[0]?.generation).toBe(1);
    // Namespaces (cluster-scoped) are listed too: their labels select routes for Gateways.
    const kinds = log
      .latest!.objects.filter((o) => o.kind !== 'Namespace' && (o.metadata.namespace ?? NS) === NS)
      .map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`);
    expect(kinds.sort()).toEqual([
      'discovery.k8s.io/v1 EndpointSlice web-8080',
      'gateway.networking.k8s.io/v1 Gateway web',
      'gateway.networking.k8s.io/v1 GatewayClass tether',
      'gateway.networking.k8s.io/v1 HTTPRoute route',
      'networking.k8s.io/v1 Ingress web',
      'networking.k8s.io/v1 IngressClass tether',
      'route.openshift.io/v1 Route os',
      'v1 Secret backend-ca',
      'v1 Secret cert',
      'v1 Secret password',
      'v1 Service web',
    ]);
    // Opaque Secrets are kept for a CA bundle, with no other key; other types not at all.
    const secretData = (name: string) =>
      log.latest!.objects.find((o) => o.kind === 'Secret' && o.metadata.name === name)?.data;
    expect(secretData('password')).toEqual({});
    expect(secretData('backend-ca')).toEqual({ 'ca.crt': 'Y2E=' });
    expect(secretData('registry')).toBeUndefined();
    expect(
      log.latest!.objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name),
    ).toContain(NS);
    expect(src.state.phase).toBe('ready');
    expect(src.state.waitingFor).toEqual([]);
    expect(src.state.watching).toEqual(
      expect.arrayContaining(['httproutes.gateway.networking.k8s.io', 'routes.route.openshift.io']),
    );
    // Watches ask for bookmarks and a server-side timeout.
    const watch = s.requests.find((r) => r.path === '/api/v1/services' && /watch=/.test(r.query));
    expect(watch?.query).toMatch(/allowWatchBookmarks=true/);
    expect(watch?.query).toMatch(/timeoutSeconds=\d+/);
  });

  it('keeps neither managedFields nor the last-applied manifest, listed or watched', async () => {
    const s = await server();
    const heavy = (name: string) => ({
      ...service(name, { 'example.com/kept': 'yes' }),
      metadata: {
        name,
        namespace: NS,
        annotations: {
          'example.com/kept': 'yes',
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify(service(name)),
        },
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { f: 'x' } }],
      },
    });
    s.apply(heavy('listed'));
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    s.apply(heavy('watched'));
    await eventually(() => log.find('Service', 'watched'), 2000, 'the watched Service');
    for (const name of ['listed', 'watched']) {
      const metadata = log.find('Service', name)?.metadata as Record<string, unknown>;
      expect(metadata.annotations).toEqual({ 'example.com/kept': 'yes' });
      expect(metadata).not.toHaveProperty('managedFields');
    }
  });

  it('keeps the cache order across updates, adds and deletes', async () => {
    const s = await server();
    for (const name of ['a', 'b', 'c']) s.apply(service(name));
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    const services = () =>
      log.latest!.objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name);
    expect(services()).toEqual(['a', 'b', 'c']);
    s.apply(service('b', { 'example.com/changed': 'yes' }));
    await eventually(
      () => log.find('Service', 'b')?.metadata.annotations?.['example.com/changed'],
      2000,
      'the update',
    );
    expect(services()).toEqual(['a', 'b', 'c']);
    s.apply(service('d'));
    await eventually(() => log.find('Service', 'd'), 2000, 'the add');
    s.deleteObject('v1', 'Service', NS, 'a');
    await eventually(() => !log.find('Service', 'a'), 2000, 'the delete');
    expect(services()).toEqual(['b', 'c', 'd']);
    s.apply(service('c', { 'example.com/changed': 'too' }));
    await eventually(
      () => log.find('Service', 'c')?.metadata.annotations?.['example.com/changed'],
      2000,
      'the second update',
    );
    expect(services()).toEqual(['b', 'c', 'd']);
  });

  it('delivers every change, a burst in few snapshots', async () => {
    const s = await server();
    const log = new SnapshotLog();
    const src = source(s, { coalesceMs: 50 });
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    // Until the start has settled (discovery, the watches after the lists).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = log.snapshots.length;
    for (let i = 0; i < 40; i++) s.apply(service(`burst-${i}`));
    await eventually(() => log.find('Service', 'burst-39'), 2000, 'the burst');
    const burstSnapshots = log.snapshots.length - before;
    expect(burstSnapshots).toBeGreaterThanOrEqual(1);
    expect(burstSnapshots).toBeLessThan(10);
    const generations = log.snapshots.map((x) => x.generation);
    expect(generations).toEqual(generations.map((_, i) => i + 1));

    s.apply(service('burst-3', { 'example.com/changed': 'yes' }));
    await eventually(
      () => log.find('Service', 'burst-3')?.metadata.annotations?.['example.com/changed'],
      2000,
      'the update',
    );
    s.deleteObject('v1', 'Service', NS, 'burst-4');
    await eventually(() => !log.find('Service', 'burst-4'), 2000, 'the delete');
  });

  it('picks up a CRD group installed later and drops one removed', async () => {
    const s = await server({ optionalGroups: [] });
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    expect(src.state.watching).not.toContain('httproutes.gateway.networking.k8s.io');

    s.setGroupEnabled('gateway.networking.k8s.io', true);
    s.apply(gatewayClass());
    s.apply(gateway());
    s.apply(httpRoute('late', { host: 'late.example', service: 'web' }));
    await eventually(() => log.find('HTTPRoute', 'late'), 3000, 'the HTTPRoute');
    expect(src.state.watching).toContain('httproutes.gateway.networking.k8s.io');

    s.setGroupEnabled('gateway.networking.k8s.io', false);
    await eventually(() => !log.find('HTTPRoute', 'late'), 3000, 'the HTTPRoute to go');
    await eventually(
      () => !src.state.watching.includes('httproutes.gateway.networking.k8s.io'),
      3000,
      'the informer to go',
    );
    expect(src.state.problems).toEqual([]);
  });

  it('rejects a missing kubeconfig with one line', async () => {
    const src = new KubeSource({ kubeconfig: '/nonexistent/tether/kubeconfig' });
    const failure = src.start(() => undefined);
    await expect(failure).rejects.toThrow(KubeConfigError);
    await expect(failure).rejects.toThrow(
      /^kubeconfig \/nonexistent\/tether\/kubeconfig: no such file$/,
    );
  });

  it('rejects running without a kubeconfig outside a cluster', async () => {
    const src = new KubeSource({ env: {} });
    await expect(src.start(() => undefined)).rejects.toThrow(/not running inside a cluster/);
  });

  it('waits for an unreachable API server, retrying, and starts when it comes', async () => {
    const s = await server();
    s.apply(service('early'));
    await s.stop();
    const log = new SnapshotLog();
    const messages: string[] = [];
    const src = source(s, { log: (_level, message) => messages.push(message) });
    await src.start(log.callback);
    await eventually(() => src.state.problems.length > 0, 3000, 'a problem reported');
    expect(src.waiting).toBe(true);
    expect(src.state.phase).toBe('connecting');
    expect(src.state.problems[0]).toMatch(
      /^discovery: cannot reach the API server at http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/,
    );
    expect(messages.some((m) => /^waiting for the API server: cannot reach/.test(m))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(log.snapshots).toHaveLength(0);

    await s.start();
    await eventually(() => log.find('Service', 'early'), 3000, 'the first snapshot');
    expect(src.state.phase).toBe('ready');
  });

  it('survives the API server going away and coming back', async () => {
    const s = await server();
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');

    await s.stop();
    // Changed while the clients cannot see it: the resumed watches must still deliver it.
    s.apply(service('while-away'));
    await eventually(() => src.state.problems.length > 0, 3000, 'the outage noticed');
    await s.start();
    await eventually(() => log.find('Service', 'while-away'), 3000, 'the change made while away');
    s.apply(service('after'));
    await eventually(() => log.find('Service', 'after'), 3000, 'a change after');
    await eventually(() => src.state.problems.length === 0, 3000, 'recovery');

    await s.restart();
    s.apply(service('after-restart'));
    await eventually(() => log.find('Service', 'after-restart'), 3000, 'a change after a restart');
  });

  it('paces relists when the API server keeps answering 410 Expired', async () => {
    const s = await server();
    const log = new SnapshotLog();
    const src = source(s);
    s.injectFailure({ path: '/api/v1/services?', watch: true, status: 410, times: Infinity });
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    const start = listRequests(s, '/api/v1/services');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const lists = listRequests(s, '/api/v1/services') - start;
    // Without pacing this is hundreds of lists a second; with waits of 50..400 ms about 7.
    expect(lists).toBeGreaterThanOrEqual(3);
    expect(lists).toBeLessThanOrEqual(15);
    expect(src.stats['services']?.paced).toBeGreaterThan(0);

    s.clearFailures();
    s.apply(service('after-410s'));
    await eventually(() => log.find('Service', 'after-410s'), 3000, 'a change after the 410s');
  });

  it('relists at once after a single 410 and loses nothing', async () => {
    const s = await server();
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    // Hold the next services watch back while objects change and history is forgotten: the
    // resumed watch then gets 410 Expired in its stream.
    s.injectFailure({ path: '/api/v1/services?', watch: true, delayMs: 300 });
    s.closeWatches();
    s.apply(service('during'));
    s.compact();
    await eventually(() => log.find('Service', 'during'), 3000, 'the change');
    expect(src.stats['services']?.expired).toBeGreaterThanOrEqual(1);
  });

  it('serves the built-in resources when discovery is refused', async () => {
    const s = await server();
    s.apply(service('web'));
    s.apply(httpRoute('route', { host: 'route.example', service: 'web' }));
    s.injectFailure({ path: /^\/apis$/, status: 403, times: Infinity });
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    await eventually(() => log.find('Service', 'web'), 5000, 'first snapshot');
    expect(log.find('HTTPRoute', 'route')).toBeUndefined();
    expect(src.state.watching).not.toContain('httproutes.gateway.networking.k8s.io');

    // Allowed again: the next discovery finds the Gateway API.
    s.clearFailures();
    await eventually(() => log.find('HTTPRoute', 'route'), 3000, 'the HTTPRoute');
  });

  it('takes a change of an Opaque Secret only where its ca.crt changed', async () => {
    const s = await server();
    const secret = (name: string, data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: NS },
      data,
    });
    s.apply(secret('token', { token: 'b25l' }));
    s.apply(secret('ca', { 'ca.crt': 'b25l' }));
    const log = new SnapshotLog();
    // Opaque Secrets and Services only, and no discovery meanwhile (each round makes a
    // snapshot): nothing else makes snapshots while the Secrets change.
    const src = source(s, {
      discoveryIntervalMs: 60_000,
      resources: WATCHED_RESOURCES.filter(
        (r) => r.kind === 'Service' || (r.kind === 'Secret' && r.keepData !== undefined),
      ),
    });
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    // Until the start has settled (discovery, the watches after the lists).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = log.snapshots.length;
    s.apply(secret('token', { token: 'dHdv' }));
    // Longer than the source gathers a burst: a snapshot for the token would come alone.
    await new Promise((resolve) => setTimeout(resolve, 300));
    s.apply(service('marker'));
    await eventually(() => log.find('Service', 'marker'), 3000, 'the marker');
    // The rotated token, whose key is dropped, made no snapshot of its own.
    const afterToken = log.snapshots.length;
    expect(afterToken - before).toBe(1);
    s.apply(secret('ca', { 'ca.crt': 'dHdv' }));
    await eventually(
      () =>
        (
          log.latest?.objects.find((o) => o.metadata.name === 'ca')?.data as Record<string, string>
        )?.['ca.crt'] === 'dHdv',
      3000,
      'the new CA',
    );
  });

  it('does not wait for TLS Secrets it may not read', async () => {
    const s = await server();
    s.apply(service('web'));
    s.injectFailure({ path: /^\/api\/v1\/secrets/, status: 403, times: Infinity });
    const log = new SnapshotLog();
    const src = source(s);
    await src.start(log.callback);
    await eventually(() => log.find('Service', 'web'), 5000, 'first snapshot');
    expect(
      src.state.problems.some((p) => p.startsWith('secrets[type=kubernetes.io/tls]: GET')),
    ).toBe(true);
  });

  it('restarts a failing watch with backoff and recovers', async () => {
    const s = await server();
    s.apply(ingressClass());
    const log = new SnapshotLog();
    const src = source(s);
    s.injectFailure({
      path: '/apis/networking.k8s.io/v1/ingresses?',
      watch: true,
      status: 500,
      times: 3,
    });
    await src.start(log.callback);
    await eventually(() => log.latest, 5000, 'first snapshot');
    s.apply(service('web'));
    s.apply(ingress('web', { host: 'web.example', service: 'web' }));
    await eventually(() => log.find('Ingress', 'web'), 4000, 'the Ingress');
    expect(src.stats['ingresses.networking.k8s.io']?.restarts).toBeGreaterThanOrEqual(3);
  });
});
