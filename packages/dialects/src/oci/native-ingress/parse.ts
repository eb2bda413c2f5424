import { Diagnostic, EntryFragment, PRECEDENCE, quote, warning } from '@tether/model';
import { FieldCollector, refusedByVendor } from '../../helpers';
import {
  EntryBackend,
  IngressSpec,
  annotationsOf,
  ingressEntries,
  readIngress,
  readService,
  servedOn,
  sourceOf,
} from '../../kube';
import type { KubeObject, ParseContext, ParseResult } from '../../types';
import {
  annotation,
  applyAppCookie,
  applyCookiePersistence,
  checkCookieName,
  isBlank,
  readOciPolicy,
  suggestField,
} from '../common';
import { KEYS, NicProtocol, PERSISTENCE_PREFIXES, PREFIX, PROTOCOLS, TABLE } from './annotations';
import { NIC_KEYS_NOT_READ } from './known-keys';
import { NicListenerPlan, nicListener } from './features/listeners';

const DIALECT = 'oci-native-ingress';
const NIC = 'the OCI native ingress controller';
const TABLE_KEYS = new Set(TABLE.map((k) => k.key));

/** Keys under the controller's prefix that it does not define (typos, invented keys). */
function unknownNicKeys(object: KubeObject, diagnostics: Diagnostic[]): void {
  for (const key of Object.keys(annotationsOf(object))) {
    if (!key.startsWith(PREFIX) || TABLE_KEYS.has(key) || NIC_KEYS_NOT_READ.has(key)) continue;
    // Those are reported by the generic unknown-key check of the dialect's prefixes.
    if (PERSISTENCE_PREFIXES.some((p) => key.startsWith(p))) continue;
    const known = [...TABLE_KEYS, ...NIC_KEYS_NOT_READ].map((k) => k.slice(PREFIX.length));
    const near = suggestField(key.slice(PREFIX.length), known);
    diagnostics.push(
      warning(
        'UnknownAnnotation',
        `${key} is not an annotation ${NIC} defines; it has no effect${near ? `; did you mean ${PREFIX}${near}?` : ''}`,
        sourceOf(DIALECT, object, key),
      ),
    );
  }
}

function readPolicy(object: KubeObject, c: FieldCollector): void {
  // The controller passes the value on unchecked; the OCI API refuses unknown policy names.
  readOciPolicy(object, c, KEYS.policy, 'leastConnections', 'OCI refuses the backend set');
}

function readProtocol(object: KubeObject, diagnostics: Diagnostic[]): NicProtocol {
  const raw = annotation(object, KEYS.protocol);
  if (raw === undefined) return 'HTTP';
  const upper = raw.toUpperCase();
  const known = PROTOCOLS.find((p) => p === upper);
  if (known) return known;
  diagnostics.push(
    refusedByVendor(
      sourceOf(DIALECT, object, KEYS.protocol),
      raw,
      'HTTP, HTTP2, GRPC or TCP; OCI refuses the listener',
    ),
  );
  return 'HTTP';
}

/** A listener-port annotation: Go's Atoi, 0 meaning unset, then a real TCP port. */
function readPort(object: KubeObject, key: string, diagnostics: Diagnostic[]): number | undefined {
  const raw = annotation(object, key);
  if (raw === undefined) return undefined;
  const number = /^[+-]?\d{1,18}$/.test(raw) ? Number(raw) : NaN;
  if (number === 0) return undefined;
  if (Number.isInteger(number) && number >= 1 && number <= 65535) return number;
  diagnostics.push(
    refusedByVendor(
      sourceOf(DIALECT, object, key),
      raw,
      `a port number from 1 to 65535; ${Number.isNaN(number) ? NIC : 'OCI'} refuses ${quote(raw)}`,
    ),
  );
  return undefined;
}

function listenerPlan(
  object: KubeObject,
  spec: IngressSpec,
  diagnostics: Diagnostic[],
): NicListenerPlan {
  const tlsHosts = new Set(
    (spec.tls ?? [])
      .filter((t) => t.secretName !== undefined && t.secretName !== '')
      .flatMap((t) => t.hosts ?? []),
  );
  const certificate = annotation(object, KEYS.certificate);
  const plan: NicListenerPlan = {
    protocol: readProtocol(object, diagnostics),
    tlsHosts,
    certificate: certificate !== undefined && !isBlank(certificate),
  };
  const httpPort = readPort(object, KEYS.httpPort, diagnostics);
  const httpsPort = readPort(object, KEYS.httpsPort, diagnostics);
  if (httpPort !== undefined) plan.httpPort = httpPort;
  if (httpsPort !== undefined) plan.httpsPort = httpsPort;
  return plan;
}

/** The Service port number an entry routes to; named ports are looked up on the Service. */
function servicePort(item: EntryBackend, context: ParseContext): number | undefined {
  const port = item.backend.port;
  if (typeof port === 'number') return port > 0 ? port : undefined;
  const service = context.findService(item.backend.namespace, item.backend.service);
  const spec = service ? readService(service).spec : undefined;
  return spec?.ports?.find((p) => p.name === port)?.port;
}

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
    [KEYS.protocol, KEYS.certificate],
  );
  if (app) {
    // The controller keeps only the trimmed cookie name, "*" when there is none.
    const name = (app.cookieName ?? '').trim() || '*';
    const ctx = {
      source: c.source(KEYS.appCookie),
      diagnostics: c.diagnostics,
      otherModelKey: KEYS.lbCookie,
    };
    if (app.disableFallback === true) {
      c.diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${KEYS.appCookie}: disableFallback is dropped by ${NIC}, so OCI still moves clients to another backend when theirs is gone`,
          ctx.source,
        ),
      );
    }
    if (checkCookieName(ctx, name, 'cookieName', true))
      applyAppCookie(c, name, undefined, KEYS.appCookie);
  }
}

/**
 * An Ingress read the way the OCI native ingress controller reads it: one listener per
 * Service port (TLS per host), one backend set per Service port with the Ingress's policy
 * and session persistence.
 */
export function parse(object: KubeObject, context: ParseContext): ParseResult {
  const diagnostics: Diagnostic[] = [];
  if (object.kind !== 'Ingress') return { fragments: [], diagnostics };
  unknownNicKeys(object, diagnostics);
  const { spec } = readIngress(object);
  if (!spec) return { fragments: [], diagnostics };
  const c = new FieldCollector(DIALECT, object, diagnostics);
  readPolicy(object, c);
  const plan = listenerPlan(object, spec, diagnostics);
  const served = ingressEntries(object, spec).map((item) =>
    servedOn(item, [nicListener(item.entry, servicePort(item, context), plan)]),
  );
  readCookiePersistence(object, c, served);
  // A gRPC listener speaks gRPC (HTTP/2) to the backends too; HTTP and HTTP2 listeners speak
  // HTTP/1.1 to them (OCI's listener documentation).
  if (plan.protocol === 'GRPC') c.set('route.backendProtocol', 'GRPC', KEYS.protocol);
  const fragments: EntryFragment[] = served.map((e) => ({
    type: 'entry',
    dialect: DIALECT,
    entry: e.entry,
    backend: e.backend,
    precedence: PRECEDENCE.entry,
    values: { ...c.values },
  }));
  return { fragments, diagnostics };
}
