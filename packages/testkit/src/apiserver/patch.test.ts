import { describe, expect, it } from '@jest/globals';
import { jsonPatch, mergePatch, strategicMerge } from './patch';
import type { Json } from './types';

describe('JSON merge patch (RFC 7386)', () => {
  it.each<[Json, Json, Json]>([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  it('does not modify its inputs', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    expect(target).toEqual({ a: { b: 1 } });
  });
});

describe('JSON patch (RFC 6902)', () => {
  const document = { metadata: { labels: { a: '1' } }, list: [1, 2, 3] };

  it.each<[string, Json, Json]>([
    [
      'add a key',
      [{ op: 'add', path: '/metadata/labels/b', value: '2' }],
      { metadata: { labels: { a: '1', b: '2' } }, list: [1, 2, 3] },
    ],
    [
      'add to a list',
      [{ op: 'add', path: '/list/1', value: 9 }],
      { metadata: { labels: { a: '1' } }, list: [1, 9, 2, 3] },
    ],
    [
      'append',
      [{ op: 'add', path: '/list/-', value: 4 }],
      { metadata: { labels: { a: '1' } }, list: [1, 2, 3, 4] },
    ],
    [
      'remove',
      [{ op: 'remove', path: '/list/0' }],
      { metadata: { labels: { a: '1' } }, list: [2, 3] },
    ],
    [
      'replace',
      [{ op: 'replace', path: '/metadata/labels/a', value: 'x' }],
      { metadata: { labels: { a: 'x' } }, list: [1, 2, 3] },
    ],
    [
      'move',
      [{ op: 'move', from: '/metadata/labels/a', path: '/metadata/b' }],
      { metadata: { labels: {}, b: '1' }, list: [1, 2, 3] },
    ],
    [
      'copy',
      [{ op: 'copy', from: '/list/0', path: '/first' }],
      { metadata: { labels: { a: '1' } }, list: [1, 2, 3], first: 1 },
    ],
    [
      'escaped keys',
      [{ op: 'add', path: '/metadata/labels/example.com~1x~0y', value: 'z' }],
      { metadata: { labels: { a: '1', 'example.com/x~y': 'z' } }, list: [1, 2, 3] },
    ],
    [
      'test then replace',
      [
        { op: 'test', path: '/list/2', value: 3 },
        { op: 'replace', path: '/list/2', value: 4 },
      ],
      { metadata: { labels: { a: '1' } }, list: [1, 2, 4] },
    ],
  ])('%s', (_title, operations, expected) => {
    expect(jsonPatch(document, operations)).toEqual({ ok: true, value: expected });
    expect(document.list).toEqual([1, 2, 3]);
  });

  it.each<[string, Json]>([
    ['a failing test', [{ op: 'test', path: '/list/0', value: 9 }]],
    ['a missing path', [{ op: 'replace', path: '/nope/x', value: 1 }]],
    ['an index out of range', [{ op: 'add', path: '/list/7', value: 1 }]],
    ['a bad pointer', [{ op: 'add', path: 'list', value: 1 }]],
    ['an unknown op', [{ op: 'frob', path: '/list' }]],
    ['add without value', [{ op: 'add', path: '/x' }]],
    ['not a list', { op: 'add', path: '/x', value: 1 }],
    ['remove a missing key', [{ op: 'remove', path: '/metadata/nope' }]],
  ])('refuses %s', (_title, operations) => {
    const result = jsonPatch(document, operations);
    expect(result.ok).toBe(false);
  });
});

describe('strategic merge patch (approximation)', () => {
  const service = {
    metadata: { finalizers: ['a'], annotations: { keep: '1', drop: '2' } },
    spec: {
      ports: [
        { name: 'http', port: 80 },
        { name: 'https', port: 443 },
      ],
      selector: { app: 'web' },
    },
  };

  it('merges Service ports by port and honours $setElementOrder and $patch: delete', () => {
    const patch: Json = {
      metadata: { annotations: { drop: null } },
      spec: {
        '$setElementOrder/ports': [{ port: 8443 }, { port: 80 }],
        ports: [
          { port: 8443, name: 'https' },
          { port: 443, $patch: 'delete' },
        ],
      },
    };
    expect(strategicMerge(service, patch)).toEqual({
      metadata: { finalizers: ['a'], annotations: { keep: '1' } },
      spec: {
        ports: [
          { port: 8443, name: 'https' },
          { name: 'http', port: 80 },
        ],
        selector: { app: 'web' },
      },
    });
  });

  it('replaces lists without a merge strategy and merges finalizers as a set', () => {
    const result = strategicMerge(
      { spec: { rules: [{ host: 'a' }, { host: 'b' }] }, metadata: { finalizers: ['a'] } },
      { spec: { rules: [{ host: 'c' }] }, metadata: { finalizers: ['b', 'a'] } },
    );
    expect(result).toEqual({
      spec: { rules: [{ host: 'c' }] },
      metadata: { finalizers: ['a', 'b'] },
    });
  });

  it('understands $patch: replace, $retainKeys and $deleteFromPrimitiveList', () => {
    expect(strategicMerge({ spec: { a: 1, b: 2 } }, { spec: { $patch: 'replace', c: 3 } })).toEqual(
      { spec: { c: 3 } },
    );
    expect(
      strategicMerge({ spec: { a: 1, b: 2 } }, { spec: { $retainKeys: ['b', 'c'], c: 3 } }),
    ).toEqual({ spec: { b: 2, c: 3 } });
    expect(
      strategicMerge(
        { metadata: { finalizers: ['a', 'b'] } },
        { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
      ),
    ).toEqual({
      metadata: { finalizers: ['b'] },
    });
  });
});
