import type { Conversion } from './conversion';
import {
  ingressEntries,
  namespaceOf,
  readHTTPRoute,
  readIngress,
  type KubeObject,
} from '@tether/dialects';

/** The API server accepts at most three alternate backends on a Route. */
const MAX_ALTERNATES = 3;
/** Route weights run from 0 to 256. */
const MAX_ROUTE_WEIGHT = 256;

function metadataFor(object: KubeObject, name: string): KubeObject['metadata'] {
  const metadata: KubeObject['metadata'] = { name, namespace: namespaceOf(object) };
  if (object.metadata.labels) metadata.labels = { ...object.metadata.labels };
  return metadata;
}

function routeObject(object: KubeObject, name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'route.openshift.io/v1',
    kind: 'Route',
    metadata: metadataFor(object, name),
    spec,
  };
}

/**
 * One Route per Ingress rule path: a Route has one host and one path. Hosts the Ingress lists
 * under `tls` become edge routes that redirect plain HTTP, as Ingress controllers redirect by
 * default; the certificate itself has to be moved by hand.
 */
export function ingressToRoutes(object: KubeObject): Conversion | undefined {
  const { spec } = readIngress(object);
  if (!spec) return undefined;
  const out: Conversion = { objects: [], ruleMap: new Map(), notes: [] };
  const items = ingressEntries(object, spec).filter((e) => e.entry.rule !== 'defaultBackend');
  items.forEach((item, k) => {
    const name = items.length === 1 ? object.metadata.name : `${object.metadata.name}-${k}`;
    const { entry, backend } = item;
    const routeSpec: Record<string, unknown> = {};
    if (entry.host !== undefined) routeSpec.host = entry.host;
    routeSpec.path = entry.path ?? '/';
    routeSpec.to = { kind: 'Service', name: backend.service };
    routeSpec.port = { targetPort: backend.port };
    if (entry.listeners.some((l) => l.protocol === 'HTTPS'))
      routeSpec.tls = { termination: 'edge', insecureEdgeTerminationPolicy: 'Redirect' };
    if (entry.pathType === 'Exact')
      out.notes.push(
        `${entry.rule}: Route paths are prefixes, so the Exact path ${entry.path ?? '/'} now also matches the paths below it`,
      );
    if (typeof backend.port === 'number')
      out.notes.push(
        `${name}: a Route's targetPort names the endpoint port; Service port ${backend.port} was written, use the Service port's name if the two differ`,
      );
    out.ruleMap.set(`${name}#route`, entry.rule);
    out.objects.push(routeObject(object, name, routeSpec));
  });
  if (spec.defaultBackend?.service)
    out.notes.push(
      'the Ingress default backend has no Route equivalent here; add a Route without a host by hand',
    );
  if ((spec.tls ?? []).length > 0)
    out.notes.push(
      'the Routes terminate TLS at the router (edge): put the certificate of the Ingress TLS Secret in spec.tls, or let the router serve its default certificate',
    );
  return out;
}

/** HTTPRoute weights (default 1, up to 1,000,000) scaled into the Route range 0–256. */
function routeWeights(weights: readonly number[]): { weights: number[]; scaled: boolean } {
  const max = Math.max(...weights);
  if (max <= MAX_ROUTE_WEIGHT) return { weights: [...weights], scaled: false };
  return {
    weights: weights.map((w) =>
      w === 0 ? 0 : Math.max(1, Math.round((w * MAX_ROUTE_WEIGHT) / max)),
    ),
    scaled: true,
  };
}

/**
 * One Route per HTTPRoute rule and hostname: a Route has one host, one path prefix, one
 * Service and up to three weighted alternates. TLS lives on the Gateway listener and is not
 * carried.
 */
export function httpRouteToRoutes(object: KubeObject): Conversion | undefined {
  const { spec } = readHTTPRoute(object);
  if (!spec) return undefined;
  const out: Conversion = { objects: [], ruleMap: new Map(), notes: [] };
  const hosts: (string | undefined)[] =
    (spec.hostnames ?? []).length > 0 ? [...(spec.hostnames ?? [])] : [undefined];
  const rules = (spec.rules ?? [])
    .map((rule, i) => ({
      rule,
      id: `rules[${i}]`,
      refs: (rule.backendRefs ?? []).filter(
        (r) => (r.kind ?? 'Service') === 'Service' && (r.group ?? '') === '',
      ),
    }))
    .filter((r) => r.refs.length > 0);
  const total = rules.length * hosts.length;
  let k = 0;
  for (const { rule, id, refs } of rules) {
    const match = rule.matches?.[0]?.path;
    if (match?.type === 'RegularExpression' || match?.type === 'Exact')
      out.notes.push(
        `${id}: Route paths are prefixes; the ${match.type} match ${match.value ?? '/'} was written as a prefix`,
      );
    if ((rule.matches ?? []).length > 1)
      out.notes.push(`${id}: only the first of ${(rule.matches ?? []).length} matches was written`);
    const kept = refs.slice(0, MAX_ALTERNATES + 1);
    if (refs.length > kept.length)
      out.notes.push(
        `${id}: a Route takes at most ${MAX_ALTERNATES} alternate backends; ${refs.length - kept.length} were left out`,
      );
    const { weights, scaled } = routeWeights(kept.map((r) => r.weight ?? 1));
    if (scaled) out.notes.push(`${id}: weights were scaled into the Route range 0–256`);
    const backends = kept.map((r, i) => {
      const backend: Record<string, unknown> = { kind: 'Service', name: r.name };
      // Absent weights are equal in both APIs; write them only where the rule gave some.
      if (kept.some((x) => x.weight !== undefined)) backend.weight = weights[i];
      return backend;
    });
    const ports = [...new Set(kept.map((r) => r.port))];
    if (ports.length > 1)
      out.notes.push(`${id}: a Route has one targetPort; port ${String(ports[0])} was written`);
    for (const host of hosts) {
      const name = total === 1 ? object.metadata.name : `${object.metadata.name}-${k}`;
      k += 1;
      const routeSpec: Record<string, unknown> = {};
      if (host !== undefined) routeSpec.host = host;
      routeSpec.path = match?.value ?? '/';
      routeSpec.to = backends[0];
      if (backends.length > 1) routeSpec.alternateBackends = backends.slice(1);
      if (ports[0] !== undefined) routeSpec.port = { targetPort: ports[0] };
      out.ruleMap.set(`${name}#route`, id);
      out.objects.push(routeObject(object, name, routeSpec));
    }
  }
  out.notes.push(
    'an HTTPRoute leaves TLS to its Gateway listener: if that listener serves HTTPS, add spec.tls (edge or reencrypt) to the Routes',
  );
  return out;
}
