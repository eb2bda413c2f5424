/**
 * A local `tether serve` opens the ports of LoadBalancer Services; a port it cannot bind is a
 * PortUnavailable warning on its Service (an Event on a cluster), and the other ports serve.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createHttpsServer, request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { selfSignedCertificate } from '@tether/testkit';
import { startEcho } from '@tether/echo';
import { startServe, type Running } from '../../../packages/cli/src/serve';
import { freePortRun } from '../../support/ports';

let running: Running | undefined;
const closers: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  await running?.stop();
  for (const close of closers) await close();
});

async function listening(greeting = ''): Promise<{ port: number; close: () => void }> {
  const server = createServer((s) => s.end(greeting));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

function service(name: string, port: number): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    '  namespace: games',
    'spec:',
    '  type: LoadBalancer',
    '  sessionAffinity: ClientIP',
    '  ports:',
    `    - port: ${port}`,
    '---',
  ].join('\n');
}

/**
 * A local serve of an OCI Service whose port 443 terminates TLS with `pem`, moved to `port`,
 * in front of one echo backend.
 */
async function servePortal(
  port: number,
  pem: { cert: string; key: string },
  backend: { protocol: 'HTTP' | 'TCP'; port?: number; backendSetSecret?: boolean } = {
    protocol: 'HTTP',
  },
): Promise<Running> {
  let backendPort = backend.port;
  if (backendPort === undefined) {
    const echo = await startEcho({ name: 'portal-1' });
    closers.push(() => echo.close());
    backendPort = echo.port;
  }
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'tether-tls-ports-'));
  writeFileSync(
    join(dir, 'portal.yaml'),
    [
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: portal',
      '  namespace: billing',
      '  annotations:',
      `    service.beta.kubernetes.io/oci-load-balancer-backend-protocol: ${backend.protocol}`,
      '    service.beta.kubernetes.io/oci-load-balancer-ssl-ports: "443"',
      '    service.beta.kubernetes.io/oci-load-balancer-tls-secret: portal-tls',
      ...(backend.backendSetSecret
        ? ['    service.beta.kubernetes.io/oci-load-balancer-tls-backendset-secret: portal-tls']
        : []),
      // A cookie needs HTTP; a TCP port keeps no session of its own.
      ...(backend.protocol === 'HTTP'
        ? [
            `    oci-load-balancer.oraclecloud.com/lb-cookie-session-persistence-config: '{"cookieName": "BILLING", "isSecure": true}'`,
          ]
        : []),
      'spec:',
      '  type: LoadBalancer',
      '  ports: [{ name: https, port: 443 }]',
      '---',
      'apiVersion: v1',
      'kind: Secret',
      'type: kubernetes.io/tls',
      'metadata: { name: portal-tls, namespace: billing }',
      `data: { tls.crt: ${b64(pem.cert)}, tls.key: ${b64(pem.key)} }`,
      '---',
      'apiVersion: discovery.k8s.io/v1',
      'kind: EndpointSlice',
      'metadata:',
      '  name: portal-1',
      '  namespace: billing',
      '  labels: { kubernetes.io/service-name: portal }',
      'addressType: IPv4',
      `ports: [{ name: https, port: ${backendPort} }]`,
      'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
    ].join('\n'),
  );
  return startServe(
    {
      manifests: [dir],
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      api: '127.0.0.1:0',
      ingressClass: 'tether',
      logLevel: 'silent',
    },
    { servicePortOffset: port - 443 },
  );
}

describe('a local serve with LoadBalancer Services', () => {
  it('serves the ports it can bind and warns on the Service whose port is taken', async () => {
    const taken = await listening('someone else\n');
    closers.push(taken.close);
    // Below the ephemeral range: no other test's port 0 can take it before the proxy binds it.
    const free = { port: await freePortRun(1) };
    const backend = await listening('arena\n');
    closers.push(backend.close);
    const dir = mkdtempSync(join(tmpdir(), 'tether-ports-'));
    writeFileSync(
      join(dir, 'services.yaml'),
      [
        service('arena', free.port),
        service('lobby', taken.port),
        ...['arena', 'lobby'].map((name) =>
          [
            'apiVersion: discovery.k8s.io/v1',
            'kind: EndpointSlice',
            'metadata:',
            `  name: ${name}-1`,
            '  namespace: games',
            `  labels: { kubernetes.io/service-name: ${name} }`,
            'addressType: IPv4',
            `ports: [{ port: ${backend.port} }]`,
            'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
            '---',
          ].join('\n'),
        ),
      ].join('\n'),
    );
    running = await startServe({
      manifests: [dir],
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      api: '127.0.0.1:0',
      ingressClass: 'tether',
      logLevel: 'silent',
    });
    await running.proxy.serviceListenersSettled();
    let warned: string[] = [];
    for (let i = 0; i < 50 && warned.length === 0; i++) {
      warned = running.controller.diagnostics
        .filter((d) => d.reason === 'PortUnavailable')
        .map((d) => `${d.sources[0]?.name} ${d.sources[0]?.field}`);
      if (warned.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(warned).toEqual([`lobby spec.ports[port=${taken.port}]`]);
    const greeting = await new Promise<string>((resolve, reject) => {
      const s = connect(free.port, '127.0.0.1');
      s.on('data', (d: Buffer) => resolve(d.toString()));
      s.on('error', reject);
    });
    expect(greeting).toBe('arena\n');
  });

  it('terminates TLS on an OCI Service port with its tls-secret, and keeps the cookie', async () => {
    await running?.stop();
    running = undefined;
    // Below the ephemeral range: no other test's port 0 can take it before the proxy binds it.
    const free = { port: await freePortRun(1) };
    const pem = selfSignedCertificate('portal.example.com');
    running = await servePortal(free.port, pem);
    await running.proxy.serviceListenersSettled();
    expect(running.controller.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    const answer = await new Promise<{ status: number; cookie: string; peer: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: free.port,
            path: '/',
            ca: pem.cert,
            servername: 'portal.example.com',
          },
          (res) => {
            res.resume();
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                cookie: String(res.headers['set-cookie'] ?? ''),
                peer: String(res.headers['x-endpoint'] ?? ''),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(answer).toEqual({
      status: 200,
      cookie: expect.stringMatching(/^BILLING=[^;]+; Path=\/; Secure$/),
      peer: 'portal-1',
    });
  });

  it('ends TLS on an OCI TCP Service port and sends the backend the plain stream', async () => {
    await running?.stop();
    running = undefined;
    // Below the ephemeral range: no other test's port 0 can take it before the proxy binds it.
    const free = { port: await freePortRun(1) };
    const backend = await listening('plain greeting\n');
    closers.push(backend.close);
    const pem = selfSignedCertificate('portal.example.com');
    running = await servePortal(free.port, pem, { protocol: 'TCP', port: backend.port });
    await running.proxy.serviceListenersSettled();
    expect(running.controller.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
    const greeting = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port: free.port,
        ca: pem.cert,
        servername: 'portal.example.com',
      });
      socket.on('data', (d: Buffer) => resolve(d.toString()));
      socket.on('error', reject);
    });
    expect(greeting).toBe('plain greeting\n');
  });

  it('speaks TLS to the backends of the ssl-ports with a backendset secret, unverified as OCI', async () => {
    await running?.stop();
    running = undefined;
    // Below the ephemeral range: no other test's port 0 can take it before the proxy binds it.
    const free = { port: await freePortRun(1) };
    // A pod with a certificate nobody vouches for: OCI does not verify it, nor does Tether.
    const podPem = selfSignedCertificate('pod.internal');
    const pod = createHttpsServer({ cert: podPem.cert, key: podPem.key }, (req, res) => {
      res.setHeader('x-endpoint', 'portal-tls-pod');
      res.end(`over ${(req.socket as import('node:tls').TLSSocket).encrypted ? 'TLS' : 'plain'}\n`);
    });
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      pod.closeAllConnections();
      pod.close();
    });
    const pem = selfSignedCertificate('portal.example.com');
    running = await servePortal(free.port, pem, {
      protocol: 'HTTP',
      port: (pod.address() as AddressInfo).port,
      backendSetSecret: true,
    });
    await running.proxy.serviceListenersSettled();
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: free.port,
          path: '/',
          ca: pem.cert,
          servername: 'portal.example.com',
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(body).toBe('over TLS\n');
  });

  it('warns on the Service whose TLS port is taken', async () => {
    await running?.stop();
    running = undefined;
    const taken = await listening('someone else\n');
    closers.push(taken.close);
    running = await servePortal(taken.port, selfSignedCertificate('portal.example.com'));
    await running.proxy.serviceListenersSettled();
    let warned: string[] = [];
    for (let i = 0; i < 50 && warned.length === 0; i++) {
      warned = running.controller.diagnostics
        .filter((d) => d.reason === 'PortUnavailable')
        .map((d) => `${d.sources[0]?.name} ${d.sources[0]?.field}`);
      if (warned.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(warned).toEqual(['portal spec.ports[port=443]']);
  });
});
