/**
 * Cookie adoption: a request that carries another load balancer's session cookie goes to the
 * endpoint that cookie names, so clients keep their pods when a site moves to Tether.
 *
 * A previous cookie is trusted only as far as this: its value is looked up among values
 * computed from the set's own serving endpoints. Whatever it says, it can only ever lead to
 * one of them, and a value that names none of them is a miss.
 */
import type { AdoptableFormat, CookieAdoption } from '@tether/model';
import { readCookie } from '../cookies';
import type { BackendRuntime, EndpointRuntime, SetRuntime } from '../runtime';
import { envoyAddress, envoyCookieAddress } from './envoy';
import {
  backendKey,
  ChashRing,
  isPersistentKey,
  nodeName,
  persistentKey,
  splitValue,
  upstreamName,
} from './ingress-nginx';
import { routerCookieValue, routerEndpointId } from './openshift';
import { traefikCookieValues, traefikServerUrls } from './traefik';

export interface AdoptionOutcome {
  format: AdoptableFormat;
  /** The endpoint the cookie names; undefined when it names none of the set's endpoints. */
  endpoint: EndpointRuntime | undefined;
}

/** What one set's endpoints look like in every format, built on the first adoption. */
interface SetLookup {
  byValue: Map<AdoptableFormat, Map<string, EndpointRuntime>>;
  nginxBackends: { key: string; backend: BackendRuntime; ring: ChashRing | undefined }[];
}

/** Lookups live as long as their compiled set: a new table compiles new sets. */
const lookups = new WeakMap<SetRuntime, SetLookup>();

function lookupOf(set: SetRuntime): SetLookup {
  let lookup = lookups.get(set);
  if (!lookup) {
    lookup = { byValue: new Map(), nginxBackends: [] };
    lookups.set(set, lookup);
  }
  return lookup;
}

function backendsOf(set: SetRuntime): readonly BackendRuntime[] {
  return set.canary ? [...set.primary.backends, ...set.canary.backends] : set.primary.backends;
}

/** Every value each endpoint of the set has in `format` (values that name two: the first). */
function valuesOf(set: SetRuntime, format: AdoptableFormat): Map<string, EndpointRuntime> {
  const lookup = lookupOf(set);
  const known = lookup.byValue.get(format);
  if (known) return known;
  const map = new Map<string, EndpointRuntime>();
  const add = (value: string, ep: EndpointRuntime): void => {
    if (!map.has(value)) map.set(value, ep);
  };
  for (const backend of backendsOf(set)) {
    const ref = backend.def.ref;
    const upstream = upstreamName(ref);
    // The table's endpoints by address, for the Pod and port name the router's IDs hold.
    const listed =
      format === 'openshift'
        ? new Map(backend.def.endpoints.map((e) => [`${e.address} ${e.port}`, e]))
        : undefined;
    for (const ep of backend.endpoints) {
      if (format === 'ingress-nginx') add(persistentKey(upstream, ep.address, ep.port), ep);
      else if (format === 'envoy-gateway') add(envoyAddress(ep.address, ep.port), ep);
      else if (format === 'traefik') {
        for (const url of traefikServerUrls(ep.address, ep.port))
          for (const v of traefikCookieValues(url)) add(v, ep);
      } else {
        const def = listed?.get(`${ep.address} ${ep.port}`);
        const id = routerEndpointId(
          ref.service,
          def?.portName ?? '',
          ep.address,
          ep.port,
          def?.pod,
        );
        add(routerCookieValue(id), ep);
      }
    }
  }
  lookup.byValue.set(format, map);
  return map;
}

/** ingress-nginx balanced mode: the key on the ring of the upstream that issued the cookie. */
function nginxBalanced(
  set: SetRuntime,
  key: string,
  issuer: string | undefined,
): EndpointRuntime | undefined {
  const lookup = lookupOf(set);
  if (lookup.nginxBackends.length === 0)
    for (const backend of backendsOf(set))
      lookup.nginxBackends.push({
        key: backendKey(upstreamName(backend.def.ref)),
        backend,
        ring: undefined,
      });
  const entry =
    lookup.nginxBackends.find((b) => b.key === issuer) ??
    (issuer === undefined ? lookup.nginxBackends.find((b) => !b.backend.canary) : undefined);
  if (!entry) return undefined;
  entry.ring ??= new ChashRing(entry.backend.endpoints.map((ep) => nodeName(ep.address, ep.port)));
  const node = entry.ring.find(key);
  return node === undefined ? undefined : entry.backend.endpoints[node];
}

const HEX_32 = /^[0-9a-f]{32}$/;
const BALANCED_KEY = /^\d+(?:\.\d+)?\.\d+\.\d+$/;
const TRAEFIK_VALUE = /^(?:[0-9a-f]{1,16}|https?:\/\/\S+)$/;
/** Longer values are not any format's: nothing is hashed or decoded for them. */
const MAX_VALUE = 512;

/**
 * The endpoint a previous cookie names; `endpoint` undefined when it parses but names none of
 * the set's endpoints; undefined when none of the formats' cookies is present and readable.
 */
function readOne(
  set: SetRuntime,
  format: AdoptableFormat,
  value: string,
): AdoptionOutcome | undefined {
  if (value.length > MAX_VALUE) return undefined;
  switch (format) {
    case 'ingress-nginx': {
      const parts = splitValue(value);
      if (!parts) return undefined;
      if (isPersistentKey(parts.key))
        return { format, endpoint: valuesOf(set, format).get(parts.key) };
      // Balanced mode writes `<time>.<worker pid>.<random>`; nothing else is its key.
      if (!BALANCED_KEY.test(parts.key)) return undefined;
      return { format, endpoint: nginxBalanced(set, parts.key, parts.backend) };
    }
    case 'openshift':
      if (!HEX_32.test(value)) return undefined;
      return { format, endpoint: valuesOf(set, format).get(value) };
    case 'envoy-gateway': {
      const address = envoyCookieAddress(value);
      if (address === undefined || !/^(?:\[[0-9a-fA-F:.]+\]|[0-9.]+):\d{1,5}$/.test(address))
        return undefined;
      return { format, endpoint: valuesOf(set, format).get(address) };
    }
    case 'traefik':
      if (!TRAEFIK_VALUE.test(value)) return undefined;
      return { format, endpoint: valuesOf(set, format).get(value) };
  }
}

/** The first previous cookie the request carries that one of the formats can read. */
export function adoptCookie(
  set: SetRuntime,
  adoption: CookieAdoption,
  cookieHeader: string,
): AdoptionOutcome | undefined {
  for (const source of adoption.sources) {
    const name = source.cookieName ?? set.cookie?.name;
    if (name === undefined) continue;
    const value = readCookie(cookieHeader, name);
    if (value === undefined) continue;
    const outcome = readOne(set, source.format, value);
    if (outcome) return outcome;
  }
  return undefined;
}
