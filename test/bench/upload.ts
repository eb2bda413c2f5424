/**
 * Streaming benchmark: 1 GiB uploaded through the proxy, run as its own process, to an echo
 * backend that counts the bytes and keeps none. The proxy's RSS is sampled from /proc while the
 * body streams. Goal: the upload completes and the proxy's RSS stays under 128 MiB.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { startEcho } from '@tether/echo';

const TOTAL = 1024 * 1024 * 1024;
const PROXY_PORT = 18196;
const ADMIN_PORT = 18197;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

async function ready(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = request({ host: '127.0.0.1', port: ADMIN_PORT, path: '/readyz' }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.once('error', () => resolve(false));
      req.end();
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the proxy did not become ready');
}

async function main(): Promise<void> {
  const echo = await startEcho({ name: 'sink' });
  const proxy = spawn(
    process.execPath,
    [
      join(__dirname, '..', '..', 'bench', 'serve-bench.js'),
      '--port',
      String(PROXY_PORT),
      '--admin',
      String(ADMIN_PORT),
      '--backends',
      String(echo.port),
    ],
    {
      stdio: 'ignore',
    },
  );
  try {
    await ready();
    const before = rssMiB(proxy.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(proxy.pid!))), 50);
    const chunk = Buffer.alloc(1024 * 1024, 97);
    const started = process.hrtime.bigint();
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: PROXY_PORT, method: 'POST', path: '/upload', agent: false },
        (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      let sent = 0;
      Readable.from(
        (function* () {
          while (sent < TOTAL) {
            sent += chunk.length;
            yield chunk;
          }
        })(),
      ).pipe(req);
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const received = (JSON.parse(reply.body) as { bodyBytes: number }).bodyBytes;
    console.log(
      `uploaded ${(TOTAL / 2 ** 30).toFixed(0)} GiB in ${seconds.toFixed(1)} s (${(TOTAL / 2 ** 20 / seconds).toFixed(0)} MiB/s); status ${reply.status}, backend received ${received} bytes`,
    );
    console.log(`proxy RSS: ${before.toFixed(0)} MiB before, ${peak.toFixed(0)} MiB peak`);
    const ok = reply.status === 200 && received === TOTAL && peak < 128;
    console.log(ok ? 'goal met: streamed, RSS under 128 MiB' : 'GOAL MISSED');
    process.exitCode = ok ? 0 : 1;
  } finally {
    proxy.kill('SIGTERM');
    await echo.close();
  }
}

void main();
