import { Diagnostic, EntryFragment, PRECEDENCE, error, info, quote, warning } from '@tether/model';
import { FieldCollector, isPlainObject } from '../helpers';
import { readService, serviceEntries, sourceOf, type ServiceSpec } from '../kube';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import {
  AFFINITY,
  AFFINITY_VALUES,
  CLIENT_IP,
  CONFIG,
  DEFAULT_TIMEOUT_SECONDS,
  INT32_MAX,
  MAX_TIMEOUT_SECONDS,
  TIMEOUT,
} from './annotations';

const DIALECT = 'kube-service';

/** A timeout the user wrote, or the API server's default when they wrote none. */
interface Timeout {
  seconds: number;
  isDefault: boolean;
}

const isAbsent = (value: unknown): boolean => value === undefined || value === null;

/** Fields below `path` that the API server does not know; it drops them (names are case-sensitive). */
function unknownFields(
  object: KubeObject,
  path: string,
  value: Record<string, unknown>,
  known: string,
  diagnostics: Diagnostic[],
): void {
  for (const key of Object.keys(value)) {
    if (key === known) continue;
    diagnostics.push(
      warning(
        'UnknownField',
        `${path}.${key} is not a Service field (expected ${known}; field names are case-sensitive); the API server drops it`,
        sourceOf(DIALECT, object, `${path}.${key}`),
      ),
    );
  }
}

/** An object-valued field, or undefined when absent; anything else is an error. */
function objectAt(
  object: KubeObject,
  path: string,
  value: unknown,
  diagnostics: Diagnostic[],
): Record<string, unknown> | 'invalid' | undefined {
  if (isAbsent(value)) return undefined;
  if (isPlainObject(value)) return value;
  diagnostics.push(
    error(
      'InvalidAnnotation',
      `${path}: ${quote(value)} is not valid (expected an object); the API server refuses the Service`,
      sourceOf(DIALECT, object, path),
    ),
  );
  return 'invalid';
}

/** The ClientIP timeout as the API server would store it, or undefined when it would refuse it. */
function readTimeout(
  object: KubeObject,
  spec: ServiceSpec,
  diagnostics: Diagnostic[],
): Timeout | undefined {
  const fallback: Timeout = { seconds: DEFAULT_TIMEOUT_SECONDS, isDefault: true };
  const config = objectAt(object, CONFIG, spec.sessionAffinityConfig, diagnostics);
  if (config === 'invalid') return undefined;
  if (config === undefined) return fallback;
  unknownFields(object, CONFIG, config, 'clientIP', diagnostics);
  const clientIP = objectAt(object, CLIENT_IP, config.clientIP, diagnostics);
  if (clientIP === 'invalid') return undefined;
  if (clientIP === undefined) return fallback;
  unknownFields(object, CLIENT_IP, clientIP, 'timeoutSeconds', diagnostics);
  const raw = clientIP.timeoutSeconds;
  if (isAbsent(raw)) return fallback;
  const source = sourceOf(DIALECT, object, TIMEOUT);
  if (
    typeof raw !== 'number' ||
    !Number.isInteger(raw) ||
    raw > INT32_MAX ||
    raw < -INT32_MAX - 1
  ) {
    diagnostics.push(
      error(
        'InvalidAnnotation',
        `${TIMEOUT}: ${typeof raw === 'string' ? `the string ${quote(raw)}` : quote(raw)} is not valid (expected a whole number of seconds that fits in an int32, without quotes); the API server refuses the Service`,
        source,
      ),
    );
    return undefined;
  }
  if (raw <= 0 || raw > MAX_TIMEOUT_SECONDS) {
    diagnostics.push(
      error(
        'InvalidAnnotation',
        `${TIMEOUT}: ${raw} is out of range (expected more than 0 and at most ${MAX_TIMEOUT_SECONDS} seconds); the API server refuses the Service`,
        source,
      ),
    );
    return undefined;
  }
  return { seconds: raw, isDefault: false };
}

/**
 * The affinity the API server would store: 'none', a ClientIP timeout, or undefined when it
 * would refuse the Service (then nothing of it is applied).
 */
function readAffinity(
  object: KubeObject,
  spec: ServiceSpec,
  diagnostics: Diagnostic[],
): 'none' | Timeout | undefined {
  const affinity = spec.sessionAffinity;
  // The API server defaults an empty or missing value to None.
  if (affinity === undefined || affinity === '' || affinity === 'None') {
    if (isAbsent(spec.sessionAffinityConfig)) return 'none';
    diagnostics.push(
      error(
        'IncompatibleSettings',
        `${CONFIG} must not be set while ${AFFINITY} is None; the API server refuses the Service`,
        sourceOf(DIALECT, object, CONFIG),
        sourceOf(DIALECT, object, AFFINITY),
      ),
    );
    return undefined;
  }
  if (affinity !== 'ClientIP') {
    diagnostics.push(
      error(
        'InvalidAnnotation',
        `${AFFINITY}: ${quote(affinity)} is not supported (expected ${AFFINITY_VALUES.join(' or ')}, case-sensitive); the API server refuses the Service`,
        sourceOf(DIALECT, object, AFFINITY),
      ),
    );
    return undefined;
  }
  return readTimeout(object, spec, diagnostics);
}

/**
 * `spec.sessionAffinity: ClientIP` pins a client address to one endpoint on every port of the
 * Service's own load-balancer listener. kube-proxy re-stamps the address on each new connection,
 * so the window restarts with every connection: the timeout is an idle timeout, and we set it as
 * both `sourceIp.timeoutSeconds` and `idleTimeoutSeconds`.
 */
export function parse(object: KubeObject, _context?: ParseContext): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const fragments: EntryFragment[] = [];
  if (object.kind !== 'Service') return { fragments, diagnostics };
  // A spec that does not have a Service's shape is reported by the structure reader.
  const { spec } = readService(object);
  if (!spec) return { fragments, diagnostics };
  const timeout = readAffinity(object, spec, diagnostics);
  if (timeout === undefined || timeout === 'none') return { fragments, diagnostics };
  const entries = serviceEntries(object, spec);
  if (entries.length === 0) {
    diagnostics.push(
      info(
        'IneffectiveSetting',
        `${AFFINITY}: ClientIP is applied by kube-proxy to traffic for the cluster IP; Tether serves a Service of type ${quote(spec.type ?? 'ClusterIP')} only through the routes in front of it, which reach the endpoints directly, so it pins nothing here`,
        sourceOf(DIALECT, object, AFFINITY),
      ),
    );
    return { fragments, diagnostics };
  }
  const fields = new FieldCollector(DIALECT, object, diagnostics);
  fields.set('mode', 'sourceIp', AFFINITY);
  if (timeout.isDefault) {
    fields.setDefault('sourceIp.timeoutSeconds', timeout.seconds, TIMEOUT);
    fields.setDefault('idleTimeoutSeconds', timeout.seconds, TIMEOUT);
  } else {
    fields.set('sourceIp.timeoutSeconds', timeout.seconds, TIMEOUT);
    fields.set('idleTimeoutSeconds', timeout.seconds, TIMEOUT);
  }
  for (const { entry, backend } of entries) {
    fragments.push({
      type: 'entry',
      dialect: DIALECT,
      entry,
      backend,
      precedence: PRECEDENCE.entry,
      values: { ...fields.values },
    });
  }
  return { fragments, diagnostics };
}

/** Whether the Service says anything about session affinity. */
export function appliesTo(object: KubeObject): boolean {
  if (object.kind !== 'Service' || !isPlainObject(object.spec)) return false;
  return !isAbsent(object.spec.sessionAffinity) || !isAbsent(object.spec.sessionAffinityConfig);
}
