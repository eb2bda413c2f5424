import {
  Diagnostic,
  EntryFragment,
  PRECEDENCE,
  error,
  warning,
  type FieldValues,
} from '@tether/model';
import { FieldCollector } from '../../helpers';
import { EntryBackend, readService, servedOn, serviceEntries, sourceOf } from '../../kube';
import type { KubeObject, ParseContext, ParseResult } from '../../types';
import {
  annotation,
  applyAppCookie,
  applyCookiePersistence,
  checkCookieName,
  presentKeys,
} from '../common';
import { KEYS, TABLE } from './annotations';
import { ccmListener, type ListenerPlan } from './features/listeners';
import { missingAppCookieName, readListenerPlan, readPolicy, warnNlbOnly } from './features/layer7';
import { readNlbPolicy, warnIgnoredOnNlb } from './features/network';

const DIALECT = 'oci-lb';
const TABLE_KEYS = TABLE.map((k) => k.key);

/** lb unless the annotation says nlb in any case; other values also mean lb. */
function loadBalancerType(object: KubeObject, diagnostics: Diagnostic[]): 'lb' | 'nlb' {
  const raw = annotation(object, KEYS.lbType);
  if (raw === undefined || raw === '') return 'lb';
  const lower = raw.toLowerCase();
  if (lower === 'nlb' || lower === 'lb') return lower;
  diagnostics.push(
    warning(
      'InvalidAnnotation',
      `${KEYS.lbType}: ${JSON.stringify(raw.slice(0, 80))} is not lb or nlb; the OCI cloud controller manager would silently build a layer-7 load balancer (lb)`,
      sourceOf(DIALECT, object, KEYS.lbType),
    ),
  );
  return 'lb';
}

/** Cookie persistence of the layer-7 load balancer, the same for every listener of the Service. */
function readCookiePersistence(
  object: KubeObject,
  c: FieldCollector,
  served: readonly EntryBackend[],
): void {
  const app = applyCookiePersistence(
    DIALECT,
    object,
    c,
    served,
    { lbCookie: KEYS.lbCookie, appCookie: KEYS.appCookie },
    [KEYS.backendProtocol, KEYS.sslPorts],
  );
  if (app) {
    const name = app.cookieName;
    if (name === undefined || name === '') {
      c.diagnostics.push(missingAppCookieName(object));
      return;
    }
    const ctx = {
      source: c.source(KEYS.appCookie),
      diagnostics: c.diagnostics,
      otherModelKey: KEYS.lbCookie,
    };
    if (checkCookieName(ctx, name, 'cookieName', true))
      applyAppCookie(c, name, app.disableFallback, KEYS.appCookie);
  }
}

/**
 * A Service read the way the OCI cloud controller manager reads it: one listener per port
 * (protocol from the backend-protocol annotation, TLS from ssl-ports plus tls-secret), one
 * backend set per port, and the persistence and policy annotations applied to every one.
 */
export function parse(object: KubeObject, _context: ParseContext): ParseResult {
  const diagnostics: Diagnostic[] = [];
  if (object.kind !== 'Service') return { fragments: [], diagnostics };
  const { spec } = readService(object);
  if (!spec || spec.type !== 'LoadBalancer') {
    const present = presentKeys(object, TABLE_KEYS);
    if (present.length > 0) {
      diagnostics.push(
        warning(
          'IneffectiveSetting',
          `the OCI cloud controller manager builds load balancers only for Services of type LoadBalancer (this one is ${JSON.stringify(spec?.type ?? 'ClusterIP')}), so ${present.join(', ')} ${present.length === 1 ? 'has' : 'have'} no effect`,
          ...present.map((k) => sourceOf(DIALECT, object, k)),
        ),
      );
    }
    return { fragments: [], diagnostics };
  }
  if (spec.sessionAffinity !== undefined && spec.sessionAffinity !== 'None') {
    // validateService in the cloud controller manager, for lb and nlb alike.
    diagnostics.push(
      error(
        'IncompatibleSettings',
        `the OCI cloud controller manager refuses a Service of type LoadBalancer whose spec.sessionAffinity is ${JSON.stringify(spec.sessionAffinity)} ("OCI only supports SessionAffinity "None" currently"); set persistence with ${KEYS.lbCookie} or ${KEYS.appCookie} instead`,
        sourceOf('kube-service', object, 'spec.sessionAffinity'),
        ...presentKeys(object, TABLE_KEYS).map((k) => sourceOf(DIALECT, object, k)),
      ),
    );
  }
  const c = new FieldCollector(DIALECT, object, diagnostics);
  const entries = serviceEntries(object, spec);
  let served: EntryBackend[];
  /** Fields of the entries whose backend set speaks TLS (by Service port). */
  let backendTls: (port: number | undefined) => FieldValues = () => ({});
  if (loadBalancerType(object, diagnostics) === 'nlb') {
    warnIgnoredOnNlb(object, diagnostics);
    readNlbPolicy(object, c);
    served = entries;
  } else {
    warnNlbOnly(object, diagnostics);
    readPolicy(object, c);
    const plan = readListenerPlan(
      object,
      (spec.ports ?? []).map((p) => p.port),
      diagnostics,
    );
    served = entries.map((e) =>
      servedOn(
        e,
        e.entry.listeners.map((l) => ccmListener(l, plan)),
      ),
    );
    readCookiePersistence(object, c, served);
    // OCI's gRPC listener speaks gRPC to the backends (its listener documentation).
    if (plan.protocol === 'GRPC') c.set('route.backendProtocol', 'GRPC', KEYS.backendProtocol);
    backendTls = backendSetTls(object, plan, diagnostics);
  }
  const fragments: EntryFragment[] = served.map((e) => ({
    type: 'entry',
    dialect: DIALECT,
    entry: e.entry,
    backend: e.backend,
    precedence: PRECEDENCE.entry,
    values: { ...c.values, ...backendTls(e.entry.listeners[0]?.port) },
  }));
  return { fragments, diagnostics };
}

/**
 * The backend sets of the ssl-ports with a tls-backendset-secret speak TLS to the backends
 * without verifying them: the controller's getSSLConfiguration sets VerifyPeerCertificate false
 * and VerifyDepth 0 (load_balancer_spec.go). A TCP backend set would need the proxy to open TLS
 * on the relayed stream, which it does not.
 */
function backendSetTls(
  object: KubeObject,
  plan: ListenerPlan,
  diagnostics: Diagnostic[],
): (port: number | undefined) => FieldValues {
  if (plan.backendTlsPorts.size === 0) return () => ({});
  const tcp = (plan.protocol ?? 'TCP') === 'TCP';
  if (tcp) {
    diagnostics.push(
      warning(
        'NotReproduced',
        `${KEYS.backendSetSecret}: TCP backend sets of the ssl-ports speak TLS to the backends in OCI; Tether relays their streams in plain TCP`,
        sourceOf(DIALECT, object, KEYS.backendSetSecret),
      ),
    );
    return () => ({});
  }
  const c = new FieldCollector(DIALECT, object, diagnostics);
  c.set(
    'route.backendProtocol',
    plan.protocol === 'GRPC' ? 'GRPCS' : 'HTTPS',
    KEYS.backendSetSecret,
  );
  c.set('route.backendTls.verify', false, KEYS.backendSetSecret);
  c.set('route.backendTls.sni', false, KEYS.backendSetSecret);
  const values = c.values;
  return (port) => (port !== undefined && plan.backendTlsPorts.has(port) ? values : {});
}
