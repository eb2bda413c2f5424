/**
 * Certificates by SNI: the HTTPS listener serves each table certificate for the names it
 * lists (exact, or a wildcard of one label), and its own certificate for every other name
 * and for clients that send none; swaps change the certificates in force.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConnectionOptions } from 'node:tls';
import { startEchoes, type EchoServer } from '@tether/testkit';
import { createRouteTable, type Proxy, type TlsCertificate } from '@tether/dataplane';
import { backend, backendSet, call, simpleTable, startProxy } from './support';

let dir = '';
let echoes: EchoServer[];
let proxy: Proxy & { port: number };
let httpsPort = 0;

/** A throwaway self-signed certificate for `cn`, made with openssl. */
function selfSigned(cn: string): { cert: string; key: string } {
  const file = cn.replace(/[^a-z0-9]/gi, '_');
  const cert = join(dir, `${file}.crt`);
  const key = join(dir, `${file}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

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
  dir = mkdtempSync(join(tmpdir(), 'tether-sni-'));
  const fallback = selfSigned('default.test');
  shop = { hosts: ['shop.example.com'], ...selfSigned('shop.example.com') };
  wild = { hosts: ['*.apps.example.com', 'apps.example.com'], ...selfSigned('apps.example.com') };
  echoes = await startEchoes(1);
  table = simpleTable(backendSet([backend(echoes)]));
  proxy = await startProxy(table, { https: { port: 0, ...fallback } });
  httpsPort = proxy.addresses.https?.port ?? 0;
});
afterAll(async () => {
  await proxy.stop();
  await Promise.all(echoes.map((e) => e.close()));
  rmSync(dir, { recursive: true, force: true });
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
