/**
 * `tether events` against the stand-in API server (Events written by the real recorder from
 * real diagnostics) and against a local admin endpoint serving localEventsFromDiagnostics().
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as K8s from '@kubernetes/client-node' with { 'resolution-mode': 'import' };
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { analyze, type KubeObject } from '@tether/dialects';
import type { Diagnostic } from '@tether/model';
import { directoryOf, EventRecorder, localEventsFromDiagnostics } from '@tether/controller';
import { run, type Io } from '@tether/cli';
import { runEvents } from '../../../packages/cli/src/events';
import { startApiServer, type StandInApiServer } from '@tether/testkit';

/** The parts of an events.k8s.io/v1 EventList the tests read. */
interface StoredEventList {
  apiVersion: string;
  kind: string;
  items: {
    apiVersion: string;
    kind: string;
    metadata: { name?: string; annotations?: Record<string, string> };
    reason: string;
    type: string;
    action?: string;
    eventTime?: string;
    reportingController?: string;
    reportingInstance?: string;
    regarding: { kind: string; namespace?: string; name: string };
  }[];
}

let k8s: typeof K8s;
let server: StandInApiServer;
let kc: K8s.KubeConfig;
let kubeconfig: string;
let recorder: EventRecorder;
let ingressObjects: KubeObject[];

function capture(): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    stdin: () => '',
    out: () => out,
    err: () => err,
  };
}

function apply(text: string): KubeObject[] {
  return parseAllDocuments(text).map(
    (doc) => server.apply(doc.toJSON() as never) as unknown as KubeObject,
  );
}

const MANIFESTS = `apiVersion: v1
kind: Service
metadata: { name: web, namespace: cli }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: cli
  annotations:
    oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: '{}'
    oci-native-ingress.oraclecloud.com/session-persistence-config: '{"cookieName": "SID"}'
    nginx.ingress.kubernetes.io/session-cookie-max-age: "soon"
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

beforeAll(async () => {
  k8s = await import('@kubernetes/client-node');
  server = await startApiServer();
  kc = new k8s.KubeConfig();
  kc.loadFromString(server.kubeconfig());
  kubeconfig = server.writeKubeconfig('cli');
  ingressObjects = apply(MANIFESTS);
  recorder = await EventRecorder.create({
    kubeConfig: kc,
    isLeader: () => true,
    reportingInstance: 'tether-0',
  });
  recorder.observe(analyze(ingressObjects).diagnostics, directoryOf(ingressObjects));
  await recorder.settled();
  // Someone else's Event on the same object, which `tether events` must not show.
  server.apply({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'other.1', namespace: 'cli' },
    eventTime: new Date().toISOString(),
    reportingController: 'example.com/other-controller',
    reportingInstance: 'x',
    action: 'Sync',
    reason: 'Synced',
    type: 'Normal',
    note: 'not ours',
    regarding: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      namespace: 'cli',
      name: 'shop',
    },
  });
});
afterAll(async () => {
  await recorder.stop();
  await server.close();
});

describe('tether events from the cluster', () => {
  it('prints our Events as a table with kubectl-like columns and a COUNT', async () => {
    const io = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig], io)).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines[0]!.split(/\s{3,}/)).toEqual([
      'LAST SEEN',
      'TYPE',
      'REASON',
      'OBJECT',
      'COUNT',
      'NOTE',
    ]);
    expect(io.out()).toMatch(/\d+s\s+Warning\s+ConflictingPersistence\s+Ingress\/shop\s+1\s+\S/);
    expect(io.out()).toMatch(
      /Warning\s+IneffectiveSetting\s+Ingress\/shop\s+1\s+.*max-age="soon"\]/,
    );
    expect(io.out()).not.toContain('not ours');
    expect(io.err()).toBe('');
  });

  it('shows the series count once a problem comes back', async () => {
    const fixed = [
      ingressObjects[0]!,
      { ...ingressObjects[1]!, metadata: { ...ingressObjects[1]!.metadata, annotations: {} } },
    ];
    for (const objects of [fixed, ingressObjects, fixed, ingressObjects])
      recorder.observe(analyze(objects).diagnostics, directoryOf(objects));
    await recorder.settled();
    const io = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '--types', 'Warning'], io)).toBe(0);
    expect(io.out()).toMatch(/ConflictingPersistence\s+Ingress\/shop\s+3\s/);
    expect(io.out()).not.toContain('Accepted');
    const normal = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '--types', 'normal'], normal)).toBe(0);
    expect(normal.out()).toMatch(
      /Normal\s+Accepted\s+Ingress\/shop\s+2\s+Ingress cli\/shop: configuration accepted/,
    );
  });

  it('prints JSON and YAML as an events.k8s.io/v1 EventList of the Events as stored', async () => {
    const json = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '-o', 'json'], json)).toBe(0);
    const list = JSON.parse(json.out()) as StoredEventList;
    expect(list).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'EventList' });
    expect(list.items.every((i) => i.apiVersion === 'events.k8s.io/v1' && i.kind === 'Event')).toBe(
      true,
    );
    const conflict = list.items.find((i) => i.reason === 'ConflictingPersistence');
    expect(conflict).toMatchObject({
      type: 'Warning',
      action: 'Reconcile',
      reportingController: 'tether.dev/ingress-controller',
      reportingInstance: 'tether-0',
      regarding: { kind: 'Ingress', namespace: 'cli', name: 'shop' },
    });
    expect(conflict?.metadata.name).toBeTruthy();
    expect(Date.parse(String(conflict?.eventTime))).not.toBeNaN();
    const yaml = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '-o', 'yaml'], yaml)).toBe(0);
    expect(parseYaml(yaml.out())).toEqual(list);
  });

  it('selects one object with --for, and says when there is nothing', async () => {
    const io = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '--for', 'ing/shop'], io)).toBe(0);
    expect(io.out()).toContain('Ingress/shop');
    const none = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '--for', 'svc/web'], none)).toBe(0);
    expect(none.out()).toBe('');
    expect(none.err()).toBe('No events found in cli namespace.\n');
  });

  it('reads every namespace with -A and one with -n', async () => {
    const all = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '-A'], all)).toBe(0);
    expect(all.out().split('\n')[0]).toMatch(/^NAMESPACE\s+LAST SEEN/);
    expect(all.out()).toMatch(/\ncli\s+\d+s\s+Warning/);
    const other = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '-n', 'default'], other)).toBe(0);
    expect(other.err()).toBe('No events found in default namespace.\n');
  });

  it('follows new Events with --watch until stopped', async () => {
    const io = capture();
    const stop = new AbortController();
    const watching = runEvents(
      { kubeconfig, watch: true, output: 'table', for: 'ingress/late' },
      io,
      { signal: stop.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const late = apply(MANIFESTS.replace('name: shop', 'name: late'));
    recorder.observe(analyze(late).diagnostics, directoryOf(late));
    await recorder.settled();
    const deadline = Date.now() + 5000;
    while (!io.out().includes('Ingress/late') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    stop.abort();
    expect(await watching).toBe(0);
    expect(io.out().split('\n')[0]).toMatch(/^LAST SEEN\s+TYPE/);
    expect(io.out()).toMatch(/Warning\s+ConflictingPersistence\s+Ingress\/late\s+1/);
    expect(io.out()).not.toContain('Ingress/shop');
  });

  it('says in one line what is wrong with the kubeconfig or the server', async () => {
    const missing = capture();
    expect(await run(['events', '--kubeconfig', '/nonexistent/kubeconfig'], missing)).toBe(1);
    expect(missing.err()).toBe('tether events: kubeconfig /nonexistent/kubeconfig: no such file\n');

    const down = await startApiServer();
    const downConfig = down.writeKubeconfig();
    const url = down.url;
    await down.stop();
    try {
      const unreachable = capture();
      expect(await run(['events', '--kubeconfig', downConfig], unreachable)).toBe(1);
      expect(unreachable.err()).toBe(
        `tether events: cannot reach the API server at ${url}: connection refused\n`,
      );
    } finally {
      await down.close();
    }

    const home = mkdtempSync(join(tmpdir(), 'tether-events-home-'));
    const none = capture();
    expect(await runEvents({ output: 'table' }, none, { env: { HOME: home } })).toBe(1);
    expect(none.err()).toMatch(/^tether events: no kubeconfig found \(give --kubeconfig/);

    const usage = capture();
    expect(await run(['events', '--kubeconfig', kubeconfig, '--for', 'web'], usage)).toBe(1);
    expect(usage.err()).toBe('tether events: --for takes KIND/NAME, for example ingress/web\n');
  });
});

describe('tether events from a local tether serve', () => {
  let admin: Server;
  let address: string;
  let diagnostics: Diagnostic[];
  let objects: KubeObject[];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-events-local-'));
    writeFileSync(join(dir, 'shop.yaml'), MANIFESTS);
    objects = parseAllDocuments(MANIFESTS).map((d) => d.toJSON() as KubeObject);
    diagnostics = analyze(objects).diagnostics;
    admin = createServer((req, res) => {
      if (req.url !== '/api/events') {
        res.writeHead(404).end();
        return;
      }
      const body = localEventsFromDiagnostics(diagnostics, {
        now: new Date(),
        directory: directoryOf(objects),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => admin.listen(0, '127.0.0.1', resolve));
    address = `127.0.0.1:${(admin.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    admin.closeAllConnections();
    await new Promise((resolve) => admin.close(resolve));
  });

  it('prints the current diagnostics of a local run as the same table', async () => {
    const io = capture();
    expect(await run(['events', '--api', address], io)).toBe(0);
    expect(io.out()).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+COUNT\s+NOTE\n/);
    expect(io.out()).toMatch(/\d+s\s+Warning\s+ConflictingPersistence\s+Ingress\/shop\s+1\s+/);
    expect(io.out()).toContain(
      'annotation oci-native-ingress.oraclecloud.com/session-persistence-config=',
    );
    const yaml = capture();
    expect(
      await run(
        ['events', '--api', `http://${address}/`, '-o', 'yaml', '--for', 'ingress/shop'],
        yaml,
      ),
    ).toBe(0);
    const list = parseYaml(yaml.out()) as StoredEventList;
    expect(list).toMatchObject({ apiVersion: 'events.k8s.io/v1', kind: 'EventList' });
    expect(list.items.map((i) => i.reason).sort()).toEqual([
      'ConflictingPersistence',
      'DefaultOverridden',
      'IneffectiveSetting',
    ]);
    expect(list.items.find((i) => i.reason === 'DefaultOverridden')?.type).toBe('Normal');
    // A local run's own facts ride in annotations, as kubectl shows them.
    expect(
      list.items.every((i) => i.metadata.annotations?.['tether.dev/severity'] !== undefined),
    ).toBe(true);
    expect(list.items.every((i) => i.regarding.kind === 'Ingress')).toBe(true);
  });

  it('shows problems that appear while watching', async () => {
    const io = capture();
    const stop = new AbortController();
    const watching = runEvents({ admin: address, watch: true, output: 'table' }, io, {
      signal: stop.signal,
      pollMs: 50,
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    const before = io.out();
    objects = [
      ...objects,
      { ...objects[1]!, metadata: { ...objects[1]!.metadata, name: 'added' } },
    ];
    diagnostics = analyze(objects).diagnostics;
    const deadline = Date.now() + 3000;
    while (!io.out().includes('Ingress/added') && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    stop.abort();
    expect(await watching).toBe(0);
    expect(before).toContain('Ingress/shop');
    expect(before).not.toContain('Ingress/added');
    const added = io.out().slice(before.length);
    expect(added).toMatch(/Warning\s+ConflictingPersistence\s+Ingress\/added/);
    expect(added).not.toContain('Ingress/shop');
  });

  it('says when nothing answers at the admin address', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const io = capture();
    expect(await run(['events', '--api', `127.0.0.1:${port}`], io)).toBe(1);
    expect(io.err()).toBe(
      `tether events: cannot reach tether serve at http://127.0.0.1:${port}: connection refused\n`,
    );
  });
});
