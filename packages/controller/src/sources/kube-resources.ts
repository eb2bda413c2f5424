/** The resources the Kubernetes source watches. */
export interface WatchedResource {
  kind: string;
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  /**
   * A custom resource that may not be installed: watched only while discovery lists it, and
   * its absence is not an error.
   */
  optional: boolean;
  /** Narrows the watch, for example to Secrets of one type. */
  fieldSelector?: string;
  /**
   * Nothing served needs it yet: when the account may not read it (401/403), the first
   * snapshot does not wait for it (it keeps being retried).
   */
  bestEffort?: boolean;
  /**
   * Only these keys of `data` (and `stringData`) are kept, the others dropped as each object
   * arrives: for Secrets of which Tether reads one key.
   */
  keepData?: readonly string[];
}

export const TLS_SECRET_TYPE = 'kubernetes.io/tls';

export const WATCHED_RESOURCES: readonly WatchedResource[] = [
  { kind: 'Service', group: '', version: 'v1', plural: 'services', optional: false },
  {
    kind: 'EndpointSlice',
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    optional: false,
  },
  {
    kind: 'Ingress',
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    optional: false,
  },
  {
    kind: 'IngressClass',
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingressclasses',
    optional: false,
  },
  // Only TLS Secrets: the others are never read, and holding every Secret of a cluster in
  // memory would cost memory and widen what a leak of this process exposes.
  {
    kind: 'Secret',
    group: '',
    version: 'v1',
    plural: 'secrets',
    optional: false,
    fieldSelector: `type=${TLS_SECRET_TYPE}`,
    bestEffort: true,
  },
  // Opaque Secrets hold the CA bundles backends are verified against (ingress-nginx
  // proxy-ssl-secret's ca.crt, often made with `kubectl create secret generic`): only that key
  // is kept, so no password or token of the cluster stays in this process.
  {
    kind: 'Secret',
    group: '',
    version: 'v1',
    plural: 'secrets',
    optional: false,
    fieldSelector: 'type=Opaque',
    bestEffort: true,
    keepData: ['ca.crt'],
  },
  // Namespace labels, which Gateway listeners' allowedRoutes select routes by.
  {
    kind: 'Namespace',
    group: '',
    version: 'v1',
    plural: 'namespaces',
    optional: false,
    bestEffort: true,
  },
  // The CA certificates of Gateway API BackendTLSPolicies (`ca.crt`). ConfigMaps hold no
  // secrets, but every namespace has some: nothing waits for them.
  {
    kind: 'ConfigMap',
    group: '',
    version: 'v1',
    plural: 'configmaps',
    optional: false,
    bestEffort: true,
  },
  {
    kind: 'GatewayClass',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'gatewayclasses',
    optional: true,
  },
  {
    kind: 'Gateway',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'gateways',
    optional: true,
  },
  {
    kind: 'HTTPRoute',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    optional: true,
  },
  {
    kind: 'BackendLBPolicy',
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    plural: 'backendlbpolicies',
    optional: true,
  },
  {
    kind: 'GRPCRoute',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'grpcroutes',
    optional: true,
  },
  {
    kind: 'TLSRoute',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'tlsroutes',
    optional: true,
  },
  {
    kind: 'BackendTLSPolicy',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'backendtlspolicies',
    optional: true,
  },
  // Which cross-namespace references (certificates, backends) Gateways and routes may make.
  {
    kind: 'ReferenceGrant',
    group: 'gateway.networking.k8s.io',
    version: 'v1beta1',
    plural: 'referencegrants',
    optional: true,
  },
  {
    kind: 'XBackendTrafficPolicy',
    group: 'gateway.networking.x-k8s.io',
    version: 'v1alpha1',
    plural: 'xbackendtrafficpolicies',
    optional: true,
  },
  { kind: 'Route', group: 'route.openshift.io', version: 'v1', plural: 'routes', optional: true },
];

export function apiVersionOf(r: Pick<WatchedResource, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** The path of the resource across all namespaces, for lists and watches. */
export function collectionPath(r: WatchedResource): string {
  return r.group === ''
    ? `/api/${r.version}/${r.plural}`
    : `/apis/${r.group}/${r.version}/${r.plural}`;
}

/** The path of one object, or of one of its subresources (`status`). */
export function objectPath(
  r: Pick<WatchedResource, 'group' | 'version' | 'plural'>,
  namespace: string,
  name: string,
  subresource?: string,
): string {
  const root = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = namespace === '' ? '' : `/namespaces/${encodeURIComponent(namespace)}`;
  const sub = subresource === undefined ? '' : `/${subresource}`;
  return `${root}${ns}/${r.plural}/${encodeURIComponent(name)}${sub}`;
}

/** A short name for logs: `httproutes.gateway.networking.k8s.io`. */
export function resourceName(r: WatchedResource): string {
  const name = r.group === '' ? r.plural : `${r.plural}.${r.group}`;
  // Two watches of one resource (Secrets of two types) are told apart by their selectors.
  return r.fieldSelector ? `${name}[${r.fieldSelector}]` : name;
}
