import { describe, expect, it } from '@jest/globals';
import type { KubeObject, ParsedObject } from '../types';
import { crossCheck } from './cross-check';
import { parse } from './parse';
import { IngressOptions, ingress } from '../../../../test/support/dialects/ingress-nginx';

function parsed(...objects: KubeObject[]): ParsedObject[] {
  return objects.map((object) => ({ object, dialect: 'ingress-nginx', result: parse(object) }));
}

function one(annotations: Record<string, string>, options: IngressOptions): KubeObject {
  return ingress(annotations, { paths: [`/${options.name ?? 'web'}`], ...options });
}

/** `name:field` of every source (short keys), for compact assertions. */
function sources(objects: KubeObject[]): string[] {
  return crossCheck(parsed(...objects)).flatMap((d) =>
    d.sources.map(
      (s) => `${s.name}:${s.field.split('/')[1] ?? s.field}${s.isDefault ? ' (default)' : ''}`,
    ),
  );
}

describe('crossCheck (row 19: the controller merges the Ingresses of one upstream)', () => {
  it.each([
    [
      'different cookie names',
      { affinity: 'cookie', 'session-cookie-name': 'A' },
      { affinity: 'cookie', 'session-cookie-name': 'B' },
      ['a:session-cookie-name', 'b:session-cookie-name'],
    ],
    [
      'a cookie name against the default',
      { affinity: 'cookie', 'session-cookie-name': 'A' },
      { affinity: 'cookie' },
      ['a:session-cookie-name', 'b:session-cookie-name (default)'],
    ],
    [
      'different modes and lifetimes',
      { affinity: 'cookie', 'affinity-mode': 'persistent', 'session-cookie-max-age': '60' },
      { affinity: 'cookie' },
      [
        'a:affinity-mode',
        'a:session-cookie-max-age',
        'b:affinity-mode (default)',
        'b:session-cookie-max-age (default)',
      ],
    ],
    [
      'affinity on one Ingress only',
      { affinity: 'cookie' },
      { 'load-balance': 'ewma' },
      ['a:affinity', 'b:affinity (default)'],
    ],
    [
      'different balancing without affinity',
      { 'load-balance': 'ewma' },
      { 'upstream-hash-by': '$remote_addr' },
      [
        'a:load-balance',
        'a:upstream-hash-by (default)',
        'b:load-balance (default)',
        'b:upstream-hash-by',
      ],
    ],
  ])('warns VendorWouldMerge for %s', (_title, a, b, expected) => {
    const objects = [one(a, { name: 'a' }), one(b, { name: 'b' })];
    const diagnostics = crossCheck(parsed(...objects));
    expect(diagnostics.map((d) => `${d.severity} ${d.reason}`)).toEqual([
      'warning VendorWouldMerge',
    ]);
    expect(sources(objects).sort()).toEqual(expected);
    expect(diagnostics[0]?.message).toMatch(/shop\/a, shop\/b|shop\/b, shop\/a/);
    expect(diagnostics[0]?.message).toMatch(/upstream shop-web-80/);
  });

  it.each([
    [
      'the same settings',
      { affinity: 'cookie', 'session-cookie-name': 'A' },
      { affinity: 'cookie', 'session-cookie-name': 'A' },
      {},
    ],
    [
      'different services',
      { affinity: 'cookie', 'session-cookie-name': 'A' },
      { affinity: 'cookie' },
      { service: 'api' },
    ],
    [
      'different ports',
      { affinity: 'cookie', 'session-cookie-name': 'A' },
      { affinity: 'cookie' },
      { port: 8080 },
    ],
    [
      'different canary settings only',
      { canary: 'true', 'canary-weight': '5' },
      { canary: 'true' },
      {},
    ],
    [
      'balancing that the sticky balancer overrides anyway',
      { affinity: 'cookie', 'load-balance': 'ewma' },
      { affinity: 'cookie' },
      {},
    ],
  ])('says nothing for %s', (_title, a, b, options) => {
    const objects = [one(a, { name: 'a' }), one(b, { name: 'b', ...options })];
    expect(crossCheck(parsed(...objects))).toEqual([]);
  });

  it('leaves out an Ingress the controller refuses', () => {
    const objects = [
      one({ affinity: 'cookie', 'session-cookie-name': 'A' }, { name: 'a' }),
      one({ affinity: 'cookie', 'load-balance': 'least_conn' }, { name: 'b' }),
    ];
    expect(crossCheck(parsed(...objects))).toEqual([]);
  });

  it('names the oldest Ingress for the mode and the newest for the cookie attributes', () => {
    const objects = [
      one(
        { affinity: 'cookie', 'session-cookie-name': 'NEW' },
        { name: 'new', creationTimestamp: '2026-02-01T00:00:00Z' },
      ),
      one(
        { affinity: 'cookie', 'session-cookie-name': 'OLD' },
        { name: 'old', creationTimestamp: '2026-01-01T00:00:00Z' },
      ),
    ];
    const message = crossCheck(parsed(...objects))[0]?.message ?? '';
    expect(message).toMatch(/affinity-mode from shop\/old \(the first\)/);
    expect(message).toMatch(/cookie attributes from shop\/new/);
  });

  it('orders Ingresses without creation times by namespace/name, descending', () => {
    const objects = [
      one({ affinity: 'cookie', 'session-cookie-name': 'A' }, { name: 'a' }),
      one({ affinity: 'cookie', 'session-cookie-name': 'B' }, { name: 'b' }),
    ];
    const message = crossCheck(parsed(...objects))[0]?.message ?? '';
    expect(message).toMatch(/from shop\/b \(the first\)/);
    expect(message).toMatch(/cookie attributes from shop\/a/);
  });

  it('reports each upstream once however many paths reach it', () => {
    const objects = [
      ingress(
        { affinity: 'cookie', 'session-cookie-name': 'A' },
        { name: 'a', paths: ['/x', '/y'] },
      ),
      ingress({ affinity: 'cookie' }, { name: 'b', paths: ['/z'] }),
    ];
    expect(crossCheck(parsed(...objects))).toHaveLength(1);
  });
});
