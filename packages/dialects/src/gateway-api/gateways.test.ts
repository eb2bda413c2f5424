import { describe, expect, it } from '@jest/globals';
import { analyze, parseContext } from '../pipeline';
import type { KubeObject } from '../types';
import { gatewayIndex } from './gateways';
import { attachRoute, selects } from './route-attachment';

const GW = 'gateway.networking.k8s.io/v1';

function gateway(name: string, listeners: unknown, namespace = 'web'): KubeObject {
  return {
    apiVersion: GW,
    kind: 'Gateway',
    metadata: { name, namespace },
    spec: { gatewayClassName: 'tether', listeners },
  };
}

function route(spec: unknown, namespace = 'web', kind = 'HTTPRoute'): KubeObject {
  return { apiVersion: GW, kind, metadata: { name: 'r', namespace }, spec };
}

describe('Gateway listeners and route attachment', () => {
  it('attaches nowhere in particular when the snapshot holds no Gateway', () => {
    expect(
      attachRoute(route({ parentRefs: [{ name: 'edge' }] }), parseContext([])),
    ).toBeUndefined();
  });

  it('reads hostile Gateways and routes without throwing', () => {
    const objects = [
      gateway('a', 'not a list'),
      gateway('b', [null, 5, { name: 'x', port: 'eighty', protocol: 7 }]),
      { apiVersion: GW, kind: 'Gateway', metadata: { name: 'c', namespace: 'web' }, spec: 5 },
    ];
    const context = parseContext(objects);
    const index = gatewayIndex(context);
    expect(index.byKey.get('web/b')?.listeners[0]?.accepted.reason).toBe('UnsupportedProtocol');
    for (const spec of [undefined, 5, { parentRefs: 'x' }, { parentRefs: [null, { name: 7 }] }])
      expect(() => attachRoute(route(spec), context)).not.toThrow();
    const [parent] = attachRoute(route({ parentRefs: [{ name: 'a' }] }), context)!;
    expect(parent?.refusal?.reason).toBe('NoMatchingParent');
  });

  it('takes a route by sectionName and port, and only of the kinds a listener serves', () => {
    const context = parseContext([
      gateway('edge', [
        { name: 'http', protocol: 'HTTP', port: 80 },
        { name: 'alt', protocol: 'HTTP', port: 8080 },
        { name: 'pass', protocol: 'TLS', port: 443, tls: { mode: 'Passthrough' } },
      ]),
    ]);
    const names = (spec: unknown, kind?: string) =>
      attachRoute(route(spec, 'web', kind), context)![0]!.listeners.map((l) => l.listener.name);
    expect(names({ parentRefs: [{ name: 'edge' }] })).toEqual(['http', 'alt']);
    expect(names({ parentRefs: [{ name: 'edge', port: 8080 }] })).toEqual(['alt']);
    expect(names({ parentRefs: [{ name: 'edge', sectionName: 'http' }] })).toEqual(['http']);
    expect(names({ parentRefs: [{ name: 'edge' }] }, 'TLSRoute')).toEqual(['pass']);
    expect(
      attachRoute(route({ parentRefs: [{ name: 'edge', sectionName: 'pass' }] }), context)![0]!
        .refusal?.reason,
    ).toBe('NotAllowedByListeners');
  });

  it('selects namespaces by labels, including the implicit name label', () => {
    expect(selects({ matchLabels: { a: 'b' } }, { a: 'b' })).toBe(true);
    expect(selects({ matchLabels: { a: 'b' } }, { a: 'c' })).toBe(false);
    expect(
      selects(
        {
          matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['x'] }],
        },
        { 'kubernetes.io/metadata.name': 'x' },
      ),
    ).toBe(true);
    expect(selects({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }, { a: 'b' })).toBe(
      false,
    );
    expect(selects({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, {})).toBe(true);
  });
});

describe('route matches', () => {
  it('serves each path match of a rule on one entry point, and no match that tests more than the path', () => {
    const route: KubeObject = {
      apiVersion: GW,
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'web' },
      spec: {
        rules: [
          {
            matches: [
              { path: { type: 'PathPrefix', value: '/a' } },
              { path: { type: 'Exact', value: '/b' } },
              { path: { type: 'PathPrefix', value: '/a' } },
              { path: { value: '/c' }, headers: [{ name: 'x', value: 'y' }] },
            ],
            backendRefs: [{ name: 'svc', port: 80 }],
          },
          {
            matches: [{ method: 'POST' }, { queryParams: [{ name: 'q', value: '1' }] }],
            backendRefs: [{ name: 'svc', port: 80 }],
          },
          { backendRefs: [{ name: 'svc', port: 80 }] },
        ],
      },
    };
    const { entries, diagnostics } = analyze([route]);
    expect(entries.map((e) => [e.entry.rule, e.entry.path, e.entry.morePaths])).toEqual([
      ['rules[0]', '/a', [{ path: '/b', pathType: 'Exact' }]],
      ['rules[2]', '/', undefined],
    ]);
    expect(
      diagnostics
        .filter((d) => d.reason === 'NotReproduced')
        .map((d) => d.sources[0]?.field)
        .sort(),
    ).toEqual(['spec.rules[0].matches[3]', 'spec.rules[1].matches[0]', 'spec.rules[1].matches[1]']);
  });
});

describe('route hostnames without a Gateway', () => {
  it('serves a route under every one of its hostnames on the proxy’s own listeners', () => {
    const route: KubeObject = {
      apiVersion: GW,
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'web' },
      spec: {
        hostnames: ['a.example', 'b.example', 'a.example'],
        rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }],
      },
    };
    const [entry] = analyze([route]).entries;
    expect(entry?.entry.host).toBe('a.example');
    expect(entry?.entry.listeners).toEqual([
      { protocol: 'HTTP', hosts: ['a.example', 'b.example'] },
      { protocol: 'HTTPS', hosts: ['a.example', 'b.example'] },
    ]);
  });
});
