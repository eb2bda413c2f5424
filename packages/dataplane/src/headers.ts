/**
 * Header handling on the hot path: one pass over the request's raw headers that finds what
 * routing needs and builds the list sent upstream (hop-by-hop and framing headers stripped,
 * the balancer's own cookie removed, forwarding headers added), and the mirror pass over the
 * response headers.
 *
 * What a client cannot make the proxy do with headers: Content-Length and Transfer-Encoding
 * never go upstream as the client wrote them (the upstream client frames the body itself,
 * so `Connection: Content-Length` cannot unframe it); `Connection` cannot strip `Host`; a
 * second `Host` is refused, as nginx and HAProxy do.
 */
import type { IncomingMessage } from 'node:http';
import { removeCookie } from './cookies';
import type { RequestFacts } from './hashkey';
import { normaliseHost } from './matcher';

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1), and `expect`, which we answer ourselves. */
export const HOP_BY_HOP_NAMES: readonly string[] = [
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'http2-settings',
  'expect',
];
const HOP_BY_HOP = new Set(HOP_BY_HOP_NAMES);
/** Request headers we replace with our own values, or that frame the message (the upstream client writes its own). */
const REPLACED = new Set(['x-forwarded-proto', 'x-forwarded-host', 'content-length']);
/** Names a `Connection` header cannot have removed: routing and the upstream's view of the target depend on them. */
const KEPT_DESPITE_CONNECTION = new Set(['host']);
/** By name length: whether a header of that length may need more than copying upstream. */
const MAYBE_SPECIAL: boolean[] = [];
for (const name of [...HOP_BY_HOP, ...REPLACED, 'cookie', 'x-forwarded-for', 'forwarded', 'host'])
  MAYBE_SPECIAL[name.length] = true;

export function isHopByHop(lowerName: string): boolean {
  return HOP_BY_HOP.has(lowerName);
}

/** Extra tokens of a `Connection` header (besides keep-alive, close, upgrade), lower case. */
function connectionTokens(value: string): string[] {
  const out: string[] = [];
  for (const t of value.split(',')) {
    const token = t.trim().toLowerCase();
    if (
      token &&
      token !== 'keep-alive' &&
      token !== 'close' &&
      token !== 'upgrade' &&
      !KEPT_DESPITE_CONNECTION.has(token)
    )
      out.push(token);
  }
  return out;
}

/** The parts of a request the proxy reads (an `IncomingMessage` has them). */
export type RequestLike = Pick<IncomingMessage, 'rawHeaders' | 'url' | 'method'> & {
  readonly socket: { readonly remoteAddress?: string | undefined };
};

/** `::ffff:10.0.0.1` → `10.0.0.1`: a client is known by its address as it sent it. */
export function plainAddress(address: string | undefined): string {
  const a = address ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

function clientAddress(req: RequestLike): string {
  return plainAddress(req.socket.remoteAddress);
}

/** `http://authority/path` or `https://…` (RFC 9112 §3.2.2): [authority, origin-form path], or undefined. */
function absoluteForm(url: string): [string, string] | undefined {
  const m = /^https?:\/\/([^/?#@]+)([/?][^#]*)?$/i.exec(url);
  if (!m) return undefined;
  const rest = m[2] ?? '/';
  return [m[1] ?? '', rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest];
}

/** What the proxy reads from a request, computed once. */
export class IncomingFacts implements RequestFacts {
  readonly clientIp: string;
  readonly host: string;
  readonly url: string;
  readonly path: string;
  readonly query: string;
  readonly secure: boolean;
  readonly method: string;
  readonly hostHeader: string | undefined;
  readonly cookieHeader: string | undefined;
  readonly userAgent: string | undefined;
  readonly hasBody: boolean;
  /** The request's Content-Length when it has one (Node has checked it). */
  readonly contentLength: number | undefined;
  /** Why the request must be refused with 400, if it must. */
  readonly invalid: string | undefined;
  /** The authority of an absolute-form target, which replaces the Host header. */
  readonly #authority: string | undefined;
  readonly #raw: string[];
  readonly #xff: string | undefined;
  readonly #forwarded: string | undefined;
  /** Lower-case names listed in the request's Connection header. */
  readonly #dropped: string[] | undefined;

  constructor(req: RequestLike, secure: boolean) {
    const raw = req.rawHeaders;
    this.#raw = raw;
    this.secure = secure;
    this.method = req.method ?? 'GET';
    let url = req.url ?? '/';
    let invalid: string | undefined;
    let authority: string | undefined;
    if (url.charCodeAt(0) !== 47 /* / */ && url !== '*') {
      const absolute = absoluteForm(url);
      if (absolute) [authority, url] = absolute;
      else invalid = 'bad request target';
    }
    this.url = url;
    this.#authority = authority;
    const q = this.url.indexOf('?');
    this.path = q < 0 ? this.url : this.url.slice(0, q);
    this.query = q < 0 ? '' : this.url.slice(q + 1);
    this.clientIp = clientAddress(req);
    let host: string | undefined;
    let cookie: string | undefined;
    let ua: string | undefined;
    let xff: string | undefined;
    let forwarded: string | undefined;
    let dropped: string[] | undefined;
    let body = false;
    let length: number | undefined;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] ?? '';
      const value = raw[i + 1] ?? '';
      switch (name.length) {
        case 4:
          if (lowerIs(name, 'host')) {
            if (host !== undefined) invalid = 'more than one Host header';
            host = value;
          }
          break;
        case 6:
          if (lowerIs(name, 'cookie'))
            cookie = cookie === undefined ? value : `${cookie}; ${value}`;
          break;
        case 9:
          if (lowerIs(name, 'forwarded'))
            forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
          break;
        case 10:
          if (ua === undefined && lowerIs(name, 'user-agent')) ua = value;
          else if (lowerIs(name, 'connection')) {
            const tokens = connectionTokens(value);
            if (tokens.length > 0) dropped = [...(dropped ?? []), ...tokens];
          }
          break;
        case 14:
          if (lowerIs(name, 'content-length')) {
            length = Number(value);
            if (value !== '0') body = true;
          }
          break;
        case 15:
          if (lowerIs(name, 'x-forwarded-for'))
            xff = xff === undefined ? value : `${xff}, ${value}`;
          break;
        case 17:
          if (lowerIs(name, 'transfer-encoding')) body = true;
          break;
      }
    }
    this.invalid = invalid;
    this.hostHeader = authority ?? host;
    this.host = normaliseHost(this.hostHeader);
    this.cookieHeader = cookie;
    this.userAgent = ua;
    this.hasBody = body;
    this.contentLength = Number.isSafeInteger(length) ? length : undefined;
    this.#xff = xff;
    this.#forwarded = forwarded;
    this.#dropped = dropped;
  }

  header(lowerName: string): string | undefined {
    const raw = this.#raw;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] ?? '';
      if (lowerIs(name, lowerName)) return raw[i + 1];
    }
    return undefined;
  }

  /**
   * The headers to send upstream, as a flat [name, value, …] list: hop-by-hop headers out,
   * cookie `stripCookie` removed from `Cookie`, X-Forwarded-* and Forwarded added.
   * `keepUpgrade` keeps Connection/Upgrade for a WebSocket handshake.
   */
  upstreamHeaders(stripCookie: string | undefined, keepUpgrade: boolean): string[] {
    const raw = this.#raw;
    const out: string[] = [];
    const dropped = this.#dropped;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] ?? '';
      if (dropped === undefined && !MAYBE_SPECIAL[name.length]) {
        out.push(name, raw[i + 1] ?? '');
        continue;
      }
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower)) {
        if (keepUpgrade && (lower === 'connection' || lower === 'upgrade'))
          out.push(name, raw[i + 1] ?? '');
        continue;
      }
      if (
        lower === 'cookie' ||
        lower === 'x-forwarded-for' ||
        lower === 'forwarded' ||
        REPLACED.has(lower)
      )
        continue;
      if (lower === 'host') {
        // An absolute-form target names the host; the client's Host header gives way to it.
        if (this.#authority === undefined) out.push(name, raw[i + 1] ?? '');
        continue;
      }
      if (dropped !== undefined && dropped.includes(lower)) continue;
      out.push(name, raw[i + 1] ?? '');
    }
    if (this.#authority !== undefined) out.push('host', this.#authority);
    if (this.cookieHeader !== undefined) {
      const cookie = stripCookie ? removeCookie(this.cookieHeader, stripCookie) : this.cookieHeader;
      if (cookie !== undefined) out.push('cookie', cookie);
    }
    const ip = this.clientIp;
    const proto = this.secure ? 'https' : 'http';
    out.push('x-forwarded-for', this.#xff === undefined ? ip : `${this.#xff}, ${ip}`);
    out.push('x-forwarded-proto', proto);
    if (this.hostHeader !== undefined) out.push('x-forwarded-host', this.hostHeader);
    const forIp = ip.includes(':') ? `"[${ip}]"` : ip;
    let element = `for=${forIp};proto=${proto}`;
    if (this.hostHeader !== undefined)
      element += `;host="${/["\\]/.test(this.hostHeader) ? this.hostHeader.replace(/["\\]/g, '') : this.hostHeader}"`;
    out.push(
      'forwarded',
      this.#forwarded === undefined ? element : `${this.#forwarded}, ${element}`,
    );
    return out;
  }
}

/** `name` equals `lower` ignoring ASCII case; `lower` must be lower case. */
export function lowerIs(name: string, lower: string): boolean {
  return name.length === lower.length && (name === lower || name.toLowerCase() === lower);
}
