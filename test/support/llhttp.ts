/**
 * Node's own HTTP parser (llhttp), driven directly: the parser `node:http` uses for client
 * responses and server requests, with the same (non-lenient) flags, without sockets, so that
 * a differential test can run tens of thousands of cases in seconds.
 */

interface NodeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | Error;
  finish(): undefined | Error;
  close(): void;
  [key: number]: unknown;
}

interface NodeHttpParserClass {
  new (): NodeHttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
  kLenientNone: number;
}

// `_http_common` is internal to Node but stable across 20.x; it is what node:http runs on.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { HTTPParser } = require('node:_http_common') as { HTTPParser: NodeHttpParserClass };
/** llhttp's method numbers, as node:http maps them. */

export interface LlhttpMessage {
  status: number;
  statusText: string;
  method: string | undefined;
  url: string;
  headers: string[];
  body: Buffer;
}

export interface LlhttpRun {
  /** Messages completed, in order (1xx responses included). */
  messages: LlhttpMessage[];
  /** The parse error, if it failed. */
  error: string | undefined;
}

const { methods: METHODS } = require('node:_http_common') as { methods: string[] }; // eslint-disable-line @typescript-eslint/no-require-imports

/**
 * Parses `bytes` as node:http would: as responses to requests with `method` (HEAD and 1xx
 * have no body), or as requests. `eof`: the peer closed after the bytes.
 */
export function llhttp(
  kind: 'response' | 'request',
  bytes: Buffer,
  eof: boolean,
  method = 'GET',
): LlhttpRun {
  const parser = new HTTPParser();
  parser.initialize(
    kind === 'response' ? HTTPParser.RESPONSE : HTTPParser.REQUEST,
    {},
    0,
    HTTPParser.kLenientNone,
  );
  const messages: LlhttpMessage[] = [];
  let headers: string[] = [];
  let url = '';
  let current: LlhttpMessage | undefined;
  let body: Buffer[] = [];
  parser[HTTPParser.kOnHeaders] = (more: string[], moreUrl: string) => {
    headers.push(...more);
    url += moreUrl;
  };
  parser[HTTPParser.kOnHeadersComplete] = (
    _major: number,
    _minor: number,
    complete: string[] | undefined,
    methodIndex: number | undefined,
    completeUrl: string | undefined,
    status: number | undefined,
    statusText: string | undefined,
  ): number => {
    if (complete) headers.push(...complete);
    if (completeUrl) url += completeUrl;
    current = {
      status: status ?? 0,
      statusText: statusText ?? '',
      method: methodIndex === undefined ? undefined : METHODS[methodIndex],
      url,
      headers,
      body: Buffer.alloc(0),
    };
    headers = [];
    url = '';
    body = [];
    // As node:http's client: no body for a response to HEAD or for an interim response.
    if (
      kind === 'response' &&
      (method === 'HEAD' || (current.status >= 100 && current.status < 200))
    )
      return 1;
    return 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => {
    body.push(Buffer.from(chunk));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (current) messages.push({ ...current, body: Buffer.concat(body) });
    current = undefined;
  };
  let error: string | undefined;
  // Not `instanceof Error`: the parser's errors come from Node's realm, and a test runner's
  // sandbox has an Error of its own, so that check would let every parse error through.
  const result = parser.execute(bytes);
  if (typeof result !== 'number') error = (result as Error & { code?: string }).code ?? 'error';
  else if (eof) {
    const end = parser.finish();
    if (end !== undefined) error = (end as Error & { code?: string }).code ?? 'error';
  }
  parser.close();
  return { messages, error };
}
