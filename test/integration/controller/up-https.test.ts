/**
 * `tether up` on manifests whose only route is on a Gateway's HTTPS listener: what it prints
 * under "Open" and "Try it" must reach that route, with the session cookie, as printed.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { selfSignedCertificate } from '@tether/testkit';
import { startUp, UP_SERVICE_PORT_OFFSET, type UpRunning } from '../../../packages/cli/src/up';
import { freePortRun } from '../../support/ports';

let running: UpRunning | undefined;
afterAll(async () => {
  await running?.stop();
});

function manifests(gatewayPort: number, endpointPort: number): string {
  const pem = selfSignedCertificate('chat.localhost');
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: tether }
spec: { controllerName: tether.dev/ingress-controller }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: public, namespace: chat }
spec:
  gatewayClassName: tether
  listeners:
    - name: https
      protocol: HTTPS
      port: ${gatewayPort}
      tls: { certificateRefs: [{ name: chat-tls }] }
---
apiVersion: v1
kind: Secret
metadata: { name: chat-tls, namespace: chat }
type: kubernetes.io/tls
data: { tls.crt: ${b64(pem.cert)}, tls.key: ${b64(pem.key)} }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: rooms, namespace: chat }
spec:
  parentRefs: [{ name: public }]
  hostnames: [chat.localhost]
  rules:
    - backendRefs: [{ name: rooms, port: 80 }]
      sessionPersistence: { sessionName: chat-session, type: Cookie }
---
apiVersion: v1
kind: Service
metadata: { name: rooms, namespace: chat }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: rooms-local
  namespace: chat
  labels: { kubernetes.io/service-name: rooms }
addressType: IPv4
ports: [{ name: http, port: ${endpointPort} }]
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: { ready: true }
  - addresses: ["127.0.0.2"]
    conditions: { ready: true }
`;
}

/** Runs a printed shell line and returns what it wrote (the proxy answers meanwhile: not Sync). */
async function shell(line: string): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['-c', line], { timeout: 10_000 });
  return stdout;
}

describe('tether up with a route on a Gateway HTTPS listener only', () => {
  it('prints lines that reach it over HTTPS, and the cookie keeps one endpoint', async () => {
    // The listener's port, once moved by up's offset, and the echo endpoints' port: free now.
    const first = await freePortRun(1);
    const gatewayPort = first - UP_SERVICE_PORT_OFFSET;
    const endpointPort = await freePortRun(1);
    const dir = mkdtempSync(join(tmpdir(), 'tether-up-https-'));
    writeFileSync(join(dir, 'app.yaml'), manifests(gatewayPort, endpointPort));
    running = await startUp(dir, {
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      api: '127.0.0.1:0',
      ingressClass: 'tether',
      logLevel: 'silent',
    });
    const hint = running.hint;
    expect(hint).toContain(`  curl -k https://chat.localhost:${first}/\n`);

    const open = /^ {2}(curl -k https:\/\/chat\.localhost:\d+\/)$/m.exec(hint)?.[1];
    expect(open).toBeDefined();
    expect(await shell(`${open ?? ''} -s -o /dev/null -w '%{http_code}'`)).toBe('200');

    const jar = join(dir, 'cookies');
    const tryFirst = /^ {2}(curl -k -si -c \/tmp\/tether\.cookies .*)$/m.exec(hint)?.[1];
    const tryLoop = /^ {2}(for i in .*)$/m.exec(hint)?.[1];
    expect(tryFirst).toContain(`https://127.0.0.1:${first}/`);
    const issued = await shell((tryFirst ?? '').replaceAll('/tmp/tether.cookies', jar));
    expect(issued).toMatch(/^set-cookie: chat-session=.*; Secure/im);
    const pinned = /^x-endpoint: (\S+)/im.exec(issued)?.[1];
    expect(pinned).toBeDefined();
    const again = (await shell((tryLoop ?? '').replaceAll('/tmp/tether.cookies', jar)))
      .trim()
      .split('\n')
      .map((line) => line.replace(/^x-endpoint: /i, '').trim());
    expect(again).toEqual(Array.from({ length: 5 }, () => pinned));
  });
});
