import { describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { migrate } from './plan';

const nginxIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: default
  annotations:
    nginx.ingress.kubernetes.io/affinity: "cookie"
    nginx.ingress.kubernetes.io/session-cookie-name: "shop-sid"
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: shop, port: { number: 80 } } }
`;

const route = `apiVersion: route.openshift.io/v1
kind: Route
metadata:
  name: web
  namespace: default
  annotations:
    router.openshift.io/cookie_name: "web-sticky"
spec:
  host: web.example.com
  to: { kind: Service, name: web }
  port: { targetPort: 8080 }
`;

function annotationsAfter(
  text: string,
  to: 'gateway-api' | 'ingress-nginx' | 'oci-native-ingress',
  options: { adoptCookies?: boolean; adoptCookiesUntil?: string } = {},
): Record<string, string>[] {
  const result = migrate([{ file: 'in.yaml', text }], { to, ...options });
  return parseAllDocuments(result.texts.get('in.yaml') ?? '').map(
    (d) =>
      (d.toJS() as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations ??
      {},
  );
}

describe('migrate --adopt-cookies', () => {
  it("writes the adoption of ingress-nginx's cookie, under its name, onto the converted route", () => {
    const result = migrate([{ file: 'in.yaml', text: nginxIngress }], {
      to: 'gateway-api',
      adoptCookies: true,
    });
    const after = annotationsAfter(nginxIngress, 'gateway-api', { adoptCookies: true });
    expect(after.some((a) => a['tether.dev/adopt-cookies'] === 'ingress-nginx=shop-sid')).toBe(
      true,
    );
    expect(result.reports[0]?.notes).toContain(
      "tether.dev/adopt-cookies: clients that present ingress-nginx's cookie shop-sid keep their endpoint and move to Tether's cookie, with no end date (the previous cookie is a session cookie, kept until the browser closes: set tether.dev/adopt-cookies-until to that long after the switch)",
    );
    // The adoption is a note of its own, not a changed setting.
    expect(result.reports[0]?.lost.map((l) => l.field)).not.toContain('adoptCookies.sources');
  });

  it("writes the router's format and the end date for an OpenShift Route", () => {
    const after = annotationsAfter(route, 'ingress-nginx', {
      adoptCookies: true,
      adoptCookiesUntil: '2027-01-31T00:00:00Z',
    });
    expect(after[0]).toMatchObject({
      'tether.dev/adopt-cookies': 'openshift=web-sticky',
      'tether.dev/adopt-cookies-until': '2027-01-31T00:00:00Z',
    });
  });

  it('writes nothing without the option, or where the source cookie cannot be adopted', () => {
    expect(
      annotationsAfter(nginxIngress, 'gateway-api').some((a) => 'tether.dev/adopt-cookies' in a),
    ).toBe(false);
    const oci = nginxIngress
      .replace(
        'nginx.ingress.kubernetes.io/affinity: "cookie"',
        'oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: \'{"cookieName": "X"}\'',
      )
      .replace('    nginx.ingress.kubernetes.io/session-cookie-name: "shop-sid"\n', '');
    expect(
      annotationsAfter(oci, 'ingress-nginx', { adoptCookies: true }).some(
        (a) => 'tether.dev/adopt-cookies' in a,
      ),
    ).toBe(false);
  });
});
