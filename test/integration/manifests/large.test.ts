/**
 * Manifest folders far larger than a call stack: every object of a 130,000-document file is
 * read by the CLI's input and by `serve`'s file source (a spread into `push` used to overflow
 * the stack at about 125,000 items).
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInputs } from '@tether/cli';
import { FileSource } from '@tether/controller';

const COUNT = 130_000;

describe('a manifest with 130,000 objects', () => {
  it('is read whole by the CLI and by the file source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-large-'));
    const file = join(dir, 'many.yaml');
    writeFileSync(
      file,
      Array.from(
        { length: COUNT },
        (_v, i) => `{apiVersion: v1, kind: ConfigMap, metadata: {name: c${i}, namespace: d}}`,
      ).join('\n---\n'),
    );
    const input = readInputs([dir], () => '');
    expect(input.diagnostics).toEqual([]);
    expect(input.objects).toHaveLength(COUNT);
    const served = new FileSource({ paths: [dir] }).read();
    expect(served.problems).toEqual([]);
    expect(served.objects).toHaveLength(COUNT);
  }, 60_000);
});
