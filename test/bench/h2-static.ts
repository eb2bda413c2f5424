/**
 * The ceiling of the HTTP/2 case: Node's own HTTP/2 server (the core stream API Tether uses)
 * answering every stream at once with a fixed answer the size of the origins' (100 bytes, a
 * Set-Cookie like the proxies'), proxying nothing. What a Node proxy can reach on one core is
 * below this figure, whatever it does per request.
 *
 *   node .build/bench/h2-static.js --port 18297 --cert FILE --key FILE
 */
import { readFileSync } from 'node:fs';
import { createSecureServer } from 'node:http2';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

const body = `b1-${'a'.repeat(96)}\n`;
const server = createSecureServer({
  cert: readFileSync(arg('cert')),
  key: readFileSync(arg('key')),
  settings: { maxConcurrentStreams: 100 },
});
server.on('stream', (stream) => {
  stream.respond({
    ':status': 200,
    'content-type': 'text/plain',
    'content-length': body.length,
    'x-backend': 'b1',
    'set-cookie': 'SRVID=b1; path=/; HttpOnly',
    'cache-control': 'private',
  });
  stream.end(body);
});
server.listen(Number(arg('port')), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
