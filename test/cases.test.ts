import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { analyze, DIALECTS } from '@tether/dialects';
import { reconcile, ReconcileState } from '@tether/controller';
import { backendKey, entryKey, flattenPolicy, type ResolvedEntry } from '@tether/model';
import {
  listCases,
  normaliseDiagnostics,
  normaliseEntries,
  projectLike,
  writeGolden,
} from './support/cases';

const cases = listCases();
const update = process.env.UPDATE_GOLDEN === '1';

describe('shared cases: every input of a case resolves to the case golden', () => {
  for (const c of cases) {
    describe(c.name, () => {
      if (update) {
        it('writes the golden', () => writeGolden(c));
        return;
      }
      for (const input of c.inputs) {
        it(`${input.stem}: entries`, () => {
          const analysis = analyze(input.objects);
          const expected = c.golden.entriesByInput?.[input.stem] ?? c.golden.entries;
          expect(projectLike(normaliseEntries(analysis), expected)).toEqual(expected);
        });
        if (c.golden.intent) {
          it(`${input.stem}: intent`, () => {
            const analysis = analyze(input.objects);
            expect(analysis.entries.length).toBeGreaterThan(0);
            for (const e of analysis.entries) {
              const flat = e.policy ? flattenPolicy(e.policy, e.loadBalancing, e.route) : {};
              expect(flat).toMatchObject(c.golden.intent ?? {});
            }
          });
        }
        it(`${input.stem}: diagnostics`, () => {
          const analysis = analyze(input.objects);
          expect(normaliseDiagnostics(analysis.diagnostics)).toEqual(
            c.golden.diagnostics[input.stem] ?? [],
          );
        });
      }
    });
  }
});

/** Entry points with their policies, in one order whichever pipeline listed them. */
function byEntry(entries: readonly ResolvedEntry[]): [string, ResolvedEntry][] {
  return entries
    .map((e): [string, ResolvedEntry] => [`${entryKey(e.entry)} ${backendKey(e.backend)}`, e])
    .sort(([a], [b]) => a.localeCompare(b));
}

/** What only a server finds: a certificate it cannot load, a Service with no endpoints. */
const SERVING_REASONS: ReadonlySet<string> = new Set(['TlsSecretNotFound', 'BackendNotFound']);

/** The controller serves everything a manifest holds, as `tether serve -f` does. */
const SERVE_ALL = {
  ingressClass: 'tether',
  controllerName: 'tether.dev/controller',
  serveAll: true,
};

describe('shared cases: the controller reaches the same answer as the CLI', () => {
  for (const c of cases) {
    for (const input of c.inputs) {
      it(`${c.name} ${input.stem}`, () => {
        const analysis = analyze(input.objects);
        const snapshot = { generation: 1, objects: input.objects };
        const full = reconcile(snapshot, undefined, SERVE_ALL);
        const cached = reconcile(snapshot, undefined, {
          ...SERVE_ALL,
          state: new ReconcileState(),
        });
        for (const result of [full, cached]) {
          expect(byEntry(result.entries)).toEqual(byEntry(analysis.entries));
          const analysed = result.diagnostics.filter((d) => !SERVING_REASONS.has(d.reason));
          expect(normaliseDiagnostics(analysed)).toEqual(
            normaliseDiagnostics(analysis.diagnostics),
          );
        }
      });
    }
  }
});

describe('case coverage', () => {
  it('has at least 40 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  // A key counts as covered when some case input spells it out: the annotation key itself, or
  // for spec fields the last segment of the path.
  const corpus = cases.flatMap((c) => c.inputs.map((i) => readFileSync(i.file, 'utf8'))).join('\n');
  for (const dialect of DIALECTS) {
    for (const key of dialect.table) {
      it(`${dialect.id} ${key.key} appears in a case`, () => {
        const needle = key.type === 'annotation' ? key.key : (key.key.split('.').pop() ?? key.key);
        expect(corpus.includes(needle)).toBe(true);
      });
    }
  }
});
