/**
 * A local `tether serve` reports a fixed configuration as a cluster does: the Normal
 * `Accepted` Event appears in /api/events once a refused object serves again.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type Running } from '../../../packages/cli/src/serve';

const ROOT = join(__dirname, '..', '..', '..');
let running: Running | undefined;

afterAll(async () => {
  await running?.stop();
});

interface Item {
  type: string;
  reason: string;
  object: { kind: string; namespace?: string; name: string };
}

async function events(base: string): Promise<Item[]> {
  const response = await fetch(`${base}/api/events`);
  return ((await response.json()) as { items: Item[] }).items;
}

describe('a local serve', () => {
  it('adds the Normal Accepted event when a refused configuration is fixed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-accepted-'));
    const file = join(dir, 'ingress.yaml');
    copyFileSync(join(ROOT, 'examples', 'migration', 'conflict', 'ingress.yaml'), file);
    running = await startServe({
      manifests: [dir],
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      api: '127.0.0.1:0',
      ingressClass: 'tether',
      logLevel: 'silent',
    });
    const api = running.addresses.api;
    const base = `http://127.0.0.1:${api?.port ?? 0}`;
    const before = await events(base);
    expect(before.some((i) => i.type === 'Warning' && i.object.kind === 'Ingress')).toBe(true);
    expect(before.some((i) => i.reason === 'Accepted')).toBe(false);
    // The fix: both dialects name the same cookie.
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('"cookieName": "STORE"', '"cookieName": "STORE_ROUTE"'),
    );
    let after: Item[] = [];
    for (let i = 0; i < 60; i++) {
      after = await events(base);
      if (after.some((e) => e.reason === 'Accepted')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const accepted = after.find((e) => e.reason === 'Accepted');
    expect(accepted).toMatchObject({ type: 'Normal', object: { kind: 'Ingress' } });
    expect(after.some((i) => i.type === 'Warning' && i.reason === 'ConflictingValues')).toBe(false);
  }, 30_000);
});
