/**
 * gRPC through the proxy with real gRPC clients and servers (@grpc/grpc-js): sets whose
 * endpoints speak HTTP/2 (GRPC in clear text, GRPCS over TLS), unary and server-streaming calls
 * kept on one endpoint by the session cookie and by the session header, statuses and trailers
 * passed through, and the proxy's own failures as gRPC statuses (14 UNAVAILABLE).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { PersistencePolicy, RouteSettings } from '@tether/model';
import type { Proxy, WeightedBackend } from '@tether/dataplane';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import { backendSet, cookiePolicy, simpleTable, startProxy } from './support';
import {
  EchoClientCtor,
  failure,
  grpcBackend,
  stickyCookie,
  who,
  type Answer,
  type EchoClient,
  type GrpcBackend,
} from '../../support/grpc';

function grpcBackends(backends: GrpcBackend[]): WeightedBackend {
  return {
    ref: { namespace: 'default', service: 'grpc', port: 50051 },
    endpoints: backends.map((b) => ({ address: '127.0.0.1', port: b.port, ready: true })),
  };
}

let proxyPem: PemPair;
let plain: GrpcBackend[];
const stops: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  proxyPem = selfSignedCertificate('grpc.example.test');
  plain = await Promise.all(['g1', 'g2', 'g3'].map((n) => grpcBackend(n)));
  stops.push(() => plain.forEach((b) => b.server.forceShutdown()));
});
afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

/** A proxy for one gRPC set: HTTPS with h2, and h2c on the plain listener. */
async function proxyFor(
  backend: WeightedBackend,
  policy: PersistencePolicy = cookiePolicy(),
  route: RouteSettings = { backendProtocol: 'GRPC' },
): Promise<Proxy & { port: number; tlsPort: number }> {
  const p = await startProxy(simpleTable(backendSet([backend], { policy, route })), {
    http: { port: 0, http2: true },
    https: { port: 0, ...proxyPem },
  });
  stops.push(() => p.stop());
  return Object.assign(p, { tlsPort: p.addresses.https?.port ?? 0 });
}

function client(port: number, tls: boolean): EchoClient {
  const c = tls
    ? new EchoClientCtor(`127.0.0.1:${port}`, credentials.createSsl(Buffer.from(proxyPem.cert)), {
        'grpc.ssl_target_name_override': 'grpc.example.test',
      })
    : new EchoClientCtor(`127.0.0.1:${port}`, credentials.createInsecure());
  stops.push(() => c.close());
  // The generic constructor makes one method per definition; its type cannot say which.
  return c as unknown as EchoClient;
}

describe('gRPC to endpoints that speak HTTP/2 in clear text', () => {
  it.each([
    ['h2c', false],
    ['TLS with ALPN h2', true],
  ])('keeps unary calls on one endpoint by the session cookie (%s)', async (_name, tls) => {
    const p = await proxyFor(grpcBackends(plain));
    const c = client(tls ? p.tlsPort : p.port, tls);
    const first = await who(c);
    const cookie = stickyCookie(first.head);
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const r = await who(c, { cookie: `${cookie}; app=1` });
      seen.add(r.answer.endpoint);
      // The proxy's cookie stops at the proxy; the app's goes on.
      expect(r.answer.cookie).toBe('app=1');
    }
    expect([...seen]).toEqual([first.answer.endpoint]);
    const spread = new Set<string>();
    for (let i = 0; i < 9; i++) spread.add((await who(c)).answer.endpoint);
    expect(spread.size).toBe(3);
  });

  it('keeps a server-streaming call on the pinned endpoint, with its trailers', async () => {
    const p = await proxyFor(grpcBackends(plain));
    const c = client(p.port, false);
    const first = await who(c);
    const metadata = new Metadata();
    metadata.set('cookie', stickyCookie(first.head));
    const answers: Answer[] = [];
    const trailers = await new Promise<{ code: number }>((resolve, reject) => {
      const stream = c.count({ count: 5 }, metadata);
      stream.on('data', (a: Answer) => answers.push(a));
      stream.on('status', resolve);
      stream.on('error', reject);
    });
    expect(trailers.code).toBe(status.OK);
    expect(answers.map((a) => a.i)).toEqual([0, 1, 2, 3, 4]);
    expect(new Set(answers.map((a) => a.endpoint))).toEqual(new Set([first.answer.endpoint]));
  });

  it('streams a bidirectional call both ways, message by message, on the pinned endpoint', async () => {
    const p = await proxyFor(grpcBackends(plain));
    const c = client(p.port, false);
    const first = await who(c);
    const metadata = new Metadata();
    metadata.set('cookie', stickyCookie(first.head));
    const call = c.chat(metadata);
    const answers: Answer[] = [];
    const next = (): Promise<Answer> =>
      new Promise((resolve) => call.once('data', (a: Answer) => resolve(a)));
    // Each message is answered before the next is sent: nothing waits for the end of the body.
    for (let i = 0; i < 3; i++) {
      const answer = next();
      call.write({ count: i });
      answers.push(await answer);
    }
    const ended = new Promise<{ code: number }>((resolve) => call.on('status', resolve));
    call.end();
    expect((await ended).code).toBe(status.OK);
    expect(answers).toEqual([0, 1, 2].map((i) => ({ endpoint: first.answer.endpoint, i })));
  });

  it('keeps calls on one endpoint by the session header', async () => {
    const p = await proxyFor(grpcBackends(plain), {
      mode: 'header',
      header: { name: 'x-session' },
      rebalance: 'persistent',
      onFailure: 'rebalance',
    });
    const c = client(p.port, false);
    const first = await who(c);
    const session = String(first.head.get('x-session')[0] ?? '');
    expect(session).not.toBe('');
    for (let i = 0; i < 8; i++)
      expect((await who(c, { 'x-session': session })).answer.endpoint).toBe(first.answer.endpoint);
  });

  it("passes the endpoint's status and message through", async () => {
    const p = await proxyFor(grpcBackends(plain.slice(0, 1)));
    const c = client(p.port, false);
    const err = await failure((done) => c.fail({}, new Metadata(), done));
    expect(err.code).toBe(status.NOT_FOUND);
    expect(err.details).toBe('no such thing at g1');
  });

  it('answers UNAVAILABLE when no endpoint answers, and moves on from one that refuses', async () => {
    const gone = { ref: { namespace: 'default', service: 'gone', port: 1 }, endpoints: [] };
    const refusing: WeightedBackend = {
      ...grpcBackends(plain.slice(0, 1)),
      endpoints: [{ address: '127.0.0.1', port: 9, ready: true }],
    };
    const c = client((await proxyFor(refusing)).port, false);
    const err = await failure((done) => c.who({}, new Metadata(), done));
    expect(err.code).toBe(status.UNAVAILABLE);
    expect(err.details).toBe('upstream unavailable');

    const none = client((await proxyFor(gone as WeightedBackend)).port, false);
    expect((await failure((done) => none.who({}, new Metadata(), done))).code).toBe(
      status.UNAVAILABLE,
    );

    // One endpoint refuses: the call goes to the other (nothing of it had been read).
    const mixed = grpcBackends(plain.slice(0, 1));
    mixed.endpoints = [{ address: '127.0.0.1', port: 9, ready: true }, ...mixed.endpoints];
    const m = client((await proxyFor(mixed)).port, false);
    for (let i = 0; i < 4; i++) expect((await who(m)).answer.endpoint).toBe('g1');
  });
});

describe('gRPC to endpoints that speak HTTP/2 over TLS (GRPCS)', () => {
  it('verifies the endpoint as the set says and keeps the session', async () => {
    const pem = selfSignedCertificate('backend.grpc.test');
    const secure = await Promise.all(['s1', 's2'].map((n) => grpcBackend(n, pem)));
    stops.push(() => secure.forEach((b) => b.server.forceShutdown()));
    const verified: RouteSettings = {
      backendProtocol: 'GRPCS',
      backendTls: { verify: true, caCertificate: pem.cert, serverName: 'backend.grpc.test' },
    };
    const c = client((await proxyFor(grpcBackends(secure), cookiePolicy(), verified)).port, false);
    const first = await who(c);
    const cookie = stickyCookie(first.head);
    for (let i = 0; i < 6; i++)
      expect((await who(c, { cookie })).answer.endpoint).toBe(first.answer.endpoint);

    // Another CA: the certificate fails its check, and the call is UNAVAILABLE.
    const other = selfSignedCertificate('backend.grpc.test');
    const wrong = client(
      (
        await proxyFor(grpcBackends(secure), cookiePolicy(), {
          ...verified,
          backendTls: { ...verified.backendTls, caCertificate: other.cert },
        })
      ).port,
      false,
    );
    expect((await failure((done) => wrong.who({}, new Metadata(), done))).code).toBe(
      status.UNAVAILABLE,
    );
  });
});
