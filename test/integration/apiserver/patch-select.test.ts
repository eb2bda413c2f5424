/** Patch content types and selectors of the stand-in API server, over raw HTTP. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { call } from './http-client';

let server: StandInApiServer;
let base: string;

beforeAll(async () => {
  server = await startApiServer();
  base = server.url;
  const objects: [string, Record<string, string>][] = [
    ['web-1', { app: 'web', tier: 'front', env: 'prod' }],
    ['web-2', { app: 'web', tier: 'front', env: 'dev' }],
    ['db-1', { app: 'db', tier: 'back', env: 'prod' }],
    ['bare', {}],
  ];
  for (const [name, labels] of objects) {
    server.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'sel', labels },
    });
  }
  server.apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'web-1', namespace: 'other', labels: { app: 'web' } },
  });
  server.apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'tls', namespace: 'sel' },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': '', 'tls.key': '' },
  });
  server.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain', namespace: 'sel' } });
});
afterAll(async () => {
  await server.close();
});

async function names(path: string): Promise<string[]> {
  const reply = await call(base, 'GET', path);
  if (reply.status !== 200) throw new Error(`${reply.status}: ${reply.text}`);
  return (reply.json as { items: { metadata: JsonObject }[] }).items.map((item) =>
    String(item.metadata.name),
  );
}

describe('label selectors on lists', () => {
  it.each([
    ['app=web', ['web-1', 'web-2']],
    ['app==web', ['web-1', 'web-2']],
    ['app!=web', ['bare', 'db-1']],
    ['env in (prod, staging)', ['db-1', 'web-1']],
    ['env notin (prod)', ['bare', 'web-2']],
    ['tier', ['db-1', 'web-1', 'web-2']],
    ['!tier', ['bare']],
    ['app=web,env=prod', ['web-1']],
    ['app=nothing', []],
  ])('%s', async (selector, expected) => {
    expect(
      await names(
        `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent(selector)}`,
      ),
    ).toEqual(expected);
  });

  it('refuses a malformed selector with 400 BadRequest', async () => {
    const reply = await call(
      base,
      'GET',
      `/api/v1/namespaces/sel/configmaps?labelSelector=${encodeURIComponent('app in (web')}`,
    );
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ kind: 'Status', reason: 'BadRequest' });
  });
});

describe('field selectors on lists', () => {
  it.each([
    ['/api/v1/namespaces/sel/configmaps', 'metadata.name=web-1', ['web-1']],
    ['/api/v1/namespaces/sel/configmaps', 'metadata.name!=web-1', ['bare', 'db-1', 'web-2']],
    ['/api/v1/configmaps', 'metadata.name=web-1,metadata.namespace=other', ['web-1']],
    ['/api/v1/configmaps', 'metadata.namespace=other', ['web-1']],
    ['/api/v1/namespaces/sel/secrets', 'type=kubernetes.io/tls', ['tls']],
    ['/api/v1/namespaces/sel/secrets', 'type!=kubernetes.io/tls', ['plain']],
    ['/api/v1/namespaces', 'status.phase=Active,metadata.name=sel', ['sel']],
  ])('%s ? %s', async (path, selector, expected) => {
    expect(await names(`${path}?fieldSelector=${encodeURIComponent(selector)}`)).toEqual(expected);
  });

  it('refuses fields the resource does not index', async () => {
    const reply = await call(
      base,
      'GET',
      `/api/v1/namespaces/sel/configmaps?fieldSelector=${encodeURIComponent('data.a=b')}`,
    );
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ message: 'field label not supported: data.a' });
  });
});

describe('patch content types', () => {
  const path = '/api/v1/namespaces/patching/services/web';
  const merge = { 'Content-Type': 'application/merge-patch+json' };

  beforeAll(() => {
    server.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'patching', annotations: { a: '1', b: '2' } },
      spec: {
        ports: [
          { name: 'http', port: 80 },
          { name: 'https', port: 443 },
        ],
        selector: { app: 'web' },
      },
    });
  });

  it('merge patch replaces lists and deletes keys set to null', async () => {
    const reply = await call(
      base,
      'PATCH',
      path,
      {
        metadata: { annotations: { a: null, c: '3' } },
        spec: { ports: [{ name: 'http', port: 8080 }] },
      },
      merge,
    );
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      metadata: { annotations: { b: '2', c: '3' } },
      spec: { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
    });
  });

  it('strategic merge patch merges Service ports by port number', async () => {
    const reply = await call(
      base,
      'PATCH',
      path,
      { spec: { ports: [{ name: 'https', port: 443 }] } },
      { 'Content-Type': 'application/strategic-merge-patch+json' },
    );
    expect(
      (reply.json as { spec: { ports: JsonObject[] } }).spec.ports.map((port) => port.port),
    ).toEqual([8080, 443]);
  });

  it('JSON patch applies in order; a failed test operation is 422 and changes nothing', async () => {
    const before = (await call(base, 'GET', path)).json as { metadata: JsonObject };
    const failed = await call(
      base,
      'PATCH',
      path,
      [
        { op: 'add', path: '/metadata/annotations/d', value: '4' },
        { op: 'test', path: '/spec/selector/app', value: 'not-web' },
      ],
      { 'Content-Type': 'application/json-patch+json' },
    );
    expect(failed.status).toBe(422);
    const after = (await call(base, 'GET', path)).json as { metadata: JsonObject };
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const applied = await call(
      base,
      'PATCH',
      path,
      [{ op: 'replace', path: '/spec/selector/app', value: 'web2' }],
      {
        'Content-Type': 'application/json-patch+json',
      },
    );
    expect(applied.json).toMatchObject({ spec: { selector: { app: 'web2' } } });
  });

  it('a resourceVersion in the patch is a precondition', async () => {
    const stale = await call(
      base,
      'PATCH',
      path,
      { metadata: { resourceVersion: '1', labels: { x: 'y' } } },
      merge,
    );
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ reason: 'Conflict' });
  });

  it('refuses unknown patch types, strategic merge on custom resources, and patches of missing objects', async () => {
    expect(
      (await call(base, 'PATCH', path, { a: 1 }, { 'Content-Type': 'application/json' })).status,
    ).toBe(415);
    server.apply({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'patching' },
      spec: {},
    });
    const routePath = '/apis/gateway.networking.k8s.io/v1/namespaces/patching/httproutes/r';
    expect(
      (
        await call(
          base,
          'PATCH',
          routePath,
          { spec: { a: 1 } },
          { 'Content-Type': 'application/strategic-merge-patch+json' },
        )
      ).status,
    ).toBe(415);
    expect((await call(base, 'PATCH', routePath, { spec: { a: 1 } }, merge)).status).toBe(200);
    expect(
      (await call(base, 'PATCH', '/api/v1/namespaces/patching/services/missing', { a: 1 }, merge))
        .status,
    ).toBe(404);
  });

  it('server-side apply creates a missing object and merges into an existing one', async () => {
    const apply = { 'Content-Type': 'application/apply-patch+yaml' };
    const body = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'ssa' },
      data: { a: '1' },
    };
    const created = await call(
      base,
      'PATCH',
      '/api/v1/namespaces/patching/configmaps/ssa?fieldManager=test',
      body,
      apply,
    );
    expect(created.status).toBe(201);
    const updated = await call(
      base,
      'PATCH',
      '/api/v1/namespaces/patching/configmaps/ssa?fieldManager=test',
      { ...body, data: { b: '2' } },
      apply,
    );
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ data: { a: '1', b: '2' } });
    const yaml = await call(
      base,
      'PATCH',
      '/api/v1/namespaces/patching/configmaps/ssa',
      'data: {c: "3"}',
      apply,
    );
    expect(yaml.status).toBe(400);
  });

  it('patches the status subresource without touching the spec', async () => {
    const reply = await call(
      base,
      'PATCH',
      `${path}/status`,
      {
        spec: { selector: { app: 'ignored' } },
        status: { loadBalancer: { ingress: [{ hostname: 'lb.example' }] } },
      },
      merge,
    );
    expect(reply.json).toMatchObject({
      spec: { selector: { app: 'web2' } },
      status: { loadBalancer: { ingress: [{ hostname: 'lb.example' }] } },
    });
  });
});

describe('hostile requests', () => {
  it.each([
    [
      'a malformed percent escape in the path',
      'GET',
      '/api/v1/namespaces/%E0%A4%A/configmaps',
      400,
    ],
    ['an unknown method', 'OPTIONS', '/api/v1/namespaces/sel/configmaps', 405],
    ['a namespaced item without a namespace', 'GET', '/api/v1/configmaps/web-1', 404],
    ['a create without a namespace', 'POST', '/api/v1/configmaps', 405],
    ['a negative limit', 'GET', '/api/v1/configmaps?limit=-1', 400],
    ['a dryRun value other than All', 'POST', '/api/v1/namespaces/sel/configmaps?dryRun=Some', 400],
    ['an unknown subresource', 'GET', '/api/v1/namespaces/sel/configmaps/web-1/scale', 404],
    ['a path past the subresource', 'GET', '/api/v1/namespaces/sel/services/a/status/extra', 404],
  ])('answers %s with %i', async (_title, method, path, code) => {
    const reply = await call(
      base,
      method,
      path,
      method === 'POST' ? { metadata: { name: 'n' } } : undefined,
    );
    expect(reply.status).toBe(code);
  });

  it('keeps working on unicode, CR/LF and very long names (refused as invalid, never crashing)', async () => {
    for (const name of ['ключ', 'a\r\nb', 'x'.repeat(300), ' ', '']) {
      const reply = await call(base, 'POST', '/api/v1/namespaces/sel/configmaps', {
        metadata: { name },
      });
      expect(reply.status).toBe(422);
    }
    expect((await call(base, 'GET', '/api')).status).toBe(200);
  });
});
