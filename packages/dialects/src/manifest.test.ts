import { describe, expect, it } from '@jest/globals';
import { readManifestText } from './manifest';

const service = (name: string, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: shop
  annotations:
    a.example/one: "1"
    a.example/two: "2"${extra}
spec: {}
`;

describe('readManifestText', () => {
  it('reads every document of a multi-document file with the line of each annotation key', () => {
    const text = `# leading comment\n${service('first')}---\n${service('second')}`;
    const { objects, diagnostics } = readManifestText(text, 'm.yaml');
    expect(diagnostics).toEqual([]);
    expect(objects.map((o) => [o.object.metadata.name, o.line, o.lines['a.example/two']])).toEqual([
      ['first', 2, 9],
      ['second', 12, 19],
    ]);
  });

  it('unpacks kind: List and reads JSON', () => {
    const json = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } }],
    });
    const { objects } = readManifestText(json, 'list.json');
    expect(objects.map((o) => o.object.metadata.name)).toEqual(['x']);
  });

  it('reports a syntax error with its line and still reads the other documents', () => {
    const text = `${service('good')}---\nkind: [unclosed\n---\n${service('also-good')}`;
    const { objects, diagnostics } = readManifestText(text, 'bad.yaml');
    expect(objects.map((o) => o.object.metadata.name)).toEqual(['good', 'also-good']);
    expect(diagnostics.map((d) => [d.reason, d.sources[0]?.file, d.sources[0]?.line])).toEqual([
      ['InvalidManifest', 'bad.yaml', 12],
    ]);
  });

  it.each([
    ['a scalar', 'just text'],
    ['a list', '- a\n- b'],
    ['no kind', 'apiVersion: v1\nmetadata: {name: x}'],
    ['no name', 'apiVersion: v1\nkind: Service\nmetadata: {}'],
    [
      'an unquoted boolean annotation',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  annotations:\n    a/b: true',
    ],
  ])('refuses %s as not a Kubernetes object', (_, text) => {
    const { objects, diagnostics } = readManifestText(text, 'x.yaml');
    expect(objects).toEqual([]);
    expect(diagnostics.map((d) => d.reason)).toEqual(['InvalidManifest']);
  });

  it('skips empty documents silently', () => {
    const read = readManifestText('---\n---\n', 'empty.yaml');
    expect([read.objects, read.diagnostics]).toEqual([[], []]);
  });

  it('survives an alias bomb without expanding it', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(',')}]`,
      );
    const { objects, diagnostics } = readManifestText(bomb.join('\n'), 'bomb.yaml');
    expect(objects).toEqual([]);
    expect(diagnostics.map((d) => d.reason)).toEqual(['InvalidManifest']);
  });
});
