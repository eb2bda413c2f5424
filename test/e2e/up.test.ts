import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');

/** Starts `tether up` and resolves with the proxy URL it prints. */
function up(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
  const child = spawn(
    process.execPath,
    [
      bin,
      'up',
      '--listen',
      '127.0.0.1:0',
      '--admin',
      '127.0.0.1:0',
      '--api',
      '127.0.0.1:0',
      '--log-level',
      'error',
    ],
    { cwd: root },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`tether up printed no URL in 15 s:\n${output}`)),
      15_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving \S+ on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output: () => output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tether up exited with ${code}:\n${output}`)));
  });
}

/** A GET with a Host header (fetch drops Host, so node:http is used). */
function get(
  url: string,
  headers: Record<string, string>,
): Promise<{
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.once('error', reject);
    req.end();
  });
}

let running: ChildProcess | undefined;

afterAll(() => {
  running?.kill('SIGKILL');
});

describe('tether up from a clean checkout', () => {
  it('answers with a sticky cookie, keeps a client on one endpoint, and stops on SIGTERM', async () => {
    const { child, url, output } = await up();
    running = child;
    // Every host is printed as a URL that works as printed (*.localhost resolves to loopback).
    const port = new URL(url).port;
    await new Promise((r) => setTimeout(r, 200));
    expect(output()).toContain(`  http://shop.localhost:${port}/\n`);
    const unmatched = await get(`${url}/`, { host: '127.0.0.1' });
    expect(unmatched.status).toBe(404);
    expect(unmatched.body).toContain(`http://shop.localhost:${port}/`);
    const first = await get(`${url}/`, { host: 'shop.localhost' });
    expect(first.status).toBe(200);
    const setCookie = String(first.headers['set-cookie'] ?? '');
    expect(setCookie).toMatch(/^shop-session=[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax/);
    const pinned = first.headers['x-endpoint'];
    const cookie = setCookie.split(';')[0]!;
    for (let i = 0; i < 10; i++) {
      const again = await get(`${url}/`, { host: 'shop.localhost', cookie });
      expect(again.headers['x-endpoint']).toBe(pinned);
      expect(again.headers['set-cookie']).toBeUndefined();
    }
    const unpinned = new Set<unknown>();
    for (let i = 0; i < 9; i++) {
      unpinned.add((await get(`${url}/`, { host: 'shop.localhost' })).headers['x-endpoint']);
    }
    expect(unpinned.size).toBe(3);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    running = undefined;
  }, 30_000);
});
