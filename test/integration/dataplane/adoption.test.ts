/**
 * Cookie adoption over real sockets: three echo endpoints, a client that presents a previous
 * controller's cookie for endpoint 2 lands on endpoint 2 and gets Tether's cookie for it, and
 * the next request with only Tether's cookie stays there. The previous cookies are computed
 * here from each controller's published algorithm (see packages/dataplane/src/adopt/*.ts for
 * the files and functions they come from), not with the code under test.
 */
import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { Proxy } from '@tether/dataplane';
import type { CookieAdoption, PersistencePolicy } from '@tether/model';
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

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

/** The previous controllers' cookies naming endpoint `e` of Service default/web port 80. */
function previousCookie(
  format: CookieAdoption['sources'][number]['format'],
  e: EchoServer,
): string {
  switch (format) {
    case 'ingress-nginx': {
      const upstream = 'default-web-80';
      return `${md5(upstream + `${e.host}:${e.port}`)}|${md5(md5(upstream) + upstream)}`;
    }
    case 'openshift':
      return md5(`pod:web-${e.port}:web:http:${e.host}:${e.port}`);
    case 'envoy-gateway':
      return `"${Buffer.from(`${e.host}:${e.port}`).toString('base64')}"`;
    case 'traefik':
      return createHash('sha256').update(`http://${e.host}:${e.port}`).digest('hex').slice(0, 16);
  }
}

async function proxyWith(
  adoption: CookieAdoption | undefined,
  over: Partial<PersistencePolicy> = {},
  clock?: Clock,
  serveFlag?: CookieAdoption,
): Promise<Proxy & { port: number }> {
  const policy = cookiePolicy({ ...over, ...(adoption ? { adoptCookies: adoption } : {}) });
  // Endpoints name their Pod and port as an EndpointSlice does (OpenShift's cookie needs both).
  const web = backend(echoes);
  web.endpoints = web.endpoints.map((ep) => ({ ...ep, pod: `web-${ep.port}`, portName: 'http' }));
  const p = await startProxy(simpleTable(backendSet([web], { policy })), {
    ...(clock ? { clock: clock.now } : {}),
    ...(serveFlag ? { adoptCookies: serveFlag } : {}),
  });
  proxies.push(p);
  return p;
}

const FORMATS = ['ingress-nginx', 'openshift', 'envoy-gateway', 'traefik'] as const;

describe.each(FORMATS)('adopting %s cookies', (format) => {
  it("sends the client to the endpoint the previous cookie names and moves it to Tether's cookie", async () => {
    const p = await proxyWith({ sources: [{ format, cookieName: 'OLD' }] });
    const target = echoes[1]!;
    for (let round = 0; round < 3; round++) {
      const first = await call(p.port, '/', {
        headers: { cookie: `OLD=${previousCookie(format, target)}` },
      });
      expect(first.endpoint).toBe(target.name);
      const pair = cookiePair(first);
      expect(pair).toMatch(/^STICKY=/);
      const next = await call(p.port, '/', { headers: { cookie: pair! } });
      expect(next.endpoint).toBe(target.name);
      expect(next.setCookies).toEqual([]);
    }
  });
});

describe('cookie adoption', () => {
  it("reads the previous cookie under the policy's own name by default", async () => {
    const p = await proxyWith({ sources: [{ format: 'ingress-nginx' }] });
    for (const target of echoes) {
      const r = await call(p.port, '/', {
        headers: { cookie: `STICKY=${previousCookie('ingress-nginx', target)}` },
      });
      expect(r.endpoint).toBe(target.name);
      expect(cookiePair(r)).toMatch(/^STICKY=[A-Za-z0-9_-]{47}$/);
    }
  });

  it('places ingress-nginx balanced-mode keys on the consistent-hash ring', async () => {
    const p = await proxyWith({ sources: [{ format: 'ingress-nginx' }] });
    // A balanced key lands where lua-resty-balancer would put it: the same key always on the
    // same endpoint, and different keys over the three.
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const cookie = `STICKY=1733500000.${i}.${i * 7919}`;
      const a = await call(p.port, '/', { headers: { cookie } });
      const b = await call(p.port, '/', { headers: { cookie } });
      expect(b.endpoint).toBe(a.endpoint);
      seen.add(a.endpoint ?? '');
    }
    expect(seen.size).toBe(3);
  });

  it('never sends a forged value outside the backend set: it is a miss, the failure rule applies', async () => {
    const p = await proxyWith({ sources: [{ format: 'envoy-gateway' }] });
    const outside = Buffer.from('127.0.0.1:9').toString('base64');
    const names = new Set(echoes.map((e) => e.name));
    for (let i = 0; i < 10; i++) {
      const r = await call(p.port, '/', { headers: { cookie: `STICKY=${outside}` } });
      expect(r.status).toBe(200);
      expect(names.has(r.endpoint ?? '')).toBe(true);
      expect(cookiePair(r)).toMatch(/^STICKY=/);
    }
    const strict = await proxyWith(
      { sources: [{ format: 'envoy-gateway' }] },
      { onFailure: 'fail' },
    );
    const refused = await call(strict.port, '/', { headers: { cookie: `STICKY=${outside}` } });
    expect(refused.status).toBe(502);
  });

  it('ignores a value no format can read, as a request without a cookie', async () => {
    const strict = await proxyWith({ sources: [{ format: 'openshift' }] }, { onFailure: 'fail' });
    const r = await call(strict.port, '/', { headers: { cookie: 'STICKY=not-a-router-hash' } });
    expect(r.status).toBe(200);
    expect(cookiePair(r)).toMatch(/^STICKY=/);
  });

  it('stops after its end date', async () => {
    const clock = new Clock(Date.parse('2027-01-30T23:59:59Z'));
    const p = await proxyWith(
      { sources: [{ format: 'traefik' }], until: '2027-01-31T00:00:00Z' },
      {},
      clock,
    );
    const target = echoes[2]!;
    const cookie = `STICKY=${previousCookie('traefik', target)}`;
    expect((await call(p.port, '/', { headers: { cookie } })).endpoint).toBe(target.name);
    clock.advance(1);
    const after = new Set<string>();
    for (let i = 0; i < 12; i++)
      after.add((await call(p.port, '/', { headers: { cookie } })).endpoint ?? '');
    // Ignored: plain round robin over the three, not always the endpoint the cookie named.
    expect(after.size).toBe(3);
  });

  it('applies the serve flag to cookie sets that name no adoption of their own', async () => {
    const p = await proxyWith(undefined, {}, undefined, { sources: [{ format: 'envoy-gateway' }] });
    const target = echoes[0]!;
    const r = await call(p.port, '/', {
      headers: { cookie: `STICKY=${previousCookie('envoy-gateway', target)}` },
    });
    expect(r.endpoint).toBe(target.name);
  });

  it('counts adopted and missed cookies by format', async () => {
    const p = await startProxy(
      simpleTable(
        backendSet([backend(echoes)], {
          policy: cookiePolicy({ adoptCookies: { sources: [{ format: 'traefik' }] } }),
        }),
      ),
      { admin: { port: 0 } },
    );
    proxies.push(p);
    await call(p.port, '/', {
      headers: { cookie: `STICKY=${previousCookie('traefik', echoes[0]!)}` },
    });
    await call(p.port, '/', { headers: { cookie: 'STICKY=0123456789abcdef' } });
    const text = await p.metrics.registry.metrics();
    expect(text).toContain('tether_adopted_cookies_total{format="traefik",result="adopted"} 1');
    expect(text).toContain('tether_adopted_cookies_total{format="traefik",result="missed"} 1');
    expect(text).toMatch(/tether_sessions_total\{backend_set="[^"]+",event="adopted"\} 1/);
  });
});
