/**
 * An HTTP/2 stream's response as an exchange writes it (`ClientResponse`), on Node's core
 * stream API (the compatibility layer's request and response objects cost about a third of
 * the requests per second). HTTP/2 has no reason phrase and no connection-specific header
 * fields (RFC 9113 §8.2.2): the status text and such fields are dropped here, so the exchange
 * writes one way for both versions.
 */
import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { ClientResponse } from '../forward';

/** Fields HTTP/2 forbids (Node throws on them); the exchanges strip the rest of hop-by-hop. */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

export class Http2Response implements ClientResponse {
  /** Kept for the exchange's sake: an HTTP/2 stream never holds its connection open. */
  shouldKeepAlive = true;
  #trailers: Record<string, string> | undefined;
  #waitForTrailers = false;

  constructor(readonly stream: ServerHttp2Stream) {}

  get headersSent(): boolean {
    return this.stream.headersSent;
  }

  writeHead(status: number, _statusText: string | undefined, headers: string[]): void {
    if (this.#waitForTrailers) {
      this.stream.respond(fieldsOf(status, headers), { waitForTrailers: true });
      this.stream.once('wantTrailers', () => this.stream.sendTrailers(this.#trailers ?? {}));
    } else this.stream.respond(fieldsOf(status, headers));
  }

  headOnly(status: number, headers: string[]): void {
    this.stream.respond(fieldsOf(status, headers), { endStream: true });
  }

  expectTrailers(): void {
    this.#waitForTrailers = true;
  }

  addTrailers(trailers: Record<string, string>): void {
    this.#trailers = { ...this.#trailers, ...trailers };
  }

  write(chunk: Buffer): boolean {
    return this.stream.write(chunk);
  }

  end(chunk?: Buffer | string, encoding?: BufferEncoding): void {
    if (!this.stream.headersSent) this.stream.respond({ ':status': 200 });
    if (chunk === undefined) this.stream.end();
    else if (typeof chunk === 'string') this.stream.end(chunk, encoding ?? 'utf8');
    else this.stream.end(chunk);
  }

  /** Nothing to do: `respond` sends the HEADERS frame at once. */
  flushHeaders(): void {}

  destroy(): void {
    this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
  }

  once(event: 'close' | 'drain', listener: () => void): void {
    this.stream.once(event, listener);
  }
}

/** A flat [name, value, …] list as HTTP/2 fields: lower case, repeated names as lists. */
function fieldsOf(status: number, headers: readonly string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ':status': status };
  for (let i = 0; i < headers.length; i += 2) {
    const name = (headers[i] ?? '').toLowerCase();
    const value = headers[i + 1] ?? '';
    if (CONNECTION_SPECIFIC.has(name)) continue;
    const before = out[name];
    out[name] =
      before === undefined
        ? value
        : Array.isArray(before)
          ? [...before, value]
          : [String(before), value];
  }
  return out;
}
