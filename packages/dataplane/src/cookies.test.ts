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

  it.each([
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1',
      true,
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Safari/605.1.15',
      true,
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/65.0.3325.181 Safari/537.36',
      true,
    ],
    [
      'Mozilla/5.0 (Linux; U; Android 8.0.0; en-US) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/57.0.2987.108 UCBrowser/12.10.2.1164 Mobile Safari/537.36',
      true,
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
      false,
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15',
      false,
    ],
    ['curl/8.0', false],
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
