/** `tether version` and `tether --version`: what is running, as `kubectl version` reports it. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface VersionInfo {
  tetherVersion: { version: string; nodeVersion: string; platform: string };
}

/** The CLI package's version, read beside the code (`src/` in tests, `dist/` when built). */
export function tetherVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? `v${pkg.version}` : 'unknown';
  } catch {
    return 'unknown';
  }
}

export function versionInfo(): VersionInfo {
  return {
    tetherVersion: {
      version: tetherVersion(),
      nodeVersion: process.version,
      platform: `${process.platform}/${process.arch}`,
    },
  };
}

export function renderVersionText(info: VersionInfo): string {
  return `Tether Version: ${info.tetherVersion.version}\nNode.js Version: ${info.tetherVersion.nodeVersion}\n`;
}

/** The name to show in usage lines: `kubectl tether` when kubectl runs us as its plugin. */
export function programName(scriptPath: string | undefined): string {
  const base = (scriptPath ?? '').split(/[\\/]/).pop() ?? '';
  return base.startsWith('kubectl-')
    ? `kubectl ${base.slice('kubectl-'.length).replace(/\.js$/, '')}`
    : 'tether';
}
