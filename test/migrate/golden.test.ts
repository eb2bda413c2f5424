import { describe, expect, it } from '@jest/globals';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMigrationReport, unifiedDiff } from '@tether/cli';
import { DIALECTS } from '@tether/dialects';
import { migrate } from '@tether/migrate';
import { listCases } from '../support/cases';

/**
 * Golden output of migrating every case input to every dialect that changes it: the report as
 * `tether migrate` prints it with its exit code, then the change as `--dry-run` shows it
 * (`UPDATE_GOLDEN=1` writes them; read them before committing). A target that changes nothing
 * has no golden, and the test checks that it really changes nothing.
 */

const update = process.env.UPDATE_GOLDEN === '1';

describe('migration goldens', () => {
  for (const c of listCases()) {
    for (const input of c.inputs) {
      it(`${c.name}/${input.stem}`, () => {
        const dir = join(c.dir, 'migrate');
        const file = `${input.stem}.yaml`;
        for (const target of DIALECTS) {
          const result = migrate([{ file, text: input.text }], { to: target.id });
          const base = join(dir, `${input.stem}--${target.id}`);
          const manifests = result.texts.get(file)!;
          const unchanged = manifests === input.text && result.reports.length === 0;
          const golden = `exit ${result.exitCode}\n${renderMigrationReport(result.reports, result)}\n${unifiedDiff(input.text, manifests, file)}`;
          if (update) {
            if (unchanged) continue;
            mkdirSync(dir, { recursive: true });
            writeFileSync(`${base}.txt`, golden);
            continue;
          }
          if (unchanged) {
            expect(existsSync(`${base}.txt`)).toBe(false);
            continue;
          }
          expect(golden).toBe(readFileSync(`${base}.txt`, 'utf8'));
        }
      });
    }
  }
});
