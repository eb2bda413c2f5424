/**
 * Certificates by SNI: the HTTPS listener serves each table certificate for the names it
 * lists (exact, or a wildcard of one label), and its own certificate for every other name
 * and for clients that send none; swaps change the certificates in force.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connect, type ConnectionOptions } from 'node:tls';
import { selfSignedCertificate } from '@tether/testkit';
import { startEchoes, type EchoServer } from '@tether/echo';
import { createRouteTable, type Proxy, type TlsCertificate } from '@tether/dataplane';
import { backend, backendSet, call, simpleTable, startProxy } from './support';

let echoes: EchoServer[];
let proxy: Proxy & { port: number };
let httpsPort = 0;

/** The CN of the certificate the listener presents for `servername` (none: no SNI). */
function presented(servername: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const options: ConnectionOptions = {
      host: '127.0.0.1',
      port: httpsPort,
      rejectUnauthorized: false,
      ...(servername === undefined ? {} : { servername }),
    };
    const socket = connect(options, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      resolve(Array.isArray(cn) ? cn.join(',') : String(cn));
    });
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

let shop: TlsCertificate;
let wild: TlsCertificate;
let table: ReturnType<typeof simpleTable>;

beforeAll(async () => {
  const fallback = selfSignedCertificate('default.test');
  shop = { hosts: ['shop.example.com'], ...selfSignedCertificate('shop.example.com') };
  wild = {
    hosts: ['*.apps.example.com', 'apps.example.com'],
    ...selfSignedCertificate('apps.example.com'),
  };
  echoes = await startEchoes(1);
  table = simpleTable(backendSet([backend(echoes)]));
  proxy = await startProxy(table, { https: { port: 0, ...fallback } });
  httpsPort = proxy.addresses.https?.port ?? 0;
});
afterAll(async () => {
  await proxy.stop();
  await Promise.all(echoes.map((e) => e.close()));
});

function withCertificates(version: string, certificates: TlsCertificate[]) {
  return createRouteTable({ version, listeners: table.listeners, certificates });
}

describe('certificates by SNI', () => {
  it('serves the default certificate while the table has none', async () => {
    expect(await presented('shop.example.com')).toBe('default.test');
    expect(await presented(undefined)).toBe('default.test');
  });

  it('serves each name its certificate, and every other name the default', async () => {
    const broken = { hosts: ['broken.example.com'], cert: 'not a PEM', key: 'nor this' };
    proxy.swap(withCertificates('2', [shop, broken, wild]));
    const cases: [string | undefined, string][] = [
      ['shop.example.com', 'shop.example.com'],
      ['SHOP.Example.com', 'shop.example.com'],
      ['a.apps.example.com', 'apps.example.com'],
      ['apps.example.com', 'apps.example.com'],
      // A wildcard covers one label only.
      ['a.b.apps.example.com', 'default.test'],
      ['other.example.com', 'default.test'],
      // A certificate that cannot be loaded is skipped: its name gets the default.
      ['broken.example.com', 'default.test'],
      [undefined, 'default.test'],
    ];
    for (const [name, cn] of cases) expect([name, await presented(name)]).toEqual([name, cn]);
  });

  it('answers requests over a certificate picked by SNI', async () => {
    const reply = await call(httpsPort, '/', {
      https: true,
      headers: { host: 'shop.example.com' },
    });
    expect(reply.status).toBe(200);
  });

  it('stops serving a certificate a later table leaves out', async () => {
    proxy.swap(withCertificates('3', [wild]));
    expect(await presented('shop.example.com')).toBe('default.test');
    expect(await presented('x.apps.example.com')).toBe('apps.example.com');
    proxy.swap(withCertificates('4', []));
    expect(await presented('x.apps.example.com')).toBe('default.test');
  });
});
