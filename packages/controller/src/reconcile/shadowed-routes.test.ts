import { describe, expect, it } from '@jest/globals';
import { chosenHostname, covers, shadowedRoutes, type PlaceLike } from './shadowed-routes';

function place(path: string, kind = 'Prefix', hostname?: string, host = 'a.example'): PlaceLike {
  return { protocol: 'HTTP', port: undefined, host, path, kind, hostname };
}

describe('routes a Gateway route takes every request of', () => {
  it.each<[string, string, string, string, boolean]>([
    ['Prefix', '/', 'Prefix', '/anything', true],
    ['Prefix', '/api', 'Prefix', '/api', true],
    ['Prefix', '/api', 'Prefix', '/api/v1', true],
    ['Prefix', '/api/', 'Exact', '/api/v1', true],
    ['Prefix', '/api', 'Prefix', '/apix', false],
    ['Prefix', '/api', 'Prefix', '/', false],
    ['Exact', '/api', 'Exact', '/api', true],
    ['Exact', '/api', 'Prefix', '/api', false],
    ['Prefix', '/', 'RegularExpression', '/a.*', false],
  ])('%s %s covers %s %s: %s', (outerKind, outerPath, innerKind, innerPath, expected) => {
    expect(covers(place(outerPath, outerKind), place(innerPath, innerKind))).toBe(expected);
  });

  it('chooses the listener hostname as the listener matcher does', () => {
    const names = new Set(['*', '*.example', '*.a.example', 'b.a.example']);
    expect(chosenHostname('b.a.example', names)).toBe('b.a.example');
    expect(chosenHostname('c.a.example', names)).toBe('*.a.example');
    expect(chosenHostname('a.example', names)).toBe('*.example');
    expect(chosenHostname('example', names)).toBe('*');
    expect(chosenHostname('example', new Set(['*.example']))).toBeUndefined();
  });

  it('pairs an Ingress path with the route of the listener its host goes to', () => {
    const ingress = { candidate: 'ingress', place: place('/api') };
    const onAny = { candidate: 'any', place: place('/', 'Prefix', '*') };
    const onExact = { candidate: 'exact', place: place('/other', 'Prefix', 'a.example') };
    const shared = new Map([['HTTP a.example', [ingress, onAny]]]);
    expect(shadowedRoutes(shared, new Map([['HTTP', new Set(['*'])]]))).toEqual([
      { shadowed: ingress, served: onAny },
    ]);
    // With a listener for a.example itself, requests go there, and /api is not its route.
    shared.set('HTTP a.example', [ingress, onAny, onExact]);
    expect(shadowedRoutes(shared, new Map([['HTTP', new Set(['*', 'a.example'])]]))).toEqual([]);
  });
});
