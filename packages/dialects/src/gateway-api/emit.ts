import {
  dedupeDiagnostics,
  type FlatValues,
  type PolicyField,
  type ResolvedEntry,
} from '@tether/model';
import { isPlainObject } from '../helpers';
import { namespaceOf } from '../kube';
import { applyToObject } from '../edits';
import type { EmitInput, EmitOutput, KubeObject, SpecEdit } from '../types';
import { SESSION_NAME_MAX, TOKEN_NAME_MAX, TOKEN_PATTERN } from './annotations';
import { formatDuration } from './duration';
import { flatOf, joinLosses, losses, type Notes, type Why } from '../emit-losses';
import { generatedSessionName } from './names';
import { readBackRoute } from './read-back';

/** Gateway API session persistence is written on HTTPRoute rules. */
export const targetKinds = ['HTTPRoute'] as const;

const sessionPath = (index: number): SpecEdit['path'] => [
  'spec',
  'rules',
  index,
  'sessionPersistence',
];

/** One rule of the route, as far as the emitter needs it. */
interface RuleInfo {
  index: number;
  /** The rule's name, or `rules[i]`: what a generated session name is derived from. */
  identity: string;
  hasSession: boolean;
}

function rulesOf(object: KubeObject): unknown[] {
  return isPlainObject(object.spec) && Array.isArray(object.spec.rules) ? object.spec.rules : [];
}

function ruleInfo(object: KubeObject, id: string): RuleInfo | undefined {
  const match = /^rules\[(\d+)\]$/.exec(id);
  if (!match) return undefined;
  const index = Number(match[1]);
  const raw = rulesOf(object)[index];
  if (!isPlainObject(raw)) return undefined;
  const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : undefined;
  return {
    index,
    identity: name ?? id,
    hasSession: raw.sessionPersistence !== undefined && raw.sessionPersistence !== null,
  };
}

/**
 * A name the shape can hold: a token, at most 128 characters (v1 `sessionName`) or 256 (the
 * union's `cookie.name` and `header.name`).
 */
function isSessionName(name: string, union: boolean): boolean {
  const max = union ? TOKEN_NAME_MAX : SESSION_NAME_MAX;
  return name.length >= 1 && name.length <= max && TOKEN_PATTERN.test(name);
}

/** The lifetime part of a session: absoluteTimeout and whether the cookie is Permanent. */
interface Lifetime {
  absolute?: number;
  permanent: boolean;
}

/**
 * A Permanent cookie takes its Max-Age from absoluteTimeout, which the gateway also enforces,
 * so the cookie's lifetime becomes the session's absolute limit.
 */
function planLifetime(flat: FlatValues, header: boolean, notes: Notes): Lifetime {
  const absolute = flat.absoluteTimeoutSeconds;
  if (header || flat['cookie.lifetime'] !== 'permanent') return { absolute, permanent: false };
  const maxAge = flat['cookie.maxAgeSeconds'];
  const expires = flat['cookie.expiresSeconds'];
  if (maxAge !== undefined && maxAge <= 0)
    notes['cookie.maxAgeSeconds'] =
      'a Max-Age of zero or less removes the cookie at once, which no Duration can say';
  const life = [maxAge, expires, absolute].find((v) => v !== undefined && v > 0);
  if (life === undefined) {
    notes['cookie.lifetime'] =
      'a Permanent cookie needs absoluteTimeout for its Max-Age, and the source gives no positive lifetime; written as a Session cookie';
    return { absolute, permanent: false };
  }
  if (life === expires && life !== maxAge) {
    const note =
      'Gateway API sets Max-Age from absoluteTimeout and never Expires; the Expires lifetime is written as absoluteTimeout';
    notes['cookie.expiresSeconds'] = note;
    notes['cookie.maxAgeSeconds'] ??= note;
  } else if (expires !== undefined && expires !== life) {
    notes['cookie.expiresSeconds'] =
      'Gateway API sets Max-Age from absoluteTimeout and never Expires (browsers prefer Max-Age anyway)';
  }
  if (absolute !== life)
    notes.absoluteTimeoutSeconds =
      absolute === undefined
        ? 'a Permanent cookie takes its Max-Age from absoluteTimeout, which the gateway also enforces as the session’s limit'
        : 'a Permanent cookie takes its Max-Age from absoluteTimeout, so the cookie’s lifetime is written there';
  return { absolute: life, permanent: true };
}

interface SessionPlan {
  session?: Record<string, unknown>;
  notes: Notes;
}

interface RuleContext {
  namespace: string;
  route: string;
  rule: RuleInfo;
  explicit: boolean;
  /** Write the cookie/header union instead of the released shape. */
  union: boolean;
  /** The name given to another rule of the route for other Services, if any. */
  takenByOthers(mode: 'cookie' | 'header', name: string): boolean;
}

/** The session name: the source's if the v1 field can hold it and no other rule has it. */
function planName(flat: FlatValues, header: boolean, ctx: RuleContext, notes: Notes) {
  const mode = header ? 'header' : 'cookie';
  const field: PolicyField = header ? 'header.name' : 'cookie.name';
  const name = flat[field];
  const generated = generatedSessionName(mode, ctx.namespace, ctx.route, ctx.rule.identity);
  if (name !== undefined && !isSessionName(name, ctx.union)) {
    notes[field] =
      `${ctx.union ? `${mode}.name` : 'sessionName'} takes 1–${ctx.union ? TOKEN_NAME_MAX : SESSION_NAME_MAX} token characters (letters, digits, !#$%&'*+-.^_\`|~); a name unique to the route rule is used instead`;
    return ctx.explicit ? generated : undefined;
  }
  if (name !== undefined && ctx.takenByOthers(mode, name)) {
    notes[field] =
      'another rule of the route sends this name to other Services, and the released sessionPersistence has no cookie path to keep them apart; GEP-1619 forbids sessions that share a name, so this rule gets a name of its own';
    return ctx.explicit ? generated : undefined;
  }
  const written = name ?? generated;
  return ctx.explicit || written !== generated ? written : undefined;
}

/**
 * The v1.6 `sessionPersistence` of one rule, fields in the API's order, defaults left out
 * unless explicit. No session for `none` and `sourceIp`.
 */
function planSession(flat: FlatValues, ctx: RuleContext): SessionPlan {
  const notes: Notes = {};
  const mode = flat.mode ?? 'none';
  if (mode === 'none') return { notes };
  if (mode === 'sourceIp') {
    notes.mode =
      'Gateway API has no source-address persistence (GEP-1619 defines cookie and header sessions only), so the rule gets no session; add a cookie session by hand if the clients keep cookies';
    return { notes };
  }
  if (mode === 'appCookie')
    notes.mode =
      'Gateway API cannot follow a cookie the application sets (GEP-1619 leaves sessions started by the backend out of scope); a gateway cookie pins clients instead';
  const header = mode === 'header';
  const session: Record<string, unknown> = {};
  const name = planName(flat, header, ctx, notes);
  if (name !== undefined) session.sessionName = name;
  const lifetime = planLifetime(flat, header, notes);
  if (lifetime.absolute !== undefined) {
    const { text, capped } = formatDuration(lifetime.absolute);
    session.absoluteTimeout = text;
    if (capped)
      notes.absoluteTimeoutSeconds = notes['cookie.maxAgeSeconds'] =
        `longer than the longest Duration GEP-2257 can write; capped at ${text}`;
  }
  if (ctx.union)
    return { session: unionSession(flat, header, name, session, lifetime, ctx), notes };
  if (header) session.type = 'Header';
  else if (ctx.explicit) session.type = 'Cookie';
  if (!header && (lifetime.permanent || ctx.explicit))
    session.cookieConfig = { lifetimeType: lifetime.permanent ? 'Permanent' : 'Session' };
  return { session, notes };
}

/**
 * The same session in the union of the API's main branch: `type` always (it picks the
 * member), `absoluteTimeout`, and `cookie {name, path, lifetimeType}` or `header {name}` (the
 * header name is required, so a generated one is written when the source has none).
 */
function unionSession(
  flat: FlatValues,
  header: boolean,
  name: string | undefined,
  released: Record<string, unknown>,
  lifetime: Lifetime,
  ctx: RuleContext,
): Record<string, unknown> {
  const session: Record<string, unknown> = { type: header ? 'Header' : 'Cookie' };
  if (released.absoluteTimeout !== undefined) session.absoluteTimeout = released.absoluteTimeout;
  if (header) {
    session.header = {
      name: name ?? generatedSessionName('header', ctx.namespace, ctx.route, ctx.rule.identity),
    };
    return session;
  }
  const cookie: Record<string, unknown> = {};
  if (name !== undefined) cookie.name = name;
  const path = flat['cookie.path'];
  if (path !== undefined && (path !== '/' || ctx.explicit)) cookie.path = path;
  if (lifetime.permanent || ctx.explicit)
    cookie.lifetimeType = lifetime.permanent ? 'Permanent' : 'Session';
  session.cookie = cookie;
  return session;
}

const SESSION_GROUPS = ['cookie.', 'appCookie.', 'header.', 'sourceIp.'];

/** Why a Gateway API session cannot say a field as the source did, when the plan left no note. */
const why: Why = (field, before, after, modeKept) => {
  if (!modeKept && field !== 'mode' && SESSION_GROUPS.some((g) => field.startsWith(g))) {
    if (before === undefined)
      return 'a setting of the Gateway API session, which replaces the source’s persistence (see mode)';
    if (after === undefined) return 'the rule has no session of this kind (see mode)';
  }
  switch (field) {
    case 'mode':
      return 'Gateway API sessions are cookies or headers';
    case 'cookie.path':
      return 'the released sessionPersistence (v1.6) has no cookie path, so Tether reads its cookies with Path=/ (cookie.path exists only in the unreleased cookie/header shape)';
    case 'cookie.domain':
      return 'a Gateway API session cookie has no Domain setting';
    case 'cookie.httpOnly':
      return 'there is no HttpOnly setting; Tether follows GEP-1619’s recommendation and always sets it';
    case 'cookie.secure':
      return 'there is no Secure setting; Tether sets Secure on HTTPS responses only, since the route does not say whether its listener is HTTPS';
    case 'cookie.sameSite':
    case 'cookie.omitSameSiteNoneForOldClients':
      return 'there is no SameSite setting; Tether uses GEP-1619’s recommended SameSite=Strict';
    case 'cookie.nocache':
      return 'GEP-1619 says nothing about Cache-Control on responses that set the cookie';
    case 'cookie.maxAgeSeconds':
    case 'cookie.expiresSeconds':
    case 'cookie.lifetime':
      return 'a Gateway API cookie is either a Session cookie or Permanent with Max-Age from absoluteTimeout';
    case 'absoluteTimeoutSeconds':
      return 'absoluteTimeout is the one session lifetime of a rule';
    case 'idleTimeoutSeconds':
      return 'the released CRDs (v1.6) have no idleTimeout: it was removed because no implementation supported it, and the API server prunes it';
    case 'rebalance':
      return 'GEP-1619 keeps sessions when endpoints change and has no balanced mode';
    case 'onFailure':
      return before === 'fail' || before === 'retryPinned'
        ? 'Gateway API cannot keep a session on a failing backend; GEP-1619 asks the gateway to send a session whose backend failed to a serving one and pin it there'
        : 'Gateway API has no setting to retry failed requests of a pinned session elsewhere; the gateway re-pins when the backend fails';
    case 'canaryBehavior':
      return 'an HTTPRoute has no canary setting; a session beats the backendRefs weights';
    case 'loadBalancing.algorithm':
    case 'loadBalancing.hashKey':
      return 'an HTTPRoute has no balancing algorithm, only backendRefs weights';
    default:
      if (field === 'route.backendProtocol' && before === 'GRPCS')
        return `${field}: a GRPCRoute's backends get gRPC over TLS only with a BackendTLSPolicy, which Tether does not write yet`;
      if (field === 'route.backendProtocol' && before === 'GRPC')
        return `${field}: Gateway API routes gRPC with a GRPCRoute, written only where every path of a host names a gRPC service or method; this rule became an HTTPRoute`;
      if (field.startsWith('route.'))
        return field === 'route.backendProtocol' || field.startsWith('route.backendTls.')
          ? `${field}: Gateway API says TLS to the backends with a BackendTLSPolicy (or the Service port's appProtocol), which Tether does not write yet`
          : `${field} is routing, not session persistence; express it with HTTPRoute matches or filters by hand`;
      return `Gateway API session persistence has no setting for ${field}`;
  }
};

/** The entries of each rule, in rule order. */
function byRule(entries: readonly ResolvedEntry[]): Map<string, ResolvedEntry[]> {
  const groups = new Map<string, ResolvedEntry[]>();
  for (const e of entries) groups.set(e.entry.rule, [...(groups.get(e.entry.rule) ?? []), e]);
  return groups;
}

const servicesOf = (group: readonly ResolvedEntry[]): string =>
  [...new Set(group.map((e) => `${e.backend.namespace}/${e.backend.service}`))].sort().join(',');

/**
 * Writes each rule's policy (of its first backend: sessions are per rule) as the v1.6
 * `sessionPersistence` of an HTTPRoute, and reports every field the route will not say as the
 * source did. Never throws.
 */
export function emit({ object, entries, explicit, sessionShape }: EmitInput): EmitOutput {
  const out: EmitOutput = { annotations: {}, spec: [], diagnostics: [], covers: [] };
  if (object.kind !== 'HTTPRoute' && object.kind !== 'GRPCRoute') return out;
  const groups = byRule(entries.filter((e) => e.policy !== null));
  const names = new Map<string, string>();
  const planned: { group: ResolvedEntry[]; notes: Notes }[] = [];
  for (const [id, group] of groups) {
    const rule = ruleInfo(object, id);
    const [first] = group;
    if (!rule || !first) continue;
    const services = servicesOf(group);
    const ctx: RuleContext = {
      namespace: namespaceOf(object),
      route: object.metadata.name,
      rule,
      explicit,
      union: sessionShape === 'union',
      takenByOthers: (mode, name) => {
        const owner = names.get(`${mode} ${name}`);
        return owner !== undefined && owner !== services;
      },
    };
    const plan = planSession(flatOf(first), ctx);
    const s = plan.session as
      | {
          sessionName?: unknown;
          type?: unknown;
          cookie?: { name?: unknown };
          header?: { name?: unknown };
        }
      | undefined;
    const name = s?.sessionName ?? s?.cookie?.name ?? s?.header?.name;
    const mode = s?.type === 'Header' ? 'header' : 'cookie';
    const key = `${mode} ${typeof name === 'string' ? name : ''}`;
    if (typeof name === 'string' && !names.has(key)) names.set(key, services);
    if (plan.session) out.spec.push({ path: sessionPath(rule.index), value: plan.session });
    else if (rule.hasSession) out.spec.push({ path: sessionPath(rule.index), value: undefined });
    planned.push({ group, notes: plan.notes });
  }
  const readBack = readBackRoute(
    applyToObject(object, { removeAnnotations: [], setAnnotations: {}, spec: out.spec }),
  );
  const found = joinLosses(
    planned.map(({ group, notes }) =>
      losses({ entries: group, readBack, notes, why, scope: 'a route rule' }),
    ),
  );
  // Rules that carry one source setting report its loss once.
  out.diagnostics = dedupeDiagnostics(found.diagnostics);
  out.covers = found.covers;
  return out;
}

/** Every rule's sessionPersistence, for removal when the route's settings move elsewhere. */
export function ownedSpec(object: KubeObject): SpecEdit[] {
  if (object.kind !== 'HTTPRoute' && object.kind !== 'GRPCRoute') return [];
  return rulesOf(object).flatMap((rule, index) =>
    isPlainObject(rule) && rule.sessionPersistence !== undefined
      ? [{ path: sessionPath(index), value: undefined }]
      : [],
  );
}
