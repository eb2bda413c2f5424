import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../sources/files';
import { SnapshotTap } from './tap';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

describe('SnapshotTap', () => {
  it('passes snapshots on and finds the objects of the latest one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-tap-'));
    const file = join(dir, 'svc.yaml');
    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata: { name: a, namespace: shop }\n');
    const tap = new SnapshotTap(new FileSource({ paths: [dir], debounceMs: 10, pollMs: 50 }));
    stops.push(() => tap.stop());
    expect(tap.directory().find('Service', 'shop', 'a')).toBeUndefined();
    const generations: number[] = [];
    await tap.start((snapshot) => generations.push(snapshot.generation));
    expect(generations).toEqual([1]);
    expect(tap.directory().find('Service', 'shop', 'a')?.metadata.name).toBe('a');
    expect(tap.directory()).toBe(tap.directory());

    writeFileSync(file, 'apiVersion: v1\nkind: Service\nmetadata: { name: b, namespace: shop }\n');
    const deadline = Date.now() + 3000;
    while (generations.length < 2 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(tap.directory().find('Service', 'shop', 'a')).toBeUndefined();
    expect(tap.directory().find('Service', 'shop', 'b')).toBeDefined();
  });
});
