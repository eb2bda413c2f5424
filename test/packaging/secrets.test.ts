/**
 * The chart's Secrets against a cluster: `helm template --dry-run=server` lets `lookup` read the
 * stand-in API server, as `helm upgrade` reads the real one. The cookie key (and the default
 * certificate) must be made once and then read back on every later render, so an upgrade never
 * logs users out.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { at, NAMESPACE, one, RELEASE, render, type KubeObject } from './chart';

let server: StandInApiServer;
let kubeconfig: string;

beforeAll(async () => {
  server = await startApiServer({ optionalGroups: [] });
  kubeconfig = server.writeKubeconfig();
});

afterAll(async () => {
  await server.close();
});

const COOKIE_SECRET = `${RELEASE}-tether-cookie-key`;
const TLS_SECRET = `${RELEASE}-tether-default-tls`;

/** Renders against the stand-in server; the objects it would create. */
async function renderOnCluster(args: string[] = []): Promise<KubeObject[]> {
  const result = await render(['--dry-run=server', ...args], { kubeconfig });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.objects;
}

/** A rendered object as the stand-in server stores it (YAML parsed to JSON values only). */
const stored = (o: KubeObject): JsonObject => JSON.parse(JSON.stringify(o)) as JsonObject;

const dataOf = (objects: KubeObject[], name: string, key: string): string =>
  String(at(one(objects, 'Secret', name), 'data', key));

describe('the cookie key Secret', () => {
  it('is new at the first install and read back, unchanged, by every upgrade', async () => {
    const first = await renderOnCluster();
    const key = dataOf(first, COOKIE_SECRET, 'cookie-key');
    expect(Buffer.from(key, 'base64').length).toBeGreaterThanOrEqual(16);
    // Without the Secret stored, each render makes a new key: what `lookup` prevents.
    expect(dataOf(await renderOnCluster(), COOKIE_SECRET, 'cookie-key')).not.toBe(key);

    // The install stores the Secrets; upgrades, with other values changed too, keep them.
    server.apply(stored(one(first, 'Secret', COOKIE_SECRET)));
    server.apply(stored(one(first, 'Secret', TLS_SECRET)));
    for (const args of [[], ['--set', 'replicaCount=5,controller.logLevel=debug'], []]) {
      const upgrade = await renderOnCluster(args);
      expect(dataOf(upgrade, COOKIE_SECRET, 'cookie-key')).toBe(key);
      expect(dataOf(upgrade, TLS_SECRET, 'tls.crt')).toBe(dataOf(first, TLS_SECRET, 'tls.crt'));
      expect(dataOf(upgrade, TLS_SECRET, 'tls.key')).toBe(dataOf(first, TLS_SECRET, 'tls.key'));
      // Nothing in the pod template depends on the generated key, so an upgrade rolls no pod for it.
      const pod = at(one(upgrade, 'Deployment'), 'spec', 'template', 'metadata', 'annotations');
      expect(pod).toBeUndefined();
    }
  });

  it('holds the key given in the values, and a new one rolls the pods', async () => {
    const given = 'a-shared-key-of-32-characters-ok';
    const objects = await renderOnCluster(['--set', `cookieKey.value=${given}`]);
    expect(Buffer.from(dataOf(objects, COOKIE_SECRET, 'cookie-key'), 'base64').toString()).toBe(
      given,
    );
    const annotations = at(
      one(objects, 'Deployment'),
      'spec',
      'template',
      'metadata',
      'annotations',
    );
    expect(annotations).toEqual({
      'checksum/cookie-key': createHash('sha256').update(given).digest('hex'),
    });
  });

  it('is left to the user when the values name an existing Secret', async () => {
    const objects = await renderOnCluster(['--set', 'cookieKey.existingSecret=team-cookie-key']);
    expect(objects.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual([
      TLS_SECRET,
    ]);
    const volumes = at(one(objects, 'Deployment'), 'spec', 'template', 'spec', 'volumes');
    expect(volumes).toContainEqual(
      expect.objectContaining({
        name: 'cookie-key',
        secret: expect.objectContaining({ secretName: 'team-cookie-key' }),
      }),
    );
    expect(one(objects, 'Deployment').metadata.namespace).toBe(NAMESPACE);
  });
});
