import type { Conversion } from './conversion';
import { parentRefOf, type GatewayRef } from './gateway';
import { httpRouteToRoutes, ingressToRoutes } from './convert-to-route';
import {
  grpcRulePaths,
  httpRulePaths,
  namespaceOf,
  readGRPCRoute,
  readHTTPRoute,
  readIngress,
  readRoute,
  readTLSRoute,
  type KubeObject,
} from '@tether/dialects';

export interface ConvertOptions {
  /** The Gateway new HTTPRoutes attach to. */
  gateway: GatewayRef;
  /** The IngressClass new Ingresses name; absent leaves the cluster default. */
  ingressClass?: string;
  /** Rules of the source whose path is a regular expression (ingress-nginx `use-regex`). */
  regexRules?: ReadonlySet<string>;
  /**
   * Rules of the source whose backends speak gRPC (GRPC or GRPCS): a host whose paths all do,
   * and name gRPC services or methods, becomes a GRPCRoute.
   */
  grpcRules?: ReadonlyMap<string, 'GRPC' | 'GRPCS'>;
  /** Canaries that serve a rule's host and path (ingress-nginx), by the source rule. */
  canaries?: ReadonlyMap<string, CanaryBackend>;
}

/** An ingress-nginx canary folded into its primary's rule as a weighted backend. */
export interface CanaryBackend {
  service: string;
  port: number;
  /** Share of the canary, out of `total` (canary-weight, canary-weight-total). */
  weight: number;
  total: number;
}

/**
 * backendRefs for a primary and its canary: the canary gets its weight and the primary the
 * rest of the total, as ingress-nginx splits them; a weight above the total is capped.
 */
function weighted(
  primary: { name: string; port: number },
  canary: CanaryBackend,
  notes: string[],
): unknown[] {
  let weight = canary.weight;
  if (weight > canary.total) {
    notes.push(
      `canary-weight ${weight} is above canary-weight-total ${canary.total}; capped at ${canary.total}`,
    );
    weight = canary.total;
  }
  return [
    { ...primary, weight: canary.total - weight },
    { name: canary.service, port: canary.port, weight },
  ];
}

/**
 * An ingress-nginx regex path as a Gateway API RegularExpression value: anchored at the start,
 * as nginx writes its `location ~* "^<path>"`.
 */
function anchored(path: string): string {
  return path.startsWith('^') ? path : `^${path}`;
}

type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific' | 'RegularExpression';

function baseMetadata(object: KubeObject, name: string): KubeObject['metadata'] {
  const metadata: KubeObject['metadata'] = { name, namespace: namespaceOf(object) };
  if (object.metadata.labels) metadata.labels = { ...object.metadata.labels };
  return metadata;
}

function gatewayPathType(type: PathType | undefined): string {
  if (type === 'Exact') return 'Exact';
  if (type === 'RegularExpression') return 'RegularExpression';
  return 'PathPrefix';
}

function ingressToHTTPRoutes(object: KubeObject, options: ConvertOptions): Conversion | undefined {
  const { spec } = readIngress(object);
  if (!spec) return undefined;
  const out: Conversion = { objects: [], ruleMap: new Map(), notes: [] };
  const rules = spec.rules ?? [];
  const hosts = [...new Set(rules.map((r) => r.host ?? ''))];
  let regexPaths = 0;
  hosts.forEach((host, h) => {
    const name = hosts.length === 1 ? object.metadata.name : `${object.metadata.name}-${h}`;
    const grpc = grpcRulesOf(spec, host, options);
    if (grpc) {
      out.objects.push(grpcRouteOf(object, name, host, grpc, options, out));
      return;
    }
    const routeRules: unknown[] = [];
    rules.forEach((rule, i) => {
      if ((rule.host ?? '') !== host) return;
      (rule.http?.paths ?? []).forEach((p, j) => {
        const svc = p.backend.service;
        if (!svc) return;
        const ruleId = `rules[${i}].paths[${j}]`;
        out.ruleMap.set(`${name}#rules[${routeRules.length}]`, ruleId);
        const regex = options.regexRules?.has(ruleId) === true && p.pathType !== 'Exact';
        if (regex) regexPaths++;
        const primary = { name: svc.name, port: svc.port?.number ?? 80 };
        const canary = options.canaries?.get(ruleId);
        routeRules.push({
          matches: [
            {
              path: regex
                ? { type: 'RegularExpression', value: anchored(p.path ?? '/') }
                : { type: gatewayPathType(p.pathType as PathType), value: p.path ?? '/' },
            },
          ],
          backendRefs: canary ? weighted(primary, canary, out.notes) : [primary],
        });
        if (svc.port?.name !== undefined)
          out.notes.push(
            `${svc.name}: HTTPRoute backends need a port number; port "${svc.port.name}" was written as 80, check it`,
          );
      });
    });
    const routeSpec: Record<string, unknown> = {
      parentRefs: [parentRefOf(options.gateway)],
      rules: routeRules,
    };
    if (host) routeSpec.hostnames = [host];
    out.objects.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: baseMetadata(object, name),
      spec: routeSpec,
    });
  });
  if (spec.defaultBackend?.service)
    out.notes.push(
      'the Ingress default backend has no HTTPRoute equivalent here; add a catch-all rule by hand',
    );
  if ((spec.tls ?? []).length > 0)
    out.notes.push(
      'TLS moves to the Gateway: a Gateway written by this migration has an HTTPS listener for each TLS host; an existing one needs them by hand',
    );
  if (regexPaths > 0)
    out.notes.push(
      'regex paths became RegularExpression matches anchored at the start; ingress-nginx matched them as case-insensitive prefixes (~*), and Gateway API implementations may match the whole path and case: check each pattern',
    );
  return out;
}

/** A gRPC method match for an Ingress path: `{}` for every call, undefined when none fits. */
function grpcMethodOf(
  path: string,
  pathType: string | undefined,
): { service?: string; method?: string } | undefined {
  const exact = pathType === 'Exact';
  if ((path === '' || path === '/') && !exact) return {};
  const service = /^\/(\.?[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*)\/?$/.exec(path);
  if (service && !exact) return { service: service[1]! };
  const method =
    /^\/(\.?[A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*)\/([A-Za-z_][A-Za-z_0-9]*)$/.exec(
      path,
    );
  return method ? { service: method[1]!, method: method[2]! } : undefined;
}

interface GrpcRule {
  ruleId: string;
  method: { service?: string; method?: string };
  service: string;
  port: number;
}

/**
 * The paths of one host as GRPCRoute rules, when every one of them goes to a gRPC backend and
 * names a service or method (or every call); undefined otherwise (an HTTPRoute is written).
 */
function grpcRulesOf(
  spec: NonNullable<ReturnType<typeof readIngress>['spec']>,
  host: string,
  options: ConvertOptions,
): GrpcRule[] | undefined {
  const out: GrpcRule[] = [];
  let all = true;
  (spec.rules ?? []).forEach((rule, i) => {
    if ((rule.host ?? '') !== host) return;
    (rule.http?.paths ?? []).forEach((p, j) => {
      const svc = p.backend.service;
      if (!svc) return;
      const ruleId = `rules[${i}].paths[${j}]`;
      const method = options.regexRules?.has(ruleId)
        ? undefined
        : grpcMethodOf(p.path ?? '/', p.pathType);
      if (options.grpcRules?.has(ruleId) !== true || !method) all = false;
      else out.push({ ruleId, method, service: svc.name, port: svc.port?.number ?? 80 });
    });
  });
  return all && out.length > 0 ? out : undefined;
}

function grpcRouteOf(
  object: KubeObject,
  name: string,
  host: string,
  rules: GrpcRule[],
  options: ConvertOptions,
  out: Conversion,
): KubeObject {
  const routeRules = rules.map((r, k) => {
    out.ruleMap.set(`${name}#rules[${k}]`, r.ruleId);
    const backendRefs = [{ name: r.service, port: r.port }];
    return Object.keys(r.method).length > 0
      ? { matches: [{ method: { type: 'Exact', ...r.method } }], backendRefs }
      : { backendRefs };
  });
  out.notes.push(`${name}: the gRPC paths became a GRPCRoute`);
  if (rules.some((r) => options.grpcRules?.get(r.ruleId) === 'GRPCS'))
    out.notes.push(
      `${name}: its backends took gRPC over TLS (GRPCS); a GRPCRoute says so with a BackendTLSPolicy, which is not written`,
    );
  const routeSpec: Record<string, unknown> = {
    parentRefs: [parentRefOf(options.gateway)],
    ...(host ? { hostnames: [host] } : {}),
    rules: routeRules,
  };
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'GRPCRoute',
    metadata: baseMetadata(object, name),
    spec: routeSpec,
  };
}

function routeToIngress(object: KubeObject, options: ConvertOptions): Conversion | undefined {
  const { spec } = readRoute(object);
  if (!spec) return undefined;
  const notes: string[] = [];
  const port = spec.port?.targetPort;
  const servicePort =
    typeof port === 'number'
      ? { number: port }
      : typeof port === 'string'
        ? { name: port }
        : { number: 80 };
  if (port === undefined)
    notes.push('the Route names no target port; port 80 was written, check it');
  if ((spec.alternateBackends ?? []).length > 0)
    notes.push('alternateBackends (weighted split) have no Ingress equivalent and were left out');
  const ingressSpec: Record<string, unknown> = {
    rules: [
      {
        ...(spec.host ? { host: spec.host } : {}),
        http: {
          paths: [
            {
              path: spec.path ?? '/',
              pathType: 'Prefix',
              backend: { service: { name: spec.to.name, port: servicePort } },
            },
          ],
        },
      },
    ],
  };
  if (options.ingressClass) ingressSpec.ingressClassName = options.ingressClass;
  const termination = spec.tls?.termination?.toLowerCase();
  if (termination === 'edge' || termination === 'reencrypt') {
    ingressSpec.tls = [
      { hosts: spec.host ? [spec.host] : [], secretName: `${object.metadata.name}-tls` },
    ];
    notes.push(
      `the Route's inline certificate must be stored in Secret ${object.metadata.name}-tls`,
    );
  }
  if (termination === 'passthrough') notes.push('TLS passthrough has no Ingress equivalent');
  return {
    objects: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: baseMetadata(object, object.metadata.name),
        spec: ingressSpec,
      },
    ],
    ruleMap: new Map([[`${object.metadata.name}#rules[0].paths[0]`, 'route']]),
    notes,
  };
}

function routeToHTTPRoute(object: KubeObject, options: ConvertOptions): Conversion | undefined {
  const { spec } = readRoute(object);
  if (!spec) return undefined;
  if (spec.tls?.termination?.toLowerCase() === 'passthrough')
    return routeToTLSRoute(object, options);
  const port = typeof spec.port?.targetPort === 'number' ? spec.port.targetPort : 80;
  const backends = [spec.to, ...(spec.alternateBackends ?? [])].map((b) => ({
    name: b.name,
    port,
    ...(b.weight !== undefined ? { weight: b.weight } : {}),
  }));
  const routeSpec: Record<string, unknown> = {
    parentRefs: [parentRefOf(options.gateway)],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: spec.path ?? '/' } }],
        backendRefs: backends,
      },
    ],
  };
  if (spec.host) routeSpec.hostnames = [spec.host];
  const notes =
    typeof spec.port?.targetPort === 'string'
      ? [
          `the Route's target port "${spec.port.targetPort}" is a name; HTTPRoute needs a number, 80 was written`,
        ]
      : [];
  return {
    objects: [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: baseMetadata(object, object.metadata.name),
        spec: routeSpec,
      },
    ],
    ruleMap: new Map([[`${object.metadata.name}#rules[0]`, 'route']]),
    notes,
  };
}

/**
 * A passthrough Route as a TLSRoute: its host as the SNI name, its Service (and weighted
 * alternates) as the backends. The Gateway needs a TLS listener in Passthrough mode on 443.
 */
function routeToTLSRoute(object: KubeObject, options: ConvertOptions): Conversion | undefined {
  const { spec } = readRoute(object);
  if (!spec) return undefined;
  const port = typeof spec.port?.targetPort === 'number' ? spec.port.targetPort : 443;
  const notes: string[] = [];
  if (typeof spec.port?.targetPort !== 'number')
    notes.push(
      `the Route's target port ${spec.port?.targetPort === undefined ? 'is not given' : `"${spec.port.targetPort}" is a name`}; TLSRoute needs a number, ${port} was written`,
    );
  if (!spec.host)
    notes.push('the Route has no host: a TLSRoute without hostnames takes every SNI name');
  const backendRefs = [spec.to, ...(spec.alternateBackends ?? [])].map((b) => ({
    name: b.name,
    port,
    ...(b.weight !== undefined ? { weight: b.weight } : {}),
  }));
  return {
    objects: [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'TLSRoute',
        metadata: baseMetadata(object, object.metadata.name),
        spec: {
          parentRefs: [parentRefOf(options.gateway)],
          ...(spec.host ? { hostnames: [spec.host] } : {}),
          rules: [{ backendRefs }],
        },
      },
    ],
    ruleMap: new Map([[`${object.metadata.name}#rules[0]`, 'route']]),
    notes,
  };
}

/** A TLSRoute as a passthrough Route: its first hostname, its first backend and the others as alternates. */
function tlsRouteToRoute(object: KubeObject): Conversion | undefined {
  const { spec } = readTLSRoute(object);
  if (!spec) return undefined;
  const notes: string[] = [];
  const refs = spec.rules?.[0]?.backendRefs ?? [];
  const [first, ...rest] = refs;
  if (!first) return undefined;
  const hosts = spec.hostnames ?? [];
  if (hosts.length > 1) notes.push(`only the first of ${hosts.length} hostnames was written`);
  if (rest.length > 3)
    notes.push('a Route takes at most three alternate backends; the others were left out');
  const backend = (r: typeof first) => ({
    kind: 'Service',
    name: r.name,
    ...(r.weight !== undefined ? { weight: r.weight } : {}),
  });
  const routeSpec: Record<string, unknown> = {
    ...(hosts[0] ? { host: hosts[0] } : {}),
    to: backend(first),
    ...(rest.length > 0 ? { alternateBackends: rest.slice(0, 3).map(backend) } : {}),
    port: { targetPort: first.port ?? 443 },
    tls: { termination: 'passthrough' },
  };
  if (first.port !== undefined)
    notes.push(
      `a Route's targetPort names the endpoint port; Service port ${first.port} was written, use the Service port's name if the two differ`,
    );
  return {
    objects: [
      {
        apiVersion: 'route.openshift.io/v1',
        kind: 'Route',
        metadata: baseMetadata(object, object.metadata.name),
        spec: routeSpec,
      },
    ],
    ruleMap: new Map([[`${object.metadata.name}#route`, 'rules[0]']]),
    notes,
  };
}

/** A Gateway API route's rules as the paths of one Ingress rule, each rule's first backend. */
function routeRulesToIngress<
  R extends { backendRefs?: { name: string; port?: number | undefined }[] | undefined },
>(
  object: KubeObject,
  options: ConvertOptions,
  hostnames: readonly string[] | undefined,
  rules: readonly R[],
  pathsOf: (rule: R) => { path: string; pathType: string | undefined }[],
  notes: string[],
): Conversion {
  const paths: unknown[] = [];
  const ruleMap = new Map<string, string>();
  rules.forEach((rule, i) => {
    const ref = rule.backendRefs?.[0];
    if (!ref) return;
    if ((rule.backendRefs ?? []).length > 1)
      notes.push(
        `rules[${i}]: only the first of ${(rule.backendRefs ?? []).length} weighted backends can be written on an Ingress`,
      );
    // Each match of the rule becomes a path of its own, to the same backend.
    for (const { path, pathType } of pathsOf(rule)) {
      ruleMap.set(`${object.metadata.name}#rules[0].paths[${paths.length}]`, `rules[${i}]`);
      paths.push({
        path,
        // An Ingress says a regular expression with its controller's own switch.
        pathType:
          pathType === 'RegularExpression' ? 'ImplementationSpecific' : (pathType ?? 'Prefix'),
        backend: { service: { name: ref.name, port: { number: ref.port ?? 80 } } },
      });
    }
  });
  const hosts = hostnames ?? [];
  if (hosts.length > 1) notes.push(`only the first of ${hosts.length} hostnames was written`);
  const ingressSpec: Record<string, unknown> = {
    rules: [{ ...(hosts[0] ? { host: hosts[0] } : {}), http: { paths } }],
  };
  if (options.ingressClass) ingressSpec.ingressClassName = options.ingressClass;
  return {
    objects: [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: baseMetadata(object, object.metadata.name),
        spec: ingressSpec,
      },
    ],
    ruleMap,
    notes,
  };
}

function httpRouteToIngress(object: KubeObject, options: ConvertOptions): Conversion | undefined {
  const { spec } = readHTTPRoute(object);
  if (!spec) return undefined;
  return routeRulesToIngress(
    object,
    options,
    spec.hostnames,
    spec.rules ?? [],
    // Each match that tests the path alone, as the proxy serves it.
    httpRulePaths,
    [],
  );
}

/** A GRPCRoute as an Ingress: each rule's method match as the path of its calls. */
function grpcRouteToIngress(object: KubeObject, options: ConvertOptions): Conversion | undefined {
  const { spec } = readGRPCRoute(object);
  if (!spec) return undefined;
  return routeRulesToIngress(object, options, spec.hostnames, spec.rules ?? [], grpcRulePaths, [
    'the backends speak gRPC: the Ingress needs its controller to speak HTTP/2 to them (ingress-nginx backend-protocol GRPC, written where the target can say it)',
  ]);
}

const CONVERSIONS: Record<
  string,
  Record<string, (o: KubeObject, options: ConvertOptions) => Conversion | undefined>
> = {
  Ingress: { HTTPRoute: ingressToHTTPRoutes, Route: ingressToRoutes },
  Route: { Ingress: routeToIngress, HTTPRoute: routeToHTTPRoute },
  HTTPRoute: { Ingress: httpRouteToIngress, Route: httpRouteToRoutes },
  GRPCRoute: { Ingress: grpcRouteToIngress },
  TLSRoute: { Route: tlsRouteToRoute },
};

/** Converts an object to the first of `kinds` that a conversion exists for. */
export function convert(
  object: KubeObject,
  kinds: readonly string[],
  options: ConvertOptions,
): Conversion | undefined {
  for (const kind of kinds) {
    const conversion = CONVERSIONS[object.kind]?.[kind];
    if (conversion) return conversion(object, options);
  }
  return undefined;
}
