import { afterEach, describe, expect, it } from '@jest/globals';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import {
  createRouteTable,
  type BackendSet,
  type Endpoint,
  type RouteTable,
} from '@tether/dataplane';
import type { PersistencePolicy } from '@tether/model';
import { connect as tlsConnect } from 'node:tls';
import { selfSignedCertificate } from '@tether/testkit';
import { Clock, silentLogger, startProxy, startProxyProcess, KEY } from './support';

/** TCP backends that greet with their name, then echo what they get. */
interface TcpBackend {
  name: string;
  port: number;
  server: Server;
  connections: number;
}

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function tcpBackend(name: string): Promise<TcpBackend> {
  const b: TcpBackend = { name, port: 0, server: createServer(), connections: 0 };
  const sockets = new Set<import('node:net').Socket>();
  b.server.on('connection', (s) => {
    b.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.write(`${name}\n`);
    s.pipe(s);
  });
  await new Promise<void>((resolve) => b.server.listen(0, '127.0.0.1', resolve));
  b.port = (b.server.address() as AddressInfo).port;
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        b.server.close(() => resolve());
      }),
  );
  return b;
}

async function udpBackend(name: string): Promise<{ name: string; port: number }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, r) => socket.send(`${name}:${msg.toString()}`, r.port, r.address));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  closers.push(() => {
    socket.close();
  });
  return { name, port: socket.address().port };
}

function endpoint(port: number, over: Partial<Endpoint> = {}): Endpoint {
  return { address: '127.0.0.1', port, ready: true, ...over };
}

const SOURCE_IP: PersistencePolicy = {
  mode: 'sourceIp',
  sourceIp: { timeoutSeconds: 60 },
  rebalance: 'persistent',
  onFailure: 'rebalance',
};

function set(
  endpoints: Endpoint[],
  policy = SOURCE_IP,
  id = 'Service/shop/db port 5432',
): BackendSet {
  return {
    id,
    policy,
    loadBalancing: { algorithm: 'roundRobin' },
    route: {},
    backends: [{ ref: { namespace: 'shop', service: 'db', port: 5432 }, endpoints }],
  };
}

function table(streams: RouteTable['streams'], version = '1'): RouteTable {
  return { version, listeners: [], streams };
}

/** A free port on loopback, to serve a Service port on. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Connects from `from` (a loopback address), reads the greeting, sends `ping`, reads it back. */
function greet(port: number, from = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: from });
    let data = '';
    socket.on('data', (d: Buffer) => {
      data += d.toString();
      if (data.includes('\n') && !data.includes('ping')) socket.write('ping');
      if (data.includes('ping')) {
        socket.end();
        resolve(data.split('\n')[0]!);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) =>
      err.code === 'ECONNRESET' ? resolve(data ? data.split('\n')[0]! : 'reset') : reject(err),
    );
    socket.on('close', () => resolve(data.split('\n')[0] || 'closed'));
  });
}

async function proxyWith(t: RouteTable, clock?: Clock) {
  const port = (t.streams ?? [])[0]?.port ?? 0;
  const proxy = await startProxy(createRouteTable(t), {
    services: { host: '127.0.0.1' },
    ...(clock ? { clock: clock.now } : {}),
  });
  closers.push(() => proxy.stop());
  return { proxy, port };
}

describe('TCP Service ports', () => {
  it('keeps each client address on one endpoint and spreads addresses over the endpoints', async () => {
    const [a, b] = await Promise.all([tcpBackend('a'), tcpBackend('b')]);
    const port = await freePort();
    await proxyWith(
      table([{ protocol: 'TCP', port, backendSet: set([endpoint(a.port), endpoint(b.port)]) }]),
    );
    const seen = new Map<string, Set<string>>();
    for (let i = 2; i <= 13; i++) {
      const from = `127.0.0.${i}`;
      for (let j = 0; j < 3; j++) {
        const name = await greet(port, from);
        seen.set(from, (seen.get(from) ?? new Set()).add(name));
      }
    }
    for (const names of seen.values()) expect(names.size).toBe(1);
    const used = new Set([...seen.values()].flatMap((s) => [...s]));
    expect(used).toEqual(new Set(['a', 'b']));
  });

  it('remembers a client through an endpoint change until its timeout, then follows the hash', async () => {
    const backends = await Promise.all(['a', 'b', 'c', 'd'].map(tcpBackend));
    const port = await freePort();
    const clock = new Clock();
    const policy = { ...SOURCE_IP, sourceIp: { timeoutSeconds: 30 } };
    const first = backends.slice(0, 2).map((b) => endpoint(b.port));
    const { proxy } = await proxyWith(
      table([{ protocol: 'TCP', port, backendSet: set(first, policy) }]),
      clock,
    );
    const before = new Map<string, string>();
    for (let i = 2; i <= 21; i++) before.set(`127.0.0.${i}`, await greet(port, `127.0.0.${i}`));
    proxy.swap(
      createRouteTable(
        table(
          [
            {
              protocol: 'TCP',
              port,
              backendSet: set(
                backends.map((b) => endpoint(b.port)),
                policy,
              ),
            },
          ],
          '2',
        ),
      ),
    );
    clock.advance(20);
    for (const [from, name] of before) expect(await greet(port, from)).toBe(name);
    clock.advance(31);
    const after = new Map<string, string>();
    for (const from of before.keys()) after.set(from, await greet(port, from));
    // Past the timeout the new endpoints take the clients the hash gives them.
    expect([...after.values()].some((n) => n === 'c' || n === 'd')).toBe(true);
  });

  it('keeps clients on a draining endpoint and sends new ones elsewhere', async () => {
    const [a, b] = await Promise.all([tcpBackend('a'), tcpBackend('b')]);
    const port = await freePort();
    const { proxy } = await proxyWith(
      table([{ protocol: 'TCP', port, backendSet: set([endpoint(a.port), endpoint(b.port)]) }]),
    );
    const onA: string[] = [];
    for (let i = 2; i <= 30 && onA.length < 2; i++)
      if ((await greet(port, `127.0.0.${i}`)) === 'a') onA.push(`127.0.0.${i}`);
    proxy.swap(
      createRouteTable(
        table(
          [
            {
              protocol: 'TCP',
              port,
              backendSet: set([
                endpoint(a.port, { ready: false, serving: true, terminating: true }),
                endpoint(b.port),
              ]),
            },
          ],
          '2',
        ),
      ),
    );
    for (const from of onA) expect(await greet(port, from)).toBe('a');
    for (let i = 40; i <= 50; i++) expect(await greet(port, `127.0.0.${i}`)).toBe('b');
  });

  it('moves a client whose endpoint refuses to another, and resets at once when none is left', async () => {
    const [a, b] = await Promise.all([tcpBackend('a'), tcpBackend('b')]);
    const port = await freePort();
    await proxyWith(
      table([{ protocol: 'TCP', port, backendSet: set([endpoint(a.port), endpoint(b.port)]) }]),
    );
    await new Promise<void>((resolve) => b.server.close(() => resolve()));
    for (let i = 2; i <= 12; i++) expect(await greet(port, `127.0.0.${i}`)).toBe('a');
    await new Promise<void>((resolve) => a.server.close(() => resolve()));
    const started = Date.now();
    expect(await greet(port, '127.0.0.2')).toBe('reset');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps an open connection on its endpoint across a swap; new connections follow the new table', async () => {
    const [a, b] = await Promise.all([tcpBackend('a'), tcpBackend('b')]);
    const port = await freePort();
    const noPersistence: PersistencePolicy = {
      mode: 'none',
      rebalance: 'balanced',
      onFailure: 'rebalance',
    };
    const { proxy } = await proxyWith(
      table([{ protocol: 'TCP', port, backendSet: set([endpoint(a.port)], noPersistence) }]),
    );
    const socket = connect({ port, host: '127.0.0.1' });
    const received: string[] = [];
    socket.on('data', (d: Buffer) => received.push(d.toString()));
    await new Promise((resolve) => socket.once('data', resolve));
    proxy.swap(
      createRouteTable(
        table([{ protocol: 'TCP', port, backendSet: set([endpoint(b.port)], noPersistence) }], '2'),
      ),
    );
    socket.write('still-here');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.join('')).toBe('a\nstill-here');
    expect(await greet(port)).toBe('b');
    socket.destroy();
  });

  it('answers a Service with no endpoints by resetting the connection at once', async () => {
    const port = await freePort();
    await proxyWith(table([{ protocol: 'TCP', port, backendSet: set([]) }]));
    expect(await greet(port)).toBe('reset');
  });

  it('agrees across two proxy processes on where a new client goes', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map(tcpBackend));
    const port = await freePort();
    const t = table([
      { protocol: 'TCP', port, backendSet: set(backends.map((b) => endpoint(b.port))) },
    ]);
    const one = await startProxyProcess(t, { key: KEY, services: { host: '127.0.0.1' } });
    closers.push(() => {
      one.child.kill('SIGTERM');
    });
    // The second process serves the same Service port on another free port.
    const elsewhere = await freePort();
    const other = await startProxyProcess(t, {
      key: KEY,
      services: { host: '127.0.0.1', portOffset: elsewhere - port },
    });
    closers.push(() => {
      other.child.kill('SIGTERM');
    });
    expect(one.services[`TCP:${port}`]?.port).toBe(port);
    expect(other.services[`TCP:${port}`]?.port).toBe(elsewhere);
    for (let i = 2; i <= 16; i++) {
      const from = `127.0.0.${i}`;
      expect(await greet(elsewhere, from)).toBe(await greet(port, from));
    }
  });
});

describe('UDP Service ports', () => {
  it('carries datagrams both ways and keeps a client on one endpoint', async () => {
    const [a, b] = await Promise.all([udpBackend('a'), udpBackend('b')]);
    const port = await freePort();
    await proxyWith(
      table([
        {
          protocol: 'UDP',
          port,
          backendSet: set(
            [endpoint(a.port), endpoint(b.port)],
            SOURCE_IP,
            'Service/shop/dns port 53',
          ),
        },
      ]),
    );
    const ask = (client: UdpSocket, text: string) =>
      new Promise<string>((resolve) => {
        client.once('message', (m) => resolve(m.toString()));
        client.send(text, port, '127.0.0.1');
      });
    const names = new Set<string>();
    for (let i = 2; i <= 9; i++) {
      const client = createSocket('udp4');
      await new Promise<void>((resolve) => client.bind(0, `127.0.0.${i}`, resolve));
      closers.push(() => {
        client.close();
      });
      const first = await ask(client, 'one');
      const second = await ask(client, 'two');
      expect(first.endsWith(':one')).toBe(true);
      expect(second).toBe(`${first.split(':')[0]}:two`);
      names.add(first.split(':')[0]!);
    }
    expect(names).toEqual(new Set(['a', 'b']));
  });
});

describe('hostile peers on Service ports', () => {
  it('relays the datagrams a new flow sends before its socket to the endpoint is connected', async () => {
    const a = await udpBackend('a');
    const port = await freePort();
    await proxyWith(
      table([{ protocol: 'UDP', port, backendSet: set([endpoint(a.port)], SOURCE_IP, 'udp') }]),
    );
    const client = createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', resolve));
    closers.push(() => {
      client.close();
    });
    const replies: string[] = [];
    const all = new Promise<void>((resolve) =>
      client.on('message', (m) => {
        replies.push(m.toString());
        if (replies.length === 3) resolve();
      }),
    );
    for (const text of ['one', 'two', 'three']) client.send(text, port, '127.0.0.1');
    await all;
    expect(replies.sort()).toEqual(['a:one', 'a:three', 'a:two']);
  });

  it('keeps serving after clients that reset at once and an endpoint that hangs up', async () => {
    const a = await tcpBackend('a');
    const rude = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => rude.close(() => resolve())));
    const port = await freePort();
    const rudePort = (rude.address() as AddressInfo).port;
    await proxyWith(
      table([
        {
          protocol: 'TCP',
          port,
          backendSet: set([endpoint(rudePort), endpoint(a.port)], {
            mode: 'none',
            rebalance: 'balanced',
            onFailure: 'rebalance',
          }),
        },
      ]),
    );
    await Promise.all(
      Array.from(
        { length: 50 },
        () =>
          new Promise<void>((resolve) => {
            const s = connect({ port, host: '127.0.0.1' }, () => s.resetAndDestroy());
            s.on('error', () => undefined);
            s.on('close', () => resolve());
          }),
      ),
    );
    const names = new Set<string>();
    for (let i = 0; i < 6; i++) names.add(await greet(port));
    expect(names.has('a')).toBe(true);
  });
});

describe('TCP Service ports that end TLS (OCI ssl-ports on a TCP listener)', () => {
  /** Over TLS, verified against `ca`: the backend's greeting, then `ping` echoed in plain text. */
  function greetTls(port: number, ca: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'db.shop.test', ca });
      let data = '';
      socket.on('data', (d: Buffer) => {
        data += d.toString();
        if (data.includes('\n') && !data.includes('ping')) socket.write('ping');
        if (data.includes('ping')) {
          socket.end();
          resolve(data);
        }
      });
      socket.on('error', reject);
    });
  }

  it('ends TLS with the certificate for the port and relays the plain stream', async () => {
    const backend = await tcpBackend('db-1');
    const pem = selfSignedCertificate('db.shop.test');
    const port = await freePort();
    const t: RouteTable = {
      ...table([{ protocol: 'TCP', port, tls: true, backendSet: set([endpoint(backend.port)]) }]),
      certificates: [{ hosts: [], port, cert: pem.cert, key: pem.key }],
    };
    await proxyWith(t);
    // The backend greets in plain text and echoes plain bytes: it never saw TLS.
    expect(await greetTls(port, pem.cert)).toBe('db-1\nping');
  });

  it('keeps the port closed without its certificate, rather than relaying TLS as it came', async () => {
    const backend = await tcpBackend('db-1');
    const port = await freePort();
    const { proxy } = await proxyWith(
      table([{ protocol: 'TCP', port, tls: true, backendSet: set([endpoint(backend.port)]) }]),
    );
    expect(proxy.addresses.services?.has(`TCP:${port}`)).toBe(false);
    await expect(greet(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses tls on a UDP stream', () => {
    expect(() =>
      createRouteTable(table([{ protocol: 'UDP', port: 53, tls: true, backendSet: set([]) }])),
    ).toThrow(/tls: only true, and only on a TCP stream/);
  });
});

describe('Service ports in the table', () => {
  it('refuses cookie persistence on a stream and a port listed twice', () => {
    const cookie = { ...SOURCE_IP, mode: 'cookie' } as PersistencePolicy;
    expect(() =>
      createRouteTable(
        table([
          { protocol: 'TCP', port: 80, backendSet: set([], cookie) },
          { protocol: 'TCP', port: 80, backendSet: set([], SOURCE_IP, 'other') },
          { protocol: 'UDP', port: 0, backendSet: set([], SOURCE_IP, 'third') },
        ]),
      ),
    ).toThrow(/cookie persistence needs HTTP.*listed twice.*1\.\.65535/s);
  });

  it('reports a port the offset moves out of range and serves the table anyway', async () => {
    const proxy = await startProxy(
      createRouteTable(table([{ protocol: 'TCP', port: 65000, backendSet: set([]) }])),
      { services: { host: '127.0.0.1', portOffset: 1000 } },
    );
    closers.push(() => proxy.stop());
    expect([...proxy.servicePortProblems.keys()]).toEqual(['TCP:65000']);
    expect(proxy.table?.version).toBe('1');
  });

  it('does not open Service ports without the services option', async () => {
    const port = await freePort();
    const proxy = await startProxy(
      createRouteTable(table([{ protocol: 'TCP', port, backendSet: set([]) }])),
      { logger: silentLogger() },
    );
    closers.push(() => proxy.stop());
    expect(proxy.addresses.services).toBeUndefined();
  });
});
