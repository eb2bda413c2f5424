/**
 * Protocol upgrades (WebSocket): the handshake follows the same routing and stickiness as any
 * request, then bytes flow both ways untouched. The upstream handshake response gets the
 * session cookie when the decision issues one, so a socket.io or SignalR client that opens
 * its socket first is pinned from then on.
 */
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { redecide, type AffinityContext, type Decision } from './affinity';
import { setCookieValue } from './cookies';
import type { IncomingFacts } from './headers';
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
  const upstream: Socket = connect({ host: endpoint.address, port: endpoint.port });
  upstream.setNoDelay(true);
  let connected = false;
  const connectTimer = setTimeout(
    () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
    host.connectTimeoutMs,
  );
  const onClientGone = (): void => {
    upstream.destroy();
  };
  client.once('close', onClientGone);
  client.on('error', () => upstream.destroy());

  upstream.once('connect', () => {
    connected = true;
    clearTimeout(connectTimer);
    const headers = facts.upstreamHeaders(set.cookie?.name, true);
    upstream.write(requestHead(method, facts, headers));
    if (head.length > 0) upstream.write(head);
    readHandshake();
  });

  upstream.on('error', (err: NodeJS.ErrnoException) => {
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
    if (decision.pinned && set.policy.onFailure === 'fail') host.session(set, 'failed');
    rawResponse(client, 502, 'Bad Gateway');
  });

  function readHandshake(): void {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => {
      upstream.destroy();
      rawResponse(client, 504, 'Gateway Timeout');
    }, host.handshakeTimeoutMs);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_HANDSHAKE_BYTES) {
          clearTimeout(timer);
          upstream.destroy();
          rawResponse(client, 502, 'Bad Gateway');
        }
        return;
      }
      clearTimeout(timer);
      upstream.off('data', onData);
      const headText = buffered.subarray(0, end + 2).toString('latin1');
      const rest = buffered.subarray(end + 4);
      client.write(`${headText}${extraHeaders(host, set, facts, decision)}\r\n`);
      if (rest.length > 0) client.write(rest);
      if (/^HTTP\/1\.[01] 101 /.test(headText)) {
        upstream.pipe(client);
        client.pipe(upstream);
      } else {
        // Not switched: relay the rest of this response and close.
        upstream.pipe(client);
      }
    };
    upstream.on('data', onData);
    upstream.once('close', () => {
      clearTimeout(timer);
      client.destroy();
    });
  }
}
