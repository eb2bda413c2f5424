/**
 * gRPC through a local `tether serve --h2c`: an ingress-nginx Ingress with `backend-protocol:
 * GRPC` and cookie affinity, in front of three real gRPC servers, keeps a client's calls on the
 * pod its cookie names, over h2c and over TLS; a GRPCRoute passes GEP-1619's GRPCRoute session
 * persistence checks (cookie and header, 50 calls on one pod).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentials, Metadata } from '@grpc/grpc-js';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import type { Running } from '../../../packages/cli/src/serve';
import { freePortRun } from '../../support/ports';
import { serveManifests } from '../../support/serve';
import {
  EchoClientCtor,
  grpcBackend,
  stickyCookie,
  who,
  type EchoClient,
  type GrpcBackend,
} from '../../support/grpc';

const closers: (() => void | Promise<void>)[] = [];
let backends: GrpcBackend[];
let front: PemPair;
let running: Running;

beforeAll(async () => {
  front = selfSignedCertificate('rpc.example.test');
  backends = await Promise.all(['rpc-1', 'rpc-2', 'rpc-3'].map((n) => grpcBackend(n)));
  closers.push(() => backends.forEach((b) => b.server.forceShutdown()));
  // One EndpointSlice per pod: each listens on its own port.
  const slices = backends.map((b, i) =>
    [
      'apiVersion: discovery.k8s.io/v1',
      'kind: EndpointSlice',
      `metadata: { name: rpc-${i}, namespace: shop, labels: { kubernetes.io/service-name: rpc } }`,
      'addressType: IPv4',
      `ports: [{ name: grpc, port: ${b.port} }]`,
      `endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]`,
    ].join('\n'),
  );
  running = await serveManifests(
    [
      'apiVersion: networking.k8s.io/v1',
      'kind: Ingress',
      'metadata:',
      '  name: rpc',
      '  namespace: shop',
      '  annotations:',
      '    nginx.ingress.kubernetes.io/backend-protocol: GRPC',
      '    nginx.ingress.kubernetes.io/affinity: cookie',
      '    nginx.ingress.kubernetes.io/session-cookie-name: RPCSESSION',
      'spec:',
      '  ingressClassName: tether',
      '  rules:',
      '    - host: rpc.example.test',
      '      http:',
      '        paths:',
      '          - { path: /, pathType: Prefix, backend: { service: { name: rpc, port: { name: grpc } } } }',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: { name: rpc, namespace: shop }',
      'spec: { ports: [{ name: grpc, port: 50051 }] }',
      ...slices.flatMap((s) => ['---', s]),
    ].join('\n'),
    front,
    { h2c: true },
  );
  closers.push(() => running.stop());
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function client(tls: boolean, at: Running = running, authority = 'rpc.example.test'): EchoClient {
  const port = tls ? at.addresses.https!.port : at.addresses.http!.port;
  const options = {
    // The Ingress routes by host: the calls name it as their authority.
    'grpc.default_authority': authority,
    ...(tls ? { 'grpc.ssl_target_name_override': 'rpc.example.test' } : {}),
  };
  const c = new EchoClientCtor(
    `127.0.0.1:${port}`,
    tls ? credentials.createSsl(Buffer.from(front.cert)) : credentials.createInsecure(),
    options,
  ) as unknown as EchoClient;
  closers.push(() => c.close());
  return c;
}

describe('an ingress-nginx GRPC Ingress through serve', () => {
  it.each([
    ['h2c', false],
    ['TLS', true],
  ])('keeps calls with the cookie on one pod (%s)', async (_name, tls) => {
    const c = client(tls);
    const first = await who(c);
    const cookie = stickyCookie(first.head, 'RPCSESSION');
    for (let i = 0; i < 10; i++)
      expect((await who(c, { cookie })).answer.endpoint).toBe(first.answer.endpoint);
    const spread = new Set<string>();
    for (let i = 0; i < 12; i++) spread.add((await who(c)).answer.endpoint);
    expect(spread.size).toBeGreaterThan(1);
  });
});

describe('a GRPCRoute through serve (GEP-1619 test plan, GRPCRoute features)', () => {
  let gateway: Running;
  beforeAll(async () => {
    const slices = backends.map((b, i) =>
      [
        'apiVersion: discovery.k8s.io/v1',
        'kind: EndpointSlice',
        `metadata: { name: echo-${i}, namespace: shop, labels: { kubernetes.io/service-name: echo } }`,
        'addressType: IPv4',
        `ports: [{ name: grpc, port: ${b.port} }]`,
        'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
      ].join('\n'),
    );
    gateway = await serveManifests(
      [
        'apiVersion: gateway.networking.k8s.io/v1',
        'kind: GRPCRoute',
        'metadata: { name: echo, namespace: shop }',
        'spec:',
        '  hostnames: [grpc.example.test]',
        '  rules:',
        '    - matches: [{ method: { service: tether.test.Echo, method: Who } }]',
        '      backendRefs: [{ name: echo, port: 50051 }]',
        '      sessionPersistence: { sessionName: ECHO, type: Cookie }',
        '    - matches: [{ method: { service: tether.test.Echo, method: Count } }]',
        '      backendRefs: [{ name: echo, port: 50051 }]',
        '      sessionPersistence: { sessionName: x-echo-session, type: Header }',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: echo, namespace: shop }',
        'spec: { ports: [{ name: grpc, port: 50051 }] }',
        ...slices.flatMap((s) => ['---', s]),
      ].join('\n'),
      front,
      { h2c: true },
    );
    closers.push(() => gateway.stop());
  });

  it('sets a session cookie on the first call, and keeps 50 calls with it on one pod', async () => {
    const c = client(false, gateway, 'grpc.example.test');
    const first = await who(c);
    const set = first.head.get('set-cookie').map(String);
    expect(set[0]).toMatch(/^ECHO=/);
    // A Session lifetime cookie: no Expires, no Max-Age.
    expect(set[0]).not.toMatch(/expires|max-age/i);
    const cookie = stickyCookie(first.head, 'ECHO');
    for (let i = 0; i < 50; i++)
      expect((await who(c, { cookie })).answer.endpoint).toBe(first.answer.endpoint);
  });

  it('keeps 50 streaming calls on one pod by the session header', async () => {
    const c = client(false, gateway, 'grpc.example.test');
    const endpointsOf = (metadata: Metadata) =>
      new Promise<{ endpoints: Set<string>; head: Metadata }>((resolve, reject) => {
        const endpoints = new Set<string>();
        let head = new Metadata();
        const stream = c.count({ count: 2 }, metadata);
        stream.on('metadata', (m: Metadata) => (head = m));
        stream.on('data', (a: { endpoint: string }) => endpoints.add(a.endpoint));
        stream.on('end', () => resolve({ endpoints, head }));
        stream.on('error', reject);
      });
    const first = await endpointsOf(new Metadata());
    const session = String(first.head.get('x-echo-session')[0] ?? '');
    expect(session).not.toBe('');
    const pinned = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const m = new Metadata();
      m.set('x-echo-session', session);
      for (const e of (await endpointsOf(m)).endpoints) pinned.add(e);
    }
    expect([...pinned]).toEqual([...first.endpoints]);
  });
});

describe('an OCI LoadBalancer Service with backend protocol GRPC through serve', () => {
  let lb: Running;
  let offset = 0;
  beforeAll(async () => {
    // The Service's ports 443 (TLS) and 444 (clear text) move by an offset to free ports.
    offset = (await freePortRun(2)) - 443;
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const slices = backends.map((b, i) =>
      [
        'apiVersion: discovery.k8s.io/v1',
        'kind: EndpointSlice',
        `metadata: { name: lb-${i}, namespace: shop, labels: { kubernetes.io/service-name: rpc-lb } }`,
        'addressType: IPv4',
        `ports: [{ name: tls, port: ${b.port} }, { name: plain, port: ${b.port} }]`,
        'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
      ].join('\n'),
    );
    lb = await serveManifests(
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata:',
        '  name: rpc-lb',
        '  namespace: shop',
        '  annotations:',
        '    service.beta.kubernetes.io/oci-load-balancer-backend-protocol: GRPC',
        '    service.beta.kubernetes.io/oci-load-balancer-ssl-ports: "443"',
        '    service.beta.kubernetes.io/oci-load-balancer-tls-secret: rpc-tls',
        `    oci-load-balancer.oraclecloud.com/lb-cookie-session-persistence-config: '{"cookieName": "RPCLB"}'`,
        'spec:',
        '  type: LoadBalancer',
        '  ports: [{ name: tls, port: 443 }, { name: plain, port: 444 }]',
        '---',
        'apiVersion: v1',
        'kind: Secret',
        'type: kubernetes.io/tls',
        'metadata: { name: rpc-tls, namespace: shop }',
        `data: { tls.crt: ${b64(front.cert)}, tls.key: ${b64(front.key)} }`,
        ...slices.flatMap((s) => ['---', s]),
      ].join('\n'),
      undefined,
      { servicePortOffset: offset },
    );
    closers.push(() => lb.stop());
    await lb.proxy.serviceListenersSettled();
  });

  it.each([
    ['TLS with ALPN h2 on the ssl port', 443, true],
    ['h2c on the plain port', 444, false],
  ])(
    'takes gRPC on its ports and keeps calls with the cookie on one pod (%s)',
    async (_n, port, tls) => {
      const target = `127.0.0.1:${port + offset}`;
      const c = new EchoClientCtor(
        target,
        tls ? credentials.createSsl(Buffer.from(front.cert)) : credentials.createInsecure(),
        tls ? { 'grpc.ssl_target_name_override': 'rpc.example.test' } : {},
      ) as unknown as EchoClient;
      closers.push(() => c.close());
      const first = await who(c);
      const cookie = stickyCookie(first.head, 'RPCLB');
      for (let i = 0; i < 10; i++)
        expect((await who(c, { cookie })).answer.endpoint).toBe(first.answer.endpoint);
    },
  );
});
