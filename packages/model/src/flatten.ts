import { formatAdoptionSources, type AdoptionSource } from './adoption';
import type { FieldValue, PolicyField } from './fields';
import type { LoadBalancing, PersistencePolicy, RouteSettings } from './policy';

export type FlatValues = { [F in PolicyField]?: FieldValue<F> };

/** The inverse of assembling: a policy as flat field paths, for display, emitting and comparing. */
export function flattenPolicy(
  policy: PersistencePolicy,
  loadBalancing?: LoadBalancing | null,
  route?: RouteSettings,
): FlatValues {
  const out: Record<string, unknown> = {};
  const walk = (prefix: string, value: unknown): void => {
    if (value === undefined) return;
    // The one list among the fields: shown in the text form the annotation uses.
    if (prefix === 'adoptCookies.sources') {
      out[prefix] = formatAdoptionSources(value as AdoptionSource[]);
      return;
    }
    if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
    } else out[prefix] = value;
  };
  walk('', policy);
  if (loadBalancing) walk('loadBalancing', loadBalancing);
  if (route) walk('route', route);
  return out as FlatValues;
}
