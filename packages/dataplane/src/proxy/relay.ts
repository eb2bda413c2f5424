/**
 * A client's TCP connection relayed to an endpoint of a set, both ways, with half-close and
 * backpressure: the layer-4 path of Service ports and of TLS passthrough routes. The endpoint
 * is chosen from the client's address (stream-choice.ts); one that refuses or does not answer
 * in time is marked down and the next one tried, and a client no endpoint takes is refused
 * at once.
 */
import { connect, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { EndpointRuntime, SetRuntime } from '../runtime';
import { chooseStreamEndpoint, type StreamChoiceContext } from '../stream-choice';
import type { ProxyLimits } from './options';

/** How many endpoints a new TCP connection tries before the client is reset. */
const TCP_ATTEMPTS = 3;

export interface RelayHost {
  readonly limits: ProxyLimits;
  choice(): StreamChoiceContext;
  internalError(where: string, err: unknown): void;
}

/** The other socket of a spliced pair. */
const PEER = Symbol('peer');
type Spliced = Socket & { [PEER]: Socket };

// Shared handlers, with the socket as `this`: thousands of idle connections hold no closures.
function forward(this: Spliced, chunk: Buffer): void {
  if (!this[PEER].write(chunk)) this.pause();
}
function resumePeer(this: Spliced): void {
  this[PEER].resume();
}
function endPeer(this: Spliced): void {
  this[PEER].end();
}
function destroyPeer(this: Spliced): void {
  this[PEER].destroy();
}

/**
 * Splices two sockets: what each sends goes to the other, a side waits while its peer cannot
 * take more, a half-close is passed on, and the close of one closes the other.
 */
function splice(a: Socket, b: Socket): void {
  (a as Spliced)[PEER] = b;
  (b as Spliced)[PEER] = a;
  for (const s of [a, b]) {
    s.on('data', forward);
    s.on('drain', resumePeer);
    s.on('end', endPeer);
  }
}

/** An error ends a socket by itself (it is destroyed); the listener only keeps it from throwing. */
export function ignore(): void {}

/** Tells a client at once that nothing serves it: a reset, or a close where TLS wraps the socket. */
export function refuse(client: Socket): void {
  if (client instanceof TLSSocket) client.destroy();
  else client.resetAndDestroy();
}

/**
 * Connects the client to an endpoint of `set` and splices the two, trying another endpoint when
 * one refuses or times out. `head` is what the client sent before (a ClientHello read for its
 * server name): the endpoint gets it first.
 */
export function relay(
  host: RelayHost,
  set: SetRuntime,
  ip: string,
  client: Socket,
  head?: Buffer,
  attempt = 1,
  exclude?: EndpointRuntime,
): void {
  if (client.destroyed) return;
  const choice = host.choice();
  const ep = chooseStreamEndpoint(set, ip, choice, exclude);
  if (!ep) {
    refuse(client);
    return;
  }
  const upstream = connect({ host: ep.address, port: ep.port, allowHalfOpen: true });
  // Only clients are tracked: a closed client takes its upstream with it.
  (client as Spliced)[PEER] = upstream;
  client.once('close', destroyPeer);
  const timer = setTimeout(
    () => upstream.destroy(new Error('connect timeout')),
    host.limits.upstreamConnectTimeoutMs,
  );
  const failed = (): void => {
    clearTimeout(timer);
    client.off('close', destroyPeer);
    upstream.destroy();
    ep.stats.downUntil = choice.nowMs + host.limits.endpointDownMs;
    if (attempt < TCP_ATTEMPTS) relay(host, set, ip, client, head, attempt + 1, ep);
    else refuse(client);
  };
  upstream.once('error', failed);
  upstream.once('connect', () => {
    try {
      clearTimeout(timer);
      upstream.off('error', failed);
      upstream.on('error', ignore);
      upstream.setNoDelay(true);
      client.setNoDelay(true);
      ep.stats.active++;
      upstream.once('close', () => {
        ep.stats.active--;
        client.destroy();
      });
      if (head && head.length > 0) upstream.write(head);
      splice(client, upstream);
      client.resume();
    } catch (err) {
      host.internalError('tcp splice', err);
      upstream.destroy();
      client.destroy();
    }
  });
}
