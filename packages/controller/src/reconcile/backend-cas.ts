/**
 * The CA certificates that backend sets verify their endpoints against when a Secret holds
 * them (ingress-nginx `proxy-ssl-secret`: its `ca.crt`). The table carries each one once, by
 * `namespace/name`; a Secret that is missing or holds no usable `ca.crt` is a warning on the
 * object that names it, and its sets answer 502 rather than trust an unchecked certificate.
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

function loadCa(secret: KubeObject): LoadedCa {
  const pem = secretValue(secret, 'ca.crt');
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
      const secret = candidate.set.route.backendTls?.caSecret;
      if (secret !== undefined && !wanted.has(secret)) wanted.set(secret, candidate);
    }
  const out: BackendCas = { cas: [], diagnostics: [] };
  if (wanted.size === 0) return out;
  const secrets = secretIndex(objects);
  for (const [key, candidate] of [...wanted].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const e = candidate.entry;
    const source = {
      dialect: 'ingress-nginx' as const,
      kind: e.kind,
      namespace: e.namespace,
      name: e.name,
      field: 'nginx.ingress.kubernetes.io/proxy-ssl-secret',
    };
    const secret = secrets.get(key);
    if (!secret) {
      out.diagnostics.push(
        warning(
          'TlsSecretNotFound',
          `${e.kind} ${e.namespace}/${e.name} verifies its endpoints against Secret ${key}, which does not exist; its requests get 502`,
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
          `Secret ${key}, which ${e.kind} ${e.namespace}/${e.name} verifies its endpoints against, ${loaded.problem}; its requests get 502`,
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
