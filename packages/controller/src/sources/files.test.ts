import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestFilesIn } from './files';

describe('manifestFilesIn', () => {
  it('lists manifests below a folder in name order, skipping hidden entries and node_modules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-files-'));
    for (const sub of ['b', '.git', 'node_modules/pkg', 'a'])
      mkdirSync(join(dir, sub), { recursive: true });
    for (const file of [
      'b/z.yaml',
      'a/y.JSON',
      'a/notes.txt',
      '.git/x.yaml',
      'node_modules/pkg/x.yml',
      'c.yml',
      '.hidden.yaml',
    ]) {
      writeFileSync(join(dir, file), 'kind: X\n');
    }
    expect(manifestFilesIn(dir).map((f) => f.slice(dir.length + 1))).toEqual([
      'a/y.JSON',
      'b/z.yaml',
      'c.yml',
    ]);
  });

  it('gives a file path back as it is, and throws for a path that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-files-'));
    const file = join(dir, 'anything.txt');
    writeFileSync(file, '');
    expect(manifestFilesIn(file)).toEqual([file]);
    expect(() => manifestFilesIn(join(dir, 'missing'))).toThrow();
  });
});
