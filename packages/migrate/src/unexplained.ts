import { quote, warning, type Diagnostic } from '@tether/model';
import type { FieldOutcome, ObjectReport } from './report';

/** The migration's own warning for a lost field, stated from the comparison alone. */
function lossDiagnostic(report: ObjectReport, lost: FieldOutcome): Diagnostic {
  const source = lost.source ? [lost.source] : [];
  const what = lost.after === undefined ? 'is dropped' : `becomes ${quote(lost.after)}`;
  return warning(
    'UnsupportedByTarget',
    `${lost.field} = ${quote(lost.before ?? '(unset)')} ${what} in ${report.to} (${lost.entry})`,
    ...source,
  );
}

/**
 * Warns of every lost field that the target's emitters did not cover. A covered field is one
 * an emitter's own warning already states, so listing it again would only repeat it; every
 * other loss the comparison after migration found is reported here, whatever the emitters'
 * messages say.
 */
export function reportUnexplainedLosses(report: ObjectReport): void {
  for (const lost of report.lost)
    if (!report.covered.has(lost.field)) report.diagnostics.push(lossDiagnostic(report, lost));
}
