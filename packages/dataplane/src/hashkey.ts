/**
 * The request value hashed by the `hash` algorithm, written in nginx variable syntax as
 * ingress-nginx's `upstream-hash-by` is: literal text mixed with `$remote_addr`,
 * `$binary_remote_addr`, `$host`, `$http_host`, `$request_uri`, `$uri`, `$args`,
 * `$query_string`, `$scheme`, `$http_<header>`, `$cookie_<name>` and `$arg_<name>`
 * (`${name}` braces allowed). Unknown variables hash as empty text.
 */
import { readCookie } from './cookies';

export interface RequestFacts {
  readonly clientIp: string;
  /** Normalised host (lower case, no port). */
  readonly host: string;
  /** Path and query as received. */
  readonly url: string;
  readonly path: string;
  /** Query string without `?`; empty when absent. */
  readonly query: string;
  readonly secure: boolean;
  readonly cookieHeader: string | undefined;
  /** A request header by lower-case name (first occurrence). */
  header(name: string): string | undefined;
}

export interface HashKeyFn {
  (req: RequestFacts): string;
  /** Lower-case names of the request headers the key reads. */
  readonly headers: readonly string[];
}

type Part = (req: RequestFacts) => string;

function queryArg(query: string, name: string): string {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    if ((eq < 0 ? pair : pair.slice(0, eq)) === name) return eq < 0 ? '' : pair.slice(eq + 1);
  }
  return '';
}

function variable(name: string, headers: string[]): Part {
  switch (name) {
    case 'remote_addr':
    case 'binary_remote_addr':
      return (r) => r.clientIp;
    case 'host':
    case 'http_host':
      return (r) => r.host;
    case 'request_uri':
      return (r) => r.url;
    case 'uri':
      return (r) => r.path;
    case 'args':
    case 'query_string':
      return (r) => r.query;
    case 'scheme':
      return (r) => (r.secure ? 'https' : 'http');
  }
  if (name.startsWith('http_')) {
    const header = name.slice(5).replace(/_/g, '-').toLowerCase();
    headers.push(header);
    return (r) => r.header(header) ?? '';
  }
  if (name.startsWith('cookie_')) {
    const cookie = name.slice(7);
    return (r) => (r.cookieHeader ? (readCookie(r.cookieHeader, cookie) ?? '') : '');
  }
  if (name.startsWith('arg_')) {
    const arg = name.slice(4);
    return (r) => queryArg(r.query, arg);
  }
  return () => '';
}

export function compileHashKey(source: string): HashKeyFn {
  const parts: Part[] = [];
  const headers: string[] = [];
  const re = /\$\{([A-Za-z0-9_]+)\}|\$([A-Za-z0-9_]+)/g;
  let last = 0;
  for (let m = re.exec(source); m !== null; m = re.exec(source)) {
    if (m.index > last) {
      const text = source.slice(last, m.index);
      parts.push(() => text);
    }
    parts.push(variable(m[1] ?? m[2] ?? '', headers));
    last = m.index + m[0].length;
  }
  if (last < source.length) {
    const text = source.slice(last);
    parts.push(() => text);
  }
  const fn = (req: RequestFacts): string => {
    let out = '';
    for (const part of parts) out += part(req);
    return out;
  };
  return Object.assign(fn, { headers });
}
