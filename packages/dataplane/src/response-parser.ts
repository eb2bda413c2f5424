/**
 * Reads one HTTP/1.1 response from an upstream connection, byte stream in, head and body
 * chunks out. Pure framing: no sockets, no timers, so that it can be driven byte by byte
 * against Node's own parser (llhttp) in tests.
 *
 * The rule it keeps: every response it accepts, llhttp accepts with the same status, headers
 * and body boundaries. Where llhttp is lenient in ways a proxy cannot pass on, it refuses
 * more: Content-Length with Transfer-Encoding, Content-Length given twice, a transfer coding
 * other than `chunked` alone, a `101` to a plain request, chunk extensions other than tokens. Control bytes in a header (bare CR or LF, NUL,
 * DEL, …) are refused as llhttp refuses them, so nothing reaches `writeHead` that would make
 * it throw. A reason phrase llhttp accepts but Node cannot write (it may hold any byte but
 * CR and LF) is dropped: clients ignore it (RFC 9112 §4).
 */

export interface ResponseHead {
  status: number;
  /** Empty when the backend sent none or one that cannot be written on. */
  statusText: string;
  /** Flat [name, value, …] as received, values without surrounding white space. */
  headers: string[];
}

export interface ResponseSink {
  /** A final (non-1xx) response head. */
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  /** The response is complete; `extra`: more bytes followed it on the connection. */
  onEnd(extra: boolean): void;
  /** The bytes are not a response we accept: drop the connection. */
  onInvalid(message: string, code: string): void;
}

export const MAX_RESPONSE_HEAD_BYTES = 64 * 1024;
const MAX_CHUNK_LINE = 4096;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;
/** Bytes llhttp refuses in a header block: controls but HTAB, DEL, and CR or LF not in a CRLF pair. */
// Global, so that a search can start after the status line (`lastIndex`) without a copy.
// eslint-disable-next-line no-control-regex -- control bytes are exactly what it looks for
const BAD_HEADER_BYTES = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/g;
/** What `writeHead` accepts in a reason phrase. */
const WRITABLE_TEXT = /^[\t\x20-\x7e\x80-\xff]*$/;
/** A chunk size line: hex size, then `;name[=value]` extensions of tokens only. */
const CHUNK_SIZE_LINE =
  /^([0-9a-fA-F]{1,12})(?:;[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:=[!#$%&'*+\-.^_`|~0-9A-Za-z]+)?)*$/;

const enum State {
  Idle,
  Head,
  Body,
}
const enum Framing {
  None,
  Length,
  Chunked,
  Close,
}
const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

function isOws(code: number): boolean {
  return code === 32 || code === 9;
}

/** `value` without leading and trailing spaces and tabs (and nothing else, unlike `trim`). */
function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

export interface ParsedHead extends ResponseHead {
  http10: boolean;
  contentLength: number | undefined;
  transferEncoding: string | undefined;
  /** Lower-case Connection tokens, comma-terminated. */
  connection: string;
}

/**
 * Parses a response head (status line and header lines, without the final CRLFCRLF).
 * Returns a message for a head we refuse.
 */
export function parseResponseHead(text: string): ParsedHead | string {
  const lines = text.split('\r\n');
  const statusLine = STATUS_LINE.exec(lines[0] ?? '');
  if (!statusLine) return 'malformed status line';
  // The header block only: the reason phrase may hold what llhttp accepts there.
  BAD_HEADER_BYTES.lastIndex = (lines[0] ?? '').length;
  if (lines.length > 1 && BAD_HEADER_BYTES.test(text))
    return 'control character in response header';
  const headers: string[] = [];
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let connection = '';
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) return 'malformed response header';
    const value = trimOws(line.slice(colon + 1));
    const n = name.length;
    if (n === 14 || n === 17 || n === 10) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') {
        if (!/^\d{1,15}$/.test(value) || contentLength !== undefined)
          return 'invalid Content-Length';
        contentLength = Number(value);
      } else if (lower === 'transfer-encoding') {
        // Only `chunked` can be relayed: the body leaves decoded, and any other coding would
        // leave it still coded with nothing saying so.
        if (transferEncoding !== undefined || value.toLowerCase() !== 'chunked')
          return 'unsupported Transfer-Encoding';
        transferEncoding = value;
      } else if (lower === 'connection') {
        connection += `${value.toLowerCase()},`;
      }
    }
    headers.push(name, value);
  }
  if (transferEncoding !== undefined && contentLength !== undefined)
    return 'both Content-Length and Transfer-Encoding';
  const reason = statusLine[3] ?? '';
  return {
    status: Number(statusLine[2]),
    statusText: WRITABLE_TEXT.test(reason) ? reason : '',
    headers,
    http10: statusLine[1] === '0',
    contentLength,
    transferEncoding,
    connection,
  };
}

/** One response at a time; `start` before each. */
export class ResponseParser {
  /** Whether the connection may carry another exchange after this response. */
  keepAlive = true;
  #state = State.Idle;
  #bodyless = false;
  #head: Buffer | undefined;
  #framing = Framing.None;
  #remaining = 0;
  #chunk = Chunk.Size;
  #line = '';

  constructor(readonly sink: ResponseSink) {}

  /** Expect the response to a request with this method. */
  start(method: string): void {
    this.#state = State.Head;
    this.#bodyless = method === 'HEAD';
    this.#head = undefined;
    this.#framing = Framing.None;
    this.#remaining = 0;
    this.keepAlive = true;
  }

  /** Stops reading: the exchange is over (ended, failed or abandoned). */
  stop(): void {
    this.#state = State.Idle;
    this.#head = undefined;
  }

  /** A response head has been read. */
  get started(): boolean {
    return this.#state === State.Body;
  }

  get active(): boolean {
    return this.#state !== State.Idle;
  }

  /** Reads `data`; returns how many of its bytes belong to this response (the rest follow it). */
  execute(data: Buffer): number {
    let buf = data;
    while (buf.length > 0 && this.#state !== State.Idle) {
      buf = this.#state === State.Head ? this.#readHead(buf) : this.#readBody(buf);
    }
    return data.length - buf.length;
  }

  /** The upstream closed the connection: true when that completes the response. */
  finishAtEof(): boolean {
    if (this.#state !== State.Body || this.#framing !== Framing.Close) return false;
    this.#end(false);
    return true;
  }

  #invalid(message: string, code = 'UND_ERR_BAD_RESPONSE'): Buffer {
    this.stop();
    this.sink.onInvalid(message, code);
    return EMPTY;
  }

  #readHead(data: Buffer): Buffer {
    const buf = this.#head ? Buffer.concat([this.#head, data]) : data;
    const end = buf.indexOf(CRLFCRLF);
    if (end < 0) {
      if (buf.length > MAX_RESPONSE_HEAD_BYTES)
        return this.#invalid('response head too large', 'UND_ERR_HEADERS_OVERFLOW');
      this.#head = buf;
      return EMPTY;
    }
    this.#head = undefined;
    if (end > MAX_RESPONSE_HEAD_BYTES)
      return this.#invalid('response head too large', 'UND_ERR_HEADERS_OVERFLOW');
    const rest = buf.subarray(end + 4);
    const head = parseResponseHead(buf.toString('latin1', 0, end));
    if (typeof head === 'string') return this.#invalid(head);
    const status = head.status;
    if (status === 101) return this.#invalid('101 Switching Protocols to a plain request');
    if (status < 200) {
      // An interim response; the final one follows, unless the interim one closed the
      // connection (as llhttp reads HTTP/1.0 or `Connection: close`).
      if (head.http10 || head.connection.includes('close'))
        return this.#invalid('interim response that closes the connection');
      return rest;
    }
    this.#frame(head);
    this.#state = State.Body;
    this.sink.onHead(head);
    if (this.#state !== State.Body) return EMPTY;
    if (
      this.#framing === Framing.None ||
      (this.#framing === Framing.Length && this.#remaining === 0)
    )
      this.#end(rest.length > 0);
    return rest;
  }

  /** Works out how the body is delimited. */
  #frame(head: ParsedHead): void {
    const status = head.status;
    const connection = head.connection;
    this.keepAlive = head.http10
      ? connection.includes('keep-alive')
      : !connection.includes('close');
    const bodyless = this.#bodyless || status === 204 || status === 304;
    if (head.transferEncoding !== undefined) {
      this.#framing = bodyless ? Framing.None : Framing.Chunked;
      this.#chunk = Chunk.Size;
      this.#line = '';
    } else if (bodyless) {
      this.#framing = Framing.None;
    } else if (head.contentLength !== undefined) {
      this.#framing = Framing.Length;
      this.#remaining = head.contentLength;
    } else {
      this.#framing = Framing.Close;
      this.keepAlive = false;
    }
  }

  /** Consumes body bytes; returns what is left after the response. */
  #readBody(buf: Buffer): Buffer {
    switch (this.#framing) {
      case Framing.Close:
        this.sink.onBody(buf);
        return EMPTY;
      case Framing.Length: {
        const take = Math.min(buf.length, this.#remaining);
        this.#remaining -= take;
        if (take > 0) this.sink.onBody(take === buf.length ? buf : buf.subarray(0, take));
        if (this.#remaining === 0 && this.#state === State.Body) this.#end(take < buf.length);
        return buf.subarray(take);
      }
      case Framing.Chunked:
        return this.#readChunked(buf);
      default:
        return buf;
    }
  }

  #readChunked(buf: Buffer): Buffer {
    let i = 0;
    while (i < buf.length && this.#state === State.Body) {
      if (this.#chunk === Chunk.Data) {
        const take = Math.min(buf.length - i, this.#remaining);
        const start = i;
        i += take;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#chunk = Chunk.DataEnd;
        this.sink.onBody(buf.subarray(start, i));
        continue;
      }
      // Size, DataEnd and Trailer states read whole lines.
      const nl = buf.indexOf(10, i);
      const end = nl < 0 ? buf.length : nl + 1;
      this.#line += buf.toString('latin1', i, end);
      i = end;
      if (this.#line.length > MAX_CHUNK_LINE) return this.#invalid('chunk line too long');
      if (nl < 0) break;
      const line = this.#line;
      this.#line = '';
      if (line.length < 2 || line.charCodeAt(line.length - 2) !== 13)
        return this.#invalid('malformed chunk');
      const content = line.slice(0, -2);
      if (this.#chunk === Chunk.DataEnd) {
        if (content !== '') return this.#invalid('malformed chunk end');
        this.#chunk = Chunk.Size;
      } else if (this.#chunk === Chunk.Size) {
        const size = CHUNK_SIZE_LINE.exec(content);
        if (!size) return this.#invalid('malformed chunk size');
        const n = parseInt(size[1] ?? '', 16);
        if (n === 0) this.#chunk = Chunk.Trailer;
        else {
          this.#remaining = n;
          this.#chunk = Chunk.Data;
        }
      } else if (content === '') {
        // Trailers are checked as headers are, then dropped; the empty line ends the message.
        this.#end(i < buf.length);
        return buf.subarray(i);
      } else {
        const colon = content.indexOf(':');
        BAD_HEADER_BYTES.lastIndex = colon + 1;
        if (colon <= 0 || !TOKEN.test(content.slice(0, colon)) || BAD_HEADER_BYTES.test(content))
          return this.#invalid('malformed trailer');
      }
    }
    return EMPTY;
  }

  #end(extra: boolean): void {
    if (extra) this.keepAlive = false;
    this.#state = State.Idle;
    this.sink.onEnd(extra);
  }
}
