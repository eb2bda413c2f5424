/**
 * The stand-in API server over raw HTTP: discovery, create/get/list/update/delete, optimistic
 * concurrency, status subresources, generations, finalizers, namespaces and error shapes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApiServer, type JsonObject, type StandInApiServer } from '@tether/testkit';
import { call } from './http-client';

let server: StandInApiServer;
let base: string;

beforeAll(async () => {
  server = await startApiServer({ optionalGroups: ['gateway.networking.k8s.io'] });
  base = server.url;
});
afterAll(async () => {
  await server.close();
});

function service(name: string, extra: JsonObject = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { ports: [{ port: 80 }] },
    ...extra,
  };
}

function meta(object: unknown): JsonObject {
  return (object as { metadata: JsonObject }).metadata;
}

describe('discovery', () => {
  it('serves /api, /apis and each group version', async () => {
    const api = await call(base, 'GET', '/api');
    expect(api.json).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });

    const groups = await call(base, 'GET', '/apis');
    const names = (groups.json as { groups: { name: string }[] }).groups.map((group) => group.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'networking.k8s.io',
        'discovery.k8s.io',
        'coordination.k8s.io',
        'events.k8s.io',
        'gateway.networking.k8s.io',
      ]),
    );
    // Groups whose CRDs this instance does not have are absent, as on a cluster without them.
    expect(names).not.toContain('route.openshift.io');
    expect((await call(base, 'GET', '/apis/route.openshift.io/v1')).status).toBe(404);
    expect(
      (await call(base, 'GET', '/apis/route.openshift.io/v1/namespaces/a/routes')).status,
    ).toBe(404);
  });

  it.each([
    [
      '/api/v1',
      'services',
      { singularName: 'service', namespaced: true, kind: 'Service', shortNames: ['svc'] },
    ],
    ['/api/v1', 'namespaces', { namespaced: false, kind: 'Namespace', shortNames: ['ns'] }],
    ['/api/v1', 'events', { namespaced: true, kind: 'Event', shortNames: ['ev'] }],
    [
      '/apis/networking.k8s.io/v1',
      'ingresses',
      { singularName: 'ingress', kind: 'Ingress', shortNames: ['ing'] },
    ],
    ['/apis/networking.k8s.io/v1', 'ingressclasses', { namespaced: false, kind: 'IngressClass' }],
    ['/apis/discovery.k8s.io/v1', 'endpointslices', { kind: 'EndpointSlice' }],
    ['/apis/coordination.k8s.io/v1', 'leases', { kind: 'Lease' }],
    ['/apis/events.k8s.io/v1', 'events', { kind: 'Event' }],
    ['/apis/gateway.networking.k8s.io/v1', 'httproutes', { kind: 'HTTPRoute', namespaced: true }],
  ])('%s lists %s', async (path, name, expected) => {
    const reply = await call(base, 'GET', path);
    expect(reply.json).toMatchObject({ kind: 'APIResourceList' });
    const resources = (reply.json as { resources: JsonObject[] }).resources;
    const entry = resources.find((resource) => resource.name === name);
    expect(entry).toMatchObject({
      ...expected,
      verbs: expect.arrayContaining([
        'get',
        'list',
        'watch',
        'create',
        'update',
        'patch',
        'delete',
      ]),
    });
  });

  it('lists status subresources', async () => {
    const reply = await call(base, 'GET', '/apis/networking.k8s.io/v1');
    const resources = (reply.json as { resources: JsonObject[] }).resources;
    expect(resources.find((resource) => resource.name === 'ingresses/status')).toMatchObject({
      verbs: ['get', 'patch', 'update'],
    });
    expect(resources.find((resource) => resource.name === 'ingressclasses/status')).toBeUndefined();
  });

  it('answers /version and an unknown path with a NotFound Status', async () => {
    expect((await call(base, 'GET', '/version')).json).toMatchObject({ major: '1', minor: '30' });
    const missing = await call(base, 'GET', '/api/v1/widgets');
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
    });
  });
});

describe('create and get', () => {
  it('assigns uid, creationTimestamp and an increasing resourceVersion, and applies defaults', async () => {
    const first = await call(base, 'POST', '/api/v1/namespaces/default/services', service('alpha'));
    const second = await call(base, 'POST', '/api/v1/namespaces/default/services', service('beta'));
    expect(first.status).toBe(201);
    const a = meta(first.json);
    const b = meta(second.json);
    expect(a.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.uid).not.toBe(b.uid);
    expect(a.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Number(b.resourceVersion)).toBeGreaterThan(Number(a.resourceVersion));
    expect(a.namespace).toBe('default');
    expect(first.json).toMatchObject({
      apiVersion: 'v1',
      kind: 'Service',
      spec: {
        type: 'ClusterIP',
        sessionAffinity: 'None',
        ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      },
      status: { loadBalancer: {} },
    });
    const got = await call(base, 'GET', '/api/v1/namespaces/default/services/alpha');
    expect(got.json).toEqual(first.json);
  });

  it('fills generateName and answers AlreadyExists for a duplicate name', async () => {
    const generated = await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { generateName: 'cm-' },
    });
    expect(meta(generated.json).name).toMatch(/^cm-[a-z0-9]{5}$/);
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'dup' },
    });
    const again = await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'dup' },
    });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "dup" already exists',
      reason: 'AlreadyExists',
      details: { name: 'dup', kind: 'configmaps' },
      code: 409,
    });
  });

  it('answers NotFound with the real message shape, group included', async () => {
    const reply = await call(
      base,
      'GET',
      '/apis/networking.k8s.io/v1/namespaces/default/ingresses/nope',
    );
    expect(reply.status).toBe(404);
    expect(reply.json).toMatchObject({
      reason: 'NotFound',
      message: 'ingresses.networking.k8s.io "nope" not found',
      details: { name: 'nope', group: 'networking.k8s.io', kind: 'ingresses' },
    });
  });

  it.each([
    [
      'a name that is not a DNS-1035 label',
      service('9lives'),
      'metadata.name',
      'FieldValueInvalid',
    ],
    ['no ports', { metadata: { name: 'noports' }, spec: {} }, 'spec.ports', 'FieldValueRequired'],
    [
      'an unknown sessionAffinity',
      service('aff', { spec: { ports: [{ port: 80 }], sessionAffinity: 'Cookie' } }),
      'spec.sessionAffinity',
      'FieldValueNotSupported',
    ],
    [
      'a ClientIP timeout above one day',
      service('aff2', {
        spec: {
          ports: [{ port: 80 }],
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 90000 } },
        },
      }),
      'spec.sessionAffinityConfig.clientIP.timeoutSeconds',
      'FieldValueInvalid',
    ],
    [
      'a bad label value',
      service('lab', { metadata: { name: 'lab', labels: { app: 'not ok' } } }),
      'metadata.labels',
      'FieldValueInvalid',
    ],
    [
      'two unnamed ports',
      service('two', { spec: { ports: [{ port: 80 }, { port: 81, name: 'b' }] } }),
      'spec.ports[0].name',
      'FieldValueRequired',
    ],
  ])('rejects %s with 422 Invalid', async (_title, body, field, reason) => {
    const reply = await call(base, 'POST', '/api/v1/namespaces/default/services', body);
    expect(reply.status).toBe(422);
    expect(reply.json).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      code: 422,
      details: { kind: 'Service' },
    });
    const causes = (reply.json as { details: { causes: JsonObject[] } }).details.causes;
    expect(causes).toContainEqual(expect.objectContaining({ field, reason }));
    expect((reply.json as { message: string }).message).toMatch(/^Service ".*" is invalid: /);
  });

  it('rejects a namespace mismatch, a wrong kind and a preset resourceVersion', async () => {
    const mismatch = await call(
      base,
      'POST',
      '/api/v1/namespaces/default/services',
      service('x', { metadata: { name: 'x', namespace: 'other' } }),
    );
    expect(mismatch.status).toBe(400);
    const wrongKind = await call(base, 'POST', '/api/v1/namespaces/default/services', {
      ...service('y'),
      kind: 'ConfigMap',
    });
    expect(wrongKind.status).toBe(400);
    const preset = await call(
      base,
      'POST',
      '/api/v1/namespaces/default/services',
      service('z', { metadata: { name: 'z', resourceVersion: '5' } }),
    );
    expect(preset.status).toBe(500);
    expect((preset.json as { message: string }).message).toContain(
      'resourceVersion should not be set',
    );
  });

  it('rejects bodies that are not JSON objects, too large, or of another media type', async () => {
    expect(
      (await call(base, 'POST', '/api/v1/namespaces/default/configmaps', '{not json')).status,
    ).toBe(400);
    expect(
      (await call(base, 'POST', '/api/v1/namespaces/default/configmaps', '[1,2]')).status,
    ).toBe(400);
    expect((await call(base, 'POST', '/api/v1/namespaces/default/configmaps', '')).status).toBe(
      400,
    );
    const yaml = await call(
      base,
      'POST',
      '/api/v1/namespaces/default/configmaps',
      'metadata: {name: y}',
      { 'Content-Type': 'application/yaml' },
    );
    expect(yaml.status).toBe(415);
    const huge = { metadata: { name: 'huge' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) } };
    const tooBig = await call(base, 'POST', '/api/v1/namespaces/default/configmaps', huge);
    expect(tooBig.status).toBe(413);
  });

  it('drops unknown top-level fields with a Warning, and refuses them under fieldValidation=Strict', async () => {
    const body = { metadata: { name: 'unknown-field' }, data: { a: 'b' }, bogus: 1 };
    const warned = await call(base, 'POST', '/api/v1/namespaces/default/configmaps', body);
    expect(warned.status).toBe(201);
    expect(warned.headers.warning).toBe('299 - "unknown field \\"bogus\\""');
    expect(warned.json).not.toHaveProperty('bogus');
    const strict = await call(
      base,
      'POST',
      '/api/v1/namespaces/default/configmaps?fieldValidation=Strict',
      { ...body, metadata: { name: 'strict' } },
    );
    expect(strict.status).toBe(400);
    expect((strict.json as { message: string }).message).toContain('unknown field "bogus"');
  });

  it('does not store anything on dryRun=All', async () => {
    const reply = await call(base, 'POST', '/api/v1/namespaces/default/configmaps?dryRun=All', {
      metadata: { name: 'dry' },
    });
    expect(reply.status).toBe(201);
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
  });

  it('folds Secret stringData into base64 data and defaults the type', async () => {
    const reply = await call(base, 'POST', '/api/v1/namespaces/default/secrets', {
      metadata: { name: 's' },
      stringData: { key: 'value' },
    });
    expect(reply.json).toMatchObject({
      type: 'Opaque',
      data: { key: Buffer.from('value').toString('base64') },
    });
    expect(reply.json).not.toHaveProperty('stringData');
  });
});

describe('list', () => {
  it('answers a typed list whose resourceVersion is the store version and whose items omit kind', async () => {
    await call(base, 'POST', '/api/v1/namespaces/listing/configmaps', {
      metadata: { name: 'one' },
    });
    await call(base, 'POST', '/api/v1/namespaces/listing/configmaps', {
      metadata: { name: 'two' },
    });
    // A change elsewhere moves the store version on; the list reports it.
    await call(base, 'POST', '/api/v1/namespaces/elsewhere/secrets', {
      metadata: { name: 'other' },
    });
    const reply = await call(base, 'GET', '/api/v1/namespaces/listing/configmaps');
    const list = reply.json as {
      kind: string;
      metadata: { resourceVersion: string };
      items: JsonObject[];
    };
    expect(list.kind).toBe('ConfigMapList');
    expect(list.metadata.resourceVersion).toBe(server.resourceVersion);
    expect(list.items.map((item) => meta(item).name)).toEqual(['one', 'two']);
    expect(list.items[0]).not.toHaveProperty('kind');
  });

  it('lists across namespaces and pages with limit/continue from a consistent snapshot', async () => {
    for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      await call(base, 'POST', '/api/v1/namespaces/paging/endpoints', { metadata: { name } });
    }
    const first = (await call(base, 'GET', '/api/v1/namespaces/paging/endpoints?limit=2')).json as {
      metadata: { continue: string; remainingItemCount: number; resourceVersion: string };
      items: JsonObject[];
    };
    expect(first.items.map((item) => meta(item).name)).toEqual(['p1', 'p2']);
    expect(first.metadata.remainingItemCount).toBe(3);
    // Changes after the first page do not show in later pages.
    await call(base, 'DELETE', '/api/v1/namespaces/paging/endpoints/p3');
    const second = (
      await call(
        base,
        'GET',
        `/api/v1/namespaces/paging/endpoints?limit=2&continue=${first.metadata.continue}`,
      )
    ).json as {
      metadata: { continue: string; resourceVersion: string };
      items: JsonObject[];
    };
    expect(second.items.map((item) => meta(item).name)).toEqual(['p3', 'p4']);
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    const third = (
      await call(
        base,
        'GET',
        `/api/v1/namespaces/paging/endpoints?limit=2&continue=${second.metadata.continue}`,
      )
    ).json as {
      metadata: JsonObject;
      items: JsonObject[];
    };
    expect(third.items.map((item) => meta(item).name)).toEqual(['p5']);
    expect(third.metadata.continue).toBeUndefined();
    expect((await call(base, 'GET', '/api/v1/endpoints?continue=garbage')).status).toBe(400);
    const all = (await call(base, 'GET', '/api/v1/endpoints')).json as { items: JsonObject[] };
    expect(all.items.map((item) => meta(item).namespace)).toContain('paging');
  });

  it('answers 410 for an Exact version that is not current and 504 for a future version', async () => {
    const exact = await call(
      base,
      'GET',
      '/api/v1/configmaps?resourceVersion=1&resourceVersionMatch=Exact',
    );
    expect(exact.status).toBe(410);
    expect(exact.json).toMatchObject({ reason: 'Expired', code: 410 });
    const future = await call(
      base,
      'GET',
      `/api/v1/configmaps?resourceVersion=${Number(server.resourceVersion) + 100}`,
    );
    expect(future.status).toBe(504);
    expect(future.json).toMatchObject({
      reason: 'Timeout',
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }] },
    });
    expect((await call(base, 'GET', '/api/v1/configmaps?resourceVersion=abc')).status).toBe(400);
  });
});

describe('update', () => {
  it('refuses a stale resourceVersion with 409 Conflict and accepts the current one', async () => {
    const created = (
      await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: 'cas' },
        data: { v: '1' },
      })
    ).json as JsonObject;
    const updated = await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/cas', {
      ...created,
      data: { v: '2' },
    });
    expect(updated.status).toBe(200);
    expect(Number(meta(updated.json).resourceVersion)).toBeGreaterThan(
      Number(meta(created).resourceVersion),
    );
    const stale = await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/cas', {
      ...created,
      data: { v: '3' },
    });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on configmaps "cas": the object has been modified; please apply your changes to the latest version and try again',
      details: { name: 'cas', kind: 'configmaps' },
    });
    // Without a resourceVersion the update is unconditional.
    const unconditional = await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/cas', {
      metadata: { name: 'cas' },
      data: { v: '4' },
    });
    expect(unconditional.status).toBe(200);
    expect(meta(unconditional.json).uid).toBe(meta(created).uid);
    expect(meta(unconditional.json).creationTimestamp).toBe(meta(created).creationTimestamp);
  });

  it('writes nothing for an update that changes nothing', async () => {
    const created = (
      await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: 'noop' },
        data: { v: '1' },
      })
    ).json as JsonObject;
    const before = server.resourceVersion;
    const same = await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/noop', created);
    expect(meta(same.json).resourceVersion).toBe(meta(created).resourceVersion);
    expect(server.resourceVersion).toBe(before);
  });

  it('answers 404 for a missing object, 400 for a name that differs from the URL', async () => {
    expect(
      (
        await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/ghost', {
          metadata: { name: 'ghost' },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await call(base, 'PUT', '/api/v1/namespaces/default/configmaps/cas', {
          metadata: { name: 'other' },
        })
      ).status,
    ).toBe(400);
  });

  it('creates Endpoints on PUT, as the real server does for that kind', async () => {
    const reply = await call(base, 'PUT', '/api/v1/namespaces/default/endpoints/made-by-put', {
      metadata: { name: 'made-by-put' },
    });
    expect(reply.status).toBe(201);
  });

  it('keeps the clusterIP of a Service when an update leaves it out, and refuses to change it', async () => {
    const created = (
      await call(base, 'POST', '/api/v1/namespaces/default/services', service('keepip'))
    ).json as { spec: JsonObject };
    const replaced = await call(
      base,
      'PUT',
      '/api/v1/namespaces/default/services/keepip',
      service('keepip'),
    );
    expect((replaced.json as { spec: JsonObject }).spec.clusterIP).toBe(created.spec.clusterIP);
    const changed = await call(
      base,
      'PUT',
      '/api/v1/namespaces/default/services/keepip',
      service('keepip', { spec: { ports: [{ port: 80 }], clusterIP: '10.0.0.99' } }),
    );
    expect(changed.status).toBe(422);
  });
});

describe('status subresource and generation', () => {
  const ingress = (host: string): JsonObject => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web' },
    spec: {
      rules: [
        {
          host,
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'web', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
  });
  const path = '/apis/networking.k8s.io/v1/namespaces/default/ingresses/web';

  it('ignores status on create and on main-resource updates; /status changes only status', async () => {
    const created = (
      await call(
        base,
        'POST',
        '/apis/networking.k8s.io/v1/namespaces/default/ingresses',
        ingress('a.example'),
      )
    ).json as JsonObject;
    expect(created.status).toEqual({ loadBalancer: {} });
    expect(meta(created).generation).toBe(1);

    const updated = (await call(base, 'PUT', path, ingress('b.example'))).json as JsonObject;
    expect(updated.status).toEqual({ loadBalancer: {} });
    expect(meta(updated).generation).toBe(2);

    const statusOnly = {
      ...ingress('ignored.example'),
      metadata: { name: 'web', labels: { ignored: 'yes' } },
    };
    const afterStatus = (await call(base, 'PUT', `${path}/status`, statusOnly)).json as JsonObject;
    expect(afterStatus.status).toEqual({ loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } });
    expect(afterStatus.spec).toEqual(updated.spec);
    expect(meta(afterStatus).labels).toBeUndefined();
    expect(meta(afterStatus).generation).toBe(2);

    const got = (await call(base, 'GET', `${path}/status`)).json as JsonObject;
    expect(got.status).toEqual(afterStatus.status);
    // A label change is not a spec change: the generation stays.
    const relabelled = (
      await call(
        base,
        'PATCH',
        path,
        { metadata: { labels: { a: 'b' } } },
        { 'Content-Type': 'application/merge-patch+json' },
      )
    ).json as JsonObject;
    expect(meta(relabelled).generation).toBe(2);
    expect(relabelled.status).toEqual(afterStatus.status);
  });

  it('has no /status for kinds without one', async () => {
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'nostatus' },
    });
    expect(
      (await call(base, 'GET', '/api/v1/namespaces/default/configmaps/nostatus/status')).status,
    ).toBe(404);
  });

  it('validates Ingress paths and backends', async () => {
    const bad = ingress('c.example');
    (bad.spec as { rules: { http: { paths: JsonObject[] } }[] }).rules[0]!.http.paths[0]!.pathType =
      'Regex';
    (bad.metadata as JsonObject).name = 'bad';
    const reply = await call(
      base,
      'POST',
      '/apis/networking.k8s.io/v1/namespaces/default/ingresses',
      bad,
    );
    expect(reply.status).toBe(422);
    expect(reply.json).toMatchObject({ details: { kind: 'Ingress', group: 'networking.k8s.io' } });
    expect((reply.json as { message: string }).message).toMatch(
      /^Ingress\.networking\.k8s\.io "bad" is invalid: spec\.rules\[0\]\.http\.paths\[0\]\.pathType: Unsupported value: "Regex"/,
    );
  });
});

describe('delete', () => {
  it('answers a success Status for built-in kinds and the object for custom resources', async () => {
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'bye' },
    });
    const reply = await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/bye');
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'bye', kind: 'configmaps' },
    });
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps/bye')).status).toBe(404);
    expect((await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/bye')).status).toBe(
      404,
    );

    const route = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r' },
      spec: { rules: [] },
    };
    await call(
      base,
      'POST',
      '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes',
      route,
    );
    const deleted = await call(
      base,
      'DELETE',
      '/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/r',
    );
    expect(deleted.json).toMatchObject({ kind: 'HTTPRoute', metadata: { name: 'r' } });
  });

  it('checks preconditions', async () => {
    const created = (
      await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
        metadata: { name: 'pre' },
      })
    ).json as JsonObject;
    const wrong = await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', {
      preconditions: { resourceVersion: '1' },
    });
    expect(wrong.status).toBe(409);
    const right = await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/pre', {
      preconditions: { uid: meta(created).uid },
    });
    expect(right.status).toBe(200);
  });

  it('holds an object with finalizers until the last one is removed', async () => {
    await call(base, 'POST', '/api/v1/namespaces/default/configmaps', {
      metadata: { name: 'held', finalizers: ['example.com/hold'] },
    });
    const reply = await call(base, 'DELETE', '/api/v1/namespaces/default/configmaps/held');
    expect(reply.status).toBe(202);
    expect(meta(reply.json).deletionTimestamp).toEqual(expect.any(String));
    const stillThere = await call(base, 'GET', '/api/v1/namespaces/default/configmaps/held');
    expect(stillThere.status).toBe(200);
    const addMore = await call(
      base,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/held',
      { metadata: { finalizers: ['example.com/hold', 'example.com/more'] } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(addMore.status).toBe(422);
    const release = await call(
      base,
      'PATCH',
      '/api/v1/namespaces/default/configmaps/held',
      { metadata: { finalizers: null } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(release.status).toBe(200);
    expect((await call(base, 'GET', '/api/v1/namespaces/default/configmaps/held')).status).toBe(
      404,
    );
  });

  it('deletes a collection by label selector', async () => {
    for (const [name, tier] of [
      ['c1', 'web'],
      ['c2', 'web'],
      ['c3', 'db'],
    ] as const) {
      await call(base, 'POST', '/api/v1/namespaces/coll/configmaps', {
        metadata: { name, labels: { tier } },
      });
    }
    const reply = await call(
      base,
      'DELETE',
      '/api/v1/namespaces/coll/configmaps?labelSelector=tier%3Dweb',
    );
    expect((reply.json as { items: JsonObject[] }).items.map((item) => meta(item).name)).toEqual([
      'c1',
      'c2',
    ]);
    const left = (await call(base, 'GET', '/api/v1/namespaces/coll/configmaps')).json as {
      items: JsonObject[];
    };
    expect(left.items.map((item) => meta(item).name)).toEqual(['c3']);
  });
});

describe('namespaces', () => {
  it('creates a missing namespace on first use and deletes its contents with it', async () => {
    await call(base, 'POST', '/api/v1/namespaces/fresh/configmaps', {
      metadata: { name: 'inside' },
    });
    const namespace = await call(base, 'GET', '/api/v1/namespaces/fresh');
    expect(namespace.json).toMatchObject({
      kind: 'Namespace',
      status: { phase: 'Active' },
      metadata: { labels: { 'kubernetes.io/metadata.name': 'fresh' } },
    });
    expect(meta(namespace.json).namespace).toBeUndefined();
    expect((await call(base, 'DELETE', '/api/v1/namespaces/fresh')).status).toBe(200);
    expect((await call(base, 'GET', '/api/v1/namespaces/fresh/configmaps/inside')).status).toBe(
      404,
    );
  });

  it('answers 404 for a missing namespace when auto-creation is off', async () => {
    const strict = await startApiServer({ autoCreateNamespaces: false });
    try {
      const reply = await call(strict.url, 'POST', '/api/v1/namespaces/absent/configmaps', {
        metadata: { name: 'x' },
      });
      expect(reply.status).toBe(404);
      expect(reply.json).toMatchObject({ message: 'namespaces "absent" not found' });
      expect(
        (
          await call(strict.url, 'POST', '/api/v1/namespaces/default/configmaps', {
            metadata: { name: 'x' },
          })
        ).status,
      ).toBe(201);
    } finally {
      await strict.close();
    }
  });
});

describe('tables', () => {
  const TABLE = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };

  it.each([
    [
      '/apis/networking.k8s.io/v1/namespaces/tables/ingresses',
      ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age'],
      ['ing', 'tether', 'a.example', '192.0.2.9', '80'],
    ],
    [
      '/apis/networking.k8s.io/v1/ingressclasses',
      ['Name', 'Controller', 'Parameters', 'Age'],
      ['tether', 'tether.dev/ingress-controller', '<none>'],
    ],
    [
      '/apis/coordination.k8s.io/v1/namespaces/tables/leases',
      ['Name', 'Holder', 'Age'],
      ['lease', 'replica-a'],
    ],
    [
      '/apis/discovery.k8s.io/v1/namespaces/tables/endpointslices',
      ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'],
      ['slice', 'IPv4', '8080', '127.0.0.1'],
    ],
    ['/api/v1/namespaces/tables/secrets', ['Name', 'Type', 'Data', 'Age'], ['secret', 'Opaque', 1]],
    ['/api/v1/namespaces/tables/configmaps', ['Name', 'Age'], ['cm']],
  ])('%s has kubectl columns', async (path, columns, leadingCells) => {
    server.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'tether' },
      spec: { controller: 'tether.dev/ingress-controller' },
    });
    server.apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'ing', namespace: 'tables' },
      spec: {
        ingressClassName: 'tether',
        rules: [
          {
            host: 'a.example',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    });
    server.applyStatus({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'ing', namespace: 'tables' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.9' }] } },
    });
    server.apply({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'lease', namespace: 'tables' },
      spec: { holderIdentity: 'replica-a' },
    });
    server.apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'slice', namespace: 'tables' },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['127.0.0.1'] }],
      ports: [{ port: 8080 }],
    });
    server.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'secret', namespace: 'tables' },
      data: { a: 'Yg==' },
    });
    server.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cm', namespace: 'tables' },
    });
    const table = (await call(base, 'GET', path, undefined, TABLE)).json as {
      columnDefinitions: JsonObject[];
      rows: { cells: unknown[] }[];
    };
    expect(
      table.columnDefinitions
        .filter((column) => column.priority === 0)
        .map((column) => column.name),
    ).toEqual(columns);
    expect(table.rows[0]!.cells.slice(0, leadingCells.length)).toEqual(leadingCells);
    expect(table.rows[0]!.cells[columns.indexOf('Age')]).toMatch(/^\d+s$/);
  });

  it('honours includeObject and answers a single GET with a one-row table', async () => {
    const path = '/api/v1/namespaces/tables/configmaps';
    const full = (await call(base, 'GET', `${path}?includeObject=Object`, undefined, TABLE))
      .json as { rows: { object: JsonObject }[] };
    expect(full.rows[0]!.object).toMatchObject({
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'cm' },
    });
    const none = (await call(base, 'GET', `${path}?includeObject=None`, undefined, TABLE)).json as {
      rows: JsonObject[];
    };
    expect(none.rows[0]).not.toHaveProperty('object');
    const single = (await call(base, 'GET', `${path}/cm`, undefined, TABLE)).json as {
      kind: string;
      rows: JsonObject[];
    };
    expect(single.kind).toBe('Table');
    expect(single.rows).toHaveLength(1);
  });
});
