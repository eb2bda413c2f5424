import { readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, basename } from 'node:path';
import { analyze, readManifestText, type KubeObject } from '@tether/dialects';
import type { Diagnostic, ResolvedEntry } from '@tether/model';

export const CASES_DIR = join(__dirname, '..', 'cases');

/** What a case's golden file says about one input. */
export interface ExpectedEntry {
  accepted: boolean;
  policy: ResolvedEntry['policy'];
  /** Compared only when the golden gives it. */
  loadBalancing?: ResolvedEntry['loadBalancing'];
  /** Compared only when the golden gives it. */
  route?: ResolvedEntry['route'];
}

export interface ExpectedDiagnostic {
  severity: Diagnostic['severity'];
  reason: Diagnostic['reason'];
  /** `Kind:field` of every source, sorted. */
  sources: string[];
}

export interface CaseGolden {
  title: string;
  /**
   * The intent of the case as flat policy fields (`cookie.name`, `mode`, …) that every entry of
   * every input must produce, whatever its dialect's defaults add.
   */
  intent?: Record<string, string | number | boolean>;
  /** The normalised result every input of the case must produce. */
  entries: ExpectedEntry[];
  /** Per input (file name without .yaml): entries that differ from the common golden. */
  entriesByInput?: Record<string, ExpectedEntry[]>;
  /** Per input: the diagnostics it must produce, warnings and errors alike (infos are not compared). */
  diagnostics: Record<string, ExpectedDiagnostic[]>;
}

export interface CaseInput {
  stem: string;
  file: string;
  text: string;
  objects: KubeObject[];
}

export interface Case {
  name: string;
  dir: string;
  golden: CaseGolden;
  inputs: CaseInput[];
}

export function listCases(): Case[] {
  return readdirSync(CASES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d{3}-/.test(d.name))
    .map((d) => loadCase(join(CASES_DIR, d.name)));
}

export function loadCase(dir: string): Case {
  const goldenPath = join(dir, 'expected.json');
  const golden = existsSync(goldenPath)
    ? (JSON.parse(readFileSync(goldenPath, 'utf8')) as CaseGolden)
    : { title: basename(dir), entries: [], diagnostics: {} };
  const inputs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => {
      const file = join(dir, f);
      const text = readFileSync(file, 'utf8');
      const read = readManifestText(text, file);
      if (read.diagnostics.length > 0) throw new Error(`${file}: ${read.diagnostics[0]!.message}`);
      return {
        stem: f.replace(/\.yaml$/, ''),
        file,
        text,
        objects: read.objects.map((o) => o.object),
      };
    });
  return { name: basename(dir), dir, golden, inputs };
}

export function normaliseEntries(analysis: { entries: readonly ResolvedEntry[] }): ExpectedEntry[] {
  return analysis.entries.map((e) => ({
    accepted: e.accepted,
    policy: e.policy,
    loadBalancing: e.loadBalancing,
    route: e.route,
  }));
}

export function normaliseDiagnostics(diagnostics: readonly Diagnostic[]): ExpectedDiagnostic[] {
  return diagnostics
    .filter((d) => d.severity !== 'info')
    .map((d) => ({
      severity: d.severity,
      reason: d.reason,
      sources: [...new Set(d.sources.map((s) => `${s.kind}:${s.field}`))].sort(),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/** Drops the optional parts of actual entries that the golden does not pin down. */
export function projectLike(actual: ExpectedEntry[], expected: ExpectedEntry[]): ExpectedEntry[] {
  return actual.map((a, i) => {
    const e = expected[i];
    const out: ExpectedEntry = { accepted: a.accepted, policy: a.policy };
    if (e?.loadBalancing !== undefined) out.loadBalancing = a.loadBalancing;
    if (e?.route !== undefined) out.route = a.route;
    return out;
  });
}

/**
 * Writes the golden from what the code produces now. Only for creating a new case's golden,
 * which must then be read line by line against ../shared/reference/dialects.md.
 */
export function writeGolden(c: Case): void {
  const first = c.inputs[0];
  if (!first) return;
  const entries = normaliseEntries(analyze(first.objects)).map((e) => ({
    accepted: e.accepted,
    policy: e.policy,
    loadBalancing: e.loadBalancing,
  }));
  const golden: CaseGolden = { title: c.golden.title, entries, diagnostics: {} };
  if (c.golden.intent) golden.intent = c.golden.intent;
  for (const input of c.inputs) {
    const analysis = analyze(input.objects);
    const mine = normaliseEntries(analysis).map((e) => ({
      accepted: e.accepted,
      policy: e.policy,
      loadBalancing: e.loadBalancing,
    }));
    if (JSON.stringify(mine) !== JSON.stringify(entries)) {
      golden.entriesByInput = { ...golden.entriesByInput, [input.stem]: mine };
    }
    golden.diagnostics[input.stem] = normaliseDiagnostics(analysis.diagnostics);
  }
  writeFileSync(join(c.dir, 'expected.json'), `${JSON.stringify(golden, null, 2)}\n`);
}
