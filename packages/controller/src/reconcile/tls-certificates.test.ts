import { beforeAll, describe, expect, it } from '@jest/globals';
import type { KubeObject } from '@tether/dialects';
import type { Diagnostic } from '@tether/model';
import { selfSignedCertificate, type PemPair } from '@tether/testkit';
import { ParseCache } from './parse-cache';
import { ReconcileState } from './state';
import { reconcile } from './reconcile';
import { CONTROLLER_NAME } from '../serving';
import { tlsCertificates } from './tls-certificates';

let a: PemPair;
let b: PemPair;
beforeAll(() => {
  a = selfSignedCertificate('a.test');
  b = selfSignedCertificate('b.test');
});

const b64 = (text: string) => Buffer.from(text).toString('base64');

function secret(
  name: string,
  pem: PemPair | Record<string, string>,
  o: { namespace?: string; version?: string } = {},
): KubeObject {
  const data =
    'cert' in pem && 'key' in pem ? { 'tls.crt': b64(pem.cert), 'tls.key': b64(pem.key) } : pem;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: {
      name,
      namespace: o.namespace ?? 'shop',
      ...(o.version ? { resourceVersion: o.version } : {}),
    },
    data,
  };
}

function ingress(
  name: string,
  tls: unknown,
  o: { created?: string; namespace?: string; host?: string } = {},
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      namespace: o.namespace ?? 'shop',
      creationTimestamp: o.created ?? '2026-01-01T00:00:00Z',
    },
    spec: {
      ingressClassName: 'tether',
      tls,
      rules: [
        {
          host: o.host ?? 'www.example.com',
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
  };
}

/** Reason and sources of each diagnostic, as `Kind/name field`. */
function summary(diagnostics: readonly Diagnostic[]): [string, string[]][] {
  return diagnostics.map((d) => [d.reason, d.sources.map((s) => `${s.kind}/${s.name} ${s.field}`)]);
}

describe('tlsCertificates', () => {
  it('serves each entry’s hosts, exact and wildcard, with its Secret decoded', () => {
    const out = tlsCertificates(
      [
        ingress('shop', [
          { hosts: ['Shop.Example.com', '*.apps.example.com'], secretName: 'a' },
          { hosts: ['b.example.com'], secretName: 'b' },
        ]),
        secret('a', a),
        secret('b', b),
      ],
      new ParseCache(),
    );
    expect(out.diagnostics).toEqual([]);
    expect(out.certificates).toEqual([
      { hosts: ['shop.example.com', '*.apps.example.com'], ...a },
      { hosts: ['b.example.com'], ...b },
    ]);
  });

  it('ignores entries without hosts or Secret, and Secrets of other namespaces', () => {
    const out = tlsCertificates(
      [
        ingress('shop', [
          { secretName: 'a' },
          { hosts: [], secretName: 'a' },
          { hosts: ['x.example.com'] },
          { hosts: ['y.example.com'], secretName: '' },
          { hosts: ['z.example.com'], secretName: 'a' },
        ]),
        secret('a', a, { namespace: 'elsewhere' }),
      ],
      new ParseCache(),
    );
    expect(out.certificates).toEqual([]);
    expect(summary(out.diagnostics)).toEqual([
      ['TlsSecretNotFound', ['Ingress/shop spec.tls[4].secretName']],
    ]);
    expect(out.diagnostics[0]?.message).toContain('z.example.com');
  });

  it('gives a host claimed twice to the older Ingress, and names both', () => {
    const objects = [
      ingress('young', [{ hosts: ['shop.example.com', 'b.example.com'], secretName: 'b' }], {
        created: '2026-02-01T00:00:00Z',
      }),
      ingress('old', [{ hosts: ['shop.example.com'], secretName: 'a' }]),
      // The same Secret for the same host: no conflict.
      ingress('twin', [{ hosts: ['shop.example.com'], secretName: 'a' }]),
      secret('a', a),
      secret('b', b),
    ];
    const out = tlsCertificates(objects, new ParseCache());
    expect(out.certificates).toEqual([
      { hosts: ['shop.example.com'], ...a },
      { hosts: ['b.example.com'], ...b },
    ]);
    expect(summary(out.diagnostics)).toEqual([
      [
        'ConflictingTlsSecret',
        ['Ingress/young spec.tls[0].secretName', 'Ingress/old spec.tls[0].secretName'],
      ],
    ]);
  });

  it('breaks a tie of age by namespace and name', () => {
    const out = tlsCertificates(
      [
        ingress('z', [{ hosts: ['shop.example.com'], secretName: 'b' }]),
        ingress('y', [{ hosts: ['shop.example.com'], secretName: 'a' }]),
        secret('a', a),
        secret('b', b),
      ],
      new ParseCache(),
    );
    expect(out.certificates).toEqual([{ hosts: ['shop.example.com'], ...a }]);
  });

  it('reports a Secret that cannot be loaded on the Ingress and the Secret', () => {
    const cases: [string, Record<string, string>, string][] = [
      ['no key', { 'tls.crt': b64(a.cert) }, 'data["tls.key"]'],
      ['no certificate', { 'tls.key': b64(a.key) }, 'data["tls.crt"]'],
      ['not base64', { 'tls.crt': '%%%', 'tls.key': b64(a.key) }, 'data["tls.crt"]'],
      ['empty', { 'tls.crt': '', 'tls.key': b64(a.key) }, 'data["tls.crt"]'],
      ['not PEM', { 'tls.crt': b64('hello'), 'tls.key': b64(a.key) }, 'data'],
      ['key of another certificate', { 'tls.crt': b64(a.cert), 'tls.key': b64(b.key) }, 'data'],
    ];
    for (const [label, data, field] of cases) {
      const out = tlsCertificates(
        [
          ingress('shop', [{ hosts: ['shop.example.com'], secretName: 'bad' }]),
          secret('bad', data),
        ],
        new ParseCache(),
      );
      expect({
        label,
        certificates: out.certificates,
        diagnostics: summary(out.diagnostics),
      }).toEqual({
        label,
        certificates: [],
        diagnostics: [
          ['InvalidTlsSecret', ['Ingress/shop spec.tls[0].secretName', `Secret/bad ${field}`]],
        ],
      });
    }
  });

  it('lets a younger valid Secret serve a host whose older Secret is broken', () => {
    const out = tlsCertificates(
      [
        ingress('old', [{ hosts: ['shop.example.com'], secretName: 'bad' }]),
        ingress('young', [{ hosts: ['shop.example.com'], secretName: 'a' }], {
          created: '2026-03-01T00:00:00Z',
        }),
        secret('bad', { 'tls.crt': b64(a.cert) }),
        secret('a', a),
      ],
      new ParseCache(),
    );
    expect(out.certificates).toEqual([{ hosts: ['shop.example.com'], ...a }]);
    expect(summary(out.diagnostics).map(([reason]) => reason)).toEqual(['InvalidTlsSecret']);
  });

  it('reads stringData as a manifest may hold it', () => {
    const plain: KubeObject = {
      ...secret('a', {}),
      stringData: { 'tls.crt': a.cert, 'tls.key': a.key },
    };
    const out = tlsCertificates(
      [ingress('shop', [{ hosts: ['shop.example.com'], secretName: 'a' }]), plain],
      new ParseCache(),
    );
    expect(out.certificates).toEqual([{ hosts: ['shop.example.com'], ...a }]);
  });

  it('survives hostile spec.tls values', () => {
    const hostile: unknown[] = [
      'text',
      7,
      null,
      [null, 'x', 7, { hosts: 'a.example.com', secretName: 'a' }],
      [
        {
          hosts: [7, '', ' ', 'a..b', '*', 'x\r\ny', 'é.example', 'a'.repeat(300)],
          secretName: 'a',
        },
      ],
      [{ hosts: ['ok.example.com'], secretName: { name: 'a' } }],
    ];
    for (const tls of hostile) {
      const out = tlsCertificates([ingress('shop', tls), secret('a', a)], new ParseCache());
      expect(out.certificates).toEqual([]);
      for (const [reason] of summary(out.diagnostics)) expect(reason).toBe('InvalidAnnotation');
    }
  });

  it('hands out the same objects while the Secret version and the hosts stay', () => {
    const state = new ReconcileState();
    const cache = state.cache;
    const tls = [{ hosts: ['shop.example.com'], secretName: 'a' }];
    const first = tlsCertificates([ingress('shop', tls), secret('a', a, { version: '1' })], cache);
    // Listed again: new objects, same versions.
    const again = tlsCertificates([ingress('shop', tls), secret('a', a, { version: '1' })], cache);
    expect(again.certificates).toBe(first.certificates);
    const renewed = tlsCertificates(
      [ingress('shop', tls), secret('a', b, { version: '2' })],
      cache,
    );
    expect(renewed.certificates).not.toBe(first.certificates);
    expect(renewed.certificates).toEqual([{ hosts: ['shop.example.com'], ...b }]);
    const moreHosts = tlsCertificates(
      [
        ingress('shop', [{ hosts: ['shop.example.com', 'www.example.com'], secretName: 'a' }]),
        secret('a', b, { version: '2' }),
      ],
      cache,
    );
    expect(moreHosts.certificates[0]).not.toBe(renewed.certificates[0]);
    expect(moreHosts.certificates[0]?.cert).toBe(renewed.certificates[0]?.cert);
  });
});

describe('reconcile with TLS Secrets', () => {
  const serving = { ingressClass: 'tether', controllerName: CONTROLLER_NAME, serveAll: false };
  const objects = (pem: { cert: string; key: string }, version: string): KubeObject[] => [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    },
    ingress('shop', [{ hosts: ['www.example.com'], secretName: 'a' }]),
    secret('a', pem, { version }),
  ];

  it('puts the certificates in the table, follows a Secret change and reuses them otherwise', () => {
    const state = new ReconcileState();
    const first = reconcile({ generation: 1, objects: objects(a, '1') }, undefined, {
      ...serving,
      state,
    });
    expect(first.table.certificates).toEqual([{ hosts: ['www.example.com'], ...a }]);
    const same = reconcile({ generation: 2, objects: objects(a, '1') }, first, {
      ...serving,
      state,
    });
    expect(same.table.certificates).toBe(first.table.certificates);
    const changed = reconcile({ generation: 3, objects: objects(b, '2') }, same, {
      ...serving,
      state,
    });
    expect(changed.table.certificates).toEqual([{ hosts: ['www.example.com'], ...b }]);
    const gone = reconcile(
      { generation: 4, objects: objects(b, '2').filter((o) => o.kind !== 'Secret') },
      changed,
      { ...serving, state },
    );
    expect(gone.table.certificates).toBeUndefined();
    expect(gone.diagnostics.map((d) => d.reason)).toContain('TlsSecretNotFound');
  });
});
