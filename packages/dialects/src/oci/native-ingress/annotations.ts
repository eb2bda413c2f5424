import { z } from 'zod';
import type { KeySpec } from '../../types';
import { OCI_DEFAULT_COOKIE_NAME, OCI_POLICY_NAMES } from '../common';

export const PREFIX = 'oci-native-ingress.oraclecloud.com/';

/** The persistence family: unknown keys under these are reported by the generic check. */
export const PERSISTENCE_PREFIXES = [`${PREFIX}session-persistence`, `${PREFIX}lb-cookie`] as const;

export const KEYS = {
  appCookie: `${PREFIX}session-persistence-config`,
  lbCookie: `${PREFIX}lb-cookie-session-persistence-config`,
  policy: `${PREFIX}policy`,
  protocol: `${PREFIX}protocol`,
  certificate: `${PREFIX}certificate-ocid`,
  httpPort: `${PREFIX}http-listener-port`,
  httpsPort: `${PREFIX}https-listener-port`,
} as const;

export const PROTOCOLS = ['HTTP', 'HTTP2', 'TCP', 'GRPC'] as const;
export type NicProtocol = (typeof PROTOCOLS)[number];

const INGRESS = ['Ingress'] as const;
const portNumber = z.string().regex(/^[+-]?\d+$/);

export const TABLE: readonly KeySpec[] = [
  {
    key: KEYS.appCookie,
    type: 'annotation',
    kinds: INGRESS,
    schema: z.string(),
    doc: 'JSON application-cookie persistence for the backend sets of this Ingress; only cookieName is kept (trimmed; missing or empty means "*", any cookie), disableFallback is dropped',
  },
  {
    key: KEYS.lbCookie,
    type: 'annotation',
    kinds: INGRESS,
    schema: z.string(),
    doc: `JSON LB-cookie persistence (cookieName, disableFallback, domain, path, maxAgeInSeconds, isSecure, isHttpOnly); keys match case-insensitively; cookie name defaults to ${OCI_DEFAULT_COOKIE_NAME}`,
  },
  {
    key: KEYS.policy,
    type: 'annotation',
    kinds: INGRESS,
    schema: z.enum(OCI_POLICY_NAMES as [string, ...string[]]),
    default: 'LEAST_CONNECTIONS',
    doc: 'Backend-set policy: ROUND_ROBIN, LEAST_CONNECTIONS or IP_HASH, spelled exactly; every Ingress routing to one Service port must agree',
  },
  {
    key: KEYS.protocol,
    keepOnMigration: true,
    type: 'annotation',
    kinds: INGRESS,
    schema: z.string().refine((v) => (PROTOCOLS as readonly string[]).includes(v.toUpperCase())),
    default: 'HTTP',
    doc: 'Listener protocol: HTTP, HTTP2, GRPC or TCP (any case); GRPC speaks gRPC (HTTP/2) to the backends too; TCP passes connections through, so cookie persistence cannot work',
  },
  {
    key: KEYS.certificate,
    keepOnMigration: true,
    type: 'annotation',
    kinds: INGRESS,
    schema: z.string(),
    doc: 'OCI certificate for the listeners; with it every host of the Ingress is served over HTTPS',
  },
  {
    key: KEYS.httpPort,
    keepOnMigration: true,
    type: 'annotation',
    kinds: INGRESS,
    schema: portNumber,
    default: 'the Service port',
    doc: 'Load-balancer port for the plain-HTTP routes of the Ingress',
  },
  {
    key: KEYS.httpsPort,
    keepOnMigration: true,
    type: 'annotation',
    kinds: INGRESS,
    schema: portNumber,
    default: 'the Service port',
    doc: 'Load-balancer port for the TLS routes of the Ingress',
  },
];
