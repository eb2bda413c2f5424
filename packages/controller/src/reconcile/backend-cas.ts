/**
 * The CA certificates that backend sets verify their endpoints against when a Secret holds
 * them (ingress-nginx `proxy-ssl-secret`: its `ca.crt`) or a ConfigMap does (Gateway API
 * BackendTLSPolicy `caCertificateRefs`: its `ca.crt`, plain text). The table carries each one
 * once, by `namespace/name` for a Secret and `ConfigMap:namespace/name` for a ConfigMap; one
 * that is missing or holds no usable `ca.crt` is a warning on the object that names it, and
 * its sets answer 502 rather than trust an unchecked certificate.
 */
import type { KubeObject } from '@tether/dialects';
import { quote, warning, type Diagnostic } from '@tether/model';
import { X509Certificate } from 'node:crypto';
import { objectVersion } from '../snapshot';
import type { ParseCache } from './parse-cache';
import type { ComponentResult } from './steps';
import { secretIndex, secretValue } from './tls-certificates';

export interface BackendCas {
  cas: { secret: string; pem: string }[];
  diagnostics: Diagnostic[];
}

type LoadedCa = { pem: string } | { problem: string };

/** The prefix of a ConfigMap's key among the table's CAs. */
export const CONFIG_MAP_CA = 'ConfigMap:';

function configMapValue(object: KubeObject, key: string): string | undefined {
  const data = (object as { data?: unknown }).data;
  if (typeof data !== 'object' || data === null) return undefined;
  const value = (data as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}

function loadCa(holder: KubeObject): LoadedCa {
  const pem =
    holder.kind === 'ConfigMap' ? configMapValue(holder, 'ca.crt') : secretValue(holder, 'ca.crt');
  if (pem === undefined) return { problem: 'has no ca.crt' };
  if (pem.trim() === '') return { problem: 'has an empty or non-base64 ca.crt' };
  try {
    new X509Certificate(pem);
  } catch (e) {
    return {
      problem: `has a ca.crt that is not a PEM certificate: ${quote(e instanceof Error ? e.message : String(e), 120)}`,
    };
  }
  return { pem };
}

export function backendCas(
  components: Iterable<ComponentResult>,
  objects: readonly KubeObject[],
  cache: ParseCache,
): BackendCas {
  /** Each Secret, with the first entry point that names it (for the warning). */
  const wanted = new Map<string, ComponentResult['placement']['candidates'][number]>();
  for (const c of components)
    for (const candidate of c.placement.candidates) {
      const tls = candidate.set.route.backendTls;
      const secret = tls?.caSecret;
      if (secret !== undefined && !wanted.has(secret)) wanted.set(secret, candidate);
      const map = tls?.caConfigMap;
      if (map !== undefined && !wanted.has(`${CONFIG_MAP_CA}${map}`))
        wanted.set(`${CONFIG_MAP_CA}${map}`, candidate);
    }
  const out: BackendCas = { cas: [], diagnostics: [] };
  if (wanted.size === 0) return out;
  const secrets = secretIndex(objects);
  const configMaps = new Map<string, KubeObject>();
  for (const o of objects)
    if (o.kind === 'ConfigMap')
      configMaps.set(`${CONFIG_MAP_CA}${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o);
  for (const [key, candidate] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const e = candidate.entry;
    const inConfigMap = key.startsWith(CONFIG_MAP_CA);
    const source = {
      dialect: inConfigMap ? ('gateway-api' as const) : ('ingress-nginx' as const),
      kind: e.kind,
      namespace: e.namespace,
      name: e.name,
      field: inConfigMap
        ? 'BackendTLSPolicy spec.validation.caCertificateRefs'
        : 'nginx.ingress.kubernetes.io/proxy-ssl-secret',
    };
    const holder = inConfigMap ? `ConfigMap ${key.slice(CONFIG_MAP_CA.length)}` : `Secret ${key}`;
    const secret = inConfigMap ? configMaps.get(key) : secrets.get(key);
    if (!secret) {
      out.diagnostics.push(
        warning(
          'TlsSecretNotFound',
          `${e.kind} ${e.namespace}/${e.name} verifies its endpoints against ${holder}, which does not exist; its requests get 502`,
          source,
        ),
      );
      continue;
    }
    const loaded = cache.memo('backendCa', key, [objectVersion(secret)], () => loadCa(secret));
    if ('problem' in loaded) {
      out.diagnostics.push(
        warning(
          'InvalidTlsSecret',
          `${holder}, which ${e.kind} ${e.namespace}/${e.name} verifies its endpoints against, ${loaded.problem}; its requests get 502`,
          source,
        ),
      );
      continue;
    }
    out.cas.push(
      cache.memo('backendCaEntry', key, [loaded], () => ({ secret: key, pem: loaded.pem })),
    );
  }
  return out;
}
