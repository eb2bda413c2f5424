/**
 * The second ceiling of the HTTP/2 case: the least a proxy built on Node's HTTP/2 server and
 * Tether's upstream client can do. Each stream goes to the next origin in turn over that
 * client, and its answer comes back with a fixed Set-Cookie, as the proxies' does: no routing,
 * no session decision, no forwarded fields, no limits, no metrics. What Tether does per request
 * on top of these two parts is what separates its figure from this one; what separates this
 * one from HAProxy's is the two parts themselves.
 *
 *   node .build/bench/h2-relay.js --port 18298 --cert FILE --key FILE --backends 18181,18182,18183
 */
import { readFileSync } from 'node:fs';
import { constants, createSecureServer, type OutgoingHttpHeaders } from 'node:http2';
import { UpstreamPool } from '@tether/dataplane';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

/** Fields HTTP/2 has no place for (RFC 9113 §8.2.2). */
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'transfer-encoding']);

const pools = arg('backends')
  .split(',')
  .map(
    (port) =>
      new UpstreamPool('127.0.0.1', Number(port), {
        connections: 1024,
        connectTimeout: 5000,
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
        keepAliveTimeout: 60_000,
        queueLimit: 10_000,
        queueTimeout: 10_000,
        internalError: (where, err) => process.stderr.write(`${where}: ${String(err)}\n`),
      }),
  );
let next = 0;

const server = createSecureServer({
  cert: readFileSync(arg('cert')),
  key: readFileSync(arg('key')),
  settings: { maxConcurrentStreams: 100 },
});
server.on('stream', (stream, headers) => {
  const pool = pools[next++ % pools.length];
  if (!pool) return;
  stream.on('error', () => undefined);
  const chunks: Buffer[] = [];
  pool.dispatch(
    {
      method: headers[':method'] ?? 'GET',
      path: headers[':path'] ?? '/',
      headers: ['host', headers[':authority'] ?? 'localhost'],
      body: null,
      contentLength: undefined,
      idempotent: true,
    },
    {
      onConnect: () => undefined,
      onHeaders(status, raw) {
        const fields: OutgoingHttpHeaders = { ':status': status };
        for (let i = 0; i < raw.length; i += 2) {
          const name = (raw[i] ?? '').toLowerCase();
          if (!CONNECTION_SPECIFIC.has(name)) fields[name] = raw[i + 1] ?? '';
        }
        fields['set-cookie'] = 'SRVID=b1; path=/; HttpOnly';
        stream.respond(fields);
      },
      onData(chunk) {
        chunks.push(chunk);
        return true;
      },
      onBodyProgress: () => undefined,
      onFlush: () => undefined,
      onComplete: () => stream.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
      onError: () => stream.close(constants.NGHTTP2_INTERNAL_ERROR),
    },
  );
});
server.listen(Number(arg('port')), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
