/**
 * Precompiled host and path matching (rules documented in `table/types.ts`). Built once per table
 * swap; a lookup is a few map reads and string comparisons.
 */
import type { HostRoutes, PathRoute } from './table/types';

interface Prefix<T> {
  /** The prefix without a trailing slash; empty for `/`. */
  bare: string;
  withSlash: string;
  target: T;
}

/** A copy of `list` with `item` added, of exact length and packed (`concat` makes it holey). */
function appended<U>(list: readonly U[], item: U): U[] {
  return [...list, item].slice();
}

/**
 * One per host of the table, so tens of thousands in a large one: most hosts have one or two
 * Prefix routes and nothing else. Hence no map until an Exact route comes (an empty Map costs
 * about 180 bytes), one shared empty list for the kinds a host does not use, and lists made
 * anew at their exact length on each addition (an array grown by `push` keeps 17 slots for
 * one element). Adding happens at swap time; matching reads the same fields as before.
 */
export class PathMatcher<T> {
  #exact: Map<string, T> | undefined;
  #regex: readonly { re: RegExp; target: T }[] = [];
  #prefixes: readonly Prefix<T>[] = [];

  add(route: PathRoute, target: T): void {
    if (route.pathType === 'Exact') {
      this.#exact ??= new Map();
      if (!this.#exact.has(route.path)) this.#exact.set(route.path, target);
    } else if (route.pathType === 'RegularExpression') {
      this.#regex = appended(this.#regex, { re: new RegExp(`^(?:${route.path})`), target });
    } else {
      const bare = route.path.replace(/\/+$/, '');
      if (!this.#prefixes.some((p) => p.bare === bare)) {
        const grown = appended(this.#prefixes, { bare, withSlash: `${bare}/`, target });
        this.#prefixes = grown.sort((a, b) => b.bare.length - a.bare.length);
      }
    }
  }

  match(path: string): T | undefined {
    if (this.#exact !== undefined) {
      const exact = this.#exact.get(path);
      if (exact !== undefined) return exact;
    }
    for (const r of this.#regex) if (r.re.test(path)) return r.target;
    for (const p of this.#prefixes) {
      if (p.bare.length === 0 || path === p.bare || path.startsWith(p.withSlash)) return p.target;
    }
    return undefined;
  }
}

interface Wildcard<T> {
  /** `example.com` for `*.example.com`. */
  suffix: string;
  dotSuffix: string;
  many: boolean;
  paths: PathMatcher<T>;
}

export class HostMatcher<T> {
  readonly #exact = new Map<string, PathMatcher<T>>();
  readonly #wildcards: Wildcard<T>[] = [];
  #any: PathMatcher<T> | undefined;

  /** Adds a host's paths; `targetOf` turns each path route into what a match returns. */
  add(host: HostRoutes, targetOf: (route: PathRoute) => T): void {
    const paths = this.#slot(host, (existing) => existing ?? new PathMatcher<T>());
    for (const route of host.paths) paths.add(route, targetOf(route));
  }

  /** Forgets a host added before (when it is the only host object under its name). */
  remove(host: HostRoutes): void {
    const name = host.host.toLowerCase();
    if (name === '*') this.#any = undefined;
    else if (name.startsWith('*.')) {
      const suffix = name.slice(2);
      const many = host.wildcardLabels === 'many';
      const at = this.#wildcards.findIndex((x) => x.suffix === suffix && x.many === many);
      if (at >= 0) this.#wildcards.splice(at, 1);
    } else this.#exact.delete(name);
  }

  /** Sets a host's paths from a new path matcher (after {@link remove} of the host it replaces). */
  replace(host: HostRoutes, targetOf: (route: PathRoute) => T): void {
    const paths = this.#slot(host, () => new PathMatcher<T>());
    for (const route of host.paths) paths.add(route, targetOf(route));
  }

  /** The path matcher a host's routes go to: `pick` keeps the existing one or makes a new one. */
  #slot(
    host: HostRoutes,
    pick: (existing: PathMatcher<T> | undefined) => PathMatcher<T>,
  ): PathMatcher<T> {
    const name = host.host.toLowerCase();
    if (name === '*') return (this.#any = pick(this.#any));
    if (name.startsWith('*.')) {
      const suffix = name.slice(2);
      const many = host.wildcardLabels === 'many';
      const at = this.#wildcards.findIndex((x) => x.suffix === suffix && x.many === many);
      const existing = at >= 0 ? this.#wildcards[at] : undefined;
      const paths = pick(existing?.paths);
      if (existing && existing.paths === paths) return paths;
      const w = { suffix, dotSuffix: `.${suffix}`, many, paths };
      if (at >= 0) this.#wildcards[at] = w;
      else {
        this.#wildcards.push(w);
        // Longest suffix first; at equal length the one-label wildcard is the more specific.
        this.#wildcards.sort(
          (a, b) => b.suffix.length - a.suffix.length || Number(a.many) - Number(b.many),
        );
      }
      return paths;
    }
    const paths = pick(this.#exact.get(name));
    this.#exact.set(name, paths);
    return paths;
  }

  /** `host` must already be normalised with {@link normaliseHost}. */
  match(host: string, path: string): T | undefined {
    const exact = this.#exact.get(host);
    if (exact) {
      const t = exact.match(path);
      if (t !== undefined) return t;
    }
    for (const w of this.#wildcards) {
      if (!host.endsWith(w.dotSuffix)) continue;
      const labelLength = host.length - w.dotSuffix.length;
      if (labelLength === 0) continue;
      if (!w.many && host.lastIndexOf('.', labelLength - 1) >= 0) continue;
      const t = w.paths.match(path);
      if (t !== undefined) return t;
    }
    return this.#any?.match(path);
  }
}

/** Lower-case host name without port and trailing dot; `[v6]` literals keep their brackets. */
export function normaliseHost(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  let end = hostHeader.length;
  if (hostHeader.charCodeAt(0) === 91 /* [ */) {
    const close = hostHeader.indexOf(']');
    end = close < 0 ? end : close + 1;
  } else {
    const colon = hostHeader.indexOf(':');
    if (colon >= 0) end = colon;
  }
  if (end > 0 && hostHeader.charCodeAt(end - 1) === 46 /* . */) end--;
  const host = end === hostHeader.length ? hostHeader : hostHeader.slice(0, end);
  return host.toLowerCase();
}
