import { describe, expect, it } from '@jest/globals';
import type { Listener } from '@tether/model';
import type { KubeObject } from '../../types';
import { OCI_DEFAULT_COOKIE_NAME } from '../common';
import { reasons, runDialect } from '../../../../../test/support/dialects/oci';
import { checkNeverThrows } from '../../../../../test/support/dialects/oci-fuzz';
import { KEYS } from './annotations';
import { ociLb } from './index';

interface ServiceOptions {
  type?: string;
  ports?: { port: number; protocol?: string; name?: string }[];
}

function service(annotations: Record<string, string>, options: ServiceOptions = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec: { type: options.type ?? 'LoadBalancer', ports: options.ports ?? [{ port: 80 }] },
  };
}

const run = (object: KubeObject) => runDialect(ociLb, [object]);
const HTTP = { [KEYS.backendProtocol]: 'HTTP' };
const first = (object: KubeObject) => {
  const outcome = run(object);
  return { ...outcome, entry: outcome.entries[0]! };
};

describe('oci-lb: LB cookie', () => {
  it('applies OCI defaults to an empty configuration', () => {
    const { entry, diagnostics } = first(service({ ...HTTP, [KEYS.lbCookie]: '{}' }));
    expect(diagnostics).toEqual([]);
    expect(entry.accepted).toBe(true);
    expect(entry.policy).toEqual({
      mode: 'cookie',
      cookie: {
        name: OCI_DEFAULT_COOKIE_NAME,
        path: '/',
        httpOnly: false,
        secure: 'never',
        omitSameSiteNoneForOldClients: false,
        lifetime: 'session',
        nocache: false,
      },
      rebalance: 'persistent',
      onFailure: 'rebalance',
    });
    expect(entry.loadBalancing).toEqual({ algorithm: 'roundRobin' });
    expect(entry.sources['cookie.name']?.[0]).toMatchObject({
      field: KEYS.lbCookie,
      isDefault: true,
    });
    expect(entry.sources['loadBalancing.algorithm']?.[0]).toMatchObject({
      field: KEYS.policy,
      isDefault: true,
    });
  });

  it('reads every field, keys in any case', () => {
    const config = JSON.stringify({
      COOKIENAME: 'X-Oracle-OCI-Shop',
      disablefallback: true,
      Domain: 'shop.example.com',
      path: '/cart',
      maxAgeInSeconds: 600,
      isSecure: true,
      IsHttpOnly: true,
    });
    const { entry, diagnostics } = first(
      service(
        { ...HTTP, [KEYS.lbCookie]: config, [KEYS.sslPorts]: '443', [KEYS.tlsSecret]: 'shop-tls' },
        { ports: [{ port: 443 }] },
      ),
    );
    expect(diagnostics).toEqual([]);
    // A bare tls-secret names a Secret of the Service's own namespace.
    expect(entry.entry.listeners).toEqual([
      { protocol: 'HTTPS', port: 443, tlsSecret: 'shop/shop-tls' },
    ]);
    expect(entry.policy).toMatchObject({
      mode: 'cookie',
      cookie: {
        name: 'X-Oracle-OCI-Shop',
        domain: 'shop.example.com',
        path: '/cart',
        maxAgeSeconds: 600,
        secure: 'always',
        httpOnly: true,
        lifetime: 'permanent',
      },
      onFailure: 'fail',
    });
  });

  it.each([
    ['the only port is plain HTTP', { ...HTTP }, [{ port: 80 }]],
    [
      'one of two ports is plain HTTP',
      { ...HTTP, [KEYS.sslPorts]: '443', [KEYS.tlsSecret]: 't' },
      [{ port: 80 }, { port: 443 }],
    ],
    ['the listener is GRPC without TLS', { [KEYS.backendProtocol]: 'GRPC' }, [{ port: 80 }]],
  ])('refuses isSecure when %s (row 8)', (_name, annotations, ports) => {
    const outcome = run(
      service({ ...annotations, [KEYS.lbCookie]: '{"isSecure":true}' }, { ports }),
    );
    expect(reasons(outcome.diagnostics)).toEqual(['error:InsecureCookieOnHttpListener']);
    expect(outcome.diagnostics[0]!.sources.map((s) => s.field)).toContain(KEYS.lbCookie);
    expect(outcome.entries.every((e) => e.policy?.mode === 'none')).toBe(true);
  });

  it('leaves cookie persistence on a TCP listener to the generic rule (row 9)', () => {
    const outcome = run(service({ [KEYS.lbCookie]: '{}' }));
    expect(outcome.entries[0]!.entry.listeners).toEqual([{ protocol: 'TCP', port: 80 }]);
    expect(reasons(outcome.diagnostics)).toEqual(['error:PersistenceOnTcpListener']);
    expect(outcome.entries[0]!.accepted).toBe(false);
  });

  it.each([
    ['maxAgeInSeconds 0', '{"maxAgeInSeconds":0}', 'error:InvalidAnnotation'],
    ['maxAgeInSeconds -60', '{"maxAgeInSeconds":-60}', 'error:InvalidAnnotation'],
    ['invalid JSON', '{"cookieName": "A"', 'error:InvalidJson'],
    ['a wrong type', '{"isSecure": "true"}', 'error:InvalidJson'],
    ['CR/LF in the name', '{"cookieName": "A\\r\\nX"}', 'error:InvalidAnnotation'],
  ])('refuses %s and applies no persistence', (_name, json, reason) => {
    const outcome = run(service({ ...HTTP, [KEYS.lbCookie]: json }));
    expect(reasons(outcome.diagnostics)).toEqual([reason]);
    expect(outcome.entries[0]!.policy?.mode).toBe('none');
  });

  it('warns about maxAge and keeps a session cookie (row 6)', () => {
    const { entry, diagnostics } = first(service({ ...HTTP, [KEYS.lbCookie]: '{"maxAge":3600}' }));
    expect(reasons(diagnostics)).toEqual(['warning:UnknownField']);
    expect(entry.policy?.cookie).toMatchObject({ lifetime: 'session' });
    expect(entry.policy?.cookie?.maxAgeSeconds).toBeUndefined();
  });
});

describe('oci-lb: application cookie', () => {
  it.each([
    ['a named cookie', '{"cookieName":"JSESSIONID"}', 'JSESSIONID', 'rebalance'],
    ['any cookie', '{"cookieName":"*","disableFallback":false}', '*', 'rebalance'],
    ['disableFallback', '{"cookieName":"S","disableFallback":true}', 'S', 'fail'],
  ])('%s', (_name, json, name, onFailure) => {
    const { entry, diagnostics } = first(service({ ...HTTP, [KEYS.appCookie]: json }));
    expect(diagnostics).toEqual([]);
    expect(entry.policy).toMatchObject({
      mode: 'appCookie',
      appCookie: { name },
      cookie: { name: OCI_DEFAULT_COOKIE_NAME },
      onFailure,
    });
  });

  it.each([
    ['no cookieName', '{}', 'error:MissingValue'],
    ['an empty cookieName', '{"cookieName":""}', 'error:MissingValue'],
    ['a cookieName with spaces', '{"cookieName":" S "}', 'error:InvalidAnnotation'],
    ['an LB-cookie field', '{"cookieName":"S","maxAgeInSeconds":5}', 'warning:UnknownField'],
  ])('%s', (_name, json, reason) => {
    expect(reasons(run(service({ ...HTTP, [KEYS.appCookie]: json })).diagnostics)).toEqual([
      reason,
    ]);
  });
});

describe('oci-lb: one object', () => {
  it('refuses both persistence models on one Service (row 2)', () => {
    const outcome = run(
      service({ ...HTTP, [KEYS.lbCookie]: '{}', [KEYS.appCookie]: '{"cookieName":"S"}' }),
    );
    expect(reasons(outcome.diagnostics)).toEqual(['error:ConflictingPersistence']);
    expect(outcome.diagnostics[0]!.sources.map((s) => s.field).sort()).toEqual(
      [KEYS.appCookie, KEYS.lbCookie].sort(),
    );
    expect(outcome.entries[0]!.policy?.mode).toBe('none');
  });

  it.each(['', '   ', '\n\t'])('treats %j as absent (row 7)', (value) => {
    const outcome = run(service({ ...HTTP, [KEYS.lbCookie]: value, [KEYS.appCookie]: value }));
    expect(outcome.diagnostics).toEqual([]);
    expect(outcome.entries[0]!.policy?.mode).toBe('none');
  });

  it('applies the same settings to every port', () => {
    const outcome = run(
      service(
        { ...HTTP, [KEYS.lbCookie]: '{"cookieName":"A"}' },
        { ports: [{ port: 80 }, { port: 8080 }] },
      ),
    );
    expect(outcome.entries.map((e) => [e.entry.rule, e.policy?.cookie?.name]).sort()).toEqual([
      ['port 80', 'A'],
      ['port 8080', 'A'],
    ]);
  });

  it('warns that a Service of another type gets no load balancer', () => {
    const outcome = run(
      service({ [KEYS.lbCookie]: '{}', [KEYS.policy]: 'IP_HASH' }, { type: 'ClusterIP' }),
    );
    expect(outcome.entries).toEqual([]);
    expect(reasons(outcome.diagnostics)).toEqual(['warning:IneffectiveSetting']);
    expect(outcome.diagnostics[0]!.sources).toHaveLength(2);
  });

  it('does not apply to a Service without its keys', () => {
    expect(ociLb.appliesTo(service({ 'example.com/other': 'x' }))).toBe(false);
    expect(ociLb.appliesTo(service({ [KEYS.lbType]: 'lb' }))).toBe(true);
  });
});

describe('oci-lb: listeners', () => {
  it.each<[string, Record<string, string>, ServiceOptions['ports'], Listener[]]>([
    ['no annotation: the port protocol', {}, [{ port: 80 }], [{ protocol: 'TCP', port: 80 }]],
    [
      'HTTP in lower case',
      { [KEYS.backendProtocol]: 'http' },
      [{ port: 80 }],
      [{ protocol: 'HTTP', port: 80 }],
    ],
    [
      'GRPC, speaking HTTP/2 to clients',
      { [KEYS.backendProtocol]: 'GRPC' },
      [{ port: 80 }],
      [{ protocol: 'GRPC', port: 80, http2: true }],
    ],
    [
      'empty means TCP',
      { [KEYS.backendProtocol]: '' },
      [{ port: 80 }],
      [{ protocol: 'TCP', port: 80 }],
    ],
    [
      'ssl-ports with a secret make HTTPS',
      { ...HTTP, [KEYS.sslPorts]: ' 443 , +8443', [KEYS.tlsSecret]: 'ns/tls' },
      [{ port: 80 }, { port: 443 }, { port: 8443 }],
      [
        { protocol: 'HTTP', port: 80 },
        { protocol: 'HTTPS', port: 443, tlsSecret: 'ns/tls' },
        { protocol: 'HTTPS', port: 8443, tlsSecret: 'ns/tls' },
      ],
    ],
    [
      'TLS on a TCP listener is still TCP, ended with the Secret',
      { [KEYS.sslPorts]: '443', [KEYS.tlsSecret]: 'tls' },
      [{ port: 443 }],
      [{ protocol: 'TCP', port: 443, tlsSecret: 'shop/tls' }],
    ],
    [
      'GRPC with TLS is HTTPS, speaking HTTP/2 to clients',
      { [KEYS.backendProtocol]: 'grpc', [KEYS.sslPorts]: '443', [KEYS.tlsSecret]: 'tls' },
      [{ port: 443 }],
      [{ protocol: 'HTTPS', port: 443, tlsSecret: 'shop/tls', http2: true }],
    ],
    [
      'a UDP port stays UDP',
      { ...HTTP },
      [{ port: 53, protocol: 'UDP' }],
      [{ protocol: 'UDP', port: 53 }],
    ],
  ])('%s', (_name, annotations, ports, listeners) => {
    const outcome = run(service({ ...annotations, [KEYS.lbType]: 'lb' }, { ports }));
    const byPort = (a: Listener, b: Listener) => (a.port ?? 0) - (b.port ?? 0);
    expect(outcome.entries.flatMap((e) => e.entry.listeners).sort(byPort)).toEqual(listeners);
  });

  it.each<[string, Record<string, string>, string[]]>([
    ['ssl-ports without a secret', { [KEYS.sslPorts]: '443' }, ['warning:IneffectiveSetting']],
    ['a secret without ssl-ports', { [KEYS.tlsSecret]: 'tls' }, ['warning:IneffectiveSetting']],
    [
      'an ssl port the Service lacks',
      { [KEYS.sslPorts]: '443,9999', [KEYS.tlsSecret]: 't' },
      ['warning:IneffectiveSetting'],
    ],
    [
      'a non-numeric ssl port',
      { [KEYS.sslPorts]: '443,https', [KEYS.tlsSecret]: 't' },
      ['error:InvalidAnnotation'],
    ],
    [
      'a trailing comma',
      { [KEYS.sslPorts]: '443,', [KEYS.tlsSecret]: 't' },
      ['error:InvalidAnnotation'],
    ],
    [
      'whitespace ssl-ports',
      { [KEYS.sslPorts]: '  ', [KEYS.tlsSecret]: 't' },
      ['error:InvalidAnnotation'],
    ],
    [
      'a huge ssl port',
      { [KEYS.sslPorts]: '9'.repeat(40), [KEYS.tlsSecret]: 't' },
      ['error:InvalidAnnotation'],
    ],
    [
      'a port number that fits in 64 bits but is no port',
      { [KEYS.sslPorts]: '9'.repeat(18), [KEYS.tlsSecret]: 't' },
      ['warning:IneffectiveSetting'],
    ],
    [
      'an unknown backend protocol',
      { [KEYS.backendProtocol]: 'HTTPS' },
      ['error:InvalidAnnotation'],
    ],
    [
      'a backend protocol with spaces',
      { [KEYS.backendProtocol]: ' HTTP' },
      ['error:InvalidAnnotation'],
    ],
  ])('%s', (_name, annotations, expected) => {
    const outcome = run(service({ ...HTTP, ...annotations }, { ports: [{ port: 443 }] }));
    expect(reasons(outcome.diagnostics)).toEqual(expected);
  });
});

describe('oci-lb: policy', () => {
  it.each([
    ['ROUND_ROBIN', 'roundRobin'],
    ['LEAST_CONNECTIONS', 'leastConnections'],
    ['IP_HASH', 'sourceIpHash'],
  ])('%s is %s', (policy, algorithm) => {
    const { entry, diagnostics } = first(service({ [KEYS.policy]: policy }));
    expect(diagnostics).toEqual([]);
    expect(entry.loadBalancing).toEqual({ algorithm });
    expect(entry.sources['loadBalancing.algorithm']?.[0]?.isDefault).toBeUndefined();
  });

  it.each(['round_robin', 'LEAST_CONNECTION', '', ' IP_HASH', 'IP_HASH\n', 'RANDOM'])(
    'refuses %j (row 12)',
    (policy) => {
      const { entry, diagnostics } = first(service({ [KEYS.policy]: policy }));
      expect(reasons(diagnostics)).toEqual(['error:InvalidAnnotation']);
      expect(diagnostics[0]!.sources[0]!.field).toBe(KEYS.policy);
      expect(entry.sources['loadBalancing.algorithm']).toBeUndefined();
    },
  );

  it('warns that the NLB policy does nothing on a layer-7 load balancer', () => {
    const { diagnostics } = first(service({ [KEYS.nlbPolicy]: 'TWO_TUPLE' }));
    expect(reasons(diagnostics)).toEqual(['warning:IneffectiveSetting']);
  });
});

describe('oci-lb: network load balancer', () => {
  it.each([
    [undefined, { algorithm: 'hash', hashKey: '$remote_addr:$remote_port' }],
    ['FIVE_TUPLE', { algorithm: 'hash', hashKey: '$remote_addr:$remote_port' }],
    ['THREE_TUPLE', { algorithm: 'sourceIpHash' }],
    ['TWO_TUPLE', { algorithm: 'sourceIpHash' }],
  ])('backend-policy %s', (policy, loadBalancing) => {
    const annotations: Record<string, string> = { [KEYS.lbType]: 'NLB' };
    if (policy) annotations[KEYS.nlbPolicy] = policy;
    const { entry, diagnostics } = first(service(annotations));
    expect(diagnostics).toEqual([]);
    expect(entry.loadBalancing).toEqual(loadBalancing);
    expect(entry.entry.listeners).toEqual([{ protocol: 'TCP', port: 80 }]);
  });

  it('ignores cookie persistence with a warning, not an error (row 10)', () => {
    const outcome = run(
      service({
        [KEYS.lbType]: 'nlb',
        [KEYS.lbCookie]: '{"cookieName":"A"}',
        [KEYS.appCookie]: ' ',
      }),
    );
    expect(reasons(outcome.diagnostics)).toEqual(['warning:IneffectiveSetting']);
    expect(outcome.entries[0]!.accepted).toBe(true);
    expect(outcome.entries[0]!.policy?.mode).toBe('none');
  });

  it('ignores the layer-7 settings with a warning each', () => {
    const outcome = run(
      service({
        [KEYS.lbType]: 'nlb',
        [KEYS.policy]: 'IP_HASH',
        ...HTTP,
        [KEYS.sslPorts]: '80',
        [KEYS.tlsSecret]: 't',
      }),
    );
    expect(reasons(outcome.diagnostics)).toEqual(Array(4).fill('warning:IneffectiveSetting'));
    expect(outcome.entries[0]!.entry.listeners).toEqual([{ protocol: 'TCP', port: 80 }]);
  });

  it.each(['two_tuple', 'SIX_TUPLE', ''])('refuses backend-policy %j', (policy) => {
    const outcome = run(service({ [KEYS.lbType]: 'nlb', [KEYS.nlbPolicy]: policy }));
    expect(reasons(outcome.diagnostics)).toEqual(['error:InvalidAnnotation']);
  });

  it.each(['ALB', ' nlb', 'nlb\r\n', '🦀'])('reads %j as lb, with a warning', (type) => {
    const outcome = run(service({ [KEYS.lbType]: type, ...HTTP, [KEYS.lbCookie]: '{}' }));
    expect(reasons(outcome.diagnostics)).toEqual(['warning:InvalidAnnotation']);
    expect(outcome.entries[0]!.policy?.mode).toBe('cookie');
  });
});

describe('oci-lb: hostile input', () => {
  it.each([
    ['a huge JSON value', `{"cookieName":"${'a'.repeat(200_000)}"}`],
    ['deep nesting', `{"cookieName": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`],
    ['binary noise', '\u0000\u0001{\uffff'],
    ['a number overflowing every type', '{"maxAgeInSeconds": 1e400}'],
  ])('%s yields diagnostics, never an exception', (_name, json) => {
    const outcome = run(service({ ...HTTP, [KEYS.lbCookie]: json }));
    expect(outcome.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    expect(outcome.entries[0]!.policy?.mode).toBe('none');
  });

  it('treats a non-string annotation value as absent', () => {
    const object = service({ ...HTTP });
    (object.metadata.annotations as Record<string, unknown>)[KEYS.lbCookie] = 42;
    expect(() => run(object)).not.toThrow();
    expect(run(object).entries[0]!.policy?.mode).toBe('none');
  });

  it('survives a Service without a spec', () => {
    const object = service({ [KEYS.lbCookie]: '{}' });
    delete object.spec;
    expect(ociLb.parse(object, { objects: [], findService: () => undefined }).fragments).toEqual(
      [],
    );
  });
});

describe('oci-lb: random annotation maps', () => {
  it('never throw and always give valid fragments and diagnostics', () => {
    const keys = [...Object.values(KEYS), 'oci-load-balancer.oraclecloud.com/other'];
    checkNeverThrows(ociLb, keys, (annotations) => [
      service(annotations, { ports: [{ port: 80 }, { port: 443 }, { port: 53, protocol: 'UDP' }] }),
    ]);
  });
});
