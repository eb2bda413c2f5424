import { describe, expect, it } from '@jest/globals';
import { tryLine } from './up';

describe('what tether up prints for each served host', () => {
  it.each<[string | undefined, string, string]>([
    ['shop.localhost', '127.0.0.1', 'http://shop.localhost:8080/cart'],
    ['localhost', '0.0.0.0', 'http://localhost:8080/cart'],
    [
      'shop.example.com',
      '127.0.0.1',
      'curl --resolve shop.example.com:8080:127.0.0.1 http://shop.example.com:8080/cart',
    ],
    [
      'shop.example.com',
      '0.0.0.0',
      'curl --resolve shop.example.com:8080:127.0.0.1 http://shop.example.com:8080/cart',
    ],
    ['*.apps.localhost', '127.0.0.1', 'http://www.apps.localhost:8080/cart'],
    [undefined, '127.0.0.1', 'http://127.0.0.1:8080/cart'],
    [undefined, '::1', 'http://[::1]:8080/cart'],
  ])('%s on %s', (host, address, line) => {
    expect(tryLine(host, '/cart', address, 8080)).toBe(line);
  });

  // A Gateway's HTTPS listener: its certificate is the manifests', so curl is told not to check it.
  it.each<[string | undefined, string, string]>([
    ['shop.localhost', '127.0.0.1', 'curl -k https://shop.localhost:18443/cart'],
    [
      'shop.example.com',
      '0.0.0.0',
      'curl -k --resolve shop.example.com:18443:127.0.0.1 https://shop.example.com:18443/cart',
    ],
    [
      '*.example.com',
      '127.0.0.1',
      'curl -k --resolve www.example.com:18443:127.0.0.1 https://www.example.com:18443/cart',
    ],
    [undefined, '::1', 'curl -k https://[::1]:18443/cart'],
  ])('%s on %s over HTTPS', (host, address, line) => {
    expect(tryLine(host, '/cart', address, 18443, 'https')).toBe(line);
  });
});
