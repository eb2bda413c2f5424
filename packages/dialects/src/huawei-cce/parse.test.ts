import { describe, expect, it } from '@jest/globals';
import {
  Fragment,
  PRECEDENCE,
  resolve,
  type Diagnostic,
  type EntryFragment,
  type FieldValues,
} from '@tether/model';
import { entriesOf, structureFragment } from '../kube';
import type { KubeObject, ParseContext } from '../types';
import { DEFAULT_COOKIE_NAME } from './annotations';
import { huaweiCce } from './index';

const MODE = 'kubernetes.io/elb.session-affinity-mode';
const OPTION = 'kubernetes.io/elb.session-affinity-option';
const ALGORITHM = 'kubernetes.io/elb.lb-algorithm';
const CLASS = 'kubernetes.io/elb.class';

function service(
  annotations: Record<string, string>,
  spec: Record<string, unknown> = { type: 'LoadBalancer', ports: [{ port: 80 }] },
  name = 'web',
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop', annotations },
    spec,
  };
}

const nodePort = { type: 'NodePort', ports: [{ port: 80 }] };

function ingress(annotations: Record<string, string>, backend = 'web'): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'front', namespace: 'shop', annotations },
    spec: {
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: backend, port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  };
}

function contextOf(objects: readonly KubeObject[]): ParseContext {
  return {
    objects,
    findService: (namespace, name) =>
      objects.find(
        (o) =>
          o.kind === 'Service' && o.metadata.namespace === namespace && o.metadata.name === name,
      ),
  };
}

/** Parses every object with huawei-cce, as the registry would. */
function parseAll(...objects: KubeObject[]): { fragments: Fragment[]; diagnostics: Diagnostic[] } {
  const context = contextOf(objects);
  const fragments: Fragment[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const o of objects) {
    const result = huaweiCce.parse(o, context);
    fragments.push(...result.fragments);
    diagnostics.push(...result.diagnostics);
  }
  return { fragments, diagnostics };
}

/** `severity reason field,field` for each diagnostic: what a test asserts, never the prose. */
function summary(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map(
    (d) => `${d.severity} ${d.reason} ${d.sources.map((s) => `${s.kind}:${s.field}`).join(',')}`,
  );
}

/** Field → value of one fragment, and which of them are defaults. */
function valuesOf(values: FieldValues): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      v.source.isDefault ? `${v.value} (default)` : v.value,
    ]),
  );
}

function entryFragments(fragments: readonly Fragment[]): EntryFragment[] {
  return fragments.filter((f): f is EntryFragment => f.type === 'entry');
}

function onlyEntry(fragments: readonly Fragment[]): Record<string, unknown> {
  const entries = entryFragments(fragments);
  expect(entries).toHaveLength(1);
  return valuesOf(entries[0]!.values);
}

/** Parses, adds the structure fragments, resolves. */
function analyse(...objects: KubeObject[]) {
  const parsed = parseAll(...objects);
  const structure = objects.flatMap((o) => (entriesOf(o).spec ?? []).map(structureFragment));
  const resolved = resolve([...structure, ...parsed.fragments]);
  return { ...parsed, resolved };
}

describe('huawei-cce appliesTo', () => {
  it.each([
    ['a Service with the mode', true, service({ [MODE]: 'SOURCE_IP' })],
    ['a Service with the class only', true, service({ [CLASS]: 'union' })],
    ['an Ingress with the algorithm', true, ingress({ [ALGORITHM]: 'ROUND_ROBIN' })],
    ['a Service with only other elb keys', false, service({ 'kubernetes.io/elb.id': 'x' })],
    ['a Service without annotations', false, service({})],
    [
      'a Route with the mode',
      false,
      { ...service({ [MODE]: 'SOURCE_IP' }), kind: 'Route' } as KubeObject,
    ],
  ])('%s → %s', (_name, expected, object) => {
    expect(huaweiCce.appliesTo(object)).toBe(expected);
  });
});

describe('huawei-cce layer 4: a LoadBalancer Service with SOURCE_IP', () => {
  it.each([
    ['no option: 60 minutes by default', {}, { 'sourceIp.timeoutSeconds': '3600 (default)' }],
    [
      '30 minutes',
      { [OPTION]: '{"persistence_timeout": "30"}' },
      { 'sourceIp.timeoutSeconds': 1800 },
    ],
    [
      'the lowest, 1',
      { [OPTION]: '{"persistence_timeout": "1"}' },
      { 'sourceIp.timeoutSeconds': 60 },
    ],
    [
      'the highest, 60',
      { [OPTION]: '{"persistence_timeout": "60"}' },
      { 'sourceIp.timeoutSeconds': 3600 },
    ],
    [
      'a plus sign, as Go reads it',
      { [OPTION]: '{"persistence_timeout": "+5"}' },
      { 'sourceIp.timeoutSeconds': 300 },
    ],
    [
      'leading zeros',
      { [OPTION]: '{"persistence_timeout": "007"}' },
      { 'sourceIp.timeoutSeconds': 420 },
    ],
    [
      'null timeout counts as absent',
      { [OPTION]: '{"persistence_timeout": null}' },
      { 'sourceIp.timeoutSeconds': '3600 (default)' },
    ],
    [
      'an empty option counts as absent',
      { [OPTION]: '' },
      { 'sourceIp.timeoutSeconds': '3600 (default)' },
    ],
    [
      'keys match case-insensitively',
      { [OPTION]: '{"Persistence_Timeout": "10"}' },
      { 'sourceIp.timeoutSeconds': 600 },
    ],
  ])('%s', (_name, extra, expected) => {
    const { fragments, diagnostics } = parseAll(service({ [MODE]: 'SOURCE_IP', ...extra }));
    expect(summary(diagnostics)).toEqual([]);
    expect(onlyEntry(fragments)).toEqual({
      mode: 'sourceIp',
      'loadBalancing.algorithm': 'roundRobin (default)',
      ...expected,
    });
    // SOURCE_IP does not travel to the Ingress routes, and the algorithm was not written.
    expect(fragments.filter((f) => f.type === 'backend')).toEqual([]);
  });

  it.each([
    ['zero', '"0"'],
    ['above 60', '"61"'],
    ['an L7 value', '"1440"'],
    ['negative', '"-5"'],
    ['a unit', '"30m"'],
    ['spaces', '" 30"'],
    ['empty', '""'],
    ['a decimal', '"1.5"'],
    ['an exponent', '"1e1"'],
    ['full-width digits', '"３０"'],
    ['overflowing', '"99999999999999999999999"'],
    ['CR/LF', '"3\\r\\n0"'],
  ])('refuses persistence_timeout %s (row 25)', (_name, json) => {
    const { fragments, diagnostics } = parseAll(
      service({ [MODE]: 'SOURCE_IP', [OPTION]: `{"persistence_timeout": ${json}}` }),
    );
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${OPTION}`]);
    expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': 'roundRobin (default)' });
  });

  it.each([
    ['a number', '30'],
    ['a boolean', 'true'],
    ['an object', '{"minutes": 30}'],
  ])('refuses persistence_timeout given as %s: CCE wants a string', (_name, json) => {
    const { fragments, diagnostics } = parseAll(
      service({ [MODE]: 'SOURCE_IP', [OPTION]: `{"persistence_timeout": ${json}}` }),
    );
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${OPTION}`]);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it('serves every port, TCP and UDP alike, with the same settings', () => {
    const { fragments } = parseAll(
      service(
        { [MODE]: 'SOURCE_IP' },
        { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 53, protocol: 'UDP' }] },
      ),
    );
    const entries = entryFragments(fragments);
    expect(entries.map((f) => f.entry.listeners)).toEqual([
      [{ protocol: 'TCP', port: 80 }],
      [{ protocol: 'UDP', port: 53 }],
    ]);
    expect(entries.every((f) => f.values.mode?.value === 'sourceIp')).toBe(true);
  });

  it('warns that app_cookie_name does nothing with SOURCE_IP', () => {
    const { fragments, diagnostics } = parseAll(
      service({ [MODE]: 'SOURCE_IP', [OPTION]: '{"app_cookie_name": "SID"}' }),
    );
    expect(summary(diagnostics)).toEqual([
      `warning IneffectiveSetting Service:${OPTION},Service:${MODE}`,
    ]);
    expect(onlyEntry(fragments).mode).toBe('sourceIp');
  });

  it.each(['HTTP_COOKIE', 'APP_COOKIE'])(
    'refuses the cookie mode %s on the layer-4 listener (row 24)',
    (mode) => {
      const { fragments, diagnostics, resolved } = analyse(
        service({ [MODE]: mode, [OPTION]: '{"app_cookie_name": "SID"}' }),
      );
      // One error, from the dialect: the listener itself is not refused a second time.
      expect(resolved.diagnostics).toEqual([]);
      expect(summary(diagnostics)).toEqual([
        `error IncompatibleSettings Service:${MODE},Service:spec.type`,
      ]);
      // Nothing of the mode reaches the listener or the routes in front of the Service.
      expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': 'roundRobin (default)' });
      expect(fragments.filter((f) => f.type === 'backend')).toEqual([]);
    },
  );

  it('warns that SOURCE_IP on a Service that is not a LoadBalancer applies nowhere', () => {
    const { fragments, diagnostics } = parseAll(service({ [MODE]: 'SOURCE_IP' }, nodePort));
    expect(summary(diagnostics)).toEqual([
      `warning IneffectiveSetting Service:${MODE},Service:spec.type`,
    ]);
    expect(fragments).toEqual([]);
  });
});

describe('huawei-cce lb-algorithm', () => {
  it.each([
    ['ROUND_ROBIN', 'roundRobin'],
    ['LEAST_CONNECTIONS', 'leastConnections'],
    ['SOURCE_IP', 'sourceIpHash'],
  ])('%s → %s on the own listener and on the routes in front', (raw, algorithm) => {
    const { fragments, diagnostics } = parseAll(service({ [ALGORITHM]: raw }));
    expect(summary(diagnostics)).toEqual([]);
    expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': algorithm });
    const backend = fragments.find((f) => f.type === 'backend');
    expect(backend?.precedence).toBe(PRECEDENCE.serviceOverride);
    expect(valuesOf(backend?.values ?? {})).toEqual({ 'loadBalancing.algorithm': algorithm });
  });

  it.each([
    'round_robin',
    'Round_Robin',
    ' ROUND_ROBIN',
    'ROUND_ROBIN\n',
    'WEIGHTED',
    'ＲＯＵＮＤ',
  ])('refuses %j', (raw) => {
    const { fragments, diagnostics } = parseAll(service({ [ALGORITHM]: raw }));
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${ALGORITHM}`]);
    expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': 'roundRobin (default)' });
  });

  it('refuses SOURCE_IP algorithm with any sticky mode (row 22)', () => {
    const { fragments, diagnostics } = parseAll(
      service({ [ALGORITHM]: 'SOURCE_IP', [MODE]: 'SOURCE_IP' }),
    );
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Service:${MODE},Service:${ALGORITHM}`,
    ]);
    expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': 'sourceIpHash' });
  });

  it('refuses SOURCE_IP algorithm with a cookie mode on an Ingress (row 22)', () => {
    const { fragments, diagnostics } = parseAll(
      ingress({ [ALGORITHM]: 'SOURCE_IP', [MODE]: 'HTTP_COOKIE' }),
    );
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Ingress:${MODE},Ingress:${ALGORITHM}`,
    ]);
    expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': 'sourceIpHash' });
  });
});

describe('huawei-cce elb.class and session-affinity-mode values', () => {
  it.each(['Union', 'dedicated', 'shared', ' union', 'union\r\n'])('refuses class %j', (raw) => {
    const { diagnostics } = parseAll(service({ [CLASS]: raw }));
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Service:${CLASS}`]);
  });

  it.each(['union', 'performance', ''])('accepts class %j without a word', (raw) => {
    const { fragments, diagnostics } = parseAll(service({ [CLASS]: raw }));
    expect(summary(diagnostics)).toEqual([]);
    expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': 'roundRobin (default)' });
  });

  it.each(['source_ip', 'COOKIE', 'HTTP_COOKIE ', 'on', '🍪'])(
    'warns that CCE would ignore the mode %j, and sets none',
    (raw) => {
      const { fragments, diagnostics } = parseAll(ingress({ [MODE]: raw }));
      expect(summary(diagnostics)).toEqual([`warning InvalidAnnotation Ingress:${MODE}`]);
      expect(onlyEntry(fragments)).toEqual({ 'loadBalancing.algorithm': 'roundRobin (default)' });
    },
  );

  it('treats an empty mode as absent', () => {
    const { fragments, diagnostics } = parseAll(ingress({ [MODE]: '' }));
    expect(summary(diagnostics)).toEqual([]);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it('refuses an annotation value that is not a string', () => {
    const object = ingress({});
    object.metadata.annotations = { [MODE]: 42 } as unknown as Record<string, string>;
    const { diagnostics } = parseAll(object);
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Ingress:${MODE}`]);
  });
});

describe('huawei-cce layer 7: an Ingress', () => {
  it.each([
    [
      'HTTP_COOKIE without option: ELB default of 20 minutes',
      { [MODE]: 'HTTP_COOKIE' },
      {
        mode: 'cookie',
        'cookie.name': `${DEFAULT_COOKIE_NAME} (default)`,
        'cookie.maxAgeSeconds': '1200 (default)',
      },
    ],
    [
      'HTTP_COOKIE for 30 minutes',
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "30"}' },
      {
        mode: 'cookie',
        'cookie.name': `${DEFAULT_COOKIE_NAME} (default)`,
        'cookie.maxAgeSeconds': 1800,
      },
    ],
    [
      'HTTP_COOKIE at the L7 maximum, 1440 minutes',
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "1440"}' },
      {
        mode: 'cookie',
        'cookie.name': `${DEFAULT_COOKIE_NAME} (default)`,
        'cookie.maxAgeSeconds': 86400,
      },
    ],
    [
      'APP_COOKIE following the backend cookie',
      { [MODE]: 'APP_COOKIE', [OPTION]: '{"app_cookie_name": "JSESSIONID"}' },
      {
        mode: 'appCookie',
        'appCookie.name': 'JSESSIONID',
        'cookie.name': `${DEFAULT_COOKIE_NAME} (default)`,
      },
    ],
    [
      'APP_COOKIE on a shared ELB',
      { [MODE]: 'APP_COOKIE', [CLASS]: 'union', [OPTION]: '{"app_cookie_name": "sid.v2"}' },
      {
        mode: 'appCookie',
        'appCookie.name': 'sid.v2',
        'cookie.name': `${DEFAULT_COOKIE_NAME} (default)`,
      },
    ],
    [
      'HTTP_COOKIE on a dedicated ELB',
      { [MODE]: 'HTTP_COOKIE', [CLASS]: 'performance' },
      {
        mode: 'cookie',
        'cookie.name': `${DEFAULT_COOKIE_NAME} (default)`,
        'cookie.maxAgeSeconds': '1200 (default)',
      },
    ],
    [
      'only the algorithm',
      { [ALGORITHM]: 'LEAST_CONNECTIONS' },
      { 'loadBalancing.algorithm': 'leastConnections' },
    ],
  ])('%s', (_name, annotations, expected) => {
    const { fragments, diagnostics } = parseAll(ingress(annotations));
    expect(summary(diagnostics)).toEqual([]);
    expect(onlyEntry(fragments)).toEqual({
      'loadBalancing.algorithm': 'roundRobin (default)',
      ...expected,
    });
  });

  it.each(['"0"', '"1441"', '"-1"', '"twenty"', '""'])(
    'refuses the cookie timeout %s (row 25)',
    (json) => {
      const { fragments, diagnostics } = parseAll(
        ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: `{"persistence_timeout": ${json}}` }),
      );
      expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Ingress:${OPTION}`]);
      expect(onlyEntry(fragments)).not.toHaveProperty('mode');
    },
  );

  it('refuses SOURCE_IP on an Ingress route (row 24)', () => {
    const { fragments, diagnostics } = parseAll(ingress({ [MODE]: 'SOURCE_IP' }));
    expect(summary(diagnostics)).toEqual([`error IncompatibleSettings Ingress:${MODE}`]);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it('refuses APP_COOKIE on a dedicated ELB (row 23)', () => {
    const { fragments, diagnostics } = parseAll(
      ingress({
        [MODE]: 'APP_COOKIE',
        [CLASS]: 'performance',
        [OPTION]: '{"app_cookie_name": "SID"}',
      }),
    );
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Ingress:${MODE},Ingress:${CLASS}`,
    ]);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it.each([
    ['no option', undefined],
    ['an empty object', '{}'],
    ['an empty name', '{"app_cookie_name": ""}'],
    ['a null name', '{"app_cookie_name": null}'],
    ['the open-source key instead', '{"cookie_name": "SID"}'],
  ])('refuses APP_COOKIE with %s: the name is required (row 26)', (_name, option) => {
    const annotations: Record<string, string> = { [MODE]: 'APP_COOKIE' };
    if (option !== undefined) annotations[OPTION] = option;
    const { fragments, diagnostics } = parseAll(ingress(annotations));
    expect(summary(diagnostics).filter((d) => d.startsWith('error'))).toEqual([
      `error MissingValue Ingress:${MODE},Ingress:${OPTION}`,
    ]);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it.each([
    ['CR/LF', 'SID\r\nSet-Cookie: x=1'],
    ['a space', 'my sid'],
    ['a semicolon', 'a;b'],
    ['an equals sign', 'a=b'],
    ['unicode', 'sésame'],
    ['a tab', 'a\tb'],
    ['4097 characters', 'x'.repeat(4097)],
  ])('refuses an app_cookie_name with %s', (_name, name) => {
    const { fragments, diagnostics } = parseAll(
      ingress({ [MODE]: 'APP_COOKIE', [OPTION]: JSON.stringify({ app_cookie_name: name }) }),
    );
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Ingress:${OPTION}`]);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
    // The message stays short however long the value was.
    expect(diagnostics[0]!.message.length).toBeLessThan(400);
  });

  it('accepts an app_cookie_name of 4096 characters', () => {
    const name = 'x'.repeat(4096);
    const { fragments } = parseAll(
      ingress({ [MODE]: 'APP_COOKIE', [OPTION]: JSON.stringify({ app_cookie_name: name }) }),
    );
    expect(onlyEntry(fragments)['appCookie.name']).toBe(name);
  });

  it('warns that persistence_timeout does nothing with APP_COOKIE, and keeps the mode (row 27)', () => {
    const { fragments, diagnostics } = parseAll(
      ingress({
        [MODE]: 'APP_COOKIE',
        [OPTION]: '{"app_cookie_name": "SID", "persistence_timeout": "30"}',
      }),
    );
    expect(summary(diagnostics)).toEqual([
      `warning IneffectiveSetting Ingress:${OPTION},Ingress:${MODE}`,
    ]);
    expect(onlyEntry(fragments)).not.toHaveProperty('cookie.maxAgeSeconds');
    expect(onlyEntry(fragments).mode).toBe('appCookie');
  });

  it('warns that app_cookie_name does nothing with HTTP_COOKIE', () => {
    const { diagnostics } = parseAll(
      ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: '{"app_cookie_name": "SID"}' }),
    );
    expect(summary(diagnostics)).toEqual([
      `warning IneffectiveSetting Ingress:${OPTION},Ingress:${MODE}`,
    ]);
  });

  it.each([
    ['an Ingress', ingress({ [OPTION]: '{"persistence_timeout": "30"}' })],
    ['a Service', service({ [OPTION]: '{"persistence_timeout": "30"}' })],
  ])('warns that the option without a mode does nothing on %s (row 27)', (_name, object) => {
    const { fragments, diagnostics } = parseAll(object);
    expect(summary(diagnostics)).toEqual([`warning IneffectiveSetting ${object.kind}:${OPTION}`]);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it('points at the open-source switch when it stands in for the mode', () => {
    const { diagnostics } = parseAll(
      ingress({
        'kubernetes.io/elb.session-affinity-flag': 'on',
        [OPTION]: '{"type": "HTTP_COOKIE"}',
      }),
    );
    expect(summary(diagnostics)).toEqual([
      `warning UnknownField Ingress:${OPTION}`,
      `warning IneffectiveSetting Ingress:${OPTION}`,
    ]);
    expect(diagnostics[1]!.message).toContain('session-affinity-flag');
  });
});

describe('huawei-cce option JSON', () => {
  it.each([
    ['a missing brace', '{"persistence_timeout": "30"', 'line 1'],
    ['a trailing comma', '{"persistence_timeout": "30",}', 'line 1'],
    ['single quotes', "{'persistence_timeout': '30'}", 'line 1, column 2'],
    ['an error on the second line', '{\n  "persistence_timeout": 30x\n}', 'line 2'],
    ['whitespace only', '   ', 'line 1'],
  ])('reports %s with its line and column (row 30)', (_name, text, where) => {
    const { fragments, diagnostics } = parseAll(ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: text }));
    expect(summary(diagnostics)).toEqual([`error InvalidJson Ingress:${OPTION}`]);
    expect(diagnostics[0]!.message).toContain(where);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it.each(['[]', '"30"', '30', 'null', 'true'])('refuses JSON %s that is not an object', (text) => {
    const { diagnostics } = parseAll(ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: text }));
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Ingress:${OPTION}`]);
  });

  it('warns about keys CCE does not read and still applies the rest', () => {
    const { fragments, diagnostics } = parseAll(
      ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "5", "maxAge": 60}' }),
    );
    expect(summary(diagnostics)).toEqual([`warning UnknownField Ingress:${OPTION}`]);
    expect(onlyEntry(fragments)['cookie.maxAgeSeconds']).toBe(300);
  });

  it('takes the later of two duplicate keys, as Go does', () => {
    const { fragments } = parseAll(
      ingress({
        [MODE]: 'HTTP_COOKIE',
        [OPTION]: '{"persistence_timeout": "5", "PERSISTENCE_TIMEOUT": "7"}',
      }),
    );
    expect(onlyEntry(fragments)['cookie.maxAgeSeconds']).toBe(420);
  });

  it('survives a huge option without throwing', () => {
    const text = JSON.stringify({ persistence_timeout: '9'.repeat(200_000) });
    const { diagnostics } = parseAll(ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: text }));
    expect(summary(diagnostics)).toEqual([`error InvalidAnnotation Ingress:${OPTION}`]);
    expect(diagnostics[0]!.message.length).toBeLessThan(400);
  });
});

describe('huawei-cce: the Service behind an Ingress overrides it', () => {
  it('carries cookie settings of a NodePort Service to the routes in front of it', () => {
    const svc = service(
      { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "45"}' },
      nodePort,
    );
    const { fragments, diagnostics } = parseAll(svc);
    expect(summary(diagnostics)).toEqual([]);
    expect(fragments).toHaveLength(1);
    const [backend] = fragments;
    expect(backend).toMatchObject({
      type: 'backend',
      target: { namespace: 'shop', service: 'web' },
      precedence: PRECEDENCE.serviceOverride,
    });
    expect(valuesOf(backend!.values)).toEqual({
      mode: 'cookie',
      'cookie.name': `${DEFAULT_COOKIE_NAME} (default)`,
      'cookie.maxAgeSeconds': 2700,
    });
  });

  it('reaches an Ingress that carries no CCE annotation', () => {
    const { resolved } = analyse(
      ingress({}),
      service({ [MODE]: 'APP_COOKIE', [OPTION]: '{"app_cookie_name": "SID"}' }, nodePort),
    );
    expect(resolved.diagnostics).toEqual([]);
    expect(resolved.entries).toHaveLength(1);
    expect(resolved.entries[0]!.policy).toMatchObject({
      mode: 'appCookie',
      appCookie: { name: 'SID' },
      cookie: { name: DEFAULT_COOKIE_NAME },
    });
  });

  it('overrides a different Ingress timeout with a ValueOverridden warning (row 29)', () => {
    const { resolved, diagnostics } = analyse(
      ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "30"}' }),
      service({ [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "60"}' }, nodePort),
    );
    expect(summary(diagnostics)).toEqual([]);
    expect(summary(resolved.diagnostics)).toEqual([
      `warning ValueOverridden Service:${OPTION},Ingress:${OPTION}`,
    ]);
    expect(resolved.entries[0]!.policy?.cookie?.maxAgeSeconds).toBe(3600);
    expect(resolved.entries[0]!.sources['cookie.maxAgeSeconds']).toEqual([
      expect.objectContaining({ kind: 'Service', field: OPTION }),
    ]);
  });

  it('overrides the Ingress mode and algorithm (row 29)', () => {
    const { resolved } = analyse(
      ingress({
        [MODE]: 'APP_COOKIE',
        [OPTION]: '{"app_cookie_name": "SID"}',
        [ALGORITHM]: 'LEAST_CONNECTIONS',
      }),
      service({ [MODE]: 'HTTP_COOKIE', [ALGORITHM]: 'ROUND_ROBIN' }, nodePort),
    );
    expect(summary(resolved.diagnostics)).toEqual([
      `warning ValueOverridden Service:${MODE},Ingress:${MODE}`,
      `warning ValueOverridden Service:${ALGORITHM},Ingress:${ALGORITHM}`,
    ]);
    expect(resolved.entries[0]!.policy?.mode).toBe('cookie');
    expect(resolved.entries[0]!.loadBalancing).toEqual({ algorithm: 'roundRobin' });
  });

  it('says nothing when the Service repeats the Ingress', () => {
    const same = { [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "30"}' };
    const { resolved } = analyse(ingress(same), service(same, nodePort));
    expect(resolved.diagnostics).toEqual([]);
    expect(resolved.entries[0]!.accepted).toBe(true);
  });

  it("lets the Ingress's explicit timeout stand against the Service's default", () => {
    const { resolved } = analyse(
      ingress({ [MODE]: 'HTTP_COOKIE', [OPTION]: '{"persistence_timeout": "30"}' }),
      service({ [MODE]: 'HTTP_COOKIE' }, nodePort),
    );
    expect(resolved.diagnostics).toEqual([]);
    expect(resolved.entries[0]!.policy?.cookie?.maxAgeSeconds).toBe(1800);
  });

  it("refuses the Ingress's sticky mode under the Service's SOURCE_IP algorithm (row 22)", () => {
    const { diagnostics, resolved } = analyse(
      ingress({ [MODE]: 'HTTP_COOKIE' }),
      service({ [ALGORITHM]: 'SOURCE_IP' }, nodePort),
    );
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Ingress:${MODE},Service:${ALGORITHM}`,
    ]);
    expect(resolved.entries[0]!.policy?.mode).toBe('none');
    expect(resolved.entries[0]!.loadBalancing).toEqual({ algorithm: 'sourceIpHash' });
  });

  it("refuses the Ingress's SOURCE_IP algorithm under the Service's sticky mode (row 22)", () => {
    const { diagnostics, resolved } = analyse(
      ingress({ [ALGORITHM]: 'SOURCE_IP' }),
      service({ [MODE]: 'HTTP_COOKIE' }, nodePort),
    );
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Ingress:${ALGORITHM},Service:${MODE}`,
    ]);
    expect(resolved.entries[0]!.policy?.mode).toBe('cookie');
    expect(resolved.entries[0]!.loadBalancing).toEqual({ algorithm: 'roundRobin' });
  });

  it("refuses the Service's APP_COOKIE on the Ingress's dedicated ELB (row 23)", () => {
    const { diagnostics } = analyse(
      ingress({ [CLASS]: 'performance' }),
      service({ [MODE]: 'APP_COOKIE', [OPTION]: '{"app_cookie_name": "SID"}' }, nodePort),
    );
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Service:${MODE},Ingress:${CLASS}`,
    ]);
  });

  it('reports a Service problem once per Ingress, however many paths lead to it', () => {
    const front = ingress({ [MODE]: 'HTTP_COOKIE' });
    const rules = (front.spec as { rules: { http: { paths: unknown[] } }[] }).rules;
    rules[0]!.http.paths.push({
      path: '/cart',
      pathType: 'Prefix',
      backend: { service: { name: 'web', port: { number: 80 } } },
    });
    const { diagnostics, fragments } = parseAll(
      front,
      service({ [ALGORITHM]: 'SOURCE_IP' }, nodePort),
    );
    expect(entryFragments(fragments)).toHaveLength(2);
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Ingress:${MODE},Service:${ALGORITHM}`,
    ]);
  });
  it('reads a Service afresh in the next snapshot', () => {
    const svc = service({ [ALGORITHM]: 'SOURCE_IP' }, nodePort);
    const front = ingress({ [MODE]: 'HTTP_COOKIE' });
    expect(summary(parseAll(front, svc).diagnostics)).toHaveLength(1);
    svc.metadata.annotations = { [ALGORITHM]: 'ROUND_ROBIN' };
    expect(summary(parseAll(front, svc).diagnostics)).toEqual([]);
  });
});

describe('huawei-cce hostile objects', () => {
  it.each([
    ['a spec that is a string', 'nonsense'],
    ['ports that are not a list', { type: 'LoadBalancer', ports: 'eighty' }],
    ['no spec at all', undefined],
  ])('never throws on a Service with %s', (_name, spec) => {
    const object = service({ [MODE]: 'SOURCE_IP', [OPTION]: '{' });
    object.spec = spec;
    expect(() => parseAll(object)).not.toThrow();
  });

  it('never throws on an Ingress whose backend Service has a broken spec', () => {
    const broken = service({ [ALGORITHM]: 'SOURCE_IP' });
    broken.spec = 42;
    expect(() => parseAll(ingress({ [MODE]: 'HTTP_COOKIE' }), broken)).not.toThrow();
  });
});

describe('huawei-cce: the open-source provider dialect on a Service', () => {
  const FLAG = 'kubernetes.io/elb.session-affinity-flag';

  it('reads flag on with a typed SOURCE_IP option and a numeric timeout', () => {
    const { fragments, diagnostics } = parseAll(
      service({ [FLAG]: 'on', [OPTION]: '{"type":"SOURCE_IP","persistence_timeout":20}' }),
    );
    expect(summary(diagnostics)).toEqual([]);
    expect(onlyEntry(fragments)).toMatchObject({
      mode: 'sourceIp',
      'sourceIp.timeoutSeconds': 1200,
    });
    const entry = entryFragments(fragments)[0]!;
    expect(entry.values.mode?.source.field).toBe(FLAG);
  });

  it.each(['off', ''])(
    'flag %j leaves stickiness off; an option beside it is ineffective',
    (flag) => {
      const { fragments, diagnostics } = parseAll(
        service({ [FLAG]: flag, [OPTION]: '{"type":"SOURCE_IP","persistence_timeout":20}' }),
      );
      expect(onlyEntry(fragments)).not.toHaveProperty('mode');
      expect(summary(diagnostics)).toEqual([
        `warning IneffectiveSetting Service:${OPTION},Service:${FLAG}`,
      ]);
    },
  );

  it.each([
    ['a string timeout', '{"type":"SOURCE_IP","persistence_timeout":"20"}'],
    ['a fractional timeout', '{"type":"SOURCE_IP","persistence_timeout":2.5}'],
    ['JSON that does not parse', '{"type": "SOURCE_IP"'],
    ['an unknown type', '{"type":"COOKIE"}'],
  ])('falls back to the default with a warning for %s, as the provider does', (_name, text) => {
    const { fragments, diagnostics } = parseAll(service({ [FLAG]: 'on', [OPTION]: text }));
    expect(summary(diagnostics)).toEqual([`warning InvalidJson Service:${OPTION}`]);
    expect(onlyEntry(fragments)).toMatchObject({
      mode: 'sourceIp',
      'sourceIp.timeoutSeconds': '3600 (default)',
    });
  });

  it('refuses HTTP_COOKIE on the layer-4 listener of a LoadBalancer Service, naming the flag', () => {
    const { fragments, diagnostics } = parseAll(
      service({ [FLAG]: 'on', [OPTION]: '{"type":"HTTP_COOKIE","persistence_timeout":20}' }),
    );
    expect(summary(diagnostics)).toEqual([
      `error IncompatibleSettings Service:${FLAG},Service:spec.type`,
    ]);
    expect(diagnostics[0]!.message).toContain(`${OPTION} type HTTP_COOKIE needs an HTTP listener`);
    expect(onlyEntry(fragments)).not.toHaveProperty('mode');
  });

  it('lets CCE’s own mode decide when both dialects are written', () => {
    const { fragments } = parseAll(
      service({
        [MODE]: 'SOURCE_IP',
        [OPTION]: '{"persistence_timeout": "30"}',
        [FLAG]: 'on',
      }),
    );
    expect(onlyEntry(fragments)).toMatchObject({
      mode: 'sourceIp',
      'sourceIp.timeoutSeconds': 1800,
    });
  });
});
