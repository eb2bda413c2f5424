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
});
