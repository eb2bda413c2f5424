/**
 * ingress-nginx's sticky cookie (`affinity: cookie`), read so that a request carrying one
 * reaches the endpoint ingress-nginx would have sent it to. From kubernetes/ingress-nginx:
 *
 * - The value is `<key>|<backend key>` (`balancer/sticky.lua`, `set_cookie`; older releases
 *   wrote the key alone). The backend key is md5_hex(md5_hex(name) .. name) of the upstream
 *   (`sync`); the upstream's name is `<namespace>-<service>-<port number or name>`
 *   (`internal/ingress/controller/util.go`, `upstreamName`).
 * - `affinity-mode: persistent` (`balancer/sticky_persistent.lua` over `util/nodemap.lua`,
 *   `create_map`): the key is md5_hex(upstream name .. "address:port").
 * - `affinity-mode: balanced` (`balancer/sticky_balanced.lua`): the key is a random string,
 *   and the endpoint is where it falls on lua-resty-balancer's consistent-hash ring over the
 *   upstream's endpoints (`lib/resty/chash.lua` `find`, `chash.c` `chash_point_init`): 160
 *   points per endpoint, the first the CRC-32 register of crc32("address:port") run over four
 *   zero bytes, each next one over the previous point's four bytes (little-endian), each
 *   finished by inverting; a key takes the point with the greatest hash not above crc32(key),
 *   or the first point when none is.
 */
import { createHash } from 'node:crypto';
import type { BackendRef } from '@tether/model';
import { crc32, crc32Update } from './crc32';

const md5Hex = (text: string): string => createHash('md5').update(text).digest('hex');

/** The upstream name ingress-nginx gives a Service port. */
export function upstreamName(ref: BackendRef): string {
  return `${ref.namespace}-${ref.service}-${String(ref.port)}`;
}

/** `address:port` as ingress-nginx writes an endpoint (IPv6 without brackets). */
export function nodeName(address: string, port: number): string {
  return `${address}:${port}`;
}

/** The key of `affinity-mode: persistent` for an endpoint of an upstream. */
export function persistentKey(upstream: string, address: string, port: number): string {
  return md5Hex(upstream + nodeName(address, port));
}

/** The part after `|`: which upstream issued the cookie. */
export function backendKey(upstream: string): string {
  return md5Hex(md5Hex(upstream) + upstream);
}

const POINTS_PER_NODE = 160;
const MD5_HEX = /^[0-9a-f]{32}$/;

/** A value split into its key and backend key; undefined when it has no key. */
export function splitValue(
  value: string,
): { key: string; backend: string | undefined } | undefined {
  const bar = value.indexOf('|');
  const key = bar < 0 ? value : value.slice(0, bar);
  if (key === '') return undefined;
  return { key, backend: bar < 0 ? undefined : value.slice(bar + 1).split('|')[0] };
}

/** Whether a key is a persistent-mode key (an MD5) rather than a balanced-mode random key. */
export function isPersistentKey(key: string): boolean {
  return MD5_HEX.test(key);
}

/** lua-resty-balancer's ring over some nodes: sorted point hashes and their node indexes. */
export class ChashRing {
  readonly #hashes: Uint32Array;
  readonly #nodes: Uint32Array;

  constructor(nodes: readonly string[]) {
    const points: { hash: number; node: number }[] = [];
    const prev = new Uint8Array(4);
    nodes.forEach((name, node) => {
      const base = crc32(Buffer.from(name));
      prev.fill(0);
      for (let i = 0; i < POINTS_PER_NODE; i++) {
        const hash = (crc32Update(base, prev) ^ 0xffffffff) >>> 0;
        points.push({ hash, node });
        prev[0] = hash & 0xff;
        prev[1] = (hash >>> 8) & 0xff;
        prev[2] = (hash >>> 16) & 0xff;
        prev[3] = hash >>> 24;
      }
    });
    // Equal hashes keep the order of their nodes, as chash.c's insertion sort does.
    points.sort((a, b) => a.hash - b.hash || a.node - b.node);
    this.#hashes = Uint32Array.from(points, (p) => p.hash);
    this.#nodes = Uint32Array.from(points, (p) => p.node);
  }

  /** The index of the node a key falls on; undefined for an empty ring. */
  find(key: string): number | undefined {
    const n = this.#hashes.length;
    if (n === 0) return undefined;
    const h = crc32(Buffer.from(key));
    // The last point whose hash is <= h (of equal hashes, the last), else the first point.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#hashes[mid] as number) <= h) lo = mid + 1;
      else hi = mid;
    }
    return this.#nodes[lo === 0 ? 0 : lo - 1];
  }
}
