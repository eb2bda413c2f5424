import {
  Diagnostic,
  FlatValues,
  ResolvedEntry,
  SourceRef,
  info,
  quote,
  warning,
} from '@tether/model';
import { namespaceOf, readService, sourceOf } from '../../kube';
import { flatOf } from '../../emit-losses';
import type { EmitInput, EmitOutput, KubeObject } from '../../types';
import {
  OciTarget,
  annotation,
  isPlainHttpListener,
  ociAnnotations,
  ociLosses,
  planWrite,
  readBack,
} from '../common';
import { KEYS } from './annotations';
import { planNlb } from './emit-nlb';
import { readListenerPlan } from './features/layer7';
import { ccmListener } from './features/listeners';

/** The cloud controller manager reads its annotations on Services only. */
export const targetKinds = ['Service'] as const;

const DIALECT = 'oci-lb';
const CCM = 'the OCI cloud controller manager';

const nameOf = (o: KubeObject): string => `${namespaceOf(o)}/${o.metadata.name}`;

function uniqueSources(entries: readonly ResolvedEntry[]): SourceRef[] {
  const seen = new Map<string, SourceRef>();
  for (const e of entries)
    for (const list of Object.values(e.sources))
      for (const s of list ?? []) if (!s.isDefault) seen.set(JSON.stringify(s), s);
  return [...seen.values()];
}

/** The backend protocol the controller would use: each port's own (TCP) unless the annotation says otherwise. */
function backendProtocol(object: KubeObject): string {
  const raw = annotation(object, KEYS.backendProtocol);
  return raw === undefined || raw === '' ? 'TCP' : raw.toUpperCase();
}

/** Whether no port of the Service would be a plain-HTTP listener, with `protocol` as the backend protocol. */
function noPlainListener(object: KubeObject, protocol: string): boolean {
  const ports = readService(object).spec?.ports ?? [];
  const withProtocol: KubeObject = {
    ...object,
    metadata: {
      ...object.metadata,
      annotations: { ...object.metadata.annotations, [KEYS.backendProtocol]: protocol },
    },
  };
  const plan = readListenerPlan(
    withProtocol,
    ports.map((p) => p.port),
    [],
  );
  return !ports.some((p) =>
    isPlainHttpListener(
      ccmListener(
        { protocol: p.protocol?.toUpperCase() === 'UDP' ? 'UDP' : 'TCP', port: p.port },
        plan,
      ),
    ),
  );
}

function switchedToHttp(object: KubeObject): Diagnostic {
  const before = annotation(object, KEYS.backendProtocol);
  return info(
    'PersistenceOnTcpListener',
    `${KEYS.backendProtocol}: HTTP is written because OCI keeps cookie sessions only in HTTP mode and the listeners of Service ${nameOf(object)} would otherwise be TCP (${before === undefined ? 'the annotation is not set' : `it says ${quote(before)}`}); every port of the Service becomes an HTTP listener`,
    sourceOf(DIALECT, object, KEYS.backendProtocol),
  );
}

function emitLayer7(object: KubeObject, first: FlatValues, explicit: boolean) {
  const protocol = backendProtocol(object);
  const needsHttp = protocol === 'TCP';
  const target: OciTarget = {
    defaultPolicy: 'ROUND_ROBIN',
    keepsAppCookieFallback: true,
    allHttps: noPlainListener(object, needsHttp ? 'HTTP' : protocol),
    explicit,
  };
  const { write, notes } = planWrite(first, target);
  const annotations = ociAnnotations(object, write, KEYS);
  const diagnostics: Diagnostic[] = [];
  if (write.persistence.kind !== 'none' && needsHttp) {
    annotations[KEYS.backendProtocol] = 'HTTP';
    diagnostics.push(switchedToHttp(object));
  }
  return { annotations, expected: readBack(write, true), notes, diagnostics };
}

/**
 * Writes the first entry's policy as the cloud controller manager's Service annotations in
 * OCI's canonical form, switching the Service's listeners to HTTP where a cookie session needs
 * it, and reports every field OCI will not say as the source did. Never throws.
 */
export function emit({ object, entries, explicit }: EmitInput): EmitOutput {
  const out: EmitOutput = { annotations: {}, spec: [], diagnostics: [], covers: [] };
  if (object.kind !== 'Service') return out;
  const withPolicy = entries.filter((e) => e.policy !== null);
  const type = readService(object).spec?.type ?? 'ClusterIP';
  if (type !== 'LoadBalancer') {
    out.diagnostics.push(
      warning(
        'UnsupportedByTarget',
        `Service ${nameOf(object)} is of type ${quote(type)}; ${CCM} builds load balancers only for Services of type LoadBalancer, so no ${DIALECT} annotation is written`,
        ...uniqueSources(withPolicy),
      ),
    );
    return out;
  }
  const [first] = withPolicy;
  if (!first) return out;
  const nlb = annotation(object, KEYS.lbType)?.toLowerCase() === 'nlb';
  const result = nlb
    ? planNlb(object, flatOf(first), explicit)
    : emitLayer7(object, flatOf(first), explicit);
  out.annotations = result.annotations;
  const found = ociLosses({
    dialect: DIALECT,
    entries: withPolicy,
    expected: result.expected,
    notes: result.notes,
  });
  out.diagnostics = [...result.diagnostics, ...found.diagnostics];
  out.covers = found.covers;
  return out;
}
