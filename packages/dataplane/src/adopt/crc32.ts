/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) with its register exposed: the
 * consistent-hash ring of lua-resty-balancer continues a finished checksum as a register,
 * which a checksum-only API cannot express.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** Runs `bytes` through the register `c` (no pre- or post-inversion). */
export function crc32Update(c: number, bytes: Uint8Array): number {
  let r = c >>> 0;
  for (const b of bytes) r = (TABLE[(r ^ b) & 0xff] as number) ^ (r >>> 8);
  return r >>> 0;
}

/** The standard CRC-32 of `bytes` (what zlib and nginx's `ngx.crc32_short` return). */
export function crc32(bytes: Uint8Array): number {
  return (crc32Update(0xffffffff, bytes) ^ 0xffffffff) >>> 0;
}
