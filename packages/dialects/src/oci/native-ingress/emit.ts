import { annotationsOf, ingressEntries, readIngress } from '../../kube';
import { flatOf } from '../../emit-losses';
import type { EmitInput, EmitOutput, KubeObject } from '../../types';
import {
  OciTarget,
  annotation,
  isBlank,
  ociLosses,
  ociAnnotations,
  planWrite,
  readBack,
} from '../common';
import { KEYS, PREFIX } from './annotations';

/** The native ingress controller reads its annotations on Ingresses only. */
export const targetKinds = ['Ingress'] as const;

const DIALECT = 'oci-native-ingress';

/** How the controller will serve the Ingress, as far as writing a session depends on it. */
function listenerFacts(object: KubeObject): { passThrough: boolean; allTls: boolean } {
  const passThrough = annotation(object, KEYS.protocol)?.toUpperCase() === 'TCP';
  const certificate = annotation(object, KEYS.certificate);
  if (certificate !== undefined && !isBlank(certificate)) return { passThrough, allTls: true };
  const spec = readIngress(object).spec;
  if (!spec) return { passThrough, allTls: false };
  const tlsHosts = new Set(
    (spec.tls ?? [])
      .filter((t) => t.secretName !== undefined && t.secretName !== '')
      .flatMap((t) => t.hosts ?? []),
  );
  const entries = ingressEntries(object, spec);
  const allTls =
    entries.length > 0 &&
    entries.every((e) => e.entry.host !== undefined && tlsHosts.has(e.entry.host));
  return { passThrough, allTls };
}

/**
 * Writes the first entry's policy as the native ingress controller's Ingress annotations in
 * OCI's canonical form, and reports every field OCI will not say as the source did. The
 * controller serves an Ingress by its class, not by its annotations, so at least one of its
 * keys is written: Tether reads the controller's default policy only where one is present.
 * Never throws.
 */
export function emit({ object, entries, explicit }: EmitInput): EmitOutput {
  const out: EmitOutput = { annotations: {}, spec: [], diagnostics: [], covers: [] };
  const withPolicy = entries.filter((e) => e.policy !== null);
  const [first] = withPolicy;
  if (object.kind !== 'Ingress' || !first) return out;
  const facts = listenerFacts(object);
  const target: OciTarget = {
    defaultPolicy: 'LEAST_CONNECTIONS',
    keepsAppCookieFallback: false,
    allHttps: facts.allTls,
    explicit,
  };
  if (facts.passThrough)
    target.noPersistence = `the Ingress is served by a TCP pass-through listener (${KEYS.protocol}: TCP), where OCI keeps no cookie sessions`;
  const { write, notes } = planWrite(flatOf(first), target);
  const annotations = ociAnnotations(object, write, KEYS);
  const keys = new Set([...Object.keys(annotationsOf(object)), ...Object.keys(annotations)]);
  if (![...keys].some((k) => k.startsWith(PREFIX))) annotations[KEYS.policy] = write.policy;
  out.annotations = annotations;
  const found = ociLosses({
    dialect: DIALECT,
    entries: withPolicy,
    expected: readBack(write, false),
    notes,
  });
  out.diagnostics = found.diagnostics;
  out.covers = found.covers;
  return out;
}
