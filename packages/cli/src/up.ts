import { connect } from 'node:net';
import { FileSource } from '@tether/controller';
import type { KubeObject } from '@tether/dialects';
import { startEcho, type EchoServer } from '@tether/echo';
import { formatAddress } from './address';
import { startServe, type Running, type ServeOptions } from './serve';

interface LoopbackEndpoint {
  host: string;
  port: number;
  name: string;
}

/** Loopback addresses of the manifests' EndpointSlices: where a local run expects backends. */
export function loopbackEndpoints(objects: readonly KubeObject[]): LoopbackEndpoint[] {
  const out = new Map<string, LoopbackEndpoint>();
  for (const slice of objects.filter((o) => o.kind === 'EndpointSlice')) {
    const service = slice.metadata.labels?.['kubernetes.io/service-name'] ?? slice.metadata.name;
    const ports = (slice.ports ?? []) as { port?: unknown }[];
    const endpoints = (slice.endpoints ?? []) as { addresses?: unknown[] }[];
    endpoints.forEach((e, i) => {
      for (const address of e.addresses ?? []) {
        if (typeof address !== 'string' || !/^127\.\d+\.\d+\.\d+$/.test(address)) continue;
        for (const p of ports) {
          if (typeof p.port !== 'number') continue;
          out.set(`${address}:${p.port}`, {
            host: address,
            port: p.port,
            name: `${service}-${i + 1}`,
          });
        }
      }
    });
  }
  return [...out.values()];
}

/** Whether something accepts connections at the address already. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(500);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export interface UpRunning extends Running {
  echoes: EchoServer[];
  hint: string;
}

type Scheme = 'http' | 'https';

/** A served host and path, as the table in force routes them, and where it listens. */
interface Served {
  host: string | undefined;
  path: string;
  address: string;
  port: number;
  scheme: Scheme;
}

/**
 * Every host and path served: on the proxy's HTTP listener, or for a route of a Gateway
 * listener on that listener (HTTP or HTTPS; on a port of its own, or on 80 and 443, the
 * proxy's own listeners).
 */
function servedRoutes(running: Running): Served[] {
  const http = running.addresses.http;
  const open =
    running.proxy.addresses.services ?? new Map<string, { address: string; port: number }>();
  const seen = new Map<string, Served>();
  const add = (
    host: string | undefined,
    path: string,
    at: { address: string; port: number },
    scheme: Scheme = 'http',
  ) => seen.set(`${at.port} ${host ?? '*'} ${path}`, { host, path, ...at, scheme });
  for (const e of running.controller.latest?.entries ?? []) {
    if (e.entry.kind === 'Service' || !e.accepted) continue;
    const path = e.entry.path ?? '/';
    const gateway = e.entry.listeners.filter((l) => l.gateway !== undefined);
    if (gateway.length === 0) {
      const hosts = e.entry.listeners.find((l) => l.hosts)?.hosts ?? [e.entry.host];
      if (http) for (const host of hosts) add(host === '*' ? undefined : host, path, http);
      continue;
    }
    for (const l of gateway) {
      if (l.protocol !== 'HTTP' && l.protocol !== 'HTTPS') continue;
      const secure = l.protocol === 'HTTPS';
      const own = secure ? running.addresses.https : http;
      const at = l.port === (secure ? 443 : 80) ? own : open.get(`${l.protocol}:${l.port}`);
      if (!at) continue;
      for (const host of l.hosts ?? [e.entry.host ?? '*'])
        add(host === '*' ? undefined : host, path, at, secure ? 'https' : 'http');
    }
  }
  return [...seen.values()].sort((a, b) =>
    `${a.host ?? ''}${a.path}${a.port}`.localeCompare(`${b.host ?? ''}${b.path}${b.port}`),
  );
}

/**
 * A command that reaches `host` + `path` on this machine exactly as printed: browsers and curl
 * send `*.localhost` to loopback by themselves; any other name needs curl's `--resolve`. Over
 * HTTPS it is curl with `-k`: the listener's certificate is the manifests', which this machine
 * has no reason to trust.
 */
export function tryLine(
  host: string | undefined,
  path: string,
  address: string,
  port: number,
  scheme: Scheme = 'http',
): string {
  const loopback = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  if (host?.startsWith('*.')) return tryLine(`www${host.slice(1)}`, path, address, port, scheme);
  const url =
    host === undefined
      ? `${scheme}://${formatAddress(loopback, port)}${path}`
      : `${scheme}://${host}:${port}${path}`;
  const secure = scheme === 'https';
  const resolve = host !== undefined && host !== 'localhost' && !host.endsWith('.localhost');
  if (!secure && !resolve) return url;
  return [
    'curl',
    ...(secure ? ['-k'] : []),
    ...(resolve ? [`--resolve ${host}:${port}:${loopback}`] : []),
    url,
  ].join(' ');
}

/** What the proxy answers in `up` to a request no route matches: what it does serve. */
function servedPage(running: Running): string {
  const http = running.addresses.http;
  const routes = servedRoutes(running);
  if (!http || routes.length === 0) return 'no route: this tether up serves no HTTP routes';
  return [
    'no route for this host and path. This tether up serves:',
    ...routes.map((r) => `  ${tryLine(r.host, r.path, r.address, r.port, r.scheme)}`),
  ].join('\n');
}

/** A command that reaches a Service port Tether listens on, per layer. */
function serviceTryLine(protocol: string, address: string, port: number): string {
  const loopback = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  if (protocol === 'HTTP') return `curl -si http://${formatAddress(loopback, port)}/`;
  // -k: the Service's certificate names the Service's hosts, not this loopback address.
  if (protocol === 'HTTPS') return `curl -ski https://${formatAddress(loopback, port)}/`;
  return protocol === 'UDP' ? `nc -u ${loopback} ${port}` : `nc ${loopback} ${port}`;
}

/** Every Service port served, with where it listens and a line to try it. */
function serviceLines(running: Running): string[] {
  const open =
    running.proxy.addresses.services ?? new Map<string, { address: string; port: number }>();
  const lines = new Map<string, string>();
  for (const e of running.controller.latest?.entries ?? []) {
    if (e.entry.kind !== 'Service' || !e.accepted) continue;
    for (const l of e.entry.listeners) {
      const protocol =
        l.protocol === 'TCP' || l.protocol === 'UDP' || l.protocol === 'HTTPS'
          ? l.protocol
          : 'HTTP';
      const key = `${protocol}:${l.port}`;
      const at = open.get(key);
      if (!at || lines.has(key)) continue;
      const mode =
        e.policy?.mode === 'sourceIp'
          ? ', source-IP persistence'
          : e.policy?.mode === 'cookie'
            ? ', cookie persistence'
            : '';
      lines.set(
        key,
        `  Service ${e.entry.namespace}/${e.entry.name} port ${l.port} (${protocol}${mode}) on ${formatAddress(at.address, at.port)}: ${serviceTryLine(protocol, at.address, at.port)}`,
      );
    }
  }
  return [...lines.values()];
}

/** Where to send a first request: every served host, and a cookie round trip on a sticky one. */
function hint(running: Running, dir: string): string {
  const http = running.addresses.http;
  const base = http ? `http://${formatAddress(http.address, http.port)}` : '(no HTTP listener)';
  const entries = running.controller.latest?.entries ?? [];
  const routed = entries.filter((e) => e.entry.kind !== 'Service');
  const services = serviceLines(running);
  const servicePart =
    services.length > 0
      ? [
          '',
          'Services of type LoadBalancer (each port moved by --service-port-offset):',
          ...services,
        ]
      : [];
  const admin = running.addresses.admin
    ? `http://${formatAddress(running.addresses.admin.address, running.addresses.admin.port)}`
    : 'off';
  const first = `Tether is serving ${dir} on ${base} (admin on ${admin})`;
  if (routed.length === 0 || !http) {
    return [
      first,
      ...(services.length > 0
        ? servicePart
        : ['', 'It holds no route, and no Service port Tether could open.']),
      '',
      `What Tether enforces on each listener, and why: tether explain -f ${dir}`,
      '',
      'Stop with Ctrl-C.',
      '',
    ].join('\n');
  }
  const sticky =
    routed.find((e) => e.accepted && e.policy && e.policy.mode !== 'none') ?? routed[0];
  const path = sticky?.entry.path ?? '/';
  // Where the sticky route is served: a Gateway listener may put it on a port of its own.
  // Plain HTTP where it is served so; else the HTTPS listener that serves it (curl -k).
  const served = servedRoutes(running);
  const preferred = [
    ...served.filter((r) => r.scheme === 'http'),
    ...served.filter((r) => r.scheme === 'https'),
  ];
  const place =
    preferred.find((r) => r.path === path && r.host === sticky?.entry.host) ??
    preferred.find((r) => r.path === path);
  const host = place?.host ?? sticky?.entry.host ?? 'localhost';
  const tryBase = place ? `${place.scheme}://${formatAddress(place.address, place.port)}` : base;
  const curl = place?.scheme === 'https' ? 'curl -k' : 'curl';
  const cookie = sticky?.policy?.cookie?.name;
  const lines = [
    first,
    '',
    'Open:',
    ...served.map((r) => `  ${tryLine(r.host, r.path, r.address, r.port, r.scheme)}`),
    ...servicePart,
    '',
    'Try it: the first answer sets the session cookie, the next ones come from the same endpoint.',
    `  ${curl} -si -c /tmp/tether.cookies -H 'Host: ${host}' ${tryBase}${path} | grep -i -e '^set-cookie' -e '^x-endpoint'`,
    `  for i in 1 2 3 4 5; do ${curl} -s -b /tmp/tether.cookies -H 'Host: ${host}' -o /dev/null -D - ${tryBase}${path} | grep -i '^x-endpoint'; done`,
  ];
  if (cookie)
    lines.push(
      `  (the session cookie is ${cookie}; without it, requests are balanced across endpoints)`,
    );
  lines.push('', 'Stop with Ctrl-C.');
  return `${lines.join('\n')}\n`;
}

/** Service ports below 1024 need root: `up` moves them all by this much unless told otherwise. */
export const UP_SERVICE_PORT_OFFSET = 10000;

/** `serve --manifests DIR` plus an echo backend for every loopback endpoint nothing serves. */
export async function startUp(
  dir: string,
  options: Omit<ServeOptions, 'manifests'>,
): Promise<UpRunning> {
  const { objects } = new FileSource({ paths: [dir] }).read();
  const echoes: EchoServer[] = [];
  for (const ep of loopbackEndpoints(objects)) {
    if (await listening(ep.host, ep.port)) continue;
    echoes.push(await startEcho({ host: ep.host, port: ep.port, name: ep.name }));
  }
  let running: Running | undefined;
  try {
    running = await startServe(
      { ...options, manifests: [dir] },
      {
        notFoundText: () => (running ? servedPage(running) : 'no route'),
        servicePortOffset: UP_SERVICE_PORT_OFFSET,
      },
    );
    await running.proxy.serviceListenersSettled();
  } catch (e) {
    await Promise.all(echoes.map((x) => x.close()));
    throw e;
  }
  const started = running;
  return {
    ...started,
    echoes,
    hint: hint(started, dir),
    async stop() {
      await started.stop();
      await Promise.all(echoes.map((x) => x.close()));
    },
  };
}
