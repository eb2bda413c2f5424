/** A local `tether serve` of manifests written to a scratch folder, for integration tests. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PemPair } from '@tether/testkit';
import { startServe, type Running, type ServeOptions } from '../../packages/cli/src/serve';

/**
 * Serves `manifests` (YAML text) on ephemeral loopback ports; with `front`, an HTTPS listener
 * too, whose default certificate it is. The caller stops what it gets.
 */
export async function serveManifests(
  manifests: string,
  front?: PemPair,
  extra: Partial<ServeOptions> = {},
): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'tether-serve-'));
  writeFileSync(join(dir, 'app.yaml'), manifests);
  if (front) {
    writeFileSync(join(dir, 'tls.crt'), front.cert);
    writeFileSync(join(dir, 'tls.key'), front.key);
  }
  return startServe({
    manifests: [join(dir, 'app.yaml')],
    listen: '127.0.0.1:0',
    ...(front
      ? { listenTls: '127.0.0.1:0', tlsCert: join(dir, 'tls.crt'), tlsKey: join(dir, 'tls.key') }
      : {}),
    admin: '127.0.0.1:0',
    api: '127.0.0.1:0',
    ingressClass: 'tether',
    logLevel: 'silent',
    ...extra,
  });
}
