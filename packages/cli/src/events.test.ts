import { describe, expect, it } from '@jest/globals';
import { apiUrl, parseFor, parseTypes } from './events';

describe('tether events arguments', () => {
  it.each([
    ['ingress/web', { kind: 'Ingress', name: 'web' }],
    ['ing/web', { kind: 'Ingress', name: 'web' }],
    ['Ingress/web', { kind: 'Ingress', name: 'web' }],
    ['ingresses.networking.k8s.io/web', { kind: 'Ingress', name: 'web' }],
    ['svc/api', { kind: 'Service', name: 'api' }],
    ['httproute/r-1.a', { kind: 'HTTPRoute', name: 'r-1.a' }],
    ['XBackendTrafficPolicy/p', { kind: 'XBackendTrafficPolicy', name: 'p' }],
    [' route/r ', { kind: 'Route', name: 'r' }],
  ])('--for %s', (value, expected) => {
    expect(parseFor(value)).toEqual(expected);
  });

  it.each([
    ['web', /KIND\/NAME/],
    ['ingress/', /KIND\/NAME/],
    ['ingress/Web', /KIND\/NAME/],
    ['a/b/c', /KIND\/NAME/],
    ['widget/x', /unknown kind "widget"/],
    ['', /KIND\/NAME/],
  ])('--for %j is refused', (value, message) => {
    expect(() => parseFor(value)).toThrow(message);
  });

  it('reads --types in any case and refuses anything else', () => {
    expect(parseTypes(undefined)).toBeUndefined();
    expect([...parseTypes('warning')!]).toEqual(['Warning']);
    expect([...parseTypes('Normal, WARNING')!].sort()).toEqual(['Normal', 'Warning']);
    expect(() => parseTypes('Warning,Error')).toThrow('"Error" is not Normal or Warning');
  });

  it.each([
    ['127.0.0.1:9090', 'http://127.0.0.1:9090'],
    ['http://127.0.0.1:9090/', 'http://127.0.0.1:9090'],
    ['https://localhost:9443/tether/', 'https://localhost:9443/tether'],
  ])('--api %s', (value, base) => {
    expect(apiUrl(value)).toBe(base);
  });

  it('refuses an admin address that is not one', () => {
    expect(() => apiUrl('ftp://127.0.0.1')).toThrow('only http and https');
    expect(() => apiUrl('http://[::1')).toThrow('not an address');
  });
});
