/**
 * The certificates of Ingress `spec.tls` reach the HTTPS listener: a TLS Secret created,
 * renewed or deleted on the (stand-in) API server changes what the proxy presents by SNI.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { connect } from 'node:tls';
import { CONTROLLER_NAME, Controller, KubeSource } from '@tether/controller';
import { createLogger, createProxy, type Proxy } from '@tether/dataplane';
import {
  selfSignedCertificate,
  startApiServer,
  type JsonObject,
  type StandInApiServer,
} from '@tether/testkit';
import { COOKIE_KEY } from './proxy';
import { NS, eventually, ingress, ingressClass, service } from './support';

jest.setTimeout(30_000);

let server: StandInApiServer;
let proxy: Proxy;
let controller: Controller;
let httpsPort = 0;

function tlsSecret(name: string, pem: { cert: string; key: string }): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace: NS },
    data: {
      'tls.crt': Buffer.from(pem.cert).toString('base64'),
      'tls.key': Buffer.from(pem.key).toString('base64'),
    },
  };
}

/** The CN the HTTPS listener presents for `servername`. */
function presented(servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port: httpsPort, servername, rejectUnauthorized: false },
      () => {
        const cn = socket.getPeerCertificate().subject?.CN;
        socket.destroy();
        resolve(String(cn));
      },
    );
    socket.setTimeout(5000, () => socket.destroy(new Error('TLS handshake timed out')));
    socket.on('error', reject);
  });
}

beforeAll(async () => {
  server = await startApiServer();
  server.apply(ingressClass());
  proxy = createProxy({
    cookieKey: COOKIE_KEY,
    http: false,
    https: { host: '127.0.0.1', port: 0, ...selfSignedCertificate('default.test') },
    admin: false,
    logger: createLogger('silent'),
    defaultMetrics: false,
  });
  httpsPort = (await proxy.start()).https?.port ?? 0;
  controller = new Controller({
    source: new KubeSource({
      kubeconfig: server.writeKubeconfig(),
      backoff: { initialMs: 50, maxMs: 300 },
      discoveryIntervalMs: 200,
    }),
    sink: proxy,
    serving: { ingressClass: 'tether', controllerName: CONTROLLER_NAME, serveAll: false },
    listeners: [],
  });
  await controller.start();
});
afterAll(async () => {
  await controller.stop();
  await proxy.stop();
  await server.close();
});

describe('Ingress TLS Secrets drive the HTTPS listener', () => {
  it('serves, renews and drops the certificate of a Secret', async () => {
    const host = 'shop.example.com';
    server.apply(service('web'));
    const withTls = ingress('web', { host, service: 'web' });
    server.apply({
      ...withTls,
      spec: { ...(withTls.spec as JsonObject), tls: [{ hosts: [host], secretName: 'shop-tls' }] },
    });
    // The Ingress names a Secret that does not exist yet: the default certificate.
    await eventually(() => proxy.table?.listeners.length, 3000, 'first table');
    expect(await presented(host)).toBe('default.test');

    server.apply(tlsSecret('shop-tls', selfSignedCertificate('first.shop.example.com')));
    await eventually(
      async () => (await presented(host)) === 'first.shop.example.com',
      3000,
      'certificate served',
    );
    expect(await presented('other.example.com')).toBe('default.test');

    server.apply(tlsSecret('shop-tls', selfSignedCertificate('second.shop.example.com')));
    await eventually(
      async () => (await presented(host)) === 'second.shop.example.com',
      3000,
      'renewed certificate served',
    );

    server.deleteObject('v1', 'Secret', NS, 'shop-tls');
    await eventually(async () => (await presented(host)) === 'default.test', 3000, 'default again');
  });
});
