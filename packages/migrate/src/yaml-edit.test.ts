import { describe, expect, it } from '@jest/globals';
import { rewriteText, type DocumentChange } from './yaml-edit';

const file = `# Shop ingress, owned by team cart
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web # the storefront
  annotations:
    nginx.ingress.kubernetes.io/affinity: "cookie"   # sticky
    other.example/keep: 'yes'
    nginx.ingress.kubernetes.io/session-cookie-name: shop
spec:
  rules: [] # filled by CI
---
# second document stays byte for byte
apiVersion: v1
kind: Service
metadata: {name: web}
`;

describe('rewriteText', () => {
  it('returns the text unchanged when nothing changes', () => {
    expect(rewriteText(file, new Map())).toBe(file);
  });

  it('swaps annotations and keeps comments, quoting, order and the other documents', () => {
    const change: DocumentChange = {
      type: 'edit',
      edits: {
        removeAnnotations: [
          'nginx.ingress.kubernetes.io/affinity',
          'nginx.ingress.kubernetes.io/session-cookie-name',
        ],
        setAnnotations: {
          'oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config':
            '{"cookieName":"shop"}',
          'x.example/count': '3600',
        },
        spec: [],
      },
    };
    const out = rewriteText(file, new Map([[0, change]]));
    expect(out).toBe(`# Shop ingress, owned by team cart
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web # the storefront
  annotations:
    other.example/keep: 'yes'
    oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: '{"cookieName":"shop"}'
    x.example/count: "3600"
spec:
  rules: [] # filled by CI
---
# second document stays byte for byte
apiVersion: v1
kind: Service
metadata: {name: web}
`);
  });

  it('drops an annotations map that becomes empty and sets spec fields', () => {
    const text =
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  annotations:\n    k/a: "1"\nspec:\n  type: LoadBalancer\n';
    const out = rewriteText(
      text,
      new Map([
        [
          0,
          {
            type: 'edit',
            edits: {
              removeAnnotations: ['k/a'],
              setAnnotations: {},
              spec: [{ path: ['spec', 'sessionAffinity'], value: 'ClientIP' }],
            },
          },
        ],
      ]),
    );
    expect(out).toBe(
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  type: LoadBalancer\n  sessionAffinity: ClientIP\n',
    );
  });

  it('replaces a document with new objects and can append them after the old one', () => {
    const text = 'a: 1\n---\nb: 2\n';
    const objects = [{ apiVersion: 'v1', kind: 'X', metadata: { name: 'n' } }];
    expect(rewriteText(text, new Map([[0, { type: 'replace', objects }]]))).toBe(
      'apiVersion: v1\nkind: X\nmetadata:\n  name: n\n---\nb: 2\n',
    );
    expect(rewriteText(text, new Map([[1, { type: 'append', objects }]]))).toBe(
      'a: 1\n---\nb: 2\n---\napiVersion: v1\nkind: X\nmetadata:\n  name: n\n',
    );
  });
});
