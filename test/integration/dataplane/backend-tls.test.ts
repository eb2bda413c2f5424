/**
 * TLS to the endpoints (OpenShift reencrypt, ingress-nginx backend-protocol HTTPS): HTTPS
 * backends with their own certificates, made in the test; the proxy verifies them as the
 * set says, sends SNI only when told, and answers 502 when a certificate fails its check.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createRouteTable, type RouteTable } from '@tether/dataplane';
import type { BackendTls } from '@tether/model';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import { backendSet, call, cookiePair, cookiePolicy, simpleTable, startProxy } from './support';

interface TlsBackend {
  name: string;
  port: number;
  /** The SNI of each request's connection ('' for none). */
  serverNames: string[];
  server: Server;
}

let pem: PemPair;
let other: PemPair;
let backends: TlsBackend[];
const stops: (() => Promise<void>)[] = [];

async function tlsBackend(name: string, pair: PemPair): Promise<TlsBackend> {
  const b: TlsBackend = { name, port: 0, serverNames: [], server: undefined as never };
  b.server = createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
    const sni = (req.socket as TLSSocket).servername;
    b.serverNames.push(typeof sni === 'string' ? sni : '');
    res.setHeader('x-endpoint', name);
    res.end(`${name} over ${(req.socket as TLSSocket).encrypted ? 'TLS' : 'plain'}\n`);
  });
  await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', resolve));
  b.port = (b.server.address() as AddressInfo).port;
  return b;
}

beforeAll(async () => {
  pem = selfSignedCertificate('api.shop.svc');
  other = selfSignedCertificate('api.shop.svc');
  backends = await Promise.all([tlsBackend('api-1', pem), tlsBackend('api-2', pem)]);
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  for (const b of backends) b.serverNames.length = 0;
});
afterAll(async () => {
  for (const b of backends) {
    b.server.closeAllConnections();
    await new Promise<void>((resolve) => b.server.close(() => resolve()));
  }
});

function tableWith(tls: BackendTls | undefined, extra: Partial<RouteTable> = {}): RouteTable {
  const set = backendSet(
    [
      {
        ref: { namespace: 'shop', service: 'api', port: 443 },
        endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port, ready: true })),
      },
    ],
    {
      policy: cookiePolicy(),
      route: { backendProtocol: 'HTTPS', ...(tls ? { backendTls: tls } : {}) },
    },
  );
  return { ...simpleTable(set), ...extra };
}

async function proxyFor(table: RouteTable, serviceCa?: string) {
  const p = await startProxy(createRouteTable(table), serviceCa ? { serviceCa } : {});
  stops.push(() => p.stop());
  return p;
}

describe('TLS to the endpoints', () => {
  it('speaks TLS to the endpoints, with the cookie, without verifying when the set says so', async () => {
    const p = await proxyFor(tableWith(undefined));
    const first = await call(p.port);
    expect(first.status).toBe(200);
    expect(first.body).toMatch(/^api-\d over TLS\n$/);
    const pair = cookiePair(first);
    for (let i = 0; i < 4; i++)
      expect((await call(p.port, '/', { headers: { cookie: pair! } })).endpoint).toBe(
        first.endpoint,
      );
  });

  it('verifies against the route CA under its server name, and sends no SNI unless told', async () => {
    const p = await proxyFor(
      tableWith({ verify: true, caCertificate: pem.cert, serverName: 'api.shop.svc' }),
    );
    expect((await call(p.port)).status).toBe(200);
    expect(backends.flatMap((b) => b.serverNames)).toEqual(['']);
  });

  it('sends the server name as SNI when the set says so', async () => {
    const p = await proxyFor(
      tableWith({ verify: true, caCertificate: pem.cert, serverName: 'api.shop.svc', sni: true }),
    );
    expect((await call(p.port)).status).toBe(200);
    expect(backends.flatMap((b) => b.serverNames)).toEqual(['api.shop.svc']);
  });

  it('answers 502 when the certificate is not signed by the CA or not for the name', async () => {
    const wrongCa = await proxyFor(
      tableWith({ verify: true, caCertificate: other.cert, serverName: 'api.shop.svc' }),
    );
    expect((await call(wrongCa.port)).status).toBe(502);
    const wrongName = await proxyFor(
      tableWith({ verify: true, caCertificate: pem.cert, serverName: 'upstream_balancer' }),
    );
    expect((await call(wrongName.port)).status).toBe(502);
  });

  it('verifies against the ca.crt of a Secret the table carries, and fails without it', async () => {
    const tls: BackendTls = { verify: true, caSecret: 'shop/api-ca', serverName: 'api.shop.svc' };
    const withCa = await proxyFor(
      tableWith(tls, { backendCas: [{ secret: 'shop/api-ca', pem: pem.cert }] }),
    );
    expect((await call(withCa.port)).status).toBe(200);
    const without = await proxyFor(tableWith(tls));
    expect((await call(without.port)).status).toBe(502);
  });

  it('verifies against the service CA bundle where the set asks for it and the proxy has one', async () => {
    const tls: BackendTls = { verify: false, serviceCa: true, serverName: 'api.shop.svc' };
    expect((await call((await proxyFor(tableWith(tls), pem.cert)).port)).status).toBe(200);
    expect((await call((await proxyFor(tableWith(tls), other.cert)).port)).status).toBe(502);
    // Without a bundle, as the router without a default destination CA: not verified.
    expect((await call((await proxyFor(tableWith(tls))).port)).status).toBe(200);
  });
});
