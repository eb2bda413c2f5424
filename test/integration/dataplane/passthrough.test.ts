/**
 * TLS passthrough on the proxy's HTTPS listener: a connection whose ClientHello names a
 * passthrough route is relayed as it came, so the client talks TLS with the pod and sees the
 * pod's certificate; any other name is terminated by the proxy as before.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'node:https';
import { createRouteTable, type RouteTable } from '@tether/dataplane';
import { startEchoes, type EchoServer } from '@tether/echo';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import { backend, backendSet, simpleTable, startProxy } from './support';

let front: PemPair;
let pod: PemPair;
let db: Server;
let dbPort = 0;
const dbSockets = new Set<import('node:tls').TLSSocket>();
let echoes: EchoServer[];
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  front = selfSignedCertificate('proxy.example.test');
  pod = selfSignedCertificate('db.example.test');
  db = createServer({ cert: pod.cert, key: pod.key }, (s) => {
    dbSockets.add(s);
    s.on('close', () => dbSockets.delete(s));
    s.end('db says hello\n');
  });
  await new Promise<void>((resolve) => db.listen(0, '127.0.0.1', resolve));
  dbPort = (db.address() as AddressInfo).port;
  echoes = await startEchoes(1);
});
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});
afterAll(async () => {
  for (const s of dbSockets) s.destroy();
  await new Promise<void>((resolve) => db.close(() => resolve()));
  await Promise.all(echoes.map((e) => e.close()));
});

function table(withPassthrough: boolean): RouteTable {
  const web = simpleTable(backendSet([backend(echoes)]));
  const https = { ...web.listeners[0]!, protocol: 'HTTPS' as const };
  return {
    ...web,
    listeners: [...web.listeners, https],
    ...(withPassthrough
      ? {
          passthrough: [
            {
              host: 'db.example.test',
              backendSet: {
                id: 'Route/shop/db#route',
                policy: { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
                loadBalancing: { algorithm: 'sourceIpHash' },
                route: {},
                backends: [
                  {
                    ref: { namespace: 'shop', service: 'db', port: 443 },
                    endpoints: [{ address: '127.0.0.1', port: dbPort, ready: true }],
                  },
                ],
              },
            },
          ],
        }
      : {}),
  };
}

async function proxyWith(t: RouteTable): Promise<number> {
  const p = await startProxy(createRouteTable(t), {
    https: { port: 0, host: '127.0.0.1', cert: front.cert, key: front.key },
  });
  stops.push(() => p.stop());
  return p.addresses.https!.port;
}

/** Over TLS to the proxy, naming `servername`: whose certificate answers, and what it says. */
function talk(port: number, servername: string): Promise<{ subject: string; said: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
    let said = '';
    s.on('secureConnect', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    s.on('data', (d: Buffer) => (said += d.toString()));
    s.on('end', () =>
      resolve({ subject: String(s.getPeerCertificate().subject.CN), said: said.split('\r\n')[0]! }),
    );
    s.on('error', reject);
  });
}

describe('TLS passthrough', () => {
  it('relays a connection that names a passthrough route to the pod, TLS and all', async () => {
    const port = await proxyWith(table(true));
    expect(await talk(port, 'db.example.test')).toEqual({
      subject: 'db.example.test',
      said: 'db says hello\n',
    });
  });

  it('terminates every other name as before, with the proxy certificate and its routes', async () => {
    const port = await proxyWith(table(true));
    const other = await talk(port, 'www.example.test');
    expect(other.subject).toBe('proxy.example.test');
    expect(other.said).toBe('HTTP/1.1 200 OK');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/', rejectUnauthorized: false },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
  });

  it('is not read without passthrough routes', async () => {
    const port = await proxyWith(table(false));
    expect((await talk(port, 'db.example.test')).subject).toBe('proxy.example.test');
  });

  it('refuses persistence that needs HTTP on a passthrough route, and a host listed twice', () => {
    const t = table(true);
    const route = t.passthrough![0]!;
    const cookie = {
      ...route,
      backendSet: {
        ...route.backendSet,
        id: 'other',
        policy: { ...route.backendSet.policy, mode: 'cookie' as const },
      },
    };
    expect(() => createRouteTable({ ...t, passthrough: [route, cookie] })).toThrow(
      /listed twice.*cookie persistence needs HTTP/s,
    );
  });
});
