import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { startEcho, type EchoServer } from '@tether/echo';
import { kubectl } from '../support/kubectl';

/**
 * The built binary in cluster mode, as a user runs it: `tether serve --kubeconfig` against the
 * stand-in API server, with real echo backends. Checks routing with a sticky cookie, the
 * reconcile-error Event on a conflicting annotation (through the real kubectl and the local
 * /api/events), and that the last good policy keeps serving.
 */

const root = join(__dirname, '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');

let api: StandInApiServer;
let echoes: EchoServer[];
let tether: ChildProcess | undefined;
let proxyUrl = '';
let adminUrl = '';
let apiUrl = '';
let kubeconfig = '';

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ingress = (annotations: Record<string, string>): JsonObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop', namespace: 'default', annotations },
  spec: {
    ingressClassName: 'tether',
    rules: [
      {
        host: 'shop.test',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'shop', port: { number: 80 } } },
            },
          ],
        },
      },
    ],
  },
});

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
  echoes = await Promise.all(
    [1, 2].map((i) => startEcho({ name: `shop-${i}`, host: `127.0.0.${i}` })),
  );
  api = await startApiServer();
  kubeconfig = api.writeKubeconfig();
  api.apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'shop', namespace: 'default' },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  api.apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'shop-1',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'shop' },
    },
    addressType: 'IPv4',
    // Both echoes listen on ephemeral ports; one slice port each keeps the slice honest.
    ports: [{ name: 'http', port: echoes[0]!.port }],
    endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
  });
  api.apply({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'shop-2',
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': 'shop' },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: echoes[1]!.port }],
    endpoints: [{ addresses: ['127.0.0.2'], conditions: { ready: true } }],
  });
  api.apply(
    ingress({
      'nginx.ingress.kubernetes.io/affinity': 'cookie',
      'nginx.ingress.kubernetes.io/session-cookie-name': 'sid',
    }),
  );
  const [proxyPort, adminPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  proxyUrl = `http://127.0.0.1:${proxyPort}`;
  adminUrl = `http://127.0.0.1:${adminPort}`;
  apiUrl = `http://127.0.0.1:${apiPort}`;
  tether = spawn(
    process.execPath,
    [
      bin,
      'serve',
      '--kubeconfig',
      kubeconfig,
      '--listen',
      `127.0.0.1:${proxyPort}`,
      '--admin',
      `127.0.0.1:${adminPort}`,
      '--api',
      `127.0.0.1:${apiPort}`,
      '--log-level',
      'warn',
    ],
    {
      cwd: root,
      env: { ...process.env, POD_NAME: 'tether-test-0', POD_NAMESPACE: 'default' },
      stdio: 'ignore',
    },
  );
}, 60_000);

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

afterAll(async () => {
  tether?.kill('SIGTERM');
  await Promise.all((echoes ?? []).map((e) => e.close()));
  await api?.stop();
});

describe('tether serve against a cluster', () => {
  it('becomes ready and routes the Ingress with its sticky cookie', async () => {
    await until('readiness', async () =>
      (await get(`${adminUrl}/readyz`)).status === 200 ? true : undefined,
    );
    const first = await get(`${proxyUrl}/`, { host: 'shop.test' });
    expect(first.status).toBe(200);
    const cookie = String(first.headers['set-cookie'] ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^sid=/);
    for (let i = 0; i < 5; i++)
      expect((await get(`${proxyUrl}/`, { host: 'shop.test', cookie })).headers['x-endpoint']).toBe(
        first.headers['x-endpoint'],
      );
  }, 30_000);

  it('records a Warning Event on a conflicting Ingress, visible to kubectl and /api/events, and keeps serving the last good policy', async () => {
    api.apply(
      ingress({
        'nginx.ingress.kubernetes.io/affinity': 'cookie',
        'nginx.ingress.kubernetes.io/session-cookie-name': 'sid',
        'oci-native-ingress.oraclecloud.com/session-persistence-config':
          '{"cookieName":"JSESSIONID"}',
      }),
    );
    const events = await until(
      'the Event',
      async () => {
        const out = await kubectl(['get', 'events', '-n', 'default', '-o', 'json'], { kubeconfig });
        const items = (
          JSON.parse(out.stdout) as {
            items: {
              reason: string;
              type: string;
              involvedObject: { kind: string; name: string };
            }[];
          }
        ).items;
        const ours = items.filter((e) => e.reason === 'ConflictingPersistence');
        return ours.length > 0 ? ours : undefined;
      },
      15_000,
    );
    expect(events.map((e) => [e.type, e.involvedObject.kind, e.involvedObject.name])).toEqual([
      ['Warning', 'Ingress', 'shop'],
    ]);
    const local = JSON.parse((await get(`${apiUrl}/api/events`)).body) as {
      items: { reason: string }[];
    };
    expect(local.items.map((i) => i.reason)).toContain('ConflictingPersistence');
    const still = await get(`${proxyUrl}/`, { host: 'shop.test' });
    expect(String(still.headers['set-cookie'] ?? '')).toMatch(/^sid=/);
  }, 30_000);
});
