/**
 * Objects on the (stand-in) API server reach a real proxy through the real client and change
 * its routing within one second.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { startApiServer, type StandInApiServer } from '@tether/testkit';
import { startEchoes, type EchoServer } from '@tether/echo';
import { get, routedWithin, startStack, type Stack } from './proxy';
import {
  NS,
  gateway,
  gatewayClass,
  httpRoute,
  ingress,
  ingressClass,
  service,
  slice,
} from './support';

jest.setTimeout(30_000);

const STICKY = {
  'nginx.ingress.kubernetes.io/affinity': 'cookie',
  'nginx.ingress.kubernetes.io/session-cookie-name': 'SHOPSESSION',
};

let echoes: EchoServer[];
beforeAll(async () => {
  echoes = await startEchoes(3, 'pod');
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(
  optionalGroups?: ('gateway.networking.k8s.io' | 'route.openshift.io')[],
): Promise<{ server: StandInApiServer; stack: Stack }> {
  const server = await startApiServer(optionalGroups ? { optionalGroups } : {});
  cleanups.push(() => server.close());
  server.apply(ingressClass());
  const stack = await startStack(server);
  cleanups.push(() => stack.stop());
  return { server, stack };
}

const from = (echo: EchoServer | undefined) => (r: { status: number; endpoint?: string }) =>
  r.status === 200 && r.endpoint === echo?.name;
const notFound = (r: { status: number }) => r.status === 404;

describe('Kubernetes objects drive the proxy', () => {
  it('server-alias: the alias hosts get the Ingress routes and its cookie', async () => {
    const { server, stack } = await setup();
    const [a] = echoes;
    server.apply(service('web'));
    server.apply(slice('web', a!.port, { name: 'web-main' }));
    server.apply(
      ingress('web', {
        host: 'main.example',
        service: 'web',
        annotations: {
          ...STICKY,
          'nginx.ingress.kubernetes.io/server-alias': 'a1.example, a2.example',
        },
      }),
    );
    await routedWithin(stack.port, 'main.example', from(a), 2000, 'create');
    for (const alias of ['a1.example', 'a2.example']) {
      const r = await get(stack.port, alias);
      expect(r.endpoint).toBe(a!.name);
      expect(r.setCookie.join(';')).toMatch(/^SHOPSESSION=/);
    }
    expect((await get(stack.port, 'other.example')).status).toBe(404);
  });

  it('affinity-canary-behavior: legacy on the canary Ingress: canary answers carry no cookie', async () => {
    const { server, stack } = await setup();
    const [a, b] = echoes;
    server.apply(service('web'));
    server.apply(slice('web', a!.port, { name: 'web-main' }));
    server.apply(service('web-canary'));
    server.apply(slice('web-canary', b!.port, { name: 'web-canary-main' }));
    server.apply(ingress('web', { host: 'canary.example', service: 'web', annotations: STICKY }));
    server.apply(
      ingress('web-canary', {
        host: 'canary.example',
        service: 'web-canary',
        annotations: {
          'nginx.ingress.kubernetes.io/canary': 'true',
          'nginx.ingress.kubernetes.io/canary-by-cookie': 'canary',
          'nginx.ingress.kubernetes.io/affinity-canary-behavior': 'legacy',
        },
      }),
    );
    await routedWithin(stack.port, 'canary.example', from(a), 2000, 'create');
    const onPrimary = await get(stack.port, 'canary.example');
    expect(onPrimary.endpoint).toBe(a!.name);
    expect(onPrimary.setCookie.join(';')).toMatch(/^SHOPSESSION=/);
    const onCanary = await get(stack.port, 'canary.example', 'canary=always');
    expect(onCanary.endpoint).toBe(b!.name);
    expect(onCanary.setCookie).toEqual([]);
  });

  it('routes, reroutes and unroutes within a second of each change', async () => {
    const { server, stack } = await setup();
    const [a, b] = echoes;

    server.apply(service('web'));
    server.apply(slice('web', a!.port, { name: 'web-main' }));
    server.apply(ingress('web', { host: 'web.example', service: 'web', annotations: STICKY }));
    expect(await routedWithin(stack.port, 'web.example', from(a), 1000, 'create')).toBeLessThan(
      1000,
    );
    const first = await get(stack.port, 'web.example');
    expect(first.setCookie.join(';')).toMatch(/^SHOPSESSION=/);

    // New endpoints: the same slice now points at another backend.
    server.apply(slice('web', b!.port, { name: 'web-main' }));
    expect(await routedWithin(stack.port, 'web.example', from(b), 1000, 'endpoints')).toBeLessThan(
      1000,
    );

    // A new host: the old one stops answering, the new one starts.
    server.apply(ingress('web', { host: 'shop.example', service: 'web', annotations: STICKY }));
    expect(await routedWithin(stack.port, 'shop.example', from(b), 1000, 'new host')).toBeLessThan(
      1000,
    );
    expect((await get(stack.port, 'web.example')).status).toBe(404);

    // A new cookie name.
    server.apply(
      ingress('web', {
        host: 'shop.example',
        service: 'web',
        annotations: { ...STICKY, 'nginx.ingress.kubernetes.io/session-cookie-name': 'RENAMED' },
      }),
    );
    await routedWithin(
      stack.port,
      'shop.example',
      (r) => r.setCookie.some((c) => c.startsWith('RENAMED=')),
      1000,
      'cookie name',
    );

    server.deleteObject('networking.k8s.io/v1', 'Ingress', NS, 'web');
    expect(await routedWithin(stack.port, 'shop.example', notFound, 1000, 'delete')).toBeLessThan(
      1000,
    );
  });

  it('serves only Ingresses of its class', async () => {
    const { server, stack } = await setup();
    server.apply(service('web'));
    server.apply(slice('web', echoes[0]!.port));
    server.apply(ingressClass('other', 'example.com/other-controller'));
    server.apply(ingress('theirs', { host: 'theirs.example', service: 'web', className: 'other' }));
    server.apply(ingress('ours', { host: 'ours.example', service: 'web' }));
    await routedWithin(stack.port, 'ours.example', from(echoes[0]), 1000, 'ours');
    expect((await get(stack.port, 'theirs.example')).status).toBe(404);
  });

  it('routes HTTPRoutes once the Gateway API is installed', async () => {
    const { server, stack } = await setup([]);
    server.apply(service('web'));
    server.apply(slice('web', echoes[2]!.port));
    server.setGroupEnabled('gateway.networking.k8s.io', true);
    server.apply(gatewayClass());
    server.apply(gateway());
    server.apply(
      httpRoute('web', {
        host: 'route.example',
        service: 'web',
        sessionPersistence: { sessionName: 'ROUTESESSION', type: 'Cookie' },
      }),
    );
    await routedWithin(stack.port, 'route.example', from(echoes[2]), 3000, 'HTTPRoute');
    const reply = await get(stack.port, 'route.example');
    expect(reply.setCookie.join(';')).toMatch(/^ROUTESESSION=/);
  });

  it('survives the API server going away and coming back', async () => {
    const { server, stack } = await setup();
    const [a, b, c] = echoes;
    server.apply(service('web'));
    server.apply(slice('web', a!.port, { name: 'web-main' }));
    server.apply(ingress('web', { host: 'web.example', service: 'web' }));
    await routedWithin(stack.port, 'web.example', from(a), 1000, 'before');

    await server.stop();
    // The proxy keeps serving the table in force while the API server is away.
    expect((await get(stack.port, 'web.example')).endpoint).toBe(a!.name);
    server.apply(slice('web', b!.port, { name: 'web-main' }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await server.start();
    await routedWithin(stack.port, 'web.example', from(b), 3000, 'change made while away');

    server.apply(slice('web', c!.port, { name: 'web-main' }));
    expect(await routedWithin(stack.port, 'web.example', from(c), 1000, 'after')).toBeLessThan(
      1000,
    );

    await server.restart();
    server.apply(slice('web', a!.port, { name: 'web-main' }));
    await routedWithin(stack.port, 'web.example', from(a), 3000, 'after a restart');
  });
});
