import type { Diagnostic } from '@tether/model';
import { formatDiagnosticLine } from './explain';

export interface LintOutcome {
  text: string;
  exitCode: number;
}

/** Diagnostics only, one line each; fails on errors, and on warnings too when strict. */
export function lint(diagnostics: readonly Diagnostic[], strict: boolean): LintOutcome {
  const shown = diagnostics.filter((d) => d.severity !== 'info');
  const errors = shown.filter((d) => d.severity === 'error').length;
  const warnings = shown.length - errors;
  const lines = diagnostics.map(formatDiagnosticLine);
  lines.push(
    `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`,
  );
  const failed = errors > 0 || (strict && warnings > 0);
  return { text: `${lines.join('\n')}\n`, exitCode: failed ? 1 : 0 };
}
