/**
 * The analysis pipeline: objects → every dialect's parse → the checks that span objects →
 * resolve → entry points refused where an error names their object. `analyze` runs it whole
 * for the CLI; the controller runs the same steps (`parseContext`, `parseObject`,
 * `crossCheck`, `resolve`, `blamedObjects`) with its caches between them.
 */
import {
  Diagnostic,
  Fragment,
  ResolveResult,
  dedupeDiagnostics,
  info,
  refuseEntriesWithErrors,
  resolve,
  warning,
} from '@tether/model';
import { readAdoption } from './adoption';
import { entriesOf, namespaceOf, sourceOf, structureFragment, withSharedEntries } from './kube';
import { DIALECTS } from './registry';
import type { Dialect, KubeObject, ParseContext, ParsedObject } from './types';

/** Kinds that define entry points or carry persistence settings. */
const READ_KINDS = new Set([
  'Service',
  'Ingress',
  'HTTPRoute',
  'GRPCRoute',
  'TLSRoute',
  'Route',
  'BackendTrafficPolicy',
  'XBackendTrafficPolicy',
  'BackendLBPolicy',
  'BackendTLSPolicy',
]);
/** Kinds a manifest commonly holds beside those, which Tether uses for routing or passes over quietly. */
const QUIET_KINDS = new Set([
  'EndpointSlice',
  'Endpoints',
  'Secret',
  'ConfigMap',
  'IngressClass',
  'GatewayClass',
  'Gateway',
  'ReferenceGrant',
  'Namespace',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Pod',
  'ServiceAccount',
]);

/** The key of a Service in a `serviceIndex`: `namespace/name`. */
export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The Services of a snapshot by `serviceKey`. */
export function serviceIndex(objects: readonly KubeObject[]): Map<string, KubeObject> {
  const services = new Map<string, KubeObject>();
  for (const o of objects)
    if (o.kind === 'Service') services.set(serviceKey(namespaceOf(o), o.metadata.name), o);
  return services;
}

/**
 * What a parser may look up beside its object. The services index is read at each lookup, so
 * a caller that keeps it up to date (the controller, as Services change) keeps the context.
 */
export function parseContext(
  objects: readonly KubeObject[],
  services: ReadonlyMap<string, KubeObject> = serviceIndex(objects),
): ParseContext {
  return { objects, findService: (namespace, name) => services.get(serviceKey(namespace, name)) };
}

/** How a cross-object check is run: directly, or through a caller's memo. */
export type CheckRunner = (
  dialect: Dialect,
  check: NonNullable<Dialect['crossCheck']>,
  input: readonly ParsedObject[],
) => readonly Diagnostic[];

const runDirectly: CheckRunner = (_dialect, check, input) => check(input);

/** The diagnostics of every dialect's cross-object check over what that dialect parsed. */
export function crossCheck(
  byDialect: ReadonlyMap<string, readonly ParsedObject[]>,
  run: CheckRunner = runDirectly,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const dialect of DIALECTS) {
    if (!dialect.crossCheck) continue;
    for (const d of run(dialect, dialect.crossCheck, byDialect.get(dialect.id) ?? [])) out.push(d);
  }
  return out;
}

const knownKeys = new WeakMap<Dialect, ReadonlySet<string>>();

function knownKeysOf(dialect: Dialect): ReadonlySet<string> {
  let known = knownKeys.get(dialect);
  if (!known) {
    known = new Set(dialect.table.filter((k) => k.type === 'annotation').map((k) => k.key));
    knownKeys.set(dialect, known);
  }
  return known;
}

function unknownKeys(dialect: Dialect, object: KubeObject): Diagnostic[] {
  const annotations = object.metadata.annotations;
  if (!annotations) return [];
  const known = knownKeysOf(dialect);
  const out: Diagnostic[] = [];
  for (const key of Object.keys(annotations)) {
    if (!dialect.prefixes.some((p) => key.startsWith(p)) || known.has(key)) continue;
    const source = sourceOf(dialect.id, object, key);
    out.push(
      dialect.otherVendorKeys?.includes(key)
        ? info(
            'NotReproduced',
            `${key} is an annotation of ${dialect.id} that Tether does not reproduce; it has no effect here`,
            source,
          )
        : warning(
            'UnknownAnnotation',
            `${key} is not an annotation of ${dialect.id} that Tether reads; it has no effect here (misspelt?)`,
            source,
          ),
    );
  }
  return out;
}

export interface ParsedSnapshot {
  fragments: Fragment[];
  diagnostics: Diagnostic[];
  parsed: ParsedObject[];
}

/** Every dialect that applies reads the object; what each finds is added to `out`. */
function readDialects(object: KubeObject, context: ParseContext, out: ObjectParse): void {
  for (const dialect of DIALECTS) {
    out.diagnostics.push(...unknownKeys(dialect, object));
    if (!dialect.appliesTo(object)) continue;
    let result;
    try {
      result = dialect.parse(object, context);
    } catch (e) {
      // A parser must not throw; if one does, the object is refused rather than the process.
      result = {
        fragments: [],
        diagnostics: [
          warning(
            'InvalidObject',
            `${dialect.id} could not read ${object.kind} ${namespaceOf(object)}/${object.metadata.name}: ${e instanceof Error ? e.message : String(e)}`,
            sourceOf(dialect.id, object, 'metadata'),
          ),
        ],
      };
    }
    out.fragments.push(...result.fragments);
    out.diagnostics.push(...result.diagnostics);
    out.parsed.push({ object, dialect: dialect.id, result });
  }
}

export interface ObjectParse {
  fragments: Fragment[];
  diagnostics: Diagnostic[];
  parsed: ParsedObject[];
}

/** Parses one object with every dialect that applies to it. Never throws. */
export function parseObject(object: KubeObject, context: ParseContext): ObjectParse {
  const out: ObjectParse = { fragments: [], diagnostics: [], parsed: [] };
  if (!READ_KINDS.has(object.kind)) {
    if (!QUIET_KINDS.has(object.kind)) {
      out.diagnostics.push(
        info(
          'UnknownKind',
          `${object.kind} ${namespaceOf(object)}/${object.metadata.name} is not a kind Tether reads; skipped`,
          sourceOf('kubernetes', object, 'kind'),
        ),
      );
    }
    return out;
  }
  const structure = entriesOf(object);
  out.diagnostics.push(...structure.diagnostics);
  const entries = structure.spec;
  if (entries) {
    out.fragments.push(...entries.map(structureFragment));
    withSharedEntries(object, entries, () => readDialects(object, context, out));
  } else readDialects(object, context, out);
  const adoption = readAdoption(object, entries ?? []);
  out.fragments.push(...adoption.fragments);
  out.diagnostics.push(...adoption.diagnostics);
  return out;
}

/** Parses every object, then runs the rules that span objects. */
export function parseObjects(objects: readonly KubeObject[]): ParsedSnapshot {
  const context = parseContext(objects);
  const out: ParsedSnapshot = { fragments: [], diagnostics: [], parsed: [] };
  for (const object of objects) {
    const one = parseObject(object, context);
    out.fragments.push(...one.fragments);
    out.diagnostics.push(...one.diagnostics);
    out.parsed.push(...one.parsed);
  }
  const byDialect = new Map<string, ParsedObject[]>();
  for (const p of out.parsed) {
    const list = byDialect.get(p.dialect);
    if (list) list.push(p);
    else byDialect.set(p.dialect, [p]);
  }
  out.diagnostics.push(...crossCheck(byDialect));
  return out;
}

export interface Analysis extends ResolveResult {
  fragments: Fragment[];
}

/** Parse and resolve: everything `explain` and `lint` show. */
export function analyze(objects: readonly KubeObject[]): Analysis {
  const parsed = parseObjects(objects);
  const resolved = resolve(parsed.fragments);
  return {
    fragments: parsed.fragments,
    entries: refuseEntriesWithErrors(resolved.entries, parsed.diagnostics),
    diagnostics: dedupeDiagnostics([...parsed.diagnostics, ...resolved.diagnostics]),
  };
}
