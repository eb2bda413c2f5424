/**
 * Leader election on a coordination.k8s.io/v1 Lease with the real @kubernetes/client-node
 * against the stand-in API server, with short timings, and the Event recorder gated by it.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { parseAllDocuments } from 'yaml';
import { analyze, type KubeObject } from '@tether/dialects';
import {
  directoryOf,
  EventRecorder,
  LeaderElector,
  type LeaderElectorOptions,
} from '@tether/controller';
import { startApiServer, type StandInApiServer } from '@tether/testkit';

let k8s: typeof K8s;
let server: StandInApiServer;
let kc: K8s.KubeConfig;
const cleanups: (() => Promise<void>)[] = [];

const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };

beforeAll(async () => {
  k8s = await import('@kubernetes/client-node');
  server = await startApiServer();
  kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig());
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  if (!server.running) await server.start();
  server.clearFailures();
});
afterAll(async () => {
  await server.close();
});

interface Candidate {
  elector: LeaderElector;
  transitions: string[];
}

async function candidate(
  name: string,
  identity: string,
  options: Partial<LeaderElectorOptions> = {},
): Promise<Candidate> {
  const transitions: string[] = [];
  const elector = new LeaderElector({
    kubeConfig: kc,
    namespace: 'kube-system',
    name,
    identity,
    ...TIMING,
    onStartedLeading: () => transitions.push('started'),
    onStoppedLeading: () => transitions.push('stopped'),
    ...options,
  });
  cleanups.push(() => elector.stop());
  await elector.start();
  return { elector, transitions };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

async function lease(name: string): Promise<K8s.V1Lease> {
  return kc
    .makeApiClient(k8s.CoordinationV1Api)
    .readNamespacedLease({ name, namespace: 'kube-system' });
}

const leaders = (cs: Candidate[]) => cs.filter((c) => c.elector.isLeader());

describe('leader election', () => {
  it('elects exactly one of two candidates and records it on the Lease', async () => {
    const both = [await candidate('one', 'replica-a'), await candidate('one', 'replica-b')];
    await until(() => leaders(both).length === 1);
    const [leader] = leaders(both);
    const l = await lease('one');
    expect(l.spec).toMatchObject({
      holderIdentity: leader!.elector.identity,
      leaseDurationSeconds: 1,
      leaseTransitions: 0,
    });
    expect(String(l.spec?.renewTime)).toMatch(/\.\d{6}Z$/);

    // Over several lease durations the leader keeps renewing and nobody else takes over.
    const firstRenew = Date.parse(String(l.spec?.renewTime));
    for (let i = 0; i < 25; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(leaders(both)).toEqual([leader]);
    }
    expect(Date.parse(String((await lease('one')).spec?.renewTime))).toBeGreaterThan(firstRenew);
    for (const c of both) expect(c.elector.leader).toBe(leader!.elector.identity);
    expect(leader!.transitions).toEqual(['started']);
  });

  it('hands over at once when the leader stops and releases the Lease', async () => {
    const a = await candidate('release', 'replica-a');
    await until(() => a.elector.isLeader());
    const b = await candidate('release', 'replica-b');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(b.elector.isLeader()).toBe(false);

    const stopped = Date.now();
    await a.elector.stop();
    expect(a.transitions).toEqual(['started', 'stopped']);
    await until(() => b.elector.isLeader());
    // Released: no waiting for the lease to expire, just the next (jittered) try.
    expect(Date.now() - stopped).toBeLessThan(TIMING.leaseDurationMs);
    expect((await lease('release')).spec).toMatchObject({
      holderIdentity: 'replica-b',
      leaseTransitions: 1,
    });
  });

  it('hands over within the lease duration when the leader goes away without releasing', async () => {
    const a = await candidate('crash', 'replica-a', { releaseOnStop: false });
    await until(() => a.elector.isLeader());
    const b = await candidate('crash', 'replica-b');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const gone = Date.now();
    await a.elector.stop();
    expect((await lease('crash')).spec?.holderIdentity).toBe('replica-a');
    await until(() => b.elector.isLeader());
    const handover = Date.now() - gone;
    // Not before the lease expired (measured from the last renewal b saw), and soon after.
    expect(handover).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - 2.2 * TIMING.retryPeriodMs);
    expect(handover).toBeLessThan(TIMING.leaseDurationMs + 2 * 2.2 * TIMING.retryPeriodMs + 250);
    expect((await lease('crash')).spec).toMatchObject({
      holderIdentity: 'replica-b',
      leaseTransitions: 1,
    });
  });

  it('stops leading within the renew deadline when the API server goes away, and leads again after', async () => {
    const a = await candidate('outage', 'replica-a');
    await until(() => a.elector.isLeader());
    await server.stop();
    const lost = await until(() => !a.elector.isLeader());
    expect(lost).toBeLessThanOrEqual(TIMING.renewDeadlineMs + 50);
    await until(() => a.transitions.includes('stopped'));
    await server.start();
    await until(() => a.elector.isLeader());
    expect(a.transitions).toEqual(['started', 'stopped', 'started']);
  });

  it('refuses timings where the leader could outlive its lease', () => {
    expect(
      () =>
        new LeaderElector({
          kubeConfig: kc,
          namespace: 'kube-system',
          name: 'bad',
          leaseDurationMs: 1000,
          renewDeadlineMs: 1000,
        }),
    ).toThrow('lease duration must be longer than the renew deadline');
  });
});

const BROKEN = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: NAME
  namespace: shared
  annotations:
    oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: '{}'
    oci-native-ingress.oraclecloud.com/session-persistence-config: '{"cookieName": "SID"}'
spec:
  ingressClassName: tether
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
`;

function applyBroken(name: string): KubeObject {
  const [doc] = parseAllDocuments(BROKEN.replace('NAME', name));
  return server.apply(doc!.toJSON() as never) as unknown as KubeObject;
}

describe('only the leader writes Events', () => {
  it('shares one Lease between two replicas; Events come from the leader, once, across a handover', async () => {
    const replicas = await Promise.all(
      ['replica-a', 'replica-b'].map(async (identity) => {
        // The elector's callback needs the recorder, which needs the elector.
        const late: { recorder?: EventRecorder } = {};
        const { elector } = await candidate('events', identity, {
          releaseOnStop: false,
          onStartedLeading: () => late.recorder?.resync(),
        });
        const recorder = await EventRecorder.create({
          kubeConfig: kc,
          isLeader: () => elector.isLeader(),
          reportingInstance: identity,
        });
        late.recorder = recorder;
        cleanups.push(() => recorder.stop());
        return { identity, elector, recorder };
      }),
    );
    const objects = [applyBroken('first')];
    const reconcile = () => {
      for (const { recorder } of replicas)
        recorder.observe(analyze(objects).diagnostics, directoryOf(objects));
    };
    await until(() => replicas.some((r) => r.elector.isLeader()));
    reconcile();
    for (const { recorder } of replicas) await recorder.settled();

    const events = kc.makeApiClient(k8s.EventsV1Api);
    const list = async () =>
      (await events.listNamespacedEvent({ namespace: 'shared' })).items.map((e) => [
        e.regarding?.name,
        e.reason,
        e.reportingInstance,
        e.series?.count ?? 1,
      ]);
    const leader = replicas.find((r) => r.elector.isLeader())!;
    const follower = replicas.find((r) => r !== leader)!;
    expect(await list()).toEqual([['first', 'ConflictingPersistence', leader.identity, 1]]);
    expect(follower.recorder.stats.created + follower.recorder.stats.updated).toBe(0);

    // The leader dies; the follower takes over, reads the Event back and does not repeat it.
    await leader.recorder.stop();
    await leader.elector.stop();
    await until(() => follower.elector.isLeader(), 3000);
    objects.push(applyBroken('second'));
    reconcile();
    await follower.recorder.settled();
    expect((await list()).sort()).toEqual([
      ['first', 'ConflictingPersistence', leader.identity, 1],
      ['second', 'ConflictingPersistence', follower.identity, 1],
    ]);
  });
});
