/**
 * ingress-nginx serves every host on its HTTPS port, with the default certificate where the
 * Ingress has no TLS for it (template.go buildHTTPSListener has no condition on a certificate);
 * an OpenShift Route without TLS is served over plain HTTP only.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { startEcho } from '@tether/echo';
import { selfSignedCertificate } from '@tether/testkit';
import { httpsGet } from '../../support/https-get';
import { serveManifests } from '../../support/serve';

const closers: (() => void | Promise<void>)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** A GET over HTTPS by SNI: the status, the certificate's CN and the Set-Cookie. */
async function get(
  port: number,
  host: string,
): Promise<{ status: number; subject: string; cookie: string }> {
  const { status, subject, headers } = await httpsGet(port, host);
  return { status, subject, cookie: String(headers['set-cookie'] ?? '') };
}

describe('HTTPS for hosts without TLS in their object', () => {
  it('serves an ingress-nginx host over HTTPS with the default certificate, and not a plain Route', async () => {
    const echo = await startEcho({ name: 'web-1' });
    closers.push(() => echo.close());
    const front = selfSignedCertificate('default.tether');
    const running = await serveManifests(
      [
        'apiVersion: networking.k8s.io/v1',
        'kind: Ingress',
        'metadata:',
        '  name: shop',
        '  namespace: shop',
        '  annotations: { nginx.ingress.kubernetes.io/affinity: cookie }',
        'spec:',
        '  ingressClassName: tether',
        '  rules:',
        '    - host: plain.example.test',
        '      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }',
        '---',
        'apiVersion: route.openshift.io/v1',
        'kind: Route',
        'metadata: { name: docs, namespace: shop }',
        'spec: { host: docs.example.test, to: { kind: Service, name: web } }',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: web, namespace: shop }',
        'spec: { ports: [{ name: http, port: 80 }] }',
        '---',
        'apiVersion: discovery.k8s.io/v1',
        'kind: EndpointSlice',
        'metadata: { name: web-1, namespace: shop, labels: { kubernetes.io/service-name: web } }',
        'addressType: IPv4',
        `ports: [{ name: http, port: ${echo.port} }]`,
        'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
      ].join('\n'),
      front,
    );
    closers.push(() => running.stop());
    const port = running.addresses.https!.port;
    const nginx = await get(port, 'plain.example.test');
    expect(nginx).toEqual({
      status: 200,
      subject: 'default.tether',
      // ingress-nginx marks its cookie Secure on HTTPS answers.
      cookie: expect.stringMatching(/^INGRESSCOOKIE=[^;]+; Path=\/; Secure; HttpOnly$/),
    });
    expect((await get(port, 'docs.example.test')).status).toBe(404);
  });
});
