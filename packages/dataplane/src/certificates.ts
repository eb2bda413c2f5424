/**
 * Certificates served by SNI on the HTTPS listener: the table's certificates by host name,
 * with the listener's own certificate as the default for every other name and for clients
 * that send no name.
 *
 * A SecureContext (parsing the PEM chain and key, which costs milliseconds per certificate)
 * is made once per certificate object and kept while a table holds that object: tables
 * built from unchanged Secrets hand the same objects over, so a swap makes contexts only
 * for certificates that are new.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import type { TlsCertificate } from './table/types';

/** Why a certificate of a table was left out (it is then served by no name). */
export interface SkippedCertificate {
  index: number;
  reason: string;
}

/** A SecureContext per certificate object; null when it could not be made. */
const contexts = new WeakMap<object, SecureContext | null>();

function contextOf(cert: TlsCertificate): SecureContext | string {
  const known = contexts.get(cert);
  if (known !== undefined) return known ?? 'the certificate or key cannot be loaded';
  let context: SecureContext | null = null;
  if (typeof cert.cert === 'string' && typeof cert.key === 'string') {
    try {
      context = createSecureContext({ cert: cert.cert, key: cert.key });
    } catch {
      context = null;
    }
  }
  contexts.set(cert, context);
  return context ?? 'the certificate or key cannot be loaded';
}

/** A name as a client may send it: lower case, without a final dot. */
function normalise(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

export class CertificateStore {
  /** The certificate list the lookups were built from (tables share it while it is unchanged). */
  #source: unknown = undefined;
  #exact = new Map<string, SecureContext>();
  /** `*.example.com` by `example.com`: covers exactly one more label. */
  #wildcard = new Map<string, SecureContext>();

  /** How many names are served by their own certificate. */
  get names(): number {
    return this.#exact.size + this.#wildcard.size;
  }

  /**
   * Takes a table's certificates: those of `port`, or of no port when it is undefined. The
   * same list as before (by identity) changes nothing.
   * Entries that are not well formed or cannot be loaded are skipped and returned; the first
   * certificate listed for a name wins. Never throws.
   */
  update(list: unknown, port?: number): SkippedCertificate[] | undefined {
    if (list === this.#source) return undefined;
    this.#source = list;
    const exact = new Map<string, SecureContext>();
    const wildcard = new Map<string, SecureContext>();
    const skipped: SkippedCertificate[] = [];
    const entries: unknown[] = Array.isArray(list) ? list : [];
    for (let index = 0; index < entries.length; index++) {
      const cert = entries[index];
      if (
        typeof cert !== 'object' ||
        cert === null ||
        !Array.isArray((cert as TlsCertificate).hosts)
      ) {
        skipped.push({ index, reason: 'not an object with a list of hosts' });
        continue;
      }
      // The proxy's own listener takes the certificates of no port; a port of its own, its own.
      if ((cert as TlsCertificate).port !== port) continue;
      const context = contextOf(cert as TlsCertificate);
      if (typeof context === 'string') {
        skipped.push({ index, reason: context });
        continue;
      }
      for (const host of (cert as TlsCertificate).hosts) {
        if (typeof host !== 'string' || host.length === 0) continue;
        const name = normalise(host);
        if (name.startsWith('*.')) {
          const parent = name.slice(2);
          if (parent.length > 0 && !wildcard.has(parent)) wildcard.set(parent, context);
        } else if (!name.includes('*') && !exact.has(name)) exact.set(name, context);
      }
    }
    this.#exact = exact;
    this.#wildcard = wildcard;
    return skipped;
  }

  /**
   * The context for a name a client asked for: its own certificate, else that of a wildcard
   * one label above it; undefined → the listener's default certificate.
   */
  select(servername: string): SecureContext | undefined {
    if (this.#exact.size === 0 && this.#wildcard.size === 0) return undefined;
    const name = normalise(servername);
    const own = this.#exact.get(name);
    if (own) return own;
    const dot = name.indexOf('.');
    return dot > 0 ? this.#wildcard.get(name.slice(dot + 1)) : undefined;
  }
}
