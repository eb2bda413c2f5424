/**
 * charts/tether with the real helm: lint, render with the default values and every example
 * values file, validate every object against the Kubernetes schemas, and check what the chart
 * promises (least-privilege RBAC, probes and limits, a graceful stop longer than the drain,
 * flags that `tether serve` accepts).
 */
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { IngressClass } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Command } from '@commander-js/extra-typings';
import { buildProgram } from '@tether/cli';
import { CONTROLLER_NAME, WATCHED_RESOURCES } from '@tether/controller';
import {
  ChartValuesSchema,
  DRAIN_SECONDS,
  renderChartValuesSchema,
} from '../../packages/cli/src/chart-schema';
import { ServeOptionsSchema } from '../../packages/cli/src/serve';
import { helm } from '../support/helm';
import {
  at,
  CHART,
  NAMESPACE,
  one,
  RELEASE,
  render,
  valuesFiles,
  type KubeObject,
  type Rendered,
} from './chart';

function validator<T>(Model: new (data: T) => { validate(): void }): (o: KubeObject) => void {
  return (o) => new Model(o as T).validate();
}

/** Kubernetes schemas (kubernetes-models 4.5.1) by apiVersion and kind. */
const VALIDATORS: Record<string, (o: KubeObject) => void> = {
  'apps/v1/Deployment': validator(Deployment),
  'autoscaling/v2/HorizontalPodAutoscaler': validator(HorizontalPodAutoscaler),
  'networking.k8s.io/v1/IngressClass': validator(IngressClass),
  'policy/v1/PodDisruptionBudget': validator(PodDisruptionBudget),
  'rbac.authorization.k8s.io/v1/ClusterRole': validator(ClusterRole),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': validator(ClusterRoleBinding),
  'rbac.authorization.k8s.io/v1/Role': validator(Role),
  'rbac.authorization.k8s.io/v1/RoleBinding': validator(RoleBinding),
  'v1/Secret': validator(Secret),
  'v1/Service': validator(Service),
  'v1/ServiceAccount': validator(ServiceAccount),
};

/** Custom resources, whose schemas kubernetes-models does not carry: the fields the chart relies on. */
const CUSTOM_CHECKS: Record<string, (o: KubeObject) => void> = {
  'monitoring.coreos.com/v1/ServiceMonitor': (o) => {
    expect(at(o, 'spec', 'selector', 'matchLabels')).toEqual(expect.any(Object));
    expect(at(o, 'spec', 'endpoints', 0, 'port')).toBe('metrics');
    expect(at(o, 'spec', 'endpoints', 0, 'path')).toBe('/metrics');
  },
  'gateway.networking.k8s.io/v1/GatewayClass': (o) => {
    expect(at(o, 'spec', 'controllerName')).toBe(CONTROLLER_NAME);
  },
  'gateway.networking.k8s.io/v1/Gateway': (o) => {
    expect(at(o, 'spec', 'gatewayClassName')).toEqual(expect.any(String));
    expect(at(o, 'spec', 'listeners', 0, 'protocol')).toBe('HTTP');
  },
};

/**
 * What the controller needs, and nothing else: read every resource its Kubernetes source
 * watches; record Events (list its own back after a restart, get one after a conflict,
 * create, replace to count repeats); patch Ingress, LoadBalancer Service, GatewayClass,
 * Gateway and route status.
 */
const CLUSTER_RULES = [
  ...WATCHED_RESOURCES.map((r) => ({
    apiGroups: [r.group],
    resources: [r.plural],
    verbs: ['get', 'list', 'watch'],
  })),
  { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['services/status'], verbs: ['patch'] },
  {
    apiGroups: ['gateway.networking.k8s.io'],
    resources: [
      'gatewayclasses/status',
      'gateways/status',
      'httproutes/status',
      'grpcroutes/status',
      'tlsroutes/status',
    ],
    verbs: ['patch'],
  },
  {
    apiGroups: ['events.k8s.io'],
    resources: ['events'],
    verbs: ['get', 'list', 'create', 'update'],
  },
];
/** Leader election reads, creates and replaces one Lease in the release's namespace. */
const LEASE_RULES = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/** (group, resource, verb) triples, so that the comparison ignores how rules are grouped. */
function grants(rules: unknown): string[] {
  const out: string[] = [];
  for (const rule of (rules ?? []) as {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
  }[])
    for (const g of rule.apiGroups)
      for (const r of rule.resources) for (const v of rule.verbs) out.push(`${g}|${r}|${v}`);
  // A resource watched twice (Secrets of two types) needs its grant once.
  return [...new Set(out)].sort();
}

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; valueFrom?: unknown }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: string | number } };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  resources?: { limits?: Record<string, unknown>; requests?: Record<string, unknown> };
  securityContext?: Record<string, unknown>;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  volumeMounts?: { name: string; mountPath: string }[];
}

function containersOf(deployment: KubeObject): Container[] {
  return [
    ...((at(deployment, 'spec', 'template', 'spec', 'initContainers') ?? []) as Container[]),
    ...((at(deployment, 'spec', 'template', 'spec', 'containers') ?? []) as Container[]),
  ];
}

/**
 * The container's arguments parsed by the options of the real `tether serve` command (an
 * unknown flag throws), as the ServeOptions object the command would check.
 */
function parseServeArgs(args: readonly string[]): Record<string, unknown> {
  expect(args[0]).toBe('serve');
  const program = buildProgram({ stdout: () => {}, stderr: () => {}, stdin: () => '' }, () => {});
  const serve = program.commands.find((c) => c.name() === 'serve');
  if (!serve) throw new Error('tether has no serve command');
  // The same options without the action, so that parsing starts nothing.
  const probe = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  for (const option of serve.options) probe.addOption(option);
  probe.parse(args.slice(1), { from: 'user' });
  return probe.opts();
}

const CASES: [name: string, args: string[]][] = [
  ['default values', []],
  ...valuesFiles().map((f): [string, string[]] => [f, ['-f', join(CHART, '..', '..', f)]]),
];

const rendered = new Map<string, Promise<Rendered>>();
function renderCase(args: string[]): Promise<Rendered> {
  const key = args.join(' ');
  let r = rendered.get(key);
  if (!r) {
    r = render(args);
    rendered.set(key, r);
  }
  return r;
}

describe('values.schema.json', () => {
  it('is what the generator makes from the zod schema (npm run chart:schema)', () => {
    expect(readFileSync(join(CHART, 'values.schema.json'), 'utf8')).toBe(renderChartValuesSchema());
  });

  it('accepts values.yaml as it is', () => {
    const values: unknown = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
    expect(ChartValuesSchema.safeParse(values).error).toBeUndefined();
  });

  it.each([
    [
      'a log level tether serve does not know',
      ['--set', 'controller.logLevel=verbose'],
      'controller.logLevel',
    ],
    [
      'an IngressClass name that is no object name',
      ['--set', 'ingressClass.name=Tether_Class'],
      'ingressClass.name',
    ],
    ['a port a non-root user cannot bind', ['--set', 'ports.http=80'], 'ports.http'],
    ['a key not in the chart', ['--set', 'replicas=3'], 'Additional property replicas'],
    [
      'a cookie key shorter than 16 characters',
      ['--set', 'cookieKey.value=short'],
      'cookieKey.value',
    ],
    ['a memory limit left out', ['--set', 'resources.limits.memory=null'], 'memory'],
    [
      'a grace period shorter than the drain',
      ['--set', `terminationGracePeriodSeconds=${DRAIN_SECONDS}`],
      'terminationGracePeriodSeconds',
    ],
    [
      'a quantity that is no quantity',
      ['--set', 'resources.requests.cpu=lots'],
      'resources.requests.cpu',
    ],
  ])('rejects %s at helm template, naming the value', async (_name, args, named) => {
    const result = await render(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain(named);
  });

  it.each([
    [
      'a grace period not longer than the preStop pause plus the drain',
      ['--set', `preStopSleepSeconds=10,terminationGracePeriodSeconds=${DRAIN_SECONDS + 10}`],
      'terminationGracePeriodSeconds',
    ],
    [
      'an autoscaler whose minimum is above its maximum',
      ['--set', 'autoscaling.enabled=true,autoscaling.minReplicas=5,autoscaling.maxReplicas=2'],
      'autoscaling.minReplicas',
    ],
    [
      'a ServiceMonitor without the metrics Service it scrapes',
      ['--set', 'metrics.serviceMonitor.enabled=true,metrics.service.enabled=false'],
      'metrics.service.enabled',
    ],
  ])('rejects %s (a check between values, in the templates)', async (_name, args, named) => {
    const result = await render(args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(named);
  });
});

describe('helm lint --strict', () => {
  it.each(CASES)('passes with %s', async (_name, args) => {
    const result = await helm(['lint', '--strict', CHART, ...args]);
    expect(result.stderr + result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.code).toBe(0);
  });
});

describe.each(CASES)('helm template with %s', (_name, args) => {
  it('renders objects that the Kubernetes schemas accept', async () => {
    const { code, stderr, objects } = await renderCase(args);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(objects.length).toBeGreaterThan(5);
    for (const o of objects) {
      const key = `${o.apiVersion}/${o.kind}`;
      const check = VALIDATORS[key] ?? CUSTOM_CHECKS[key];
      if (!check) throw new Error(`no schema for ${key}`);
      check(o);
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe(RELEASE);
    }
  });

  it('gives every container probes on the admin port and resource limits', async () => {
    const { objects } = await renderCase(args);
    const deployment = one(objects, 'Deployment');
    const containers = containersOf(deployment);
    expect(containers.length).toBeGreaterThan(0);
    for (const c of containers) {
      expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'admin' });
      expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'admin' });
      expect(c.resources?.limits?.memory).toBeDefined();
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
      });
    }
    expect(at(deployment, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot')).toBe(
      true,
    );
  });

  it('stops more slowly than the preStop pause plus the drain', async () => {
    const { objects } = await renderCase(args);
    const deployment = one(objects, 'Deployment');
    const grace = at(deployment, 'spec', 'template', 'spec', 'terminationGracePeriodSeconds');
    const pause = containersOf(deployment)[0]?.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(grace).toEqual(expect.any(Number));
    expect(grace as number).toBeGreaterThan(DRAIN_SECONDS + pause);
  });

  it('runs tether serve with flags it has, values it accepts and the files it mounts', async () => {
    const { objects } = await renderCase(args);
    const deployment = one(objects, 'Deployment');
    const [container] = containersOf(deployment);
    const options = parseServeArgs(container?.args ?? []);
    expect(ServeOptionsSchema.safeParse(options).error).toBeUndefined();
    // Neither --kubeconfig nor --manifests: in the cluster, tether serve uses its service account.
    expect(options.kubeconfig).toBeUndefined();
    expect(options.manifests).toBeUndefined();

    const ports = new Map((container?.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(options.listen).toBe(`0.0.0.0:${ports.get('http')}`);
    expect(options.admin).toBe(`0.0.0.0:${ports.get('admin')}`);
    expect(options.listenTls).toBe(
      ports.has('https') ? `0.0.0.0:${ports.get('https')}` : undefined,
    );
    // The ports clients reach behind the chart's Service: what redirects to HTTPS name.
    const front = objects.find(
      (o) =>
        o.kind === 'Service' &&
        ((at(o, 'spec', 'ports') ?? []) as { name?: string }[]).some((p) => p.name === 'http'),
    );
    const servicePorts = new Map(
      ((at(front!, 'spec', 'ports') ?? []) as { name: string; port: number }[]).map((p) => [
        p.name,
        String(p.port),
      ]),
    );
    expect(options.publicHttpPort).toBe(servicePorts.get('http'));
    expect(options.publicHttpsPort).toBe(
      ports.has('https') ? servicePorts.get('https') : undefined,
    );

    const mounted = (file: unknown) =>
      (container?.volumeMounts ?? []).some(
        (m) => typeof file === 'string' && file.startsWith(`${m.mountPath}/`),
      );
    expect(mounted(options.cookieKeyFile)).toBe(true);
    if (options.listenTls) {
      expect(mounted(options.tlsCert)).toBe(true);
      expect(mounted(options.tlsKey)).toBe(true);
    }
    const env = new Map((container?.env ?? []).map((e) => [e.name, e.valueFrom]));
    expect(env.get('POD_NAME')).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    expect(env.get('POD_NAMESPACE')).toEqual({ fieldRef: { fieldPath: 'metadata.namespace' } });

    const ingressClass = objects.find((o) => o.kind === 'IngressClass');
    if (ingressClass) {
      expect(ingressClass.metadata.name).toBe(options.ingressClass);
      expect(at(ingressClass, 'spec', 'controller')).toBe(CONTROLLER_NAME);
    }
  });

  it('mounts Secrets that the chart renders or that the values name', async () => {
    const { objects } = await renderCase(args);
    const deployment = one(objects, 'Deployment');
    const volumes = (at(deployment, 'spec', 'template', 'spec', 'volumes') ?? []) as {
      name: string;
      secret?: { secretName: string; items?: { key: string }[] };
    }[];
    const secrets = new Map(
      objects.filter((o) => o.kind === 'Secret').map((o) => [o.metadata.name, o]),
    );
    const cookie = volumes.find((v) => v.name === 'cookie-key')?.secret;
    expect(cookie).toBeDefined();
    const rendered = secrets.get(cookie?.secretName ?? '');
    if (rendered) {
      const key = Buffer.from(String(at(rendered, 'data', 'cookie-key')), 'base64');
      expect(key.length).toBeGreaterThanOrEqual(16);
    } else {
      expect(cookie?.secretName).toBe('shared-cookie-key');
    }
    const tls = volumes.find((v) => v.name === 'tls')?.secret;
    const tlsSecret = secrets.get(tls?.secretName ?? '');
    if (tlsSecret) {
      expect(tlsSecret.type).toBe('kubernetes.io/tls');
      expect(Buffer.from(String(at(tlsSecret, 'data', 'tls.crt')), 'base64').toString()).toContain(
        '-----BEGIN CERTIFICATE-----',
      );
    }
  });

  it('grants exactly the permissions the controller needs, to its service account', async () => {
    const { objects } = await renderCase(args);
    const clusterRole = one(objects, 'ClusterRole');
    const role = one(objects, 'Role');
    expect(grants(clusterRole.rules)).toEqual(grants(CLUSTER_RULES));
    expect(grants(role.rules)).toEqual(grants(LEASE_RULES));
    expect(role.metadata.namespace).toBe(NAMESPACE);
    const deployment = one(objects, 'Deployment');
    const account = at(deployment, 'spec', 'template', 'spec', 'serviceAccountName');
    for (const binding of [one(objects, 'ClusterRoleBinding'), one(objects, 'RoleBinding')]) {
      expect(binding.subjects).toEqual([
        { kind: 'ServiceAccount', name: account, namespace: NAMESPACE },
      ]);
      const roleRef = binding.roleRef as { kind: string; name: string };
      expect(roleRef.name).toBe(
        roleRef.kind === 'Role' ? role.metadata.name : clusterRole.metadata.name,
      );
    }
  });

  it('selects its own pods from every Service, budget and autoscaler', async () => {
    const { objects } = await renderCase(args);
    const deployment = one(objects, 'Deployment');
    const podLabels = at(deployment, 'spec', 'template', 'metadata', 'labels') as Record<
      string,
      string
    >;
    const matches = (selector: unknown) =>
      Object.entries((selector ?? {}) as Record<string, string>).every(
        ([k, v]) => podLabels[k] === v,
      );
    const containerPorts = new Set((containersOf(deployment)[0]?.ports ?? []).map((p) => p.name));
    for (const service of objects.filter((o) => o.kind === 'Service')) {
      expect(matches(at(service, 'spec', 'selector'))).toBe(true);
      for (const p of (at(service, 'spec', 'ports') ?? []) as { targetPort: string }[])
        expect(containerPorts).toContain(p.targetPort);
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget'))
      expect(matches(at(pdb, 'spec', 'selector', 'matchLabels'))).toBe(true);
    for (const hpa of objects.filter((o) => o.kind === 'HorizontalPodAutoscaler')) {
      expect(at(hpa, 'spec', 'scaleTargetRef', 'name')).toBe(deployment.metadata.name);
      expect(at(deployment, 'spec', 'replicas')).toBeUndefined();
    }
  });
});

describe('the default values', () => {
  it('expose HTTP and HTTPS on a LoadBalancer, metrics inside the cluster, and a budget', async () => {
    const { objects } = await renderCase([]);
    const services = objects.filter((o) => o.kind === 'Service');
    const main = services.find((s) => at(s, 'spec', 'type') === 'LoadBalancer');
    expect(at(main, 'spec', 'ports')).toEqual([
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' },
    ]);
    const metrics = services.find((s) => s !== main);
    expect(at(metrics, 'spec', 'type')).toBe('ClusterIP');
    expect(at(metrics, 'spec', 'ports', 0, 'targetPort')).toBe('admin');
    // The JSON API stays on loopback in the pod, behind no port and no Service.
    const tether = containersOf(one(objects, 'Deployment')).find((c) => c.name === 'tether');
    expect(parseServeArgs(tether?.args ?? []).api).toBe('127.0.0.1:9091');
    expect(tether?.ports?.map((p) => p.name)).not.toContain('api');
    for (const service of services)
      for (const port of at(service, 'spec', 'ports') as { targetPort: string }[])
        expect(['http', 'https', 'admin']).toContain(port.targetPort);
    expect(at(one(objects, 'PodDisruptionBudget'), 'spec', 'maxUnavailable')).toBe(1);
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(false);
    expect(objects.some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    expect(at(one(objects, 'Deployment'), 'spec', 'replicas')).toBe(2);
    expect(one(objects, 'IngressClass').metadata.annotations).toBeUndefined();
  });

  it('make Tether the default IngressClass only when asked', async () => {
    const { objects } = await render(['--set', 'ingressClass.default=true']);
    expect(one(objects, 'IngressClass').metadata.annotations).toEqual({
      'ingressclass.kubernetes.io/is-default-class': 'true',
    });
  });

  it('make the GatewayClass, and the Gateway when asked, only where the Gateway API CRDs are', async () => {
    const kinds = async (args: string[]) =>
      (await render(args)).objects
        .filter((o) => o.apiVersion.startsWith('gateway.networking.k8s.io/'))
        .map((o) => o.kind);
    const crds = ['--api-versions', 'gateway.networking.k8s.io/v1/GatewayClass'];
    const both = [...crds, '--api-versions', 'gateway.networking.k8s.io/v1/Gateway'];
    expect(await kinds([])).toEqual([]);
    expect(await kinds(crds)).toEqual(['GatewayClass']);
    expect(await kinds([...both, '--set', 'gatewayClass.create=false'])).toEqual([]);
    const { objects } = await render([...both, '--set', 'gateway.create=true']);
    const gateway = one(objects, 'Gateway');
    expect(at(gateway, 'spec', 'gatewayClassName')).toBe('tether');
    expect(at(gateway, 'spec', 'listeners')).toEqual([
      expect.objectContaining({ name: 'http', protocol: 'HTTP', port: 80 }),
      expect.objectContaining({
        name: 'https',
        protocol: 'HTTPS',
        port: 443,
        tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: expect.any(String) }] },
      }),
    ]);
  });

  it('send the Service ports of Gateway listeners to the pod ports Tether opens for them', async () => {
    const { objects } = await render([
      '--set',
      'service.gatewayPorts[0].name=alt-http,service.gatewayPorts[0].port=8000',
      '--set',
      'serviceLoadBalancers.portOffset=10000',
    ]);
    const service = objects.find(
      (o) => o.kind === 'Service' && at(o, 'spec', 'type') === 'LoadBalancer',
    );
    expect(at(service!, 'spec', 'ports')).toContainEqual({
      name: 'alt-http',
      port: 8000,
      targetPort: 18000,
      protocol: 'TCP',
    });
    const [container] = containersOf(one(objects, 'Deployment'));
    expect(String(parseServeArgs(container?.args ?? []).servicePortOffset)).toBe('10000');
  });

  it('run one proxy worker per CPU of the CPU limit, rounded up, unless told a number', async () => {
    const workersOf = async (args: string[]) => {
      const { objects } = await render(args);
      const [container] = containersOf(one(objects, 'Deployment'));
      return parseServeArgs(container?.args ?? []).workers;
    };
    expect(await workersOf([])).toBe('1');
    expect(await workersOf(['--set', 'resources.limits.cpu=1500m'])).toBe('2');
    expect(await workersOf(['--set', 'resources.limits.cpu=250m'])).toBe('1');
    expect(await workersOf(['--set', 'resources.limits.cpu=4'])).toBe('4');
    expect(await workersOf(['--set', 'workers=3'])).toBe('3');
    expect(await workersOf(['--set', 'workers=auto'])).toBe('auto');
  });

  it('offer HTTP/2 on HTTPS, and h2c or HTTP/1.1 only when asked', async () => {
    const serveOf = async (args: string[]) => {
      const { objects } = await render(args);
      const [container] = containersOf(one(objects, 'Deployment'));
      return parseServeArgs(container?.args ?? []);
    };
    expect(await serveOf([])).toMatchObject({ http2: true });
    expect((await serveOf([])).h2c).toBeUndefined();
    expect(await serveOf(['--set', 'h2c=true', '--set', 'https.http2=false'])).toMatchObject({
      http2: false,
      h2c: true,
    });
  });
});

describe('LoadBalancer Services', () => {
  it('are served by class, on the pods’ own network, unless asked otherwise', async () => {
    const { objects } = await renderCase([]);
    const deployment = one(objects, 'Deployment');
    const tether = containersOf(deployment).find((c) => c.name === 'tether');
    expect(parseServeArgs(tether?.args ?? [])).toMatchObject({
      serviceLoadBalancers: 'class',
      serviceListen: '0.0.0.0',
      servicePortOffset: '0',
    });
    expect(at(deployment, 'spec', 'template', 'spec', 'hostNetwork')).toBeUndefined();
  });

  it('bind on the nodes’ addresses with hostNetwork, one pod per node', async () => {
    const { objects } = await renderCase(['-f', join(CHART, 'ci', 'service-lb-values.yaml')]);
    const deployment = one(objects, 'Deployment');
    const pod = at(deployment, 'spec', 'template', 'spec');
    expect(at(pod, 'hostNetwork')).toBe(true);
    expect(at(pod, 'dnsPolicy')).toBe('ClusterFirstWithHostNet');
    expect(
      at(
        pod,
        'affinity',
        'podAntiAffinity',
        'requiredDuringSchedulingIgnoredDuringExecution',
        0,
        'topologyKey',
      ),
    ).toBe('kubernetes.io/hostname');
    const tether = containersOf(deployment).find((c) => c.name === 'tether');
    expect(parseServeArgs(tether?.args ?? [])).toMatchObject({
      serviceLoadBalancers: 'all',
      servicePortOffset: '10000',
    });
  });
});

describe('the chart README', () => {
  const readme = readFileSync(join(CHART, 'README.md'), 'utf8');

  it('lists every top-level value', () => {
    const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as object;
    const table = readme.slice(readme.indexOf('## Values'));
    for (const key of Object.keys(values)) expect(table).toContain(`\`${key}\``);
  });

  it('shows the error helm really prints for a wrong value', async () => {
    const block = /```text\n\$ helm template tether charts\/tether (.+)\n([\s\S]*?)```/.exec(
      readme,
    );
    expect(block).not.toBeNull();
    const result = await helm(['template', 'tether', CHART, ...block![1]!.split(' ')]);
    expect(result.code).not.toBe(0);
    expect(result.stderr.trimEnd()).toBe(block![2]!.trimEnd());
  });
});
