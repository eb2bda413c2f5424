import fc from 'fast-check';
import { Diagnostic, Fragment } from '@tether/model';
import type { Dialect, KubeObject } from '../../../packages/dialects/src/types';
import { contextOf } from './oci';

const COOKIE_KEYS = [
  'cookieName',
  'COOKIENAME',
  'disableFallback',
  'domain',
  'path',
  'maxAgeInSeconds',
  'maxAge',
  'isSecure',
  'isHttpOnly',
];

/** Values shaped like what people write in OCI annotations, and plenty that is not. */
export const annotationValue: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.json(),
  fc.constantFrom(
    '',
    ' ',
    'HTTP',
    'tcp',
    'GRPC',
    'nlb',
    'lb',
    'IP_HASH',
    'TWO_TUPLE',
    '443',
    '0',
    '-1',
  ),
  fc
    .dictionary(
      fc.constantFrom(...COOKIE_KEYS),
      fc.oneof(
        fc.string(),
        fc.boolean(),
        fc.integer(),
        fc.double(),
        fc.constant(null),
        fc.constant('a\r\nb'),
        fc.constant(2 ** 70),
      ),
    )
    .map((o) => JSON.stringify(o)),
);

/** Parses random annotation maps and checks that every result is valid against the model. */
export function checkNeverThrows(
  dialect: Dialect,
  keys: readonly string[],
  build: (annotations: Record<string, string>) => KubeObject[],
  numRuns = 300,
): void {
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...keys), annotationValue), (annotations) => {
      const objects = build(annotations);
      const context = contextOf(objects);
      const parsed = objects
        .filter((o) => dialect.appliesTo(o))
        .map((object) => ({ object, dialect: dialect.id, result: dialect.parse(object, context) }));
      for (const p of parsed) {
        for (const f of p.result.fragments) Fragment.parse(f);
        for (const d of p.result.diagnostics) Diagnostic.parse(d);
      }
      for (const d of dialect.crossCheck?.(parsed) ?? []) Diagnostic.parse(d);
    }),
    { numRuns },
  );
}
