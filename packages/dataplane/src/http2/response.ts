/**
 * An HTTP/2 stream's response as an exchange writes it (`ClientResponse`). HTTP/2 has no
 * reason phrase and no connection-specific header fields (RFC 9113 §8.2.2): the status text
 * and a `Connection` field are dropped here, so the exchange writes one way for both versions.
 */
import type { Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2';
import type { ClientResponse } from '../forward';
import { lowerIs } from '../headers';

/**
 * Node's compatibility `writeHead` takes a flat [name, value, …] list as `ServerResponse`'s does
 * (lib/internal/http2/compat.js, `appendHeader` per pair); its type declares objects only.
 */
interface FlatHeadWriter {
  writeHead(status: number, headers: readonly string[]): unknown;
}

export class Http2Response implements ClientResponse {
  /** Kept for the exchange's sake: an HTTP/2 stream never holds its connection open. */
  shouldKeepAlive = true;

  constructor(readonly res: Http2ServerResponse) {}

  get headersSent(): boolean {
    return this.res.headersSent;
  }

  writeHead(status: number, _statusText: string | undefined, headers: string[]): void {
    let list = headers;
    for (let i = 0; i < list.length; i += 2) {
      if (!lowerIs(list[i] ?? '', 'connection')) continue;
      list = list.filter((_, j) => j !== i && j !== i + 1);
      i -= 2;
    }
    (this.res as unknown as FlatHeadWriter).writeHead(status, list);
  }

  headOnly(status: number, headers: string[]): void {
    const out: OutgoingHttpHeaders = { ':status': status };
    for (let i = 0; i < headers.length; i += 2) {
      const name = (headers[i] ?? '').toLowerCase();
      const value = headers[i + 1] ?? '';
      if (name === 'connection') continue;
      const before = out[name];
      out[name] =
        before === undefined
          ? value
          : Array.isArray(before)
            ? [...before, value]
            : [String(before), value];
    }
    this.res.stream.respond(out, { endStream: true });
  }

  write(chunk: Buffer): boolean {
    return this.res.write(chunk);
  }

  end(chunk?: Buffer | string, encoding?: BufferEncoding): void {
    if (chunk === undefined) this.res.end();
    else if (typeof chunk === 'string') this.res.end(chunk, encoding ?? 'utf8');
    else this.res.end(chunk);
  }

  /** Nothing to do: HTTP/2's `writeHead` sends the HEADERS frame at once. */
  flushHeaders(): void {}

  addTrailers(trailers: Record<string, string>): void {
    this.res.addTrailers(trailers);
  }

  destroy(err?: Error): void {
    this.res.destroy(err);
  }

  once(event: 'close' | 'drain', listener: () => void): void {
    this.res.once(event, listener);
  }
}
