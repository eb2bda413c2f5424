/**
 * ingress-nginx canaries: by weight, header and cookie, with sticky and legacy affinity.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startEchoes, type EchoServer } from '@tether/echo';
import type { PersistencePolicy } from '@tether/model';
import type { CanaryRules, Proxy } from '@tether/dataplane';
import {
  backend,
  backendSet,
  call,
  cookiePair,
  cookiePolicy,
  simpleTable,
  spread,
  startProxy,
} from './support';

let primary: EchoServer[];
let canary: EchoServer[];
const proxies: Proxy[] = [];

beforeAll(async () => {
  primary = await startEchoes(2, 'primary');
  canary = await startEchoes(1, 'canary');
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.stop()));
});
afterAll(async () => {
  await Promise.all([...primary, ...canary].map((e) => e.close()));
});

async function proxyWith(
  rules: CanaryRules,
  policy: PersistencePolicy = cookiePolicy(),
): Promise<Proxy & { port: number }> {
  const set = backendSet(
    [backend(primary, {}, 'web'), backend(canary, { canary: rules }, 'web-canary')],
    { policy },
  );
  const p = await startProxy(simpleTable(set));
  proxies.push(p);
  return p;
}

const side = (endpoint: string | undefined): string =>
  endpoint?.startsWith('canary') ? 'canary' : 'primary';

describe('canary', () => {
  it('by header: always, never, or an exact value; other values fall through to the weight', async () => {
    const p = await proxyWith({ header: 'X-Canary', weight: 0 });
    expect(side((await call(p.port, '/', { headers: { 'x-canary': 'always' } })).endpoint)).toBe(
      'canary',
    );
    expect(side((await call(p.port, '/', { headers: { 'x-canary': 'never' } })).endpoint)).toBe(
      'primary',
    );
    expect(side((await call(p.port, '/', { headers: { 'x-canary': 'maybe' } })).endpoint)).toBe(
      'primary',
    );
    const byValue = await proxyWith({ header: 'X-Canary', headerValue: 'beta', weight: 0 });
    expect(
      side((await call(byValue.port, '/', { headers: { 'x-canary': 'beta' } })).endpoint),
    ).toBe('canary');
    expect(
      side((await call(byValue.port, '/', { headers: { 'x-canary': 'always' } })).endpoint),
    ).toBe('primary');
  });

  it('by cookie and by weight', async () => {
    const p = await proxyWith({ cookie: 'canary', weight: 100 });
    expect(side((await call(p.port, '/', { headers: { cookie: 'canary=never' } })).endpoint)).toBe(
      'primary',
    );
    expect(side((await call(p.port)).endpoint)).toBe('canary');
    const split = await proxyWith(
      { weight: 30, weightTotal: 100 },
      { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
    );
    const counts = await spread(split.port, 100);
    const onCanary = counts.get('canary1') ?? 0;
    expect(onCanary).toBeGreaterThan(12);
    expect(onCanary).toBeLessThan(50);
  });

  it('sticky: a session stays on the side it started on, whatever the canary rules say', async () => {
    const p = await proxyWith({ header: 'X-Canary', weight: 50 });
    const onCanary = await call(p.port, '/', { headers: { 'x-canary': 'always' } });
    const canaryPair = cookiePair(onCanary) ?? '';
    const onPrimary = await call(p.port, '/', { headers: { 'x-canary': 'never' } });
    const primaryPair = cookiePair(onPrimary) ?? '';
    for (let i = 0; i < 10; i++) {
      expect(
        (await call(p.port, '/', { headers: { cookie: canaryPair, 'x-canary': 'never' } }))
          .endpoint,
      ).toBe(onCanary.endpoint);
      expect((await call(p.port, '/', { headers: { cookie: primaryPair } })).endpoint).toBe(
        onPrimary.endpoint,
      );
    }
  });

  it('legacy: the side is decided per request and the canary side keeps no session', async () => {
    const p = await proxyWith(
      { header: 'X-Canary', weight: 0 },
      cookiePolicy({ canaryBehavior: 'legacy' }),
    );
    const onPrimary = await call(p.port);
    const pair = cookiePair(onPrimary) ?? '';
    const forced = await call(p.port, '/', { headers: { cookie: pair, 'x-canary': 'always' } });
    expect(side(forced.endpoint)).toBe('canary');
    expect(forced.setCookies).toEqual([]);
    expect((await call(p.port, '/', { headers: { cookie: pair } })).endpoint).toBe(
      onPrimary.endpoint,
    );
  });
});
