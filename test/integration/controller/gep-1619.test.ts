/**
 * The HTTPRoute checks of GEP-1619's test plan, through a local `tether serve` of a Gateway and
 * its HTTPRoutes (the GRPCRoute ones are in grpc.test.ts): sessions by cookie and by header,
 * Session and Permanent lifetimes, a weighted split that sticks, and rules that keep separate
 * sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { request } from 'node:http';
import { startEcho, type EchoServer } from '@tether/echo';
import type { Running } from '../../../packages/cli/src/serve';
import { serveManifests } from '../../support/serve';

const echoes: EchoServer[] = [];
let running: Running;

afterAll(async () => {
  await running?.stop();
  for (const e of echoes) await e.close();
});

interface Answer {
  status: number;
  from: string;
  headers: Record<string, string | string[] | undefined>;
}

function get(host: string, path = '/', headers: Record<string, string> = {}): Promise<Answer> {
  const port = running.proxy.addresses.http!.port;
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { host, ...headers }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            from: String(res.headers['x-endpoint'] ?? ''),
            headers: res.headers,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The first Set-Cookie of an answer, and the `name=value` a client sends back. */
function cookieOf(a: Answer): { line: string; pair: string } {
  const line = ([] as string[]).concat(a.headers['set-cookie'] ?? [])[0] ?? '';
  return { line, pair: line.split(';')[0] ?? '' };
}

/** A Service whose endpoints are the given echo servers (one EndpointSlice each). */
function service(name: string, backends: EchoServer[]): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    `metadata: { name: ${name}, namespace: shop }`,
    'spec: { ports: [{ name: http, port: 80 }] }',
    ...backends.flatMap((b, i) => [
      '---',
      'apiVersion: discovery.k8s.io/v1',
      'kind: EndpointSlice',
      `metadata: { name: ${name}-${i}, namespace: shop, labels: { kubernetes.io/service-name: ${name} } }`,
      'addressType: IPv4',
      `ports: [{ name: http, port: ${b.port} }]`,
      'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
    ]),
    '---',
  ].join('\n');
}

function route(name: string, host: string, rules: string[]): string {
  return [
    'apiVersion: gateway.networking.k8s.io/v1',
    'kind: HTTPRoute',
    `metadata: { name: ${name}, namespace: shop }`,
    'spec:',
    '  parentRefs: [{ name: public }]',
    `  hostnames: [${host}]`,
    '  rules:',
    ...rules,
    '---',
  ].join('\n');
}

beforeAll(async () => {
  for (const name of ['a1', 'a2', 'a3', 'b1', 'b2']) echoes.push(await startEcho({ name }));
  const a = echoes.slice(0, 3);
  const b = echoes.slice(3);
  const sessionRule = (extra: string[] = [], path = '/', backends = ['cart']) => [
    `    - matches: [{ path: { type: PathPrefix, value: ${path} } }]`,
    `      backendRefs: [${backends.map((s) => (s.includes(':') ? s : `{ name: ${s}, port: 80 }`)).join(', ')}]`,
    '      sessionPersistence:',
    ...extra.map((l) => `        ${l}`),
  ];
  running = await serveManifests(
    [
      'apiVersion: gateway.networking.k8s.io/v1',
      'kind: Gateway',
      'metadata: { name: public, namespace: shop }',
      'spec:',
      '  gatewayClassName: tether',
      '  listeners: [{ name: http, protocol: HTTP, port: 80 }]',
      '---',
      service('cart', a),
      service('cart-next', b),
      route('basic', 'basic.test', sessionRule(['sessionName: basic', 'type: Cookie'])),
      route(
        'permanent',
        'permanent.test',
        sessionRule([
          'sessionName: kept',
          'type: Cookie',
          'absoluteTimeout: 5m',
          'cookieConfig: { lifetimeType: Permanent }',
        ]),
      ),
      route(
        'weighted',
        'weighted.test',
        sessionRule(['sessionName: split', 'type: Cookie'], '/', [
          '{ name: cart, port: 80, weight: 70 }',
          '{ name: cart-next, port: 80, weight: 30 }',
        ]),
      ),
      route('rules', 'rules.test', [
        ...sessionRule(['type: Cookie'], '/a'),
        ...sessionRule(['type: Cookie'], '/b'),
      ]),
      route('header', 'header.test', sessionRule(['sessionName: X-Cart-Session', 'type: Header'])),
    ].join('\n'),
  );
}, 30_000);

describe('GEP-1619 through a Gateway', () => {
  it('pins 50 requests with the cookie to one pod; a Session cookie has no Expires or Max-Age', async () => {
    const first = await get('basic.test');
    const cookie = cookieOf(first);
    expect(cookie.pair).toMatch(/^basic=/);
    expect(cookie.line).not.toMatch(/expires=|max-age=/i);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++)
      seen.add((await get('basic.test', '/', { cookie: cookie.pair })).from);
    expect([...seen]).toEqual([first.from]);
    // Without the cookie, requests are spread over the pods.
    const spread = new Set<string>();
    for (let i = 0; i < 12; i++) spread.add((await get('basic.test')).from);
    expect(spread.size).toBeGreaterThan(1);
  });

  it('sets Max-Age and Expires from absoluteTimeout on a Permanent cookie', async () => {
    const before = Date.now();
    const { line } = cookieOf(await get('permanent.test'));
    expect(line).toMatch(/^kept=/);
    expect(line).toMatch(/Max-Age=300(;|$)/);
    // Max-Age alone, as Envoy's stateful session cookie has it; an Expires would have to agree.
    const expires = /Expires=([^;]+)/i.exec(line)?.[1];
    if (expires !== undefined)
      expect(Math.abs(Date.parse(expires) - (before + 300_000))).toBeLessThan(5_000);
  });

  it('splits first requests 70/30 by weight, then keeps each client where it landed', async () => {
    const next = new Set(['b1', 'b2']);
    const clients: { pair: string; from: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const a = await get('weighted.test');
      clients.push({ pair: cookieOf(a).pair, from: a.from });
    }
    const share = clients.filter((c) => !next.has(c.from)).length / clients.length;
    expect(share).toBeGreaterThan(0.6);
    expect(share).toBeLessThan(0.8);
    for (const c of clients.filter((_, i) => i % 20 === 0))
      for (let i = 0; i < 5; i++)
        expect((await get('weighted.test', '/', { cookie: c.pair })).from).toBe(c.from);
  });

  it('keeps the sessions of two rules apart', async () => {
    const a = cookieOf(await get('rules.test', '/a'));
    const b = cookieOf(await get('rules.test', '/b'));
    const name = (pair: string) => pair.split('=')[0];
    expect(name(a.pair)).not.toBe(name(b.pair));
    // Rule /b does not take rule /a's session: it starts one of its own.
    const crossed = await get('rules.test', '/b', { cookie: a.pair });
    expect(name(cookieOf(crossed).pair)).toBe(name(b.pair));
  });

  it('pins by a header: the first answer carries it, and 20 requests with it reach one pod', async () => {
    const first = await get('header.test');
    const token = first.headers['x-cart-session'];
    expect(typeof token).toBe('string');
    expect(first.headers['set-cookie']).toBeUndefined();
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++)
      seen.add((await get('header.test', '/', { 'x-cart-session': String(token) })).from);
    expect([...seen]).toEqual([first.from]);
  });
});
