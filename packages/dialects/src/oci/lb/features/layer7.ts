import { Diagnostic, error, quote, warning } from '@tether/model';
import { FieldCollector, refusedByVendor } from '../../../helpers';
import { namespaceOf, sourceOf } from '../../../kube';
import type { KubeObject } from '../../../types';
import { annotation, isBlank, readOciPolicy } from '../../common';
import { KEYS } from '../annotations';
import { BackendProtocol, ListenerPlan } from './listeners';

const DIALECT = 'oci-lb';
const CCM = 'the OCI cloud controller manager';

/** The policy annotation; absent means OCI's ROUND_ROBIN. An invalid name refuses the Service. */
export function readPolicy(object: KubeObject, c: FieldCollector): void {
  readOciPolicy(object, c, KEYS.policy, 'roundRobin', `${CCM} refuses the Service`);
}

function readBackendProtocol(
  object: KubeObject,
  diagnostics: Diagnostic[],
): BackendProtocol | undefined {
  const raw = annotation(object, KEYS.backendProtocol);
  if (raw === undefined) return undefined;
  // The controller compares case-insensitively and reads an empty value as TCP.
  const upper = raw === '' ? 'TCP' : raw.toUpperCase();
  if (upper === 'HTTP' || upper === 'TCP' || upper === 'GRPC') return upper;
  diagnostics.push(
    refusedByVendor(
      sourceOf(DIALECT, object, KEYS.backendProtocol),
      raw,
      `HTTP, TCP or GRPC; ${CCM} refuses the Service`,
    ),
  );
  return undefined;
}

/** ssl-ports as the controller reads it: comma-separated integers, each trimmed; empty = none. */
function readSslPorts(object: KubeObject, diagnostics: Diagnostic[]): Set<number> {
  const raw = annotation(object, KEYS.sslPorts);
  const ports = new Set<number>();
  if (raw === undefined || raw === '') return ports;
  for (const part of raw.split(',')) {
    const text = part.trim();
    // Go's Atoi: an optional sign and decimal digits that fit in 64 bits.
    const fits =
      /^[+-]?\d+$/.test(text) && BigInt(text) >= -(2n ** 63n) && BigInt(text) < 2n ** 63n;
    if (!fits) {
      diagnostics.push(
        refusedByVendor(
          sourceOf(DIALECT, object, KEYS.sslPorts),
          raw,
          `comma-separated port numbers; ${quote(text)} is not a number and ${CCM} refuses the Service`,
        ),
      );
      return new Set();
    }
    ports.add(Number(text));
  }
  return ports;
}

/**
 * Reads how the layer-7 load balancer serves the Service's ports: the backend protocol, which
 * ports terminate TLS (ssl-ports and a tls-secret), and which speak TLS to the backends
 * (ssl-ports and a tls-backendset-secret).
 */
export function readListenerPlan(
  object: KubeObject,
  servicePorts: readonly number[],
  diagnostics: Diagnostic[],
): ListenerPlan {
  const protocol = readBackendProtocol(object, diagnostics);
  const sslPorts = readSslPorts(object, diagnostics);
  const secret = annotation(object, KEYS.tlsSecret);
  const hasSecret = secret !== undefined && !isBlank(secret);
  const sslSource = sourceOf(DIALECT, object, KEYS.sslPorts);
  const secretSource = sourceOf(DIALECT, object, KEYS.tlsSecret);
  const strangers = [...sslPorts].filter((p) => !servicePorts.includes(p));
  if (strangers.length > 0) {
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEYS.sslPorts}: ${strangers.join(', ')} ${strangers.length === 1 ? 'is not a port' : 'are not ports'} of this Service, so no listener terminates TLS there`,
        sslSource,
      ),
    );
  }
  if (sslPorts.size > 0 && !hasSecret) {
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEYS.sslPorts} lists ports but ${KEYS.tlsSecret} is not set, so ${CCM} leaves those listeners without TLS`,
        sslSource,
        secretSource,
      ),
    );
  }
  if (hasSecret && annotation(object, KEYS.sslPorts) === undefined) {
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEYS.tlsSecret} has no effect without ${KEYS.sslPorts}: no listener terminates TLS`,
        secretSource,
      ),
    );
  }
  // The backend sets of the ssl-ports speak TLS with the backendset secret, with or without a
  // listener secret (the controller's getSSLConfiguration checks the port and the name only).
  const backendSecret = annotation(object, KEYS.backendSetSecret);
  const backendTls = backendSecret !== undefined && !isBlank(backendSecret);
  if (backendTls && annotation(object, KEYS.sslPorts) === undefined)
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEYS.backendSetSecret} has no effect without ${KEYS.sslPorts}: no backend set speaks TLS`,
        sourceOf(DIALECT, object, KEYS.backendSetSecret),
      ),
    );
  const plan: ListenerPlan = {
    tlsPorts: hasSecret ? sslPorts : new Set(),
    backendTlsPorts: backendTls ? sslPorts : new Set(),
  };
  if (hasSecret) {
    const name = secret.trim();
    plan.tlsSecret = name.includes('/') ? name : `${namespaceOf(object)}/${name}`;
  }
  if (protocol) plan.protocol = protocol;
  return plan;
}

/** A key that only the network load balancer reads. */
export function warnNlbOnly(object: KubeObject, diagnostics: Diagnostic[]): void {
  if (annotation(object, KEYS.nlbPolicy) === undefined) return;
  diagnostics.push(
    warning(
      'IneffectiveSetting',
      `${KEYS.nlbPolicy} applies only to network load balancers (${KEYS.lbType}: nlb); ${CCM} ignores it on this load balancer`,
      sourceOf(DIALECT, object, KEYS.nlbPolicy),
    ),
  );
}

export function missingAppCookieName(object: KubeObject): Diagnostic {
  return error(
    'MissingValue',
    `${KEYS.appCookie}: cookieName is missing; OCI requires it for application-cookie persistence (use "*" to follow any cookie the backend sets)`,
    sourceOf(DIALECT, object, KEYS.appCookie),
  );
}
