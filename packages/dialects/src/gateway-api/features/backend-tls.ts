/**
 * BackendTLSPolicy (`gateway.networking.k8s.io`, v1 since Gateway API v1.4, v1alpha3 in
 * v1.1–v1.3 with the same `validation` block): TLS from the gateway to a Service's endpoints.
 * Read in kubernetes-sigs/gateway-api `apis/v1/backendtlspolicy_types.go`:
 *
 * - `targetRefs` (1–16): core `Service`s, each optionally narrowed to one port by
 *   `sectionName` (the Service port's name);
 * - `validation.hostname` (required): the name the certificate is checked against, and the SNI
 *   sent (GEP-1897: "the gateway MUST use hostname for SNI");
 * - `validation.caCertificateRefs` (ConfigMaps, key `ca.crt`) or
 *   `validation.wellKnownCACertificates: System` — exactly one of them (CEL);
 * - `validation.subjectAltNames` (v1.2+): names checked instead of `hostname`; not reproduced,
 *   Tether checks `hostname`.
 *
 * Among policies on one Service port the oldest wins (GEP-713), as for session policies.
 */
import { quote, warning, type Diagnostic } from '@tether/model';
import { isPlainObject, refusedByVendor, type FieldCollector } from '../../helpers';
import { namespaceOf, sourceOf } from '../../kube';
import type { KubeObject, ParseContext } from '../../types';
import { apiGroup } from './policies';

export interface BackendTlsTarget {
  namespace: string;
  service: string;
  /** The Service port's name, when the reference narrows the policy to one port. */
  sectionName?: string;
}

export interface BackendTlsRead {
  object: KubeObject;
  targets: BackendTlsTarget[];
  /** Absent when the API server would refuse the object. */
  validation?: {
    hostname: string;
    /** `namespace/name` of the first ConfigMap whose `ca.crt` the endpoints are checked against. */
    caConfigMap?: string;
  };
  diagnostics: Diagnostic[];
}

export function isBackendTlsPolicy(object: KubeObject): boolean {
  return object.kind === 'BackendTLSPolicy' && apiGroup(object) === 'gateway.networking.k8s.io';
}

const SPEC_FIELDS = ['targetRefs', 'validation', 'options'];

function readTargets(object: KubeObject, raw: unknown, diagnostics: Diagnostic[]) {
  const source = (field: string) => sourceOf('gateway-api', object, field);
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > 16) {
    diagnostics.push(
      refusedByVendor(source('spec.targetRefs'), raw, 'a list of 1 to 16 target references'),
    );
    return undefined;
  }
  const targets: BackendTlsTarget[] = [];
  for (const [i, ref] of raw.entries()) {
    const key = `spec.targetRefs[${i}]`;
    if (!isPlainObject(ref) || typeof ref.name !== 'string' || ref.name === '') {
      diagnostics.push(refusedByVendor(source(key), ref, 'an object with group, kind and name'));
      return undefined;
    }
    if ((ref.group ?? '') !== '' || ref.kind !== 'Service') {
      diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${key}: Tether reads BackendTLSPolicy on Services only; ${quote(`${String(ref.group)}/${String(ref.kind)}`)} ${quote(ref.name)} is left alone`,
          source(key),
        ),
      );
      continue;
    }
    const target: BackendTlsTarget = { namespace: namespaceOf(object), service: ref.name };
    if (typeof ref.sectionName === 'string' && ref.sectionName !== '')
      target.sectionName = ref.sectionName;
    targets.push(target);
  }
  return targets;
}

function readValidation(
  object: KubeObject,
  raw: unknown,
  diagnostics: Diagnostic[],
): BackendTlsRead['validation'] {
  const source = (field: string) => sourceOf('gateway-api', object, field);
  if (!isPlainObject(raw) || typeof raw.hostname !== 'string' || raw.hostname === '') {
    diagnostics.push(refusedByVendor(source('spec.validation'), raw, 'an object with a hostname'));
    return undefined;
  }
  const refs = raw.caCertificateRefs;
  const wellKnown = raw.wellKnownCACertificates;
  const hasRefs = Array.isArray(refs) && refs.length > 0;
  if (hasRefs === (wellKnown !== undefined)) {
    // The CRD's CEL rule.
    diagnostics.push(
      refusedByVendor(
        source('spec.validation'),
        raw,
        'exactly one of caCertificateRefs or wellKnownCACertificates',
      ),
    );
    return undefined;
  }
  if (raw.subjectAltNames !== undefined)
    diagnostics.push(
      warning(
        'NotReproduced',
        'spec.validation.subjectAltNames is not checked by Tether: it checks the certificate against spec.validation.hostname',
        source('spec.validation.subjectAltNames'),
      ),
    );
  if (!hasRefs) {
    if (wellKnown !== 'System') {
      diagnostics.push(
        refusedByVendor(source('spec.validation.wellKnownCACertificates'), wellKnown, 'System'),
      );
      return undefined;
    }
    return { hostname: raw.hostname };
  }
  const [first] = refs as unknown[];
  if (
    !isPlainObject(first) ||
    (first.group ?? '') !== '' ||
    first.kind !== 'ConfigMap' ||
    typeof first.name !== 'string'
  ) {
    diagnostics.push(
      warning(
        'NotReproduced',
        'spec.validation.caCertificateRefs[0]: Tether reads CA certificates from ConfigMaps only; the endpoints cannot be verified, so their requests get 502',
        source('spec.validation.caCertificateRefs[0]'),
      ),
    );
    return { hostname: raw.hostname, caConfigMap: `${namespaceOf(object)}/` };
  }
  if ((refs as unknown[]).length > 1)
    diagnostics.push(
      warning(
        'NotReproduced',
        'spec.validation.caCertificateRefs: Tether verifies against the first ConfigMap only',
        source('spec.validation.caCertificateRefs'),
      ),
    );
  return { hostname: raw.hostname, caConfigMap: `${namespaceOf(object)}/${first.name}` };
}

/** Reads a BackendTLSPolicy: its Service targets and its validation; never throws. */
export function readBackendTlsPolicy(object: KubeObject): BackendTlsRead {
  const diagnostics: Diagnostic[] = [];
  const spec = object.spec;
  const source = (field: string) => sourceOf('gateway-api', object, field);
  if (!isPlainObject(spec)) {
    diagnostics.push(refusedByVendor(source('spec'), spec, 'an object with targetRefs'));
    return { object, targets: [], diagnostics };
  }
  for (const key of Object.keys(spec))
    if (!SPEC_FIELDS.includes(key))
      diagnostics.push(
        warning(
          'UnknownField',
          `spec.${key} is not a field of BackendTLSPolicy; the API server prunes it`,
          source(`spec.${key}`),
        ),
      );
  const targets = readTargets(object, spec.targetRefs, diagnostics) ?? [];
  const validation = readValidation(object, spec.validation, diagnostics);
  return validation
    ? { object, targets, validation, diagnostics }
    : { object, targets, diagnostics };
}

const indexes = new WeakMap<readonly KubeObject[], Map<string, BackendTlsRead[]>>();

/** GEP-713: the oldest policy first, then by namespace/name. */
function precedes(a: BackendTlsRead, b: BackendTlsRead): number {
  const age = (p: BackendTlsRead) => p.object.metadata.creationTimestamp ?? '~';
  const id = (p: BackendTlsRead) => `${namespaceOf(p.object)}/${p.object.metadata.name}`;
  const byAge = age(a).localeCompare(age(b));
  return byAge !== 0 ? byAge : id(a).localeCompare(id(b));
}

/** The BackendTLSPolicies on a Service, the one that applies first; built once per snapshot. */
function policiesOn(context: ParseContext, namespace: string, service: string): BackendTlsRead[] {
  let index = indexes.get(context.objects);
  if (!index) {
    index = new Map();
    for (const object of context.objects) {
      if (!isBackendTlsPolicy(object)) continue;
      const read = readBackendTlsPolicy(object);
      if (!read.validation) continue;
      for (const key of new Set(read.targets.map((t) => `${t.namespace}/${t.service}`)))
        index.set(key, [...(index.get(key) ?? []), read]);
    }
    for (const list of index.values()) list.sort(precedes);
    indexes.set(context.objects, index);
  }
  return index.get(`${namespace}/${service}`) ?? [];
}

/** The name of a Service port given by number or name, for `sectionName` matching. */
function portName(
  context: ParseContext,
  namespace: string,
  service: string,
  port: number | string | undefined,
): string | undefined {
  if (typeof port === 'string') return port;
  const object = context.findService(namespace, service);
  const ports = isPlainObject(object?.spec) ? object.spec.ports : undefined;
  if (!Array.isArray(ports)) return undefined;
  const found = ports.find((p: unknown) => isPlainObject(p) && p.port === port) as
    { name?: unknown } | undefined;
  return typeof found?.name === 'string' ? found.name : undefined;
}

/** The policy that applies to one backend (a Service port), if any. */
export function backendTlsFor(
  context: ParseContext,
  backend: { namespace: string; service: string; port?: number | string | undefined },
): BackendTlsRead | undefined {
  const candidates = policiesOn(context, backend.namespace, backend.service);
  if (candidates.length === 0) return undefined;
  const name = portName(context, backend.namespace, backend.service, backend.port);
  return candidates.find((p) =>
    p.targets.some(
      (t) =>
        t.service === backend.service && (t.sectionName === undefined || t.sectionName === name),
    ),
  );
}

/** Every BackendTLSPolicy a backend's parse reads (for a cache of parse results). */
export function backendTlsDependencies(
  context: ParseContext,
  backends: readonly { namespace: string; service: string }[],
): KubeObject[] {
  const seen = new Set<KubeObject>();
  for (const b of backends)
    for (const p of policiesOn(context, b.namespace, b.service)) seen.add(p.object);
  return [...seen];
}

/** The route fields of TLS to the endpoints, as the policy says. */
export function backendTlsFields(c: FieldCollector, read: BackendTlsRead): void {
  const v = read.validation;
  if (!v) return;
  c.set('route.backendProtocol', 'HTTPS', 'spec.validation');
  c.set('route.backendTls.verify', true, 'spec.validation');
  c.set('route.backendTls.serverName', v.hostname, 'spec.validation.hostname');
  c.set('route.backendTls.sni', true, 'spec.validation.hostname');
  if (v.caConfigMap !== undefined)
    c.set('route.backendTls.caConfigMap', v.caConfigMap, 'spec.validation.caCertificateRefs');
}
