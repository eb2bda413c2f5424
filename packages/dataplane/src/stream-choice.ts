/**
 * Which endpoint a new layer-4 connection or UDP flow goes to: only the client's address is
 * known. Source-IP persistence keeps a client on the endpoint it had while it comes back
 * within the timeout (counted from its last connection or datagram); a client the memory
 * does not hold, or whose endpoint is gone or down, is placed by rendezvous hashing of its
 * address over the endpoints that take new clients. That first choice is a function of the
 * address and the endpoint set alone, so replicas of the proxy agree on it without sharing
 * state, and a change of endpoints moves only the clients of the endpoint that changed.
 * Without persistence, the set's balancing algorithm picks.
 */
import { DEFAULT_SOURCE_IP_TIMEOUT_S, type SourceIpSessions } from './affinity';
import { pickEndpoint } from './balancer';
import { hashString } from './hash';
import { endpointById, type EndpointRuntime, type SetRuntime } from './runtime';

export interface StreamChoiceContext {
  sourceIp: SourceIpSessions;
  nowMs: number;
}

export function chooseStreamEndpoint(
  set: SetRuntime,
  clientIp: string,
  ctx: StreamChoiceContext,
  exclude: EndpointRuntime | undefined,
): EndpointRuntime | undefined {
  const key = hashString(clientIp);
  if (set.policy.mode !== 'sourceIp')
    return pickEndpoint(set.primary, {
      algorithm: set.balancing.algorithm,
      key,
      nowMs: ctx.nowMs,
      exclude,
    });
  const timeoutMs = (set.policy.sourceIp?.timeoutSeconds ?? DEFAULT_SOURCE_IP_TIMEOUT_S) * 1000;
  const held = ctx.sourceIp.get(set.id, clientIp);
  if (held && ctx.nowMs - held.seenMs < timeoutMs) {
    const ep = endpointById(set, held.id);
    if (ep && ep !== exclude && ep.stats.downUntil <= ctx.nowMs) {
      ctx.sourceIp.touch(set.id, clientIp, ep.id, ctx.nowMs);
      return ep;
    }
    if (set.policy.onFailure === 'fail') return undefined;
  }
  const ep = pickEndpoint(set.primary, {
    algorithm: 'sourceIpHash',
    key,
    nowMs: ctx.nowMs,
    exclude,
  });
  if (ep) ctx.sourceIp.touch(set.id, clientIp, ep.id, ctx.nowMs);
  else ctx.sourceIp.forget(set.id, clientIp);
  return ep;
}
