/**
 * The Event recorder with the real @kubernetes/client-node against the stand-in API server,
 * driven by real diagnostics from analyze() on real manifests, checked with the real kubectl.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { parseAllDocuments } from 'yaml';
import { analyze, type KubeObject } from '@tether/dialects';
import { directoryOf, EventRecorder, type EventRecorderOptions } from '@tether/controller';
import { startApiServer, type StandInApiServer } from '@tether/testkit';
import { kubectl } from '../../support/kubectl';

let k8s: typeof K8s;
let server: StandInApiServer;
let kc: K8s.KubeConfig;
let kubeconfigPath: string;
const recorders: EventRecorder[] = [];

beforeAll(async () => {
  k8s = await import('@kubernetes/client-node');
  server = await startApiServer();
  kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig());
  kubeconfigPath = server.writeKubeconfig();
});
afterEach(async () => {
  for (const r of recorders.splice(0)) await r.stop();
});
afterAll(async () => {
  await server.close();
});

async function recorder(options: Partial<EventRecorderOptions> = {}): Promise<EventRecorder> {
  const r = await EventRecorder.create({
    kubeConfig: kc,
    isLeader: () => true,
    reportingInstance: 'tether-test-0',
    ...options,
  });
  recorders.push(r);
  return r;
}

/** Applies manifests to the stand-in and returns them as the cluster stores them (uid, rv). */
function applyYaml(text: string): KubeObject[] {
  return parseAllDocuments(text).map(
    (doc) =>
      server.apply(doc.toJSON() as Record<string, unknown> as never) as unknown as KubeObject,
  );
}

/** One reconcile: the diagnostics of the stored objects, handed to the recorder. */
function reconcileInto(r: EventRecorder, objects: KubeObject[]): void {
  r.observe(analyze(objects).diagnostics, directoryOf(objects));
}

async function eventsIn(namespace: string): Promise<K8s.EventsV1Event[]> {
  const api = kc.makeApiClient(k8s.EventsV1Api);
  return (await api.listNamespacedEvent({ namespace })).items;
}

function service(namespace: string, name: string, annotations = ''): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${namespace}
${annotations ? `  annotations:\n${annotations}` : ''}
spec:
  type: NodePort
  selector: { app: ${name} }
  ports:
    - { name: http, port: 80, targetPort: 8080 }
`;
}

function ingress(namespace: string, name: string, annotations: string): string {
  return `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: ${namespace}
  annotations:
${annotations}
spec:
  ingressClassName: tether
  rules:
    - host: ${name}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
`;
}

// OCI allows one persistence model per backend set; both on one Ingress is ConflictingPersistence.
const BOTH_OCI_MODELS = `    oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: '{}'
    oci-native-ingress.oraclecloud.com/session-persistence-config: '{"cookieName": "JSESSIONID"}'`;
const LB_COOKIE_ONLY = `    oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: '{}'`;

function withoutAnnotations(o: KubeObject): KubeObject {
  return { ...o, metadata: { ...o.metadata, annotations: {} } };
}

describe('reconcile-error Events', () => {
  it('writes one Warning Event with the reason, the annotations and their values on the object', async () => {
    const objects = applyYaml(
      `${service('conflict', 'web')}---\n${ingress('conflict', 'shop', BOTH_OCI_MODELS)}`,
    );
    const r = await recorder();
    reconcileInto(r, objects);
    await r.settled();

    const events = await eventsIn('conflict');
    expect(events).toHaveLength(1);
    const [event] = events;
    const ing = objects.find((o) => o.kind === 'Ingress')!;
    expect(event).toMatchObject({
      type: 'Warning',
      reason: 'ConflictingPersistence',
      action: 'Reconcile',
      reportingController: 'tether.dev/ingress-controller',
      reportingInstance: 'tether-test-0',
      regarding: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        namespace: 'conflict',
        name: 'shop',
        uid: ing.metadata.uid,
      },
    });
    expect(event!.series).toBeUndefined();
    expect(event!.note).toContain(
      `annotation oci-native-ingress.oraclecloud.com/session-persistence-config="{\\"cookieName\\": \\"JSESSIONID\\"}"`,
    );
    expect(event!.note).toContain(
      'annotation oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config="{}"',
    );
    expect(Buffer.byteLength(event!.note ?? '')).toBeLessThanOrEqual(1024);

    const shown = await kubectl(['events', '-n', 'conflict'], { kubeconfig: kubeconfigPath });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Warning\s+ConflictingPersistence\s+Ingress\/shop\s+/);
    const listed = await kubectl(['get', 'events', '-n', 'conflict'], {
      kubeconfig: kubeconfigPath,
    });
    expect(listed.stdout).toMatch(/Warning\s+ConflictingPersistence\s+ingress\/shop/);
    expect(listed.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('writes one Event on each object a diagnostic names, each pointing at the other', async () => {
    // A Huawei Service-level mode overrides the Ingress in front of it: both objects are told.
    const objects = applyYaml(
      `${service('pair', 'web', '    kubernetes.io/elb.session-affinity-mode: HTTP_COOKIE\n')}---\n` +
        ingress(
          'pair',
          'front',
          '    kubernetes.io/elb.session-affinity-mode: APP_COOKIE\n' +
            `    kubernetes.io/elb.session-affinity-option: '{"app_cookie_name": "SID"}'`,
        ),
    );
    const diagnostics = analyze(objects).diagnostics.filter((d) => d.reason === 'ValueOverridden');
    expect(diagnostics).toHaveLength(1);
    const r = await recorder();
    r.observe(diagnostics, directoryOf(objects));
    await r.settled();

    const events = await eventsIn('pair');
    expect(
      events.map((e) => [e.type, e.reason, e.regarding?.kind, e.related?.kind]).sort(),
    ).toEqual([
      ['Warning', 'ValueOverridden', 'Ingress', 'Service'],
      ['Warning', 'ValueOverridden', 'Service', 'Ingress'],
    ]);
    const onIngress = events.find((e) => e.regarding?.kind === 'Ingress')!;
    expect(onIngress.note).toContain(
      'annotation kubernetes.io/elb.session-affinity-mode="APP_COOKIE"',
    );
    expect(onIngress.note).toContain(
      'also Service pair/web kubernetes.io/elb.session-affinity-mode',
    );

    const forService = await kubectl(['events', '-n', 'pair', '--for', 'service/web'], {
      kubeconfig: kubeconfigPath,
    });
    expect(forService.stdout).toMatch(/Warning\s+ValueOverridden\s+Service\/web/);
    expect(forService.stdout).not.toContain('Ingress/front');
  });

  it('folds a recurrence into the series and writes the Accepted Event once per fix', async () => {
    const broken = applyYaml(
      `${service('fold', 'web')}---\n${ingress('fold', 'shop', BOTH_OCI_MODELS)}`,
    );
    const r = await recorder();
    reconcileInto(r, broken);
    await r.settled();
    server.clearRequests();

    // The same conflict on the next reconciles is the same occurrence: nothing is written.
    reconcileInto(r, broken);
    reconcileInto(r, broken);
    await r.settled();
    expect(server.requests.filter((q) => q.resource === 'events')).toEqual([]);

    // Fixed: the Warning stays as it was, an Accepted Event appears, and only once.
    const fixed = applyYaml(ingress('fold', 'shop', LB_COOKIE_ONLY));
    const fixedObjects = [broken[0]!, ...fixed];
    reconcileInto(r, fixedObjects);
    reconcileInto(r, fixedObjects);
    await r.settled();
    let events = await eventsIn('fold');
    expect(events.map((e) => [e.type, e.reason, e.series?.count ?? 1]).sort()).toEqual([
      ['Normal', 'Accepted', 1],
      ['Warning', 'ConflictingPersistence', 1],
    ]);
    const accepted = events.find((e) => e.reason === 'Accepted')!;
    expect(accepted.regarding).toMatchObject({ kind: 'Ingress', name: 'shop' });
    expect(accepted.note).toContain('configuration accepted');

    // Broken again, then fixed again: both fold into their series; still two Event objects.
    const rebroken = [broken[0]!, ...applyYaml(ingress('fold', 'shop', BOTH_OCI_MODELS))];
    reconcileInto(r, rebroken);
    await r.settled();
    const refixed = [broken[0]!, ...applyYaml(ingress('fold', 'shop', LB_COOKIE_ONLY))];
    reconcileInto(r, refixed);
    await r.settled();
    events = await eventsIn('fold');
    expect(events.map((e) => [e.type, e.reason, e.series?.count ?? 1]).sort()).toEqual([
      ['Normal', 'Accepted', 2],
      ['Warning', 'ConflictingPersistence', 2],
    ]);
    const warning = events.find((e) => e.type === 'Warning')!;
    expect(Date.parse(String(warning.series?.lastObservedTime))).toBeGreaterThanOrEqual(
      Date.parse(String(warning.eventTime)),
    );

    const shown = await kubectl(['get', 'events', '-n', 'fold', '-o', 'json'], {
      kubeconfig: kubeconfigPath,
    });
    const core = JSON.parse(shown.stdout) as {
      items: { reason: string; series?: { count: number } }[];
    };
    expect(core.items.map((e) => [e.reason, e.series?.count]).sort()).toEqual([
      ['Accepted', 2],
      ['ConflictingPersistence', 2],
    ]);
  });

  it('writes nothing when not leading, and catches up without duplicates on taking the lead', async () => {
    let leading = false;
    const objects = applyYaml(
      `${service('lead', 'web')}---\n${ingress('lead', 'shop', BOTH_OCI_MODELS)}`,
    );
    const first = await recorder({ isLeader: () => leading, reportingInstance: 'replica-a' });
    reconcileInto(first, objects);
    await first.settled();
    expect(await eventsIn('lead')).toEqual([]);

    leading = true;
    first.resync();
    await first.settled();
    expect((await eventsIn('lead')).map((e) => e.reportingInstance)).toEqual(['replica-a']);

    // A second replica takes over with the same problem still there: nothing new is written.
    leading = false;
    const second = await recorder({ reportingInstance: 'replica-b' });
    reconcileInto(second, objects);
    await second.settled();
    expect(second.stats).toMatchObject({ created: 0, updated: 0, seeded: expect.any(Number) });
    expect(await eventsIn('lead')).toHaveLength(1);

    // The fix seen by the new leader is announced by it.
    const fixed = [objects[0]!, ...applyYaml(ingress('lead', 'shop', LB_COOKIE_ONLY))];
    reconcileInto(second, fixed);
    await second.settled();
    const events = await eventsIn('lead');
    expect(events.map((e) => [e.reason, e.reportingInstance]).sort()).toEqual([
      ['Accepted', 'replica-b'],
      ['ConflictingPersistence', 'replica-a'],
    ]);
  });

  it('announces a fix made while no leader was watching', async () => {
    const broken = applyYaml(
      `${service('gap', 'web')}---\n${ingress('gap', 'shop', BOTH_OCI_MODELS)}`,
    );
    const before = await recorder();
    reconcileInto(before, broken);
    await before.settled();
    await before.stop();

    const fixed = [broken[0]!, ...applyYaml(ingress('gap', 'shop', LB_COOKIE_ONLY))];
    const after = await recorder();
    reconcileInto(after, fixed);
    await after.settled();
    expect((await eventsIn('gap')).map((e) => e.reason).sort()).toEqual([
      'Accepted',
      'ConflictingPersistence',
    ]);
  });

  it('gives no Event to an object deleted since, and no Accepted to one that went away', async () => {
    const objects = applyYaml(
      `${service('gone', 'web')}---\n${ingress('gone', 'shop', BOTH_OCI_MODELS)}`,
    );
    const r = await recorder();
    // The diagnostics were computed before the Ingress went; the directory no longer has it.
    r.observe(analyze(objects).diagnostics, directoryOf([objects[0]!]));
    await r.settled();
    expect(await eventsIn('gone')).toEqual([]);

    reconcileInto(r, objects);
    await r.settled();
    r.observe([], directoryOf([objects[0]!]));
    await r.settled();
    expect((await eventsIn('gone')).map((e) => e.reason)).toEqual(['ConflictingPersistence']);
  });
});

describe('writes under pressure', () => {
  it('folds occurrences that pile up between two writes into one write each', async () => {
    const broken = applyYaml(
      `${service('pile', 'web')}---\n${ingress('pile', 'shop', BOTH_OCI_MODELS)}`,
    );
    const fixed = [broken[0]!, withoutAnnotations(broken[1]!)];
    const r = await recorder();
    for (let i = 0; i < 200; i++) {
      reconcileInto(r, broken);
      reconcileInto(r, fixed);
    }
    await r.settled();
    // 400 reconciles, 200 breakages and 200 fixes: two writes.
    expect(r.stats).toMatchObject({ created: 2, updated: 0 });
    const events = await eventsIn('pile');
    expect(events.map((e) => [e.reason, e.series?.count]).sort()).toEqual([
      ['Accepted', 200],
      ['ConflictingPersistence', 200],
    ]);
  });

  it('holds a flapping object to its per-object burst and keeps counting', async () => {
    const broken = applyYaml(
      `${service('flap', 'web')}---\n${ingress('flap', 'shop', BOTH_OCI_MODELS)}`,
    );
    const fixed = [broken[0]!, withoutAnnotations(broken[1]!)];
    const r = await recorder({ perObjectBurst: 3, perObjectPerMinute: 1 });
    for (let i = 0; i < 20; i++) {
      reconcileInto(r, broken);
      reconcileInto(r, fixed);
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The Warning and the Accepted are about one object: three writes in all, the rest waits.
    expect(r.stats.created + r.stats.updated).toBe(3);
    expect(r.stats.rateLimited).toBeGreaterThan(0);
    expect(r.pending).toBeGreaterThan(0);
    const events = await eventsIn('flap');
    expect(events.map((e) => e.reason).sort()).toEqual(['Accepted', 'ConflictingPersistence']);
  });

  it('spreads many objects over time under the global limit and drops beyond the cap', async () => {
    const objects = applyYaml(
      [service('many', 'web')]
        .concat(Array.from({ length: 30 }, (_, i) => ingress('many', `shop-${i}`, BOTH_OCI_MODELS)))
        .join('---\n'),
    );
    const r = await recorder({ burst: 5, qps: 20, maxTracked: 25 });
    const started = Date.now();
    reconcileInto(r, objects);
    expect(r.stats.dropped).toBe(5);
    await r.settled();
    const elapsed = Date.now() - started;
    expect(r.stats.created).toBe(25);
    // 5 at once, then 20 at 20 per second: about a second, not at once.
    expect(elapsed).toBeGreaterThanOrEqual(800);
    expect(await eventsIn('many')).toHaveLength(25);
  });

  it('retries a write the server failed, with backoff, and writes it once', async () => {
    const objects = applyYaml(
      `${service('retry', 'web')}---\n${ingress('retry', 'shop', BOTH_OCI_MODELS)}`,
    );
    server.injectFailure({
      method: 'POST',
      path: '/apis/events.k8s.io/v1/namespaces/retry/events',
      times: 2,
      status: 500,
    });
    const r = await recorder({ retryBaseMs: 50 });
    reconcileInto(r, objects);
    await r.settled();
    expect(r.stats).toMatchObject({ failed: 2, created: 1 });
    expect(await eventsIn('retry')).toHaveLength(1);
  });
});
