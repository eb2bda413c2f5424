import { describe, expect, it } from '@jest/globals';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { migrate } from './plan';

const service = `apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: default
spec:
  ports:
    - name: http
      port: 80
`;

const nginxIngress = `# The shop, sticky since 2019
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: default
  annotations:
    team.example.com/owner: "cart"   # stays
    nginx.ingress.kubernetes.io/affinity: "cookie"
    nginx.ingress.kubernetes.io/affinity-mode: "persistent"
    nginx.ingress.kubernetes.io/session-cookie-name: "shop-sid"
    nginx.ingress.kubernetes.io/session-cookie-max-age: "3600"
    nginx.ingress.kubernetes.io/ssl-redirect: "false"
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: shop
                port:
                  number: 80
`;

const file = (text: string, name = 'shop.yaml') => [{ file: name, text }];

describe('migrate', () => {
  it('leaves a file with nothing to migrate byte for byte and exits 0', () => {
    const text = `${service}---\n# just a comment\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n`;
    const result = migrate(file(text), { to: 'oci-native-ingress' });
    expect(result.texts.get('shop.yaml')).toBe(text);
    expect(result.reports).toEqual([]);
    expect(result.exitCode).toBe(0);
  });

  it('swaps the annotations in place, keeps comments and other keys, and reports what moved', () => {
    const result = migrate(file(`${service}---\n${nginxIngress}`), { to: 'oci-native-ingress' });
    const out = result.texts.get('shop.yaml')!;
    expect(out).toContain('# The shop, sticky since 2019');
    expect(out).toContain('team.example.com/owner: "cart"   # stays');
    // Routing keys of the source stay; its session keys go.
    expect(out).toContain('nginx.ingress.kubernetes.io/ssl-redirect: "false"');
    expect(out).not.toContain('nginx.ingress.kubernetes.io/affinity');
    const ingress = parseAllDocuments(out)[1]!.toJS() as {
      metadata: { annotations: Record<string, string> };
    };
    const config = JSON.parse(
      ingress.metadata.annotations[
        'oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config'
      ]!,
    ) as Record<string, unknown>;
    expect(config).toMatchObject({ cookieName: 'shop-sid', maxAgeInSeconds: 3600 });
    const [report] = result.reports;
    expect(report?.object).toEqual({ kind: 'Ingress', namespace: 'default', name: 'shop' });
    expect(report?.carried.map((c) => c.field)).toEqual(
      expect.arrayContaining(['mode', 'cookie.name', 'cookie.maxAgeSeconds']),
    );
    // OCI cannot say anything of canaries: on this Ingress (no canary) that is moot.
    expect(report?.moot.map((m) => m.field).sort()).toEqual(['canaryBehavior']);
    // What does differ: ingress-nginx serves the host over HTTPS too and marks the cookie
    // Secure there, which OCI cannot do only on HTTPS; and ingress-nginx keeps a refusing
    // endpoint pinned, where OCI moves the client.
    expect(report?.lost.map((l) => l.field).sort()).toEqual(['cookie.secure', 'onFailure']);
    // The target's own account of each difference is still on the report.
    expect(
      report?.diagnostics.filter((d) => d.reason === 'UnsupportedByTarget').length,
    ).toBeGreaterThan(0);
    expect(result.exitCode).toBe(3);
  });

  it.each(['oci-native-ingress', 'gateway-api', 'huawei-cce', 'ingress-nginx'] as const)(
    'states every lost field once when migrating to %s, by the emitter or else by the comparison',
    (to) => {
      const nginx = `${service}---\n${nginxIngress}`;
      // To reach ingress-nginx the settings start from OCI's, written from the nginx ones.
      const input =
        to === 'ingress-nginx'
          ? migrate(file(nginx), { to: 'oci-native-ingress' }).texts.get('shop.yaml')!
          : nginx;
      const result = migrate(file(input), { to });
      const [report] = result.reports;
      const differences = [...(report?.lost ?? []), ...(report?.moot ?? [])];
      expect(differences.length).toBeGreaterThan(0);
      const warnings = (report?.diagnostics ?? []).filter(
        (d) => d.reason === 'UnsupportedByTarget',
      );
      for (const lost of differences) {
        const naming = warnings.filter((d) => d.message.startsWith(`${lost.field} = `));
        expect(naming.map((d) => d.message.endsWith(`in ${to} (${lost.entry})`))).toEqual([
          !report?.covered.has(lost.field),
        ]);
      }
    },
  );

  it('converts an Ingress to an HTTPRoute for Gateway API, and keeps the source with keepSource', () => {
    const replaced = migrate(file(`${service}---\n${nginxIngress}`), { to: 'gateway-api' });
    const docs = parseAllDocuments(replaced.texts.get('shop.yaml')!).map(
      (d) => d.toJS() as { kind: string; spec?: { rules?: { sessionPersistence?: unknown }[] } },
    );
    // The Gateway the route names is written with it: the input has none.
    expect(docs.map((d) => d.kind)).toEqual(['Service', 'HTTPRoute', 'Gateway']);
    expect(docs[1]?.spec?.rules?.[0]?.sessionPersistence).toMatchObject({
      sessionName: 'shop-sid',
    });
    expect(replaced.reports[0]?.action).toBe('converted');
    const kept = migrate(file(`${service}---\n${nginxIngress}`), {
      to: 'gateway-api',
      keepSource: true,
    });
    expect(
      parseAllDocuments(kept.texts.get('shop.yaml')!).map(
        (d) => (d.toJS() as { kind: string }).kind,
      ),
    ).toEqual(['Service', 'Ingress', 'HTTPRoute', 'Gateway']);
  });

  it('writes the newer cookie/header union when asked, and it reads back the same', () => {
    const result = migrate(file(`${service}---\n${nginxIngress}`), {
      to: 'gateway-api',
      sessionShape: 'union',
    });
    const route = parseAllDocuments(result.texts.get('shop.yaml')!)
      .map(
        (d) => d.toJS() as { kind: string; spec?: { rules?: { sessionPersistence?: unknown }[] } },
      )
      .find((d) => d.kind === 'HTTPRoute');
    expect(route?.spec?.rules?.[0]?.sessionPersistence).toEqual({
      type: 'Cookie',
      absoluteTimeout: '1h',
      cookie: { name: 'shop-sid', lifetimeType: 'Permanent' },
    });
    const carried = result.reports[0]?.carried.map((o) => o.field) ?? [];
    expect(carried).toEqual(expect.arrayContaining(['mode', 'cookie.name', 'cookie.lifetime']));
  });

  it('writes the Gateway --gateway names, with HTTPS listeners for the TLS hosts, unless the input has it', () => {
    const tls = nginxIngress.replace(
      'spec:\n  rules:',
      'spec:\n  tls:\n    - hosts: [shop.example.com]\n      secretName: shop-tls\n  rules:',
    );
    const result = migrate(file(tls), { to: 'gateway-api', gateway: 'edge/public' });
    const docs = parseAllDocuments(result.texts.get('shop.yaml')!).map(
      (d) =>
        d.toJS() as {
          kind: string;
          metadata: { name: string; namespace?: string };
          spec: Record<string, unknown>;
        },
    );
    const route = docs.find((d) => d.kind === 'HTTPRoute');
    expect(route?.spec.parentRefs).toEqual([{ name: 'public', namespace: 'edge' }]);
    const gateway = docs.find((d) => d.kind === 'Gateway');
    expect(gateway?.metadata).toEqual({ name: 'public', namespace: 'edge' });
    expect(gateway?.spec).toEqual({
      gatewayClassName: 'tether',
      listeners: [
        {
          name: 'http',
          protocol: 'HTTP',
          port: 80,
          allowedRoutes: { namespaces: { from: 'All' } },
        },
        {
          name: 'https-0',
          protocol: 'HTTPS',
          port: 443,
          hostname: 'shop.example.com',
          tls: {
            mode: 'Terminate',
            certificateRefs: [{ kind: 'Secret', name: 'shop-tls', namespace: 'default' }],
          },
          allowedRoutes: { namespaces: { from: 'All' } },
        },
      ],
    });
    // The Secret is in another namespace than the Gateway: the report says what grant it needs.
    expect(result.reports[0]?.notes.join('\n')).toMatch(/ReferenceGrant in default/);
    const existing = `apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: public, namespace: edge }\nspec: { gatewayClassName: tether, listeners: [] }\n---\n${tls}`;
    const again = migrate(file(existing), { to: 'gateway-api', gateway: 'edge/public' });
    expect(
      parseAllDocuments(again.texts.get('shop.yaml')!).filter(
        (d) => (d.toJS() as { kind: string }).kind === 'Gateway',
      ),
    ).toHaveLength(1);
  });

  it('passes invalid documents through untouched and exits 1', () => {
    const text = `${nginxIngress}---\nkind: [broken\n`;
    const result = migrate(file(text), { to: 'oci-native-ingress' });
    expect(result.texts.get('shop.yaml')).toContain('kind: [broken\n');
    expect(result.inputDiagnostics.map((d) => d.reason)).toEqual(['InvalidManifest']);
    expect(result.exitCode).toBe(1);
  });

  it('refuses to migrate a configuration that is itself refused', () => {
    const conflicting = nginxIngress.replace(
      '    nginx.ingress.kubernetes.io/ssl-redirect: "false"\n',
      '    oci-native-ingress.oraclecloud.com/session-persistence-config: \'{"cookieName":"JSESSIONID"}\'\n',
    );
    const result = migrate(file(`${service}---\n${conflicting}`), { to: 'gateway-api' });
    expect(result.reports[0]?.action).toBe('refused');
    expect(result.texts.get('shop.yaml')).toBe(`${service}---\n${conflicting}`);
    expect(result.exitCode).toBe(1);
  });

  it('writes the same policy back when migrating to the dialect it came from is a no-op for the others', () => {
    const result = migrate(file(`${service}---\n${nginxIngress}`), { to: 'oci-native-ingress' });
    const back = migrate(file(result.texts.get('shop.yaml')!), { to: 'ingress-nginx' });
    const ingress = parseYaml(back.texts.get('shop.yaml')!.split('---\n')[1]!) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(ingress.metadata.annotations).toMatchObject({
      'nginx.ingress.kubernetes.io/affinity': 'cookie',
      'nginx.ingress.kubernetes.io/session-cookie-name': 'shop-sid',
      'nginx.ingress.kubernetes.io/session-cookie-max-age': '3600',
    });
  });
});

describe('ingress-nginx canaries to Gateway API', () => {
  const ingressFor = (
    name: string,
    svc: string,
    annotations: string,
  ) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  annotations:
${annotations}
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: ${svc}
                port:
                  number: 80
`;
  const services = ['web', 'web-canary']
    .map(
      (n) =>
        `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${n}\n  namespace: default\nspec:\n  ports:\n    - port: 80\n`,
    )
    .join('---\n');
  const primary = ingressFor('web', 'web', '    nginx.ingress.kubernetes.io/affinity: "cookie"');

  type Route = { kind: string; spec?: { rules?: { backendRefs?: unknown[] }[] } };

  /** Migrates the primary and a canary with these annotations; the HTTPRoutes written. */
  function withCanary(canaryAnnotations: string): { routes: Route[]; notes: string[] } {
    const text = `${services}---\n${primary}---\n${ingressFor('web-canary', 'web-canary', canaryAnnotations)}`;
    const result = migrate(file(text), { to: 'gateway-api' });
    const routes = parseAllDocuments(result.texts.get('shop.yaml')!)
      .map((d) => d.toJS() as Route)
      .filter((d) => d?.kind === 'HTTPRoute');
    return { routes, notes: result.reports.flatMap((r) => r.notes) };
  }

  it('splits the primary rule by weight and writes no route that sends everything to the canary', () => {
    const { routes } = withCanary(
      '    nginx.ingress.kubernetes.io/canary: "true"\n    nginx.ingress.kubernetes.io/canary-weight: "10"',
    );
    expect(routes).toHaveLength(1);
    expect(routes[0]?.spec?.rules?.[0]?.backendRefs).toEqual([
      { name: 'web', port: 80, weight: 90 },
      { name: 'web-canary', port: 80, weight: 10 },
    ]);
  });

  it('caps a weight above the total and reports it', () => {
    const { routes, notes } = withCanary(
      '    nginx.ingress.kubernetes.io/canary: "true"\n    nginx.ingress.kubernetes.io/canary-weight: "150"',
    );
    expect(routes[0]?.spec?.rules?.[0]?.backendRefs).toEqual([
      { name: 'web', port: 80, weight: 0 },
      { name: 'web-canary', port: 80, weight: 100 },
    ]);
    expect(notes.join('\n')).toContain('capped at 100');
  });
});
