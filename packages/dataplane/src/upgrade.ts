/**
 * Protocol upgrades (WebSocket): the handshake follows the same routing and stickiness as any
 * request, then bytes flow both ways untouched. The upstream handshake response gets the
 * session cookie when the decision issues one, so a socket.io or SignalR client that opens
 * its socket first is pinned from then on.
 *
 * Bytes the client sent after its handshake request are held until the upstream answers
 * `101`: an upstream that does not switch must not read them as a second request that no
 * route exposes. Its answer is relayed, checked as any response is, and the connection
 * closed after it.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { UpstreamTls } from './upstream/tls';
import type { Duplex } from 'node:stream';
import { redecide, staysPinnedOnFailure, type AffinityContext, type Decision } from './affinity';
import { setCookieValue } from './cookies';
import { isHopByHop, type IncomingFacts } from './headers';
import { parseResponseHead, ResponseParser } from './response-parser';
import type { EndpointRuntime, SetRuntime } from './runtime';
import type { SessionToken } from './token';

const MAX_HANDSHAKE_BYTES = 64 * 1024;

export interface UpgradeHost {
  readonly affinity: AffinityContext;
  now(): number;
  downMs: number;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  encodeToken(set: SetRuntime, token: SessionToken): string;
  session(set: SetRuntime, event: Decision['event']): void;
  track(socket: Duplex): void;
  internalError(where: string, err: unknown): void;
  /** The TLS the set speaks to its endpoints; undefined for plain HTTP. */
  upstreamTls(set: SetRuntime): UpstreamTls | undefined;
}

export function rawResponse(socket: Duplex, status: number, reason: string): void {
  if (socket.destroyed) return;
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function requestHead(method: string, facts: IncomingFacts, headers: string[]): string {
  let head = `${method} ${facts.url} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}

function extraHeaders(
  host: UpgradeHost,
  set: SetRuntime,
  facts: IncomingFacts,
  d: Decision,
): string {
  if (!d.issue) return '';
  const value = host.encodeToken(set, d.issue);
  const policy = set.policy;
  if (policy.mode === 'header' && policy.header) return `${policy.header.name}: ${value}\r\n`;
  if (!set.cookie) return '';
  const nowMs = host.now();
  const remaining =
    d.issue.expiresAt === 0 ? undefined : Math.max(0, d.issue.expiresAt - Math.floor(nowMs / 1000));
  return `Set-Cookie: ${setCookieValue(set.cookie, value, nowMs, { secure: facts.secure, userAgent: facts.userAgent }, remaining)}\r\n`;
}

/** Proxies one upgrade request to the decided endpoint, retrying once on a refused connection. */
export function proxyUpgrade(
  host: UpgradeHost,
  set: SetRuntime,
  facts: IncomingFacts,
  method: string,
  client: Duplex,
  head: Buffer,
  decision: Decision,
  endpoint: EndpointRuntime,
  attempt = 1,
): void {
  host.track(client);
  const tls = host.upstreamTls(set)?.options;
  const upstream: Socket = tls
    ? tlsConnect({ ...tls, host: endpoint.address, port: endpoint.port })
    : connect({ host: endpoint.address, port: endpoint.port });
  upstream.setNoDelay(true);
  let connected = false;
  /** Runs a callback; an exception ends this exchange, not the process. */
  const guard =
    <A extends unknown[]>(where: string, fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args);
      } catch (err) {
        host.internalError(where, err);
        upstream.destroy();
        client.destroy();
      }
    };
  const connectTimer = setTimeout(
    () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
    host.connectTimeoutMs,
  );
  const onClientGone = (): void => {
    upstream.destroy();
  };
  client.once('close', onClientGone);
  client.on('error', () => upstream.destroy());

  upstream.once(
    tls ? 'secureConnect' : 'connect',
    guard('upgrade connect', () => {
      connected = true;
      clearTimeout(connectTimer);
      const headers = facts.upstreamHeaders(set.cookie?.name, true);
      upstream.write(requestHead(method, facts, headers));
      readHandshake();
    }),
  );

  upstream.on(
    'error',
    guard('upgrade error', (err: NodeJS.ErrnoException) => {
      clearTimeout(connectTimer);
      if (connected) {
        client.destroy();
        return;
      }
      endpoint.stats.downUntil = host.now() + host.downMs;
      client.off('close', onClientGone);
      const next =
        attempt === 1 && err.code !== 'ETIMEDOUT'
          ? redecide(set, facts, host.affinity, decision, endpoint)
          : undefined;
      if (next?.endpoint && !client.destroyed) {
        if (next.event) host.session(set, next.event);
        proxyUpgrade(host, set, facts, method, client, head, next, next.endpoint, attempt + 1);
        return;
      }
      if (decision.pinned && staysPinnedOnFailure(set.policy)) host.session(set, 'failed');
      rawResponse(client, 502, 'Bad Gateway');
    }),
  );

  /** Relays a response that did not switch protocols, then closes both sides. */
  function relayRefusal(
    bytes: Buffer,
    status: number,
    statusText: string,
    headers: string[],
  ): void {
    let out = `HTTP/1.1 ${status} ${statusText}\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] ?? '';
      // The body is relayed decoded and delimited by the close, so framing headers but the length go.
      if (!isHopByHop(name.toLowerCase())) out += `${name}: ${headers[i + 1]}\r\n`;
    }
    client.write(`${out}${extraHeaders(host, set, facts, decision)}Connection: close\r\n\r\n`);
    const parser = new ResponseParser({
      onHead: () => undefined,
      onBody: (chunk) => client.write(chunk),
      onEnd: () => {
        upstream.destroy();
        client.end();
      },
      onInvalid: () => {
        upstream.destroy();
        client.destroy();
      },
    });
    parser.start(method);
    parser.execute(bytes);
    if (!parser.active) return;
    upstream.on(
      'data',
      guard('upgrade refusal', (chunk: Buffer) => parser.execute(chunk)),
    );
    upstream.once('end', () => {
      if (!parser.finishAtEof()) client.destroy();
    });
  }

  /** The upstream answered the handshake: from here its close is handled by what relays it. */
  let settled = false;

  function readHandshake(): void {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => {
      upstream.destroy();
      rawResponse(client, 504, 'Gateway Timeout');
    }, host.handshakeTimeoutMs);
    const fail = (): void => {
      clearTimeout(timer);
      upstream.off('data', onData);
      upstream.destroy();
      rawResponse(client, 502, 'Bad Gateway');
    };
    const onData = guard('upgrade handshake', (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) {
          if (buffered.length > MAX_HANDSHAKE_BYTES) fail();
          return;
        }
        const headText = buffered.toString('latin1', 0, end);
        const parsed = parseResponseHead(headText);
        if (typeof parsed === 'string') return fail();
        if (parsed.status >= 200 || parsed.status === 101) {
          settled = true;
          clearTimeout(timer);
          upstream.off('data', onData);
          if (parsed.status === 101) return switched(headText, buffered.subarray(end + 4));
          return relayRefusal(buffered, parsed.status, parsed.statusText, parsed.headers);
        }
        // An interim response (100 Continue, 103 Early Hints): the final one follows.
        buffered = buffered.subarray(end + 4);
      }
    });
    upstream.on('data', onData);
    upstream.once('close', (hadError: boolean) => {
      clearTimeout(timer);
      if (!settled || hadError) client.destroy();
    });
  }

  function switched(headText: string, rest: Buffer): void {
    client.write(`${headText}\r\n${extraHeaders(host, set, facts, decision)}\r\n`);
    if (rest.length > 0) client.write(rest);
    // Only now may what the client sent after its handshake reach the upstream.
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  }
}
