import { describe, expect, it } from '@jest/globals';
import { analyze, readManifestText } from '@tether/dialects';
import { migrate } from './index';

const TIMEOUT = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';

// Each dialect as the target of a whole migration: the text it writes, what it reports lost.

describe('oci-native-ingress emit: through tether migrate', () => {
  const NGINX = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
  annotations:
    # sessions for the shop
    nginx.ingress.kubernetes.io/affinity: cookie
    nginx.ingress.kubernetes.io/session-cookie-name: shop-sid
    nginx.ingress.kubernetes.io/session-cookie-samesite: Lax
    example.com/owner: shop
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
`;

  it('rewrites an ingress-nginx Ingress and explains every loss itself', () => {
    const result = migrate([{ file: 'shop.yaml', text: NGINX }], { to: 'oci-native-ingress' });
    const text = result.texts.get('shop.yaml') ?? '';
    expect(text).toContain(
      `oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: '{"cookieName":"shop-sid","isHttpOnly":true}'`,
    );
    expect(text).toContain('oci-native-ingress.oraclecloud.com/policy: ROUND_ROBIN');
    expect(text).toContain('# sessions for the shop');
    expect(text).toContain('example.com/owner: shop');
    expect(text).not.toContain('nginx.ingress.kubernetes.io');
    expect(result.exitCode).toBe(3);
    const [report] = result.reports;
    expect(report?.lost.map((l) => l.field).sort()).toEqual([
      'cookie.sameSite',
      // ingress-nginx serves the host over HTTPS too, with a Secure cookie there; OCI, whose
      // listener for this Ingress is plain HTTP, never marks it Secure.
      'cookie.secure',
      // ingress-nginx keeps a refusing endpoint pinned by default; OCI moves the client.
      'onFailure',
      // ingress-nginx's default affinity-mode is balanced.
      'rebalance',
    ]);
    // No canary serves the path: this changes nothing.
    expect(report?.moot.map((l) => l.field).sort()).toEqual(['canaryBehavior']);
    // Each loss is explained by the emitter, not by the engine's generic fallback.
    const warnings = report?.diagnostics.filter((d) => d.reason === 'UnsupportedByTarget') ?? [];
    expect(warnings).toHaveLength(5);
    expect(warnings.every((d) => !d.message.includes(' in oci-native-ingress ('))).toBe(true);
    expect(warnings.find((d) => d.message.startsWith('cookie.sameSite'))?.sources[0]?.field).toBe(
      'nginx.ingress.kubernetes.io/session-cookie-samesite',
    );
  });
});

describe('kube-service as a migration source and target', () => {
  const huawei = [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    '  name: shop',
    '  namespace: shop',
    '  annotations:',
    '    kubernetes.io/elb.session-affinity-mode: "SOURCE_IP"',
    `    kubernetes.io/elb.session-affinity-option: '{"persistence_timeout": "30"}'`,
    'spec:',
    '  type: LoadBalancer # public',
    '  ports:',
    '    - port: 80',
    '',
  ].join('\n');

  it('writes Huawei SOURCE_IP as ClientIP and reads it back the same after the round trip', () => {
    const there = migrate([{ file: 'a.yaml', text: huawei }], { to: 'kube-service' });
    const text = there.texts.get('a.yaml') ?? '';
    expect(text).toBe(
      [
        'apiVersion: v1',
        'kind: Service',
        'metadata:',
        '  name: shop',
        '  namespace: shop',
        'spec:',
        '  type: LoadBalancer # public',
        '  ports:',
        '    - port: 80',
        '  sessionAffinity: ClientIP',
        '  sessionAffinityConfig:',
        '    clientIP:',
        '      timeoutSeconds: 1800',
        '',
      ].join('\n'),
    );
    // kube-proxy's window is idle-style: that is the one difference, reported with its source.
    expect(there.reports[0]?.lost.map((l) => [l.field, l.after])).toEqual([
      ['idleTimeoutSeconds', 1800],
    ]);
    const back = migrate([{ file: 'a.yaml', text }], { to: 'huawei-cce' });
    expect(back.texts.get('a.yaml')).toContain(
      `kubernetes.io/elb.session-affinity-option: '{"persistence_timeout": "30"}'`,
    );
    expect(back.texts.get('a.yaml')).not.toContain('sessionAffinity');
  });

  it('leaves ClientIP on a ClusterIP Service alone when moving elsewhere', () => {
    const text = [
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: shop, namespace: shop}',
      'spec:',
      '  sessionAffinity: ClientIP',
      '  ports: [{port: 80}]',
      '',
    ].join('\n');
    const result = migrate([{ file: 'b.yaml', text }], { to: 'huawei-cce' });
    expect(result.texts.get('b.yaml')).toBe(text);
    expect(result.reports[0]?.lost).toEqual([]);
  });

  it('removes the fields of a LoadBalancer Service it moves away from', () => {
    const text = [
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: shop, namespace: shop}',
      'spec:',
      '  type: LoadBalancer',
      '  sessionAffinity: ClientIP',
      '  sessionAffinityConfig: {clientIP: {timeoutSeconds: 600}}',
      '  ports: [{port: 80}]',
      '',
    ].join('\n');
    const result = migrate([{ file: 'c.yaml', text }], { to: 'huawei-cce' });
    const out = result.texts.get('c.yaml') ?? '';
    expect(out).not.toContain('sessionAffinity');
    expect(out).toContain(`'{"persistence_timeout": "10"}'`);
    expect(result.reports[0]?.diagnostics.flatMap((d) => d.sources.map((s) => s.field))).toEqual([
      TIMEOUT,
    ]);
  });
});

const OCI_INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
  annotations:
    # the team's note stays
    oci-native-ingress.oraclecloud.com/policy: ROUND_ROBIN
    oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config: '{"cookieName": "Shop", "path": "/", "maxAgeInSeconds": 3600, "isSecure": true, "isHttpOnly": true, "disableFallback": true}'
spec:
  tls:
    - hosts: [shop.example.com]
      secretName: shop-tls
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
`;

describe('emit through tether migrate', () => {
  it('rewrites an OCI Ingress and reports disableFallback against its annotation', () => {
    const result = migrate([{ file: 'shop.yaml', text: OCI_INGRESS }], { to: 'ingress-nginx' });
    const text = result.texts.get('shop.yaml') ?? '';
    expect(text).toContain("# the team's note stays");
    expect(text).not.toContain('oci-native-ingress.oraclecloud.com/');
    for (const line of [
      'nginx.ingress.kubernetes.io/affinity: cookie',
      'nginx.ingress.kubernetes.io/affinity-mode: persistent',
      'nginx.ingress.kubernetes.io/session-cookie-name: Shop',
      'nginx.ingress.kubernetes.io/session-cookie-secure: "true"',
      'nginx.ingress.kubernetes.io/session-cookie-max-age: "3600"',
    ])
      expect(text).toContain(line);
    const [report] = result.reports;
    const lostFields = report?.lost.map((l) => l.field) ?? [];
    expect(lostFields).toContain('onFailure');
    const fallback = report?.diagnostics.filter(
      (d) => d.reason === 'UnsupportedByTarget' && /fail closed/.test(d.message),
    );
    expect(fallback?.[0]?.sources[0]?.field).toBe(
      'oci-native-ingress.oraclecloud.com/lb-cookie-session-persistence-config',
    );
    for (const field of [
      'mode',
      'cookie.name',
      'cookie.secure',
      'cookie.maxAgeSeconds',
      'rebalance',
    ])
      expect(report?.carried.map((c) => c.field)).toContain(field);
    expect(result.exitCode).toBe(3);
  });
});

describe('huawei-cce as a migration target', () => {
  it('rewrites a Service ClientIP into SOURCE_IP in place, keeping the rest of the file', () => {
    const text = [
      '# shop front',
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: shop',
      '  namespace: shop',
      '  annotations:',
      '    team: web # owner',
      'spec:',
      '  type: LoadBalancer',
      '  sessionAffinity: ClientIP',
      '  sessionAffinityConfig:',
      '    clientIP:',
      '      timeoutSeconds: 1800',
      '  ports:',
      '    - port: 80',
      '',
    ].join('\n');
    const result = migrate([{ file: 'svc.yaml', text }], { to: 'huawei-cce' });
    expect(result.texts.get('svc.yaml')).toBe(
      [
        '# shop front',
        'apiVersion: v1',
        'kind: Service',
        'metadata:',
        '  name: shop',
        '  namespace: shop',
        '  annotations:',
        '    team: web # owner',
        '    kubernetes.io/elb.session-affinity-mode: SOURCE_IP',
        `    kubernetes.io/elb.session-affinity-option: '{"persistence_timeout": "30"}'`,
        'spec:',
        '  type: LoadBalancer',
        '  ports:',
        '    - port: 80',
        '',
      ].join('\n'),
    );
    const [report] = result.reports;
    // Only the idle semantics of kube-proxy's window are lost, and said once, with its source.
    expect(report?.lost.map((l) => l.field)).toEqual(['idleTimeoutSeconds']);
    expect(report?.diagnostics.map((d) => d.sources.map((s) => s.field))).toEqual([
      ['spec.sessionAffinityConfig.clientIP.timeoutSeconds'],
    ]);
    expect(result.exitCode).toBe(3);
  });
});

describe('gateway-api: migrating to it', () => {
  const N = 'nginx.ingress.kubernetes.io/';
  const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: shop
  namespace: shop
  annotations:
    ${N}affinity: cookie
    ${N}session-cookie-max-age: "5400"
    ${N}session-cookie-domain: .example.com
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: web
                port:
                  number: 80
          - path: /api
            pathType: Prefix
            backend:
              service:
                name: api
                port:
                  number: 80
`;

  it('writes a session per rule, gives the second Service its own name, and names each loss', () => {
    const result = migrate([{ file: 'shop.yaml', text: ingress }], { to: 'gateway-api' });
    const text = result.texts.get('shop.yaml') ?? '';
    expect(text).toContain(
      [
        '      sessionPersistence:',
        '        sessionName: INGRESSCOOKIE',
        '        absoluteTimeout: 1h30m',
        '        cookieConfig:',
        '          lifetimeType: Permanent',
      ].join('\n'),
    );
    expect(text.match(/sessionName/g)).toHaveLength(1);
    expect(result.exitCode).toBe(3);
    const [report] = result.reports;
    const lost = (field: string) =>
      report?.diagnostics
        .filter((d) => d.message.startsWith(`${field} `))
        .flatMap((d) => d.sources.map((s) => s.field));
    expect(lost('cookie.domain')).toEqual([`${N}session-cookie-domain`]);
    expect(lost('cookie.name')).toEqual([`${N}session-cookie-name`]);
    const after = analyze(result.objects);
    expect(after.entries.every((e) => e.accepted)).toBe(true);
  });
});

describe('gRPC between Ingress and GRPCRoute: through tether migrate', () => {
  const ingress = (
    paths: [string, string][],
    protocol = 'GRPC',
  ) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: rpc
  namespace: shop
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: ${protocol}
spec:
  rules:
    - host: rpc.example.com
      http:
        paths:
${paths
  .map(
    ([path, type]) => `          - path: ${path}
            pathType: ${type}
            backend: { service: { name: rpc, port: { number: 50051 } } }`,
  )
  .join('\n')}
`;

  it('writes a GRPCRoute whose method matches stand for the gRPC paths', () => {
    const result = migrate(
      [
        {
          file: 'rpc.yaml',
          text: ingress([
            ['/shop.Cart/Add', 'Exact'],
            ['/shop.Cart', 'Prefix'],
            ['/', 'Prefix'],
          ]),
        },
      ],
      { to: 'gateway-api' },
    );
    const text = result.texts.get('rpc.yaml') ?? '';
    expect(text).toContain('kind: GRPCRoute');
    expect(text).not.toContain('kind: HTTPRoute');
    const objects = readManifestText(text, 'rpc.yaml').objects.map((l) => l.object);
    const after = analyze(objects).entries.filter((e) => e.entry.kind === 'GRPCRoute');
    expect(after.map((e) => [e.entry.path, e.entry.pathType, e.route?.backendProtocol])).toEqual([
      ['/shop.Cart/Add', 'Exact', 'GRPC'],
      ['/shop.Cart', 'Prefix', 'GRPC'],
      ['/', 'Prefix', 'GRPC'],
    ]);
    expect(result.reports[0]?.lost.map((l) => l.field)).not.toContain('route.backendProtocol');
  });

  it('keeps an HTTPRoute, and reports the protocol, where a path names no gRPC method', () => {
    const result = migrate([{ file: 'rpc.yaml', text: ingress([['/api/v1/calls', 'Prefix']]) }], {
      to: 'gateway-api',
    });
    expect(result.texts.get('rpc.yaml')).toContain('kind: HTTPRoute');
    expect(result.reports[0]?.lost.map((l) => l.field)).toContain('route.backendProtocol');
  });

  it('notes that GRPCS needs a BackendTLSPolicy, and reports it lost', () => {
    const result = migrate([{ file: 'rpc.yaml', text: ingress([['/', 'Prefix']], 'GRPCS') }], {
      to: 'gateway-api',
    });
    expect(result.texts.get('rpc.yaml')).toContain('kind: GRPCRoute');
    const [report] = result.reports;
    expect(report?.notes.join('\n')).toMatch(/BackendTLSPolicy/);
    expect(report?.lost.find((l) => l.field === 'route.backendProtocol')).toMatchObject({
      before: 'GRPCS',
      after: 'GRPC',
    });
  });

  it('writes a GRPCRoute back as an Ingress with the backend protocol', () => {
    const route = `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: { name: rpc, namespace: shop }
spec:
  parentRefs: [{ name: public }]
  hostnames: [rpc.example.com]
  rules:
    - matches: [{ method: { service: shop.Cart, method: Add } }]
      backendRefs: [{ name: rpc, port: 50051 }]
`;
    const result = migrate([{ file: 'rpc.yaml', text: route }], { to: 'ingress-nginx' });
    const text = result.texts.get('rpc.yaml') ?? '';
    expect(text).toContain('kind: Ingress');
    expect(text).toContain('nginx.ingress.kubernetes.io/backend-protocol: GRPC');
    expect(text).toContain('path: /shop.Cart/Add');
    expect(result.reports[0]?.lost).toEqual([]);
  });
});

describe('TLS passthrough between OpenShift Routes and TLSRoutes: through tether migrate', () => {
  it('writes a passthrough Route as a TLSRoute, and a TLS passthrough listener on the Gateway', () => {
    const route = `apiVersion: route.openshift.io/v1
kind: Route
metadata: { name: vault, namespace: sec }
spec:
  host: vault.example.com
  to: { kind: Service, name: vault }
  port: { targetPort: 8200 }
  tls: { termination: passthrough }
`;
    const result = migrate([{ file: 'vault.yaml', text: route }], { to: 'gateway-api' });
    const text = result.texts.get('vault.yaml') ?? '';
    const objects = readManifestText(text, 'vault.yaml').objects.map((l) => l.object);
    const tlsRoute = objects.find((o) => o.kind === 'TLSRoute');
    expect(tlsRoute?.spec).toEqual({
      parentRefs: [{ name: 'tether' }],
      hostnames: ['vault.example.com'],
      rules: [{ backendRefs: [{ name: 'vault', port: 8200 }] }],
    });
    const gateway = objects.find((o) => o.kind === 'Gateway');
    expect((gateway?.spec as { listeners: unknown[] }).listeners).toContainEqual(
      expect.objectContaining({ protocol: 'TLS', port: 443, tls: { mode: 'Passthrough' } }),
    );
    // What was written is served: the TLSRoute attaches to that listener, relayed by SNI.
    const served = analyze(objects).entries.find((e) => e.entry.kind === 'TLSRoute');
    expect(served?.entry.listeners).toEqual([
      expect.objectContaining({ protocol: 'TCP', port: 443, hosts: ['vault.example.com'] }),
    ]);
  });

  it('writes a TLSRoute as a passthrough Route', () => {
    const tlsRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: { name: vault, namespace: sec }
spec:
  parentRefs: [{ name: public }]
  hostnames: [vault.example.com]
  rules:
    - backendRefs: [{ name: vault, port: 8200 }]
`;
    const result = migrate([{ file: 'vault.yaml', text: tlsRoute }], { to: 'openshift' });
    const [object] = readManifestText(result.texts.get('vault.yaml') ?? '', 'vault.yaml').objects;
    expect(object?.object.kind).toBe('Route');
    expect(object?.object.spec).toMatchObject({
      host: 'vault.example.com',
      to: { kind: 'Service', name: 'vault' },
      port: { targetPort: 8200 },
      tls: { termination: 'passthrough' },
    });
  });
});
