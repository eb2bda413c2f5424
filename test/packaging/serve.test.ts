/**
 * The chart's container, run as the kubelet would run it, minus the cluster: the built
 * `tether serve` with the Deployment's arguments and environment, the rendered Secrets written
 * where the volume mounts put them, and the stand-in API server as the cluster. The probes must
 * answer on the paths and port the chart names, the generated certificate must load, the
 * leader-election Lease must land in the namespace the chart's Role covers, and SIGTERM must stop
 * the process well within the grace period.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startApiServer, type StandInApiServer } from '@tether/testkit';
import { at, NAMESPACE, one, render, ROOT, type KubeObject } from './chart';

const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');

interface Container {
  args: string[];
  env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  volumeMounts: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}

let server: StandInApiServer;
let scratch: string;
let child: ChildProcess | undefined;

beforeAll(async () => {
  server = await startApiServer();
  scratch = mkdtempSync(join(tmpdir(), 'tether-pod-'));
});

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A port nothing listens on at the moment (the pod's ports, moved to loopback). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Writes each mounted Secret's keys as files, as the kubelet does, under `root`. */
function mountSecrets(
  objects: KubeObject[],
  volumes: Volume[],
  container: Container,
  root: string,
) {
  for (const mount of container.volumeMounts) {
    const secret = volumes.find((v) => v.name === mount.name)?.secret;
    if (!secret) continue;
    const data = at(one(objects, 'Secret', secret.secretName), 'data') as Record<string, string>;
    const files = secret.items ?? Object.keys(data).map((key) => ({ key, path: key }));
    for (const { key, path } of files) {
      const file = join(root, mount.mountPath, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, Buffer.from(data[key] ?? '', 'base64'));
    }
  }
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpGet(url, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', () => resolve(0));
  });
}

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('the chart container, run with its own arguments', () => {
  it('answers its probes, serves HTTPS with the generated certificate and stops on SIGTERM', async () => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
    const { objects } = await render();
    const deployment = one(objects, 'Deployment');
    const pod = at(deployment, 'spec', 'template', 'spec') as {
      containers: Container[];
      volumes: Volume[];
      terminationGracePeriodSeconds: number;
    };
    const container = pod.containers[0]!;
    mountSecrets(objects, pod.volumes, container, scratch);

    // The pod's ports on loopback; files under the scratch folder instead of the root.
    const ports = new Map<number, number>();
    for (const p of container.ports) ports.set(p.containerPort, await freePort());
    const args = container.args.map((arg) =>
      arg
        .replace(/=0\.0\.0\.0:(\d+)$/, (_, port: string) => `=127.0.0.1:${ports.get(Number(port))}`)
        .replace(/=\/etc\//, `=${scratch}/etc/`),
    );
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '' };
    const fields: Record<string, string> = {
      'metadata.name': 'edge-tether-5d9c7b-x2x7q',
      'metadata.namespace': NAMESPACE,
    };
    for (const e of container.env) {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (field) env[e.name] = fields[field];
    }
    // An Ingress with TLS: ingress-nginx redirects its plain HTTP requests to HTTPS.
    server.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'shop', namespace: 'default' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    });
    server.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'shop',
        namespace: 'default',
        annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': 'true' },
      },
      spec: {
        ingressClassName: 'tether',
        tls: [{ hosts: ['shop.example'], secretName: 'shop-tls' }],
        rules: [
          {
            host: 'shop.example',
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
    child = spawn(process.execPath, [BIN, ...args, `--kubeconfig=${server.writeKubeconfig()}`], {
      env,
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));

    const portOf = (name: string) =>
      ports.get(container.ports.find((p) => p.name === name)?.containerPort ?? -1);
    const probe = (p: { httpGet: { path: string; port: string } }) =>
      `http://127.0.0.1:${portOf(p.httpGet.port)}${p.httpGet.path}`;
    const ready = await waitFor(
      async () => (await getStatus(probe(container.readinessProbe))) === 200,
      15_000,
    );
    expect({ ready, output: ready ? '' : output }).toEqual({ ready: true, output: '' });
    expect(await getStatus(probe(container.livenessProbe))).toBe(200);

    // The HTTPS listener presents the chart's self-signed certificate (no route: 404).
    const https = await new Promise<{ status: number; subject: string }>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: portOf('https'), path: '/', rejectUnauthorized: false },
        (res) => {
          res.resume();
          const cert = (res.socket as TLSSocket).getPeerCertificate();
          resolve({ status: res.statusCode ?? 0, subject: String(cert.subject.CN) });
        },
      );
      req.once('error', reject);
      req.end();
    });
    expect(https).toEqual({ status: 404, subject: deployment.metadata.name });

    // Behind the chart's Service, clients reach HTTPS on the Service's port (443): the redirect
    // names no port, not the container's.
    const redirect = await new Promise<{ status: number; location: string }>((resolve, reject) => {
      const req = httpGet(
        {
          host: '127.0.0.1',
          port: portOf('http'),
          path: '/cart?x=1',
          headers: { host: 'shop.example' },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, location: String(res.headers.location) });
        },
      );
      req.once('error', reject);
    });
    expect(redirect).toEqual({ status: 308, location: 'https://shop.example/cart?x=1' });

    // Leader election takes its Lease where the chart's Role lets it write.
    const role = one(objects, 'Role');
    expect(
      await waitFor(
        async () =>
          server.listObjects('coordination.k8s.io/v1', 'Lease', role.metadata.namespace).length ===
          1,
        5_000,
      ),
    ).toBe(true);

    const running = child;
    const exited = new Promise<number | null>((resolve) => running.once('exit', resolve));
    const started = Date.now();
    running.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(pod.terminationGracePeriodSeconds * 1000);
    child = undefined;
  }, 30_000);
});
