import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource, manifestFilesIn } from './files';

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

describe('FileSource', () => {
  const doc = (name: string): string =>
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: default\nspec:\n  ports:\n    - port: 80\n`;

  it('reads again only the files that changed, and says when nothing did', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-files-'));
    writeFileSync(join(dir, 'a.yaml'), doc('a'));
    writeFileSync(join(dir, 'b.yaml'), doc('b'));
    const source = new FileSource({ paths: [dir] });
    const first = source.read();
    expect(first.changed).toBe(true);
    expect(first.objects.map((o) => o.metadata?.name)).toEqual(['a', 'b']);
    const idle = source.read();
    expect(idle.changed).toBe(false);
    // The same objects: nothing was parsed again.
    expect(idle.objects[0]).toBe(first.objects[0]);
    expect(idle.objects[1]).toBe(first.objects[1]);
    // Touched with the same content: read, hashed, not parsed.
    utimesSync(join(dir, 'a.yaml'), new Date(), new Date(Date.now() + 5000));
    const touched = source.read();
    expect(touched.changed).toBe(false);
    expect(touched.objects[0]).toBe(first.objects[0]);
    writeFileSync(join(dir, 'b.yaml'), doc('b2'));
    const edited = source.read();
    expect(edited.changed).toBe(true);
    expect(edited.objects[0]).toBe(first.objects[0]);
    expect(edited.objects[1]?.metadata?.name).toBe('b2');
    rmSync(join(dir, 'b.yaml'));
    const removed = source.read();
    expect(removed.changed).toBe(true);
    expect(removed.objects.map((o) => o.metadata?.name)).toEqual(['a']);
  });

  it('keeps the last good objects of a file caught half-written, and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-files-'));
    const file = join(dir, 'svc.yaml');
    writeFileSync(file, doc('web'));
    const source = new FileSource({ paths: [dir] });
    const good = source.read();
    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata:\n  name: "we');
    const half = source.read();
    expect(half.objects).toEqual(good.objects);
    expect(half.problems.map((p) => [p.severity, p.reason])).toEqual([
      ['error', 'InvalidManifest'],
      ['warning', 'KeptLastGoodManifest'],
    ]);
    writeFileSync(file, doc('web2'));
    const fixed = source.read();
    expect(fixed.problems).toEqual([]);
    expect(fixed.objects.map((o) => o.metadata?.name)).toEqual(['web2']);
  });

  it('a file that never parsed gives no objects', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-files-'));
    writeFileSync(join(dir, 'bad.yaml'), 'kind: [');
    const r = new FileSource({ paths: [dir] }).read();
    expect(r.objects).toEqual([]);
    expect(r.problems.map((p) => p.reason)).toEqual(['InvalidManifest']);
  });
});
