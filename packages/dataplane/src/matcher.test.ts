import { describe, expect, it } from '@jest/globals';
import { HostMatcher, normaliseHost } from './matcher';
import type { HostRoutes, PathKind } from './table/types';
import type { BackendSet } from './table/types';

function host(
  name: string,
  paths: [string, PathKind][],
  wildcardLabels?: 'one' | 'many',
): HostRoutes {
  return {
    host: name,
    ...(wildcardLabels ? { wildcardLabels } : {}),
    paths: paths.map(([path, pathType]) => ({
      path,
      pathType,
      backendSet: { id: `${name} ${pathType} ${path}` } as BackendSet,
    })),
  };
}

describe('host and path matching', () => {
  const m = new HostMatcher<string>();
  for (const h of [
    host('shop.example.com', [
      ['/', 'Prefix'],
      ['/cart', 'Exact'],
      ['/api', 'Prefix'],
      ['/v[0-9]+/', 'RegularExpression'],
    ]),
    host('*.example.com', [
      ['/', 'Prefix'],
      ['/only-wild', 'Prefix'],
    ]),
    host('*.deep.org', [['/', 'Prefix']], 'many'),
    host('*', [['/fallback', 'Prefix']]),
  ]) {
    m.add(h, (r) => r.backendSet.id);
  }
  it.each([
    ['shop.example.com', '/cart', 'shop.example.com Exact /cart'],
    ['shop.example.com', '/cart/x', 'shop.example.com Prefix /'],
    ['shop.example.com', '/api', 'shop.example.com Prefix /api'],
    ['shop.example.com', '/api/', 'shop.example.com Prefix /api'],
    ['shop.example.com', '/apiary', 'shop.example.com Prefix /'],
    ['shop.example.com', '/v2/items', 'shop.example.com RegularExpression /v[0-9]+/'],
    ['a.example.com', '/only-wild/x', '*.example.com Prefix /only-wild'],
    ['a.b.example.com', '/fallback', '* Prefix /fallback'],
    ['a.b.example.com', '/other', undefined],
    ['example.com', '/', undefined],
    ['x.y.deep.org', '/', '*.deep.org Prefix /'],
    ['other.net', '/fallback/1', '* Prefix /fallback'],
    ['', '/fallback', '* Prefix /fallback'],
  ])('%s %s', (h, p, expected) => {
    expect(m.match(h, p)).toBe(expected);
  });

  it.each([
    ['Shop.Example.COM:8080', 'shop.example.com'],
    ['shop.example.com.', 'shop.example.com'],
    ['[::1]:80', '[::1]'],
    [undefined, ''],
    ['', ''],
  ])('normalises host %j', (raw, expected) => {
    expect(normaliseHost(raw)).toBe(expected);
  });
});

describe('path lists built route by route', () => {
  /** Routes of one host, each target naming its position. */
  const routes = (paths: [string, PathKind][]): HostRoutes => ({
    host: 'a.example.com',
    paths: paths.map(([path, pathType], i) => ({
      path,
      pathType,
      backendSet: { id: `#${i}` } as BackendSet,
    })),
  });

  it('keeps the first of equal paths, regexes in table order and the longest prefix first', () => {
    const m = new HostMatcher<string>();
    m.add(
      routes([
        ['/', 'Prefix'],
        ['/a', 'Prefix'],
        ['/a/b/', 'Prefix'],
        ['/a/', 'Prefix'], // same as /a: ignored
        ['/x', 'Exact'],
        ['/x', 'Exact'], // ignored
        ['/r[0-9]', 'RegularExpression'],
        ['/r1', 'RegularExpression'],
        ['/a/b/c', 'Prefix'],
      ]),
      (r) => r.backendSet.id,
    );
    // A second host object of the same name adds to the same lists.
    m.add(
      {
        host: 'A.example.com',
        paths: [
          { path: '/y', pathType: 'Exact', backendSet: { id: 'second' } as BackendSet },
          { path: '/a/b/c/d', pathType: 'Prefix', backendSet: { id: 'deep' } as BackendSet },
          { path: '/a', pathType: 'Prefix', backendSet: { id: 'late' } as BackendSet },
        ],
      },
      (r) => r.backendSet.id,
    );
    const at = (path: string): string | undefined => m.match('a.example.com', path);
    expect(at('/x')).toBe('#4');
    expect(at('/y')).toBe('second');
    expect(at('/r12')).toBe('#6');
    expect(at('/a')).toBe('#1');
    expect(at('/a/z')).toBe('#1');
    expect(at('/a/b')).toBe('#2');
    expect(at('/a/b/c/x')).toBe('#8');
    expect(at('/a/b/c/d/e')).toBe('deep');
    expect(at('/zzz')).toBe('#0');
    expect(m.match('b.example.com', '/')).toBeUndefined();
  });

  it('a host without Exact or RegularExpression routes matches by prefix alone', () => {
    const m = new HostMatcher<string>();
    m.add(routes([['/app', 'Prefix']]), (r) => r.backendSet.id);
    expect(m.match('a.example.com', '/app/x')).toBe('#0');
    expect(m.match('a.example.com', '/apple')).toBeUndefined();
  });
});
