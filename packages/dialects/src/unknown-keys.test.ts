import { describe, expect, it } from '@jest/globals';
import { analyze, type KubeObject } from './index';

function ingress(annotations: Record<string, string>): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec: {
      rules: [
        {
          host: 'a.example',
          http: {
            paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }],
          },
        },
      ],
    },
  };
}

describe('annotations under a dialect prefix that Tether does not read', () => {
  it('notes a key the vendor defines and warns about one it does not (a misspelling)', () => {
    const { diagnostics } = analyze([
      ingress({
        'nginx.ingress.kubernetes.io/rewrite-target': '/$2',
        'nginx.ingress.kubernetes.io/sesion-cookie-name': 'sid',
      }),
    ]);
    expect(diagnostics.map((d) => [d.severity, d.reason, d.sources[0]?.field])).toEqual([
      ['info', 'NotReproduced', 'nginx.ingress.kubernetes.io/rewrite-target'],
      ['warning', 'UnknownAnnotation', 'nginx.ingress.kubernetes.io/sesion-cookie-name'],
    ]);
  });
});
