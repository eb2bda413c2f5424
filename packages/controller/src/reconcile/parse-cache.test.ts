import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '@tether/dialects';
import { ReconcileState } from './state';
import { reconcile, type ReconcileResult } from './reconcile';
import { CONTROLLER_NAME, type ServingOptions } from '../serving';

const serving: ServingOptions = {
  ingressClass: 'tether',
  controllerName: CONTROLLER_NAME,
  serveAll: false,
};

let version = 0;
/** A stored object: every write gets a new resourceVersion, as from the API server. */
function stored<T extends KubeObject>(o: T): T {
  return { ...o, metadata: { ...o.metadata, resourceVersion: String(++version) } };
}

const ingressClass = stored({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'tether' },
  spec: { controller: CONTROLLER_NAME },
});

function service(name: string, annotations: Record<string, string> = {}): KubeObject {
  return stored({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'shop', annotations },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
}

function slice(service: string, addresses: string[], ready = true): KubeObject {
  return stored({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-abc`,
      namespace: 'shop',
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready } })),
  });
}

function ingress(
  name: string,
  annotations: Record<string, string>,
  opts: { host?: string; path?: string; backend?: string; created?: string; tls?: unknown } = {},
): KubeObject {
  return stored({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: 'shop',
      annotations,
      creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z',
    },
    spec: {
      ingressClassName: 'tether',
      ...(opts.tls === undefined ? {} : { tls: opts.tls }),
      rules: [
        {
          host: opts.host ?? `${name}.example`,
          http: {
            paths: [
              {
                path: opts.path ?? '/',
                pathType: 'Prefix',
                backend: { service: { name: opts.backend ?? 'web', port: { number: 80 } } },
              },
            ],
          },
        },
      ],
    },
  });
}

/** A TLS Secret with a throwaway self-signed certificate, made with openssl. */
function tlsSecret(name: string, cn: string): KubeObject {
  const dir = mkdtempSync(join(tmpdir(), 'tether-cache-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'],
        ...['-nodes', '-days', '1', '-subj', `/CN=${cn}`],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      ],
      { stdio: 'ignore' },
    );
    const base64 = (file: string) => readFileSync(join(dir, file)).toString('base64');
    return stored({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name, namespace: 'shop' },
      data: { 'tls.crt': base64('cert.pem'), 'tls.key': base64('key.pem') },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sticky = (cookie: string) => ({
  'nginx.ingress.kubernetes.io/affinity': 'cookie',
  'nginx.ingress.kubernetes.io/session-cookie-name': cookie,
});

/** A series of snapshots, each one change away from the previous. */
function history(): { label: string; objects: KubeObject[] }[] {
  const base = [
    ingressClass,
    service('web'),
    slice('web', ['10.0.0.1', '10.0.0.2']),
    service('api', { 'kubernetes.io/elb.session-affinity-mode': 'SOURCE_IP' }),
    slice('api', ['10.0.1.1']),
    ingress('a', sticky('A')),
    ingress('b', sticky('B'), { backend: 'api' }),
    ingress('c', {}, { host: 'a.example', created: '2026-02-01T00:00:00Z' }),
    // Huawei: the Service behind an Ingress can override it, so its parse reads the Service.
    ingress(
      'h',
      {
        'kubernetes.io/elb.session-affinity-mode': 'HTTP_COOKIE',
        'kubernetes.io/elb.session-affinity-option': '{"persistence_timeout": "30"}',
      },
      { backend: 'huawei' },
    ),
    service('huawei'),
    slice('huawei', ['10.0.2.1']),
  ];
  const steps: { label: string; objects: KubeObject[] }[] = [{ label: 'start', objects: base }];
  const next = (label: string, change: (objects: KubeObject[]) => KubeObject[]) =>
    steps.push({ label, objects: change(steps.at(-1)!.objects) });
  const replace = (name: string, kind: string, by: KubeObject) => (objects: KubeObject[]) =>
    objects.map((o) => (o.kind === kind && o.metadata.name === name ? by : o));
  next('an annotation changes', replace('a', 'Ingress', ingress('a', sticky('A2'))));
  next('endpoints change', replace('web-abc', 'EndpointSlice', slice('web', ['10.0.0.3'])));
  next(
    'the Service behind a Huawei Ingress changes',
    replace(
      'huawei',
      'Service',
      service('huawei', { 'kubernetes.io/elb.lb-algorithm': 'SOURCE_IP' }),
    ),
  );
  next('a Service goes', (objects) => objects.filter((o) => o.metadata.name !== 'api'));
  next('it comes back with another setting', (objects) => [
    ...objects,
    service('api', { 'kubernetes.io/elb.session-affinity-mode': 'HTTP_COOKIE' }),
  ]);
  next(
    'a configuration is refused',
    replace(
      'a',
      'Ingress',
      ingress('a', {
        ...sticky('A2'),
        'nginx.ingress.kubernetes.io/session-cookie-samesite': 'Sometimes',
      }),
    ),
  );
  next('a canary arrives', (objects) => [
    ...objects,
    ingress(
      'a-canary',
      {
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '10',
      },
      { host: 'a.example', backend: 'api' },
    ),
  ]);
  // A relist: every object again, new instances with the same resourceVersions.
  next('everything is listed again', (objects) => objects.map((o) => structuredClone(o)));
  next('the order changes', (objects) => [...objects].reverse());
  next(
    'the class goes to another controller',
    replace('tether', 'IngressClass', {
      ...stored(ingressClass),
      spec: { controller: 'example.com/other' },
    }),
  );
  return steps;
}

function comparable(r: ReconcileResult) {
  return {
    table: r.table,
    entries: r.entries,
    diagnostics: [...r.diagnostics].map((d) => JSON.stringify(d)).sort(),
    served: r.served,
    // A lookup by set id: the order of its entries means nothing.
    lastGood: [...r.lastGood].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}

describe('reconcile with a cache', () => {
  it('gives the same result as without one, step after step', () => {
    const state = new ReconcileState();
    let cached: ReconcileResult | undefined;
    let fresh: ReconcileResult | undefined;
    history().forEach(({ label, objects }, i) => {
      const snapshot = { generation: i + 1, objects };
      cached = reconcile(snapshot, cached, { ...serving, state });
      fresh = reconcile(snapshot, fresh, serving);
      expect({ label, ...comparable(cached) }).toEqual({ label, ...comparable(fresh) });
    });
  });

  it('parses and resolves again only what a change touches', () => {
    const state = new ReconcileState();
    const cache = state.cache;
    const steps = history();
    let result = reconcile({ generation: 1, objects: steps[0]!.objects }, undefined, {
      ...serving,
      state,
    });
    const counts = (label: string) => {
      const step = steps.find((s) => s.label === label)!;
      const before = { misses: cache.misses, recomputed: cache.recomputed };
      result = reconcile({ generation: 2, objects: step.objects }, result, { ...serving, state });
      return {
        misses: cache.misses - before.misses,
        recomputed: cache.recomputed - before.recomputed,
      };
    };
    // The changed Ingress is parsed again; only its own steps are recomputed.
    const annotation = counts('an annotation changes');
    expect(annotation.misses).toBe(1);
    expect(annotation.recomputed).toBeLessThanOrEqual(4);
    // A relist of unchanged objects parses nothing again.
    counts('endpoints change');
    // The Ingress that read the Service is parsed again with it.
    expect(counts('the Service behind a Huawei Ingress changes').misses).toBe(2);
    counts('a Service goes');
    counts('it comes back with another setting');
    counts('a configuration is refused');
    counts('a canary arrives');
    expect(counts('everything is listed again').misses).toBe(0);
  });

  it('updates the previous result to the same one as a full rebuild, or rebuilds', () => {
    const other = (name: string, annotations: Record<string, string>) => {
      const o = ingress(name, annotations, { host: `${name}.example` });
      return stored({ ...o, spec: { ...(o.spec as object), ingressClassName: 'other' } });
    };
    const steps: { label: string; objects: KubeObject[]; patched: boolean }[] = [
      {
        label: 'start',
        patched: false,
        objects: [
          ingressClass,
          service('web'),
          slice('web', ['10.0.0.1', '10.0.0.2']),
          service('api'),
          slice('api', ['10.0.1.1']),
          ingress('a', sticky('A')),
          ingress('b', sticky('B'), { backend: 'api' }),
          // Claims a's host and path but is younger: never served.
          ingress('c', sticky('C'), { host: 'a.example', created: '2026-02-01T00:00:00Z' }),
          other('x', sticky('X')),
        ],
      },
    ];
    const next = (
      label: string,
      patched: boolean,
      change: (objects: KubeObject[]) => KubeObject[],
    ) => steps.push({ label, patched, objects: change(steps.at(-1)!.objects) });
    const replace =
      (...pairs: [name: string, kind: string, by: KubeObject][]) =>
      (objects: KubeObject[]) =>
        objects.map(
          (o) =>
            pairs.find(([name, kind]) => o.kind === kind && o.metadata.name === name)?.[2] ?? o,
        );
    next('an annotation changes', true, replace(['a', 'Ingress', ingress('a', sticky('A2'))]));
    next(
      'the Ingress that loses a contested path changes',
      true,
      replace([
        'c',
        'Ingress',
        ingress('c', sticky('C2'), { host: 'a.example', created: '2026-02-01T00:00:00Z' }),
      ]),
    );
    next(
      'endpoints behind two Ingresses change',
      true,
      replace(['web-abc', 'EndpointSlice', slice('web', ['10.0.0.3'])]),
    );
    next(
      'an Ingress is refused',
      true,
      replace([
        'a',
        'Ingress',
        ingress('a', {
          ...sticky('A3'),
          'nginx.ingress.kubernetes.io/session-cookie-samesite': 'Sometimes',
        }),
      ]),
    );
    next('it is fixed', true, replace(['a', 'Ingress', ingress('a', sticky('A4'))]));
    next(
      'an Ingress and the endpoints of another change together',
      true,
      replace(
        ['b', 'Ingress', ingress('b', sticky('B2'), { backend: 'api' })],
        ['api-abc', 'EndpointSlice', slice('api', ['10.0.1.2'], false)],
      ),
    );
    next('an Ingress of another class changes', true, replace(['x', 'Ingress', other('x', {})]));
    next('nothing changes', true, (objects) => objects);
    next(
      'an Ingress moves to another host',
      false,
      replace(['a', 'Ingress', ingress('a', sticky('A4'), { host: 'z.example' })]),
    );
    next('an Ingress changes class', false, replace(['b', 'Ingress', other('b', sticky('B2'))]));
    next('and comes back', false, replace(['b', 'Ingress', ingress('b', sticky('B3'))]));
    next('an Ingress goes', true, (objects) => objects.filter((o) => o.metadata.name !== 'c'));
    next('a younger Ingress arrives on a new host', true, (objects) => [
      ...objects,
      ingress('d', sticky('D'), { host: 'd.example', created: '2026-03-01T00:00:00Z' }),
    ]);
    next('another one arrives in the middle of the list, on a host in use', true, (objects) => {
      const out = [...objects];
      const at = out.findIndex((o) => o.metadata.name === 'a');
      out.splice(
        at + 1,
        0,
        ingress('e', sticky('E'), {
          host: 'd.example',
          path: '/e',
          created: '2026-03-02T00:00:00Z',
        }),
      );
      return out;
    });
    next('an EndpointSlice arrives for it', true, (objects) => [
      ...objects,
      {
        ...slice('web', ['10.0.0.9']),
        metadata: { ...slice('web', []).metadata, name: 'web-def' },
      },
    ]);
    next('the first Ingress of the host goes while the second stays', false, (objects) =>
      objects.filter((o) => o.metadata.name !== 'd'),
    );
    next('the last one on its host goes', true, (objects) =>
      objects.filter((o) => o.metadata.name !== 'e'),
    );
    next('the second EndpointSlice goes', true, (objects) =>
      objects.filter((o) => o.metadata.name !== 'web-def'),
    );
    next('an older Ingress arrives', false, (objects) => [
      ...objects,
      ingress('f', sticky('F'), { host: 'f.example', created: '2025-01-01T00:00:00Z' }),
    ]);
    next('an Ingress of another class arrives', true, (objects) => [...objects, other('y', {})]);
    next('an EndpointSlice goes', true, (objects) =>
      objects.filter((o) => o.metadata.name !== 'api-abc'),
    );
    next('two Ingresses swap places', false, (objects) => {
      const out = [...objects];
      const a = out.findIndex((o) => o.metadata.name === 'a');
      const b = out.findIndex((o) => o.metadata.name === 'b');
      [out[a], out[b]] = [out[b]!, out[a]!];
      return out;
    });
    next('a Service changes', true, replace(['web', 'Service', service('web')]));
    next(
      'a Service starts overriding the Ingresses in front',
      false,
      replace([
        'web',
        'Service',
        service('web', { 'kubernetes.io/elb.lb-algorithm': 'SOURCE_IP' }),
      ]),
    );
    next(
      'and then overrides them otherwise',
      true,
      replace([
        'web',
        'Service',
        service('web', { 'kubernetes.io/elb.lb-algorithm': 'LEAST_CONNECTIONS' }),
      ]),
    );
    next('everything is listed again', false, (objects) => objects.map((o) => structuredClone(o)));
    next(
      'an annotation changes after that',
      true,
      replace(['b', 'Ingress', ingress('b', sticky('B4'))]),
    );
    next('an Ingress loses its annotations', false, replace(['b', 'Ingress', ingress('b', {})]));
    // Certificates: Secrets always rebuild; Ingress changes that touch spec.tls rebuild too,
    // others keep the certificates and their diagnostics in place.
    const tlsA = [{ hosts: ['a.example'], secretName: 'a-tls' }];
    next('a TLS Secret arrives', false, (objects) => [...objects, tlsSecret('a-tls', 'a.example')]);
    next(
      'an Ingress names it in spec.tls',
      false,
      replace(['a', 'Ingress', ingress('a', sticky('A5'), { tls: tlsA })]),
    );
    next(
      'an annotation of that Ingress changes',
      true,
      replace(['a', 'Ingress', ingress('a', sticky('A6'), { tls: tlsA })]),
    );
    next('a younger Ingress names a missing Secret for the same host', false, (objects) => [
      ...objects,
      ingress('g', sticky('G'), {
        host: 'g.example',
        created: '2026-04-01T00:00:00Z',
        tls: [{ hosts: ['a.example', 'g.example'], secretName: 'g-tls' }],
      }),
    ]);
    next('the missing Secret arrives: the hosts are contested', false, (objects) => [
      ...objects,
      tlsSecret('g-tls', 'g.example'),
    ]);
    next(
      'an annotation of the younger Ingress changes',
      true,
      replace([
        'g',
        'Ingress',
        ingress('g', sticky('G2'), {
          host: 'g.example',
          created: '2026-04-01T00:00:00Z',
          tls: [{ hosts: ['a.example', 'g.example'], secretName: 'g-tls' }],
        }),
      ]),
    );
    next(
      'endpoints change under them',
      true,
      replace(['web-abc', 'EndpointSlice', slice('web', ['10.0.0.5'])]),
    );
    next(
      'the older Ingress drops spec.tls',
      false,
      replace(['a', 'Ingress', ingress('a', sticky('A6'))]),
    );
    next(
      'a Secret is renewed',
      false,
      replace(['g-tls', 'Secret', tlsSecret('g-tls', 'g2.example')]),
    );
    next('an Ingress with spec.tls goes', false, (objects) =>
      objects.filter((o) => o.metadata.name !== 'g'),
    );

    const state = new ReconcileState();
    const cache = state.cache;
    let cached: ReconcileResult | undefined;
    let fresh: ReconcileResult | undefined;
    steps.forEach(({ label, objects, patched }, i) => {
      const snapshot = { generation: i + 1, objects };
      const before = cache.patched;
      const previousTable = cached?.table;
      cached = reconcile(snapshot, cached, { ...serving, state });
      fresh = reconcile(snapshot, fresh, serving);
      expect({ label, ...comparable(cached) }).toEqual({ label, ...comparable(fresh) });
      expect({ label, patched: cache.patched > before }).toEqual({ label, patched });
      // Certificates kept in place are the very objects of the table before.
      if (patched && previousTable)
        expect({ label, kept: cached.table.certificates === previousTable.certificates }).toEqual({
          label,
          kept: true,
        });
      // An update keeps the backend sets of the entry points it did not touch.
      if (patched && previousTable && label === 'an annotation changes') {
        const setOf = (table: typeof previousTable, host: string) =>
          table.listeners[0]?.hosts.find((h) => h.host === host)?.paths[0]?.backendSet;
        expect(setOf(cached.table, 'b.example')).toBe(setOf(previousTable, 'b.example'));
        expect(setOf(cached.table, 'a.example')).not.toBe(setOf(previousTable, 'a.example'));
      }
    });
  });

  it('matches a full rebuild through random additions, removals and changes', () => {
    // A small linear congruential generator: the same sequence on every run.
    let seed = 12345;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const hosts = ['p.example', 'q.example', 'r.example'];
    const paths = ['/', '/x', '/y'];
    let made = 0;
    const fresh = () => {
      made++;
      const month = String(1 + random(9)).padStart(2, '0');
      const huawei = {
        'kubernetes.io/elb.session-affinity-mode': 'HTTP_COOKIE',
        'kubernetes.io/elb.session-affinity-option': `{"persistence_timeout": "${1 + random(60)}"}`,
      };
      const kind = random(4);
      return ingress(`i${made}`, kind === 0 ? {} : kind === 1 ? huawei : sticky(`C${made}`), {
        host: hosts[random(hosts.length)]!,
        path: paths[random(paths.length)]!,
        backend: random(2) === 0 ? 'web' : 'api',
        created: `2026-${month}-01T00:00:00Z`,
      });
    };
    let objects: KubeObject[] = [
      ingressClass,
      service('web'),
      slice('web', ['10.0.0.1']),
      service('api'),
      slice('api', ['10.0.1.1']),
      fresh(),
      fresh(),
    ];
    const state = new ReconcileState();
    const cache = state.cache;
    let cached: ReconcileResult | undefined;
    let rebuilt: ReconcileResult | undefined;
    for (let step = 0; step < 400; step++) {
      const ingresses = objects.filter((o) => o.kind === 'Ingress');
      const pick = ingresses[random(ingresses.length)];
      const operation = random(5);
      if (operation === 0 || !pick) {
        const out = [...objects];
        out.splice(random(out.length + 1), 0, fresh());
        objects = out;
      } else if (operation === 1) objects = objects.filter((o) => o !== pick);
      else if (operation === 2) {
        const annotations = {
          ...pick.metadata.annotations,
          'nginx.ingress.kubernetes.io/session-cookie-name': `N${step}`,
        };
        const changed = stored({ ...pick, metadata: { ...pick.metadata, annotations } });
        objects = objects.map((o) => (o === pick ? changed : o));
      } else if (operation === 3) {
        const name = `web-extra-${random(2)}`;
        const there = objects.some((o) => o.metadata.name === name);
        objects = there
          ? objects.filter((o) => o.metadata.name !== name)
          : [
              ...objects,
              {
                ...slice('web', [`10.0.0.${2 + random(50)}`]),
                metadata: { ...slice('web', []).metadata, name },
              },
            ];
      } else if (random(2) === 0) {
        const settings: Record<string, string>[] = [
          {},
          { 'kubernetes.io/elb.lb-algorithm': 'SOURCE_IP' },
          { 'kubernetes.io/elb.lb-algorithm': 'LEAST_CONNECTIONS' },
          { 'kubernetes.io/elb.session-affinity-mode': 'SOURCE_IP' },
          { 'example.com/revision': String(step) },
        ];
        const name = random(2) === 0 ? 'web' : 'api';
        const changed = service(name, settings[random(settings.length)]);
        objects = objects.map((o) =>
          o.kind === 'Service' && o.metadata.name === name ? changed : o,
        );
      } else {
        objects = objects.map((o) =>
          o.kind === 'EndpointSlice' && o.metadata.name === 'api-abc'
            ? slice('api', [`10.0.1.${1 + random(50)}`])
            : o,
        );
      }
      const snapshot = { generation: step + 1, objects };
      cached = reconcile(snapshot, cached, { ...serving, state });
      rebuilt = reconcile(snapshot, rebuilt, serving);
      expect({ step, ...comparable(cached) }).toEqual({ step, ...comparable(rebuilt) });
    }
    // Most steps were updates in place (the others: contests, the first route of a host
    // going, older arrivals).
    expect(cache.patched).toBeGreaterThan(150);
  });

  it('sorts incrementally to the same order as a full sort', () => {
    const state = new ReconcileState();
    const cache = state.cache;
    const compare = (a: { n: number }, b: { n: number }) => a.n - b.n;
    let items = Array.from({ length: 300 }, (_, i) => ({ n: (i * 7919) % 1000 }));
    for (let round = 0; round < 20; round++) {
      cache.beginPass([]);
      expect(cache.sorted('x', items, compare)).toEqual([...items].sort(compare));
      items = [...items.slice(round + 1), { n: round * 13 }, { n: 999 - round }];
    }
  });
});
