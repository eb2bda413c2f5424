import { describe, expect, it } from '@jest/globals';
import { warning, type Diagnostic } from '@tether/model';
import type { FieldOutcome, ObjectReport } from './report';
import { reportUnexplainedLosses } from './unexplained';

/** A report of an Ingress migrated to OCI with the given losses, covered fields and warnings. */
function reportWith(
  lost: FieldOutcome[],
  covered: string[],
  diagnostics: Diagnostic[],
): ObjectReport {
  return {
    file: 'shop.yaml',
    line: 1,
    object: { kind: 'Ingress', namespace: 'default', name: 'shop' },
    from: ['ingress-nginx'],
    to: 'oci-native-ingress',
    action: 'rewritten',
    written: [],
    carried: [],
    lost,
    moot: [],
    added: [],
    notes: [],
    diagnostics,
    covered: new Set(covered),
  };
}

const entry = 'Ingress default/shop rules[0].paths[0]→shop';
const secure: FieldOutcome = { entry, field: 'cookie.secure', before: 'https', after: 'always' };
const nocache: FieldOutcome = { entry, field: 'cookie.nocache', before: true, after: false };

const messages = (r: ObjectReport): string[] => r.diagnostics.map((d) => d.message);

describe('reportUnexplainedLosses', () => {
  it('adds nothing for a covered field, whatever the covering warning says', () => {
    const prose = warning('UnsupportedByTarget', 'OCI marks its cookie Secure on every response');
    const report = reportWith([secure], ['cookie.secure'], [prose]);
    reportUnexplainedLosses(report);
    expect(messages(report)).toEqual(['OCI marks its cookie Secure on every response']);
  });

  it('reports a field no emitter covers, even when a warning begins with its name', () => {
    const named = warning('UnsupportedByTarget', 'cookie.nocache = "true" is not written');
    const report = reportWith([nocache], [], [named]);
    reportUnexplainedLosses(report);
    expect(messages(report)).toEqual([
      'cookie.nocache = "true" is not written',
      'cookie.nocache = "true" becomes "false" in oci-native-ingress (Ingress default/shop rules[0].paths[0]→shop)',
    ]);
  });

  it('reports each uncovered loss once, in order, beside covered ones', () => {
    const dropped: FieldOutcome = { entry, field: 'cookie.domain', before: 'example.com' };
    const report = reportWith([secure, dropped, nocache], ['cookie.secure'], []);
    reportUnexplainedLosses(report);
    expect(messages(report)).toEqual([
      'cookie.domain = "example.com" is dropped in oci-native-ingress (Ingress default/shop rules[0].paths[0]→shop)',
      'cookie.nocache = "true" becomes "false" in oci-native-ingress (Ingress default/shop rules[0].paths[0]→shop)',
    ]);
    expect(report.diagnostics.every((d) => d.reason === 'UnsupportedByTarget')).toBe(true);
  });
});
