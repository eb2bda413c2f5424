import { z } from 'zod';
import { parseAdoptionSources } from './adoption';
import { Diagnostic, error } from './diagnostics';
import { FieldSetting } from './fragment';
import { FieldValue, PolicyField } from './fields';
import {
  backendSpeaksTls,
  LoadBalancing,
  PersistencePolicy,
  PersistenceMode,
  RouteSettings,
} from './policy';
import { SourceRef } from './refs';

export type MergedValues = Partial<Record<PolicyField, FieldSetting>>;

const Assembled = z.object({
  policy: PersistencePolicy,
  loadBalancing: LoadBalancing,
  route: RouteSettings,
});
export type Assembled = z.infer<typeof Assembled>;

/** The fields that mean something only in some persistence modes. */
const MODE_FIELDS: Record<string, readonly PersistenceMode[]> = {
  cookie: ['cookie', 'appCookie'],
  appCookie: ['appCookie'],
  header: ['header'],
  sourceIp: ['sourceIp'],
  adoptCookies: ['cookie'],
};

export function fieldAppliesToMode(field: PolicyField, mode: PersistenceMode): boolean {
  const group = field.split('.')[0] ?? field;
  const modes = MODE_FIELDS[group];
  return modes === undefined || modes.includes(mode);
}

function get<F extends PolicyField>(values: MergedValues, field: F): FieldValue<F> | undefined {
  return values[field]?.value as FieldValue<F> | undefined;
}

/** Drops keys whose value is undefined, so optional fields are absent rather than undefined. */
function definedOnly<T extends object>(o: T): T {
  const record = o as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (record[key] === undefined) Reflect.deleteProperty(record, key);
  return o;
}

/**
 * Builds the policy, balancing and route settings from merged field values, applying the
 * model's own defaults where no dialect said anything. Fields that do not apply to the
 * chosen mode are left out. Returns diagnostics for values a mode requires but lacks.
 */
export function assemble(values: MergedValues): { result?: Assembled; diagnostics: Diagnostic[] } {
  const mode = get(values, 'mode') ?? 'none';
  const modeSource: SourceRef[] = values.mode ? [values.mode.source] : [];
  const diagnostics: Diagnostic[] = [];
  const policy: PersistencePolicy = {
    mode,
    rebalance: get(values, 'rebalance') ?? 'persistent',
    onFailure: get(values, 'onFailure') ?? 'rebalance',
    absoluteTimeoutSeconds: get(values, 'absoluteTimeoutSeconds'),
    idleTimeoutSeconds: get(values, 'idleTimeoutSeconds'),
    canaryBehavior: get(values, 'canaryBehavior'),
  };
  if (mode === 'cookie' || mode === 'appCookie') {
    const name = get(values, 'cookie.name');
    if (name === undefined) {
      diagnostics.push(
        error('MissingValue', `${mode} persistence needs a cookie name`, ...modeSource),
      );
    } else {
      const maxAgeSeconds = get(values, 'cookie.maxAgeSeconds');
      const expiresSeconds = get(values, 'cookie.expiresSeconds');
      policy.cookie = definedOnly({
        name,
        path: get(values, 'cookie.path'),
        domain: get(values, 'cookie.domain'),
        maxAgeSeconds,
        expiresSeconds,
        httpOnly: get(values, 'cookie.httpOnly') ?? false,
        secure: get(values, 'cookie.secure') ?? 'never',
        sameSite: get(values, 'cookie.sameSite'),
        omitSameSiteNoneForOldClients: get(values, 'cookie.omitSameSiteNoneForOldClients') ?? false,
        lifetime:
          get(values, 'cookie.lifetime') ??
          (maxAgeSeconds !== undefined || expiresSeconds !== undefined ? 'permanent' : 'session'),
        nocache: get(values, 'cookie.nocache') ?? false,
      });
    }
  }
  if (mode === 'appCookie') {
    const name = get(values, 'appCookie.name');
    if (name === undefined) {
      diagnostics.push(
        error(
          'MissingValue',
          'application-cookie persistence needs the name of the backend cookie',
          ...modeSource,
        ),
      );
    } else policy.appCookie = { name };
  }
  if (mode === 'header') {
    const name = get(values, 'header.name');
    if (name === undefined) {
      diagnostics.push(
        error('MissingValue', 'header persistence needs a header name', ...modeSource),
      );
    } else policy.header = { name };
  }
  const adopted = get(values, 'adoptCookies.sources');
  if (adopted !== undefined && mode === 'cookie') {
    // The reader reported what it could not read; what is left is what applies.
    const { sources } = parseAdoptionSources(adopted);
    if (sources.length > 0)
      policy.adoptCookies = definedOnly({ sources, until: get(values, 'adoptCookies.until') });
  }
  if (mode === 'sourceIp') {
    policy.sourceIp = definedOnly({ timeoutSeconds: get(values, 'sourceIp.timeoutSeconds') });
  }
  const loadBalancing: LoadBalancing = definedOnly({
    algorithm: get(values, 'loadBalancing.algorithm') ?? 'roundRobin',
    hashKey: get(values, 'loadBalancing.hashKey'),
  });
  const canary = definedOnly({
    weight: get(values, 'route.canary.weight'),
    weightTotal: get(values, 'route.canary.weightTotal'),
    header: get(values, 'route.canary.header'),
    headerValue: get(values, 'route.canary.headerValue'),
    cookie: get(values, 'route.canary.cookie'),
  });
  const backendTls = definedOnly({
    verify: get(values, 'route.backendTls.verify'),
    serverName: get(values, 'route.backendTls.serverName'),
    sni: get(values, 'route.backendTls.sni'),
    caSecret: get(values, 'route.backendTls.caSecret'),
    caConfigMap: get(values, 'route.backendTls.caConfigMap'),
    caCertificate: get(values, 'route.backendTls.caCertificate'),
    serviceCa: get(values, 'route.backendTls.serviceCa'),
  });
  const backendProtocol = get(values, 'route.backendProtocol');
  const route: RouteSettings = definedOnly({
    pathRegex: get(values, 'route.pathRegex'),
    sslRedirect: get(values, 'route.sslRedirect'),
    serverAlias: get(values, 'route.serverAlias'),
    backendProtocol,
    backendRefused: get(values, 'route.backendRefused'),
    // TLS settings mean something only when the proxy speaks TLS to the endpoints.
    backendTls:
      backendSpeaksTls(backendProtocol) && Object.keys(backendTls).length > 0
        ? backendTls
        : undefined,
    canary: Object.keys(canary).length > 0 ? canary : undefined,
  });
  if (diagnostics.length > 0) return { diagnostics };
  const checked = Assembled.safeParse({ policy: definedOnly(policy), loadBalancing, route });
  if (!checked.success) {
    const sources = Object.values(values).map((v) => v.source);
    return {
      diagnostics: [
        error(
          'InvalidAnnotation',
          `the settings do not form a valid policy: ${z.prettifyError(checked.error)}`,
          ...sources,
        ),
      ],
    };
  }
  return { result: checked.data, diagnostics };
}
