/**
 * Host names of a route against the hostname of a Gateway listener, as the Gateway API spec
 * intersects them (HTTPRoute `spec.hostnames`): a listener without a hostname takes the
 * route's names as they are; a route without names takes the listener's; otherwise each pair
 * that matches gives the more specific of the two. A wildcard `*.example.com` stands for any
 * number of labels before `example.com`, never for `example.com` itself.
 */

/** Lower case, as names compare. */
function lower(name: string): string {
  return name.toLowerCase();
}

/** Whether `name` falls under the wildcard `wildcard` (`*.example.com`). */
function under(name: string, wildcard: string): boolean {
  return name.endsWith(wildcard.slice(1)) && name.length > wildcard.length - 1;
}

/**
 * The name both `a` and `b` stand for, the more specific of the two, or undefined when they
 * do not meet.
 */
export function meet(a: string, b: string): string | undefined {
  const x = lower(a);
  const y = lower(b);
  if (x === y) return x;
  const xWild = x.startsWith('*.');
  const yWild = y.startsWith('*.');
  if (yWild && under(x, y)) return x;
  if (xWild && under(y, x)) return y;
  return undefined;
}

/**
 * The names a route is served under on a listener: `['*']` for any name, `[]` when none of the
 * route's names meets the listener's hostname.
 */
export function intersectHostnames(
  routeHostnames: readonly string[] | undefined,
  listenerHostname: string | undefined,
): string[] {
  const names = routeHostnames && routeHostnames.length > 0 ? routeHostnames : undefined;
  if (listenerHostname === undefined) return names ? [...new Set(names.map(lower))] : ['*'];
  if (!names) return [lower(listenerHostname)];
  const out = new Set<string>();
  for (const name of names) {
    const both = meet(name, listenerHostname);
    if (both !== undefined) out.add(both);
  }
  return [...out];
}
