import { describe, expect, it } from '@jest/globals';
import type { Listener } from '@tether/model';
import type { KubeObject } from '../../types';
import { OCI_DEFAULT_COOKIE_NAME } from '../common';
import { reasons, runDialect } from '../../../../../test/support/dialects/oci';
import { KEYS } from './annotations';
import { ociNativeIngress } from './index';
import {
  IngressOptions,
  clusterService,
  ingress,
} from '../../../../../test/support/dialects/oci-native-ingress';

const run = (...objects: KubeObject[]) => runDialect(ociNativeIngress, objects);
const first = (annotations: Record<string, string>, options: IngressOptions = {}) => {
  const outcome = run(ingress(annotations, options));
  return { ...outcome, entry: outcome.entries[0]! };
};

describe('oci-native-ingress: LB cookie', () => {
  it('applies OCI defaults and NIC default policy', () => {
    const { entry, diagnostics } = first({ [KEYS.lbCookie]: '{}' });
    expect(diagnostics).toEqual([]);
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
    expect(entry.loadBalancing).toEqual({ algorithm: 'leastConnections' });
    expect(entry.sources['loadBalancing.algorithm']?.[0]).toMatchObject({
      field: KEYS.policy,
      isDefault: true,
    });
  });

  it('serves a TLS host over HTTPS only, so isSecure is accepted', () => {
    const { entry, diagnostics } = first(
      { [KEYS.lbCookie]: '{"isSecure":true,"maxAgeInSeconds":60}' },
      { host: 'shop.example.com', tlsHosts: ['shop.example.com'] },
    );
    expect(diagnostics).toEqual([]);
    expect(entry.entry.listeners).toEqual([{ protocol: 'HTTPS', port: 80 }]);
    expect(entry.policy?.cookie).toMatchObject({ secure: 'always', maxAgeSeconds: 60 });
  });

  it.each<[string, IngressOptions, Record<string, string>]>([
    ['no TLS at all', {}, {}],
    ['a TLS host that is not the rule host', { host: 'a.example', tlsHosts: ['b.example'] }, {}],
    [
      'a wildcard TLS host (the controller matches exactly)',
      { host: 'a.example', tlsHosts: ['*.example'] },
      {},
    ],
    ['protocol HTTP2 without TLS', {}, { [KEYS.protocol]: 'http2' }],
  ])('refuses isSecure with %s (row 8)', (_name, options, extra) => {
    const outcome = run(ingress({ ...extra, [KEYS.lbCookie]: '{"isSecure":true}' }, options));
    expect(reasons(outcome.diagnostics)).toEqual(['error:InsecureCookieOnHttpListener']);
    expect(outcome.entries[0]!.policy?.mode).toBe('none');
  });

  it('a certificate makes every host HTTPS', () => {
    const { entry, diagnostics } = first({
      [KEYS.lbCookie]: '{"isSecure":true}',
      [KEYS.certificate]: 'ocid1.certificate.oc1..aaaa',
    });
    expect(diagnostics).toEqual([]);
    expect(entry.entry.listeners).toEqual([{ protocol: 'HTTPS', port: 80 }]);
  });

  it('leaves persistence on protocol TCP to the generic rule (row 9)', () => {
    const outcome = run(ingress({ [KEYS.protocol]: 'tcp', [KEYS.lbCookie]: '{}' }, { port: 8080 }));
    expect(outcome.entries[0]!.entry.listeners).toEqual([{ protocol: 'TCP', port: 8080 }]);
    expect(reasons(outcome.diagnostics)).toEqual(['error:PersistenceOnTcpListener']);
  });

  it.each([
    ['maxAgeInSeconds 0 (row 11)', '{"maxAgeInSeconds":0}', 'error:InvalidAnnotation'],
    ['invalid JSON (row 5)', '{cookieName: "A"}', 'error:InvalidJson'],
    ['cookieName 123 (row 5)', '{"cookieName": 123}', 'error:InvalidJson'],
    ['a domain with CR/LF', '{"domain":"a.example\\nX"}', 'error:InvalidAnnotation'],
  ])('refuses %s', (_name, json, reason) => {
    const { entry, diagnostics } = first({ [KEYS.lbCookie]: json });
    expect(reasons(diagnostics)).toEqual([reason]);
    expect(entry.policy?.mode).toBe('none');
  });

  it('an empty cookieName means the OCI default name', () => {
    const { entry } = first({ [KEYS.lbCookie]: '{"cookieName":""}' });
    expect(entry.policy?.cookie?.name).toBe(OCI_DEFAULT_COOKIE_NAME);
  });
});

describe('oci-native-ingress: application cookie', () => {
  it.each([
    ['a name, trimmed', '{"cookieName":"  JSESSIONID\\t"}', 'JSESSIONID'],
    ['no name means any cookie', '{}', '*'],
    ['an empty name means any cookie', '{"cookieName":"   "}', '*'],
    ['keys in any case', '{"CookieName":"S"}', 'S'],
  ])('%s', (_name, json, name) => {
    const { entry, diagnostics } = first({ [KEYS.appCookie]: json });
    expect(diagnostics).toEqual([]);
    expect(entry.policy).toMatchObject({
      mode: 'appCookie',
      appCookie: { name },
      cookie: { name: OCI_DEFAULT_COOKIE_NAME },
      onFailure: 'rebalance',
    });
  });

  it('drops disableFallback with a warning (row 14)', () => {
    const { entry, diagnostics } = first({ [KEYS.appCookie]: '{"disableFallback":true}' });
    expect(reasons(diagnostics)).toEqual(['warning:IneffectiveSetting']);
    expect(entry.policy).toMatchObject({ appCookie: { name: '*' }, onFailure: 'rebalance' });
  });

  it('drops disableFallback false silently: it changes nothing', () => {
    expect(first({ [KEYS.appCookie]: '{"disableFallback":false}' }).diagnostics).toEqual([]);
  });

  it.each([
    ['a wrong type for disableFallback', '{"disableFallback":"yes"}', 'error:InvalidJson'],
    ['a name with inner spaces', '{"cookieName":"a b"}', 'error:InvalidAnnotation'],
    ['a name with CR/LF', '{"cookieName":"a\\r\\nb"}', 'error:InvalidAnnotation'],
  ])('refuses %s', (_name, json, reason) => {
    const { entry, diagnostics } = first({ [KEYS.appCookie]: json });
    expect(reasons(diagnostics)).toEqual([reason]);
    expect(entry.policy?.mode).toBe('none');
  });
});

describe('oci-native-ingress: one Ingress', () => {
  it('refuses both models (row 1)', () => {
    const { entry, diagnostics } = first({ [KEYS.lbCookie]: '{}', [KEYS.appCookie]: '{}' });
    expect(reasons(diagnostics)).toEqual(['error:ConflictingPersistence']);
    expect(diagnostics[0]!.sources.map((s) => s.field).sort()).toEqual(
      [KEYS.lbCookie, KEYS.appCookie].sort(),
    );
    expect(entry.policy?.mode).toBe('none');
  });

  it('reports problems of both annotations as well as the conflict', () => {
    const { diagnostics } = first({ [KEYS.lbCookie]: '{"maxAge":1}', [KEYS.appCookie]: '{' });
    expect(reasons(diagnostics)).toEqual([
      'error:ConflictingPersistence',
      'error:InvalidJson',
      'warning:UnknownField',
    ]);
  });

  it.each(['', ' ', '\r\n'])('treats %j as absent (row 7)', (value) => {
    const { entry, diagnostics } = first({ [KEYS.lbCookie]: value, [KEYS.appCookie]: value });
    expect(diagnostics).toEqual([]);
    expect(entry.policy?.mode).toBe('none');
    expect(entry.loadBalancing).toEqual({ algorithm: 'leastConnections' });
  });

  it.each([
    ['ROUND_ROBIN', 'roundRobin'],
    ['LEAST_CONNECTIONS', 'leastConnections'],
    ['IP_HASH', 'sourceIpHash'],
  ])('policy %s is %s', (policy, algorithm) => {
    const { entry, diagnostics } = first({ [KEYS.policy]: policy });
    expect(diagnostics).toEqual([]);
    expect(entry.loadBalancing).toEqual({ algorithm });
  });

  it.each(['ip_hash', '', 'WEIGHTED'])('refuses policy %j', (policy) => {
    expect(reasons(first({ [KEYS.policy]: policy }).diagnostics)).toEqual([
      'error:InvalidAnnotation',
    ]);
  });

  it.each<[string, Record<string, string>, IngressOptions, Listener]>([
    ['HTTP by default on the Service port', {}, { port: 8080 }, { protocol: 'HTTP', port: 8080 }],
    ['HTTP2 in any case', { [KEYS.protocol]: 'Http2' }, {}, { protocol: 'HTTP2', port: 80 }],
    ['GRPC', { [KEYS.protocol]: 'GRPC' }, {}, { protocol: 'GRPC', port: 80 }],
    [
      'TCP ignores TLS',
      { [KEYS.protocol]: 'TCP' },
      { host: 'a', tlsHosts: ['a'] },
      { protocol: 'TCP', port: 80 },
    ],
    ['the HTTP port annotation', { [KEYS.httpPort]: '8000' }, {}, { protocol: 'HTTP', port: 8000 }],
    [
      'the HTTPS port annotation on a TLS host',
      { [KEYS.httpPort]: '8000', [KEYS.httpsPort]: '443' },
      { host: 'a', tlsHosts: ['a'] },
      { protocol: 'HTTPS', port: 443 },
    ],
    ['port 0 means unset', { [KEYS.httpPort]: '0' }, {}, { protocol: 'HTTP', port: 80 }],
    ['a named Service port', {}, { port: 'http' }, { protocol: 'HTTP', port: 8081 }],
  ])('listener: %s', (_name, annotations, options, listener) => {
    const outcome = run(
      ingress({ [KEYS.policy]: 'ROUND_ROBIN', ...annotations }, options),
      clusterService('web', [{ port: 8081, name: 'http' }]),
    );
    expect(outcome.diagnostics).toEqual([]);
    expect(outcome.entries[0]!.entry.listeners).toEqual([listener]);
  });

  it.each<[string, Record<string, string>]>([
    ['an unknown protocol', { [KEYS.protocol]: 'UDP' }],
    ['a protocol with spaces', { [KEYS.protocol]: ' TCP' }],
    ['a non-numeric port', { [KEYS.httpPort]: 'eighty' }],
    ['a negative port', { [KEYS.httpsPort]: '-443' }],
    ['an overflowing port', { [KEYS.httpPort]: '99999999999999999999' }],
  ])('refuses %s', (_name, annotations) => {
    expect(reasons(first(annotations).diagnostics)).toEqual(['error:InvalidAnnotation']);
  });

  it('reports keys the controller does not define, and not those it does', () => {
    const { diagnostics } = first({
      [`oci-native-ingress.oraclecloud.com/polcy`]: 'IP_HASH',
      [`oci-native-ingress.oraclecloud.com/healthcheck-path`]: '/healthz',
    });
    expect(reasons(diagnostics)).toEqual(['warning:UnknownAnnotation']);
    expect(diagnostics[0]!.message).toContain(
      'did you mean oci-native-ingress.oraclecloud.com/policy',
    );
  });

  it('applies to any Ingress that carries a key of the controller', () => {
    expect(
      ociNativeIngress.appliesTo(
        ingress({ 'oci-native-ingress.oraclecloud.com/healthcheck-port': '8080' }),
      ),
    ).toBe(true);
    expect(ociNativeIngress.appliesTo(ingress({ 'example.com/x': 'y' }))).toBe(false);
  });

  it('never throws on an Ingress without a spec or with a broken one', () => {
    const broken = ingress({ [KEYS.lbCookie]: '{}' });
    broken.spec = { rules: 'nope' };
    expect(() => run(broken)).not.toThrow();
    delete broken.spec;
    expect(() => run(broken)).not.toThrow();
  });
});
