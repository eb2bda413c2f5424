import { describe, expect, it } from '@jest/globals';
import { HostMatcher, normaliseHost } from './matcher';
import type { HostRoutes, PathKind } from './table';
import type { BackendSet } from './table';

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
