import { Diagnostic, EntryFragment, PRECEDENCE, info, warning } from '@tether/model';
import { FieldCollector } from '../helpers';
import {
  EntryBackend,
  conditionalMatch,
  grpcRouteEntries,
  httpRouteEntries,
  namespaceOf,
  readGRPCRoute,
  readHTTPRoute,
  readTLSRoute,
  sourceOf,
  tlsRouteEntries,
} from '../kube';
import { attachedListeners } from './features/attachment';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import { generatedSessionName } from './names';
import {
  PolicyRead,
  isSessionPolicy,
  policiesFor,
  readPolicy,
  sameObject,
} from './features/policies';
import { Session, readSession } from './features/session-persistence';
import {
  backendTlsFields,
  backendTlsFor,
  isBackendTlsPolicy,
  readBackendTlsPolicy,
} from './features/backend-tls';

interface RuleRef {
  route: KubeObject;
  index: number;
  /** `rules[0]`, as the entry names it. */
  id: string;
  name?: string;
}

/**
 * One fragment for one backend of a rule. The session's values keep the object they were
 * written in (the route, or the policy); a generated name belongs to the route rule, because
 * sessions must never be shared between rules even when a policy configures them.
 */
function fragmentOf(
  rule: RuleRef,
  item: EntryBackend,
  owner: KubeObject,
  session: Session,
  precedence: number,
  diagnostics: Diagnostic[],
): EntryFragment {
  const c = new FieldCollector('gateway-api', owner, diagnostics);
  for (const s of session.settings) {
    if (s.isDefault) c.setDefault(s.field, s.value, s.key);
    else c.set(s.field, s.value, s.key);
  }
  const values = { ...c.values };
  if (session.generateName) {
    const named = new FieldCollector('gateway-api', rule.route, diagnostics);
    const name = generatedSessionName(
      session.mode,
      namespaceOf(rule.route),
      rule.route.metadata.name,
      rule.name ?? rule.id,
    );
    const key = owner === rule.route ? session.nameKey : `spec.${rule.id}`;
    named.setDefault(session.mode === 'cookie' ? 'cookie.name' : 'header.name', name, key);
    Object.assign(values, named.values);
  }
  return {
    type: 'entry',
    dialect: 'gateway-api',
    entry: item.entry,
    backend: item.backend,
    precedence,
    values,
  };
}

/** The rule's own sessionPersistence replaces any backend policy for its backends. */
function ruleSession(
  rule: RuleRef,
  raw: unknown,
  items: readonly EntryBackend[],
  context: ParseContext,
  out: ParseResult,
): void {
  const base = `spec.${rule.id}.sessionPersistence`;
  const source = (field: string) => sourceOf('gateway-api', rule.route, field);
  const { session, diagnostics } = readSession(raw, base, source);
  out.diagnostics.push(...diagnostics);
  if (!session) return;
  const replaced = new Set<PolicyRead>();
  for (const item of items) {
    out.fragments.push(
      fragmentOf(rule, item, rule.route, session, PRECEDENCE.entry, out.diagnostics),
    );
    const policy = policiesFor(context, item.backend.namespace, item.backend.service)[0];
    if (!policy || replaced.has(policy)) continue;
    replaced.add(policy);
    out.diagnostics.push(
      warning(
        'ValueOverridden',
        `${base} replaces the sessionPersistence of ${policy.object.kind} ${namespaceOf(policy.object)}/${policy.object.metadata.name} for Service ${item.backend.service}: route-rule settings take precedence`,
        source(base),
        sourceOf('gateway-api', policy.object, 'spec.sessionPersistence'),
      ),
    );
  }
}

/** A rule without its own sessionPersistence takes each backend's policy, if any. */
function policySessions(
  rule: RuleRef,
  items: readonly EntryBackend[],
  context: ParseContext,
  out: ParseResult,
): void {
  const covered: string[] = [];
  const uncovered: string[] = [];
  for (const item of items) {
    const policy = policiesFor(context, item.backend.namespace, item.backend.service)[0];
    if (!policy?.session) {
      uncovered.push(item.backend.service);
      continue;
    }
    covered.push(item.backend.service);
    out.fragments.push(
      fragmentOf(
        rule,
        item,
        policy.object,
        policy.session,
        PRECEDENCE.backendPolicy,
        out.diagnostics,
      ),
    );
  }
  if (covered.length > 0 && uncovered.length > 0) {
    // GEP-1619 leaves this to the implementation; Tether pins only where a policy asks for it.
    out.diagnostics.push(
      info(
        'IncompatibleSettings',
        `spec.${rule.id} splits traffic between Services with session persistence (${[...new Set(covered)].join(', ')}) and without (${[...new Set(uncovered)].join(', ')}); only the former pin clients, so sessions may gather there`,
        sourceOf('gateway-api', rule.route, `spec.${rule.id}`),
      ),
    );
  }
}

/** An HTTPRoute or a GRPCRoute: sessions per rule, TLS to the backends, gRPC for GRPCRoute. */
function parseRoute(object: KubeObject, context: ParseContext): ParseResult {
  const out: ParseResult = { fragments: [], diagnostics: [] };
  // A route whose spec is malformed is already reported by the structure reader.
  const grpc = object.kind === 'GRPCRoute';
  const { spec } = grpc ? readGRPCRoute(object) : readHTTPRoute(object);
  if (!spec) return out;
  const entries = attachedListeners(
    object,
    grpc
      ? grpcRouteEntries(object, spec)
      : httpRouteEntries(object, spec as Parameters<typeof httpRouteEntries>[1]),
    context,
    out,
  );
  (spec.rules ?? []).forEach((r, index) => {
    unservedMatches(object, index, r.matches ?? [], out);
    const rule: RuleRef = { route: object, index, id: `rules[${index}]` };
    if (r.name !== undefined && r.name !== '') rule.name = r.name;
    const items = entries.filter((e) => e.entry.rule === rule.id);
    if (r.sessionPersistence !== undefined && r.sessionPersistence !== null)
      ruleSession(rule, r.sessionPersistence, items, context, out);
    else policySessions(rule, items, context, out);
  });
  for (const item of entries) {
    const tls = backendTls(item, context, out);
    if (grpc) grpcBackend(object, item, tls, out);
  }
  return out;
}

/** A TLSRoute: only where its parents take it. */
function parseTlsRoute(object: KubeObject, context: ParseContext): ParseResult {
  const out: ParseResult = { fragments: [], diagnostics: [] };
  const { spec } = readTLSRoute(object);
  if (spec) attachedListeners(object, tlsRouteEntries(object, spec), context, out);
  return out;
}

/** Matches on more than the path are not served: each is reported, naming what it tests. */
function unservedMatches(
  route: KubeObject,
  index: number,
  matches: readonly unknown[],
  out: ParseResult,
): void {
  const grpc = route.kind === 'GRPCRoute';
  matches.forEach((m, j) => {
    const tested = grpc ? { headers: (m as { headers?: unknown } | null)?.headers } : m;
    if (!conditionalMatch(tested)) return;
    const field = `spec.rules[${index}].matches[${j}]`;
    out.diagnostics.push(
      warning(
        'NotReproduced',
        `${field} tests ${grpc ? 'headers' : 'headers, query parameters or the method'}, which Tether does not: this match is not served, and its requests go to the route's other matches and rules`,
        sourceOf('gateway-api', route, field),
      ),
    );
  });
}

/**
 * A GRPCRoute's backends speak gRPC: HTTP/2 in clear text, or over TLS where a
 * BackendTLSPolicy asks for it (its TLS fields then apply).
 */
function grpcBackend(route: KubeObject, item: EntryBackend, tls: boolean, out: ParseResult): void {
  const c = new FieldCollector('gateway-api', route, out.diagnostics);
  c.set('route.backendProtocol', tls ? 'GRPCS' : 'GRPC', 'kind');
  out.fragments.push({
    type: 'entry',
    dialect: 'gateway-api',
    entry: item.entry,
    backend: item.backend,
    precedence: PRECEDENCE.entry,
    values: c.values,
  });
}

/** TLS to a backend's endpoints, where a BackendTLSPolicy on its Service port asks for it. */
function backendTls(item: EntryBackend, context: ParseContext, out: ParseResult): boolean {
  const policy = backendTlsFor(context, item.backend);
  if (!policy) return false;
  const c = new FieldCollector('gateway-api', policy.object, out.diagnostics);
  backendTlsFields(c, policy);
  out.fragments.push({
    type: 'entry',
    dialect: 'gateway-api',
    entry: item.entry,
    backend: item.backend,
    precedence: PRECEDENCE.backendPolicy,
    values: c.values,
  });
  return true;
}

/**
 * A policy's own checks, and a note when an older policy already configures one of its
 * Services. Its settings reach the routes through the route rules that use those Services.
 */
function parsePolicy(object: KubeObject, context: ParseContext): ParseResult {
  const read = readPolicy(object);
  const diagnostics = [...read.diagnostics];
  if (read.session) {
    for (const target of read.targets) {
      const winner = policiesFor(context, target.namespace, target.service)[0];
      if (!winner || sameObject(winner.object, object)) continue;
      diagnostics.push(
        warning(
          'ValueOverridden',
          `${target.key}: Service ${target.service} also has the sessionPersistence of the older ${winner.object.kind} ${namespaceOf(winner.object)}/${winner.object.metadata.name}, which applies instead (oldest policy wins)`,
          sourceOf('gateway-api', object, 'spec.sessionPersistence'),
          sourceOf('gateway-api', winner.object, 'spec.sessionPersistence'),
        ),
      );
    }
  }
  return { fragments: [], diagnostics };
}

/** An HTTPRoute or a backend policy into fragments and diagnostics; never throws. */
export function parseGateway(object: KubeObject, context: ParseContext): ParseResult {
  if (isSessionPolicy(object)) return parsePolicy(object, context);
  if (isBackendTlsPolicy(object))
    return { fragments: [], diagnostics: readBackendTlsPolicy(object).diagnostics };
  if (object.kind === 'HTTPRoute' || object.kind === 'GRPCRoute')
    return parseRoute(object, context);
  if (object.kind === 'TLSRoute') return parseTlsRoute(object, context);
  return { fragments: [], diagnostics: [] };
}
