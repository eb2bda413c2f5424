/**
 * What the proxy reads from an HTTP/2 request, in the shape HTTP/1.1's parser gives it, so one
 * `IncomingFacts` serves both versions: the pseudo-header fields go (`:authority` becomes the
 * Host field, RFC 9113 §8.3.1), the cookie crumbs stay separate fields for `IncomingFacts` to
 * join, and a body without a Content-Length is marked as one that is streamed.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { IncomingFacts, lowerIs } from '../headers';

export function http2Facts(
  stream: ServerHttp2Stream,
  head: IncomingHttpHeaders,
  raw: readonly string[],
  remoteAddress: string | undefined,
  secure: boolean,
): IncomingFacts {
  const authority = head[':authority'];
  const headers: string[] = authority ? ['host', authority] : [];
  let length = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (name.charCodeAt(0) === 58 /* : */) continue;
    // `:authority` wins over a Host field (RFC 9113 §8.3.1): one Host goes upstream.
    if (authority && lowerIs(name, 'host')) continue;
    if (lowerIs(name, 'content-length')) length = true;
    headers.push(name, raw[i + 1] ?? '');
  }
  // DATA frames follow the head: without a length the upstream client streams them chunked.
  // The marker is a framing field, so it never goes upstream itself.
  if (!length && !stream.endAfterHeaders) headers.push('transfer-encoding', 'chunked');
  return new IncomingFacts(
    {
      rawHeaders: headers,
      url: head[':path'],
      method: head[':method'],
      socket: { remoteAddress },
    },
    secure,
  );
}
