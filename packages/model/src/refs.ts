import { z } from 'zod';

/** The dialects Tether reads, plus the two pseudo-sources used for structure and model defaults. */
export const DialectId = z.enum([
  'oci-lb',
  'oci-native-ingress',
  'ingress-nginx',
  'huawei-cce',
  'openshift',
  'gateway-api',
  'kube-service',
]);
export type DialectId = z.infer<typeof DialectId>;

/** Who said something: a dialect, `kubernetes` (the object's own structure) or `tether` (our defaults). */
export const Origin = z.union([DialectId, z.literal('kubernetes'), z.literal('tether')]);
export type Origin = z.infer<typeof Origin>;

/** Where a value came from: the object and the annotation key or spec path. */
export const SourceRef = z.object({
  dialect: Origin,
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  /** The annotation key or the spec path (for example `spec.rules[0].sessionPersistence.sessionName`). */
  field: z.string(),
  /** True when the value is the dialect's default rather than something the user wrote. */
  isDefault: z.boolean().optional(),
  /** Filled in by whoever read the manifest from a file. */
  file: z.string().optional(),
  line: z.number().int().optional(),
});
export type SourceRef = z.infer<typeof SourceRef>;

/** A Service port, by number or by name. */
export const BackendRef = z.object({
  namespace: z.string(),
  service: z.string(),
  port: z.union([z.number().int(), z.string()]),
});
export type BackendRef = z.infer<typeof BackendRef>;

/** A selector for backend-wide settings: every port of a Service unless a port is given. */
export const BackendTarget = z.object({
  namespace: z.string(),
  service: z.string(),
  port: z.union([z.number().int(), z.string()]).optional(),
});
export type BackendTarget = z.infer<typeof BackendTarget>;

export const ListenerProtocol = z.enum(['HTTP', 'HTTPS', 'HTTP2', 'GRPC', 'TCP', 'UDP']);
export type ListenerProtocol = z.infer<typeof ListenerProtocol>;

export const Listener = z.object({
  protocol: ListenerProtocol,
  port: z.number().int().optional(),
  /**
   * `namespace/name` of the TLS Secret whose certificate a Service's own TLS listener serves
   * (OCI `ssl-ports` with `tls-secret`).
   */
  tlsSecret: z.string().optional(),
  /**
   * The listener speaks HTTP/2 to clients (an OCI gRPC listener): with prior knowledge in clear
   * text, by ALPN over TLS.
   */
  http2: z.boolean().optional(),
  /**
   * A Gateway API listener: `namespace/gateway/listener`. Its port is served as written (80
   * and 443 are the proxy's own HTTP and HTTPS listeners), and only for the names in `hosts`.
   */
  gateway: z.string().optional(),
  /**
   * The Gateway listener's own hostname (lower case): a request whose Host falls under it is
   * served by that listener's routes alone, not by a less specific listener's on the same port.
   */
  hostname: z.string().optional(),
  /**
   * The host names the entry point is served under on this listener, where they differ from
   * its `host`: a Gateway API route's hostnames, each intersected with the listener's
   * hostname (`*` for any).
   */
  hosts: z.array(z.string()).optional(),
});
export type Listener = z.infer<typeof Listener>;

export const PathMatchType = z.enum([
  'Exact',
  'Prefix',
  'ImplementationSpecific',
  'RegularExpression',
]);
export type PathMatchType = z.infer<typeof PathMatchType>;

/**
 * An entry point: an Ingress rule path, an HTTPRoute rule, a Route, or a Service's own
 * load-balancer listener. Sessions are scoped per entry point and backend.
 */
export const EntryRef = z.object({
  kind: z.string(),
  namespace: z.string(),
  name: z.string(),
  /** Locates the rule inside the object, for example `rules[0].paths[1]`, `rules[2]`, `port 80`. */
  rule: z.string(),
  host: z.string().optional(),
  path: z.string().optional(),
  pathType: PathMatchType.optional(),
  /**
   * Further paths the entry point answers on, beside `path` (a Gateway API rule's other
   * matches): the same backends and the same sessions on each.
   */
  morePaths: z.array(z.object({ path: z.string(), pathType: PathMatchType })).optional(),
  listeners: z.array(Listener),
});
export type EntryRef = z.infer<typeof EntryRef>;

export function backendKey(b: BackendRef): string {
  return `${b.namespace}/${b.service}:${b.port}`;
}

export function entryKey(e: EntryRef): string {
  return `${e.kind}/${e.namespace}/${e.name}#${e.rule}`;
}

export function targetMatches(target: BackendTarget, backend: BackendRef): boolean {
  if (target.namespace !== backend.namespace || target.service !== backend.service) return false;
  return target.port === undefined || target.port === backend.port;
}

export function describeSource(s: SourceRef): string {
  const where = `${s.kind} ${s.namespace}/${s.name}`;
  const what = s.isDefault ? `default of ${s.dialect} for ${s.field}` : s.field;
  return `${where} ${what}`;
}
