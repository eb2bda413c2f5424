/**
 * Application-cookie, source-IP and header persistence.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { PersistencePolicy } from '@tether/model';
import type { Proxy } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  Clock,
  cookiePair,
  cookieSpec,
  simpleTable,
  startProxy,
} from './support';

let echoes: EchoServer[];
const proxies: Proxy[] = [];

beforeAll(async () => {
  echoes = await startEchoes(3);
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

async function proxyWith(
  policy: PersistencePolicy,
  clock?: Clock,
): Promise<Proxy & { port: number }> {
  const p = await startProxy(
    simpleTable(backendSet([backend(echoes)], { policy })),
    clock ? { clock: clock.now } : {},
  );
  proxies.push(p);
  return p;
}

const appPolicy = (name: string): PersistencePolicy => ({
  mode: 'appCookie',
  appCookie: { name },
  cookie: cookieSpec({ name: 'X-Oracle-BMC-LBS-Route' }),
  rebalance: 'persistent',
  onFailure: 'rebalance',
});

describe('application cookie', () => {
  it('starts stickiness only when the backend sets its cookie, and ends it when the backend deletes it', async () => {
    const p = await proxyWith(appPolicy('JSESSIONID'));
    // Before the backend sets its cookie: normal balancing, no companion cookie.
    const plain = await call(p.port, '/?set-cookie=other=1');
    expect(cookiePair(plain, 'X-Oracle-BMC-LBS-Route')).toBeUndefined();
    const login = await call(p.port, '/login?set-cookie=JSESSIONID=abc');
    const companion = cookiePair(login, 'X-Oracle-BMC-LBS-Route');
    expect(companion).toBeDefined();
    expect(login.setCookies).toContain('JSESSIONID=abc; Path=/');
    for (let i = 0; i < 6; i++) {
      const r = await call(p.port, '/', { headers: { cookie: `JSESSIONID=abc; ${companion}` } });
      expect(r.endpoint).toBe(login.endpoint);
      expect(r.setCookies).toEqual([]);
    }
    const logout = await call(p.port, '/logout?delete-cookie=JSESSIONID', {
      headers: { cookie: `JSESSIONID=abc; ${companion}` },
    });
    expect(logout.endpoint).toBe(login.endpoint);
    expect(logout.setCookies.find((c) => c.startsWith('X-Oracle-BMC-LBS-Route='))).toMatch(
      /^X-Oracle-BMC-LBS-Route=; Path=\/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT/,
    );
  });

  it('with * any backend cookie starts a session', async () => {
    const p = await proxyWith(appPolicy('*'));
    const r = await call(p.port, '/?set-cookie=anything=1');
    expect(cookiePair(r, 'X-Oracle-BMC-LBS-Route')).toBeDefined();
    const none = await call(p.port, '/');
    expect(none.setCookies).toEqual([]);
  });
});

describe('source IP persistence', () => {
  it('keeps a client address on one endpoint and forgets it after the timeout', async () => {
    const clock = new Clock();
    const p = await proxyWith(
      {
        mode: 'sourceIp',
        sourceIp: { timeoutSeconds: 60 },
        rebalance: 'persistent',
        onFailure: 'rebalance',
      },
      clock,
    );
    const first = await call(p.port);
    for (let i = 0; i < 5; i++) {
      clock.advance(50); // each request restarts the window
      expect((await call(p.port)).endpoint).toBe(first.endpoint);
    }
    clock.advance(61);
    // After the window the next request is balanced again (round robin moves on).
    const after = new Set<string | undefined>();
    for (let i = 0; i < 3; i++) {
      clock.advance(61);
      after.add((await call(p.port)).endpoint);
    }
    expect(after.size).toBeGreaterThan(1);
  });
});

describe('header persistence', () => {
  const policy: PersistencePolicy = {
    mode: 'header',
    header: { name: 'X-Session' },
    rebalance: 'persistent',
    onFailure: 'rebalance',
    absoluteTimeoutSeconds: 120,
  };

  it('returns the session in a header, follows it when echoed, and enforces the timeout', async () => {
    const clock = new Clock();
    const p = await proxyWith(policy, clock);
    const first = await call(p.port);
    const session = first.headers['x-session'];
    expect(typeof session).toBe('string');
    for (let i = 0; i < 5; i++) {
      const r = await call(p.port, '/', { headers: { 'x-session': String(session) } });
      expect(r.endpoint).toBe(first.endpoint);
      expect(r.headers['x-session']).toBeUndefined();
    }
    clock.advance(121);
    const late = await call(p.port, '/', { headers: { 'x-session': String(session) } });
    expect(late.headers['x-session']).toBeDefined();
    expect(late.headers['x-session']).not.toBe(session);
  });
});
