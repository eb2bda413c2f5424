import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@tether/dialects';
import { diffSnapshots } from './snapshot-diff';

function object(name: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' } };
}

const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(object) as [
  KubeObject,
  KubeObject,
  KubeObject,
  KubeObject,
  KubeObject,
];
const b2 = object('b');

/** The changes as `+name@at`, `-name@at` and `~name@at`. */
function described(before: KubeObject[], after: KubeObject[], max = 8): string[] | undefined {
  return diffSnapshots(before, after, max)?.map(({ before: was, after: now, at }) => {
    const sign = was && now ? '~' : now ? '+' : '-';
    return `${sign}${(now ?? was)!.metadata.name}@${at}`;
  });
}

describe('diffSnapshots', () => {
  it.each<[string, KubeObject[], KubeObject[], string[] | undefined]>([
    ['nothing changed', [a, b, c], [a, b, c], []],
    ['one changed in place', [a, b, c], [a, b2, c], ['~b@1']],
    ['one added at the start', [a, b], [d, a, b], ['+d@0']],
    ['one added in the middle', [a, b], [a, d, b], ['+d@1']],
    ['one added at the end', [a, b], [a, b, d], ['+d@2']],
    ['two added side by side', [a, b], [a, d, e, b], ['+d@1', '+e@2']],
    ['one removed at the start', [a, b, c], [b, c], ['-a@0']],
    ['one removed in the middle', [a, b, c], [a, c], ['-b@1']],
    ['one removed at the end', [a, b, c], [a, b], ['-c@2']],
    ['everything removed', [a, b], [], ['-a@0', '-b@1']],
    ['added, changed and removed', [a, b, c, d], [e, a, b2, d], ['+e@0', '~b@2', '-c@2']],
    ['one moved', [a, b, c], [b, c, a], undefined],
    ['two swapped', [a, b, c], [a, c, b], undefined],
  ])('%s', (_, before, after, expected) => {
    expect(described(before, after)).toEqual(expected);
  });

  it('gives up past the most changes it may report', () => {
    expect(described([a], [a, b, c, d], 2)).toBeUndefined();
    expect(described([a], [a, b, c], 2)).toEqual(['+b@1', '+c@2']);
    expect(described([a, b, c], [a, b2, object('c')], 1)).toBeUndefined();
  });
});
