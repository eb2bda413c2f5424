/**
 * The values of the Helm chart `charts/tether`, as a zod schema, and the JSON Schema that helm
 * checks them against (`charts/tether/values.schema.json`, written by `npm run chart:schema`).
 *
 * Values that become `tether serve` flags reuse the flag's own schema, so a value the binary
 * would refuse is refused by `helm install` first, with the value's path in the message.
 * Constraints that relate two values (the grace period against the drain, the autoscaler's
 * bounds) cannot be said in JSON Schema; the chart's templates check those with `fail`.
 */
import { z } from 'zod';
import { DEFAULT_LIMITS } from '@tether/dataplane';
import { ServeOptionsSchema } from './serve';

/** How long `tether serve` lets requests in flight finish after SIGTERM, in seconds. */
export const DRAIN_SECONDS = Math.ceil(DEFAULT_LIMITS.shutdownTimeoutMs / 1000);

const stringMap = z.record(z.string(), z.string());
const looseObject = z.record(z.string(), z.unknown());

/** A DNS-1123 subdomain (most object names), or empty for "not set". */
const optionalObjectName = z
  .string()
  .max(253)
  .regex(/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?)?$/, 'must be empty or a Kubernetes object name');

/** Container ports: the image runs as non-root, which cannot bind below 1024. */
const containerPort = z.number().int().min(1024).max(65535);
const servicePort = z.number().int().min(1).max(65535);

const quantity = z.union([
  z
    .string()
    .regex(
      /^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$/,
      'must be a Kubernetes quantity such as 500m, 1 or 256Mi',
    ),
  z.number().positive(),
]);

const intOrPercent = z.union([
  z.number().int().min(0),
  z.string().regex(/^[0-9]+%$/, 'must be a count or a percentage such as 25%'),
]);

export const ChartValuesSchema = z
  .object({
    replicaCount: z
      .number()
      .int()
      .min(1)
      .describe('Replicas of the proxy (ignored while autoscaling.enabled)'),
    image: z
      .object({
        repository: z.string().min(1),
        tag: z.string().describe("Image tag; empty means the chart's appVersion"),
        digest: z
          .string()
          .regex(/^(sha256:[a-f0-9]{64})?$/, 'must be empty or sha256:<64 hex digits>')
          .describe('Pins the image by digest; beats the tag'),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
      })
      .strict(),
    imagePullSecrets: z.array(z.object({ name: z.string().min(1) }).strict()),
    nameOverride: z.string().max(53),
    fullnameOverride: z.string().max(53),
    controller: z
      .object({
        logLevel: ServeOptionsSchema.shape.logLevel.describe('--log-level of tether serve'),
        publishAddresses: ServeOptionsSchema.shape.publishAddress
          .unwrap()
          .describe(
            "--publish-address: the IPs or DNS names written into Ingress status (the Service's external address)",
          ),
        extraArgs: z.array(z.string()).describe('More arguments for tether serve'),
      })
      .strict(),
    ingressClass: z
      .object({
        name: ServeOptionsSchema.shape.ingressClass.describe(
          'The IngressClass served (--ingress-class)',
        ),
        create: z.boolean().describe('Create the IngressClass object'),
        default: z.boolean().describe('Make it the default class of the cluster'),
      })
      .strict(),
    gatewayClass: z
      .object({
        create: z
          .boolean()
          .describe('Create a GatewayClass for Tether (where the Gateway API CRDs are installed)'),
        name: optionalObjectName.min(1),
      })
      .strict(),
    gateway: z
      .object({
        create: z
          .boolean()
          .describe(
            'Create a Gateway of that class with HTTP and HTTPS listeners (where the Gateway API CRDs are installed)',
          ),
        name: optionalObjectName.min(1),
        allowedRoutesFrom: z
          .enum(['All', 'Same', 'Selector'])
          .describe('Namespaces whose routes may attach to the Gateway'),
      })
      .strict(),
    cookieKey: z
      .object({
        existingSecret: optionalObjectName.describe(
          'A Secret you manage, holding the key under "cookie-key"',
        ),
        value: z
          .union([z.literal(''), z.string().min(16)])
          .describe(
            'The key itself (at least 16 characters); empty: generated once and kept across upgrades',
          ),
      })
      .strict()
      .describe('The key that signs session cookies; every replica shares it'),
    https: z
      .object({
        enabled: z.boolean().describe('Listen for HTTPS (--listen-tls)'),
        http2: z.boolean().describe('Offer HTTP/2 by ALPN next to HTTP/1.1 (false: --no-http2)'),
        defaultCertificate: z
          .object({
            secretName: optionalObjectName.describe(
              'A kubernetes.io/tls Secret for hosts without their own; empty: a self-signed one, generated once and kept',
            ),
          })
          .strict(),
      })
      .strict(),
    h2c: z.boolean().describe('Also serve HTTP/2 with prior knowledge on the HTTP port (--h2c)'),
    ports: z
      .object({ http: containerPort, https: containerPort, admin: containerPort })
      .strict()
      .describe('Ports inside the pod (--listen, --listen-tls, --admin)'),
    service: z
      .object({
        type: z.enum(['LoadBalancer', 'NodePort', 'ClusterIP']),
        annotations: stringMap,
        labels: stringMap,
        ports: z.object({ http: servicePort, https: servicePort }).strict(),
        externalTrafficPolicy: z
          .enum(['Cluster', 'Local'])
          .describe('Local keeps the client address, which source-IP persistence needs'),
        loadBalancerClass: z.string(),
        loadBalancerSourceRanges: z.array(
          z.string().regex(/^[0-9a-fA-F.:]+\/[0-9]{1,3}$/, 'must be a CIDR such as 10.0.0.0/8'),
        ),
        gatewayPorts: z
          .array(
            z
              .object({
                name: z
                  .string()
                  .regex(
                    /^[a-z0-9]([-a-z0-9]{0,13}[a-z0-9])?$/,
                    'must be a port name (IANA_SVC_NAME)',
                  ),
                port: servicePort,
                protocol: z.enum(['TCP']).optional(),
              })
              .strict(),
          )
          .describe(
            'ports of Gateway listeners other than 80 and 443: each goes to the pod port moved by serviceLoadBalancers.portOffset',
          ),
      })
      .strict(),
    serviceLoadBalancers: z
      .object({
        serve: z
          .enum(['class', 'all'])
          .describe(
            'class: Services whose loadBalancerClass is tether.dev/service-lb; all: also those without a class',
          ),
        portOffset: z
          .number()
          .int()
          .min(0)
          .max(64511)
          .describe('Added to every Service port (the pods cannot bind below 1024)'),
        hostNetwork: z
          .boolean()
          .describe("Bind Service ports on each node's addresses; one pod per node"),
      })
      .strict()
      .describe('LoadBalancer Services whose own ports Tether serves (--service-load-balancers)'),
    metrics: z
      .object({
        service: z
          .object({ enabled: z.boolean(), port: servicePort, annotations: stringMap })
          .strict(),
        serviceMonitor: z
          .object({
            enabled: z.boolean().describe('Needs the Prometheus Operator CRDs installed'),
            interval: z
              .string()
              .regex(/^([0-9]+(ms|s|m|h))+$/, 'must be a duration such as 30s or 1m'),
            labels: stringMap,
          })
          .strict(),
      })
      .strict(),
    workers: z
      .union([z.literal(''), z.literal('auto'), z.number().int().min(1).max(64)])
      .describe(
        'Proxy processes per pod (--workers); empty: one per CPU of the CPU limit, rounded up',
      ),
    resources: z
      .object({
        requests: z.object({ cpu: quantity, memory: quantity }).partial().strict(),
        limits: z
          .object({ cpu: quantity.optional(), memory: quantity })
          .strict()
          .describe('A memory limit is required'),
      })
      .strict(),
    terminationGracePeriodSeconds: z
      .number()
      .int()
      .min(DRAIN_SECONDS + 1)
      .describe(
        `Longer than the preStop pause plus the ${DRAIN_SECONDS} s tether serve lets requests in flight finish`,
      ),
    preStopSleepSeconds: z
      .number()
      .int()
      .min(0)
      .max(120)
      .describe('Pause before SIGTERM so load balancers stop sending new connections first'),
    podDisruptionBudget: z.object({ enabled: z.boolean(), maxUnavailable: intOrPercent }).strict(),
    autoscaling: z
      .object({
        enabled: z.boolean(),
        minReplicas: z.number().int().min(1),
        maxReplicas: z.number().int().min(1),
        targetCPUUtilizationPercentage: z.number().int().min(1).max(100),
      })
      .strict(),
    serviceAccount: z
      .object({ create: z.boolean(), name: optionalObjectName, annotations: stringMap })
      .strict(),
    rbac: z.object({ create: z.boolean() }).strict(),
    podAnnotations: stringMap,
    podLabels: stringMap,
    nodeSelector: stringMap,
    tolerations: z.array(looseObject),
    affinity: looseObject,
    topologySpreadConstraints: z.array(looseObject),
    priorityClassName: z.string(),
  })
  .strict();

export type ChartValues = z.infer<typeof ChartValuesSchema>;

/** The JSON Schema (draft 7, which helm 3 reads) of the chart's values. */
export function chartValuesJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(ChartValuesSchema, { target: 'draft-7', io: 'input' }),
    title: 'Values of the tether chart',
    description: 'Generated from packages/cli/src/chart-schema.ts by npm run chart:schema',
  };
}

/** The text of charts/tether/values.schema.json. */
export function renderChartValuesSchema(): string {
  return `${JSON.stringify(chartValuesJsonSchema(), null, 2)}\n`;
}
