import {
  flattenPolicy,
  type DialectId,
  type PersistencePolicy,
  type LoadBalancing,
  type ResolvedEntry,
} from '@tether/model';
import {
  analyze,
  applyToObject,
  DIALECTS,
  entriesOf,
  type Dialect,
  type KubeObject,
} from '@tether/dialects';

/**
 * Which settings each dialect can carry, found by writing them: every probe is a policy that
 * differs from a plain session cookie in one setting; it is emitted by the dialect onto an
 * object of its kind, read back, and counts as carried when the setting reads back the same.
 */

interface Probe {
  /** What the row says, e.g. `onFailure: fail`. */
  label: string;
  field: string;
  policy: PersistencePolicy;
  loadBalancing: LoadBalancing;
}

const COOKIE: PersistencePolicy = {
  mode: 'cookie',
  cookie: {
    name: 'shop-sid',
    path: '/',
    httpOnly: true,
    secure: 'https',
    omitSameSiteNoneForOldClients: false,
    lifetime: 'session',
    nocache: false,
  },
  rebalance: 'persistent',
  onFailure: 'rebalance',
};
const ROUND_ROBIN: LoadBalancing = { algorithm: 'roundRobin' };

function cookie(change: Partial<NonNullable<PersistencePolicy['cookie']>>): PersistencePolicy {
  return { ...COOKIE, cookie: { ...COOKIE.cookie!, ...change } };
}

function probe(
  label: string,
  field: string,
  policy: PersistencePolicy,
  loadBalancing = ROUND_ROBIN,
): Probe {
  return { label, field, policy, loadBalancing };
}

export const PROBES: readonly Probe[] = [
  probe('mode: cookie (balancer cookie)', 'mode', COOKIE),
  probe('mode: appCookie (follow the app cookie)', 'appCookie.name', {
    ...COOKIE,
    mode: 'appCookie',
    appCookie: { name: 'JSESSIONID' },
  }),
  probe('mode: sourceIp', 'mode', {
    mode: 'sourceIp',
    sourceIp: { timeoutSeconds: 1800 },
    rebalance: 'persistent',
    onFailure: 'rebalance',
  }),
  probe('sourceIp.timeoutSeconds', 'sourceIp.timeoutSeconds', {
    mode: 'sourceIp',
    sourceIp: { timeoutSeconds: 1800 },
    rebalance: 'persistent',
    onFailure: 'rebalance',
  }),
  probe('mode: header', 'header.name', {
    mode: 'header',
    header: { name: 'x-session' },
    rebalance: 'persistent',
    onFailure: 'rebalance',
  }),
  probe('mode: none', 'mode', { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' }),
  probe('cookie.name', 'cookie.name', COOKIE),
  probe('cookie.path', 'cookie.path', cookie({ path: '/shop' })),
  probe('cookie.domain', 'cookie.domain', cookie({ domain: 'example.com' })),
  probe(
    'cookie.maxAgeSeconds',
    'cookie.maxAgeSeconds',
    cookie({ maxAgeSeconds: 3600, lifetime: 'permanent' }),
  ),
  probe(
    'cookie.expiresSeconds',
    'cookie.expiresSeconds',
    cookie({ expiresSeconds: 3600, lifetime: 'permanent' }),
  ),
  probe('cookie.httpOnly: false', 'cookie.httpOnly', cookie({ httpOnly: false })),
  probe('cookie.secure: always', 'cookie.secure', cookie({ secure: 'always' })),
  probe('cookie.secure: https', 'cookie.secure', cookie({ secure: 'https' })),
  probe('cookie.secure: never', 'cookie.secure', cookie({ secure: 'never' })),
  probe('cookie.sameSite: Lax', 'cookie.sameSite', cookie({ sameSite: 'Lax' })),
  probe(
    'cookie.sameSite: None for new clients only',
    'cookie.omitSameSiteNoneForOldClients',
    cookie({ sameSite: 'None', omitSameSiteNoneForOldClients: true }),
  ),
  probe('cookie.nocache (Cache-Control: private)', 'cookie.nocache', cookie({ nocache: true })),
  probe('rebalance: balanced', 'rebalance', { ...COOKIE, rebalance: 'balanced' }),
  probe('onFailure: fail (no fallback)', 'onFailure', { ...COOKIE, onFailure: 'fail' }),
  probe('onFailure: retryElsewhere', 'onFailure', { ...COOKIE, onFailure: 'retryElsewhere' }),
  probe('onFailure: retryPinned (no move while listed)', 'onFailure', {
    ...COOKIE,
    onFailure: 'retryPinned',
  }),
  probe('absoluteTimeoutSeconds', 'absoluteTimeoutSeconds', {
    ...COOKIE,
    absoluteTimeoutSeconds: 3600,
  }),
  probe('idleTimeoutSeconds', 'idleTimeoutSeconds', { ...COOKIE, idleTimeoutSeconds: 600 }),
  ...(['leastConnections', 'sourceIpHash', 'random', 'ewma'] as const).map((algorithm) =>
    probe(
      `loadBalancing: ${algorithm}`,
      'loadBalancing.algorithm',
      { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
      { algorithm },
    ),
  ),
  probe(
    'loadBalancing: hash by header',
    'loadBalancing.hashKey',
    { mode: 'none', rebalance: 'persistent', onFailure: 'rebalance' },
    { algorithm: 'hash', hashKey: '$http_x_user' },
  ),
];

const SERVICE: KubeObject = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'shop', namespace: 'default' },
  spec: { type: 'LoadBalancer', ports: [{ name: 'https', port: 443, targetPort: 8443 }] },
};

/** A plain object of each kind, served over HTTPS where the kind can say so, to write onto. */
const TARGETS: Record<string, KubeObject> = {
  Ingress: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'shop', namespace: 'default' },
    spec: {
      tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
      rules: [
        {
          host: 'shop.example.com',
          http: {
            paths: [
              {
                path: '/',
                pathType: 'Prefix',
                backend: { service: { name: 'shop', port: { number: 443 } } },
              },
            ],
          },
        },
      ],
    },
  },
  Route: {
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: { name: 'shop', namespace: 'default' },
    spec: {
      host: 'shop.example.com',
      to: { kind: 'Service', name: 'shop' },
      port: { targetPort: 'https' },
      tls: { termination: 'edge' },
    },
  },
  HTTPRoute: {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'shop', namespace: 'default' },
    spec: {
      hostnames: ['shop.example.com'],
      rules: [{ backendRefs: [{ name: 'shop', port: 443 }] }],
    },
  },
  Service: SERVICE,
};

function carriesOn(dialect: Dialect, kind: string, p: Probe): boolean {
  const target = TARGETS[kind];
  if (!dialect.emit || !target) return false;
  const objects = kind === 'Service' ? [target] : [SERVICE, target];
  const entries: ResolvedEntry[] = (entriesOf(target).spec ?? []).map((item) => ({
    entry: item.entry,
    backend: item.backend,
    accepted: true,
    policy: p.policy,
    loadBalancing: p.loadBalancing,
    route: {},
    sources: {},
  }));
  const out = dialect.emit({ object: target, entries, explicit: false });
  const written = applyToObject(target, {
    removeAnnotations: out.removeAnnotations ?? [],
    setAnnotations: out.annotations,
    spec: out.spec,
  });
  const back = analyze(objects.map((o) => (o === target ? written : o))).entries.find(
    (e) => e.entry.kind === kind && e.accepted && e.policy,
  );
  if (!back?.policy) return false;
  const wanted = flattenPolicy(p.policy, p.loadBalancing) as Record<string, unknown>;
  const got = flattenPolicy(back.policy, back.loadBalancing) as Record<string, unknown>;
  return got[p.field] === wanted[p.field] && got.mode === wanted.mode;
}

/** Carried when any kind the dialect writes on carries it (Huawei: cookies on Ingresses, source IP on Services). */
function carries(dialect: Dialect, p: Probe): boolean {
  return (dialect.targetKinds ?? []).some((kind) => carriesOn(dialect, kind, p));
}

export interface CarryTable {
  dialects: DialectId[];
  rows: { label: string; carried: Record<string, boolean> }[];
}

export function carryTable(): CarryTable {
  const dialects = DIALECTS.filter((d) => d.emit).map((d) => d.id);
  return {
    dialects,
    rows: PROBES.map((p) => ({
      label: p.label,
      carried: Object.fromEntries(DIALECTS.filter((d) => d.emit).map((d) => [d.id, carries(d, p)])),
    })),
  };
}

/** The table as Markdown, for the README. */
export function carryTableMarkdown(table: CarryTable = carryTable()): string {
  const header = `| setting | ${table.dialects.join(' | ')} |`;
  const rule = `|---|${table.dialects.map(() => ':-:').join('|')}|`;
  const rows = table.rows.map(
    (r) => `| ${r.label} | ${table.dialects.map((d) => (r.carried[d] ? '✓' : '–')).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}
