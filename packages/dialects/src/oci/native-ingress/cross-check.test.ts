import { describe, expect, it } from '@jest/globals';
import type { KubeObject } from '../../types';
import { reasons, runDialect } from '../../../../../test/support/dialects/oci';
import { checkNeverThrows } from '../../../../../test/support/dialects/oci-fuzz';
import { KEYS } from './annotations';
import { ociNativeIngress } from './index';
import { IngressOptions, ingress } from '../../../../../test/support/dialects/oci-native-ingress';

const run = (...objects: KubeObject[]) => runDialect(ociNativeIngress, objects);
const named = (name: string, annotations: Record<string, string>, options: IngressOptions = {}) =>
  ingress(annotations, { ...options, name });
const LB = { [KEYS.lbCookie]: '{"cookieName":"X-Oracle-OCI-A"}' };
const APP = { [KEYS.appCookie]: '{"cookieName":"JSESSIONID"}' };

describe('oci-native-ingress: Ingresses sharing one backend set', () => {
  it('warns that the LB cookie would win over an application cookie (row 3)', () => {
    const outcome = run(named('a', LB), named('b', APP));
    expect(reasons(outcome.diagnostics)).toEqual(['warning:VendorWouldMerge']);
    const d = outcome.diagnostics[0]!;
    expect(d.message).toContain('LB cookie wins');
    expect(d.sources.map((s) => `${s.name}:${s.field}`).sort()).toEqual([
      `a:${KEYS.lbCookie}`,
      `b:${KEYS.appCookie}`,
    ]);
    // Tether keeps each Ingress's own setting.
    expect(outcome.entries.map((e) => e.policy?.mode).sort()).toEqual(['appCookie', 'cookie']);
  });

  it.each([
    ['LB cookies', LB, { [KEYS.lbCookie]: '{"cookieName":"X-Oracle-OCI-B"}' }],
    ['application cookies', APP, { [KEYS.appCookie]: '{"cookieName":"PHPSESSID"}' }],
  ])('warns that the first processed of two different %s would win (row 4)', (_n, a, b) => {
    const outcome = run(named('a', a), named('b', b));
    expect(reasons(outcome.diagnostics)).toEqual(['warning:VendorWouldMerge']);
    expect(outcome.diagnostics[0]!.message).toContain('processes first');
  });

  it('is quiet when the settings are the same in effect', () => {
    const outcome = run(
      named('a', { [KEYS.lbCookie]: '{"path":"/"}' }),
      named('b', { [KEYS.lbCookie]: '{}' }),
    );
    expect(outcome.diagnostics).toEqual([]);
  });

  it('warns that an Ingress without persistence would become sticky too', () => {
    const outcome = run(named('a', LB), named('b', { [KEYS.policy]: 'LEAST_CONNECTIONS' }));
    expect(reasons(outcome.diagnostics)).toEqual(['warning:VendorWouldMerge']);
    expect(outcome.diagnostics[0]!.sources.map((s) => `${s.name}:${s.field}`)).toEqual([
      `a:${KEYS.lbCookie}`,
      'b:spec.rules[0].http.paths[0].backend',
    ]);
  });

  it.each<[string, Record<string, string>, Record<string, string>]>([
    ['two explicit policies', { [KEYS.policy]: 'ROUND_ROBIN' }, { [KEYS.policy]: 'IP_HASH' }],
    [
      'an explicit policy and the default',
      { [KEYS.policy]: 'ROUND_ROBIN' },
      { [KEYS.protocol]: 'HTTP' },
    ],
  ])('refuses %s for one backend set (row 13)', (_n, a, b) => {
    const outcome = run(named('a', a), named('b', b));
    expect(reasons(outcome.diagnostics)).toEqual(['error:ConflictingLoadBalancing']);
    expect(outcome.diagnostics[0]!.sources.map((s) => s.name)).toEqual(['a', 'b']);
    expect(outcome.diagnostics[0]!.sources.every((s) => s.field === KEYS.policy)).toBe(true);
  });

  it('accepts the default written out and left out', () => {
    const outcome = run(
      named('a', { [KEYS.policy]: 'LEAST_CONNECTIONS' }),
      named('b', { [KEYS.protocol]: 'HTTP' }),
    );
    expect(outcome.diagnostics).toEqual([]);
  });

  it('refuses a Secure LB cookie on a backend set another Ingress serves over HTTP (row 8)', () => {
    const outcome = run(
      named(
        'a',
        { [KEYS.lbCookie]: '{"isSecure":true}' },
        { host: 'a.example', tlsHosts: ['a.example'] },
      ),
      named('b', { [KEYS.policy]: 'LEAST_CONNECTIONS' }, { host: 'b.example' }),
    );
    expect(reasons(outcome.diagnostics)).toEqual([
      'error:InsecureCookieOnHttpListener',
      'warning:VendorWouldMerge',
    ]);
  });

  it.each<[string, IngressOptions, IngressOptions]>([
    ['different Services', { service: 'web' }, { service: 'api' }],
    ['different ports', { port: 80 }, { port: 8080 }],
    [
      'different IngressClasses (different load balancers)',
      { className: 'one' },
      { className: 'two' },
    ],
  ])('keeps apart Ingresses with %s', (_n, a, b) => {
    const outcome = run(named('a', { ...LB, [KEYS.policy]: 'IP_HASH' }, a), named('b', APP, b));
    expect(outcome.diagnostics).toEqual([]);
  });

  it('reports one backend set once, however many paths reach it', () => {
    const a = named('a', LB);
    const spec = a.spec as { rules: { http: { paths: unknown[] } }[] };
    spec.rules[0]!.http.paths.push({ ...(spec.rules[0]!.http.paths[0] as object), path: '/x' });
    const outcome = run(a, named('b', APP));
    expect(reasons(outcome.diagnostics)).toEqual(['warning:VendorWouldMerge']);
  });
});

describe('oci-native-ingress: random annotation maps', () => {
  it('never throw and always give valid fragments and diagnostics', () => {
    const keys = [...Object.values(KEYS), 'oci-native-ingress.oraclecloud.com/polcy'];
    checkNeverThrows(ociNativeIngress, keys, (annotations) => [
      named('a', annotations, { host: 'a.example', tlsHosts: ['a.example'] }),
      named('b', { ...annotations, [KEYS.policy]: 'ROUND_ROBIN' }, { host: 'b.example' }),
    ]);
  });
});
