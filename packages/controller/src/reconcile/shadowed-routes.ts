/**
 * Routes on the proxy's own listeners (80 and 443) that no request reaches because a Gateway
 * listener's route takes all of them first. The listener matcher (dataplane
 * `listener-matcher.ts`) sends a request to the Gateway listener whose hostname fits its Host
 * best and tries that listener's routes before the routes of no Gateway (Ingresses, Routes):
 * so an Ingress path that lies wholly inside a Gateway route's path on the same host is never
 * served, whatever the two objects' ages. Such pairs are reported, not refused.
 */

/** What is compared of a place in the table (see route-layout.ts `Place`). */
export interface PlaceLike {
  protocol: string;
  port: number | undefined;
  host: string;
  path: string;
  kind: string;
  /** A Gateway listener's hostname (`*` for none); undefined for a route of no Gateway. */
  hostname: string | undefined;
}

/** A placed route on the proxy's own listeners, and the candidate that holds it. */
export interface SharedPlace<C> {
  candidate: C;
  place: PlaceLike;
}

/** Places on the proxy's own listeners are compared by protocol and host; undefined elsewhere. */
export function sharedKeyOf(place: PlaceLike): string | undefined {
  return place.port === undefined ? `${place.protocol} ${place.host}` : undefined;
}

/** Records a placed route under its key (nothing for a place on a port of its own). */
export function recordShared<C>(
  shared: Map<string, SharedPlace<C>[]>,
  candidate: C,
  place: PlaceLike,
): void {
  const key = sharedKeyOf(place);
  if (key === undefined) return;
  const list = shared.get(key);
  if (list) list.push({ candidate, place });
  else shared.set(key, [{ candidate, place }]);
}

/** Forgets the routes `candidate` (this very object) held at `places`. */
export function forgetShared<C>(
  shared: Map<string, SharedPlace<C>[]>,
  candidate: C,
  places: readonly PlaceLike[],
): void {
  for (const place of places) {
    const key = sharedKeyOf(place);
    const list = key === undefined ? undefined : shared.get(key);
    if (key === undefined || !list) continue;
    const rest = list.filter((o) => o.candidate !== candidate);
    if (rest.length > 0) shared.set(key, rest);
    else shared.delete(key);
  }
}

/** Every request `inner` serves, `outer` would serve too (element-wise prefixes). */
export function covers(outer: PlaceLike, inner: PlaceLike): boolean {
  if (outer.kind === 'RegularExpression' || inner.kind === 'RegularExpression') return false;
  if (outer.kind === 'Exact') return inner.kind === 'Exact' && inner.path === outer.path;
  if (outer.path === '/' || inner.path === outer.path) return true;
  const prefix = outer.path.endsWith('/') ? outer.path : `${outer.path}/`;
  return inner.path.startsWith(prefix);
}

/**
 * The Gateway listener hostname a request for `host` goes to, among `hostnames`: the exact
 * name, else the longest wildcard suffix, else `*` (as the listener matcher chooses).
 */
export function chosenHostname(host: string, hostnames: ReadonlySet<string>): string | undefined {
  if (hostnames.has(host)) return host;
  let best: string | undefined;
  for (const h of hostnames) {
    if (!h.startsWith('*.')) continue;
    const suffix = h.slice(1);
    if (host.length > suffix.length && host.endsWith(suffix))
      if (best === undefined || h.length > best.length) best = h;
  }
  return best ?? (hostnames.has('*') ? '*' : undefined);
}

/** Whether a place, added to the routes recorded in `shared`, might shadow or be shadowed. */
export function collides<C>(
  shared: ReadonlyMap<string, readonly SharedPlace<C>[]>,
  place: PlaceLike,
): boolean {
  const key = sharedKeyOf(place);
  const others = key === undefined ? undefined : shared.get(key);
  if (!others) return false;
  const gateway = place.hostname !== undefined;
  return others.some(
    (o) =>
      (o.place.hostname !== undefined) !== gateway &&
      (gateway ? covers(place, o.place) : covers(o.place, place)),
  );
}

/**
 * The routes of no Gateway that a Gateway route takes all requests of, each with the first
 * such Gateway route (in placing order). `hostnames`: by protocol, the hostnames of the
 * Gateway listeners on the proxy's own listeners. A wildcard host is left out: which listener
 * answers then depends on each request's name.
 */
export function shadowedRoutes<C>(
  shared: ReadonlyMap<string, readonly SharedPlace<C>[]>,
  hostnames: ReadonlyMap<string, ReadonlySet<string>>,
): { shadowed: SharedPlace<C>; served: SharedPlace<C> }[] {
  const out: { shadowed: SharedPlace<C>; served: SharedPlace<C> }[] = [];
  for (const places of shared.values())
    for (const other of places) {
      const p = other.place;
      if (p.hostname !== undefined || p.host.startsWith('*')) continue;
      const chosen = chosenHostname(p.host, hostnames.get(p.protocol) ?? new Set());
      if (chosen === undefined) continue;
      const served = places.find(
        (g) => g.candidate !== other.candidate && g.place.hostname === chosen && covers(g.place, p),
      );
      if (served) out.push({ shadowed: other, served });
    }
  return out;
}
