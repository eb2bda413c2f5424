import { createSecureContext } from 'node:tls';
import { namespaceOf, sourceOf, type KubeObject } from '@tether/dialects';
import { quote, warning, type Diagnostic } from '@tether/model';
import type { TlsCertificate } from '@tether/dataplane';
import { codeUnitOrder, pathKey } from './kept';
import type { ParseCache } from './parse-cache';
import { objectKey, objectVersion } from '../snapshot';

/**
 * The certificates the HTTPS listener serves by SNI, from the `spec.tls` of the served
 * Ingresses and the TLS Secrets they name (in the Ingress's own namespace, data `tls.crt`
 * and `tls.key`). A host claimed by two Ingresses with different Secrets goes to the older
 * Ingress (creation time, then namespace/name), as ingress-nginx does; a Secret that is
 * missing or cannot be loaded claims nothing, and its hosts get the default certificate.
 *
 * Certificates are memoised in the cache by Secret version and hosts: a rebuild with the
 * same Secrets and hosts hands the proxy the same objects (and the same list), so it loads
 * no certificate again.
 */
export interface TlsCertificates {
  /** Empty when no Ingress names a loadable Secret. */
  certificates: TlsCertificate[];
  diagnostics: Diagnostic[];
}

/** A Secret's certificate and key, decoded and found loadable; or why not. */
export type Loaded = { cert: string; key: string } | { problem: string; field: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The Secrets of a snapshot by `namespace/name`, as Ingresses and Services name them. */
export function secretIndex(objects: readonly KubeObject[]): Map<string, KubeObject> {
  const secrets = new Map<string, KubeObject>();
  for (const o of objects)
    if (o.kind === 'Secret') secrets.set(pathKey(namespaceOf(o), o.metadata.name), o);
  return secrets;
}

/** A value of the Secret: `stringData` as written in a manifest, else `data` decoded. */
export function secretValue(secret: KubeObject, name: string): string | undefined {
  const plain = secret.stringData;
  if (typeof plain === 'object' && plain !== null) {
    const v = (plain as Record<string, unknown>)[name];
    if (typeof v === 'string') return v;
  }
  const data = secret.data;
  if (typeof data !== 'object' || data === null) return undefined;
  const v = (data as Record<string, unknown>)[name];
  if (typeof v !== 'string') return undefined;
  const compact = v.replace(/\s+/g, '');
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) return '';
  return Buffer.from(compact, 'base64').toString('utf8');
}

export function loadTlsSecret(secret: KubeObject): Loaded {
  const cert = secretValue(secret, 'tls.crt');
  const key = secretValue(secret, 'tls.key');
  for (const [name, value] of [
    ['tls.crt', cert],
    ['tls.key', key],
  ] as const) {
    if (value === undefined) return { problem: `has no ${name}`, field: `data["${name}"]` };
    if (value.trim() === '')
      return { problem: `has an empty or non-base64 ${name}`, field: `data["${name}"]` };
  }
  try {
    createSecureContext({ cert, key });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return { problem: `cannot be loaded: ${quote(why, 120)}`, field: 'data' };
  }
  return { cert: cert as string, key: key as string };
}

/** A host of `spec.tls[].hosts`, lower case; undefined when it is not a DNS name or `*.name`. */
function tlsHost(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const host = value.toLowerCase();
  const name = host.startsWith('*.') ? host.slice(2) : host;
  if (name.length === 0 || name.length > 253) return undefined;
  return name.split('.').every((label) => DNS_LABEL.test(label)) ? host : undefined;
}

interface Claim {
  secret: string;
  ingress: KubeObject;
  field: string;
}

/** Hosts for a message: the first few (an Event's note is short). */
function listed(hosts: readonly string[]): string {
  const shown = hosts.slice(0, 5).join(', ');
  return hosts.length > 5 ? `${shown} (+${hosts.length - 5} more)` : shown;
}

function describe(o: KubeObject): string {
  return `${o.kind} ${namespaceOf(o)}/${o.metadata.name}`;
}

export function tlsCertificates(
  objects: readonly KubeObject[],
  cache: ParseCache,
): TlsCertificates {
  const diagnostics: Diagnostic[] = [];
  const ingresses: KubeObject[] = [];
  const secrets = new Map<string, KubeObject>();
  for (const o of objects) {
    if (o.kind === 'Ingress' && Array.isArray((o.spec as { tls?: unknown } | undefined)?.tls))
      ingresses.push(o);
    else if (o.kind === 'Secret') secrets.set(pathKey(namespaceOf(o), o.metadata.name), o);
  }
  if (ingresses.length === 0) return { certificates: [], diagnostics };
  ingresses.sort(
    (a, b) =>
      codeUnitOrder(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
      codeUnitOrder(namespaceOf(a), namespaceOf(b)) ||
      codeUnitOrder(a.metadata.name, b.metadata.name),
  );
  const claims = new Map<string, Claim>();
  /** Hosts per Secret, in the order they were claimed. */
  const hostsOf = new Map<string, string[]>();
  const loadedOf = new Map<string, { cert: string; key: string }>();
  /** Conflicts by pair of entries: the hosts they contest. */
  const conflicts = new Map<string, { winner: Claim; loser: Claim; hosts: string[] }>();
  for (const ingress of ingresses) {
    const namespace = namespaceOf(ingress);
    const tls = (ingress.spec as { tls: unknown[] }).tls;
    for (let i = 0; i < tls.length; i++) {
      const entry = tls[i];
      if (typeof entry !== 'object' || entry === null) continue;
      const { hosts: rawHosts, secretName } = entry as { hosts?: unknown; secretName?: unknown };
      const field = `spec.tls[${i}].secretName`;
      const hosts: string[] = [];
      if (Array.isArray(rawHosts))
        rawHosts.forEach((raw, j) => {
          const host = tlsHost(raw);
          if (host !== undefined) hosts.push(host);
          else
            diagnostics.push(
              warning(
                'InvalidAnnotation',
                `${describe(ingress)}: spec.tls[${i}].hosts[${j}] ${quote(raw)} is not a DNS name or *.name; it is ignored`,
                sourceOf('kubernetes', ingress, `spec.tls[${i}].hosts[${j}]`),
              ),
            );
        });
      // An entry without hosts names no SNI name: ingress-nginx uses its Secret only as the
      // certificate of its catch-all server, which here is the listener's own certificate.
      if (hosts.length === 0 || typeof secretName !== 'string' || secretName === '') continue;
      const secretKey = pathKey(namespace, secretName);
      const secret = secrets.get(secretKey);
      if (!secret) {
        diagnostics.push(
          warning(
            'TlsSecretNotFound',
            `${describe(ingress)} ${field} names Secret ${quote(secretName, 253)} of namespace ${namespace}, which does not exist (or is not a kubernetes.io/tls Secret); ${listed(hosts)} get the default certificate`,
            sourceOf('kubernetes', ingress, field),
          ),
        );
        continue;
      }
      const loaded = cache.memo('tlsSecret', secretKey, [objectVersion(secret)], () =>
        loadTlsSecret(secret),
      );
      if ('problem' in loaded) {
        diagnostics.push(
          warning(
            'InvalidTlsSecret',
            `Secret ${secretKey} named by ${describe(ingress)} ${field} ${loaded.problem}; ${listed(hosts)} get the default certificate`,
            sourceOf('kubernetes', ingress, field),
            sourceOf('kubernetes', secret, loaded.field),
          ),
        );
        continue;
      }
      loadedOf.set(secretKey, loaded);
      const claim: Claim = { secret: secretKey, ingress, field };
      for (const host of hosts) {
        const held = claims.get(host);
        if (!held) {
          claims.set(host, claim);
          const list = hostsOf.get(secretKey);
          if (list) list.push(host);
          else hostsOf.set(secretKey, [host]);
          continue;
        }
        if (held.secret === secretKey) continue;
        const pair = JSON.stringify([
          held.secret,
          objectKey(held.ingress),
          held.field,
          objectKey(claim.ingress),
          field,
        ]);
        const known = conflicts.get(pair);
        if (known) known.hosts.push(host);
        else conflicts.set(pair, { winner: held, loser: claim, hosts: [host] });
      }
    }
  }
  for (const { winner, loser, hosts } of conflicts.values())
    diagnostics.push(
      warning(
        'ConflictingTlsSecret',
        `${describe(loser.ingress)} ${loser.field} (Secret ${loser.secret}) and ${describe(winner.ingress)} ${winner.field} (Secret ${winner.secret}) both name a certificate for ${listed(hosts)}; ${describe(winner.ingress)} is older and its Secret is served`,
        sourceOf('kubernetes', loser.ingress, loser.field),
        sourceOf('kubernetes', winner.ingress, winner.field),
      ),
    );
  const certificates: TlsCertificate[] = [];
  for (const [secretKey, hosts] of hostsOf) {
    const loaded = loadedOf.get(secretKey);
    if (!loaded) continue;
    // The same object while the Secret and its hosts stay: the proxy keeps its context.
    const made = cache.memo('tlsCertificate', secretKey, [loaded, hosts.join(' ')], () => ({
      hosts,
      cert: loaded.cert,
      key: loaded.key,
    }));
    certificates.push(made);
  }
  // The same list while every certificate is the same: the proxy then rebuilds no lookup.
  return {
    certificates: cache.memo('tlsCertificates', '', [certificates], () => certificates),
    diagnostics,
  };
}
