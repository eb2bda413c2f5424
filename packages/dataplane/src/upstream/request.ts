/** What the upstream client is asked to send and whom it answers: the request, its head, its errors. */
import type { ConnectionOptions } from 'node:tls';
import type { Readable } from 'node:stream';

export interface UpstreamRequest {
  method: string;
  path: string;
  /** Flat [name, value, …], without Content-Length and Transfer-Encoding (the client frames). */
  headers: string[];
  /** The request body, streamed once, or a buffered one; null for none. */
  body: Readable | Buffer | null;
  /** Content-Length of the body when known (0 for an empty one); chunked transfer coding otherwise. */
  contentLength: number | undefined;
  /** Safe to send again on a new connection if a kept-alive one turns out closed (RFC 9110 §9.2.2). */
  idempotent: boolean;
}

export interface UpstreamHandler {
  /** The request is under way (or waiting); `abort` drops it (and its connection). */
  onConnect(abort: (err?: Error) => void): void;
  /** `headers` is flat [name, value, …] as received; `resume` restarts a paused body. */
  onHeaders(status: number, headers: string[], resume: () => void, statusText: string): void;
  /** Return false to pause until `resume` is called. */
  onData(chunk: Buffer): boolean;
  /** A piece of a streamed request body went upstream. */
  onBodyProgress(): void;
  /** The bytes that arrived so far have been handed over and more may take a while: pass them on. */
  onFlush(): void;
  onComplete(): void;
  onError(err: Error): void;
}

export interface UpstreamPoolOptions {
  connections: number;
  connectTimeout: number;
  headersTimeout: number;
  bodyTimeout: number;
  keepAliveTimeout: number;
  /** Requests that may wait for a connection; more are refused at once. */
  queueLimit: number;
  /** How long a request may wait for a connection. */
  queueTimeout: number;
  /** An exception was caught in a socket or stream callback (its exchange fails with 502). */
  internalError(where: string, err: unknown): void;
  /** TLS to the origin (certificate checks, SNI); plain TCP without it. */
  tls?: ConnectionOptions;
}

export function upstreamError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** The request line, headers and the framing header for the body, ending with the empty line. */
export function requestHead(request: UpstreamRequest): string {
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  const h = request.headers;
  for (let i = 0; i < h.length; i += 2) head += `${h[i]}: ${h[i + 1]}\r\n`;
  if (request.contentLength !== undefined)
    return `${head}content-length: ${request.contentLength}\r\n\r\n`;
  return request.body === null ? `${head}\r\n` : `${head}transfer-encoding: chunked\r\n\r\n`;
}
