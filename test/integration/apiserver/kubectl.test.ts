/** The real kubectl 1.30 against the stand-in API server. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { kubectl, kubectlPath, type KubectlResult } from '../../support/kubectl';

let server: StandInApiServer;
let kubeconfig: string;

beforeAll(async () => {
  await kubectlPath();
  server = await startApiServer({ optionalGroups: [] });
  kubeconfig = server.writeKubeconfig('shop');
}, 60_000);
afterAll(async () => {
  await server.close();
});

function run(args: string[], input?: string, timeoutMs?: number): Promise<KubectlResult> {
  return kubectl(args, {
    kubeconfig,
    ...(input === undefined ? {} : { input }),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
}

/** Fails with kubectl's own words when it did not succeed. */
function ok(result: KubectlResult): string {
  if (result.code !== 0) throw new Error(`kubectl exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const SERVICE = `
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
  annotations:
    example.com/sticky: "cookie"
spec:
  selector: {app: web}
  ports:
    - {name: http, port: 80, targetPort: 8080}
    - {name: https, port: 443, targetPort: 8443}
`;

describe('kubectl', () => {
  it('applies, re-applies with a strategic merge patch, and applies server-side', async () => {
    expect(ok(await run(['apply', '-f', '-'], SERVICE))).toContain('service/web created');
    const changed = SERVICE.replace('"cookie"', '"header"').replace(
      'port: 443, targetPort: 8443',
      'port: 8443, targetPort: 8443',
    );
    expect(ok(await run(['apply', '-f', '-'], changed))).toContain('service/web configured');
    const stored = server.getObject('v1', 'Service', 'shop', 'web') as {
      metadata: JsonObject;
      spec: { ports: JsonObject[] };
    };
    expect((stored.metadata.annotations as JsonObject)['example.com/sticky']).toBe('header');
    expect(stored.spec.ports.map((port) => port.port)).toEqual([80, 8443]);
    expect(ok(await run(['apply', '-f', '-'], changed))).toContain('service/web unchanged');

    const configMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {a: "1"}\n';
    expect(ok(await run(['apply', '--server-side', '-f', '-'], configMap))).toContain(
      'configmap/ssa serverside-applied',
    );
    ok(await run(['apply', '--server-side', '-f', '-'], configMap.replace('"1"', '"2"')));
    expect(server.getObject('v1', 'ConfigMap', 'shop', 'ssa')).toMatchObject({ data: { a: '2' } });
  });

  it('gets tables, JSON, and filters by label and field', async () => {
    server.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'api', namespace: 'shop', labels: { app: 'api' } },
      spec: { ports: [{ port: 81 }] },
    });
    const table = ok(await run(['get', 'services']));
    const [header, ...rows] = table.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'NAME',
      'TYPE',
      'CLUSTER-IP',
      'EXTERNAL-IP',
      'PORT(S)',
      'AGE',
    ]);
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(['api', 'web']);
    const json = JSON.parse(ok(await run(['get', 'svc', '-l', 'app=web', '-o', 'json']))) as {
      items: JsonObject[];
    };
    expect(json.items.map((item) => (item.metadata as JsonObject).name)).toEqual(['web']);
    const byField = ok(
      await run(['get', 'svc', '--field-selector', 'metadata.name=api', '-o', 'name']),
    );
    expect(byField.trim()).toBe('service/api');
    const wide = ok(await run(['get', 'svc', 'api', '-o', 'wide']));
    expect(wide.split('\n')[0]).toContain('SELECTOR');
    const missing = await run(['get', 'svc', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('services "nope" not found');
  });

  it('deletes and waits for the deletion', async () => {
    server.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'doomed', namespace: 'shop' },
    });
    expect(ok(await run(['delete', 'configmap', 'doomed']))).toContain(
      'configmap "doomed" deleted',
    );
    expect(server.getObject('v1', 'ConfigMap', 'shop', 'doomed')).toBeUndefined();
  });

  it('shows events written through events.k8s.io/v1 in `kubectl events` and `kubectl get events`', async () => {
    server.apply({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'web.conflict', namespace: 'shop' },
      eventTime: new Date(Date.now() - 5000).toISOString(),
      series: { count: 3, lastObservedTime: new Date().toISOString() },
      reportingController: 'tether.dev/ingress-controller',
      reportingInstance: 'tether-0',
      action: 'Reconcile',
      reason: 'ConflictingPersistence',
      type: 'Warning',
      note: 'cookie and source-ip persistence on one backend',
      regarding: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        namespace: 'shop',
        name: 'web',
      },
    });
    server.apply({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'api.accepted', namespace: 'shop' },
      eventTime: new Date().toISOString(),
      reportingController: 'tether.dev/ingress-controller',
      reportingInstance: 'tether-0',
      action: 'Reconcile',
      reason: 'Accepted',
      type: 'Normal',
      note: 'configuration accepted',
      regarding: { apiVersion: 'v1', kind: 'Service', namespace: 'shop', name: 'api' },
    });

    const events = ok(await run(['events']));
    expect(events.split('\n')[0]!.split(/\s{2,}/)).toEqual([
      'LAST SEEN',
      'TYPE',
      'REASON',
      'OBJECT',
      'MESSAGE',
    ]);
    expect(events).toMatch(
      /Warning\s+ConflictingPersistence\s+Ingress\/web\s+cookie and source-ip persistence on one backend/,
    );
    expect(events).toMatch(/Normal\s+Accepted\s+Service\/api\s+configuration accepted/);

    const forIngress = ok(await run(['events', '--for', 'ingress/web']));
    expect(forIngress).toContain('ConflictingPersistence');
    expect(forIngress).not.toContain('Accepted');
    const warnings = ok(await run(['events', '--types=Warning', '-o', 'json']));
    expect(warnings).toContain('"reason": "ConflictingPersistence"');
    expect(warnings).not.toContain('"reason": "Accepted"');

    const table = ok(await run(['get', 'events', '-o', 'wide']));
    expect(table).toMatch(/Warning\s+ConflictingPersistence\s+ingress\/web/);
    expect(table).toMatch(/tether\.dev\/ingress-controller, tether-0/);
    const viaEventsApi = JSON.parse(
      ok(await run(['get', 'events.v1.events.k8s.io', 'web.conflict', '-o', 'json'])),
    ) as JsonObject;
    expect(viaEventsApi).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      note: 'cookie and source-ip persistence on one backend',
      series: { count: 3 },
    });
  });

  it('sees an optional API group only when it is switched on', async () => {
    const off = await run(['get', 'httproutes']);
    expect(off.code).toBe(1);
    expect(off.stderr).toContain(`the server doesn't have a resource type "httproutes"`);
    server.setGroupEnabled('gateway.networking.k8s.io', true);
    try {
      const on = await run(['get', 'httproutes']);
      expect(on.code).toBe(0);
      expect(on.stderr).toContain('No resources found in shop namespace.');
    } finally {
      server.setGroupEnabled('gateway.networking.k8s.io', false);
    }
  });

  it('streams changes with `kubectl get -w` and `kubectl events --watch`', async () => {
    // Both run until the timeout kills them; what they printed before that is what counts.
    const getWatch = run(
      ['get', 'configmaps', '--watch-only', '--output-watch-events'],
      undefined,
      2500,
    );
    const eventsWatch = run(['events', '--watch', '--types=Warning'], undefined, 2500);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    server.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'watched', namespace: 'shop' },
      data: { a: 'b' },
    });
    server.apply({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: 'late.warning', namespace: 'shop' },
      eventTime: new Date().toISOString(),
      reportingController: 'tether.dev/ingress-controller',
      reportingInstance: 'tether-0',
      action: 'Reconcile',
      reason: 'InvalidAnnotation',
      type: 'Warning',
      note: 'arrived while watching',
      regarding: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        namespace: 'shop',
        name: 'late',
      },
    });
    expect((await getWatch).stdout).toMatch(/ADDED\s+watched/);
    expect((await eventsWatch).stdout).toMatch(
      /Warning\s+InvalidAnnotation\s+Ingress\/late\s+arrived while watching/,
    );
  });
});
