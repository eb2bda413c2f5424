import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { run, type Io } from './program';

function capture(stdin = ''): Io & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: (t) => void (out += t),
    stderr: (t) => void (err += t),
    stdin: () => stdin,
    out: () => out,
    err: () => err,
  };
}

const ingress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  rules:
    - host: shop.example
      http:
        paths:
          - path: /cart
            pathType: Prefix
            backend: { service: { name: cart, port: { number: 8080 } } }
`;

const lbService = `apiVersion: v1
kind: Service
metadata: { name: edge, namespace: shop }
spec: { type: LoadBalancer, ports: [{ port: 443 }, { port: 80 }] }
`;

describe('tether explain', () => {
  it('prints the JSON contract for every entry point, with mode none where nothing is configured', async () => {
    const io = capture(`${ingress}---\n${lbService}`);
    expect(await run(['explain', '-f', '-', '-o', 'json'], io)).toBe(0);
    const report = JSON.parse(io.out()) as {
      backends: {
        entry: { kind: string; rule: string };
        backend: unknown;
        policy: { mode: string };
      }[];
      diagnostics: unknown[];
    };
    expect(
      report.backends.map((b) => [b.entry.kind, b.entry.rule, b.backend, b.policy.mode]),
    ).toEqual([
      ['Ingress', 'rules[0].paths[0]', { namespace: 'shop', service: 'cart', port: 8080 }, 'none'],
      ['Service', 'port 443', { namespace: 'shop', service: 'edge', port: 443 }, 'none'],
      ['Service', 'port 80', { namespace: 'shop', service: 'edge', port: 80 }, 'none'],
    ]);
    expect(report.diagnostics).toEqual([]);
  });

  it('prints YAML that parses to the same report as JSON', async () => {
    const json = capture(ingress);
    const yaml = capture(ingress);
    await run(['explain', '-f', '-', '-o', 'json'], json);
    await run(['explain', '-f', '-', '-o', 'yaml'], yaml);
    expect(parseYaml(yaml.out())).toEqual(JSON.parse(json.out()));
  });

  it('reads folders recursively and keeps going past unreadable paths and bad documents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-explain-'));
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'nested', 'ingress.yml'), ingress);
    writeFileSync(join(dir, 'broken.yaml'), 'kind: [oops\n');
    writeFileSync(join(dir, 'notes.txt'), 'not a manifest');
    const io = capture();
    expect(await run(['explain', '-f', dir, join(dir, 'missing.yaml'), '-o', 'json'], io)).toBe(0);
    const report = JSON.parse(io.out()) as {
      backends: unknown[];
      diagnostics: { reason: string; sources: { file?: string }[] }[];
    };
    expect(report.backends).toHaveLength(1);
    expect(report.diagnostics.map((d) => [d.reason, d.sources[0]?.file])).toEqual([
      ['InvalidManifest', join(dir, 'broken.yaml')],
      ['UnreadableFile', join(dir, 'missing.yaml')],
    ]);
  });

  it('shows where each value came from in the text form', async () => {
    const io = capture(ingress);
    await run(['explain', '-f', '-'], io);
    expect(io.out()).toContain(
      'Ingress shop/web rules[0].paths[0]  shop.example/cart (Prefix)  [HTTP:80]',
    );
    expect(io.out()).toMatch(/mode\s+none\s+default of tether/);
  });

  it("marks a Service's own listeners as served, with their address and layer", async () => {
    const udp = `${lbService}---
apiVersion: v1
kind: Service
metadata: { name: dns, namespace: net }
spec: { type: LoadBalancer, ports: [{ port: 53, protocol: UDP }] }
`;
    const text = capture(udp);
    await run(
      ['explain', '-f', '-', '--service-listen', '::1', '--service-port-offset', '10000'],
      text,
    );
    expect(text.out()).toContain(
      'Service shop/edge port 443  *  [TCP:443]  layer 4: relayed, source address only; served at TCP [::1]:10443',
    );
    expect(text.out()).toContain(
      'Service net/dns port 53  *  [UDP:53]  layer 4: relayed, source address only; served at UDP [::1]:10053',
    );
    const json = capture(udp);
    await run(['explain', '-f', '-', '-o', 'json'], json);
    const report = JSON.parse(json.out()) as { backends: { served?: unknown }[] };
    expect(report.backends.map((b) => b.served)).toEqual([
      [{ protocol: 'UDP', address: '127.0.0.1:53', layer: 4 }],
      [{ protocol: 'TCP', address: '127.0.0.1:443', layer: 4 }],
      [{ protocol: 'TCP', address: '127.0.0.1:80', layer: 4 }],
    ]);
  });

  it('refuses a Service port offset that is not a whole number', async () => {
    const io = capture(lbService);
    expect(await run(['explain', '-f', '-', '--service-port-offset', '-1'], io)).not.toBe(0);
    expect(io.err()).toContain('a whole number from 0 to 65534');
  });

  it('refuses an unknown output format with a usage error and no stack trace', async () => {
    const io = capture(ingress);
    expect(await run(['explain', '-f', '-', '-o', 'xml'], io)).not.toBe(0);
    expect(io.err()).toContain("argument 'xml' is invalid");
    expect(io.err()).not.toContain('    at ');
  });

  it('requires -f', async () => {
    const io = capture();
    expect(await run(['explain'], io)).not.toBe(0);
    expect(io.err()).toContain('--filename');
  });
});

describe('tether lint', () => {
  it('exits 0 on warnings, 1 with --strict, and names file:line', async () => {
    const annotated = ingress.replace(
      '  namespace: shop\n',
      '  namespace: shop\n  annotations:\n    nginx.ingress.kubernetes.io/not-a-real-key: "x"\n',
    );
    const dir = mkdtempSync(join(tmpdir(), 'tether-lint-'));
    const file = join(dir, 'ingress.yaml');
    writeFileSync(file, annotated);
    const lenient = capture();
    expect(await run(['lint', '-f', file], lenient)).toBe(0);
    expect(lenient.out()).toContain(`${file}:7: warning UnknownAnnotation`);
    expect(lenient.out()).toContain('0 errors, 1 warning');
    expect(await run(['lint', '--strict', '-f', file], capture())).toBe(1);
  });

  it('exits 1 when a document is not valid YAML', async () => {
    const io = capture('a: [\n');
    expect(await run(['lint', '-f', '-'], io)).toBe(1);
    expect(io.out()).toContain('error InvalidManifest');
  });
});

describe('tether dialects', () => {
  it('lists the seven dialects', async () => {
    const io = capture();
    expect(await run(['dialects', '-o', 'json'], io)).toBe(0);
    const listing = JSON.parse(io.out()) as { id: string }[];
    expect(listing.map((d) => d.id).sort()).toEqual([
      'gateway-api',
      'huawei-cce',
      'ingress-nginx',
      'kube-service',
      'oci-lb',
      'oci-native-ingress',
      'openshift',
    ]);
  });
});

describe('cookie adoption flags', () => {
  it('refuses a serve adoption it cannot read before anything listens', async () => {
    const io = capture();
    const dir = mkdtempSync(join(tmpdir(), 'tether-adopt-'));
    const code = await run(['serve', '--manifests', dir, '--adopt-cookies', 'oci'], io);
    expect(code).not.toBe(0);
    expect(io.err()).toContain("--adopt-cookies: oci cannot be adopted: OCI's cookies are opaque");
  });

  it('refuses an end date that is not RFC 3339, and one without adoption', async () => {
    const bad = capture(lbService);
    expect(
      await run(
        [
          'migrate',
          '--to',
          'gateway-api',
          '-f',
          '-',
          '--adopt-cookies',
          '--adopt-cookies-until',
          'soon',
        ],
        bad,
      ),
    ).toBe(1);
    expect(bad.err()).toContain('--adopt-cookies-until "soon" is not an RFC 3339 time');
    const alone = capture(lbService);
    expect(
      await run(
        [
          'migrate',
          '--to',
          'gateway-api',
          '-f',
          '-',
          '--adopt-cookies-until',
          '2027-01-31T00:00:00Z',
        ],
        alone,
      ),
    ).toBe(1);
    expect(alone.err()).toContain('--adopt-cookies-until needs --adopt-cookies');
  });
});
