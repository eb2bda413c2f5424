import {
  CookieSpec,
  FlatValues,
  LoadBalancing,
  PersistencePolicy,
  PolicyField,
  ResolvedEntry,
  RouteSettings,
  SourceRef,
  flattenPolicy,
} from '@tether/model';
import { analyze } from '../../../packages/dialects/src/index';
import type { EmitOutput, KubeObject } from '../../../packages/dialects/src/types';
import { PREFIX } from '../../../packages/dialects/src/ingress-nginx/annotations';
import { emit } from '../../../packages/dialects/src/ingress-nginx/emit';

/** A cookie policy as ingress-nginx's defaults make it; `cookie` and `rest` change parts. */
export function cookiePolicy(
  cookie: Partial<CookieSpec> = {},
  rest: Partial<PersistencePolicy> = {},
): PersistencePolicy {
  return {
    mode: 'cookie',
    cookie: {
      name: 'INGRESSCOOKIE',
      path: '/',
      httpOnly: true,
      secure: 'https',
      omitSameSiteNoneForOldClients: false,
      lifetime: 'session',
      nocache: false,
      ...cookie,
    },
    rebalance: 'balanced',
    onFailure: 'retryPinned',
    canaryBehavior: 'sticky',
    ...rest,
  };
}

export const NO_POLICY: PersistencePolicy = {
  mode: 'none',
  rebalance: 'persistent',
  onFailure: 'rebalance',
};

/** Where a value of another dialect came from, named after the policy field for the tests. */
export function sourceFor(field: string): SourceRef {
  return {
    dialect: 'oci-native-ingress',
    kind: 'Ingress',
    namespace: 'shop',
    name: 'web',
    field: `source/${field}`,
  };
}

export interface EntryParts {
  policy: PersistencePolicy;
  loadBalancing?: LoadBalancing;
  route?: RouteSettings;
  /** Fields given a source named by `sourceFor`. */
  sourced?: readonly PolicyField[];
}

/** The resolved entries of an Ingress, each carrying the given policy instead of its own. */
export function entriesFor(object: KubeObject, parts: EntryParts): ResolvedEntry[] {
  const sources: ResolvedEntry['sources'] = {};
  for (const field of parts.sourced ?? []) sources[field] = [sourceFor(field)];
  return analyze([object]).entries.map((e) => ({
    ...e,
    accepted: true,
    policy: parts.policy,
    loadBalancing: parts.loadBalancing ?? { algorithm: 'roundRobin' },
    route: parts.route ?? {},
    sources,
  }));
}

/** The emitted annotations with the prefix left out, for short expectations. */
export function shortAnnotations(out: EmitOutput): Record<string, string> {
  return Object.fromEntries(
    Object.entries(out.annotations).map(([k, v]) => [k.slice(PREFIX.length), v]),
  );
}

/** The object as the migration writes it: its annotations with the emitted ones set. */
export function withEmitted(object: KubeObject, out: EmitOutput): KubeObject {
  const copy = structuredClone(object);
  copy.metadata.annotations = { ...(copy.metadata.annotations ?? {}), ...out.annotations };
  return copy;
}

export function emitFor(object: KubeObject, parts: EntryParts, explicit = false): EmitOutput {
  return emit({ object, entries: entriesFor(object, parts), explicit });
}

/** Emits the policy onto the Ingress, reads the Ingress back and flattens each entry's policy. */
export function roundTrip(
  object: KubeObject,
  parts: EntryParts,
  explicit = false,
): { out: EmitOutput; after: FlatValues[]; accepted: boolean[] } {
  const out = emitFor(object, parts, explicit);
  const entries = analyze([withEmitted(object, out)]).entries;
  return {
    out,
    after: entries.map((e) => (e.policy ? flattenPolicy(e.policy, e.loadBalancing, e.route) : {})),
    accepted: entries.map((e) => e.accepted),
  };
}

export function flat(parts: EntryParts): FlatValues {
  return flattenPolicy(
    parts.policy,
    parts.loadBalancing ?? { algorithm: 'roundRobin' },
    parts.route ?? {},
  );
}
