import { z } from 'zod';
import type { KeySpec } from '../../types';
import { OCI_DEFAULT_COOKIE_NAME, OCI_POLICY_NAMES } from '../common';

export const KEYS = {
  lbCookie: 'oci-load-balancer.oraclecloud.com/lb-cookie-session-persistence-config',
  appCookie: 'oci-load-balancer.oraclecloud.com/session-persistence-config',
  policy: 'oci.oraclecloud.com/loadbalancer-policy',
  backendProtocol: 'service.beta.kubernetes.io/oci-load-balancer-backend-protocol',
  sslPorts: 'service.beta.kubernetes.io/oci-load-balancer-ssl-ports',
  tlsSecret: 'service.beta.kubernetes.io/oci-load-balancer-tls-secret',
  backendSetSecret: 'service.beta.kubernetes.io/oci-load-balancer-tls-backendset-secret',
  lbType: 'oci.oraclecloud.com/load-balancer-type',
  nlbPolicy: 'oci-network-load-balancer.oraclecloud.com/backend-policy',
} as const;

/** NLB backend policies (matched exactly by the cloud controller manager). */
export const NLB_POLICY_NAMES = ['FIVE_TUPLE', 'THREE_TUPLE', 'TWO_TUPLE'] as const;

const SERVICE = ['Service'] as const;

export const TABLE: readonly KeySpec[] = [
  {
    key: KEYS.lbCookie,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.string(),
    doc: `JSON LB-cookie persistence for every listener of the Service (cookieName, disableFallback, domain, path, maxAgeInSeconds, isSecure, isHttpOnly); keys match case-insensitively; cookie name defaults to ${OCI_DEFAULT_COOKIE_NAME}`,
  },
  {
    key: KEYS.appCookie,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.string(),
    doc: 'JSON application-cookie persistence (cookieName, "*" for any cookie; disableFallback); the balancer follows the backend cookie and issues its own companion cookie',
  },
  {
    key: KEYS.policy,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.enum(OCI_POLICY_NAMES as [string, ...string[]]),
    default: 'ROUND_ROBIN',
    doc: 'Balancing policy of the load balancer (lb type): ROUND_ROBIN, LEAST_CONNECTIONS or IP_HASH, spelled exactly; any other value, even empty, is refused',
  },
  {
    key: KEYS.backendProtocol,
    keepOnMigration: true,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.string().regex(/^(http|tcp|grpc|)$/i),
    default: 'the port protocol (TCP)',
    doc: 'Listener protocol for every port: HTTP, TCP or GRPC, any case; empty means TCP; cookie persistence needs HTTP',
  },
  {
    key: KEYS.sslPorts,
    keepOnMigration: true,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.string().regex(/^(\s*[+-]?\d+\s*)(,\s*[+-]?\d+\s*)*$|^$/),
    doc: 'Comma-separated Service ports whose listeners terminate TLS (with the tls-secret); HTTP listeners on them become HTTPS',
  },
  {
    key: KEYS.tlsSecret,
    keepOnMigration: true,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.string(),
    doc: 'Secret ([namespace/]name) with the certificate for the ssl-ports listeners; without it those listeners stay plain',
  },
  {
    key: KEYS.backendSetSecret,
    keepOnMigration: true,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.string(),
    doc: 'Secret ([namespace/]name) of the backend sets of the ssl-ports: OCI speaks TLS to those backends, without verifying their certificates',
  },
  {
    key: KEYS.lbType,
    keepOnMigration: true,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.string(),
    default: 'lb',
    doc: 'lb (the layer-7 load balancer) or nlb (the network load balancer, any case); any other value counts as lb; nlb has no cookie persistence',
  },
  {
    key: KEYS.nlbPolicy,
    keepOnMigration: true,
    type: 'annotation',
    kinds: SERVICE,
    schema: z.enum(NLB_POLICY_NAMES),
    default: 'FIVE_TUPLE',
    doc: 'Network load balancer hashing: FIVE_TUPLE (per connection), THREE_TUPLE or TWO_TUPLE (by client address); only for load-balancer-type nlb',
  },
];
