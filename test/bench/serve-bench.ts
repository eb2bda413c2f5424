/**
 * The proxy as the benchmark runs it: one process, a fixed table with three backends on
 * 127.0.0.1:18081-18083 behind cookie persistence configured like HAProxy's
 * `cookie … insert indirect nocache httponly` (persistent sessions, HttpOnly, nocache),
 * round robin for new sessions, listening on 127.0.0.1:18094.
 *
 *   node .build/bench/serve-bench.js [--port 18094] [--admin 18195] [--backends 18081,18082,18083]
 *     [--https-port 18294 --cert FILE --key FILE]
 *
 * With `--https-port` it serves the same routes over TLS too, with HTTP/2 offered by ALPN.
 * (built by `npx tsc -b test/bench`; `npm run bench` builds and runs it.)
 */
import { readFileSync } from 'node:fs';
import {
  createLogger,
  createProxy,
  createRouteTable,
  stopOnSignals,
  type HostRoutes,
} from '@tether/dataplane';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const port = Number(arg('port', '18094'));
const backends = arg('backends', '18081,18082,18083').split(',').map(Number);

const httpsPort = arg('https-port', '');

const hosts: HostRoutes[] = [
  {
    host: '*',
    paths: [
      {
        path: '/',
        pathType: 'Prefix',
        backendSet: {
          id: 'bench/be',
          policy: {
            mode: 'cookie',
            cookie: {
              name: 'SRVID',
              path: '/',
              httpOnly: true,
              secure: 'never',
              omitSameSiteNoneForOldClients: false,
              lifetime: 'session',
              nocache: true,
            },
            rebalance: 'persistent',
            onFailure: 'rebalance',
          },
          loadBalancing: { algorithm: 'roundRobin' },
          route: {},
          backends: [
            {
              ref: { namespace: 'bench', service: 'be', port: 80 },
              endpoints: backends.map((p) => ({
                address: '127.0.0.1',
                port: p,
                ready: true,
              })),
            },
          ],
        },
      },
    ],
  },
];

const table = createRouteTable({
  version: 'bench',
  listeners: [
    { protocol: 'HTTP', hosts },
    ...(httpsPort ? [{ protocol: 'HTTPS' as const, hosts }] : []),
  ],
});

const proxy = createProxy({
  cookieKey: Buffer.from('tether-benchmark-key-0123456789ab'),
  http: { host: '127.0.0.1', port },
  ...(httpsPort
    ? {
        https: {
          host: '127.0.0.1',
          port: Number(httpsPort),
          cert: readFileSync(arg('cert', 'cert.pem')),
          key: readFileSync(arg('key', 'key.pem')),
        },
      }
    : {}),
  // The admin listener runs as in production, so that its memory is counted.
  admin: { host: '127.0.0.1', port: Number(arg('admin', '18195')) },
  table,
  logger: createLogger(process.env['TETHER_LOG_LEVEL'] ?? 'warn'),
});
stopOnSignals(proxy);
proxy.start().then(
  (a) => process.stdout.write(`listening on ${a.http?.address}:${a.http?.port}\n`),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
