import fc from 'fast-check';
import {
  Diagnostic,
  FieldValue,
  FlatValues,
  MergedValues,
  PolicyField,
  ResolvedEntry,
  SourceRef,
  assemble,
  flattenPolicy,
} from '@tether/model';
import { analyze } from '../../../packages/dialects/src/index';
import { entriesOf } from '../../../packages/dialects/src/kube';
import { applyToObject } from '../../../packages/dialects/src/edits';
import type { Dialect, KubeObject } from '../../../packages/dialects/src/types';

/** Values by field, as a source dialect would have said them. */
export type SourceValues = { [F in PolicyField]?: FieldValue<F> };

/** Where a test says a field came from: one annotation per field, so reports can be checked. */
export function sourceFor(field: PolicyField): SourceRef {
  return {
    dialect: 'ingress-nginx',
    kind: 'Ingress',
    namespace: 'source',
    name: 'source',
    field: `source/${field}`,
  };
}

/**
 * The resolved entries of `object` carrying the policy that `values` assemble to, each field
 * with its own source. Undefined when the values do not form a valid policy.
 */
export function entriesWith(object: KubeObject, values: SourceValues): ResolvedEntry[] | undefined {
  const merged: MergedValues = {};
  const sources: ResolvedEntry['sources'] = {};
  for (const [field, value] of Object.entries(values) as [
    PolicyField,
    string | number | boolean,
  ][]) {
    if (value === undefined) continue;
    merged[field] = { value, source: sourceFor(field) };
    sources[field] = [sourceFor(field)];
  }
  const { result } = assemble(merged);
  if (!result) return undefined;
  return (entriesOf(object).spec ?? []).map((item) => ({
    entry: item.entry,
    backend: item.backend,
    accepted: true,
    policy: result.policy,
    loadBalancing: result.loadBalancing,
    route: result.route,
    sources,
  }));
}

export interface EmitRun {
  annotations: Record<string, string>;
  diagnostics: Diagnostic[];
  /** The fields the emitter says its diagnostics cover. */
  covers: PolicyField[];
  /** The object with the annotations written. */
  written: KubeObject;
  /** Its entries as Tether reads them back. */
  after: ResolvedEntry[];
  /** Everything the read-back reported. */
  afterDiagnostics: Diagnostic[];
}

/** Emits on `object`, writes the annotations and reads the object back with every dialect. */
export function emitAndRead(
  dialect: Dialect,
  object: KubeObject,
  entries: readonly ResolvedEntry[],
  explicit = false,
  others: readonly KubeObject[] = [],
): EmitRun {
  if (!dialect.emit) throw new Error(`${dialect.id} has no emitter`);
  const out = dialect.emit({ object, entries, explicit });
  const written = applyToObject(object, {
    removeAnnotations: [],
    setAnnotations: out.annotations,
    spec: out.spec,
  });
  const analysis = analyze([...others, written]);
  const after = analysis.entries.filter(
    (e) => e.entry.kind === written.kind && e.entry.name === written.metadata.name,
  );
  return {
    annotations: out.annotations,
    diagnostics: out.diagnostics,
    covers: out.covers,
    written,
    after,
    afterDiagnostics: analysis.diagnostics,
  };
}

export const flat = (e: ResolvedEntry | undefined): FlatValues =>
  e?.policy ? flattenPolicy(e.policy, e.loadBalancing, e.route) : {};

/** The fields whose values differ between two flat policies. */
export function differingFields(a: FlatValues, b: FlatValues): PolicyField[] {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)] as PolicyField[]);
  return [...fields].filter((f) => a[f] !== b[f]).sort();
}

/** The fields that `UnsupportedByTarget` warnings name (their messages start with the field). */
export function reportedFields(diagnostics: readonly Diagnostic[]): PolicyField[] {
  const fields = diagnostics
    .filter((d) => d.reason === 'UnsupportedByTarget')
    .map((d) => /^([\w.]+) = /.exec(d.message)?.[1])
    .filter((f): f is PolicyField => f !== undefined);
  return [...new Set(fields)].sort();
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,24}$/);
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(a, { nil: undefined });

/** Any policy a source dialect could have produced, plausible values and awkward ones. */
export const anyValues: fc.Arbitrary<SourceValues> = fc.record({
  mode: fc.constantFrom('none', 'cookie', 'appCookie', 'sourceIp', 'header'),
  'cookie.name': fc.oneof(token, fc.constantFrom('X-Oracle-BMC-LBS-Route', 'bad name', 'é')),
  'cookie.path': opt(fc.constantFrom('/', '/app', '', 'a;b', 'relative', '/x\r\ny')),
  'cookie.domain': opt(fc.constantFrom('example.com', '', '.example.com', 'bad domain')),
  'cookie.maxAgeSeconds': opt(fc.integer({ min: -10, max: 2_000_000_000 })),
  'cookie.expiresSeconds': opt(fc.integer({ min: -10, max: 2_000_000_000 })),
  'cookie.httpOnly': opt(fc.boolean()),
  'cookie.secure': opt(fc.constantFrom('always', 'https', 'never')),
  'cookie.sameSite': opt(fc.constantFrom('Strict', 'Lax', 'None')),
  'cookie.omitSameSiteNoneForOldClients': opt(fc.boolean()),
  'cookie.lifetime': opt(fc.constantFrom('session', 'permanent')),
  'cookie.nocache': opt(fc.boolean()),
  'appCookie.name': fc.oneof(token, fc.constantFrom('*', 'bad name')),
  'header.name': token,
  'sourceIp.timeoutSeconds': opt(fc.integer({ min: 1, max: 86400 })),
  rebalance: opt(fc.constantFrom('persistent', 'balanced')),
  onFailure: opt(fc.constantFrom('rebalance', 'fail', 'retryElsewhere', 'retryPinned')),
  absoluteTimeoutSeconds: opt(fc.integer({ min: 1, max: 86400 })),
  idleTimeoutSeconds: opt(fc.integer({ min: 1, max: 86400 })),
  canaryBehavior: opt(fc.constantFrom('sticky', 'legacy')),
  'loadBalancing.algorithm': opt(
    fc.constantFrom('roundRobin', 'leastConnections', 'sourceIpHash', 'random', 'ewma', 'hash'),
  ),
  'loadBalancing.hashKey': opt(
    fc.constantFrom('$remote_addr', '$remote_addr:$remote_port', '$http_x_user'),
  ),
  'route.sslRedirect': opt(fc.boolean()),
  'route.canary.weight': opt(fc.integer({ min: 0, max: 100 })),
});

/** Policies every OCI controller can say exactly (the LB-cookie Secure flag aside). */
export function expressibleValues(options: {
  secure: boolean;
  appCookieFallback: boolean;
}): fc.Arbitrary<SourceValues> {
  const lbCookie = fc
    .record({
      'cookie.name': fc.oneof(token, fc.constant('X-Oracle-BMC-LBS-Route')),
      'cookie.path': fc.constantFrom('/', '/app', '/a/b'),
      'cookie.domain': opt(fc.constantFrom('example.com', 'shop.example.com')),
      'cookie.maxAgeSeconds': opt(fc.integer({ min: 1, max: 2_000_000_000 })),
      'cookie.httpOnly': fc.boolean(),
      'cookie.secure': options.secure
        ? fc.constantFrom('always' as const, 'never' as const)
        : fc.constant('never' as const),
      onFailure: fc.constantFrom('rebalance' as const, 'fail' as const),
    })
    .map((v): SourceValues => ({ ...v, mode: 'cookie' }));
  const appCookie = fc
    .record({
      'appCookie.name': fc.oneof(token, fc.constant('*')),
      onFailure: options.appCookieFallback
        ? fc.constantFrom('rebalance' as const, 'fail' as const)
        : fc.constant('rebalance' as const),
    })
    .map((v): SourceValues => ({
      ...v,
      mode: 'appCookie',
      'cookie.name': 'X-Oracle-BMC-LBS-Route',
    }));
  const none = fc.constant<SourceValues>({ mode: 'none' });
  return fc
    .tuple(
      fc.oneof(lbCookie, appCookie, none),
      fc.constantFrom('roundRobin' as const, 'leastConnections' as const, 'sourceIpHash' as const),
    )
    .map(([v, algorithm]) => ({ ...v, 'loadBalancing.algorithm': algorithm }));
}
