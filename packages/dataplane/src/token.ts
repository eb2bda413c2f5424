/**
 * Session tokens: the opaque, signed, stateless value of a sticky cookie (or session header).
 *
 * A token says which endpoint a session belongs to without naming its address:
 * - `endpoint` tokens carry a keyed endpoint id, HMAC(key, set id, backend, address:port),
 *   so only a proxy holding the key can tell which endpoint it names (`persistent` mode);
 * - `key` tokens carry a random session key that is placed on the endpoints by rendezvous
 *   hashing on every request (`balanced` mode), so scaling moves few sessions and needs no
 *   new cookie.
 * The token also carries its issue time, the time it was last refreshed and a hard expiry,
 * all covered by an HMAC-SHA256 tag that also binds the backend set id. A client cannot
 * extend its session, move it to another backend set, or replay an expired value.
 *
 * Layout (35 bytes, base64url, 47 characters):
 *   version(1) flags(1) id(9) issued(4) seen(4) expires(4) tag(12)
 */
import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';

const VERSION = 1;
const ID_BYTES = 9;
const PAYLOAD_BYTES = 2 + ID_BYTES + 12;
const TAG_BYTES = 12;
const TOKEN_BYTES = PAYLOAD_BYTES + TAG_BYTES;
const TOKEN_CHARS = Math.ceil((TOKEN_BYTES * 4) / 3);
const FLAG_KEY = 1;
const FLAG_CANARY = 2;
/** Verified tokens are remembered so that a returning client costs a map lookup, not an HMAC. */
const CACHE_LIMIT = 20000;
const ENCODE_CACHE_LIMIT = 4096;

export interface SessionToken {
  /** `endpoint`: `id` is a keyed endpoint id. `key`: `id` is a session key for rendezvous hashing. */
  readonly kind: 'endpoint' | 'key';
  /** The session started on the canary side of the backend set. */
  readonly canary: boolean;
  /** 12 base64url characters. */
  readonly id: string;
  /** Unix seconds. */
  readonly issuedAt: number;
  /** Unix seconds of the last refresh (for idle timeouts); equals issuedAt until refreshed. */
  readonly seenAt: number;
  /** Unix seconds after which the token is void; 0 when it has no hard expiry. */
  readonly expiresAt: number;
}

export class TokenCodec {
  readonly #key: Buffer;
  /** Verified tokens by backend set, then by value. */
  readonly #cache = new Map<string, Map<string, SessionToken>>();
  #cached = 0;
  /** The last value signed per backend set and endpoint id. */
  readonly #encoded = new Map<string, Map<string, SessionToken & { value: string }>>();
  #random = Buffer.alloc(0);
  #randomOffset = 0;

  constructor(key: Buffer) {
    if (key.length < 16) throw new Error('the cookie key must be at least 16 bytes');
    this.#key = Buffer.from(key);
  }

  /** The keyed id of an endpoint within a backend set: stable for the same key and inputs. */
  endpointId(setId: string, backend: string, address: string, port: number): string {
    return createHmac('sha256', this.#key)
      .update(`endpoint\0${setId}\0${backend}\0${address}\0${port}`)
      .digest()
      .subarray(0, ID_BYTES)
      .toString('base64url');
  }

  /** A fresh random session key. */
  randomId(): string {
    if (this.#randomOffset + ID_BYTES > this.#random.length) {
      this.#random = randomFillSync(Buffer.allocUnsafe(ID_BYTES * 256));
      this.#randomOffset = 0;
    }
    const id = this.#random.toString(
      'base64url',
      this.#randomOffset,
      this.#randomOffset + ID_BYTES,
    );
    this.#randomOffset += ID_BYTES;
    return id;
  }

  encode(scope: string, token: SessionToken): string {
    if (token.kind !== 'endpoint') return this.#encode(scope, token);
    // Endpoint tokens issued in the same second are identical: sign each once.
    let scoped = this.#encoded.get(scope);
    const known = scoped?.get(token.id);
    if (
      known !== undefined &&
      known.issuedAt === token.issuedAt &&
      known.seenAt === token.seenAt &&
      known.expiresAt === token.expiresAt &&
      known.canary === token.canary
    ) {
      return known.value;
    }
    const value = this.#encode(scope, token);
    if (!scoped) {
      if (this.#encoded.size >= ENCODE_CACHE_LIMIT) this.#encoded.clear();
      scoped = new Map();
      this.#encoded.set(scope, scoped);
    }
    if (scoped.size >= ENCODE_CACHE_LIMIT) scoped.clear();
    scoped.set(token.id, { ...token, value });
    return value;
  }

  #encode(scope: string, token: SessionToken): string {
    const buf = Buffer.allocUnsafe(TOKEN_BYTES);
    buf[0] = VERSION;
    buf[1] = (token.kind === 'key' ? FLAG_KEY : 0) | (token.canary ? FLAG_CANARY : 0);
    buf.write(token.id, 2, ID_BYTES, 'base64url');
    buf.writeUInt32BE(clampU32(token.issuedAt), 2 + ID_BYTES);
    buf.writeUInt32BE(clampU32(token.seenAt), 6 + ID_BYTES);
    buf.writeUInt32BE(clampU32(token.expiresAt), 10 + ID_BYTES);
    this.#tag(scope, buf.subarray(0, PAYLOAD_BYTES)).copy(buf, PAYLOAD_BYTES);
    return buf.toString('base64url');
  }

  /** The token, or null when the value is malformed, tampered with, or from another scope or key. */
  decode(scope: string, value: string): SessionToken | null {
    if (value.length !== TOKEN_CHARS) return null;
    let scoped = this.#cache.get(scope);
    const cached = scoped?.get(value);
    if (cached) return cached;
    if (!/^[A-Za-z0-9_-]+$/.test(value)) return null;
    const buf = Buffer.from(value, 'base64url');
    if (buf.length !== TOKEN_BYTES || buf[0] !== VERSION) return null;
    const expected = this.#tag(scope, buf.subarray(0, PAYLOAD_BYTES));
    if (!timingSafeEqual(expected, buf.subarray(PAYLOAD_BYTES))) return null;
    const flags = buf[1] ?? 0;
    const token: SessionToken = {
      kind: flags & FLAG_KEY ? 'key' : 'endpoint',
      canary: (flags & FLAG_CANARY) !== 0,
      id: buf.toString('base64url', 2, 2 + ID_BYTES),
      issuedAt: buf.readUInt32BE(2 + ID_BYTES),
      seenAt: buf.readUInt32BE(6 + ID_BYTES),
      expiresAt: buf.readUInt32BE(10 + ID_BYTES),
    };
    if (++this.#cached > CACHE_LIMIT) {
      this.#cache.clear();
      this.#cached = 1;
      scoped = undefined;
    }
    if (!scoped) {
      scoped = new Map();
      this.#cache.set(scope, scoped);
    }
    scoped.set(value, token);
    return token;
  }

  #tag(scope: string, payload: Buffer): Buffer {
    return createHmac('sha256', this.#key)
      .update(scope)
      .update('\0')
      .update(payload)
      .digest()
      .subarray(0, TAG_BYTES);
  }
}

function clampU32(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return 0;
  return Math.min(Math.floor(n), 0xffffffff);
}
