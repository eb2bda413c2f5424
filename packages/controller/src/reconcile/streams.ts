/**
 * The layer-4 routes of a table: the TCP and UDP listeners of the LoadBalancer Services that
 * are ours (their HTTP listeners are routes, placed like any other). Two Services on one
 * protocol and port: the older keeps it, and both are warned, naming each other.
 */
import { warning, type Diagnostic, type EntryRef } from '@tether/model';
import type { PassthroughRoute, RouteTable, StreamRoute } from '@tether/dataplane';
import type { Candidate } from './route-layout';
import type { ComponentResult } from './steps';

function sourceOf(entry: EntryRef, port: number) {
  return {
    dialect: 'kubernetes' as const,
    kind: entry.kind,
    namespace: entry.namespace,
    name: entry.name,
    field: `spec.ports[port=${port}]`,
  };
}

/** Older first, then by name, as routes are ordered. */
function older(a: Candidate, b: Candidate): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The streams of the components' candidates, in protocol and port order. `before` is given
 * back when nothing differs, so that the table keeps the same list and the proxy checks it
 * by its changes only.
 */
export function streamsOf(
  components: Iterable<ComponentResult>,
  before: readonly StreamRoute[] | undefined,
): { streams: StreamRoute[] | undefined; diagnostics: Diagnostic[] } {
  const byPort = new Map<string, Candidate[]>();
  /** `TCP:port` of the candidates whose listener ends TLS (by candidate). */
  const tls = new Set<string>();
  for (const c of components)
    for (const candidate of c.placement.candidates) {
      if (candidate.entry.kind !== 'Service') continue;
      for (const l of candidate.entry.listeners) {
        if ((l.protocol !== 'TCP' && l.protocol !== 'UDP') || l.port === undefined) continue;
        const key = `${l.protocol}:${String(l.port).padStart(5, '0')}`;
        const list = byPort.get(key) ?? [];
        list.push(candidate);
        byPort.set(key, list);
        if (l.tlsSecret !== undefined) tls.add(`${key} ${candidate.id}`);
      }
    }
  const diagnostics: Diagnostic[] = [];
  const streams: StreamRoute[] = [];
  for (const key of [...byPort.keys()].sort()) {
    const [protocol, portText] = key.split(':') as ['TCP' | 'UDP', string];
    const port = Number(portText);
    const [winner, ...others] = byPort.get(key)!.sort(older);
    streams.push(
      tls.has(`${key} ${winner!.id}`)
        ? { protocol, port, tls: true, backendSet: winner!.set }
        : { protocol, port, backendSet: winner!.set },
    );
    for (const other of others)
      diagnostics.push(
        warning(
          'DuplicateRoute',
          `${protocol} port ${port} is claimed by Service ${winner!.entry.namespace}/${winner!.entry.name} and Service ${other.entry.namespace}/${other.entry.name}; the older one, ${winner!.entry.namespace}/${winner!.entry.name}, is served`,
          sourceOf(winner!.entry, port),
          sourceOf(other.entry, port),
        ),
      );
  }
  const same =
    before !== undefined &&
    before.length === streams.length &&
    streams.every(
      (s, i) =>
        before[i]!.protocol === s.protocol &&
        before[i]!.port === s.port &&
        before[i]!.tls === s.tls &&
        before[i]!.backendSet === s.backendSet,
    );
  if (same) return { streams: before as StreamRoute[], diagnostics };
  return { streams: streams.length > 0 ? streams : undefined, diagnostics };
}

/**
 * The TLS passthrough routes of the components' candidates (an OpenShift passthrough Route is
 * an entry point on TCP:443 with a host), one per host: the older Route keeps a host two
 * claim, and both are warned. `before` is given back when nothing differs.
 */
export function passthroughOf(
  components: Iterable<ComponentResult>,
  before: readonly PassthroughRoute[] | undefined,
): { passthrough: PassthroughRoute[] | undefined; diagnostics: Diagnostic[] } {
  const byHost = new Map<string, Candidate[]>();
  const diagnostics: Diagnostic[] = [];
  for (const c of components)
    for (let candidate of c.placement.candidates) {
      const e = candidate.entry;
      if (e.kind === 'Service') continue;
      const tcp = e.listeners.find((l) => l.protocol === 'TCP');
      if (!tcp) continue;
      // A Gateway's TLS listener gives the names it takes; a Route or TLSRoute has its host.
      const hosts = (tcp.hosts ?? (e.host === undefined ? [] : [e.host])).filter(
        (h) => !h.includes('*'),
      );
      if (hosts.length === 0) continue;
      const mode = candidate.set.policy.mode;
      if (mode !== 'none' && mode !== 'sourceIp') {
        // The passthrough connection carries TLS the proxy cannot read: no cookie, no header.
        diagnostics.push(
          warning(
            'IneffectiveSetting',
            `${e.kind} ${e.namespace}/${e.name}: ${mode} persistence has no effect on TLS passthrough for ${hosts.join(', ')}, whose connections go through unread; they are balanced without it`,
            { ...sourceOf(e, 443), field: 'spec' },
          ),
        );
        candidate = {
          ...candidate,
          set: { ...candidate.set, policy: { ...candidate.set.policy, mode: 'none' } },
        };
      }
      for (const name of hosts) {
        const host = name.toLowerCase();
        const list = byHost.get(host) ?? [];
        list.push(candidate);
        byHost.set(host, list);
      }
    }
  const passthrough: PassthroughRoute[] = [];
  for (const host of [...byHost.keys()].sort()) {
    const [winner, ...others] = byHost.get(host)!.sort(older);
    passthrough.push({ host, backendSet: winner!.set });
    for (const other of others)
      diagnostics.push(
        warning(
          'DuplicateRoute',
          `TLS passthrough for ${host} is claimed by ${winner!.entry.kind} ${winner!.entry.namespace}/${winner!.entry.name} and ${other.entry.kind} ${other.entry.namespace}/${other.entry.name}; the older one, ${winner!.entry.namespace}/${winner!.entry.name}, is served`,
          { ...sourceOf(winner!.entry, 443), field: 'spec.host' },
          { ...sourceOf(other.entry, 443), field: 'spec.host' },
        ),
      );
  }
  const same =
    before !== undefined &&
    before.length === passthrough.length &&
    passthrough.every(
      (p, i) => before[i]!.host === p.host && before[i]!.backendSet === p.backendSet,
    );
  if (same) return { passthrough: before as PassthroughRoute[], diagnostics };
  return { passthrough: passthrough.length > 0 ? passthrough : undefined, diagnostics };
}

/**
 * The Services (`Service/namespace/name`) whose own listeners a table serves, by the port key
 * the proxy opens them under (`TCP:5432`, `UDP:53`, `HTTP:80`, `HTTPS:443`).
 */
export function servicePortOwners(table: RouteTable): Map<string, Set<string>> {
  const owners = new Map<string, Set<string>>();
  const own = (key: string, id: string) => {
    if (!id.startsWith('Service/')) return;
    const set = owners.get(key) ?? new Set<string>();
    set.add(id.slice(0, id.indexOf('#')));
    owners.set(key, set);
  };
  for (const s of table.streams ?? []) own(`${s.protocol}:${s.port}`, s.backendSet.id);
  for (const l of table.listeners)
    if (l.port !== undefined)
      for (const h of l.hosts)
        for (const p of h.paths) own(`${l.protocol}:${l.port}`, p.backendSet.id);
  return owners;
}
