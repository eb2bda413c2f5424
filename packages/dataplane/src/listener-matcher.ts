/**
 * Listener isolation (Gateway API): the Gateway listeners of one port, told apart by their
 * hostnames. A request goes to the listener with the most specific hostname its Host falls
 * under (an exact name, then the longest wildcard suffix, then a listener without hostname)
 * and is matched against that listener's hosts alone: never against another Gateway
 * listener's, so a route of `*.example.com` does not answer for `foo.example.com` when a
 * `foo.example.com` listener exists. When the chosen listener has no route for it, or no
 * Gateway listener takes the Host, the routes that belong to no Gateway listener (Ingresses,
 * Routes, Services) are tried.
 */
import { HostMatcher } from './matcher';

/** What a listener asks of a table: the route for a request's host and path. */
export interface RouteMatcher<T> {
  match(host: string, path: string): T | undefined;
}

interface Wildcard<T> {
  /** `.example.com` for `*.example.com`: any number of labels before it. */
  dotSuffix: string;
  matcher: HostMatcher<T>;
}

export class IsolatingMatcher<T> implements RouteMatcher<T> {
  readonly #exact = new Map<string, HostMatcher<T>>();
  #wildcards: Wildcard<T>[] = [];
  /** The Gateway listeners without a hostname. */
  #any: HostMatcher<T> | undefined;
  /** The routes of no Gateway listener. */
  readonly rest = new HostMatcher<T>();

  /** The host matcher of the Gateway listener with `hostname` (lower case, or `*`). */
  listener(hostname: string): HostMatcher<T> {
    if (hostname === '*') return (this.#any ??= new HostMatcher<T>());
    if (!hostname.startsWith('*.')) {
      let m = this.#exact.get(hostname);
      if (!m) this.#exact.set(hostname, (m = new HostMatcher<T>()));
      return m;
    }
    const dotSuffix = hostname.slice(1);
    const found = this.#wildcards.find((w) => w.dotSuffix === dotSuffix);
    if (found) return found.matcher;
    const matcher = new HostMatcher<T>();
    this.#wildcards = [...this.#wildcards, { dotSuffix, matcher }].sort(
      (a, b) => b.dotSuffix.length - a.dotSuffix.length,
    );
    return matcher;
  }

  /** `host` must already be normalised (lower case, no port). */
  match(host: string, path: string): T | undefined {
    const chosen = this.#choose(host);
    return chosen?.match(host, path) ?? this.rest.match(host, path);
  }

  #choose(host: string): HostMatcher<T> | undefined {
    const exact = this.#exact.get(host);
    if (exact) return exact;
    for (const w of this.#wildcards)
      if (host.length > w.dotSuffix.length && host.endsWith(w.dotSuffix)) return w.matcher;
    return this.#any;
  }
}
