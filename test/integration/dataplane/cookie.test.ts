/**
 * Balancer-inserted cookies: attributes, re-issue rules, signatures, expiry and timeouts,
 * and two proxy instances sharing a key.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { Proxy } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  Clock,
  cookiePair,
  cookiePolicy,
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
  policy = cookiePolicy(),
  clock?: Clock,
  setId?: string,
): Promise<Proxy & { port: number }> {
  const p = await startProxy(
    simpleTable(backendSet([backend(echoes)], { policy, ...(setId ? { id: setId } : {}) })),
    clock ? { clock: clock.now } : {},
  );
  proxies.push(p);
  return p;
}

describe('cookie persistence', () => {
  it('pins a session to one endpoint and issues no new cookie while the cookie is valid', async () => {
    const p = await proxyWith();
    const first = await call(p.port);
    const pair = cookiePair(first);
    expect(pair).toMatch(/^STICKY=[A-Za-z0-9_-]{47}$/);
    for (let i = 0; i < 8; i++) {
      const r = await call(p.port, '/x', { headers: { cookie: `other=1; ${pair}` } });
      expect(r.endpoint).toBe(first.endpoint);
      expect(r.setCookies).toEqual([]);
    }
  });

  it('never puts an address in the cookie and strips it before the backend (indirect)', async () => {
    const p = await proxyWith();
    const first = await call(p.port);
    const pair = cookiePair(first) ?? '';
    for (const e of echoes) expect(pair).not.toContain(String(e.port));
    const r = await call(p.port, '/', { headers: { cookie: `${pair}; app=1` } });
    const seen = JSON.parse(r.body) as { headers: Record<string, string> };
    expect(seen.headers['cookie']).toBe('app=1');
  });

  it('writes Path, Domain, Max-Age, Expires per response, HttpOnly, SameSite and Cache-Control: private', async () => {
    const clock = new Clock();
    const p = await proxyWith(
      cookiePolicy(
        {},
        {
          path: '/shop',
          domain: 'example.com',
          lifetime: 'permanent',
          maxAgeSeconds: 600,
          expiresSeconds: 900,
          sameSite: 'Lax',
          nocache: true,
        },
      ),
      clock,
    );
    const a = await call(p.port);
    clock.advance(7);
    const b = await call(p.port, '/?cache-control=public,%20max-age=60');
    const expires = (ms: number): string => new Date(ms + 900_000).toUTCString();
    expect(a.setCookies[0]).toMatch(
      new RegExp(
        `^STICKY=[\\w-]+; Path=/shop; Domain=example.com; Max-Age=600; Expires=${expires(clock.ms - 7000)}; HttpOnly; SameSite=Lax$`,
      ),
    );
    expect(b.setCookies[0]).toContain(`Expires=${expires(clock.ms)}`);
    expect(a.headers['cache-control']).toBe('private');
    expect(b.headers['cache-control']).toBe('private, max-age=60');
  });

  it('leaves out SameSite=None for user agents that mishandle it, when asked', async () => {
    const p = await proxyWith(
      cookiePolicy({}, { sameSite: 'None', secure: 'always', omitSameSiteNoneForOldClients: true }),
    );
    const modern = await call(p.port, '/', {
      headers: {
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
      },
    });
    const old = await call(p.port, '/', {
      headers: {
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/60.0.3112.113 Safari/537.36',
      },
    });
    expect(modern.setCookies[0]).toMatch(/; Secure; HttpOnly; SameSite=None$/);
    expect(old.setCookies[0]).toMatch(/; Secure; HttpOnly$/);
  });

  it.each([
    ['garbage', 'STICKY=garbage'],
    ['empty', 'STICKY='],
    ['CR/LF and unicode', 'STICKY=\u00e9\u00e9'],
    ['huge', `STICKY=${'A'.repeat(6000)}`],
  ])('ignores a %s cookie: normal balancing and a fresh cookie', async (_name, cookie) => {
    const p = await proxyWith();
    const r = await call(p.port, '/', { headers: { cookie } });
    expect(r.status).toBe(200);
    expect(cookiePair(r)).toMatch(/^STICKY=[\w-]{47}$/);
  });

  it('does not honour a tampered cookie or one from another backend set', async () => {
    const p = await proxyWith();
    const other = await proxyWith(cookiePolicy(), undefined, 'Ingress/default/other#rules[0]');
    const pair = cookiePair(await call(other.port)) ?? '';
    const r = await call(p.port, '/', { headers: { cookie: pair } });
    expect(cookiePair(r)).toBeDefined();
    expect(cookiePair(r)).not.toBe(pair);
    const value = pair.split('=')[1] ?? '';
    const flipped = `STICKY=${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`;
    const t = await call(p.port, '/', { headers: { cookie: flipped } });
    expect(cookiePair(t)).toBeDefined();
  });

  it('enforces Max-Age inside the cookie: a replayed expired cookie starts a new session', async () => {
    const clock = new Clock();
    const p = await proxyWith(
      cookiePolicy({}, { lifetime: 'permanent', maxAgeSeconds: 60 }),
      clock,
    );
    const pair = cookiePair(await call(p.port)) ?? '';
    clock.advance(59);
    expect((await call(p.port, '/', { headers: { cookie: pair } })).setCookies).toEqual([]);
    clock.advance(1);
    const replay = await call(p.port, '/', { headers: { cookie: pair } });
    expect(cookiePair(replay)).toBeDefined();
    expect(cookiePair(replay)).not.toBe(pair);
  });

  it('enforces absoluteTimeout on a session cookie', async () => {
    const clock = new Clock();
    const p = await proxyWith(cookiePolicy({ absoluteTimeoutSeconds: 100 }), clock);
    const first = await call(p.port);
    const pair = cookiePair(first) ?? '';
    expect(first.setCookies[0]).not.toMatch(/Max-Age|Expires/);
    clock.advance(99);
    expect((await call(p.port, '/', { headers: { cookie: pair } })).setCookies).toEqual([]);
    clock.advance(2);
    expect(cookiePair(await call(p.port, '/', { headers: { cookie: pair } }))).not.toBe(pair);
  });

  it('enforces idleTimeout, refreshing the cookie while the client is active', async () => {
    const clock = new Clock();
    const p = await proxyWith(cookiePolicy({ idleTimeoutSeconds: 40 }), clock);
    const first = await call(p.port);
    let pair = cookiePair(first) ?? '';
    // Active every 30 s for five minutes: the session lives on, the cookie is refreshed.
    for (let i = 0; i < 10; i++) {
      clock.advance(30);
      const r = await call(p.port, '/', { headers: { cookie: pair } });
      expect(r.endpoint).toBe(first.endpoint);
      pair = cookiePair(r) ?? pair;
    }
    const stale = pair;
    clock.advance(41);
    const r = await call(p.port, '/', { headers: { cookie: stale } });
    expect(cookiePair(r)).toBeDefined();
    expect(cookiePair(r)).not.toBe(stale);
  });
});

describe('two proxy instances sharing a key', () => {
  it('route every cookie identically with no shared state', async () => {
    const a = await proxyWith();
    const b = await proxyWith();
    for (let i = 0; i < 6; i++) {
      const first = await call(a.port);
      const pair = cookiePair(first) ?? '';
      const r = await call(b.port, '/', { headers: { cookie: pair } });
      expect(r.endpoint).toBe(first.endpoint);
      expect(r.setCookies).toEqual([]);
    }
  });
});
