import { describe, expect, it } from '@jest/globals';
import { intersectHostnames, meet } from './hostnames';

describe('hostnames of a route on a Gateway listener', () => {
  it.each([
    // [route name, listener hostname, the name both stand for]
    ['foo.example.com', 'foo.example.com', 'foo.example.com'],
    ['FOO.example.com', 'foo.EXAMPLE.com', 'foo.example.com'],
    ['foo.example.com', '*.example.com', 'foo.example.com'],
    ['a.b.example.com', '*.example.com', 'a.b.example.com'],
    ['*.foo.example.com', '*.example.com', '*.foo.example.com'],
    ['*.example.com', 'foo.example.com', 'foo.example.com'],
    ['*.example.com', '*.example.com', '*.example.com'],
    ['*.com', '*.example.com', '*.example.com'],
  ])('%s on %s → %s', (route, listener, both) => {
    expect(meet(route, listener)).toBe(both);
  });

  it.each([
    ['example.com', '*.example.com'],
    ['foo.example.org', '*.example.com'],
    ['bar.example.com', 'foo.example.com'],
    ['*.example.org', '*.example.com'],
    ['xexample.com', '*.example.com'],
  ])('%s and %s do not meet', (route, listener) => {
    expect(meet(route, listener)).toBeUndefined();
    expect(intersectHostnames([route], listener)).toEqual([]);
  });

  it('gives the route its own names, the listener its name, or any name', () => {
    expect(intersectHostnames(['a.example', 'b.example'], undefined)).toEqual([
      'a.example',
      'b.example',
    ]);
    expect(intersectHostnames(undefined, 'a.example')).toEqual(['a.example']);
    expect(intersectHostnames([], undefined)).toEqual(['*']);
    expect(intersectHostnames(['a.example', 'b.other', 'c.example'], '*.example')).toEqual([
      'a.example',
      'c.example',
    ]);
  });
});
