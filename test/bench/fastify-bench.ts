/**
 * The stack Tether was first designed on, as the benchmark's third proxy: Fastify with
 * `@fastify/http-proxy` (reply-from on its default undici client) and the same cookie logic
 * as the Tether case — new clients round robin over the three backends and get an HMAC-signed
 * cookie naming theirs (HttpOnly, `Cache-Control: private` when it is set, as `nocache`);
 * a valid cookie pins the request and is removed before it goes upstream; anything else is
 * balanced again.
 *
 *   node .build/bench/fastify-bench.js [--port 18196] [--backends 18181,18182,18183]
 */
import { createHmac } from 'node:crypto';
import fastifyHttpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import type { FastifyRequest } from 'fastify';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const COOKIE = 'SRVID';
const KEY = Buffer.from('tether-benchmark-key-0123456789ab');
const port = Number(arg('port', '18196'));
const upstreams = arg('backends', '18181,18182,18183')
  .split(',')
  .map((p) => `http://127.0.0.1:${p}`);
/** The signed cookie value of each upstream, and back (verifying is one map lookup, as Tether memoises). */
const valueOf = upstreams.map((u) =>
  createHmac('sha256', KEY).update(u).digest('base64url').slice(0, 22),
);
const upstreamOf = new Map(valueOf.map((v, i) => [v, i]));

interface Sticky {
  upstream: number;
  issue: boolean;
}
const sticky = new WeakMap<FastifyRequest, Sticky>();
let next = 0;

function cookieValue(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function withoutCookie(header: string): string | undefined {
  const rest = header
    .split(';')
    .filter((p) => p.split('=')[0]?.trim() !== COOKIE)
    .join(';')
    .trim();
  return rest === '' ? undefined : rest;
}

const app = Fastify({ logger: false });
app.addHook('onRequest', (request, _reply, done) => {
  const pinned = upstreamOf.get(cookieValue(request.headers.cookie) ?? '');
  if (pinned !== undefined) sticky.set(request, { upstream: pinned, issue: false });
  else {
    sticky.set(request, { upstream: next, issue: true });
    next = (next + 1) % upstreams.length;
  }
  done();
});
void app.register(fastifyHttpProxy, {
  // No fixed upstream: reply-from would send every request to that origin whatever getUpstream says.
  upstream: '',
  replyOptions: {
    getUpstream: (request) => upstreams[sticky.get(request as FastifyRequest)?.upstream ?? 0] ?? '',
    rewriteRequestHeaders: (_request, headers) => {
      const cookie = typeof headers.cookie === 'string' ? withoutCookie(headers.cookie) : undefined;
      const { cookie: _dropped, ...rest } = headers;
      return cookie === undefined ? rest : { ...rest, cookie };
    },
    rewriteHeaders: (headers, request) => {
      const s = request ? sticky.get(request as FastifyRequest) : undefined;
      if (!s?.issue) return headers;
      return {
        ...headers,
        'set-cookie': [`${COOKIE}=${valueOf[s.upstream]}; Path=/; HttpOnly`],
        'cache-control': 'private',
      };
    },
  },
});
app.listen({ host: '127.0.0.1', port }).then(
  (address) => process.stdout.write(`listening on ${address}\n`),
  (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  },
);
for (const signal of ['SIGTERM', 'SIGINT'] as const)
  process.once(signal, () => void app.close().then(() => process.exit(0)));
