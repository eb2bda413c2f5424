/**
 * Policies into ingress-nginx annotations, for `tether migrate --to ingress-nginx`.
 *
 * Choices where nginx has no exact equivalent (each is reported as UnsupportedByTarget):
 * - source-IP persistence becomes `upstream-hash-by: $remote_addr`: a consistent hash keeps a
 *   client on one endpoint while the endpoints stay the same, the nearest nginx has;
 * - header persistence is not written at all: nginx can only hash by a header the client
 *   sends, and clients waiting to be given a session header would all hash to one endpoint;
 * - application-cookie persistence is not written: nginx pins only with a cookie of its own,
 *   from the first request on, which is not what following the application's cookie does;
 * - a Secure-only cookie on a host the Ingress serves without TLS, and balancing next to cookie
 *   affinity (which nginx ignores), are left out rather than written to no effect.
 */
import {
  Diagnostic,
  Listener,
  ResolvedEntry,
  dedupeDiagnostics,
  quote,
  warning,
} from '@tether/model';
import { isPlainObject } from '../helpers';
import { entriesOf } from '../kube';
import type { EmitInput, EmitOutput, KubeObject } from '../types';
import { KEY, KEYS, NginxKey, PREFIX } from './annotations';
import { IngressFacts, expressPersistence } from './features/affinity';
import { expressBalancing } from './features/balancing';
import { expressCanary } from './features/canary';
import { expressBackendTls } from './features/backend-tls';
import { expressRoute } from './features/routing';
import { Expression } from './expression';
import { AnnotationReader, bool } from './reader';

function factsOf(object: KubeObject): IngressFacts {
  const serviceUpstream = new AnnotationReader(object, []).read(KEY.serviceUpstream, bool);
  return { serviceUpstream: serviceUpstream === true };
}

/**
 * The listeners ingress-nginx serves each rule on, from the Ingress's own TLS section. An
 * entry resolved under another dialect may carry that vendor's listeners instead (an OCI
 * certificate, say), which the Ingress alone does not give nginx.
 */
function ownListeners(object: KubeObject): Map<string, Listener[]> {
  return new Map((entriesOf(object).spec ?? []).map((i) => [i.entry.rule, i.entry.listeners]));
}

function asServedByNginx(entry: ResolvedEntry, listeners: Map<string, Listener[]>): ResolvedEntry {
  const own = listeners.get(entry.entry.rule);
  return own ? { ...entry, entry: { ...entry.entry, listeners: own } } : entry;
}

/** One entry's policy as ingress-nginx annotations, with what they cannot say. */
export function express(entry: ResolvedEntry, facts: IngressFacts): Expression | undefined {
  const policy = entry.policy;
  if (!policy) return undefined;
  const x = new Expression(entry);
  expressPersistence(x, policy, facts);
  expressBalancing(x, policy.mode, entry.loadBalancing ?? { algorithm: 'roundRobin' }, facts);
  expressRoute(x, entry.route);
  expressBackendTls(x, entry.route);
  if (entry.route.canary !== undefined) expressCanary(x, entry.route.canary);
  return x;
}

const entryName = (x: Expression): string =>
  `${x.entry.entry.rule} → ${x.entry.backend.service}:${x.entry.backend.port}`;
const short = (key: NginxKey): string => key.slice(PREFIX.length);

/** Keys on which `other` needs something the annotations written for `first` do not say. */
function differences(first: Expression, other: Expression): NginxKey[] {
  return KEYS.filter(
    (k) => (first.required.has(k) || other.required.has(k)) && first.want(k) !== other.want(k),
  );
}

function differenceWarning(first: Expression, other: Expression, keys: NginxKey[]): Diagnostic {
  const needs = keys
    .map((k) => {
      const value = other.want(k);
      return `${short(k)} ${value === undefined ? 'left out' : quote(value)}`;
    })
    .join(', ');
  const fields = [...new Set(keys.flatMap((k) => [...other.fieldsOf(k), ...first.fieldsOf(k)]))];
  return warning(
    'UnsupportedByTarget',
    `ingress-nginx takes one set of annotations per Ingress, written for ${entryName(first)}; ${entryName(other)} would need ${needs}, so it takes the settings of ${entryName(first)}`,
    ...other.sources(...fields),
  );
}

/** The value every expression agrees on for `key`, if they all rely on the same one. */
function agreed(expressions: readonly Expression[], key: NginxKey): string | undefined {
  const values = new Set(expressions.map((x) => x.want(key)));
  const [only] = values;
  return values.size === 1 ? only : undefined;
}

function existingAnnotations(object: KubeObject): Record<string, unknown> {
  const annotations: unknown = object.metadata.annotations;
  return isPlainObject(annotations) ? annotations : {};
}

const nothing = (): EmitOutput => ({ annotations: {}, spec: [], diagnostics: [], covers: [] });

/**
 * Writes the policy of an Ingress's entry points as ingress-nginx annotations. The controller
 * has one setting per Ingress, so the first entry's policy is written and every entry that
 * would need something else is reported. Values equal to the controller's defaults are left
 * out unless `explicit`; `session-cookie-path` equal to the entry's own path is a default too,
 * and is written only when every entry has that path, since one annotation covers them all.
 */
export function emit(input: EmitInput): EmitOutput {
  // Objects read from manifests always have metadata; anything else has nowhere to write to.
  const metadata: unknown = input.object.metadata;
  if (!isPlainObject(metadata) || typeof metadata.name !== 'string') return nothing();
  const facts = factsOf(input.object);
  const listeners = ownListeners(input.object);
  const expressions = input.entries
    .map((e) => express(asServedByNginx(e, listeners), facts))
    .filter((x): x is Expression => x !== undefined);
  const [first, ...others] = expressions;
  if (!first) return nothing();
  const diagnostics = [...first.diagnostics];
  for (const other of others) {
    diagnostics.push(...other.diagnostics);
    const keys = differences(first, other);
    if (keys.length > 0) diagnostics.push(differenceWarning(first, other, keys));
  }
  const wanted = new Map<NginxKey, string>();
  for (const key of KEYS) {
    const needed = expressions.some((x) => x.required.has(key));
    const value = needed ? first.want(key) : agreed(expressions, key);
    if (value !== undefined && (needed || input.explicit)) wanted.set(key, value);
  }
  const existing = existingAnnotations(input.object);
  const annotations: Record<string, string> = {};
  for (const key of KEYS) {
    const value =
      wanted.get(key) ?? (Object.hasOwn(existing, key) ? agreed(expressions, key) : undefined);
    // A key already there with this value stays as written; one with another value that
    // the policy leaves at the default is set to the default so that it does not linger.
    if (value !== undefined && existing[key] !== value) annotations[key] = value;
  }
  // The controller's TLS redirect is a default of ingress-nginx: an Ingress with none of its
  // annotations would not be read as ingress-nginx's at all, and the redirect would be lost.
  const redirect = first.defaults.get(KEY.sslRedirect);
  if (redirect && !KEYS.some((key) => key in annotations || Object.hasOwn(existing, key)))
    annotations[KEY.sslRedirect] = redirect.value;
  // The warnings say why nginx cannot carry a part of the policy, not each field's value
  // before and after, so they cover no field: the migration states those values itself.
  return { annotations, spec: [], diagnostics: dedupeDiagnostics(diagnostics), covers: [] };
}
