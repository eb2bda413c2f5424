import { z } from 'zod';
import type { BalancingAlgorithm } from '@tether/model';
import type { KeySpec } from '../types';

export const PREFIX = 'kubernetes.io/elb.';
export const CLASS = 'kubernetes.io/elb.class';
export const ALGORITHM = 'kubernetes.io/elb.lb-algorithm';
export const MODE = 'kubernetes.io/elb.session-affinity-mode';
export const OPTION = 'kubernetes.io/elb.session-affinity-option';
/** The open-source cloud provider's switch (kubernetes-sigs/cloud-provider-huaweicloud), on Services. */
export const OSS_FLAG = 'kubernetes.io/elb.session-affinity-flag';

export const CLASSES = ['union', 'performance'] as const;
export type ElbClass = (typeof CLASSES)[number];

export const ALGORITHMS = {
  ROUND_ROBIN: 'roundRobin',
  LEAST_CONNECTIONS: 'leastConnections',
  SOURCE_IP: 'sourceIpHash',
} as const satisfies Record<string, BalancingAlgorithm>;
export type ElbAlgorithm = keyof typeof ALGORITHMS;
export const DEFAULT_ALGORITHM: ElbAlgorithm = 'ROUND_ROBIN';

export const MODES = ['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE'] as const;
export type ElbMode = (typeof MODES)[number];

/** The keys of the option JSON that CCE reads. */
export const TIMEOUT_KEY = 'persistence_timeout';
export const APP_COOKIE_KEY = 'app_cookie_name';

/** Source-IP stickiness on a layer-4 listener: minutes, 1 to 60, default 60. */
export const L4_TIMEOUT = { min: 1, max: 60, defaultMinutes: 60 } as const;
/** Balancer-cookie stickiness on a layer-7 route: minutes, 1 to 1440; ELB's own default is 20. */
export const L7_TIMEOUT = { min: 1, max: 1440, defaultMinutes: 20 } as const;

/**
 * ELB names the cookie it inserts itself and does not document the name. Tether needs a fixed
 * name so that every replica recognises the cookie; this one is ours, and its provenance says
 * so ("default of huawei-cce").
 */
export const DEFAULT_COOKIE_NAME = 'TETHER_ELB_STICKY';

export const table: readonly KeySpec[] = [
  {
    key: CLASS,
    keepOnMigration: true,
    type: 'annotation',
    kinds: ['Service', 'Ingress'],
    schema: z.enum(CLASSES),
    default: 'union',
    doc: 'ELB flavour: union is a shared load balancer, performance a dedicated one (which does not apply APP_COOKIE).',
  },
  {
    key: ALGORITHM,
    type: 'annotation',
    kinds: ['Service', 'Ingress'],
    schema: z.enum(Object.keys(ALGORITHMS) as [ElbAlgorithm, ...ElbAlgorithm[]]),
    default: DEFAULT_ALGORITHM,
    doc: 'How ELB picks a backend: ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP (a source-address hash that rules out sticky sessions).',
  },
  {
    key: MODE,
    type: 'annotation',
    kinds: ['Service', 'Ingress'],
    schema: z.enum(MODES),
    doc: 'Sticky sessions: SOURCE_IP on a LoadBalancer Service listener; HTTP_COOKIE or APP_COOKIE on Ingress routes (a Service behind an Ingress overrides the Ingress).',
  },
  {
    key: OSS_FLAG,
    type: 'annotation',
    kinds: ['Service'],
    schema: z.string(),
    default: 'off',
    doc: 'The open-source cloud provider\'s switch: anything but empty or off turns stickiness on, typed by session-affinity-option {"type": SOURCE_IP | HTTP_COOKIE | APP_COOKIE, "cookie_name", "persistence_timeout": minutes as a number}.',
  },
  {
    key: OPTION,
    type: 'annotation',
    kinds: ['Service', 'Ingress'],
    schema: z.string(),
    default: '{"persistence_timeout": "60"} for SOURCE_IP; 20 minutes (ELB) for HTTP_COOKIE',
    doc: 'JSON: persistence_timeout as a string of minutes (1-60 for SOURCE_IP, 1-1440 for HTTP_COOKIE); app_cookie_name for APP_COOKIE.',
  },
];
