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
import { gatewayApi } from './gateway-api';
import { huaweiCce } from './huawei-cce';
import { ingressNginx } from './ingress-nginx';
import { entriesOf, namespaceOf, sourceOf, structureFragment, withSharedEntries } from './kube';
import { kubeService } from './kube-service';
import { ociLb } from './oci-lb';
import { ociNativeIngress } from './oci-native-ingress';
import { openshift } from './openshift';
import type { Dialect, KubeObject, ParseContext, ParsedObject } from './types';

export * from './types';
export * from './kube';
export * from './helpers';
export * from './manifest';

/** Every dialect Tether reads, in the order their defaults are preferred when two disagree. */
export const DIALECTS: readonly Dialect[] = [
  ingressNginx,
  ociNativeIngress,
  ociLb,
  huaweiCce,
  openshift,
  gatewayApi,
  kubeService,
];

/** Kinds that define entry points or carry persistence settings. */
const READ_KINDS = new Set([
  'Service',
  'Ingress',
  'HTTPRoute',
  'Route',
  'BackendTrafficPolicy',
  'XBackendTrafficPolicy',
  'BackendLBPolicy',
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
  'Namespace',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Pod',
  'ServiceAccount',
]);

export function parseContext(objects: readonly KubeObject[]): ParseContext {
  const services = new Map<string, KubeObject>();
  for (const o of objects)
    if (o.kind === 'Service') services.set(`${namespaceOf(o)}/${o.metadata.name}`, o);
  return { objects, findService: (namespace, name) => services.get(`${namespace}/${name}`) };
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
  for (const dialect of DIALECTS) {
    if (!dialect.crossCheck) continue;
    out.diagnostics.push(...dialect.crossCheck(out.parsed.filter((p) => p.dialect === dialect.id)));
  }
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

export function findDialect(id: string): Dialect | undefined {
  return DIALECTS.find((d) => d.id === id);
}
export * from './migrate';
