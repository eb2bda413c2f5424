import { describe, expect, it } from '@jest/globals';
import { DIALECTS, analyze, readManifestText } from '@tether/dialects';
import { migrate, type MigrationResult } from '@tether/migrate';
import { flattenPolicy, type DialectId, type ResolvedEntry } from '@tether/model';
import { listCases } from '../support/cases';

/**
 * For every case input written in one dialect A and every other dialect B:
 * parse_A(migrate_A(migrate_B(x))) must equal parse_A(x) on every field, except the fields the
 * two migration reports list as lost or as filled in by a default. The report is exact.
 */

function flat(e: ResolvedEntry): Record<string, unknown> {
  return e.policy
    ? (flattenPolicy(e.policy, e.loadBalancing, e.route) as Record<string, unknown>)
    : {};
}

function entriesOf(text: string, file: string): ResolvedEntry[] {
  return analyze(readManifestText(text, file).objects.map((o) => o.object)).entries;
}

const key = (e: ResolvedEntry) =>
  `${e.entry.kind}/${e.entry.namespace}/${e.entry.name}#${e.entry.rule}→${e.backend.service}`;

function reportedFields(...results: MigrationResult[]): Set<string> {
  const fields = new Set<string>();
  for (const r of results)
    for (const report of r.reports)
      for (const o of [...report.lost, ...report.added]) fields.add(o.field);
  return fields;
}

const ids = DIALECTS.map((d) => d.id);
let compared = 0;

describe('migration round trips report every field they change', () => {
  for (const c of listCases()) {
    for (const input of c.inputs) {
      const sources = ids.filter(
        (id) =>
          DIALECTS.find((d) => d.id === id)!.appliesTo !== undefined &&
          input.objects.some((o) => DIALECTS.find((d) => d.id === id)!.appliesTo(o)),
      );
      if (sources.length !== 1) continue;
      const a = sources[0] as DialectId;
      const original = entriesOf(input.text, input.file);
      if (original.some((e) => !e.accepted)) continue;
      it(`${c.name}/${input.stem} (${a}) → every other dialect → back`, () => {
        for (const b of ids.filter((id) => id !== a)) {
          const there = migrate([{ file: input.file, text: input.text }], { to: b });
          if (there.exitCode === 1) continue;
          const thereText = there.texts.get(input.file)!;
          const back = migrate([{ file: input.file, text: thereText }], { to: a });
          const after = new Map(
            entriesOf(back.texts.get(input.file)!, input.file).map((e) => [key(e), e]),
          );
          const reported = reportedFields(there, back);
          for (const e of original) {
            const returned = after.get(key(e));
            if (!returned) continue;
            compared++;
            const before = flat(e);
            const now = flat(returned);
            const changed = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter(
              (f) => before[f] !== now[f],
            );
            const unreported = changed.filter((f) => !reported.has(f));
            expect({
              via: b,
              entry: key(e),
              unreported: unreported.map((f) => `${f}: ${String(before[f])} → ${String(now[f])}`),
            }).toEqual({ via: b, entry: key(e), unreported: [] });
          }
        }
      });
    }
  }

  it('compared a meaningful number of entry points', () => {
    expect(compared).toBeGreaterThan(100);
  });
});
