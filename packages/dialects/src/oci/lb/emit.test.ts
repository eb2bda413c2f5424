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
import { ociLb } from './index';

interface ServiceOptions {
  type?: string;
  ports?: number[];
}

function service(annotations: Record<string, string> = {}, o: ServiceOptions = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec: { type: o.type ?? 'LoadBalancer', ports: (o.ports ?? [80]).map((port) => ({ port })) },
  };
}

const HTTP = { [KEYS.backendProtocol]: 'HTTP' };
const TLS = { ...HTTP, [KEYS.sslPorts]: '443', [KEYS.tlsSecret]: 'shop-tls' };

function run(values: SourceValues, object: KubeObject = service(HTTP), explicit = false) {
  const entries = entriesWith(object, values);
  if (!entries) throw new Error('the test values do not form a policy');
  return emitAndRead(ociLb, object, entries, explicit);
}

const warningsFor = (r: ReturnType<typeof run>, field: PolicyField) =>
  r.diagnostics.filter((d) => d.reason === 'UnsupportedByTarget' && d.message.startsWith(field));

describe('oci-lb emit: canonical form', () => {
  const cases: {
    name: string;
    values: SourceValues;
    object?: KubeObject;
    explicit?: boolean;
    annotations: Record<string, string>;
  }[] = [
    {
      name: 'an LB cookie with every OCI default is an empty object',
      values: { mode: 'cookie', 'cookie.name': 'X-Oracle-BMC-LBS-Route', 'cookie.path': '/' },
      annotations: { [KEYS.lbCookie]: '{}' },
    },
    {
      name: "an LB cookie's fields in OCI's order, compact",
      values: {
        mode: 'cookie',
        'cookie.httpOnly': true,
        'cookie.maxAgeSeconds': 600,
        'cookie.path': '/cart',
        'cookie.domain': 'shop.example.com',
        onFailure: 'fail',
        'cookie.name': 'shop-sid',
      },
      annotations: {
        [KEYS.lbCookie]:
          '{"cookieName":"shop-sid","disableFallback":true,"domain":"shop.example.com","path":"/cart","maxAgeInSeconds":600,"isHttpOnly":true}',
      },
    },
    {
      name: 'explicit writes the defaults too',
      values: { mode: 'cookie', 'cookie.name': 'X-Oracle-BMC-LBS-Route', 'cookie.path': '/' },
      explicit: true,
      annotations: {
        [KEYS.lbCookie]:
          '{"cookieName":"X-Oracle-BMC-LBS-Route","disableFallback":false,"path":"/","isSecure":false,"isHttpOnly":false}',
        [KEYS.policy]: 'ROUND_ROBIN',
      },
    },
    {
      name: 'an application cookie keeps disableFallback',
      values: {
        mode: 'appCookie',
        'appCookie.name': 'JSESSIONID',
        'cookie.name': 'X-Oracle-BMC-LBS-Route',
        onFailure: 'fail',
      },
      annotations: { [KEYS.appCookie]: '{"cookieName":"JSESSIONID","disableFallback":true}' },
    },
    {
      name: 'an application cookie following any cookie',
      values: { mode: 'appCookie', 'appCookie.name': '*', 'cookie.name': 'X-Oracle-BMC-LBS-Route' },
      annotations: { [KEYS.appCookie]: '{"cookieName":"*"}' },
    },
    {
      name: 'the default policy is left out',
      values: { mode: 'none', 'loadBalancing.algorithm': 'roundRobin' },
      annotations: {},
    },
    {
      name: 'another policy is written',
      values: { mode: 'none', 'loadBalancing.algorithm': 'leastConnections' },
      annotations: { [KEYS.policy]: 'LEAST_CONNECTIONS' },
    },
    {
      name: 'source-address hashing is IP_HASH',
      values: { mode: 'none', 'loadBalancing.algorithm': 'sourceIpHash' },
      annotations: { [KEYS.policy]: 'IP_HASH' },
    },
    {
      name: 'a Secure cookie where every port terminates TLS',
      values: { mode: 'cookie', 'cookie.name': 'sid', 'cookie.secure': 'always' },
      object: service(TLS, { ports: [443] }),
      annotations: { [KEYS.lbCookie]: '{"cookieName":"sid","isSecure":true}' },
    },
    {
      name: 'a key already saying the value is left alone',
      values: { mode: 'none', 'loadBalancing.algorithm': 'leastConnections' },
      object: service({ ...HTTP, [KEYS.policy]: 'LEAST_CONNECTIONS' }),
      annotations: {},
    },
    {
      name: 'a policy already there is overwritten, even with the default',
      values: { mode: 'none', 'loadBalancing.algorithm': 'roundRobin' },
      object: service({ ...HTTP, [KEYS.policy]: 'IP_HASH' }),
      annotations: { [KEYS.policy]: 'ROUND_ROBIN' },
    },
    {
      name: "the other model's key is emptied, which OCI reads as absent",
      values: { mode: 'cookie', 'cookie.name': 'sid', 'cookie.path': '/' },
      object: service({ ...HTTP, [KEYS.appCookie]: '{"cookieName":"JSESSIONID"}' }),
      annotations: { [KEYS.lbCookie]: '{"cookieName":"sid"}', [KEYS.appCookie]: '' },
    },
  ];
  it.each(cases)('$name', ({ values, object, explicit, annotations }) => {
    const r = run(values, object, explicit);
    expect(r.annotations).toEqual(annotations);
    expect(r.after.length).toBeGreaterThan(0);
    expect(r.after.every((e) => e.accepted)).toBe(true);
  });
});

describe('oci-lb emit: listeners', () => {
  it.each([
    ['no backend protocol', {}],
    ['an empty backend protocol', { [KEYS.backendProtocol]: '' }],
    ['backend protocol tcp', { [KEYS.backendProtocol]: 'tcp' }],
  ])('switches the Service to HTTP for a cookie session with %s', (_name, annotations) => {
    const r = run({ mode: 'cookie', 'cookie.name': 'sid' }, service(annotations));
    expect(r.annotations[KEYS.backendProtocol]).toBe('HTTP');
    const note = r.diagnostics.find((d) => d.reason === 'PersistenceOnTcpListener');
    expect(note?.severity).toBe('info');
    expect(note?.sources[0]?.field).toBe(KEYS.backendProtocol);
    expect(r.after[0]?.entry.listeners).toEqual([{ protocol: 'HTTP', port: 80 }]);
    expect(r.after[0]?.policy?.mode).toBe('cookie');
  });

  it.each([['HTTP'], ['grpc']])('keeps backend protocol %s', (protocol) => {
    const r = run(
      { mode: 'cookie', 'cookie.name': 'sid' },
      service({ [KEYS.backendProtocol]: protocol }),
    );
    expect(r.annotations[KEYS.backendProtocol]).toBeUndefined();
    expect(r.diagnostics.some((d) => d.reason === 'PersistenceOnTcpListener')).toBe(false);
  });

  it('leaves a TCP Service alone when no session is written', () => {
    const r = run({ mode: 'sourceIp' }, service({}));
    expect(r.annotations).toEqual({});
  });

  it('drops Secure when a port serves plain HTTP, naming the source', () => {
    const r = run(
      { mode: 'cookie', 'cookie.name': 'sid', 'cookie.secure': 'always' },
      service(TLS, { ports: [443, 80] }),
    );
    expect(r.annotations[KEYS.lbCookie]).toBe('{"cookieName":"sid"}');
    const [w] = warningsFor(r, 'cookie.secure');
    expect(w?.message).toMatch(/plain-HTTP listener/);
    expect(w?.sources).toEqual([sourceFor('cookie.secure')]);
    expect(r.after.every((e) => e.accepted)).toBe(true);
  });

  it('chooses isSecure true for Secure-on-HTTPS when every port terminates TLS, and says so', () => {
    const r = run(
      { mode: 'cookie', 'cookie.name': 'sid', 'cookie.secure': 'https' },
      service(TLS, { ports: [443] }),
    );
    expect(r.annotations[KEYS.lbCookie]).toBe('{"cookieName":"sid","isSecure":true}');
    expect(warningsFor(r, 'cookie.secure')[0]?.message).toMatch(/only isSecure true or false/);
  });
});

describe('oci-lb emit: what OCI cannot say', () => {
  const cases: {
    name: string;
    values: SourceValues;
    field: PolicyField;
    message: RegExp;
    annotations?: Record<string, string>;
    /** The field whose source is named, when the field itself has none. */
    source?: PolicyField;
  }[] = [
    {
      name: 'SameSite',
      values: { mode: 'cookie', 'cookie.name': 'sid', 'cookie.sameSite': 'Lax' },
      field: 'cookie.sameSite',
      message: /no SameSite/,
    },
    {
      name: 'leaving SameSite=None out for old clients',
      values: {
        mode: 'cookie',
        'cookie.name': 'sid',
        'cookie.sameSite': 'None',
        'cookie.omitSameSiteNoneForOldClients': true,
      },
      field: 'cookie.omitSameSiteNoneForOldClients',
      message: /no SameSite/,
    },
    {
      name: 'Expires, written as Max-Age',
      values: { mode: 'cookie', 'cookie.name': 'sid', 'cookie.expiresSeconds': 3600 },
      field: 'cookie.expiresSeconds',
      message: /written as maxAgeInSeconds 3600/,
      annotations: { [KEYS.lbCookie]: '{"cookieName":"sid","maxAgeInSeconds":3600}' },
    },
    {
      name: 'a Max-Age below 1',
      values: { mode: 'cookie', 'cookie.name': 'sid', 'cookie.maxAgeSeconds': 0 },
      field: 'cookie.maxAgeSeconds',
      message: /at least 1/,
      annotations: { [KEYS.lbCookie]: '{"cookieName":"sid"}' },
    },
    {
      name: 'no cookie Path',
      values: { mode: 'cookie', 'cookie.name': 'sid' },
      field: 'cookie.path',
      message: /always gives its cookie a Path/,
      source: 'mode',
    },
    {
      name: 'a cookie name that is not a token',
      values: { mode: 'cookie', 'cookie.name': 'bad name', 'cookie.path': '/' },
      field: 'cookie.name',
      message: /HTTP token/,
      annotations: { [KEYS.lbCookie]: '{}' },
    },
    {
      name: 'nocache',
      values: { mode: 'cookie', 'cookie.name': 'sid', 'cookie.nocache': true },
      field: 'cookie.nocache',
      message: /Cache-Control/,
    },
    {
      name: 'the balanced mode',
      values: { mode: 'cookie', 'cookie.name': 'sid', rebalance: 'balanced' },
      field: 'rebalance',
      message: /no balanced mode/,
    },
    {
      name: 'retrying elsewhere',
      values: { mode: 'cookie', 'cookie.name': 'sid', onFailure: 'retryElsewhere' },
      field: 'onFailure',
      message: /does not retry/,
    },
    {
      name: 'header persistence',
      values: { mode: 'header', 'header.name': 'x-user' },
      field: 'mode',
      message: /no header persistence/,
      annotations: {},
    },
    {
      name: 'source-address persistence, which IP_HASH is not',
      values: { mode: 'sourceIp', 'sourceIp.timeoutSeconds': 600 },
      field: 'mode',
      message: /balancing, not a session/,
      annotations: {},
    },
    {
      name: 'an absolute timeout',
      values: { mode: 'cookie', 'cookie.name': 'sid', absoluteTimeoutSeconds: 3600 },
      field: 'absoluteTimeoutSeconds',
      message: /no absolute session limit/,
    },
    {
      name: 'an idle timeout',
      values: { mode: 'cookie', 'cookie.name': 'sid', idleTimeoutSeconds: 600 },
      field: 'idleTimeoutSeconds',
      message: /no idle timeout/,
    },
    {
      name: 'ewma balancing',
      values: { mode: 'none', 'loadBalancing.algorithm': 'ewma' },
      field: 'loadBalancing.algorithm',
      message: /no ewma balancing/,
      annotations: {},
    },
    {
      name: 'hashing a request header',
      values: {
        mode: 'none',
        'loadBalancing.algorithm': 'hash',
        'loadBalancing.hashKey': '$http_x_user',
      },
      field: 'loadBalancing.hashKey',
      message: /cannot hash on a request value/,
      annotations: {},
    },
    {
      name: 'hashing the client address, written as IP_HASH',
      values: {
        mode: 'none',
        'loadBalancing.algorithm': 'hash',
        'loadBalancing.hashKey': '$remote_addr',
      },
      field: 'loadBalancing.algorithm',
      message: /IP_HASH/,
      annotations: { [KEYS.policy]: 'IP_HASH' },
    },
    {
      name: 'a canary',
      values: { mode: 'none', canaryBehavior: 'sticky', 'route.canary.weight': 10 },
      field: 'route.canary.weight',
      message: /no canary routing/,
    },
    {
      name: "the companion cookie's attributes of an application cookie",
      values: {
        mode: 'appCookie',
        'appCookie.name': 'JSESSIONID',
        'cookie.name': 'route',
        'cookie.httpOnly': true,
      },
      field: 'cookie.httpOnly',
      message: /companion cookie/,
    },
  ];
  it.each(cases)('$name', ({ values, field, message, annotations, source }) => {
    const r = run(values);
    const [w] = warningsFor(r, field);
    expect(w?.severity).toBe('warning');
    expect(w?.message).toMatch(message);
    expect(w?.sources).toEqual([sourceFor(source ?? field)]);
    if (annotations) expect(r.annotations).toEqual(annotations);
    expect(r.after.every((e) => e.accepted)).toBe(true);
  });

  it('writes nothing on a Service that is not of type LoadBalancer, and says so', () => {
    const object = service(HTTP, { type: 'ClusterIP' });
    const out = ociLb.emit?.({ object, entries: [], explicit: false });
    expect(out?.annotations).toEqual({});
    expect(out?.diagnostics.map((d) => d.reason)).toEqual(['UnsupportedByTarget']);
    expect(out?.diagnostics[0]?.message).toMatch(/type LoadBalancer/);
  });

  it('names the fields of the source on a Service that is not of type LoadBalancer', () => {
    const lb = service(HTTP);
    const entries = entriesWith(lb, { mode: 'cookie', 'cookie.name': 'sid' }) ?? [];
    const out = ociLb.emit?.({
      object: service(HTTP, { type: 'NodePort' }),
      entries,
      explicit: false,
    });
    expect(out?.annotations).toEqual({});
    expect(out?.diagnostics[0]?.sources).toEqual(
      expect.arrayContaining([sourceFor('mode'), sourceFor('cookie.name')]),
    );
  });
});

describe('oci-lb emit: network load balancer', () => {
  const NLB = { [KEYS.lbType]: 'nlb' };
  it.each([
    [
      { mode: 'none', 'loadBalancing.algorithm': 'sourceIpHash' },
      { [KEYS.nlbPolicy]: 'TWO_TUPLE' },
    ],
    [
      {
        mode: 'none',
        'loadBalancing.algorithm': 'hash',
        'loadBalancing.hashKey': '$remote_addr:$remote_port',
      },
      {},
    ],
    [{ mode: 'none', 'loadBalancing.algorithm': 'roundRobin' }, {}],
  ] as [SourceValues, Record<string, string>][])('%j → %j', (values, annotations) => {
    expect(run(values, service(NLB)).annotations).toEqual(annotations);
  });

  it('reports a cookie session, which a network load balancer cannot keep', () => {
    const r = run({ mode: 'cookie', 'cookie.name': 'sid' }, service(NLB));
    expect(r.annotations).toEqual({});
    expect(warningsFor(r, 'mode')[0]?.message).toMatch(/network load balancer/);
    expect(
      differingFields(
        flat(r.after[0]),
        flat(entriesWith(service(NLB), { mode: 'cookie', 'cookie.name': 'sid' })?.[0]),
      ),
    ).toEqual(reportedFields(r.diagnostics));
  });
});

describe('oci-lb emit: properties', () => {
  it('reads back exactly what it writes, for every policy OCI can say', () => {
    fc.assert(
      fc.property(
        expressibleValues({ secure: true, appCookieFallback: true }),
        fc.boolean(),
        fc.boolean(),
        (values, tls, explicit) => {
          const object = tls ? service(TLS, { ports: [443] }) : service({});
          const v: SourceValues =
            !tls && values['cookie.secure'] === 'always'
              ? { ...values, 'cookie.secure': 'never' }
              : values;
          const r = run(v, object, explicit);
          const before = flat(entriesWith(object, v)?.[0]);
          expect(flat(r.after[0])).toEqual(before);
          expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports exactly the fields that do not come back, each with its source', () => {
    fc.assert(
      fc.property(anyValues, fc.boolean(), fc.boolean(), (values, tls, explicit) => {
        const object = tls ? service(TLS, { ports: [443] }) : service({}, { ports: [80, 8080] });
        const entries = entriesWith(object, values);
        fc.pre(entries !== undefined);
        const r = emitAndRead(ociLb, object, entries ?? [], explicit);
        expect(r.after.every((e) => e.accepted)).toBe(true);
        const lost = differingFields(flat(entries?.[0]), flat(r.after[0]));
        expect(reportedFields(r.diagnostics)).toEqual(lost);
        expect([...r.covers].sort()).toEqual(lost);
        for (const d of r.diagnostics.filter((x) => x.reason === 'UnsupportedByTarget')) {
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
          const base = service(annotations);
          const entries = entriesWith(base, values) ?? [];
          const object = { ...base, spec } as KubeObject;
          expect(() => ociLb.emit?.({ object, entries, explicit: false })).not.toThrow();
        },
      ),
      { numRuns: 200 },
    );
  });
});
