import { describe, expect, it } from '@jest/globals';
import { checkRouteTable } from './table/check';
import { createRouteTable } from './table/create';
import { RouteTableError, type BackendSet, type RouteTable } from './table/types';

const set: BackendSet = {
  id: 'Ingress/default/web#rules[0].paths[0]',
  policy: { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
  loadBalancing: { algorithm: 'roundRobin' },
  route: {},
  backends: [
    {
      ref: { namespace: 'default', service: 'web', port: 80 },
      endpoints: [{ address: '10.0.0.1', port: 8080, ready: true }],
    },
  ],
};

function table(over: Partial<BackendSet> = {}, host = 'a.example.com', path = '/'): RouteTable {
  return {
    version: '1',
    listeners: [
      {
        protocol: 'HTTP',
        hosts: [{ host, paths: [{ path, pathType: 'Prefix', backendSet: { ...set, ...over } }] }],
      },
    ],
  };
}

describe('route table', () => {
  it('accepts a valid table, freezes it in place, and survives JSON', () => {
    const input = table();
    const t = createRouteTable(input);
    expect(t).toBe(input);
    expect(Object.isFrozen(t.listeners[0]?.hosts[0]?.paths)).toBe(true);
    expect(
      Object.isFrozen(t.listeners[0]?.hosts[0]?.paths[0]?.backendSet.backends[0]?.endpoints[0]),
    ).toBe(true);
    expect(createRouteTable(JSON.parse(JSON.stringify(t)) as RouteTable)).toEqual(t);
  });

  it.each([
    [
      'bad port',
      table({
        backends: [
          {
            ref: { namespace: 'd', service: 's', port: 80 },
            endpoints: [{ address: '10.0.0.1', port: 0, ready: true }],
          },
        ],
      }),
      'port',
    ],
    ['no backends', table({ backends: [] }), 'backends'],
    [
      'bad policy',
      table({ policy: { mode: 'sticky' } as unknown as BackendSet['policy'] }),
      'policy',
    ],
    ['hash without key', table({ loadBalancing: { algorithm: 'hash' } }), 'hashKey'],
    ['bad host', table({}, 'bad host!'), 'host'],
    ['relative path', table({}, 'a.example.com', 'app'), 'path'],
    [
      'two canaries',
      table({
        backends: [
          { ref: { namespace: 'd', service: 'a', port: 80 }, canary: {}, endpoints: [] },
          { ref: { namespace: 'd', service: 'b', port: 80 }, canary: {}, endpoints: [] },
        ],
      }),
      'canary',
    ],
  ])('refuses %s with every problem named', (_name, input, word) => {
    expect(checkRouteTable(input).join('\n')).toContain(word);
    expect(() => createRouteTable(input)).toThrow(RouteTableError);
  });

  it('refuses two different sets under one id, and hostile shapes without crashing', () => {
    const t = table();
    const other = { ...set, backends: [] };
    t.listeners[0]?.hosts[0]?.paths.push({ path: '/b', pathType: 'Exact', backendSet: other });
    expect(checkRouteTable(t).some((p) => p.includes('names two different backend sets'))).toBe(
      true,
    );
    for (const bad of [
      null,
      1,
      'x',
      {},
      { version: 1, listeners: {} },
      { version: '1', listeners: [{ hosts: [{ paths: [{}] }] }] },
    ]) {
      expect(checkRouteTable(bad as unknown as RouteTable).length).toBeGreaterThan(0);
    }
  });

  it('takes over an accepted set object in a new table, and refuses the table when a new set is invalid', () => {
    const kept = { ...set, backends: structuredClone(set.backends) };
    const first: RouteTable = {
      version: '1',
      listeners: [
        {
          protocol: 'HTTP',
          hosts: [
            { host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix', backendSet: kept }] },
          ],
        },
      ],
    };
    createRouteTable(first);
    expect(Object.isFrozen(kept.backends[0]?.endpoints[0])).toBe(true);
    const badA: BackendSet = { ...structuredClone(set), id: 'a', backends: [] };
    const badB: BackendSet = {
      ...structuredClone(set),
      id: 'b',
      loadBalancing: { algorithm: 'hash' },
    };
    const next: RouteTable = {
      version: '2',
      listeners: [
        {
          protocol: 'HTTP',
          hosts: [
            { host: 'a.example.com', paths: [{ path: '/', pathType: 'Prefix', backendSet: kept }] },
            { host: 'b.example.com', paths: [{ path: '/', pathType: 'Prefix', backendSet: badA }] },
            { host: 'c.example.com', paths: [{ path: '/', pathType: 'Prefix', backendSet: badB }] },
          ],
        },
      ],
    };
    let problems: readonly string[] = [];
    try {
      createRouteTable(next);
    } catch (err) {
      expect(err).toBeInstanceOf(RouteTableError);
      problems = (err as RouteTableError).problems;
    }
    expect(problems).toEqual([
      'listeners[0].hosts[1].paths[0].backendSet.backends: needs at least one backend',
      'listeners[0].hosts[2].paths[0].backendSet.loadBalancing.hashKey: required for the hash algorithm',
    ]);
    // A refused table is not frozen: the caller may fix it, and it is checked whole again.
    expect(Object.isFrozen(next)).toBe(false);
    expect(Object.isFrozen(badA)).toBe(false);
    badA.backends = structuredClone(set.backends);
    expect(() => createRouteTable(next)).toThrow(/hashKey/);
    badB.loadBalancing = { algorithm: 'hash', hashKey: '$remote_addr' };
    expect(createRouteTable(next)).toBe(next);
    expect(Object.isFrozen(badB.loadBalancing)).toBe(true);
  });

  it('still compares two different objects under one id, even when one was accepted before', () => {
    const accepted = createRouteTable(table()).listeners[0]?.hosts[0]?.paths[0]?.backendSet;
    expect(accepted).toBeDefined();
    if (!accepted) return;
    const twin = { ...structuredClone(set), id: accepted.id, route: { pathRegex: true } };
    const t: RouteTable = {
      version: '3',
      listeners: [
        {
          protocol: 'HTTP',
          hosts: [
            {
              host: 'a.example.com',
              paths: [
                { path: '/', pathType: 'Prefix', backendSet: accepted },
                { path: '/x', pathType: 'Prefix', backendSet: twin },
              ],
            },
          ],
        },
      ],
    };
    expect(checkRouteTable(t).some((p) => p.includes('names two different backend sets'))).toBe(
      true,
    );
  });
});
