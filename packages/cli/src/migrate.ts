import { readFileSync, writeFileSync } from 'node:fs';
import { DIALECTS } from '@tether/dialects';
import { migrate, type MigrationResult, type ObjectReport } from '@tether/migrate';
import { DialectId, quote, type SourceRef } from '@tether/model';
import { unifiedDiff } from './diff';
import { formatDiagnosticLine } from './explain';
import { describeError, listManifestFiles, unreadable } from './input';
import { renderData } from './output';
import { z } from 'zod';

export interface MigrateCommandOptions {
  to: string;
  from?: string;
  filename: string[];
  output: 'yaml' | 'json';
  inPlace: boolean;
  dryRun: boolean;
  report: 'text' | 'json';
  keepSource: boolean;
  explicit: boolean;
  gateway: string;
  sessionShape?: 'released' | 'union';
  ingressClass?: string;
  adoptCookies?: boolean;
  adoptCookiesUntil?: string;
}

export interface CommandOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
  writes: { file: string; text: string }[];
}

function where(s: SourceRef | undefined): string {
  if (!s) return 'default of tether';
  return s.isDefault ? `default of ${s.dialect}` : s.field;
}

export function reportText(reports: readonly ObjectReport[], result: MigrationResult): string {
  const lines: string[] = [];
  for (const r of reports) {
    lines.push(
      `${r.file}:${r.line} ${r.object.kind} ${r.object.namespace}/${r.object.name}: ${r.action} (${r.from.join(', ')} → ${r.to})`,
    );
    for (const w of r.written) lines.push(`  wrote    ${w.kind} ${w.namespace}/${w.name}`);
    for (const c of r.carried)
      lines.push(
        `  carried  ${c.field} = ${quote(c.after)}  ${where(c.source)} → ${where(c.target)}`,
      );
    for (const l of r.lost) {
      const after = l.after === undefined ? 'dropped' : `becomes ${quote(l.after)}`;
      lines.push(
        `  LOST     ${l.field} = ${quote(l.before ?? '(unset)')} ${after}  from ${where(l.source)}`,
      );
    }
    for (const m of r.moot) {
      const after = m.after === undefined ? 'dropped' : `becomes ${quote(m.after)}`;
      lines.push(
        `  moot     ${m.field} = ${quote(m.before ?? '(unset)')} ${after}  (${m.why})  from ${where(m.source)}`,
      );
    }
    for (const a of r.added)
      lines.push(
        `  default  ${a.field} = ${quote(a.after)}  (${r.to}'s own default; the source did not set it)`,
      );
    for (const n of r.notes) lines.push(`  note     ${n}`);
    for (const d of r.diagnostics) lines.push(`  ${formatDiagnosticLine(d)}`);
  }
  for (const d of result.inputDiagnostics) lines.push(formatDiagnosticLine(d));
  const carried = reports.reduce((n, r) => n + r.carried.length, 0);
  const lost = reports.reduce((n, r) => n + r.lost.length, 0);
  const moot = reports.reduce((n, r) => n + r.moot.length, 0);
  lines.push(
    `${reports.length} object${reports.length === 1 ? '' : 's'} migrated: ${carried} setting${carried === 1 ? '' : 's'} carried, ${lost} lost${moot > 0 ? `, ${moot} moot` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** Runs a migration over files and stdin and says what to print and write; does no writing itself. */
export function runMigrate(options: MigrateCommandOptions, stdin: () => string): CommandOutcome {
  const ids = DIALECTS.map((d) => d.id);
  for (const [flag, value] of [
    ['--to', options.to],
    ['--from', options.from],
  ] as const) {
    if (value !== undefined && !DialectId.safeParse(value).success) {
      return {
        stdout: '',
        stderr: `tether migrate: ${flag} ${quote(value)} is not a dialect (expected one of ${ids.join(', ')})\n`,
        exitCode: 1,
        writes: [],
      };
    }
  }
  const until = options.adoptCookiesUntil;
  const untilProblem =
    until === undefined
      ? undefined
      : !options.adoptCookies
        ? '--adopt-cookies-until needs --adopt-cookies'
        : !z.iso.datetime({ offset: true }).safeParse(until).success
          ? `--adopt-cookies-until ${quote(until)} is not an RFC 3339 time (for example 2027-01-31T00:00:00Z)`
          : undefined;
  if (untilProblem)
    return { stdout: '', stderr: `tether migrate: ${untilProblem}\n`, exitCode: 1, writes: [] };
  if (options.inPlace && options.filename.includes('-')) {
    return {
      stdout: '',
      stderr: 'tether migrate: --in-place cannot rewrite standard input\n',
      exitCode: 1,
      writes: [],
    };
  }
  const listing = listManifestFiles(options.filename);
  const files: { file: string; text: string }[] = [];
  for (const file of listing.files) {
    try {
      files.push(
        file === '-'
          ? { file: '<stdin>', text: stdin() }
          : { file, text: readFileSync(file, 'utf8') },
      );
    } catch (e) {
      listing.diagnostics.push(unreadable(file, describeError(e)));
    }
  }
  const result = migrate(files, {
    to: options.to as DialectId,
    ...(options.from ? { from: options.from as DialectId } : {}),
    explicit: options.explicit,
    keepSource: options.keepSource,
    gateway: options.gateway,
    ...(options.sessionShape ? { sessionShape: options.sessionShape } : {}),
    ...(options.ingressClass ? { ingressClass: options.ingressClass } : {}),
    ...(options.adoptCookies ? { adoptCookies: true } : {}),
    ...(options.adoptCookiesUntil !== undefined
      ? { adoptCookiesUntil: options.adoptCookiesUntil }
      : {}),
  });
  result.inputDiagnostics.unshift(...listing.diagnostics);
  const exitCode = listing.diagnostics.length > 0 ? 1 : result.exitCode;
  const stderr =
    options.report === 'json'
      ? renderData(
          {
            objects: result.reports.map(({ covered: _covered, ...r }) => r),
            diagnostics: result.inputDiagnostics,
          },
          'json',
        )
      : reportText(result.reports, result);
  const changed = files.filter((f) => result.texts.get(f.file) !== f.text);
  if (options.dryRun) {
    const stdout = changed
      .map((f) => unifiedDiff(f.text, result.texts.get(f.file) ?? f.text, f.file))
      .join('');
    return { stdout, stderr, exitCode, writes: [] };
  }
  if (options.inPlace) {
    return {
      stdout: '',
      stderr,
      exitCode,
      writes: changed.map((f) => ({ file: f.file, text: result.texts.get(f.file) ?? f.text })),
    };
  }
  const stdout =
    options.output === 'json'
      ? renderData(
          result.objects.length === 1
            ? result.objects[0]
            : { apiVersion: 'v1', kind: 'List', items: result.objects },
          'json',
        )
      : files
          .map((f) => result.texts.get(f.file) ?? f.text)
          .map((t) => (t.endsWith('\n') ? t : `${t}\n`))
          .join('---\n');
  return { stdout, stderr, exitCode, writes: [] };
}

export function writeFiles(writes: readonly { file: string; text: string }[]): void {
  for (const w of writes) writeFileSync(w.file, w.text);
}
