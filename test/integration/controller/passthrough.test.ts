/**
 * An OpenShift passthrough Route through a local `tether serve`: `openssl s_client
 * -servername` reaches the pod's own TLS server through the proxy's HTTPS port (it sees the
 * pod's certificate), and balance source keeps a client address on one pod.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import { serveManifests } from '../../support/serve';

const closers: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

async function tlsPod(name: string, pem: PemPair): Promise<number> {
  const sockets = new Set<TLSSocket>();
  const server = createServer({ cert: pem.cert, key: pem.key }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.end(`${name}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

function sClient(port: number, servername: string): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile(
      'openssl',
      ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername],
      { timeout: 10_000 },
      (_err, stdout) => resolve(stdout),
    );
    child.stdin?.end();
  });
}

function greeting(port: number, servername: string, from: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const tcp = netConnect({ port, host: '127.0.0.1', localAddress: from });
    const s = connect({ socket: tcp, servername, rejectUnauthorized: false });
    let said = '';
    s.on('data', (d: Buffer) => (said += d.toString()));
    s.on('end', () => resolve(said.trim()));
    s.on('error', reject);
  });
}

describe('OpenShift passthrough Routes through serve', () => {
  it('reaches the pod over its own TLS, and keeps a client address on one pod', async () => {
    const pod = selfSignedCertificate('db.example.test');
    const front = selfSignedCertificate('router.example.test');
    const ports = [await tlsPod('db-1', pod), await tlsPod('db-2', pod)];
    const running = await serveManifests(
      [
        'apiVersion: route.openshift.io/v1',
        'kind: Route',
        'metadata: { name: db, namespace: shop }',
        'spec:',
        '  host: db.example.test',
        '  to: { kind: Service, name: db }',
        '  tls: { termination: passthrough }',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: db, namespace: shop }',
        'spec: { ports: [{ name: tls, port: 443 }] }',
        ...ports.flatMap((port, i) => [
          '---',
          'apiVersion: discovery.k8s.io/v1',
          'kind: EndpointSlice',
          `metadata: { name: db-${i}, namespace: shop, labels: { kubernetes.io/service-name: db } }`,
          'addressType: IPv4',
          `ports: [{ name: tls, port: ${port} }]`,
          `endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]`,
        ]),
      ].join('\n'),
      front,
    );
    closers.push(() => running.stop());
    const port = running.addresses.https!.port;
    const out = await sClient(port, 'db.example.test');
    expect(out).toMatch(/subject=\s*CN\s*=\s*db\.example\.test/);
    // balance source, the router's default for passthrough: one pod per client address.
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      const seen = new Set<string>();
      for (let i = 0; i < 3; i++) seen.add(await greeting(port, 'db.example.test', from));
      expect(seen.size).toBe(1);
    }
    // Another name is the proxy's own.
    expect(await sClient(port, 'other.example.test')).toMatch(
      /subject=\s*CN\s*=\s*router\.example\.test/,
    );
  });
});

describe('Gateway API TLSRoutes through serve', () => {
  it('relays a TLSRoute hostname to its pods as it came, by SNI on the HTTPS port', async () => {
    const pod = selfSignedCertificate('mq.example.test');
    const front = selfSignedCertificate('gateway.example.test');
    const port = await tlsPod('mq-1', pod);
    const running = await serveManifests(
      [
        'apiVersion: gateway.networking.k8s.io/v1',
        'kind: TLSRoute',
        'metadata: { name: mq, namespace: shop }',
        'spec:',
        '  hostnames: [mq.example.test]',
        '  rules: [{ backendRefs: [{ name: mq, port: 443 }] }]',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: mq, namespace: shop }',
        'spec: { ports: [{ name: tls, port: 443 }] }',
        '---',
        'apiVersion: discovery.k8s.io/v1',
        'kind: EndpointSlice',
        'metadata: { name: mq-0, namespace: shop, labels: { kubernetes.io/service-name: mq } }',
        'addressType: IPv4',
        `ports: [{ name: tls, port: ${port} }]`,
        'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
      ].join('\n'),
      front,
    );
    closers.push(() => running.stop());
    const https = running.addresses.https!.port;
    // The pod's own certificate: the proxy did not end TLS.
    expect(await sClient(https, 'mq.example.test')).toMatch(
      /subject=\s*CN\s*=\s*mq\.example\.test/,
    );
    expect(await greeting(https, 'mq.example.test', '127.0.0.2')).toBe('mq-1');
    expect(await sClient(https, 'other.example.test')).toMatch(
      /subject=\s*CN\s*=\s*gateway\.example\.test/,
    );
  });
});
