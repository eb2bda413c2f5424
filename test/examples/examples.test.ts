/**
 * Every example under examples/ does what its README says. The README's ```console blocks are
 * run as written — `tether up` with the built binary (on ports of the test's choosing), the
 * other commands in bash with `tether` standing for the built binary — and their output is
 * compared with the README's, line by line. So the cookie's name and attributes, the
 * stickiness across requests and the conflict's reason and exit code are checked exactly as a
 * reader will see them.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { run } from '@tether/cli';
import { consoleBlocks, matchLines, type Block } from './transcript';

const ROOT = join(__dirname, '..', '..');
const BIN = join(ROOT, 'packages', 'cli', 'dist', 'bin.js');
/** The address the READMEs show; the test's own address replaces it. */
const README_URL = 'http://127.0.0.1:8080';
const README_COOKIE_JAR = '/tmp/tether.cookies';

/**
 * Every example folder; how a reader sees it work (through the proxy with a sticky cookie,
 * through a Service's own TCP listener, or through explain alone); whether its app lints
 * without a warning; whether it has a conflict to show.
 */
const EXAMPLES: {
  dir: string;
  shows: 'proxy' | 'service' | 'explain';
  clean: boolean;
  conflict: boolean;
}[] =
  [
    { dir: 'ingress-nginx', shows: 'proxy', clean: true, conflict: true },
    { dir: 'oci-native-ingress', shows: 'proxy', clean: true, conflict: true },
    { dir: 'oci-lb', shows: 'proxy', clean: true, conflict: true },
    { dir: 'huawei-cce', shows: 'proxy', clean: true, conflict: true },
    { dir: 'openshift', shows: 'proxy', clean: true, conflict: true },
    { dir: 'gateway-api', shows: 'proxy', clean: true, conflict: true },
    { dir: 'kube-service', shows: 'service', clean: true, conflict: true },
    // Half-way through a migration, two dialects' defaults differ: a warning the README shows.
    { dir: 'migration', shows: 'proxy', clean: false, conflict: true },
    // test/e2e/up.test.ts runs the quick start through the proxy, on the same loopback ports;
    // its README is checked here through explain only, so the two never run at once.
    { dir: 'quickstart', shows: 'explain', clean: true, conflict: false },
  ];

interface Up {
  child: ChildProcess;
  url: string;
  output: () => string;
}

let running: Up | undefined;
let scratch: string | undefined;
/** Every process a test started, so that none outlives the test whatever happens. */
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  running = undefined;
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

/** Sends SIGTERM and resolves with the exit code, or 'still running' after `ms`. */
function terminate(child: ChildProcess, ms: number): Promise<number | null | 'still running'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still running'), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

/** `tether up DIR …` as the README writes it, on ephemeral ports; resolves with its URL. */
function startUp(command: string): Promise<Up> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run npm run build first`);
  const args = command.split(/\s+/).slice(1);
  const child = spawn(
    process.execPath,
    [BIN, ...args, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--api', '127.0.0.1:0', '--log-level', 'error'],
    { cwd: ROOT },
  );
  children.add(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${command} printed no URL in 15 s:\n${output}`)),
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
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${output}`));
    });
  });
}

/** Runs a block's commands in one bash, as a reader would in one terminal; stdout and stderr merged. */
function runBlock(block: Block, url: string | undefined, cookieJar: string): Promise<string[]> {
  const script = [
    'exec 2>&1',
    'tether() { "$TETHER_NODE" "$TETHER_BIN" "$@"; }',
    ...block.steps.map((s) =>
      s.command
        .replaceAll(README_URL, url ?? README_URL)
        .replaceAll(README_COOKIE_JAR, cookieJar),
    ),
  ].join('\n');
  return new Promise((resolve) => {
    const child = execFile(
      'bash',
      ['-c', script],
      {
        cwd: ROOT,
        timeout: 30_000,
        env: { ...process.env, TETHER_NODE: process.execPath, TETHER_BIN: BIN },
      },
      (_error, stdout) => {
        const lines = stdout.replace(/\r/g, '').split('\n');
        while (lines.at(-1) === '') lines.pop();
        children.delete(child);
        resolve(lines);
      },
    );
    children.add(child);
  });
}

/** The loopback ports of an example's EndpointSlices. */
function endpointPorts(dir: string): number[] {
  const ports: number[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.yaml'))
        for (const doc of parseAllDocuments(readFileSync(full, 'utf8'))) {
          const o = doc.toJS() as { kind?: string; ports?: { port: number }[] } | null;
          if (o?.kind === 'EndpointSlice') ports.push(...(o.ports ?? []).map((p) => p.port));
        }
    }
  };
  walk(join(ROOT, 'examples', dir));
  return ports;
}

const commands = (blocks: Block[]) => blocks.flatMap((b) => b.steps.map((s) => s.command));

describe('the examples', () => {
  it('keep examples/migration/adopting as migrate --adopt-cookies writes app', async () => {
    let out = '';
    await run(
      ['migrate', '--to', 'oci-native-ingress', '--adopt-cookies', '-o', 'json', '-f', join(ROOT, 'examples', 'migration', 'app')],
      { stdout: (t) => (out += t), stderr: () => undefined, stdin: () => '' },
    );
    const written = JSON.parse(out) as unknown;
    const dir = join(ROOT, 'examples', 'migration', 'adopting');
    const committed = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .flatMap((f) => parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJS() as unknown));
    const list = Array.isArray(written) ? written : (written as { items: unknown[] }).items;
    expect(committed).toEqual(list);
  });

  it('use loopback ports of their own, so that they can run one after another', () => {
    const owner = new Map<number, string>();
    for (const { dir } of EXAMPLES) {
      const ports = endpointPorts(dir);
      expect(ports.length).toBeGreaterThan(0);
      for (const port of ports) {
        expect({ port, dir: owner.get(port) ?? dir }).toEqual({ port, dir });
        owner.set(port, dir);
      }
    }
  });
});

describe.each(EXAMPLES)('examples/$dir', ({ dir, shows, clean, conflict }) => {
  const readme = readFileSync(join(ROOT, 'examples', dir, 'README.md'), 'utf8');
  const blocks = consoleBlocks(readme);

  it('has a README that runs the example and lints the conflict', () => {
    const all = commands(blocks);
    if (shows === 'proxy') {
      expect(all).toContain(`tether up examples/${dir}/app`);
      const lines = blocks.flatMap((b) => b.steps.flatMap((s) => s.expected));
      expect(lines.some((l) => /^set-cookie: /i.test(l))).toBe(true);
    } else if (shows === 'service') {
      expect(all).toContain(`tether up examples/${dir}/app`);
      expect(all.some((c) => /--interface 127\.0\.0\.\d/.test(c))).toBe(true);
    } else {
      expect(all.some((c) => /^tether explain -f examples\/[a-z-]+\/app\b/.test(c))).toBe(true);
      expect(all.some((c) => c.startsWith('tether up'))).toBe(false);
    }
    if (!conflict) return;
    const lint = blocks.find((b) =>
      b.steps.some((s) => s.command === `tether lint -f examples/${dir}/conflict`),
    );
    expect(lint?.steps.map((s) => s.command)).toEqual([
      `tether lint -f examples/${dir}/conflict`,
      'echo $?',
    ]);
    expect(lint?.steps[0]?.expected.some((l) => /: error [A-Z][A-Za-z]+: /.test(l))).toBe(true);
    expect(lint?.steps[1]?.expected).toEqual(['1']);
  });

  it(`lints its app folder ${clean ? 'clean' : 'without an error'}`, async () => {
    const app = dir === 'quickstart' ? join(ROOT, 'examples', dir) : join(ROOT, 'examples', dir, 'app');
    let out = '';
    const code = await run(['lint', '-f', app], {
      stdout: (t) => (out += t),
      stderr: (t) => (out += t),
      stdin: () => '',
    });
    if (clean) expect(out).toBe('0 errors, 0 warnings\n');
    else expect(out).toMatch(/^0 errors, [1-9]\d* warnings?$/m);
    expect(code).toBe(0);
  });

  it('prints what its README shows, command by command', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'tether-example-'));
    for (const block of blocks) {
      const [first] = block.steps;
      if (first && /^tether up\b/.test(first.command)) {
        expect({ line: block.line, steps: block.steps.length, output: first.expected }).toEqual({
          line: block.line,
          steps: 1,
          output: [],
        });
        // A README may run a second folder on the same ports: the first stops, as a reader's would.
        if (running) expect(await terminate(running.child, 10_000)).toBe(0);
        running = await startUp(first.command);
        continue;
      }
      const output = await runBlock(block, running?.url, join(scratch, 'cookies'));
      const expected = block.steps.flatMap((s) => s.expected);
      expect({ line: block.line, output }).toEqual({
        line: block.line,
        output: matchLines(output, expected),
      });
    }
    if (running) {
      // A clean stop: the proxy drains and the echo servers close within seconds.
      expect(await terminate(running.child, 10_000)).toBe(0);
      running = undefined;
    }
  }, 45_000);
});
