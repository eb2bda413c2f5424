/**
 * Session persistence: which endpoint a request goes to, and which session token the
 * response carries. Pure decisions over the compiled set, the request facts and the clock;
 * the proxy does the I/O.
 *
 * Rules (see dialects.md for the vendors' behaviour):
 * - A valid, unexpired token whose endpoint still serves (ready or draining) pins the request.
 *   `endpoint` tokens name the endpoint; `key` tokens are placed by rendezvous hashing on the
 *   serving endpoints of their side, so scaling moves about 1/N of them without a new cookie.
 * - A token whose endpoint is gone, not serving, or marked down: `fail` answers 502 while
 *   the client presents it; `rebalance` and `retryElsewhere` pick a new endpoint and issue a
 *   new token.
 * - A malformed, tampered or foreign token is ignored (normal balancing and a new token), as
 *   OCI does with invalid cookies. An expired token starts a new session.
 * - New sessions go to endpoints that take new sessions (ready, weight > 0), never to draining
 *   ones; canary rules pick the side first.
 * - `appCookie` issues no token on the way in: the proxy issues the companion cookie when the
 *   backend's response sets the application cookie (see `proxy/proxy.ts`).
 */
import {
  adoptionInForce,
  type AdoptableFormat,
  type CookieAdoption,
  type PersistencePolicy,
} from '@tether/model';
import { adoptCookie } from './adopt/adopt';
import { pickEndpoint } from './balancer';
import { readCookie } from './cookies';
import { hashString, rendezvousScore } from './hash';
import type { RequestFacts } from './hashkey';
import { endpointById, type EndpointRuntime, type SetRuntime, type Side } from './runtime';
import type { SessionToken, TokenCodec } from './token';

/** The default `sourceIp` window: Kubernetes' default for `ClientIP` affinity (3 h). */
export const DEFAULT_SOURCE_IP_TIMEOUT_S = 10800;
const SOURCE_IP_TABLE_LIMIT = 100000;

export type SessionEvent = 'created' | 'rebalanced' | 'failed' | 'adopted';

export interface Decision {
  /** Where to send the request; undefined when `status` answers it. */
  endpoint: EndpointRuntime | undefined;
  /** 502 (pinned endpoint unavailable under `fail`) or 503 (no endpoint can take it). */
  status: number;
  /** A token to send with the response: new session, re-pin, or idle refresh. */
  issue: SessionToken | undefined;
  /** The request followed an existing session. */
  pinned: boolean;
  /** The request is on the canary side. */
  canary: boolean;
  event: SessionEvent | undefined;
  /** The side may hand out tokens (not the canary side under `legacy` behaviour). */
  sticky: boolean;
  /** A previous load balancer's cookie was read: whether it named one of the set's endpoints. */
  adoption: { format: AdoptableFormat; adopted: boolean } | undefined;
}

interface SourceIpEntry {
  id: string;
  seenMs: number;
}

/** Remembered client addresses for `sourceIp` persistence, per backend set, oldest first. */
export class SourceIpSessions {
  readonly #sets = new Map<string, Map<string, SourceIpEntry>>();

  get(setId: string, ip: string): SourceIpEntry | undefined {
    return this.#sets.get(setId)?.get(ip);
  }

  touch(setId: string, ip: string, id: string, nowMs: number): void {
    let m = this.#sets.get(setId);
    if (!m) {
      m = new Map();
      this.#sets.set(setId, m);
    }
    m.delete(ip);
    m.set(ip, { id, seenMs: nowMs });
    if (m.size > SOURCE_IP_TABLE_LIMIT) {
      const oldest = m.keys().next();
      if (!oldest.done) m.delete(oldest.value);
    }
  }

  forget(setId: string, ip: string): void {
    this.#sets.get(setId)?.delete(ip);
  }

  /** Drops the sets that no longer exist. */
  retain(setIds: { has(id: string): boolean }): void {
    for (const id of this.#sets.keys()) if (!setIds.has(id)) this.#sets.delete(id);
  }
}

export interface AffinityContext {
  codec: TokenCodec;
  sourceIp: SourceIpSessions;
  nowMs: number;
  /** Adoption for cookie-mode sets whose policy names none (the `serve` flag). */
  adoptCookies?: CookieAdoption;
  /**
   * Place new source-IP sessions by a hash of the client address rather than by the set's
   * balancing: proxy workers each keep their own session table, and a client's connections
   * reach any of them, so each must make the same first choice.
   */
  hashNewSourceIpSessions?: boolean;
}

/** The cookie or header value that carries the session, if the request has one. */
export function presentedToken(set: SetRuntime, facts: RequestFacts): string | undefined {
  const mode = set.policy.mode;
  if ((mode === 'cookie' || mode === 'appCookie') && set.cookie && facts.cookieHeader) {
    return readCookie(facts.cookieHeader, set.cookie.name);
  }
  if (mode === 'header' && set.policy.header)
    return facts.header(set.policy.header.name.toLowerCase());
  return undefined;
}

/** Unix seconds after which a token issued at `nowS` is void; 0 for none. */
export function tokenExpiry(policy: PersistencePolicy, nowS: number): number {
  let limit = Infinity;
  const c = policy.cookie;
  if (
    c &&
    c.lifetime === 'permanent' &&
    (policy.mode === 'cookie' || policy.mode === 'appCookie')
  ) {
    if (c.maxAgeSeconds !== undefined) limit = Math.min(limit, c.maxAgeSeconds);
    if (c.expiresSeconds !== undefined) limit = Math.min(limit, c.expiresSeconds);
  }
  if (policy.absoluteTimeoutSeconds !== undefined)
    limit = Math.min(limit, policy.absoluteTimeoutSeconds);
  if (limit === Infinity) return 0;
  return nowS + Math.max(0, limit);
}

function expired(token: SessionToken, policy: PersistencePolicy, nowS: number): boolean {
  if (token.expiresAt !== 0 && nowS >= token.expiresAt) return true;
  const abs = policy.absoluteTimeoutSeconds;
  if (abs !== undefined && nowS - token.issuedAt >= abs) return true;
  const idle = policy.idleTimeoutSeconds;
  return idle !== undefined && nowS - token.seenAt >= idle;
}

/** A compiled set keeps only serving endpoints (ready or draining): any may keep its sessions. */
function available(ep: EndpointRuntime, nowMs: number): boolean {
  return ep.stats.downUntil <= nowMs;
}

/** The ring winner for a session key among the serving endpoints of a side. */
function placeKey(side: Side, keyHash: number): EndpointRuntime | undefined {
  let best: EndpointRuntime | undefined;
  let bestScore = -Infinity;
  for (const ep of side.ring) {
    const s = rendezvousScore(keyHash, { seed: ep.seed, weight: ep.ringWeight });
    if (s > bestScore) {
      bestScore = s;
      best = ep;
    }
  }
  return best;
}

function sideOf(set: SetRuntime, canary: boolean): Side {
  return canary && set.canary ? set.canary : set.primary;
}

function resolveToken(set: SetRuntime, token: SessionToken): EndpointRuntime | undefined {
  if (token.kind === 'endpoint') return endpointById(set, token.id);
  return placeKey(sideOf(set, token.canary), hashString(token.id));
}

/** ingress-nginx canary precedence: header, then cookie, then weight. */
function chooseCanary(set: SetRuntime, facts: RequestFacts): boolean {
  const rules = set.canaryRules;
  if (!rules || !set.canary) return false;
  if (rules.header) {
    const v = facts.header(rules.header.toLowerCase());
    if (v !== undefined) {
      if (rules.headerValue !== undefined) {
        if (v === rules.headerValue) return true;
      } else if (v === 'always') return true;
      else if (v === 'never') return false;
    }
  }
  if (rules.cookie && facts.cookieHeader) {
    const v = readCookie(facts.cookieHeader, rules.cookie);
    if (v === 'always') return true;
    if (v === 'never') return false;
  }
  const weight = rules.weight ?? 0;
  if (weight <= 0) return false;
  return Math.random() * (rules.weightTotal ?? 100) < weight;
}

/** The key hashed by `hash` and `sourceIpHash` (and to place source-IP sessions). */
function requestKey(set: SetRuntime, facts: RequestFacts): number {
  if (set.hashKey) return hashString(set.hashKey(facts));
  return hashString(facts.clientIp);
}

/** A new token pinning `ep`. Balanced mode searches a session key that lands on it. */
export function newToken(set: SetRuntime, ep: EndpointRuntime, ctx: AffinityContext): SessionToken {
  const nowS = Math.floor(ctx.nowMs / 1000);
  const canary = ep.backend.canary;
  const expiresAt = tokenExpiry(set.policy, nowS);
  if (set.policy.rebalance === 'balanced') {
    const side = sideOf(set, canary);
    const tries = Math.min(256, side.ring.length * 8);
    for (let i = 0; i < tries; i++) {
      const id = ctx.codec.randomId();
      if (placeKey(side, hashString(id)) === ep)
        return { kind: 'key', id, canary, issuedAt: nowS, seenAt: nowS, expiresAt };
    }
  }
  // Persistent mode, or a ring too large to search: name the endpoint itself.
  return { kind: 'endpoint', id: ep.id, canary, issuedAt: nowS, seenAt: nowS, expiresAt };
}

function needsRefresh(token: SessionToken, policy: PersistencePolicy, nowS: number): boolean {
  const idle = policy.idleTimeoutSeconds;
  return idle !== undefined && (nowS - token.seenAt) * 4 >= idle;
}

function fresh(
  set: SetRuntime,
  facts: RequestFacts,
  ctx: AffinityContext,
  canary: boolean,
  exclude: EndpointRuntime | undefined,
): EndpointRuntime | undefined {
  return pickEndpoint(sideOf(set, canary), {
    algorithm: set.balancing.algorithm,
    key: requestKey(set, facts),
    nowMs: ctx.nowMs,
    exclude,
  });
}

function decideSourceIp(
  set: SetRuntime,
  facts: RequestFacts,
  ctx: AffinityContext,
  d: Decision,
): Decision {
  const policy = set.policy;
  if (policy.rebalance === 'balanced') {
    // Stateless: the address is hashed on the endpoints that take new sessions.
    d.endpoint = pickEndpoint(set.primary, {
      algorithm: 'sourceIpHash',
      key: hashString(facts.clientIp),
      nowMs: ctx.nowMs,
      exclude: undefined,
    });
    d.status = d.endpoint ? 0 : 503;
    return d;
  }
  const timeoutMs = (policy.sourceIp?.timeoutSeconds ?? DEFAULT_SOURCE_IP_TIMEOUT_S) * 1000;
  const entry = ctx.sourceIp.get(set.id, facts.clientIp);
  if (entry && ctx.nowMs - entry.seenMs < timeoutMs) {
    const ep = endpointById(set, entry.id);
    if (ep && available(ep, ctx.nowMs)) {
      ctx.sourceIp.touch(set.id, facts.clientIp, ep.id, ctx.nowMs);
      d.endpoint = ep;
      d.pinned = true;
      return d;
    }
    if (policy.onFailure === 'fail') {
      d.status = 502;
      d.event = 'failed';
      return d;
    }
    d.event = 'rebalanced';
  }
  const ep = ctx.hashNewSourceIpSessions
    ? pickEndpoint(set.primary, {
        algorithm: 'sourceIpHash',
        key: hashString(facts.clientIp),
        nowMs: ctx.nowMs,
        exclude: undefined,
      })
    : fresh(set, facts, ctx, false, undefined);
  if (!ep) {
    d.status = 503;
    return d;
  }
  d.event ??= 'created';
  ctx.sourceIp.touch(set.id, facts.clientIp, ep.id, ctx.nowMs);
  d.endpoint = ep;
  return d;
}

/**
 * A request without a valid token of ours but with a previous load balancer's cookie: to the
 * endpoint that cookie names, with a token of ours for it. A cookie that names none of the
 * set's serving endpoints is a pinned endpoint that is gone (the failure rule applies); one
 * that no format can read changes nothing.
 */
function adopt(
  set: SetRuntime,
  cookieHeader: string,
  ctx: AffinityContext,
  d: Decision,
): Decision | undefined {
  const adoption = set.policy.adoptCookies ?? ctx.adoptCookies;
  if (!adoption || !adoptionInForce(adoption, ctx.nowMs)) return undefined;
  const outcome = adoptCookie(set, adoption, cookieHeader);
  if (!outcome) return undefined;
  const ep = outcome.endpoint;
  const serving = ep !== undefined && available(ep, ctx.nowMs);
  d.adoption = { format: outcome.format, adopted: serving };
  if (serving) {
    d.endpoint = ep;
    d.pinned = true;
    d.canary = ep.backend.canary;
    d.issue = newToken(set, ep, ctx);
    d.event = 'adopted';
    return d;
  }
  if (set.policy.onFailure === 'fail') {
    d.status = 502;
    d.event = 'failed';
    return d;
  }
  d.event = 'rebalanced';
  return undefined;
}

/** Decides where a request goes. Never throws for any request content. */
export function decide(set: SetRuntime, facts: RequestFacts, ctx: AffinityContext): Decision {
  const d: Decision = {
    endpoint: undefined,
    status: 0,
    issue: undefined,
    pinned: false,
    canary: false,
    event: undefined,
    sticky: true,
    adoption: undefined,
  };
  const policy = set.policy;
  if (policy.mode === 'sourceIp') return decideSourceIp(set, facts, ctx, d);

  const legacy = policy.canaryBehavior === 'legacy' && set.canary !== undefined;
  // Legacy canary: the side is decided per request and the canary side keeps no sessions.
  const legacySide = legacy ? chooseCanary(set, facts) : false;
  if (legacySide) d.sticky = false;
  const tokenMode =
    policy.mode === 'cookie' || policy.mode === 'header' || policy.mode === 'appCookie';

  if (tokenMode && d.sticky) {
    const raw = presentedToken(set, facts);
    const nowS = Math.floor(ctx.nowMs / 1000);
    const token = raw ? ctx.codec.decode(set.id, raw) : null;
    if (token && !expired(token, policy, nowS)) {
      const target = resolveToken(set, token);
      const onSide = !legacy || (target !== undefined && !target.backend.canary);
      // retryPinned keeps trying a listed endpoint however it answered lately (ingress-nginx
      // has no passive health check on its sticky peer).
      if (
        target &&
        onSide &&
        (policy.onFailure === 'retryPinned' || available(target, ctx.nowMs))
      ) {
        d.endpoint = target;
        d.pinned = true;
        d.canary = target.backend.canary;
        if (needsRefresh(token, policy, nowS)) d.issue = { ...token, seenAt: nowS };
        return d;
      }
      if (onSide || target === undefined) {
        if (policy.onFailure === 'fail') {
          d.status = 502;
          d.event = 'failed';
          return d;
        }
        d.event = 'rebalanced';
        // Stay on the side the session started on.
        if (!legacy) d.canary = token.canary || target?.backend.canary === true;
      }
    } else if (!token && policy.mode === 'cookie' && facts.cookieHeader) {
      const adopted = adopt(set, facts.cookieHeader, ctx, d);
      if (adopted) return adopted;
    }
  }

  if (d.event !== 'rebalanced') d.canary = legacy ? legacySide : chooseCanary(set, facts);
  let ep = fresh(set, facts, ctx, d.canary, undefined);
  if (!ep && d.event === 'rebalanced' && d.canary) {
    d.canary = false;
    ep = fresh(set, facts, ctx, false, undefined);
  }
  if (!ep) {
    d.status = 503;
    return d;
  }
  d.endpoint = ep;
  if (
    d.sticky &&
    (policy.mode === 'cookie' || policy.mode === 'header' || d.event === 'rebalanced')
  ) {
    d.issue = newToken(set, ep, ctx);
    d.event ??= 'created';
  }
  return d;
}

/**
 * Whether a pinned session stays on its endpoint when that endpoint fails (`fail`, and
 * `retryPinned` while the endpoint is listed): the request answers 502, nothing moves.
 */
export function staysPinnedOnFailure(policy: PersistencePolicy): boolean {
  return policy.onFailure === 'fail' || policy.onFailure === 'retryPinned';
}

/**
 * After `failed` refused the connection: another endpoint for the same request, or undefined
 * when the policy forbids moving (a pinned session under `fail`) or nothing else can take it.
 */
export function redecide(
  set: SetRuntime,
  facts: RequestFacts,
  ctx: AffinityContext,
  d: Decision,
  failed: EndpointRuntime,
): Decision | undefined {
  if (d.pinned && staysPinnedOnFailure(set.policy)) return undefined;
  const ep =
    fresh(set, facts, ctx, d.canary, failed) ??
    (d.canary ? fresh(set, facts, ctx, false, failed) : undefined);
  if (!ep) return undefined;
  const next: Decision = {
    ...d,
    endpoint: ep,
    status: 0,
    pinned: false,
    canary: ep.backend.canary,
  };
  if (set.policy.mode === 'sourceIp') {
    if (set.policy.rebalance !== 'balanced')
      ctx.sourceIp.touch(set.id, facts.clientIp, ep.id, ctx.nowMs);
    next.event = d.pinned ? 'rebalanced' : d.event;
    return next;
  }
  const hadSession = d.pinned || d.issue !== undefined;
  if (d.sticky && hadSession) {
    next.issue = newToken(set, ep, ctx);
    next.event = d.pinned ? 'rebalanced' : (d.event ?? 'created');
  }
  return next;
}
