import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');

function tether(args: string[], input?: string | Buffer) {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build first`);
  const result = spawnSync(process.execPath, [bin, ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the built tether binary', () => {
  it('tells its version: --version, version, version -o json', () => {
    const pkg = require('../../packages/cli/package.json') as { version: string }; // eslint-disable-line @typescript-eslint/no-require-imports
    expect(tether(['--version']).stdout).toBe(`v${pkg.version}\n`);
    const text = tether(['version']);
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      `Tether Version: v${pkg.version}\nNode.js Version: ${process.version}\n`,
    );
    const json = JSON.parse(tether(['version', '-o', 'json']).stdout) as {
      tetherVersion: { version: string; nodeVersion: string };
    };
    expect(json.tetherVersion).toMatchObject({
      version: `v${pkg.version}`,
      nodeVersion: process.version,
    });
  });

  it('calls itself kubectl tether in its usage when kubectl runs it as a plugin', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tether-plugin-'));
    const plugin = join(dir, 'kubectl-tether');
    symlinkSync(bin, plugin);
    const help = spawnSync(process.execPath, [plugin, '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(help.stdout).toMatch(/^Usage: kubectl tether \[options\] \[command\]/);
    expect(tether(['--help']).stdout).toMatch(/^Usage: tether \[options\] \[command\]/);
  });

  it('explains the quick-start example with the session cookie it configures', () => {
    const { code, stdout, stderr } = tether(['explain', '-f', 'examples/quickstart', '-o', 'json']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      backends: {
        entry: { kind: string; name: string };
        policy: { mode: string; cookie?: { name: string; maxAgeSeconds?: number } };
      }[];
    };
    const shop = report.backends.find((b) => b.entry.kind === 'Ingress' && b.entry.name === 'shop');
    expect(shop?.policy.mode).toBe('cookie');
    expect(shop?.policy.cookie).toMatchObject({ name: 'shop-session', maxAgeSeconds: 3600 });
  });

  it('lints from standard input and exits 1 on an error', () => {
    const { code, stdout } = tether(
      ['lint', '-f', '-'],
      'apiVersion: v1\nkind: Service\nmetadata: {}\n',
    );
    expect(code).toBe(1);
    expect(stdout).toContain('<stdin>:1: error InvalidManifest');
  });

  it('prints one clear line and no stack trace for binary garbage', () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const { code, stdout, stderr } = tether(['lint', '-f', '-'], garbage);
    expect(code).toBe(1);
    expect(`${stdout}${stderr}`).not.toMatch(/\n\s+at /);
  });

  it('answers --help with the commands', () => {
    const { code, stdout } = tether(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/explain[\s\S]*lint[\s\S]*dialects/);
  });
});
