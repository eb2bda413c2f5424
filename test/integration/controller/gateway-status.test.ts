/**
 * Gateway and route status as Gateway API conformance reads it, written by the StatusWriter
 * through the stand-in API server with the real client, and read back with the real kubectl.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { StatusWriter, type RouteParentStatus } from '@tether/controller';
import {
  selfSignedCertificate,
  startApiServer,
  type JsonObject,
  type StandInApiServer,
} from '@tether/testkit';
import { kubectl } from '../../support/kubectl';
import { startStack, type Stack } from './proxy';
import { CONTROLLER, NS, eventually, gatewayClass, httpRoute, service, slice } from './support';

jest.setTimeout(30_000);

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const GROUP = 'gateway.networking.k8s.io';

async function setup(): Promise<StandInApiServer> {
  return (await setupStack()).server;
}

async function setupStack(): Promise<{ server: StandInApiServer; stack: Stack }> {
  const server = await startApiServer();
  cleanups.push(() => server.close());
  server.apply(gatewayClass());
  server.apply(service('web'));
  server.apply(slice('web', 9));
  const holder: { writer?: StatusWriter } = {};
  const stack = await startStack(server, {
    listeners: [(result, problems) => holder.writer?.listener(result, problems)],
  });
  const writer = new StatusWriter({ target: stack.source, addresses: ['127.0.0.1'] });
  holder.writer = writer;
  cleanups.push(async () => {
    await writer.stop();
    await stack.stop();
  });
  return { server, stack };
}

function gatewayOf(name: string, listeners: JsonObject[], created?: string): JsonObject {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'Gateway',
    metadata: { name, namespace: NS, ...(created ? { creationTimestamp: created } : {}) },
    spec: { gatewayClassName: 'tether', listeners },
  };
}

interface ListenerStatus {
  name: string;
  attachedRoutes: number;
  supportedKinds: { group: string; kind: string }[];
  conditions: { type: string; status: string; reason: string; observedGeneration?: number }[];
}

interface GatewayStatus {
  addresses?: { type: string; value: string }[];
  conditions?: { type: string; status: string; reason: string; observedGeneration?: number }[];
  listeners?: ListenerStatus[];
}

function statusOf(server: StandInApiServer, name: string): GatewayStatus | undefined {
  return server.getObject(`${GROUP}/v1`, 'Gateway', NS, name)?.status as GatewayStatus | undefined;
}

/** `type=status/reason` of each condition, for compact comparisons. */
function brief(conditions: { type: string; status: string; reason: string }[] | undefined) {
  return (conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
}

function ours(server: StandInApiServer, route: string): RouteParentStatus[] {
  const o = server.getObject(`${GROUP}/v1`, 'HTTPRoute', NS, route);
  return ((o?.status as { parents?: RouteParentStatus[] } | undefined)?.parents ?? []).filter(
    (p) => p.controllerName === CONTROLLER,
  );
}

describe('Gateway status', () => {
  it('reports each listener: attached routes, a missing Secret, an unknown protocol; and the Gateway', async () => {
    const server = await setup();
    const gw = server.apply(
      gatewayOf('edge', [
        { name: 'http', protocol: 'HTTP', port: 80 },
        {
          name: 'https',
          protocol: 'HTTPS',
          port: 443,
          hostname: 'secure.example',
          tls: { certificateRefs: [{ name: 'missing-cert' }] },
        },
        { name: 'sctp', protocol: 'SCTP', port: 9000 },
      ]),
    );
    server.apply(httpRoute('one', { host: 'one.example', service: 'web', gateway: 'edge' }));
    server.apply(httpRoute('two', { host: 'two.example', service: 'web', gateway: 'edge' }));
    const status = await eventually(
      () => {
        const s = statusOf(server, 'edge');
        return s?.listeners?.find((l) => l.name === 'http')?.attachedRoutes === 2 ? s : undefined;
      },
      5000,
      'Gateway status',
    );
    const generation = (gw.metadata as { generation?: number }).generation;
    expect(status.addresses).toEqual([{ type: 'IPAddress', value: '127.0.0.1' }]);
    // Accepted with the listeners it can serve; the SCTP one is not among them.
    expect(brief(status.conditions)).toEqual([
      'Accepted=True/ListenersNotValid',
      'Programmed=True/Programmed',
    ]);
    expect(status.conditions?.every((c) => c.observedGeneration === generation)).toBe(true);
    const byName = new Map(status.listeners!.map((l) => [l.name, l]));
    expect(byName.get('http')?.supportedKinds).toEqual([
      { group: GROUP, kind: 'HTTPRoute' },
      { group: GROUP, kind: 'GRPCRoute' },
    ]);
    expect(brief(byName.get('http')?.conditions)).toEqual([
      'Accepted=True/Accepted',
      'Conflicted=False/NoConflicts',
      'ResolvedRefs=True/ResolvedRefs',
      'Programmed=True/Programmed',
    ]);
    // The route names no hostname the HTTPS listener takes, and its Secret is missing.
    expect(byName.get('https')?.attachedRoutes).toBe(0);
    expect(brief(byName.get('https')?.conditions)).toEqual([
      'Accepted=True/Accepted',
      'Conflicted=False/NoConflicts',
      'ResolvedRefs=False/InvalidCertificateRef',
      'Programmed=False/Invalid',
    ]);
    expect(byName.get('sctp')?.supportedKinds).toEqual([]);
    expect(brief(byName.get('sctp')?.conditions)).toEqual([
      'Accepted=False/UnsupportedProtocol',
      'Conflicted=False/NoConflicts',
      'ResolvedRefs=True/ResolvedRefs',
      'Programmed=False/Invalid',
    ]);

    // The Secret appears, but holds no certificate: still not resolved.
    const tlsSecret = (data: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'missing-cert', namespace: NS },
      data,
    });
    server.apply(tlsSecret({ 'tls.crt': '', 'tls.key': '' }));
    await eventually(
      () =>
        statusOf(server, 'edge')
          ?.listeners?.find((l) => l.name === 'https')
          ?.conditions.some(
            (c) =>
              c.type === 'ResolvedRefs' &&
              c.reason === 'InvalidCertificateRef' &&
              /empty or non-base64 tls\.crt/.test((c as { message?: string }).message ?? ''),
          ),
      5000,
      'InvalidCertificateRef for a Secret that does not load',
    );
    // A certificate that loads: the listener resolves.
    const pem = selfSignedCertificate('secure.example');
    server.apply(
      tlsSecret({
        'tls.crt': Buffer.from(pem.cert).toString('base64'),
        'tls.key': Buffer.from(pem.key).toString('base64'),
      }),
    );
    await eventually(
      () =>
        statusOf(server, 'edge')
          ?.listeners?.find((l) => l.name === 'https')
          ?.conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'True'),
      5000,
      'ResolvedRefs after the Secret',
    );

    // As kubectl shows it.
    const shown = await kubectl(['get', 'gateway', 'edge', '-n', NS, '-o', 'yaml'], {
      kubeconfig: server.writeKubeconfig(),
    });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/attachedRoutes: 2/);
    expect(shown.stdout).toMatch(/reason: UnsupportedProtocol/);
    expect(shown.stdout).toMatch(/type: Programmed/);
  });

  it('marks conflicting listeners: every one within a Gateway, the younger across Gateways', async () => {
    const server = await setup();
    server.apply(
      gatewayOf('first', [{ name: 'web', protocol: 'HTTP', port: 8080 }], '2026-01-01T00:00:00Z'),
    );
    server.apply(
      gatewayOf(
        'second',
        [
          { name: 'web', protocol: 'HTTP', port: 8080 },
          { name: 'ok', protocol: 'HTTP', port: 8081 },
          { name: 'plain', protocol: 'HTTP', port: 9000 },
          { name: 'tls', protocol: 'HTTPS', port: 9000, tls: { certificateRefs: [{ name: 'x' }] } },
          { name: 'one', protocol: 'HTTP', port: 9001, hostname: 'a.example' },
          { name: 'two', protocol: 'HTTP', port: 9001, hostname: 'a.example' },
        ],
        '2026-02-01T00:00:00Z',
      ),
    );
    const second = await eventually(
      () => statusOf(server, 'second')?.listeners,
      5000,
      'second Gateway status',
    );
    const conflicted = (name: string) => {
      const c = second
        .find((l) => l.name === name)
        ?.conditions.find((x) => x.type === 'Conflicted');
      return `${c?.status}/${c?.reason}`;
    };
    expect(conflicted('web')).toBe('True/HostnameConflict');
    expect(conflicted('ok')).toBe('False/NoConflicts');
    expect(conflicted('plain')).toBe('True/ProtocolConflict');
    expect(conflicted('tls')).toBe('True/ProtocolConflict');
    expect(conflicted('one')).toBe('True/HostnameConflict');
    expect(conflicted('two')).toBe('True/HostnameConflict');
    expect(brief(statusOf(server, 'second')?.conditions)).toEqual([
      'Accepted=True/ListenersNotValid',
      'Programmed=True/Programmed',
    ]);
    const first = await eventually(() => statusOf(server, 'first')?.listeners, 5000, 'first');
    expect(first[0]?.conditions.find((c) => c.type === 'Conflicted')?.status).toBe('False');
  });

  it('tells a route why a parent does not take it, and when a backend is not granted', async () => {
    const server = await setup();
    server.apply(
      gatewayOf('edge', [
        { name: 'a', protocol: 'HTTP', port: 80, hostname: 'a.example' },
        {
          name: 'elsewhere',
          protocol: 'HTTP',
          port: 8080,
          allowedRoutes: {
            namespaces: { from: 'Selector', selector: { matchLabels: { x: 'y' } } },
          },
        },
      ]),
    );
    const route = (name: string, parent: JsonObject, host: string, backendNs?: string) => {
      const r = httpRoute(name, { host, service: 'web', gateway: 'edge' });
      const spec = r.spec as { parentRefs: JsonObject[]; rules: { backendRefs: JsonObject[] }[] };
      spec.parentRefs = [{ name: 'edge', ...parent }];
      if (backendNs) spec.rules[0]!.backendRefs = [{ name: 'web', namespace: backendNs, port: 80 }];
      return r;
    };
    server.apply(route('hostless', { sectionName: 'a' }, 'b.example'));
    server.apply(route('unlisted', { sectionName: 'nope' }, 'a.example'));
    server.apply(route('unwelcome', { sectionName: 'elsewhere' }, 'a.example'));
    server.apply(route('foreign', { sectionName: 'a' }, 'a.example', 'other'));
    const accepted = (name: string) =>
      ours(server, name)[0]?.conditions.find((c) => c.type === 'Accepted');
    const resolved = (name: string) =>
      ours(server, name)[0]?.conditions.find((c) => c.type === 'ResolvedRefs');
    await eventually(() => resolved('foreign'), 5000, 'route status');
    await eventually(() => accepted('unwelcome'), 5000, 'route status');
    expect(accepted('hostless')).toMatchObject({
      status: 'False',
      reason: 'NoMatchingListenerHostname',
    });
    expect(accepted('unlisted')).toMatchObject({ status: 'False', reason: 'NoMatchingParent' });
    expect(accepted('unwelcome')).toMatchObject({
      status: 'False',
      reason: 'NotAllowedByListeners',
    });
    expect(accepted('foreign')).toMatchObject({ status: 'True', reason: 'Accepted' });
    expect(resolved('foreign')).toMatchObject({ status: 'False', reason: 'RefNotPermitted' });

    // A ReferenceGrant in the backend's namespace lets it through.
    server.apply({
      apiVersion: `${GROUP}/v1beta1`,
      kind: 'ReferenceGrant',
      metadata: { name: 'routes-of-default', namespace: 'other' },
      spec: {
        from: [{ group: GROUP, kind: 'HTTPRoute', namespace: NS }],
        to: [{ group: '', kind: 'Service' }],
      },
    });
    await eventually(
      () => (resolved('foreign')?.reason === 'RefNotPermitted' ? undefined : true),
      5000,
      'RefNotPermitted lifted',
    );
    expect(resolved('foreign')?.reason).not.toBe('RefNotPermitted');
  });

  it('serves a route on an HTTPS listener once the listener’s Secret appears', async () => {
    const { server, stack } = await setupStack();
    server.apply(
      gatewayOf('edge', [
        {
          name: 'https',
          protocol: 'HTTPS',
          port: 443,
          hostname: 'secure.example',
          tls: { certificateRefs: [{ name: 'late-cert' }] },
        },
      ]),
    );
    server.apply(httpRoute('secure', { host: 'secure.example', service: 'web', gateway: 'edge' }));
    const listenersOf = () =>
      stack.controller.latest?.entries
        .filter((e) => e.entry.name === 'secure')
        .flatMap((e) => e.entry.listeners.map((l) => l.gateway));
    await eventually(() => listenersOf()?.length === 0, 5000, 'the route, served nowhere');
    server.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: 'late-cert', namespace: NS },
      data: { 'tls.crt': '', 'tls.key': '' },
    });
    await eventually(() => listenersOf()?.length === 1, 5000, 'the route on the listener');
    expect(listenersOf()).toEqual([`${NS}/edge/https`]);
  });
});
