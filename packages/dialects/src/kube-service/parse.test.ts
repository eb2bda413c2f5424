import { describe, expect, it } from '@jest/globals';
import { resolve, type Diagnostic, type EntryFragment, type Fragment } from '@tether/model';
import { entriesOf, structureFragment } from '../kube';
import type { KubeObject, ParseContext } from '../types';
import { kubeService } from './index';

const AFFINITY = 'spec.sessionAffinity';
const CONFIG = 'spec.sessionAffinityConfig';
const TIMEOUT = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';

const context: ParseContext = { objects: [], findService: () => undefined };

function service(fields: Record<string, unknown>, type = 'LoadBalancer'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { type, ports: [{ port: 80 }], ...fields },
  };
}

const clientIP = (timeoutSeconds: unknown) => ({
  sessionAffinity: 'ClientIP',
  sessionAffinityConfig: { clientIP: { timeoutSeconds } },
});

function summary(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map(
    (d) => `${d.severity} ${d.reason} ${d.sources.map((s) => `${s.kind}:${s.field}`).join(',')}`,
  );
}

function parse(object: KubeObject) {
  return kubeService.parse(object, context);
}

/** Field → value of the only fragment, defaults marked. */
function onlyValues(fragments: readonly Fragment[]): Record<string, unknown> {
  expect(fragments).toHaveLength(1);
  return Object.fromEntries(
    Object.entries(fragments[0]!.values).map(([k, v]) => [
      k,
      v.source.isDefault ? `${v.value} (default)` : v.value,
    ]),
  );
}

describe('kube-service appliesTo', () => {
  it.each([
    ['ClientIP', true, service({ sessionAffinity: 'ClientIP' })],
    ['an explicit None', true, service({ sessionAffinity: 'None' })],
    ['only a config', true, service({ sessionAffinityConfig: {} })],
    ['neither field', false, service({})],
    ['null fields', false, service({ sessionAffinity: null, sessionAffinityConfig: null })],
    ['an Ingress', false, { ...service({ sessionAffinity: 'ClientIP' }), kind: 'Ingress' }],
    ['a spec that is not an object', false, { ...service({}), spec: 'ClientIP' }],
  ])('%s → %s', (_name, expected, object) => {
    expect(kubeService.appliesTo(object as KubeObject)).toBe(expected);
  });
});

describe('kube-service ClientIP', () => {
  it.each([
    ['no config: the API default of 3 hours', { sessionAffinity: 'ClientIP' }, '10800 (default)'],
    [
      'a null config',
      { sessionAffinity: 'ClientIP', sessionAffinityConfig: null },
      '10800 (default)',
    ],
    [
      'an empty config',
      { sessionAffinity: 'ClientIP', sessionAffinityConfig: {} },
      '10800 (default)',
    ],
    [
      'an empty clientIP',
      { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: {} } },
      '10800 (default)',
    ],
    ['a null timeout', clientIP(null), '10800 (default)'],
    ['one second', clientIP(1), 1],
    ['one minute', clientIP(60), 60],
    ['the default written out', clientIP(10800), 10800],
    ['exactly one day, which the API accepts', clientIP(86400), 86400],
  ])('%s', (_name, fields, timeout) => {
    const { fragments, diagnostics } = parse(service(fields));
    expect(summary(diagnostics)).toEqual([]);
    // The window restarts with every new connection: an idle timeout.
    expect(onlyValues(fragments)).toEqual({
      mode: 'sourceIp',
      'sourceIp.timeoutSeconds': timeout,
      idleTimeoutSeconds: timeout,
    });
  });

  it.each([
    ['zero', 0],
    ['negative', -1],
    ['one second over a day', 86401],
    ['a fraction', 1.5],
    ['a string of digits', '300'],
    ['an empty string', ''],
    ['a boolean', true],
    ['beyond int32', 2147483648],
    ['the int32 minimum', -2147483648],
    ['huge', 1e308],
    ['infinity', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
    ['a list', [60]],
  ])('refuses a timeout that is %s (row 40)', (_name, value) => {
    const { fragments, diagnostics } = parse(service(clientIP(value)));
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${TIMEOUT}`]);
    expect(fragments).toEqual([]);
  });

  it('names every port of the Service, each with its own entry', () => {
    const object = service({ sessionAffinity: 'ClientIP' });
    (object.spec as Record<string, unknown>).ports = [
      { port: 80 },
      { port: 443 },
      { port: 53, protocol: 'UDP' },
    ];
    const { fragments } = parse(object);
    expect((fragments as EntryFragment[]).map((f) => [f.entry.rule, f.backend.port])).toEqual([
      ['port 80', 80],
      ['port 443', 443],
      ['port 53', 53],
    ]);
  });

  it('resolves to source-IP persistence with the timeout as an idle timeout', () => {
    const object = service(clientIP(600));
    const structure = (entriesOf(object).spec ?? []).map(structureFragment);
    const { entries, diagnostics } = resolve([...structure, ...parse(object).fragments]);
    expect(diagnostics).toEqual([]);
    expect(entries[0]!.policy).toEqual({
      mode: 'sourceIp',
      sourceIp: { timeoutSeconds: 600 },
      idleTimeoutSeconds: 600,
      rebalance: 'persistent',
      onFailure: 'rebalance',
    });
    expect(entries[0]!.sources.mode).toEqual([
      expect.objectContaining({ dialect: 'kube-service', field: AFFINITY }),
    ]);
  });

  it('tells, without warning, that a ClusterIP Service is pinned by kube-proxy, not Tether', () => {
    const { fragments, diagnostics } = parse(service({ sessionAffinity: 'ClientIP' }, 'ClusterIP'));
    expect(fragments).toEqual([]);
    expect(summary(diagnostics)).toEqual([`info IneffectiveSetting Service:${AFFINITY}`]);
  });

  it('still checks the timeout of a Service that is not a LoadBalancer', () => {
    const { diagnostics } = parse(service(clientIP(0), 'NodePort'));
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${TIMEOUT}`]);
  });
});

describe('kube-service sessionAffinity values', () => {
  it.each([
    ['None', { sessionAffinity: 'None' }],
    ['an empty value, which the API defaults to None', { sessionAffinity: '' }],
  ])('%s sets nothing', (_name, fields) => {
    const { fragments, diagnostics } = parse(service(fields));
    expect(fragments).toEqual([]);
    expect(diagnostics).toEqual([]);
  });

  it.each(['clientip', 'CLIENTIP', 'ClientIP ', ' None', 'Cookie', 'ClientIP\r\n', 'ＣlientIP'])(
    'refuses %j: the API takes only None or ClientIP, case-sensitive',
    (value) => {
      const { fragments, diagnostics } = parse(service({ sessionAffinity: value }));
      expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${AFFINITY}`]);
      expect(fragments).toEqual([]);
    },
  );

  it.each([
    [
      'None',
      { sessionAffinity: 'None', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } },
    ],
    ['absent', { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }],
    ['None with an empty config', { sessionAffinity: 'None', sessionAffinityConfig: {} }],
  ])('refuses a config while the affinity is %s (row 40)', (_name, fields) => {
    const { fragments, diagnostics } = parse(service(fields));
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Service:${CONFIG},Service:${AFFINITY}`,
    ]);
    expect(fragments).toEqual([]);
  });
});

describe('kube-service config shape', () => {
  it.each([
    ['a string config', { sessionAffinityConfig: '10800' }, CONFIG],
    ['a list config', { sessionAffinityConfig: [] }, CONFIG],
    ['a numeric clientIP', { sessionAffinityConfig: { clientIP: 5 } }, `${CONFIG}.clientIP`],
  ])('refuses %s', (_name, fields, field) => {
    const { fragments, diagnostics } = parse(service({ sessionAffinity: 'ClientIP', ...fields }));
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${field}`]);
    expect(fragments).toEqual([]);
  });

  it.each([
    ['clientIp', { clientIp: { timeoutSeconds: 60 } }, `${CONFIG}.clientIp`],
    ['timeoutseconds', { clientIP: { timeoutseconds: 60 } }, `${CONFIG}.clientIP.timeoutseconds`],
    ['timeout', { clientIP: { timeout: 60 } }, `${CONFIG}.clientIP.timeout`],
  ])(
    'warns that the API drops the misspelt %s and falls back to the default',
    (_name, config, field) => {
      const { fragments, diagnostics } = parse(
        service({ sessionAffinity: 'ClientIP', sessionAffinityConfig: config }),
      );
      expect(summary(diagnostics)).toEqual([`warning UnknownField Service:${field}`]);
      expect(onlyValues(fragments)['sourceIp.timeoutSeconds']).toBe('10800 (default)');
    },
  );

  it.each([
    ['a spec that is a string', 'ClientIP'],
    ['ports that are not a list', { type: 'LoadBalancer', ports: 80, sessionAffinity: 'ClientIP' }],
    ['an affinity that is a number', { type: 'LoadBalancer', sessionAffinity: 1 }],
  ])('never throws on %s, and leaves the report to the structure reader', (_name, spec) => {
    const object = service({});
    object.spec = spec;
    expect(() => parse(object)).not.toThrow();
    expect(parse(object)).toEqual({ fragments: [], diagnostics: [] });
  });
});
