import fc from 'fast-check';
import {
  flattenPolicy,
  type LoadBalancing,
  type PersistencePolicy,
  type PolicyField,
  type ResolvedEntry,
  type RouteSettings,
  type SourceRef,
} from '@tether/model';
import { entriesOf, namespaceOf } from '../../../packages/dialects/src/kube';
import type { KubeObject } from '../../../packages/dialects/src/types';

/** A policy with its balancing and routing, as a source dialect resolved it. */
export interface SourcePolicy {
  policy: PersistencePolicy;
  loadBalancing: LoadBalancing;
  route?: RouteSettings;
}

/** The source a test names for a field: a made-up key that tells which field it stood for. */
export const sourceKey = (field: string): string => `source/${field}`;

/**
 * The resolved entries of `object` carrying `source`, every field sourced from `sourceKey`,
 * as the migration hands them to an emitter.
 */
export function entriesWith(object: KubeObject, ...policies: SourcePolicy[]): ResolvedEntry[] {
  const items = entriesOf(object).spec ?? [];
  return items.map((item, i) => {
    const p = policies[Math.min(i, policies.length - 1)];
    if (!p) throw new Error('entriesWith needs a policy');
    const flat = flattenPolicy(p.policy, p.loadBalancing, p.route);
    const sources: ResolvedEntry['sources'] = {};
    for (const field of Object.keys(flat) as PolicyField[]) {
      const ref: SourceRef = {
        dialect: 'ingress-nginx',
        kind: object.kind,
        namespace: namespaceOf(object),
        name: object.metadata.name,
        field: sourceKey(i === 0 ? field : `${item.entry.rule}/${field}`),
      };
      sources[field] = [ref];
    }
    return {
      entry: item.entry,
      backend: item.backend,
      accepted: true,
      policy: p.policy,
      loadBalancing: p.loadBalancing,
      route: p.route ?? {},
      sources,
    };
  });
}

export function ingress(annotations: Record<string, string> = {}, paths = 1): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'front', namespace: 'shop', annotations },
    spec: {
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: Array.from({ length: paths }, (_, i) => ({
              path: `/p${i}`,
              pathType: 'Prefix',
              backend: { service: { name: 'web', port: { number: 80 } } },
            })),
          },
        },
      ],
    },
  };
}

export function loadBalancerService(
  annotations: Record<string, string> = {},
  ports: readonly number[] = [80],
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'shop', annotations },
    spec: { type: 'LoadBalancer', ports: ports.map((port) => ({ port })) },
  };
}

const base = { rebalance: 'persistent', onFailure: 'rebalance' } as const;
const roundRobin: LoadBalancing = { algorithm: 'roundRobin' };

/** Shorthands for the policies the tables use. */
export const policies = {
  none: (algorithm: LoadBalancing['algorithm'] = 'roundRobin'): SourcePolicy => ({
    policy: { mode: 'none', ...base },
    loadBalancing: { algorithm },
  }),
  cookie: (cookie: Partial<NonNullable<PersistencePolicy['cookie']>> = {}): SourcePolicy => ({
    policy: {
      mode: 'cookie',
      ...base,
      cookie: {
        name: 'TETHER_ELB_STICKY',
        httpOnly: false,
        secure: 'never',
        omitSameSiteNoneForOldClients: false,
        lifetime: 'permanent',
        nocache: false,
        maxAgeSeconds: 1200,
        ...cookie,
      },
    },
    loadBalancing: roundRobin,
  }),
  appCookie: (name: string): SourcePolicy => ({
    policy: {
      mode: 'appCookie',
      ...base,
      appCookie: { name },
      cookie: {
        name: 'TETHER_ELB_STICKY',
        httpOnly: false,
        secure: 'never',
        omitSameSiteNoneForOldClients: false,
        lifetime: 'session',
        nocache: false,
      },
    },
    loadBalancing: roundRobin,
  }),
  sourceIp: (timeoutSeconds?: number, extra: Partial<PersistencePolicy> = {}): SourcePolicy => ({
    policy: {
      mode: 'sourceIp',
      ...base,
      sourceIp: timeoutSeconds === undefined ? {} : { timeoutSeconds },
      ...extra,
    },
    loadBalancing: roundRobin,
  }),
  header: (name: string): SourcePolicy => ({
    policy: { mode: 'header', ...base, header: { name } },
    loadBalancing: roundRobin,
  }),
};

/** With one change to the policy or its balancing. */
export function tweak(
  p: SourcePolicy,
  policy: Partial<PersistencePolicy>,
  loadBalancing?: Partial<LoadBalancing>,
  route?: RouteSettings,
): SourcePolicy {
  const out: SourcePolicy = {
    policy: { ...p.policy, ...policy },
    loadBalancing: { ...p.loadBalancing, ...loadBalancing },
  };
  if (route) out.route = route;
  return out;
}

const seconds = fc.oneof(
  fc.integer({ min: 1, max: 200_000 }),
  fc.integer({ min: 1, max: 1440 }).map((m) => m * 60),
  fc.constantFrom(0, -60, 59, 60, 61, 3600, 3601, 86_400, 86_401),
);
const cookieName = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_.-]{1,16}$/),
  fc.constantFrom('*', 'TETHER_ELB_STICKY', 'a b', 'ü'),
);
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.option(a, { nil: undefined });

/** Any valid policy, with every field the model has, balancing and route settings. */
export const anyPolicy: fc.Arbitrary<SourcePolicy> = fc
  .record({
    mode: fc.constantFrom('none', 'cookie', 'appCookie', 'sourceIp', 'header'),
    cookie: fc.record({
      name: cookieName,
      path: opt(fc.constantFrom('/', '/app')),
      domain: opt(fc.constant('.example.com')),
      maxAgeSeconds: opt(seconds),
      expiresSeconds: opt(seconds),
      httpOnly: fc.boolean(),
      secure: fc.constantFrom('always', 'https', 'never'),
      sameSite: opt(fc.constantFrom('Strict', 'Lax', 'None')),
      omitSameSiteNoneForOldClients: fc.boolean(),
      lifetime: fc.constantFrom('session', 'permanent'),
      nocache: fc.boolean(),
    }),
    appCookieName: cookieName,
    headerName: fc.constantFrom('x-user', 'X-Session'),
    sourceIpTimeout: opt(seconds.filter((s) => s > 0)),
    rebalance: fc.constantFrom('persistent', 'balanced'),
    onFailure: fc.constantFrom('rebalance', 'fail', 'retryElsewhere', 'retryPinned'),
    absoluteTimeoutSeconds: opt(seconds.filter((s) => s > 0)),
    idleTimeoutSeconds: opt(seconds.filter((s) => s > 0)),
    canaryBehavior: opt(fc.constantFrom('sticky', 'legacy')),
    algorithm: fc.constantFrom(
      'roundRobin',
      'leastConnections',
      'sourceIpHash',
      'random',
      'ewma',
      'hash',
    ),
    hashKey: opt(fc.constant('$remote_addr')),
    sslRedirect: opt(fc.boolean()),
  })
  .map((r): SourcePolicy => {
    const policy: PersistencePolicy = {
      mode: r.mode,
      rebalance: r.rebalance,
      onFailure: r.onFailure,
    };
    const cookie = Object.fromEntries(
      Object.entries(r.cookie).filter(([, v]) => v !== undefined),
    ) as NonNullable<PersistencePolicy['cookie']>;
    if (r.mode === 'cookie' || r.mode === 'appCookie') policy.cookie = cookie;
    if (r.mode === 'appCookie') policy.appCookie = { name: r.appCookieName };
    if (r.mode === 'header') policy.header = { name: r.headerName };
    if (r.mode === 'sourceIp')
      policy.sourceIp =
        r.sourceIpTimeout === undefined ? {} : { timeoutSeconds: r.sourceIpTimeout };
    if (r.absoluteTimeoutSeconds !== undefined)
      policy.absoluteTimeoutSeconds = r.absoluteTimeoutSeconds;
    if (r.idleTimeoutSeconds !== undefined) policy.idleTimeoutSeconds = r.idleTimeoutSeconds;
    if (r.canaryBehavior !== undefined) policy.canaryBehavior = r.canaryBehavior;
    const loadBalancing: LoadBalancing = { algorithm: r.algorithm };
    if (r.hashKey !== undefined) loadBalancing.hashKey = r.hashKey;
    const out: SourcePolicy = { policy, loadBalancing };
    if (r.sslRedirect !== undefined) out.route = { sslRedirect: r.sslRedirect };
    return out;
  });
