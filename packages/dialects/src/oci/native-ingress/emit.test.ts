import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { PolicyField } from '@tether/model';
import type { KubeObject } from '../../types';
import {
  SourceValues,
  anyValues,
  differingFields,
  emitAndRead,
  entriesWith,
  expressibleValues,
  flat,
  reportedFields,
  sourceFor,
} from '../../../../../test/support/dialects/oci-emit';
import { KEYS } from './annotations';
import { ociNativeIngress } from './index';
import { IngressOptions, ingress } from '../../../../../test/support/dialects/oci-native-ingress';

const TLS: IngressOptions = { host: 'shop.example.com', tlsHosts: ['shop.example.com'] };

function run(values: SourceValues, object: KubeObject = ingress({}), explicit = false) {
  const entries = entriesWith(object, values);
  if (!entries) throw new Error('the test values do not form a policy');
  return emitAndRead(ociNativeIngress, object, entries, explicit);
}

const warningsFor = (r: ReturnType<typeof run>, field: PolicyField) =>
  r.diagnostics.filter((d) => d.reason === 'UnsupportedByTarget' && d.message.startsWith(field));

const LC = { 'loadBalancing.algorithm': 'leastConnections' } as const;

describe('oci-native-ingress emit: canonical form', () => {
  const cases: {
    name: string;
    values: SourceValues;
    object?: KubeObject;
    explicit?: boolean;
    annotations: Record<string, string>;
  }[] = [
    {
      name: 'an LB cookie with every OCI default is an empty object',
      values: {
        ...LC,
        mode: 'cookie',
        'cookie.name': 'X-Oracle-BMC-LBS-Route',
        'cookie.path': '/',
      },
      annotations: { [KEYS.lbCookie]: '{}' },
    },
    {
      name: "an LB cookie's fields in OCI's order, compact",
      values: {
        ...LC,
        'cookie.maxAgeSeconds': 3600,
        'cookie.domain': 'shop.example.com',
        mode: 'cookie',
        'cookie.secure': 'always',
        'cookie.name': 'X-Oracle-OCI-Shop',
        'cookie.path': '/',
        onFailure: 'fail',
      },
      object: ingress({}, TLS),
      annotations: {
        [KEYS.lbCookie]:
          '{"cookieName":"X-Oracle-OCI-Shop","disableFallback":true,"domain":"shop.example.com","maxAgeInSeconds":3600,"isSecure":true}',
      },
    },
    {
      name: "round robin is written, since the controller's default is LEAST_CONNECTIONS",
      values: { mode: 'cookie', 'cookie.name': 'sid', 'cookie.path': '/' },
      annotations: { [KEYS.lbCookie]: '{"cookieName":"sid"}', [KEYS.policy]: 'ROUND_ROBIN' },
    },
    {
      name: 'an application cookie',
      values: {
        ...LC,
        mode: 'appCookie',
        'appCookie.name': 'JSESSIONID',
        'cookie.name': 'X-Oracle-BMC-LBS-Route',
      },
      annotations: { [KEYS.appCookie]: '{"cookieName":"JSESSIONID"}' },
    },
    {
      name: 'explicit writes the defaults too',
      values: {
        ...LC,
        mode: 'appCookie',
        'appCookie.name': '*',
        'cookie.name': 'X-Oracle-BMC-LBS-Route',
      },
      explicit: true,
      annotations: { [KEYS.appCookie]: '{"cookieName":"*"}', [KEYS.policy]: 'LEAST_CONNECTIONS' },
    },
    {
      name: 'the default policy is written when nothing else names the controller',
      values: { ...LC, mode: 'none' },
      annotations: { [KEYS.policy]: 'LEAST_CONNECTIONS' },
    },
    {
      name: 'the default policy is left out when another key of the controller is there',
      values: { ...LC, mode: 'none' },
      object: ingress({ [KEYS.protocol]: 'HTTP' }),
      annotations: {},
    },
    {
      name: 'a certificate makes every rule TLS, so Secure is allowed',
      values: {
        ...LC,
        mode: 'cookie',
        'cookie.name': 'sid',
        'cookie.path': '/',
        'cookie.secure': 'always',
      },
      object: ingress({ [KEYS.certificate]: 'ocid1.certificate.oc1..x' }),
      annotations: { [KEYS.lbCookie]: '{"cookieName":"sid","isSecure":true}' },
    },
    {
      name: "the other model's key is emptied, which OCI reads as absent",
      values: {
        ...LC,
        mode: 'appCookie',
        'appCookie.name': 'sid',
        'cookie.name': 'X-Oracle-BMC-LBS-Route',
      },
      object: ingress({ [KEYS.lbCookie]: '{}' }),
      annotations: { [KEYS.appCookie]: '{"cookieName":"sid"}', [KEYS.lbCookie]: '' },
    },
  ];
  it.each(cases)('$name', ({ values, object, explicit, annotations }) => {
    const r = run(values, object, explicit);
    expect(r.annotations).toEqual(annotations);
    expect(r.after.length).toBeGreaterThan(0);
    expect(r.after.every((e) => e.accepted)).toBe(true);
    expect(r.diagnostics).toEqual([]);
  });
});

describe('oci-native-ingress emit: what the controller cannot say', () => {
  it('drops disableFallback of an application cookie, naming its source', () => {
    const r = run({
      ...LC,
      mode: 'appCookie',
      'appCookie.name': 'JSESSIONID',
      'cookie.name': 'X-Oracle-BMC-LBS-Route',
      onFailure: 'fail',
    });
    expect(r.annotations).toEqual({ [KEYS.appCookie]: '{"cookieName":"JSESSIONID"}' });
    const [w] = warningsFor(r, 'onFailure');
    expect(w?.message).toMatch(/drops disableFallback of an application cookie/);
    expect(w?.sources).toEqual([sourceFor('onFailure')]);
  });

  it('keeps disableFallback of an LB cookie', () => {
    const r = run({
      ...LC,
      mode: 'cookie',
      'cookie.name': 'sid',
      'cookie.path': '/',
      onFailure: 'fail',
    });
    expect(r.annotations).toEqual({
      [KEYS.lbCookie]: '{"cookieName":"sid","disableFallback":true}',
    });
    expect(r.after[0]?.policy?.onFailure).toBe('fail');
  });

  it('writes no session on a TCP pass-through Ingress, and says why', () => {
    const r = run(
      { ...LC, mode: 'cookie', 'cookie.name': 'sid', 'cookie.path': '/' },
      ingress({ [KEYS.protocol]: 'tcp' }),
    );
    expect(r.annotations).toEqual({});
    expect(warningsFor(r, 'mode')[0]?.message).toMatch(/TCP pass-through/);
    expect(warningsFor(r, 'cookie.name')[0]?.message).toMatch(/follows mode/);
  });

  it('drops Secure where a rule is served over plain HTTP', () => {
    const r = run({
      ...LC,
      mode: 'cookie',
      'cookie.name': 'sid',
      'cookie.path': '/',
      'cookie.secure': 'always',
    });
    expect(r.annotations).toEqual({ [KEYS.lbCookie]: '{"cookieName":"sid"}' });
    expect(warningsFor(r, 'cookie.secure')[0]?.sources).toEqual([sourceFor('cookie.secure')]);
  });

  it('chooses Secure for Secure-on-HTTPS when every rule is TLS, and says so', () => {
    const r = run(
      { ...LC, mode: 'cookie', 'cookie.name': 'sid', 'cookie.path': '/', 'cookie.secure': 'https' },
      ingress({}, TLS),
    );
    expect(r.annotations).toEqual({ [KEYS.lbCookie]: '{"cookieName":"sid","isSecure":true}' });
    expect(warningsFor(r, 'cookie.secure')[0]?.message).toMatch(/only isSecure true or false/);
  });

  it('writes the first entry and reports an entry that says something else', () => {
    const object: KubeObject = {
      ...ingress({}),
      spec: {
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/a',
                  pathType: 'Prefix',
                  backend: { service: { name: 'a', port: { number: 80 } } },
                },
                {
                  path: '/b',
                  pathType: 'Prefix',
                  backend: { service: { name: 'b', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    };
    const [a] =
      entriesWith(object, { ...LC, mode: 'cookie', 'cookie.name': 'a', 'cookie.path': '/' }) ?? [];
    const [, b] =
      entriesWith(object, { ...LC, mode: 'cookie', 'cookie.name': 'b', 'cookie.path': '/' }) ?? [];
    if (!a || !b) throw new Error('no entries');
    const out = ociNativeIngress.emit?.({ object, entries: [a, b], explicit: false });
    expect(out?.annotations).toEqual({ [KEYS.lbCookie]: '{"cookieName":"a"}' });
    expect(out?.diagnostics).toHaveLength(1);
    expect(out?.diagnostics[0]?.message).toMatch(
      /^cookie\.name = "b" on rules\[0\]\.paths\[1\].*one setting per object/,
    );
    expect(out?.diagnostics[0]?.sources).toEqual([sourceFor('cookie.name')]);
  });
});

describe('oci-native-ingress emit: properties', () => {
  it('reads back exactly what it writes, for every policy the controller can say', () => {
    fc.assert(
      fc.property(
        expressibleValues({ secure: true, appCookieFallback: false }),
        fc.boolean(),
        fc.boolean(),
        (values, tls, explicit) => {
          const object = ingress({}, tls ? TLS : { host: 'shop.example.com' });
          const v: SourceValues =
            !tls && values['cookie.secure'] === 'always'
              ? { ...values, 'cookie.secure': 'never' }
              : values;
          const r = run(v, object, explicit);
          expect(flat(r.after[0])).toEqual(flat(entriesWith(object, v)?.[0]));
          expect(r.diagnostics).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports exactly the fields that do not come back, each with its source', () => {
    fc.assert(
      fc.property(anyValues, fc.boolean(), fc.boolean(), (values, tls, explicit) => {
        const object = ingress({}, tls ? TLS : {});
        const entries = entriesWith(object, values);
        fc.pre(entries !== undefined);
        const r = emitAndRead(ociNativeIngress, object, entries ?? [], explicit);
        expect(r.after.every((e) => e.accepted)).toBe(true);
        const lost = differingFields(flat(entries?.[0]), flat(r.after[0]));
        expect(reportedFields(r.diagnostics)).toEqual(lost);
        expect([...r.covers].sort()).toEqual(lost);
        for (const d of r.diagnostics) {
          const field = /^([\w.]+) = /.exec(d.message)?.[1] as PolicyField;
          if (values[field] !== undefined) expect(d.sources).toEqual([sourceFor(field)]);
          else expect(d.sources.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on hostile objects', () => {
    fc.assert(
      fc.property(
        fc.anything(),
        fc.dictionary(fc.constantFrom(...Object.values(KEYS)), fc.string()),
        anyValues,
        (spec, annotations, values) => {
          const base = ingress(annotations);
          const entries = entriesWith(base, values) ?? [];
          const object = { ...base, spec } as KubeObject;
          expect(() => ociNativeIngress.emit?.({ object, entries, explicit: false })).not.toThrow();
        },
      ),
      { numRuns: 200 },
    );
  });
});
