import { z } from 'zod';
import { Diagnostic, error, quote } from './diagnostics';
import { FIELD_SCHEMAS, FieldValue, PolicyField } from './fields';
import { BackendRef, BackendTarget, EntryRef, Origin, SourceRef } from './refs';

/** How strongly a fragment's explicit values hold against others on the same entry point. */
export const PRECEDENCE = {
  /** Settings attached to a backend by a policy object (Gateway API BackendTrafficPolicy). */
  backendPolicy: 0,
  /** Settings on the entry point itself (Ingress, HTTPRoute rule, Route, Service listener). */
  entry: 10,
  /** Settings on a Service that its vendor lets override the routes in front of it (Huawei). */
  serviceOverride: 20,
} as const;

export const FieldSetting = z.object({
  value: z.union([z.string(), z.number(), z.boolean()]),
  source: SourceRef,
});
export type FieldSetting = z.infer<typeof FieldSetting>;

export type FieldValues = Partial<Record<PolicyField, FieldSetting>>;

const fieldValuesSchema = z.partialRecord(
  z.enum(Object.keys(FIELD_SCHEMAS) as [PolicyField, ...PolicyField[]]),
  FieldSetting,
);

const common = {
  dialect: Origin,
  precedence: z.number().int(),
  values: fieldValuesSchema,
};

/** Settings for one entry point and one backend behind it. */
export const EntryFragment = z.object({
  type: z.literal('entry'),
  entry: EntryRef,
  backend: BackendRef,
  ...common,
});
export type EntryFragment = z.infer<typeof EntryFragment>;

/** Settings for every entry point that routes to the target backend. */
export const BackendFragment = z.object({
  type: z.literal('backend'),
  target: BackendTarget,
  ...common,
});
export type BackendFragment = z.infer<typeof BackendFragment>;

export const Fragment = z.discriminatedUnion('type', [EntryFragment, BackendFragment]);
export type Fragment = z.infer<typeof Fragment>;

/**
 * Sets one field after checking its value against the model. A value the model cannot hold
 * becomes an error diagnostic instead, so parsers never build an invalid fragment.
 */
export function setField<F extends PolicyField>(
  values: FieldValues,
  field: F,
  value: FieldValue<F>,
  source: SourceRef,
): Diagnostic | undefined {
  const checked = FIELD_SCHEMAS[field].safeParse(value);
  if (!checked.success) {
    return error(
      'InvalidAnnotation',
      `${source.field}: value ${quote(value)} cannot be used as ${field} (${checked.error.issues[0]?.message ?? 'invalid'})`,
      source,
    );
  }
  values[field] = { value: checked.data as string | number | boolean, source };
  return undefined;
}
