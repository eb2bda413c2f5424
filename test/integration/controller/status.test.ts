/** Status written through the status subresource by the StatusWriter, read back from the stand-in. */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { StatusWriter, type RouteParentStatus } from '@tether/controller';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { startStack, type Stack } from './proxy';
import {
  CONTROLLER,
  NS,
  eventually,
  gateway,
  gatewayClass,
  httpRoute,
  ingress,
  ingressClass,
  service,
  slice,
} from './support';

jest.setTimeout(30_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ADDRESSES = ['127.0.0.1', 'lb.example'];
const LB = [{ ip: '127.0.0.1' }, { hostname: 'lb.example' }];

async function setup(
  isLeader: () => boolean = () => true,
): Promise<{ server: StandInApiServer; stack: Stack; writer: StatusWriter }> {
  const server = await startApiServer();
  cleanups.push(() => server.close());
  server.apply(ingressClass());
  server.apply(gatewayClass());
  server.apply(gateway());
  server.apply(service('web'));
  server.apply(slice('web', 9));
  // The writer reads through the source, which exists once the stack does.
  const holder: { writer?: StatusWriter } = {};
  const stack = await startStack(server, {
    listeners: [(result, problems) => holder.writer?.listener(result, problems)],
  });
  const writer = new StatusWriter({
    target: stack.source,
    addresses: ADDRESSES,
    isLeader,
    now: () => new Date('2026-01-02T03:04:05.678Z'),
  });
  holder.writer = writer;
  cleanups.push(async () => {
    await writer.stop();
    await stack.stop();
  });
  return { server, stack, writer };
}

function lbOf(server: StandInApiServer, name: string): unknown {
  const o = server.getObject('networking.k8s.io/v1', 'Ingress', NS, name);
  return (o?.status as { loadBalancer?: { ingress?: unknown } } | undefined)?.loadBalancer?.ingress;
}

function parentsOf(
  server: StandInApiServer,
  name: string,
  kind = 'HTTPRoute',
): RouteParentStatus[] {
  const o = server.getObject('gateway.networking.k8s.io/v1', kind, NS, name);
  return ((o?.status as { parents?: RouteParentStatus[] } | undefined)?.parents ?? []).filter(
    Boolean,
  );
}

function statusWrites(server: StandInApiServer): number {
  return server.requests.filter((r) => r.method === 'PATCH' && r.path.endsWith('/status')).length;
}

function condition(parents: RouteParentStatus[], type: string) {
  return parents
    .find((p) => p.controllerName === CONTROLLER)
    ?.conditions.find((c) => c.type === type);
}

describe('StatusWriter', () => {
  it('writes the load balancer addresses on Ingresses of our class only, once', async () => {
    const { server, stack } = await setup();
    server.apply(ingressClass('other', 'example.com/other'));
    server.apply(ingress('ours', { host: 'ours.example', service: 'web' }));
    server.apply(ingress('theirs', { host: 'theirs.example', service: 'web', className: 'other' }));
    await eventually(() => lbOf(server, 'ours'), 3000, 'status of ours');
    expect(lbOf(server, 'ours')).toEqual(LB);
    expect(lbOf(server, 'theirs')).toBeUndefined();

    // The GatewayClass of the set-up is accepted in the same pass or the next.
    await eventually(
      () => server.getObject('gateway.networking.k8s.io/v1', 'GatewayClass', '', 'tether')?.status,
      3000,
      'GatewayClass status',
    );
    // Nothing changes for it: another reconcile writes nothing.
    const writes = statusWrites(server);
    const reconciles = stack.controller.stats.reconciles;
    server.apply(service('unrelated'));
    await eventually(() => stack.controller.stats.reconciles > reconciles, 3000, 'a reconcile');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statusWrites(server)).toBe(writes);

    // Someone else overwrites it: written back.
    server.applyStatus({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'ours', namespace: NS },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } },
    });
    await eventually(() => JSON.stringify(lbOf(server, 'ours')) === JSON.stringify(LB), 3000);

    // Moved to another class: our addresses are taken away.
    server.apply(ingress('ours', { host: 'ours.example', service: 'web', className: 'other' }));
    await eventually(() => lbOf(server, 'ours') === undefined, 3000, 'status cleared');
  });

  it('writes the addresses on LoadBalancer Services whose listeners are ours, and on no other', async () => {
    const { server } = await setup();
    const lb = (name: string, loadBalancerClass?: string): JsonObject => {
      const base = service(name);
      return {
        ...base,
        spec: {
          ...(base.spec as JsonObject),
          type: 'LoadBalancer',
          sessionAffinity: 'ClientIP',
          ...(loadBalancerClass ? { loadBalancerClass } : {}),
        },
      };
    };
    server.apply(lb('arena', 'tether.dev/service-lb'));
    server.apply(slice('arena', 9));
    server.apply(lb('lobby'));
    server.apply(slice('lobby', 9));
    const statusOf = (name: string) =>
      (
        server.getObject('v1', 'Service', NS, name)?.status as
          { loadBalancer?: { ingress?: unknown } } | undefined
      )?.loadBalancer?.ingress;
    await eventually(() => statusOf('arena'), 3000, 'status of arena');
    expect(statusOf('arena')).toEqual(LB);
    expect(statusOf('lobby')).toBeUndefined();
  });

  it('reports Accepted and ResolvedRefs for our parents and keeps other controllers’ entries', async () => {
    const { server } = await setup();
    const route = server.apply(
      httpRoute('web', {
        host: 'route.example',
        service: 'web',
        extraParents: [{ name: 'elsewhere' }],
      }),
    );
    const theirs: JsonObject = {
      parentRef: { name: 'elsewhere' },
      controllerName: 'example.com/other-gateway',
      conditions: [
        {
          type: 'Accepted',
          status: 'True',
          reason: 'Accepted',
          message: 'theirs',
          lastTransitionTime: '2025-01-01T00:00:00Z',
        },
      ],
    };
    server.applyStatus({ ...route, status: { parents: [theirs] } });
    const generation = (route.metadata as { generation?: number }).generation;

    const parents = await eventually(
      () => {
        const p = parentsOf(server, 'web');
        return p.some((x) => x.controllerName === CONTROLLER) ? p : undefined;
      },
      3000,
      'route status',
    );
    expect(parents).toHaveLength(2);
    expect(parents).toContainEqual(theirs);
    const ours = parents.find((p) => p.controllerName === CONTROLLER);
    expect(ours?.parentRef).toEqual({ name: 'web' });
    expect(ours?.conditions).toEqual([
      {
        type: 'Accepted',
        status: 'True',
        reason: 'Accepted',
        message: 'Route is accepted',
        observedGeneration: generation,
        lastTransitionTime: '2026-01-02T03:04:05Z',
      },
      {
        type: 'ResolvedRefs',
        status: 'True',
        reason: 'ResolvedRefs',
        message: 'All references are resolved',
        observedGeneration: generation,
        lastTransitionTime: '2026-01-02T03:04:05Z',
      },
    ]);
  });

  it('accepts the GatewayClasses whose controllerName is ours, and no other', async () => {
    const { server } = await setup();
    server.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'theirs' },
      spec: { controllerName: 'example.com/other-gateway' },
    });
    const conditionsOf = (name: string) =>
      (
        server.getObject('gateway.networking.k8s.io/v1', 'GatewayClass', '', name)?.status as
          { conditions?: { type: string; status: string; reason: string }[] } | undefined
      )?.conditions;
    const ours = await eventually(() => conditionsOf('tether'), 3000, 'GatewayClass status');
    expect(ours).toEqual([
      expect.objectContaining({ type: 'Accepted', status: 'True', reason: 'Accepted' }),
    ]);
    expect(conditionsOf('theirs')).toBeUndefined();
  });

  it('reports Accepted and ResolvedRefs on a GRPCRoute too', async () => {
    const { server } = await setup();
    const route = httpRoute('rpc', { host: 'rpc.example', service: 'web' });
    const spec = route.spec as { rules: JsonObject[] };
    spec.rules = [
      {
        matches: [{ method: { service: 'tether.test.Echo', method: 'Who' } }],
        backendRefs: [{ name: 'web', port: 80 }],
      },
    ];
    server.apply({ ...route, kind: 'GRPCRoute' });
    const parents = await eventually(
      () => {
        const p = parentsOf(server, 'rpc', 'GRPCRoute');
        return p.some((x) => x.controllerName === CONTROLLER) ? p : undefined;
      },
      3000,
      'GRPCRoute status',
    );
    const ours = parents.find((p) => p.controllerName === CONTROLLER);
    expect(ours?.conditions.map((c) => [c.type, c.status])).toEqual([
      ['Accepted', 'True'],
      ['ResolvedRefs', 'True'],
    ]);
  });

  it('reports a refused configuration and a missing backend, then the fix', async () => {
    const { server } = await setup();
    server.apply(
      httpRoute('web', {
        host: 'route.example',
        service: 'missing',
        sessionPersistence: { sessionName: 'S', absoluteTimeout: '1d' },
      }),
    );
    await eventually(
      () => condition(parentsOf(server, 'web'), 'Accepted')?.status === 'False',
      3000,
      'refused',
    );
    const refused = parentsOf(server, 'web');
    expect(condition(refused, 'Accepted')).toMatchObject({
      reason: 'UnsupportedValue',
      message: expect.stringMatching(/InvalidAnnotation/),
    });
    expect(condition(refused, 'ResolvedRefs')).toMatchObject({
      status: 'False',
      reason: 'BackendNotFound',
    });

    const fixed = server.apply(
      httpRoute('web', {
        host: 'route.example',
        service: 'web',
        sessionPersistence: { sessionName: 'S', absoluteTimeout: '1h' },
      }),
    );
    await eventually(
      () => {
        const p = parentsOf(server, 'web');
        return (
          condition(p, 'Accepted')?.status === 'True' &&
          condition(p, 'ResolvedRefs')?.status === 'True'
        );
      },
      3000,
      'accepted',
    );
    expect(condition(parentsOf(server, 'web'), 'Accepted')?.observedGeneration).toBe(
      (fixed.metadata as { generation?: number }).generation,
    );
  });

  it('writes nothing until it leads, then everything on resync', async () => {
    let leader = false;
    const { server, stack, writer } = await setup(() => leader);
    server.apply(ingress('ours', { host: 'ours.example', service: 'web' }));
    server.apply(httpRoute('web', { host: 'route.example', service: 'web' }));
    await eventually(
      () =>
        ['Ingress/shop/ours', 'HTTPRoute/shop/web'].every((k) =>
          stack.controller.latest?.served.includes(k),
        ),
      3000,
      'both served',
    );
    await eventually(() => writer.stats.notLeader > 0, 3000, 'a pass skipped');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(statusWrites(server)).toBe(0);

    leader = true;
    await writer.resync();
    expect(lbOf(server, 'ours')).toEqual(LB);
    expect(condition(parentsOf(server, 'web'), 'Accepted')?.status).toBe('True');
  });
});
