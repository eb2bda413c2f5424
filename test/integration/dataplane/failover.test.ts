/**
 * Scaling, endpoint failure, drain: what happens to existing sessions.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startEcho, startEchoes, type EchoServer } from '@tether/echo';
import type { PersistencePolicy } from '@tether/model';
import type { Endpoint, Proxy } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  cookiePair,
  cookiePolicy,
  endpointOf,
  simpleTable,
  startProxy,
} from './support';

let echoes: EchoServer[];
let extras: EchoServer[];
const proxies: Proxy[] = [];

beforeEach(async () => {
  echoes = await startEchoes(3);
  extras = [];
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
  await Promise.all([...echoes, ...extras].map((e) => e.close()));
});

function tableOf(policy: PersistencePolicy, endpoints: Endpoint[], version = '1') {
  return simpleTable(backendSet([backend([], { endpoints })], { policy }), version);
}

async function proxyWith(
  policy: PersistencePolicy,
  endpoints: Endpoint[] = echoes.map((e) => endpointOf(e)),
  limits = {},
): Promise<Proxy & { port: number }> {
  const p = await startProxy(tableOf(policy, endpoints), { limits });
  proxies.push(p);
  return p;
}

interface Session {
  pair: string;
  endpoint: string | undefined;
}

async function sessions(port: number, n: number): Promise<Session[]> {
  const out: Session[] = [];
  for (let i = 0; i < n; i++) {
    const r = await call(port);
    out.push({ pair: cookiePair(r) ?? '', endpoint: r.endpoint });
  }
  return out;
}

describe('scaling', () => {
  it('persistent: every session stays on its endpoint when endpoints are added', async () => {
    const policy = cookiePolicy();
    const p = await proxyWith(policy);
    const before = await sessions(p.port, 30);
    extras = [await startEcho({ name: 'n1' }), await startEcho({ name: 'n2' })];
    p.swap(
      tableOf(
        policy,
        [...echoes, ...extras].map((e) => endpointOf(e)),
        '2',
      ),
    );
    for (const s of before) {
      const r = await call(p.port, '/', { headers: { cookie: s.pair } });
      expect(r.endpoint).toBe(s.endpoint);
      expect(r.setCookies).toEqual([]);
    }
  });

  it('balanced: adding one endpoint to three moves about a quarter of the sessions, with no new cookie', async () => {
    const policy = cookiePolicy({ rebalance: 'balanced' });
    const p = await proxyWith(policy);
    const before = await sessions(p.port, 80);
    extras = [await startEcho({ name: 'n1' })];
    p.swap(
      tableOf(
        policy,
        [...echoes, ...extras].map((e) => endpointOf(e)),
        '2',
      ),
    );
    let moved = 0;
    for (const s of before) {
      const r = await call(p.port, '/', { headers: { cookie: s.pair } });
      expect(r.setCookies).toEqual([]);
      if (r.endpoint !== s.endpoint) {
        moved++;
        expect(r.endpoint).toBe('n1');
      }
    }
    expect(moved).toBeGreaterThan(8);
    expect(moved).toBeLessThan(34);
  });

  it('balanced: removing an endpoint moves only its sessions, silently', async () => {
    const policy = cookiePolicy({ rebalance: 'balanced' });
    const p = await proxyWith(policy);
    const before = await sessions(p.port, 30);
    const [gone, ...kept] = echoes as [EchoServer, ...EchoServer[]];
    p.swap(
      tableOf(
        policy,
        kept.map((e) => endpointOf(e)),
        '2',
      ),
    );
    for (const s of before) {
      const r = await call(p.port, '/', { headers: { cookie: s.pair } });
      expect(r.setCookies).toEqual([]);
      if (s.endpoint !== gone.name) expect(r.endpoint).toBe(s.endpoint);
      else expect(r.endpoint).not.toBe(gone.name);
    }
  });
});

describe('endpoint failure', () => {
  it('rebalance: a session whose endpoint is gone moves and gets a new cookie', async () => {
    const policy = cookiePolicy();
    const p = await proxyWith(policy);
    const [first] = await sessions(p.port, 1);
    const survivors = echoes.filter((e) => e.name !== first?.endpoint);
    p.swap(
      tableOf(
        policy,
        survivors.map((e) => endpointOf(e)),
        '2',
      ),
    );
    const r = await call(p.port, '/', { headers: { cookie: first?.pair ?? '' } });
    expect(r.endpoint).not.toBe(first?.endpoint);
    const next = cookiePair(r);
    expect(next).toBeDefined();
    expect((await call(p.port, '/', { headers: { cookie: next ?? '' } })).endpoint).toBe(
      r.endpoint,
    );
  });

  it('rebalance: a refused connection is retried once elsewhere with a new cookie; a body is never replayed', async () => {
    const p = await proxyWith(cookiePolicy());
    const [s] = await sessions(p.port, 1);
    const pinned = echoes.find((e) => e.name === s?.endpoint);
    await pinned?.refuse();
    const get = await call(p.port, '/', { headers: { cookie: s?.pair ?? '' } });
    expect(get.status).toBe(200);
    expect(get.endpoint).not.toBe(s?.endpoint);
    expect(cookiePair(get)).toBeDefined();

    // A POST pinned to a refusing endpoint that is not yet known to be down: 502, and no
    // other endpoint ever sees its body.
    const p2 = await proxyWith(cookiePolicy());
    const others = echoes.filter((e) => e !== pinned);
    await pinned?.accept();
    let pinnedPair = '';
    for (let i = 0; i < 6 && !pinnedPair; i++) {
      const r = await call(p2.port);
      if (r.endpoint === pinned?.name) pinnedPair = cookiePair(r) ?? '';
    }
    await pinned?.refuse();
    const bytesBefore = others.reduce((n, e) => n + e.bodyBytes, 0);
    const post = await call(p2.port, '/', {
      method: 'POST',
      headers: { cookie: pinnedPair, 'content-type': 'text/plain' },
      body: 'x'.repeat(5000),
    });
    expect(post.status).toBe(502);
    expect(others.reduce((n, e) => n + e.bodyBytes, 0)).toBe(bytesBefore);
    // Now the endpoint is known to be down: the next POST moves before anything is sent.
    const again = await call(p2.port, '/', {
      method: 'POST',
      headers: { cookie: pinnedPair },
      body: 'y'.repeat(300),
    });
    expect(again.status).toBe(200);
    expect((JSON.parse(again.body) as { bodyBytes: number }).bodyBytes).toBe(300);
    expect(cookiePair(again)).toBeDefined();
  });

  it('fail: 502 for as long as the client presents the cookie; others are served', async () => {
    const p = await proxyWith(cookiePolicy({ onFailure: 'fail' }), undefined, {
      endpointDownMs: 50,
    });
    const [s] = await sessions(p.port, 1);
    const pinned = echoes.find((e) => e.name === s?.endpoint);
    await pinned?.refuse();
    for (let i = 0; i < 4; i++) {
      const r = await call(p.port, '/', { headers: { cookie: s?.pair ?? '' } });
      expect(r.status).toBe(502);
      expect(r.setCookies).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    const fresh = await call(p.port);
    expect(fresh.status).toBe(200);
    expect(fresh.endpoint).not.toBe(pinned?.name);
  });

  it('retryPinned: a listed endpoint that refuses answers 502 with no new cookie; once gone, the client moves', async () => {
    const policy = cookiePolicy({ onFailure: 'retryPinned' });
    const p = await proxyWith(policy, undefined, { endpointDownMs: 10_000 });
    const [s] = await sessions(p.port, 1);
    const pinned = echoes.find((e) => e.name === s?.endpoint);
    await pinned?.refuse();
    const before = pinned?.requests ?? 0;
    // Tried again each time (no passive health check), never moved while it is listed.
    for (let i = 0; i < 3; i++) {
      const r = await call(p.port, '/', { headers: { cookie: s?.pair ?? '' } });
      expect(r.status).toBe(502);
      expect(r.setCookies).toEqual([]);
    }
    await pinned?.accept();
    const back = await call(p.port, '/', { headers: { cookie: s?.pair ?? '' } });
    expect(back.endpoint).toBe(pinned?.name);
    expect((pinned?.requests ?? 0) - before).toBe(1);
    // Gone from the table: the session moves, with a new cookie.
    p.swap(
      tableOf(
        policy,
        echoes.filter((e) => e !== pinned).map((e) => endpointOf(e)),
        '2',
      ),
    );
    const moved = await call(p.port, '/', { headers: { cookie: s?.pair ?? '' } });
    expect(moved.status).toBe(200);
    expect(moved.endpoint).not.toBe(pinned?.name);
    expect(cookiePair(moved)).toBeDefined();
    // A client without a session is balanced as usual.
    expect((await call(p.port)).status).toBe(200);
  });

  it('retryElsewhere: the same request is retried on another endpoint and gets a new cookie', async () => {
    const p = await proxyWith(cookiePolicy({ onFailure: 'retryElsewhere' }));
    const [s] = await sessions(p.port, 1);
    await echoes.find((e) => e.name === s?.endpoint)?.refuse();
    const r = await call(p.port, '/', { headers: { cookie: s?.pair ?? '' } });
    expect(r.status).toBe(200);
    expect(r.endpoint).not.toBe(s?.endpoint);
    expect(cookiePair(r)).not.toBe(s?.pair);
  });
});

describe('drain', () => {
  it('a terminating but serving endpoint keeps its sessions and gets no new ones; a not-serving one gets nothing', async () => {
    const policy = cookiePolicy();
    const p = await proxyWith(policy);
    const before = await sessions(p.port, 12);
    const [draining] = echoes as [EchoServer];
    const drainingEndpoints = echoes.map((e) =>
      endpointOf(e, e === draining ? { ready: false, serving: true, terminating: true } : {}),
    );
    p.swap(tableOf(policy, drainingEndpoints, '2'));
    for (const s of before) {
      expect((await call(p.port, '/', { headers: { cookie: s.pair } })).endpoint).toBe(s.endpoint);
    }
    for (let i = 0; i < 12; i++) expect((await call(p.port)).endpoint).not.toBe(draining.name);

    const gone = echoes.map((e) =>
      endpointOf(e, e === draining ? { ready: false, serving: false, terminating: true } : {}),
    );
    p.swap(tableOf(policy, gone, '3'));
    for (const s of before) {
      const r = await call(p.port, '/', { headers: { cookie: s.pair } });
      expect(r.endpoint).not.toBe(draining.name);
      if (s.endpoint === draining.name) expect(cookiePair(r)).toBeDefined();
    }
  });

  it('balanced mode: sessions on a draining endpoint stay, new sessions avoid it', async () => {
    const policy = cookiePolicy({ rebalance: 'balanced' });
    const p = await proxyWith(policy);
    const before = await sessions(p.port, 15);
    const [draining] = echoes as [EchoServer];
    p.swap(
      tableOf(
        policy,
        echoes.map((e) =>
          endpointOf(e, e === draining ? { ready: false, serving: true, terminating: true } : {}),
        ),
        '2',
      ),
    );
    for (const s of before)
      expect((await call(p.port, '/', { headers: { cookie: s.pair } })).endpoint).toBe(s.endpoint);
    const fresh = await sessions(p.port, 15);
    for (const s of fresh) {
      expect(s.endpoint).not.toBe(draining.name);
      expect((await call(p.port, '/', { headers: { cookie: s.pair } })).endpoint).toBe(s.endpoint);
    }
  });

  it('weight 0 keeps existing sessions only', async () => {
    const policy = cookiePolicy();
    const p = await proxyWith(policy);
    const before = await sessions(p.port, 6);
    const [zero] = echoes as [EchoServer];
    p.swap(
      tableOf(
        policy,
        echoes.map((e) => endpointOf(e, e === zero ? { weight: 0 } : {})),
        '2',
      ),
    );
    for (const s of before)
      expect((await call(p.port, '/', { headers: { cookie: s.pair } })).endpoint).toBe(s.endpoint);
    for (let i = 0; i < 6; i++) expect((await call(p.port)).endpoint).not.toBe(zero.name);
  });
});
