import { describe, expect, it } from '@jest/globals';
import type { CookieSpec } from '@tether/model';
import {
  mishandlesSameSiteNone,
  parseSetCookie,
  readCookie,
  removeCookie,
  setCookieValue,
} from './cookies';

const spec: CookieSpec = {
  name: 'S',
  httpOnly: true,
  secure: 'https',
  omitSameSiteNoneForOldClients: true,
  lifetime: 'permanent',
  nocache: false,
  sameSite: 'None',
  maxAgeSeconds: 60,
  expiresSeconds: 120,
  path: '/app',
  domain: 'example.com',
};
const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('cookie text', () => {
  it.each([
    ['S=1', '1'],
    ['a=b; S=2; c=d', '2'],
    ['XS=0;S=3', '3'],
    ['aS=1; bS=2', undefined],
    ['S', undefined],
    ['', undefined],
    ['S=; T=1', ''],
  ])('reads %j', (header, value) => {
    expect(readCookie(header, 'S')).toBe(value);
  });

  it('removes only the named pairs', () => {
    expect(removeCookie('a=1; S=2; b=3', 'S')).toBe('a=1; b=3');
    expect(removeCookie('S=2', 'S')).toBeUndefined();
    expect(removeCookie('XS=1', 'S')).toBe('XS=1');
  });

  it('writes every attribute, Expires from the time of the response', () => {
    expect(setCookieValue(spec, 'v', now, { secure: true, userAgent: undefined }, undefined)).toBe(
      'S=v; Path=/app; Domain=example.com; Max-Age=60; Expires=Thu, 01 Jan 2026 12:02:00 GMT; Secure; HttpOnly; SameSite=None',
    );
    expect(
      setCookieValue(spec, 'v', now + 1000, { secure: false, userAgent: undefined }, undefined),
    ).toBe(
      'S=v; Path=/app; Domain=example.com; Max-Age=60; Expires=Thu, 01 Jan 2026 12:02:01 GMT; HttpOnly; SameSite=None',
    );
  });

  it('session cookies carry no expiry; permanent ones without a Max-Age use the absolute timeout', () => {
    const session: CookieSpec = {
      ...spec,
      lifetime: 'session',
      sameSite: undefined,
      domain: undefined,
    };
    expect(setCookieValue(session, 'v', now, { secure: false, userAgent: undefined }, 300)).toBe(
      'S=v; Path=/app; HttpOnly',
    );
    const permanent: CookieSpec = {
      ...session,
      lifetime: 'permanent',
      maxAgeSeconds: undefined,
      expiresSeconds: undefined,
      secure: 'always',
    };
    expect(setCookieValue(permanent, 'v', now, { secure: false, userAgent: undefined }, 300)).toBe(
      'S=v; Path=/app; Max-Age=300; Secure; HttpOnly',
    );
  });

  // The cases of ingress-nginx's rootfs/etc/nginx/lua/test/util/same_site_test.lua, and the
  // Chromium-list cases where the two differ (Chrome 41, 50, 67 are left out by nginx).
  it.each([
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2704.103 Safari/537.36',
      true,
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/50.0.2661.102 Safari/537.36',
      true,
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/67.0.3396.99 Safari/537.36',
      true,
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 12_0 like Mac OS X) AppleWebKit/602.1.50 (KHTML, like Gecko) CriOS/56.0.2924.75 Mobile/14E5239e Safari/602.1',
      true,
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 12_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Mobile/15E148 Safari/604.1',
      true,
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Safari/605.1.15',
      true,
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/71.0.2704.103 Safari/537.36',
      false,
    ],
    [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.2704.103 Safari/537.36',
      false,
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 13_0 like Mac OS X) AppleWebKit/602.1.50 (KHTML, like Gecko) CriOS/56.0.2924.75 Mobile/14E5239e Safari/602.1',
      false,
    ],
    [
      'Mozilla/5.0 (iPad; CPU OS 13_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Mobile/15E148 Safari/604.1',
      false,
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0.4 Safari/605.1.15',
      false,
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.117 Safari/537.36',
      false,
    ],
    // UC Browser is on Chromium's list, not nginx's.
    [
      'Mozilla/5.0 (Linux; U; Android 8.0.0; en-US) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/57.0.2987.108 UCBrowser/12.10.2.1164 Mobile Safari/537.36',
      true,
    ],
    [
      'Mozilla/5.0 (Linux; U; Android 8.0.0) AppleWebKit/537.36 (KHTML, like Gecko) UCBrowser/12.10.2.1164 Mobile Safari/537.36',
      false,
    ],
    ['curl/8.0', false],
    ['', false],
  ])('SameSite=None handling for %s', (ua, bad) => {
    expect(mishandlesSameSiteNone(ua)).toBe(bad);
    const text = setCookieValue(spec, 'v', now, { secure: true, userAgent: ua }, undefined);
    expect(text.includes('SameSite=None')).toBe(!bad);
  });

  it.each([
    ['A=1; Path=/', { name: 'A', deletes: false }],
    ['A=; Max-Age=0', { name: 'A', deletes: true }],
    ['A=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT', { name: 'A', deletes: true }],
    ['A=x; Expires=Thu, 01 Jan 2099 00:00:00 GMT', { name: 'A', deletes: false }],
    ['garbage', null],
    ['=x', null],
  ])('reads backend Set-Cookie %j', (value, expected) => {
    expect(parseSetCookie(value, now)).toEqual(expected);
  });
});
