/**
 * TLS to the endpoints through a local `tether serve`: an OpenShift reencrypt Route answers
 * 200 with the router's cookie attributes, verified against its destinationCACertificate, and
 * an ingress-nginx Ingress with backend-protocol HTTPS verifies against its proxy-ssl-secret.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import type { Running } from '../../../packages/cli/src/serve';
import { serveManifests } from '../../support/serve';

const closers: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

async function httpsBackend(name: string, pem: PemPair): Promise<number> {
  const server: Server = createServer({ cert: pem.cert, key: pem.key }, (_req, res) => {
    res.setHeader('x-endpoint', name);
    res.end('ok\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as AddressInfo).port;
}

/** A CA bundle file, as the router's default destination CA is mounted. */
function caFile(pem: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tether-service-ca-')), 'service-ca.crt');
  writeFileSync(file, pem);
  return file;
}

const indent = (text: string, by: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => by + l)
    .join('\n');

function endpointSlice(namespace: string, service: string, port: number): string {
  return [
    'apiVersion: discovery.k8s.io/v1',
    'kind: EndpointSlice',
    `metadata: { name: ${service}-1, namespace: ${namespace}, labels: { kubernetes.io/service-name: ${service} } }`,
    'addressType: IPv4',
    `ports: [{ name: https, port: ${port} }]`,
    'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
  ].join('\n');
}

async function serve(
  manifests: string,
  front: PemPair,
  extra: Parameters<typeof serveManifests>[2] = {},
): Promise<Running> {
  const running = await serveManifests(manifests, front, extra);
  closers.push(() => running.stop());
  return running;
}

function get(
  port: number,
  host: string,
  ca: string,
): Promise<{ status: number; cookie: string; endpoint: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      // The front certificate names one host; what is checked here is the leg to the pod.
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: host,
        headers: { host },
        ca,
        checkServerIdentity: () => undefined,
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            cookie: String(res.headers['set-cookie'] ?? ''),
            endpoint: String(res.headers['x-endpoint'] ?? ''),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('TLS to the endpoints through serve', () => {
  it('serves a reencrypt Route over TLS to its pod, verified against its destination CA', async () => {
    const pod = selfSignedCertificate('api.shop.svc');
    const front = selfSignedCertificate('api.example');
    const port = await httpsBackend('api-1', pod);
    const route = (name: string, ca: string) =>
      [
        'apiVersion: route.openshift.io/v1',
        'kind: Route',
        `metadata: { name: ${name}, namespace: shop }`,
        'spec:',
        `  host: ${name}.example`,
        '  to: { kind: Service, name: api }',
        '  tls:',
        '    termination: reencrypt',
        '    destinationCACertificate: |',
        indent(ca, '      '),
      ].join('\n');
    const running = await serve(
      [
        route('api', pod.cert),
        '---',
        route('wrong', selfSignedCertificate('api.shop.svc').cert),
        '---',
        // No destinationCACertificate: the service CA bundle given to serve, as api.shop.svc.
        'apiVersion: route.openshift.io/v1',
        'kind: Route',
        'metadata: { name: svcca, namespace: shop }',
        'spec: { host: svcca.example, to: { kind: Service, name: api }, tls: { termination: reencrypt } }',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: api, namespace: shop }',
        'spec: { ports: [{ name: https, port: 443 }] }',
        '---',
        endpointSlice('shop', 'api', port),
      ].join('\n'),
      front,
      { backendCaFile: caFile(pod.cert) },
    );
    const tlsPort = running.addresses.https!.port;
    expect((await get(tlsPort, 'svcca.example', front.cert)).status).toBe(200);
    const ok = await get(tlsPort, 'api.example', front.cert);
    expect(ok.status).toBe(200);
    expect(ok.endpoint).toBe('api-1');
    // The router's cookie on a reencrypt route: HttpOnly, Secure and SameSite=None.
    expect(ok.cookie).toMatch(/^[0-9a-f]{32}=[^;]+; Path=\/; Secure; HttpOnly; SameSite=None$/);
    // The same pod behind a Route that trusts another CA: the certificate fails its check.
    expect((await get(tlsPort, 'wrong.example', front.cert)).status).toBe(502);
  });

  it("verifies an ingress-nginx HTTPS backend against the proxy-ssl-secret's ca.crt", async () => {
    const pod = selfSignedCertificate('dash.ops.svc');
    const front = selfSignedCertificate('dash.example');
    const port = await httpsBackend('dash-1', pod);
    const ingress = (name: string, secret: string) =>
      [
        'apiVersion: networking.k8s.io/v1',
        'kind: Ingress',
        'metadata:',
        `  name: ${name}`,
        '  namespace: ops',
        '  annotations:',
        '    nginx.ingress.kubernetes.io/backend-protocol: HTTPS',
        `    nginx.ingress.kubernetes.io/proxy-ssl-secret: ${secret}`,
        '    nginx.ingress.kubernetes.io/proxy-ssl-verify: "on"',
        '    nginx.ingress.kubernetes.io/proxy-ssl-name: dash.ops.svc',
        'spec:',
        '  ingressClassName: tether',
        '  rules:',
        `    - host: ${name}.example`,
        '      http:',
        '        paths:',
        '          - { path: /, pathType: Prefix, backend: { service: { name: dash, port: { number: 443 } } } }',
      ].join('\n');
    const running = await serve(
      [
        ingress('dash', 'ops/dash-ca'),
        '---',
        ingress('other', 'ops/missing-ca'),
        '---',
        'apiVersion: v1',
        'kind: Secret',
        'metadata: { name: dash-ca, namespace: ops }',
        `data: { ca.crt: ${Buffer.from(pod.cert).toString('base64')} }`,
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: dash, namespace: ops }',
        'spec: { ports: [{ name: https, port: 443 }] }',
        '---',
        endpointSlice('ops', 'dash', port),
      ].join('\n'),
      front,
    );
    const plain = running.addresses.http!.port;
    const viaHttp = await new Promise<number>((resolve, reject) => {
      const req = httpGet(
        { host: '127.0.0.1', port: plain, path: '/', headers: { host: 'dash.example' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
    });
    expect(viaHttp).toBe(200);
    expect(
      running.controller.diagnostics
        .filter((d) => d.reason === 'TlsSecretNotFound')
        .map((d) => d.message),
    ).toEqual([
      'Ingress ops/other verifies its endpoints against Secret ops/missing-ca, which does not exist; its requests get 502',
    ]);
  });

  it('speaks TLS to a Service a BackendTLSPolicy names, verified under its hostname against a ConfigMap CA', async () => {
    const pod = selfSignedCertificate('api.shop.svc');
    const other = selfSignedCertificate('api.shop.svc');
    const front = selfSignedCertificate('gw.example');
    const names: string[] = [];
    const server: Server = createServer({ cert: pod.cert, key: pod.key }, (req, res) => {
      const sni = (req.socket as import('node:tls').TLSSocket).servername;
      names.push(typeof sni === 'string' ? sni : '');
      res.setHeader('x-endpoint', 'api-1');
      res.end('ok\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      server.closeAllConnections();
      server.close();
    });
    const port = (server.address() as AddressInfo).port;
    const service = (name: string) =>
      [
        'apiVersion: v1',
        'kind: Service',
        `metadata: { name: ${name}, namespace: shop }`,
        'spec: { ports: [{ name: https, port: 443 }] }',
        '---',
        endpointSlice('shop', name, port),
      ].join('\n');
    const policy = (name: string, configMap: string) =>
      [
        'apiVersion: gateway.networking.k8s.io/v1',
        'kind: BackendTLSPolicy',
        `metadata: { name: ${name}, namespace: shop }`,
        'spec:',
        `  targetRefs: [{ group: "", kind: Service, name: ${name} }]`,
        '  validation:',
        '    hostname: api.shop.svc',
        `    caCertificateRefs: [{ group: "", kind: ConfigMap, name: ${configMap} }]`,
      ].join('\n');
    const configMap = (name: string, pem: string) =>
      [
        'apiVersion: v1',
        'kind: ConfigMap',
        `metadata: { name: ${name}, namespace: shop }`,
        'data:',
        '  ca.crt: |',
        indent(pem, '    '),
      ].join('\n');
    const rule = (prefix: string, backend: string) =>
      `    - { matches: [{ path: { type: PathPrefix, value: ${prefix} } }], backendRefs: [{ name: ${backend}, port: 443 }] }`;
    const running = await serve(
      [
        'apiVersion: gateway.networking.k8s.io/v1',
        'kind: HTTPRoute',
        'metadata: { name: shop, namespace: shop }',
        'spec:',
        '  hostnames: [gw.example]',
        '  rules:',
        rule('/good', 'good'),
        rule('/wrong', 'wrong'),
        rule('/missing', 'missing'),
        ...['good', 'wrong', 'missing'].flatMap((n) => ['---', service(n)]),
        '---',
        policy('good', 'good-ca'),
        '---',
        policy('wrong', 'wrong-ca'),
        '---',
        policy('missing', 'no-such-ca'),
        '---',
        configMap('good-ca', pod.cert),
        '---',
        configMap('wrong-ca', other.cert),
      ].join('\n'),
      front,
    );
    const tlsPort = running.addresses.https!.port;
    const at = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: tlsPort,
            path,
            servername: 'gw.example',
            headers: { host: 'gw.example' },
            ca: front.cert,
            checkServerIdentity: () => undefined,
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await at('/good')).toBe(200);
    // The policy's hostname goes as SNI (GEP-1897).
    expect(names).toEqual(['api.shop.svc']);
    expect(await at('/wrong')).toBe(502);
    expect(await at('/missing')).toBe(502);
    expect(
      running.controller.diagnostics
        .filter((d) => d.reason === 'TlsSecretNotFound')
        .map((d) => d.message),
    ).toEqual([
      'HTTPRoute shop/shop verifies its endpoints against ConfigMap shop/no-such-ca, which does not exist; its requests get 502',
    ]);
  });
});
