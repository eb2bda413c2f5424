import { describe, expect, it } from '@jest/globals';
import { unifiedDiff } from './diff';

const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'f')).toBe('');
  });

  it('prints one hunk with three lines of context', () => {
    const before = lines(10);
    const after = [...before];
    after[4] = 'changed';
    expect(unifiedDiff(before.join('\n'), after.join('\n'), 'f.yaml')).toBe(
      [
        '--- f.yaml',
        '+++ f.yaml',
        '@@ -2,7 +2,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+changed',
        ' line 6',
        ' line 7',
        ' line 8',
        '',
      ].join('\n'),
    );
  });

  it('keeps distant changes in separate hunks and nearby ones together', () => {
    const before = lines(40);
    const after = [...before];
    after[2] = 'a';
    after[5] = 'b';
    after[30] = 'c';
    const diff = unifiedDiff(before.join('\n'), after.join('\n'), 'f');
    expect(diff.match(/^@@/gm)).toHaveLength(2);
    expect(diff).toContain('@@ -1,9 +1,9 @@');
    expect(diff).toContain('@@ -28,7 +28,7 @@');
  });

  it('handles insertions and deletions at the ends', () => {
    expect(unifiedDiff('a\nb', 'x\na\nb\ny', 'f')).toBe(
      '--- f\n+++ f\n@@ -1,2 +1,4 @@\n+x\n a\n b\n+y\n',
    );
  });
});
