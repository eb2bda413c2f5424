import { refuseEntriesWithErrors, resolve, type ResolvedEntry } from '@tether/model';
import { entriesOf, structureFragment } from '../kube';
import type { KubeObject, ParseContext } from '../types';
import { parseRoute } from './parse';

/**
 * What Tether reads from a Route on its own: its structure and the OpenShift settings,
 * resolved as `analyze` would. The emitter compares this with the policy it was asked to
 * write, so every difference it reports is one the parser really sees.
 */
export function readBackRoute(object: KubeObject): ResolvedEntry[] {
  const context: ParseContext = { objects: [object], findService: () => undefined };
  const structure = entriesOf(object);
  const parsed = parseRoute(object, context);
  const resolved = resolve([...(structure.spec ?? []).map(structureFragment), ...parsed.fragments]);
  return refuseEntriesWithErrors(resolved.entries, [
    ...structure.diagnostics,
    ...parsed.diagnostics,
    ...resolved.diagnostics,
  ]);
}
