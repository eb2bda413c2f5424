/**
 * Gateways' listeners as the proxy's listeners, through a local `tether serve`: routes attach
 * by parentRefs (sectionName, port), hostnames intersect, allowedRoutes and ReferenceGrants are
 * honoured, and a listener that conflicts or lacks its certificate serves nothing while the
 * others serve.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request as httpRequest } from 'node:http';
import { startEcho, type EchoServer } from '@tether/echo';
import { selfSignedCertificate } from '@tether/testkit';
import type { Running } from '../../../packages/cli/src/serve';
import { httpsGet } from '../../support/https-get';
import { freePortRun } from '../../support/ports';
import { serveManifests } from '../../support/serve';

const echoes: EchoServer[] = [];
let running: Running;
let offset = 0;

afterAll(async () => {
  await running?.stop();
  for (const e of echoes) await e.close();
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

function backend(namespace: string, name: string, port: number): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    `metadata: { name: ${name}, namespace: ${namespace} }`,
    'spec: { ports: [{ name: http, port: 80 }] }',
    '---',
    'apiVersion: discovery.k8s.io/v1',
    'kind: EndpointSlice',
    `metadata: { name: ${name}-1, namespace: ${namespace}, labels: { kubernetes.io/service-name: ${name} } }`,
    'addressType: IPv4',
    `ports: [{ name: http, port: ${port} }]`,
    'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
    '---',
  ].join('\n');
}

function route(
  namespace: string,
  name: string,
  parent: string,
  hostnames: string[],
  service: string,
  path = '/',
  serviceNamespace?: string,
): string {
  return [
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: HTTPRoute',
    `metadata: { name: ${name}, namespace: ${namespace} }`,
    'spec:',
    `  parentRefs: [${parent}]`,
    ...(hostnames.length > 0 ? [`  hostnames: [${hostnames.join(', ')}]`] : []),
    '  rules:',
    `    - matches: [{ path: { type: PathPrefix, value: ${path} } }]`,
    `      backendRefs: [{ name: ${service}, port: 80${serviceNamespace ? `, namespace: ${serviceNamespace}` : ''} }]`,
    '---',
  ].join('\n');
}

function get(port: number, host: string, path = '/'): Promise<{ status: number; from?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ...(typeof res.headers['x-endpoint'] === 'string'
            ? { from: res.headers['x-endpoint'] }
            : {}),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

/** A GET over HTTPS by SNI: the status, the certificate's CN, and the endpoint that answered. */
async function getTls(
  port: number,
  host: string,
): Promise<{ status: number; from?: string; subject: string }> {
  const { status, subject, headers } = await httpsGet(port, host);
  const from = headers['x-endpoint'];
  return { status, subject, ...(typeof from === 'string' ? { from } : {}) };
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/' }, (res) => {
      res.resume();
      resolve(false);
    });
    req.on('error', () => resolve(true));
    req.end();
  });
}

beforeAll(async () => {
  for (const name of ['a', 'b', 'x', 's']) echoes.push(await startEcho({ name: `${name}-pod` }));
  const [a, b, x, s] = echoes as [EchoServer, EchoServer, EchoServer, EchoServer];
  offset = (await freePortRun(3)) - 8000;
  const secure = selfSignedCertificate('secure.test');
  const alt = selfSignedCertificate('alt.test');
  const manifests = [
    'apiVersion: v1',
    'kind: Namespace',
    'metadata: { name: other, labels: { gateway-access: "yes" } }',
    '---',
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: Gateway',
    'metadata: { name: edge, namespace: web, creationTimestamp: "2026-01-01T00:00:00Z" }',
    'spec:',
    '  gatewayClassName: tether',
    '  listeners:',
    '    - { name: http, protocol: HTTP, port: 80, allowedRoutes: { namespaces: { from: All } } }',
    '    - { name: a, protocol: HTTP, port: 8000, hostname: a.test }',
    '    - name: b',
    '      protocol: HTTP',
    '      port: 8000',
    '      hostname: b.test',
    '      allowedRoutes:',
    '        namespaces: { from: Selector, selector: { matchLabels: { gateway-access: "yes" } } }',
    '    - { name: wild, protocol: HTTP, port: 8000, hostname: "*.iso.test" }',
    '    - { name: exact, protocol: HTTP, port: 8000, hostname: foo.iso.test }',
    '    - name: secure',
    '      protocol: HTTPS',
    '      port: 8001',
    '      hostname: secure.test',
    '      tls: { certificateRefs: [{ name: secure-cert }] }',
    '    - name: alt',
    '      protocol: HTTPS',
    '      port: 8001',
    '      hostname: alt.test',
    '      tls: { certificateRefs: [{ name: alt-cert, namespace: certs }] }',
    '    - name: broken',
    '      protocol: HTTPS',
    '      port: 8002',
    '      hostname: broken.test',
    '      tls: { certificateRefs: [{ name: missing }] }',
    '---',
    // A younger Gateway claiming a port and hostname the older one serves.
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: Gateway',
    'metadata: { name: late, namespace: web, creationTimestamp: "2026-02-01T00:00:00Z" }',
    'spec:',
    '  gatewayClassName: tether',
    '  listeners: [{ name: dup, protocol: HTTP, port: 8000, hostname: a.test }]',
    '---',
    'apiVersion: v1',
    'kind: Secret',
    'type: kubernetes.io/tls',
    'metadata: { name: secure-cert, namespace: web }',
    `data: { tls.crt: ${b64(secure.cert)}, tls.key: ${b64(secure.key)} }`,
    '---',
    'apiVersion: v1',
    'kind: Secret',
    'type: kubernetes.io/tls',
    'metadata: { name: alt-cert, namespace: certs }',
    `data: { tls.crt: ${b64(alt.cert)}, tls.key: ${b64(alt.key)} }`,
    '---',
    'apiVersion: gateway.networking.k8s.io/v1beta1',
    'kind: ReferenceGrant',
    'metadata: { name: web-gateways, namespace: certs }',
    'spec:',
    '  from: [{ group: gateway.networking.k8s.io, kind: Gateway, namespace: web }]',
    '  to: [{ group: "", kind: Secret }]',
    '---',
    backend('web', 'app-a', a.port),
    backend('other', 'app-b', b.port),
    backend('outside', 'app-x', x.port),
    backend('web', 'app-s', s.port),
    route('web', 'route-a', '{ name: edge, sectionName: a }', [], 'app-a'),
    route(
      'other',
      'route-b',
      '{ name: edge, namespace: web, sectionName: b }',
      ['b.test', 'c.test'],
      'app-b',
    ),
    // Not allowed: listener a takes routes of its own namespace only.
    route(
      'outside',
      'route-x',
      '{ name: edge, namespace: web, sectionName: a }',
      [],
      'app-x',
      '/x',
    ),
    route('web', 'route-h', '{ name: edge, sectionName: http }', ['h.test'], 'app-a'),
    route('web', 'route-s', '{ name: edge, port: 8001 }', ['secure.test', 'alt.test'], 'app-s'),
    route('web', 'route-broken', '{ name: edge, sectionName: broken }', [], 'app-s'),
    route('web', 'route-wild', '{ name: edge, sectionName: wild }', [], 'app-a'),
    // A rule with two path matches; a rule matched by a header, which the proxy cannot test.
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: HTTPRoute',
    'metadata: { name: matches, namespace: web }',
    'spec:',
    '  parentRefs: [{ name: edge, sectionName: http }]',
    '  hostnames: [matches.test]',
    '  rules:',
    '    - matches: [{ path: { type: PathPrefix, value: /a } }, { path: { type: Exact, value: /b } }]',
    '      backendRefs: [{ name: app-a, port: 80 }]',
    '    - matches: [{ headers: [{ name: x-canary, value: "yes" }] }]',
    '      backendRefs: [{ name: app-s, port: 80 }]',
    '    - backendRefs: [{ name: app-x, port: 80, namespace: outside }]',
    '---',
    'apiVersion: gateway.networking.k8s.io/v1beta1',
    'kind: ReferenceGrant',
    'metadata: { name: web-routes, namespace: outside }',
    'spec:',
    '  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: web }]',
    '  to: [{ group: "", kind: Service }]',
    '---',
    // Backends in another namespace: granted to HTTPRoutes of outside, not of web.
    route(
      'web',
      'route-foreign',
      '{ name: edge, sectionName: http }',
      ['foreign.test'],
      'app-b',
      '/',
      'other',
    ),
    route(
      'outside',
      'route-granted',
      '{ name: edge, namespace: web, sectionName: http }',
      ['granted.test'],
      'app-b',
      '/',
      'other',
    ),
    'apiVersion: gateway.networking.k8s.io/v1beta1',
    'kind: ReferenceGrant',
    'metadata: { name: outside-routes, namespace: other }',
    'spec:',
    '  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: outside }]',
    '  to: [{ group: "", kind: Service, name: app-b }]',
    '---',
    route('web', 'route-exact', '{ name: edge, sectionName: exact }', [], 'app-s', '/only'),
  ].join('\n');
  running = await serveManifests(manifests, undefined, { servicePortOffset: offset });
}, 30_000);

describe('Gateway listeners through serve', () => {
  it('serves two listeners of one port by hostname, each with the routes attached to it', async () => {
    const port = 8000 + offset;
    expect(await get(port, 'a.test')).toEqual({ status: 200, from: 'a-pod' });
    expect(await get(port, 'b.test')).toEqual({ status: 200, from: 'b-pod' });
    // c.test is a hostname of route-b that listener b (b.test) does not take.
    expect((await get(port, 'c.test')).status).toBe(404);
    // route-h is attached to the HTTP listener on 80 only.
    expect((await get(port, 'h.test')).status).toBe(404);
  });

  it('isolates listeners: a host under a more specific listener gets only that listener’s routes', async () => {
    const port = 8000 + offset;
    expect(await get(port, 'bar.iso.test')).toEqual({ status: 200, from: 'a-pod' });
    expect(await get(port, 'x.y.iso.test')).toEqual({ status: 200, from: 'a-pod' });
    expect(await get(port, 'foo.iso.test', '/only')).toEqual({ status: 200, from: 's-pod' });
    // The wildcard listener's route would match; the exact listener has no route for it.
    expect((await get(port, 'foo.iso.test', '/elsewhere')).status).toBe(404);
  });

  it('serves port 80 on the proxy’s own HTTP listener, only for the routes attached to it', async () => {
    const own = running.proxy.addresses.http!.port;
    expect(await get(own, 'h.test')).toEqual({ status: 200, from: 'a-pod' });
    expect((await get(own, 'a.test')).status).toBe(404);
  });

  it('serves a backend in another namespace only where a ReferenceGrant there allows it', async () => {
    const own = running.proxy.addresses.http!.port;
    expect(await get(own, 'granted.test')).toEqual({ status: 200, from: 'b-pod' });
    // Attached and routed, but its backend is not granted: no endpoint.
    expect((await get(own, 'foreign.test')).status).toBe(503);
    expect(
      (running.controller.latest?.diagnostics ?? []).some(
        (d) => d.reason === 'RefNotPermitted' && d.sources.some((s) => s.name === 'route-foreign'),
      ),
    ).toBe(true);
  });

  it('serves every path match of a rule, and no match on a header', async () => {
    const own = running.proxy.addresses.http!.port;
    expect(await get(own, 'matches.test', '/a/x')).toEqual({ status: 200, from: 'a-pod' });
    expect(await get(own, 'matches.test', '/b')).toEqual({ status: 200, from: 'a-pod' });
    // /b is Exact: /b/x is the catch-all rule's.
    expect(await get(own, 'matches.test', '/b/x')).toEqual({ status: 200, from: 'x-pod' });
    // The header-matched rule is not served in place of the catch-all, header or not.
    expect(await get(own, 'matches.test', '/')).toEqual({ status: 200, from: 'x-pod' });
    expect(
      (running.controller.latest?.diagnostics ?? []).some(
        (d) =>
          d.reason === 'NotReproduced' &&
          d.sources.some((s) => s.name === 'matches' && s.field === 'spec.rules[1].matches[0]'),
      ),
    ).toBe(true);
  });

  it('does not serve a route its listener does not allow', async () => {
    expect(await get(8000 + offset, 'a.test', '/x')).toEqual({ status: 200, from: 'a-pod' });
    const warnings = running.controller.latest?.diagnostics ?? [];
    expect(
      warnings.some(
        (d) =>
          d.reason === 'NotAttached' &&
          d.sources.some((s) => s.name === 'route-x') &&
          d.message.includes('NotAllowedByListeners'),
      ),
    ).toBe(true);
  });

  it('serves each HTTPS listener of a port with its own certificate by SNI, across namespaces with a ReferenceGrant', async () => {
    const port = 8001 + offset;
    expect(await getTls(port, 'secure.test')).toEqual({
      status: 200,
      from: 's-pod',
      subject: 'secure.test',
    });
    expect(await getTls(port, 'alt.test')).toEqual({
      status: 200,
      from: 's-pod',
      subject: 'alt.test',
    });
  });

  it('leaves a listener whose Secret is missing closed, and the others served', async () => {
    expect(await refused(8002 + offset)).toBe(true);
    expect((await get(8000 + offset, 'a.test')).status).toBe(200);
  });
});
