/**
 * A local `tether serve` opens the ports of LoadBalancer Services; a port it cannot bind is a
 * PortUnavailable warning on its Service (an Event on a cluster), and the other ports serve.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, type Running } from '../../../packages/cli/src/serve';

let running: Running | undefined;
const closers: (() => void)[] = [];
afterAll(async () => {
  await running?.stop();
  for (const close of closers) close();
});

async function listening(greeting = ''): Promise<{ port: number; close: () => void }> {
  const server = createServer((s) => s.end(greeting));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

function service(name: string, port: number): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    '  namespace: games',
    'spec:',
    '  type: LoadBalancer',
    '  sessionAffinity: ClientIP',
    '  ports:',
    `    - port: ${port}`,
    '---',
  ].join('\n');
}

describe('a local serve with LoadBalancer Services', () => {
  it('serves the ports it can bind and warns on the Service whose port is taken', async () => {
    const taken = await listening('someone else\n');
    closers.push(taken.close);
    const free = await listening();
    free.close();
    const backend = await listening('arena\n');
    closers.push(backend.close);
    const dir = mkdtempSync(join(tmpdir(), 'tether-ports-'));
    writeFileSync(
      join(dir, 'services.yaml'),
      [
        service('arena', free.port),
        service('lobby', taken.port),
        ...['arena', 'lobby'].map((name) =>
          [
            'apiVersion: discovery.k8s.io/v1',
            'kind: EndpointSlice',
            'metadata:',
            `  name: ${name}-1`,
            '  namespace: games',
            `  labels: { kubernetes.io/service-name: ${name} }`,
            'addressType: IPv4',
            `ports: [{ port: ${backend.port} }]`,
            'endpoints: [{ addresses: ["127.0.0.1"], conditions: { ready: true } }]',
            '---',
          ].join('\n'),
        ),
      ].join('\n'),
    );
    running = await startServe({
      manifests: [dir],
      listen: '127.0.0.1:0',
      admin: '127.0.0.1:0',
      api: '127.0.0.1:0',
      ingressClass: 'tether',
      logLevel: 'silent',
    });
    await running.proxy.serviceListenersSettled();
    let warned: string[] = [];
    for (let i = 0; i < 50 && warned.length === 0; i++) {
      warned = running.controller.diagnostics
        .filter((d) => d.reason === 'PortUnavailable')
        .map((d) => `${d.sources[0]?.name} ${d.sources[0]?.field}`);
      if (warned.length === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(warned).toEqual([`lobby spec.ports[port=${taken.port}]`]);
    const greeting = await new Promise<string>((resolve, reject) => {
      const s = connect(free.port, '127.0.0.1');
      s.on('data', (d: Buffer) => resolve(d.toString()));
      s.on('error', reject);
    });
    expect(greeting).toBe('arena\n');
  });
});
