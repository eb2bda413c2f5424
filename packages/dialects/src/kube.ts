import { z } from 'zod';
import {
  BackendRef,
  Diagnostic,
  EntryFragment,
  EntryRef,
  FieldValues,
  Listener,
  Origin,
  PathMatchType,
  PRECEDENCE,
  SourceRef,
  error,
} from '@tether/model';
import type { KubeObject } from './types';

export function namespaceOf(object: KubeObject): string {
  return object.metadata.namespace ?? 'default';
}

export function annotationsOf(object: KubeObject): Record<string, string> {
  return object.metadata.annotations ?? {};
}

export function sourceOf(
  dialect: Origin,
  object: KubeObject,
  field: string,
  isDefault = false,
): SourceRef {
  // One literal per shape: adding `isDefault` to a finished object moves it out of the object
  // into a separate property array (104 bytes instead of 72), for tens of thousands of sources.
  return isDefault
    ? {
        dialect,
        kind: object.kind,
        namespace: namespaceOf(object),
        name: object.metadata.name,
        field,
        isDefault: true,
      }
    : {
        dialect,
        kind: object.kind,
        namespace: namespaceOf(object),
        name: object.metadata.name,
        field,
      };
}

const PortRef = z.union([z.number().int(), z.string()]);

const ServiceSpec = z.looseObject({
  type: z.string().optional(),
  ports: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        port: z.number().int().min(1, 'must be 1..65535').max(65535, 'must be 1..65535'),
        protocol: z.string().optional(),
        targetPort: PortRef.optional(),
      }),
    )
    .optional(),
  sessionAffinity: z.string().optional(),
  sessionAffinityConfig: z.unknown().optional(),
});

const IngressBackend = z.looseObject({
  service: z
    .looseObject({
      name: z.string(),
      port: z
        .looseObject({ number: z.number().int().optional(), name: z.string().optional() })
        .optional(),
    })
    .optional(),
});

const IngressSpec = z.looseObject({
  ingressClassName: z.string().optional(),
  defaultBackend: IngressBackend.optional(),
  tls: z
    .array(
      z.looseObject({ hosts: z.array(z.string()).optional(), secretName: z.string().optional() }),
    )
    .optional(),
  rules: z
    .array(
      z.looseObject({
        host: z.string().optional(),
        http: z
          .looseObject({
            paths: z.array(
              z.looseObject({
                path: z.string().optional(),
                pathType: z.string().optional(),
                backend: IngressBackend,
              }),
            ),
          })
          .optional(),
      }),
    )
    .optional(),
});

const HTTPBackendRef = z.looseObject({
  group: z.string().optional(),
  kind: z.string().optional(),
  name: z.string(),
  namespace: z.string().optional(),
  port: z.number().int().optional(),
  weight: z.number().int().optional(),
});

/**
 * The spec of a Gateway API route that matches requests (HTTPRoute, GRPCRoute): hostnames, and
 * rules of backends with the kind's own `matches` and a `sessionPersistence`.
 */
function matchingRouteSpec<M extends z.ZodType>(match: M) {
  return z.looseObject({
    hostnames: z.array(z.string()).optional(),
    rules: z
      .array(
        z.looseObject({
          name: z.string().optional(),
          matches: z.array(match).optional(),
          backendRefs: z.array(HTTPBackendRef).optional(),
          sessionPersistence: z.unknown().optional(),
        }),
      )
      .optional(),
  });
}

const HTTPRouteSpec = matchingRouteSpec(
  z.looseObject({
    path: z.looseObject({ type: z.string().optional(), value: z.string().optional() }).optional(),
  }),
);

/** GRPCRoute (Gateway API v1.1+): rules match on the gRPC service and method. */
const GRPCRouteSpec = matchingRouteSpec(
  z.looseObject({
    method: z
      .looseObject({
        type: z.string().optional(),
        service: z.string().optional(),
        method: z.string().optional(),
      })
      .optional(),
  }),
);

/** TLSRoute (Gateway API v1): SNI hostnames, one rule of backends, no matches. */
const TLSRouteSpec = z.looseObject({
  hostnames: z.array(z.string()).optional(),
  rules: z
    .array(
      z.looseObject({
        name: z.string().optional(),
        backendRefs: z.array(HTTPBackendRef).optional(),
      }),
    )
    .optional(),
});

const RouteSpec = z.looseObject({
  host: z.string().optional(),
  path: z.string().optional(),
  to: z.looseObject({
    kind: z.string().optional(),
    name: z.string(),
    weight: z.number().int().optional(),
  }),
  alternateBackends: z
    .array(
      z.looseObject({
        kind: z.string().optional(),
        name: z.string(),
        weight: z.number().int().optional(),
      }),
    )
    .optional(),
  port: z.looseObject({ targetPort: PortRef }).optional(),
  tls: z
    .looseObject({
      termination: z.string().optional(),
      insecureEdgeTerminationPolicy: z.string().optional(),
      destinationCACertificate: z.string().optional(),
    })
    .optional(),
});

export type ServiceSpec = z.infer<typeof ServiceSpec>;
export type IngressSpec = z.infer<typeof IngressSpec>;
export type HTTPRouteSpec = z.infer<typeof HTTPRouteSpec>;
export type GRPCRouteSpec = z.infer<typeof GRPCRouteSpec>;
export type TLSRouteSpec = z.infer<typeof TLSRouteSpec>;
export type RouteSpec = z.infer<typeof RouteSpec>;

export interface Spec<T> {
  spec?: T;
  diagnostics: Diagnostic[];
}

function readSpec<T>(schema: z.ZodType<T>, object: KubeObject): Spec<T> {
  const parsed = schema.safeParse(object.spec ?? {});
  if (parsed.success) return { spec: parsed.data, diagnostics: [] };
  const issue = parsed.error.issues[0];
  const path = issue ? ['spec', ...issue.path.map(String)].join('.') : 'spec';
  return {
    diagnostics: [
      error(
        'InvalidObject',
        `${object.kind} ${namespaceOf(object)}/${object.metadata.name}: ${path}: ${issue?.message ?? 'invalid'}`,
        sourceOf('kubernetes', object, path),
      ),
    ],
  };
}

export const readService = (o: KubeObject): Spec<ServiceSpec> => readSpec(ServiceSpec, o);
export const readIngress = (o: KubeObject): Spec<IngressSpec> => readSpec(IngressSpec, o);
export const readHTTPRoute = (o: KubeObject): Spec<HTTPRouteSpec> => readSpec(HTTPRouteSpec, o);
export const readRoute = (o: KubeObject): Spec<RouteSpec> => readSpec(RouteSpec, o);
export const readGRPCRoute = (o: KubeObject): Spec<GRPCRouteSpec> => readSpec(GRPCRouteSpec, o);
export const readTLSRoute = (o: KubeObject): Spec<TLSRouteSpec> => readSpec(TLSRouteSpec, o);

/** An entry point with one of the backends it routes to. */
export interface EntryBackend {
  entry: EntryRef;
  backend: BackendRef;
  /** Split weight where the entry point divides traffic across backends. */
  weight?: number;
}

function ingressBackendRef(
  namespace: string,
  backend: z.infer<typeof IngressBackend>,
): BackendRef | undefined {
  const svc = backend.service;
  if (!svc) return undefined;
  const port = svc.port?.number ?? svc.port?.name;
  return { namespace, service: svc.name, port: port ?? 0 };
}

/**
 * A listener list shared by every entry point served the same way: one list instead of one
 * per entry point. Frozen, so a reader that changed one would fail rather than change them all.
 */
function sharedListeners(...listeners: Listener[]): Listener[] {
  return Object.freeze(listeners.map((l) => Object.freeze(l))) as Listener[];
}

const HTTP_80 = sharedListeners({ protocol: 'HTTP', port: 80 });
const HTTPS_443 = sharedListeners({ protocol: 'HTTPS', port: 443 });
const TCP_443 = sharedListeners({ protocol: 'TCP', port: 443 });
export const HTTP_80_AND_HTTPS_443 = sharedListeners(
  { protocol: 'HTTP', port: 80 },
  { protocol: 'HTTPS', port: 443 },
);
export const HTTP_80_AND_TCP_443 = sharedListeners(
  { protocol: 'HTTP', port: 80 },
  { protocol: 'TCP', port: 443 },
);
const ROUTE_LISTENERS = sharedListeners({ protocol: 'HTTP' }, { protocol: 'HTTPS' });

/** Whether two listener lists say the same thing, so that one can stand for the other. */
export function sameListeners(a: readonly Listener[], b: readonly Listener[]): boolean {
  return (
    a.length === b.length &&
    a.every((l, i) => {
      const other = b[i];
      return (
        other !== undefined &&
        l.protocol === other.protocol &&
        l.port === other.port &&
        'port' in l === 'port' in other &&
        l.tlsSecret === other.tlsSecret &&
        l.gateway === other.gateway &&
        l.hostname === other.hostname &&
        l.hosts === other.hosts
      );
    })
  );
}

function ingressListeners(spec: IngressSpec, host: string | undefined): Listener[] {
  const tlsHosts = (spec.tls ?? []).flatMap((t) => t.hosts ?? ['*']);
  const secured =
    tlsHosts.includes('*') || (host !== undefined && tlsHosts.some((h) => hostMatches(h, host)));
  return secured ? HTTP_80_AND_HTTPS_443 : HTTP_80;
}

/** Rule names for the small indexes nearly every object uses, built once rather than per parse. */
const RULE_NAMES: string[][] = [];
const INTERNED_INDEXES = 16;

/** `rules[i].paths[j]` of an Ingress, or `rules[i]` of an HTTPRoute when `path` is undefined. */
function ruleName(rule: number, path?: number): string {
  const build = (): string =>
    path === undefined ? `rules[${rule}]` : ['rules[', rule, '].paths[', path, ']'].join('');
  if (rule >= INTERNED_INDEXES || (path ?? 0) >= INTERNED_INDEXES) return build();
  const row = (RULE_NAMES[rule] ??= []);
  // Slot 0 holds `rules[i]`; slot j + 1 holds `rules[i].paths[j]`.
  return (row[path === undefined ? 0 : path + 1] ??= build());
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern === host) return true;
  return (
    pattern.startsWith('*.') &&
    host.endsWith(pattern.slice(1)) &&
    !host.slice(0, -pattern.length + 1).includes('.')
  );
}

function pathType(raw: string | undefined): PathMatchType {
  const parsed = PathMatchType.safeParse(raw);
  return parsed.success ? parsed.data : 'ImplementationSpecific';
}

/**
 * The entry points of the object being parsed, while its dialects read it (see
 * `withSharedEntries`).
 */
let reading: { object: KubeObject; entries: EntryBackend[] } | undefined;

/**
 * Runs `read` with the entry points of `object` computed once: the structure pass and every
 * dialect that reads the object get the same EntryRef and BackendRef objects, so the fragments
 * of one entry point share one entry (tens of thousands of copies otherwise). Readers must not
 * change what they get. Outside `read`, every call builds the entry points afresh.
 */
export function withSharedEntries<T>(
  object: KubeObject,
  entries: EntryBackend[],
  read: () => T,
): T {
  const outer = reading;
  reading = { object, entries };
  try {
    return read();
  } finally {
    reading = outer;
  }
}

function sharedEntriesOf(object: KubeObject): EntryBackend[] | undefined {
  return reading?.object === object ? reading.entries : undefined;
}

/** Every Ingress rule path (and the default backend) with the Service port it routes to. */
export function ingressEntries(object: KubeObject, spec: IngressSpec): EntryBackend[] {
  const shared = sharedEntriesOf(object);
  if (shared) return shared;
  const namespace = namespaceOf(object);
  const kind = object.kind;
  const name = object.metadata.name;
  const out: EntryBackend[] = [];
  (spec.rules ?? []).forEach((rule, i) => {
    (rule.http?.paths ?? []).forEach((p, j) => {
      const backend = ingressBackendRef(namespace, p.backend);
      if (!backend) return;
      const rulePath = ruleName(i, j);
      const path = p.path ?? '/';
      const type = pathType(p.pathType);
      const listeners = ingressListeners(spec, rule.host);
      const host = rule.host;
      // One literal each way: a property added later would live outside the object.
      const entry: EntryRef =
        host === undefined
          ? { kind, namespace, name, rule: rulePath, path, pathType: type, listeners }
          : { kind, namespace, name, rule: rulePath, path, pathType: type, listeners, host };
      out.push({ entry, backend });
    });
  });
  const fallback = spec.defaultBackend && ingressBackendRef(namespace, spec.defaultBackend);
  if (fallback) {
    out.push({
      entry: {
        kind,
        namespace,
        name,
        rule: 'defaultBackend',
        path: '/',
        pathType: 'Prefix',
        listeners: ingressListeners(spec, undefined),
      },
      backend: fallback,
    });
  }
  return out;
}

function serviceProtocol(raw: string | undefined): Listener['protocol'] {
  return raw?.toUpperCase() === 'UDP' ? 'UDP' : 'TCP';
}

/** A Service's own load-balancer listeners, one entry per port; only for type LoadBalancer. */
export function serviceEntries(object: KubeObject, spec: ServiceSpec): EntryBackend[] {
  if (spec.type !== 'LoadBalancer') return [];
  const shared = sharedEntriesOf(object);
  if (shared) return shared;
  const namespace = namespaceOf(object);
  return (spec.ports ?? []).map((p) => ({
    entry: {
      kind: object.kind,
      namespace,
      name: object.metadata.name,
      rule: `port ${p.port}`,
      listeners: [{ protocol: serviceProtocol(p.protocol), port: p.port }],
    },
    backend: { namespace, service: object.metadata.name, port: p.port },
  }));
}

export type RoutePath = { path: string; pathType: NonNullable<EntryRef['pathType']> };

/**
 * Every rule of a Gateway API route with each Service it sends traffic to, on the paths of
 * the rule's matches (`pathsOf`: none when no match can be served).
 */
function gatewayRouteEntries<
  R extends { backendRefs?: z.infer<typeof HTTPBackendRef>[] | undefined },
>(
  object: KubeObject,
  hostnames: string[] | undefined,
  rules: R[] | undefined,
  pathsOf: (rule: R) => RoutePath[],
  listeners: Listener[] = ROUTE_LISTENERS,
): EntryBackend[] {
  const shared = sharedEntriesOf(object);
  if (shared) return shared;
  const namespace = namespaceOf(object);
  const out: EntryBackend[] = [];
  // A route of several hostnames is served under each (the first names the entry point); one
  // list for all its rules. Where Gateways give the listeners, their hosts replace these.
  const served =
    hostnames && hostnames.length > 1
      ? (Object.freeze(
          listeners.map((l) => Object.freeze({ ...l, hosts: [...new Set(hostnames)] })),
        ) as Listener[])
      : listeners;
  (rules ?? []).forEach((rule, i) => {
    const paths = pathsOf(rule).filter(
      (p, k, all) => all.findIndex((q) => q.path === p.path && q.pathType === p.pathType) === k,
    );
    const [first, ...more] = paths;
    if (!first) return;
    const { path, pathType } = first;
    for (const ref of rule.backendRefs ?? []) {
      if ((ref.kind ?? 'Service') !== 'Service' || (ref.group ?? '') !== '') continue;
      const entry: EntryRef = {
        kind: object.kind,
        namespace,
        name: object.metadata.name,
        rule: ruleName(i),
        path,
        pathType,
        // A route attaches to Gateway listeners of either protocol; Tether serves it on both of its own.
        listeners: served,
      };
      const host = hostnames?.[0];
      if (host !== undefined) entry.host = host;
      if (more.length > 0) entry.morePaths = more;
      const item: EntryBackend = {
        entry,
        backend: { namespace: ref.namespace ?? namespace, service: ref.name, port: ref.port ?? 0 },
      };
      if (ref.weight !== undefined) item.weight = ref.weight;
      out.push(item);
    }
  });
  return out;
}

/**
 * Whether a match tests more than the path (headers, query parameters, the HTTP method, or a
 * GRPCRoute's headers): the proxy cannot, so such a match is not served rather than served for
 * every request on its path (a header-matched canary rule would take all the traffic).
 */
export function conditionalMatch(match: unknown): boolean {
  if (typeof match !== 'object' || match === null) return false;
  const m = match as { headers?: unknown; queryParams?: unknown; method?: unknown };
  return (
    (Array.isArray(m.headers) && m.headers.length > 0) ||
    (Array.isArray(m.queryParams) && m.queryParams.length > 0) ||
    typeof m.method === 'string'
  );
}

/**
 * The paths an HTTPRoute rule is served on: one per match that tests the path alone; every
 * request (the API's default match, PathPrefix /) for a rule without matches.
 */
export function httpRulePaths(
  rule: HTTPRouteSpec['rules'] extends (infer R)[] | undefined ? R : never,
): RoutePath[] {
  const matches = rule.matches ?? [];
  if (matches.length === 0) return [{ path: '/', pathType: 'Prefix' }];
  return matches
    .filter((m) => !conditionalMatch(m))
    .map((m) => ({
      path: m.path?.value ?? '/',
      pathType:
        m.path?.type === 'Exact'
          ? 'Exact'
          : m.path?.type === 'RegularExpression'
            ? 'RegularExpression'
            : 'Prefix',
    }));
}

/** Every HTTPRoute rule with each Service it sends traffic to, on each of its matches' paths. */
export function httpRouteEntries(object: KubeObject, spec: HTTPRouteSpec): EntryBackend[] {
  return gatewayRouteEntries(object, spec.hostnames, spec.rules, httpRulePaths);
}

/** A regular expression matching `text` exactly (for a gRPC service or method name). */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * The HTTP path a GRPCRoute method match stands for: a gRPC call is `POST /<service>/<method>`
 * (gRPC's PROTOCOL-HTTP2). Service and method: that path exactly; a service alone: its prefix;
 * a method alone or a RegularExpression match: a regular expression over both parts.
 */
export function grpcMethodPath(match: {
  type?: string | undefined;
  service?: string | undefined;
  method?: string | undefined;
}): { path: string; pathType: EntryRef['pathType'] } {
  const { service, method } = match;
  if (match.type === 'RegularExpression')
    return { path: `^/${service ?? '[^/]+'}/${method ?? '[^/]+'}$`, pathType: 'RegularExpression' };
  if (service !== undefined && method !== undefined)
    return { path: `/${service}/${method}`, pathType: 'Exact' };
  if (service !== undefined) return { path: `/${service}`, pathType: 'Prefix' };
  if (method !== undefined)
    return { path: `^/[^/]+/${literal(method)}$`, pathType: 'RegularExpression' };
  return { path: '/', pathType: 'Prefix' };
}

/**
 * A TLSRoute's backends, served as TLS passthrough by SNI on the proxy's HTTPS port (its core
 * support: a listener of protocol TLS in Passthrough mode), under each of its hostnames; as
 * for HTTPRoutes, the first names the entry point.
 */
export function tlsRouteEntries(object: KubeObject, spec: TLSRouteSpec): EntryBackend[] {
  return gatewayRouteEntries(
    object,
    spec.hostnames,
    spec.rules,
    () => [{ path: '/', pathType: 'Prefix' }],
    TCP_443,
  );
}

/** The call paths a GRPCRoute rule is served on: one per method match without headers. */
export function grpcRulePaths(
  rule: GRPCRouteSpec['rules'] extends (infer R)[] | undefined ? R : never,
): RoutePath[] {
  const matches = rule.matches ?? [];
  if (matches.length === 0) return [{ path: '/', pathType: 'Prefix' }];
  return matches
    .filter((m) => !conditionalMatch({ headers: (m as { headers?: unknown }).headers }))
    .map((m) => {
      const { path, pathType } = grpcMethodPath(m.method ?? {});
      return { path, pathType: pathType ?? 'Prefix' };
    });
}

/** Every GRPCRoute rule with each Service it sends calls to. */
export function grpcRouteEntries(object: KubeObject, spec: GRPCRouteSpec): EntryBackend[] {
  return gatewayRouteEntries(object, spec.hostnames, spec.rules, grpcRulePaths);
}

/** The listeners an OpenShift Route is served on, from its TLS termination. */
export function routeListeners(spec: RouteSpec): Listener[] {
  const termination = spec.tls?.termination?.toLowerCase();
  if (termination === 'passthrough') return TCP_443;
  if (termination === 'edge' || termination === 'reencrypt') {
    const insecure = spec.tls?.insecureEdgeTerminationPolicy?.toLowerCase();
    return insecure === 'allow' || insecure === 'redirect' ? HTTP_80_AND_HTTPS_443 : HTTPS_443;
  }
  return HTTP_80;
}

/** An OpenShift Route with its primary and alternate backends. */
export function routeEntries(object: KubeObject, spec: RouteSpec): EntryBackend[] {
  const shared = sharedEntriesOf(object);
  if (shared) return shared;
  const namespace = namespaceOf(object);
  const entry: EntryRef = {
    kind: object.kind,
    namespace,
    name: object.metadata.name,
    rule: 'route',
    path: spec.path ?? '/',
    pathType: 'Prefix',
    listeners: routeListeners(spec),
  };
  if (spec.host !== undefined) entry.host = spec.host;
  const port = spec.port?.targetPort ?? '*';
  return [spec.to, ...(spec.alternateBackends ?? [])].map((to) => {
    const item: EntryBackend = { entry, backend: { namespace, service: to.name, port } };
    if (to.weight !== undefined) item.weight = to.weight;
    return item;
  });
}

/** The entry points an object defines, whatever dialect configures them. */
export function entriesOf(object: KubeObject): Spec<EntryBackend[]> {
  switch (object.kind) {
    case 'Service': {
      const { spec, diagnostics } = readService(object);
      return { spec: spec ? serviceEntries(object, spec) : [], diagnostics };
    }
    case 'Ingress': {
      const { spec, diagnostics } = readIngress(object);
      return { spec: spec ? ingressEntries(object, spec) : [], diagnostics };
    }
    case 'HTTPRoute': {
      const { spec, diagnostics } = readHTTPRoute(object);
      return { spec: spec ? httpRouteEntries(object, spec) : [], diagnostics };
    }
    case 'GRPCRoute': {
      const { spec, diagnostics } = readGRPCRoute(object);
      return { spec: spec ? grpcRouteEntries(object, spec) : [], diagnostics };
    }
    case 'TLSRoute': {
      const { spec, diagnostics } = readTLSRoute(object);
      return { spec: spec ? tlsRouteEntries(object, spec) : [], diagnostics };
    }
    case 'Route': {
      const { spec, diagnostics } = readRoute(object);
      return { spec: spec ? routeEntries(object, spec) : [], diagnostics };
    }
    default:
      return { spec: [], diagnostics: [] };
  }
}

/**
 * The entry point served on `listeners` as a vendor sees it. When they say what the structure
 * says, the entry itself is kept, so its fragments share one entry and resolve copies nothing.
 */
export function servedOn(item: EntryBackend, listeners: Listener[]): EntryBackend {
  if (sameListeners(item.entry.listeners, listeners)) return item;
  return { ...item, entry: { ...item.entry, listeners } };
}

/**
 * The settings of every structure fragment: one object instead of one per entry point.
 * Frozen, so a reader that changed it would fail rather than change every fragment.
 */
const NO_VALUES: FieldValues = Object.freeze({});

/** An entry fragment with no settings: it makes the entry point appear with mode `none`. */
export function structureFragment(item: EntryBackend): EntryFragment {
  return {
    type: 'entry',
    dialect: 'kubernetes',
    entry: item.entry,
    backend: item.backend,
    precedence: PRECEDENCE.entry,
    values: NO_VALUES,
  };
}
