import { type PolicyField } from '@tether/model';
import { applyToObject } from '../edits';
import { annotationsOf, namespaceOf, readRoute, type RouteSpec } from '../kube';
import type { EmitInput, EmitOutput, KubeObject } from '../types';
import { BALANCE } from './annotations';
import { flatOf, losses, type Notes, type Why } from '../emit-losses';
import { ALGORITHMS, defaultAlgorithm, planBalance } from './features/balancing';
import { defaultCookieName, planCookie } from './features/cookie';
import type { RouteFacts } from './router';
import { readBackRoute } from './read-back';

/** OpenShift settings are annotations of a Route; the router reads them nowhere else. */
export const targetKinds = ['Route'] as const;

function factsOf(object: KubeObject, spec: RouteSpec): RouteFacts {
  const termination = spec.tls?.termination;
  const passthrough = termination === 'passthrough';
  const tls = termination === 'edge' || termination === 'reencrypt';
  const allow = spec.tls?.insecureEdgeTerminationPolicy === 'Allow';
  const served = passthrough
    ? 'the route is passthrough'
    : !tls
      ? 'the route is plain HTTP'
      : allow
        ? `the route is ${termination} with insecureEdgeTerminationPolicy: Allow`
        : `the route is ${termination}`;
  return {
    passthrough,
    secure: tls && !allow,
    served,
    defaultName: defaultCookieName(namespaceOf(object), object.metadata.name),
    defaultAlgorithm: defaultAlgorithm(spec, passthrough),
  };
}

const COOKIE_GROUPS = ['cookie.', 'appCookie.', 'header.', 'sourceIp.'];

/** Why the router cannot say a field as the source did, when the plan left no note. */
function whyFor(facts: RouteFacts): Why {
  return (field: PolicyField, before: unknown, after: unknown, modeKept: boolean): string => {
    if (!modeKept && field !== 'mode' && COOKIE_GROUPS.some((g) => field.startsWith(g))) {
      if (before === undefined)
        return 'a setting of the router’s own cookie, which replaces the source’s persistence (see mode)';
      if (after === undefined && field.startsWith('cookie.'))
        return 'the route carries no cookie (see mode)';
    }
    switch (field) {
      case 'appCookie.name':
        return 'the router cannot follow a cookie the application sets (see mode)';
      case 'header.name':
        return 'the router has no header persistence (see mode)';
      case 'sourceIp.timeoutSeconds':
        return 'balance: source has no timeout; a client keeps its endpoint while the endpoints stay the same';
      case 'cookie.path':
        return 'the router always sets Path=/';
      case 'cookie.domain':
        return 'the router sets no Domain';
      case 'cookie.maxAgeSeconds':
      case 'cookie.expiresSeconds':
      case 'cookie.lifetime':
        return 'the router’s cookie is always a session cookie, without Max-Age or Expires';
      case 'cookie.httpOnly':
        return 'the router always sets HttpOnly';
      case 'cookie.secure':
        return `Secure follows the route's TLS: the router sets it on edge and reencrypt routes that do not allow plain HTTP, and never otherwise; ${facts.served}`;
      case 'cookie.sameSite':
        return facts.secure
          ? 'the router sends SameSite with every Secure cookie, None unless cookie-same-site says Lax or Strict'
          : `the router sends SameSite only together with Secure, and ${facts.served}`;
      case 'cookie.omitSameSiteNoneForOldClients':
        return 'the router sends the same SameSite to every client';
      case 'cookie.nocache':
        return 'the router always marks responses that set its cookie Cache-Control: private (nocache)';
      case 'rebalance':
        return 'the router has no balanced mode: a cookie keeps its endpoint until that endpoint is gone';
      case 'onFailure':
        return before === 'fail' || before === 'retryPinned'
          ? 'the router cannot keep a client on a failing endpoint: option redispatch sends a client whose endpoint is down to another one and issues a new cookie'
          : 'the router moves a pinned client only when its endpoint is down (option redispatch); it does not retry failed requests elsewhere';
      case 'absoluteTimeoutSeconds':
      case 'idleTimeoutSeconds':
        return 'the router keeps no session timer; its cookie lasts as long as the browser session';
      case 'canaryBehavior':
        return 'a Route splits traffic by alternateBackends weights and has no canary stickiness setting';
      case 'loadBalancing.algorithm':
      case 'loadBalancing.hashKey':
        return 'the router’s balance takes roundrobin, leastconn, source or random';
      default:
        if (field.startsWith('route.'))
          return `${field} is routing, not a router annotation; set it on the Route's spec by hand`;
        return `the OpenShift router has no setting for ${field}`;
    }
  };
}

/**
 * Writes the first backend's policy as OpenShift router annotations on a Route (one setting
 * per Route), leaving out values equal to the router's defaults unless `explicit`, and
 * reports every field the router will not apply as the source said. Never throws.
 */
export function emit({ object, entries, explicit }: EmitInput): EmitOutput {
  const out: EmitOutput = { annotations: {}, spec: [], diagnostics: [], covers: [] };
  const { spec } = readRoute(object);
  const withPolicy = entries.filter((e) => e.policy !== null);
  const [first] = withPolicy;
  if (object.kind !== 'Route' || !spec || !first) return out;
  const facts = factsOf(object, spec);
  const flat = flatOf(first);
  const notes: Notes = {};
  // A default is left out unless asked for, or unless the Route already says something else.
  const present = annotationsOf(object);
  const write = (key: string, value: string, isDefault: boolean): void => {
    if (explicit || !isDefault || present[key] !== undefined) out.annotations[key] = value;
  };
  planCookie(flat, facts, write, notes);
  const balance = planBalance(flat, notes);
  if (balance !== undefined)
    write(BALANCE, balance, ALGORITHMS[balance] === facts.defaultAlgorithm);
  const written = applyToObject(object, {
    removeAnnotations: [],
    setAnnotations: out.annotations,
    spec: [],
  });
  const found = losses({
    entries: withPolicy,
    readBack: readBackRoute(written),
    notes,
    why: whyFor(facts),
    scope: 'a Route',
    // A reencrypt Route's TLS to its pods comes from its spec.tls, which is not written here.
    fromSpec: (field) => field === 'route.backendProtocol' || field.startsWith('route.backendTls.'),
  });
  out.diagnostics = found.diagnostics;
  out.covers = found.covers;
  return out;
}
