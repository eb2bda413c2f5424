/**
 * A gRPC service for tests, served by real @grpc/grpc-js servers and called by its real client:
 * `Who` answers the endpoint's name and the cookie it got, `Count` streams numbered answers,
 * `Fail` answers NOT_FOUND. Messages are JSON; framing, HTTP/2 and trailers are gRPC's own.
 */
import {
  makeGenericClientConstructor,
  Metadata,
  Server,
  ServerCredentials,
  status,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type MethodDefinition,
  type ServiceDefinition,
  type ServerDuplexStream,
  type ServiceError,
} from '@grpc/grpc-js';
import type { PemPair } from '@tether/testkit';

export interface Ask {
  count?: number;
}
export interface Answer {
  endpoint: string;
  i?: number;
  cookie?: string;
}

/** Messages as JSON: the framing, HTTP/2 and trailers are gRPC's own; only the encoding is ours. */
function method<Req, Res>(
  path: string,
  responseStream: boolean,
  requestStream = false,
): MethodDefinition<Req, Res> {
  const serialize = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  const deserialize = (b: Buffer): never => JSON.parse(b.toString()) as never;
  return {
    path,
    requestStream,
    responseStream,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}

export const SERVICE = {
  who: method<Ask, Answer>('/tether.test.Echo/Who', false),
  count: method<Ask, Answer>('/tether.test.Echo/Count', true),
  fail: method<Ask, Answer>('/tether.test.Echo/Fail', false),
  /** Both ways: each message is answered with its `count` as `i`. */
  chat: method<Ask, Answer>('/tether.test.Echo/Chat', true, true),
} satisfies ServiceDefinition;

export type EchoClient = Client & {
  who(
    ask: Ask,
    metadata: Metadata,
    done: (err: ServiceError | null, answer?: Answer) => void,
  ): { on(event: 'metadata', fn: (m: Metadata) => void): void };
  count(ask: Ask, metadata: Metadata): ClientReadableStream<Answer>;
  chat(metadata: Metadata): ClientDuplexStream<Ask, Answer>;
  fail(ask: Ask, metadata: Metadata, done: (err: ServiceError | null) => void): void;
};
export const EchoClientCtor = makeGenericClientConstructor(SERVICE, 'Echo');

export interface GrpcBackend {
  name: string;
  port: number;
  server: Server;
}

export async function grpcBackend(name: string, tls?: PemPair): Promise<GrpcBackend> {
  const server = new Server();
  server.addService(SERVICE, {
    who: (call: { metadata: Metadata }, done: (err: null, answer: Answer) => void) =>
      done(null, { endpoint: name, cookie: String(call.metadata.get('cookie')[0] ?? '') }),
    chat: (call: ServerDuplexStream<Ask, Answer>) => {
      call.on('data', (ask: Ask) => call.write({ endpoint: name, i: ask.count ?? 0 }));
      call.on('end', () => call.end());
    },
    count: (call: { request: Ask; write(a: Answer): void; end(): void }) => {
      for (let i = 0; i < (call.request.count ?? 1); i++) call.write({ endpoint: name, i });
      call.end();
    },
    fail: (_call: unknown, done: (err: Partial<ServiceError>) => void) =>
      done({ code: status.NOT_FOUND, details: `no such thing at ${name}` }),
  });
  const creds = tls
    ? ServerCredentials.createSsl(null, [
        { cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) },
      ])
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { name, port, server };
}

export interface Unary {
  answer: Answer;
  /** The response metadata (the head the proxy sent). */
  head: Metadata;
}

export function who(c: EchoClient, send: Record<string, string> = {}): Promise<Unary> {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(send)) metadata.set(k, v);
  return new Promise((resolve, reject) => {
    let head = new Metadata();
    c.who({}, metadata, (err, answer) =>
      err ? reject(err) : resolve({ answer: answer!, head }),
    ).on('metadata', (m) => {
      head = m;
    });
  });
}

export function failure(
  run: (done: (err: ServiceError | null) => void) => void,
): Promise<ServiceError> {
  return new Promise((resolve, reject) =>
    run((err) => (err ? resolve(err) : reject(new Error('the call succeeded')))),
  );
}

/** `NAME=value` of the session cookie the answer's head sets. */
export function stickyCookie(head: Metadata, name = 'STICKY'): string {
  const set = head.get('set-cookie').map(String);
  const pair = set.find((c) => c.startsWith(`${name}=`))?.split(';')[0];
  if (!pair) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return pair;
}
