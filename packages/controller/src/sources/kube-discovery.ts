import type { KubeHttp } from './kube-client';
import { WATCHED_RESOURCES, apiVersionOf, type WatchedResource } from './kube-resources';

interface GroupList {
  groups?: { name?: unknown; versions?: { groupVersion?: unknown }[] }[];
}

interface ResourceList {
  resources?: { name?: unknown }[];
}

/**
 * Which optional resources the API server serves now: their group/version must be listed
 * under `/apis` and the resource under `/apis/<group>/<version>`. A group/version that
 * disappears between the two requests counts as absent. Throws when the server cannot be
 * asked at all (the caller retries).
 */
export async function discoverOptional(
  http: KubeHttp,
  resources: readonly WatchedResource[] = WATCHED_RESOURCES,
): Promise<Set<WatchedResource>> {
  const optional = resources.filter((r) => r.optional);
  const groups = (await http.json({ path: '/apis', timeoutMs: 10_000 })) as GroupList;
  const served = new Set<string>();
  for (const g of groups?.groups ?? [])
    for (const v of g.versions ?? [])
      if (typeof v.groupVersion === 'string') served.add(v.groupVersion);
  const found = new Set<WatchedResource>();
  const wanted = [...new Set(optional.map(apiVersionOf))].filter((gv) => served.has(gv));
  for (const gv of wanted) {
    let list: ResourceList | undefined;
    try {
      list = (await http.json({ path: `/apis/${gv}`, timeoutMs: 10_000 })) as ResourceList;
    } catch (e) {
      // Removed between the two requests.
      if ((e as { status?: number }).status === 404) continue;
      throw e;
    }
    const plurals = new Set((list?.resources ?? []).map((r) => r.name));
    for (const r of optional) if (apiVersionOf(r) === gv && plurals.has(r.plural)) found.add(r);
  }
  return found;
}
