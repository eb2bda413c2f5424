import { Diagnostic, ResolvedEntry, resolve } from '@tether/model';
import { entriesOf, namespaceOf, structureFragment } from '../../../packages/dialects/src/kube';
import type {
  Dialect,
  KubeObject,
  ParseContext,
  ParsedObject,
} from '../../../packages/dialects/src/types';

/** What tests look at: the resolved entries and every diagnostic, parser's and resolver's. */
export interface Outcome {
  entries: ResolvedEntry[];
  diagnostics: Diagnostic[];
  parsed: ParsedObject[];
}

export function contextOf(objects: readonly KubeObject[]): ParseContext {
  return {
    objects,
    findService: (namespace, name) =>
      objects.find(
        (o) => o.kind === 'Service' && namespaceOf(o) === namespace && o.metadata.name === name,
      ),
  };
}

/**
 * Runs one dialect the way the registry does (structure fragments, parse where the dialect
 * applies, its cross-object check, then resolve), without the other dialects.
 */
export function runDialect(dialect: Dialect, objects: readonly KubeObject[]): Outcome {
  const context = contextOf(objects);
  const fragments = [];
  const diagnostics: Diagnostic[] = [];
  const parsed: ParsedObject[] = [];
  for (const object of objects) {
    fragments.push(...(entriesOf(object).spec ?? []).map(structureFragment));
    if (!dialect.appliesTo(object)) continue;
    const result = dialect.parse(object, context);
    fragments.push(...result.fragments);
    diagnostics.push(...result.diagnostics);
    parsed.push({ object, dialect: dialect.id, result });
  }
  diagnostics.push(...(dialect.crossCheck?.(parsed) ?? []));
  const resolved = resolve(fragments);
  return {
    entries: resolved.entries,
    diagnostics: [...diagnostics, ...resolved.diagnostics],
    parsed,
  };
}

/** `severity:Reason` of every diagnostic, sorted, for compact assertions. */
export function reasons(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.severity}:${d.reason}`).sort();
}
