/**
 * `tether serve --workers 2`, the built CLI: two proxy processes share the listener; a cookie
 * one worker issued is honoured by the other (same key, same table); /metrics adds up both;
 * a worker killed with SIGKILL is replaced while the other keeps serving; SIGTERM stops all.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEchoes, type EchoServer } from '@tether/echo';

const BIN = join(__dirname, '..', '..', 'packages', 'cli', 'dist', 'bin.js');

let echoes: EchoServer[];
let child: ChildProcess;
let port = 0;
let admin = 0;
let log = '';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
}

function get(
  path: string,
  at = port,
  cookie?: string,
): Promise<{ status: number; endpoint: string; setCookie: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: at,
        path,
        agent: false,
        headers: cookie ? { cookie } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            endpoint: String(res.headers['x-endpoint'] ?? ''),
            setCookie: (res.headers['set-cookie'] ?? [])[0]?.split(';')[0] ?? '',
            body,
          }),
        );
      },
    );
    req.setTimeout(4000, () => req.destroy(new Error(`no answer to ${path} in 4 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** The pids of the primary's workers. */
function workers(): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}\n${log}`);
}

beforeAll(async () => {
  echoes = await startEchoes(3);
  const dir = mkdtempSync(join(tmpdir(), 'tether-workers-'));
  const slices = echoes.map((e, i) =>
    [
      'apiVersion: discovery.k8s.io/v1',
      'kind: EndpointSlice',
      `metadata: { name: web-${i}, namespace: shop, labels: { kubernetes.io/service-name: web } }`,
      'addressType: IPv4',
      `ports: [{ name: http, port: ${e.port} }]`,
      'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
    ].join('\n'),
  );
  writeFileSync(
    join(dir, 'app.yaml'),
    [
      'apiVersion: networking.k8s.io/v1',
      'kind: Ingress',
      'metadata:',
      '  name: web',
      '  namespace: shop',
      '  annotations: { nginx.ingress.kubernetes.io/affinity: cookie }',
      'spec:',
      '  ingressClassName: tether',
      '  rules:',
      '    - http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: { name: web, namespace: shop }',
      'spec: { ports: [{ name: http, port: 80 }] }',
      ...slices.flatMap((s) => ['---', s]),
    ].join('\n'),
  );
  [port, admin] = [await freePort(), await freePort()];
  child = spawn(
    process.execPath,
    [
      BIN,
      'serve',
      '--manifests',
      join(dir, 'app.yaml'),
      '--listen',
      `127.0.0.1:${port}`,
      '--admin',
      `127.0.0.1:${admin}`,
      '--api',
      `127.0.0.1:${await freePort()}`,
      '--workers',
      '2',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  await until('readiness', async () => {
    try {
      return (await get('/readyz', admin)).status === 200;
    } catch {
      return false;
    }
  });
}, 30_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(echoes.map((e) => e.close()));
});

describe('serve --workers 2', () => {
  it('runs two proxy workers that give a session the same endpoint', async () => {
    expect(workers()).toHaveLength(2);
    const first = await get('/');
    expect(first.status).toBe(200);
    expect(first.setCookie).toMatch(/^INGRESSCOOKIE=/);
    // Each worker alone (the other stopped, so the shared socket is the running one's to
    // accept on): both honour the cookie and send it to the same endpoint.
    const [a, b] = workers();
    for (const paused of [a!, b!]) {
      process.kill(paused, 'SIGSTOP');
      try {
        for (let i = 0; i < 5; i++) {
          const r = await get('/', port, first.setCookie);
          expect(r.endpoint).toBe(first.endpoint);
        }
      } finally {
        process.kill(paused, 'SIGCONT');
      }
    }
  });

  it('adds up the metrics of every worker', async () => {
    const before = await get('/metrics', admin);
    const count = (text: string) =>
      text
        .split('\n')
        .filter((l) => l.startsWith('tether_requests_total{') && l.includes('code="200"'))
        .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
    const n0 = count(before.body);
    for (let i = 0; i < 10; i++) await get('/');
    const after = await get('/metrics', admin);
    expect(count(after.body) - n0).toBe(10);
    expect(after.body).toMatch(/^tether_route_table_loaded 1$/m);
  });

  it('replaces a worker that dies while the other serves', async () => {
    const [victim, survivor] = workers();
    process.kill(victim!, 'SIGKILL');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get('/')).status);
    expect(statuses).toEqual(Array(10).fill(200));
    await until('a new worker', () => {
      const now = workers();
      return now.length === 2 && !now.includes(victim!) && now.includes(survivor!);
    });
    await until('readiness again', async () => (await get('/readyz', admin)).status === 200);
    expect(log).toMatch(/proxy worker died/);
  }, 20_000);

  it('stops every process on SIGTERM', async () => {
    const pids = workers();
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});
