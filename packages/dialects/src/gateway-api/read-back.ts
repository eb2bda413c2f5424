import { refuseEntriesWithErrors, resolve, type ResolvedEntry } from '@tether/model';
import { entriesOf, structureFragment } from '../kube';
import type { KubeObject, ParseContext } from '../types';
import { parseGateway } from './parse';

/**
 * What Tether reads from an HTTPRoute on its own (no backend policies): its structure and
 * its rules' sessionPersistence, resolved as `analyze` would. The emitter compares this with
 * the policy it was asked to write, so every difference it reports is one the parser sees.
 */
export function readBackRoute(object: KubeObject): ResolvedEntry[] {
  const context: ParseContext = { objects: [object], findService: () => undefined };
  const structure = entriesOf(object);
  const parsed = parseGateway(object, context);
  const resolved = resolve([...(structure.spec ?? []).map(structureFragment), ...parsed.fragments]);
  return refuseEntriesWithErrors(resolved.entries, [
    ...structure.diagnostics,
    ...parsed.diagnostics,
    ...resolved.diagnostics,
  ]);
}
