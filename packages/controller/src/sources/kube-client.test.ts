import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeHttp, KubeRequestError, loadClientNode } from './kube-client';

/** Answers with a JSON body written in two pieces that split a multi-byte character. */
let server: Server;
let url: string;

const NOTE = 'Ünïcödé ✓ 🚦';

beforeAll(async () => {
  server = createServer((req, res) => {
    const body = Buffer.from(JSON.stringify({ path: req.url, note: NOTE }));
    const status = req.url === '/missing' ? 404 : 200;
    res.writeHead(status, { 'content-type': 'application/json' });
    // Cut inside the four bytes of the last character, and let the first piece go alone.
    const cut = body.length - 4;
    res.write(body.subarray(0, cut));
    setTimeout(() => res.end(body.subarray(cut)), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

async function client(): Promise<KubeHttp> {
  const k8s = await loadClientNode();
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return new KubeHttp(kc);
}

describe('KubeHttp', () => {
  it('decodes a body whose characters are split between reads', async () => {
    const http = await client();
    await expect(http.json({ path: '/apis/x' })).resolves.toEqual({ path: '/apis/x', note: NOTE });
  });

  it('rejects an error answer with its status', async () => {
    const http = await client();
    const failure = await http.json({ path: '/missing' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(KubeRequestError);
    expect((failure as KubeRequestError).status).toBe(404);
  });
});
