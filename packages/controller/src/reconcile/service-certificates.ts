/**
 * The certificates of Services' own TLS listeners (OCI `ssl-ports` with `tls-secret`): the
 * Secret each HTTPS Service listener names, loaded as an Ingress's are, as a certificate for
 * that port. A listener whose Secret is missing or cannot be loaded is not opened, and the
 * Service is told why.
 */
import { sourceOf, type KubeObject } from '@tether/dialects';
import { warning, type Diagnostic, type EntryRef } from '@tether/model';
import type { TlsCertificate } from '@tether/dataplane';
import { objectVersion } from '../snapshot';
import type { ParseCache } from './parse-cache';
import type { ComponentResult } from './steps';
import { loadTlsSecret, secretIndex, type TlsCertificates } from './tls-certificates';

/** Whether a Service listener ends TLS with a Secret: an HTTPS one, or a TCP one (OCI). */
function endsTls(l: EntryRef['listeners'][number]): boolean {
  return (l.protocol === 'HTTPS' || l.protocol === 'TCP') && l.tlsSecret !== undefined;
}

/** Whether an entry point is a Service listener that terminates TLS with a Secret. */
export function hasServiceTls(entry: EntryRef): boolean {
  return entry.kind === 'Service' && entry.listeners.some(endsTls);
}

export function serviceCertificates(
  components: Iterable<ComponentResult>,
  objects: readonly KubeObject[],
  cache: ParseCache,
): TlsCertificates {
  const wanted = new Map<number, { secret: string; entry: EntryRef }>();
  for (const c of components)
    for (const candidate of c.placement.candidates) {
      if (!hasServiceTls(candidate.entry)) continue;
      for (const l of candidate.entry.listeners)
        if (endsTls(l) && l.port !== undefined && l.tlsSecret !== undefined)
          if (!wanted.has(l.port))
            wanted.set(l.port, { secret: l.tlsSecret, entry: candidate.entry });
    }
  const certificates: TlsCertificate[] = [];
  const diagnostics: Diagnostic[] = [];
  if (wanted.size === 0) return { certificates, diagnostics };
  const secrets = secretIndex(objects);
  for (const [port, { secret: key, entry }] of [...wanted].sort(([a], [b]) => a - b)) {
    const source = {
      dialect: 'kubernetes' as const,
      kind: 'Service',
      namespace: entry.namespace,
      name: entry.name,
      field: `spec.ports[port=${port}]`,
    };
    const secret = secrets.get(key);
    if (!secret) {
      diagnostics.push(
        warning(
          'TlsSecretNotFound',
          `Service ${entry.namespace}/${entry.name} port ${port} terminates TLS with Secret ${key}, which does not exist; the port is not opened`,
          source,
        ),
      );
      continue;
    }
    const loaded = cache.memo('tlsSecret', key, [objectVersion(secret)], () =>
      loadTlsSecret(secret),
    );
    if ('problem' in loaded) {
      diagnostics.push(
        warning(
          'InvalidTlsSecret',
          `Secret ${key} of Service ${entry.namespace}/${entry.name} port ${port} ${loaded.problem}; the port is not opened`,
          source,
          sourceOf('kubernetes', secret, loaded.field),
        ),
      );
      continue;
    }
    // The same object while the Secret and the port stay: the proxy loads it once.
    certificates.push(
      cache.memo('serviceCertificate', String(port), [loaded], () => ({
        hosts: [],
        port,
        cert: loaded.cert,
        key: loaded.key,
      })),
    );
  }
  return { certificates, diagnostics };
}

interface GatewayWanted {
  secret: string;
  /** Undefined for 443, which the proxy's own HTTPS listener serves. */
  port: number | undefined;
  hosts: Set<string>;
  listener: string;
}

/**
 * The certificates of Gateway HTTPS listeners: each listener's Secret, for the names the routes
 * attached there are served under (every name, on a port of its own, for a listener without
 * hostname whose routes have none). The Secret's existence and ReferenceGrant were checked when
 * the routes attached; a Secret that cannot be loaded is reported here and serves nothing.
 */
export function gatewayCertificates(
  components: Iterable<ComponentResult>,
  objects: readonly KubeObject[],
  cache: ParseCache,
): TlsCertificates {
  const wanted = new Map<string, GatewayWanted>();
  for (const c of components)
    for (const candidate of c.placement.candidates)
      for (const l of candidate.entry.listeners) {
        if (l.gateway === undefined || l.protocol !== 'HTTPS' || l.tlsSecret === undefined)
          continue;
        const port = l.port === 443 ? undefined : l.port;
        const key = `${l.gateway}|${l.tlsSecret}`;
        const w = wanted.get(key) ?? {
          secret: l.tlsSecret,
          port,
          hosts: new Set(),
          listener: l.gateway,
        };
        for (const h of l.hosts ?? []) if (h !== '*') w.hosts.add(h);
        wanted.set(key, w);
      }
  const certificates: TlsCertificate[] = [];
  const diagnostics: Diagnostic[] = [];
  if (wanted.size === 0) return { certificates, diagnostics };
  const secrets = secretIndex(objects);
  for (const [key, w] of [...wanted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const secret = secrets.get(w.secret);
    if (!secret) continue;
    const loaded = cache.memo('tlsSecret', w.secret, [objectVersion(secret)], () =>
      loadTlsSecret(secret),
    );
    const [namespace, name, listener] = w.listener.split('/') as [string, string, string];
    if ('problem' in loaded) {
      diagnostics.push(
        warning(
          'InvalidTlsSecret',
          `Secret ${w.secret} of Gateway ${namespace}/${name} listener ${listener} ${loaded.problem}; the listener serves no route`,
          {
            dialect: 'gateway-api',
            kind: 'Gateway',
            namespace,
            name,
            field: `spec.listeners[name=${listener}].tls.certificateRefs`,
          },
          sourceOf('kubernetes', secret, loaded.field),
        ),
      );
      continue;
    }
    const hosts = [...w.hosts].sort();
    // On the proxy's own listener a certificate for no name would never be chosen.
    if (w.port === undefined && hosts.length === 0) continue;
    certificates.push(
      cache.memo('gatewayCertificate', key, [loaded, hosts.join(',')], () =>
        w.port === undefined
          ? { hosts, cert: loaded.cert, key: loaded.key }
          : { hosts, port: w.port, cert: loaded.cert, key: loaded.key },
      ),
    );
  }
  return { certificates, diagnostics };
}
