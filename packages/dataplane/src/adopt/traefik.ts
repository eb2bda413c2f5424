/**
 * Traefik's sticky cookie (`sticky.cookie` of a service). From traefik/traefik
 * `pkg/server/service/loadbalancer/sticky.go`: a server's handler is named by its URL
 * (`http://address:port`, IPv6 in brackets; `https://` for TLS backends); the cookie carries
 * the first 16 hex digits of SHA-256 of that name (`sha256Hash`), and Traefik still accepts
 * the forms of earlier releases (`AddHandler`, `compatibilityStickyMap`): the URL itself, its
 * FNV-1 64-bit hash in hex (`fnvHash`), and that hash hashed again.
 */
import { createHash } from 'node:crypto';

/** The URLs Traefik may name a server by. */
export function traefikServerUrls(address: string, port: number): string[] {
  const host = address.includes(':') ? `[${address}]` : address;
  return [`http://${host}:${port}`, `https://${host}:${port}`];
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = 0xffffffffffffffffn;

/** FNV-1 (multiply, then xor) 64-bit, in lowercase hex without leading zeros, as Go's FormatUint. */
export function fnv1Hex(text: string): string {
  let h = FNV_OFFSET;
  for (const b of Buffer.from(text)) h = ((h * FNV_PRIME) & MASK) ^ BigInt(b);
  return h.toString(16);
}

/** Every cookie value Traefik accepts for a server named `url`. */
export function traefikCookieValues(url: string): string[] {
  const once = fnv1Hex(url);
  return [createHash('sha256').update(url).digest('hex').slice(0, 16), url, once, fnv1Hex(once)];
}
