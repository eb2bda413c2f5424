import { namespaceOf, readService, type KubeObject } from '@tether/dialects';
import type { BackendRef } from '@tether/model';
import type { Endpoint } from '@tether/dataplane';
import { SERVICE_NAME_LABEL, serviceKeyOf } from '../snapshot';

interface SlicePort {
  name?: string;
  port?: number;
}

interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  targetRef?: { kind?: unknown; name?: unknown };
}

/** Looks up the endpoints of a Service port from Services and EndpointSlices, indexed once per snapshot. */
export class EndpointIndex {
  private readonly services = new Map<string, KubeObject>();
  private readonly slices = new Map<string, KubeObject[]>();

  constructor(objects: readonly KubeObject[]) {
    for (const o of objects) {
      if (o.kind === 'Service') this.services.set(serviceKeyOf(o), o);
      if (o.kind === 'EndpointSlice') {
        const service = o.metadata.labels?.[SERVICE_NAME_LABEL];
        if (!service) continue;
        const key = `${namespaceOf(o)}/${service}`;
        this.slices.set(key, [...(this.slices.get(key) ?? []), o]);
      }
    }
  }

  hasService(ref: BackendRef): boolean {
    return this.services.has(`${ref.namespace}/${ref.service}`);
  }

  /**
   * The name the EndpointSlices use for the Service port a route names (by number, by name,
   * `*` or 0 for the first port); undefined when the Service has no such port.
   */
  private portName(ref: BackendRef): { name: string } | undefined {
    const service = this.services.get(`${ref.namespace}/${ref.service}`);
    if (!service) return undefined;
    const ports = readService(service).spec?.ports ?? [];
    const port =
      ref.port === '*' || ref.port === 0
        ? ports[0]
        : ports.find((p) =>
            typeof ref.port === 'number' ? p.port === ref.port : p.name === ref.port,
          );
    return port ? { name: port.name ?? '' } : undefined;
  }

  /** Every endpoint of the Service port, with its EndpointSlice conditions. */
  endpoints(ref: BackendRef): Endpoint[] | undefined {
    const port = this.portName(ref);
    if (!port) return undefined;
    const out: Endpoint[] = [];
    const seen = new Set<string>();
    for (const slice of this.slices.get(`${ref.namespace}/${ref.service}`) ?? []) {
      const ports = (slice.ports ?? []) as SlicePort[];
      const match = ports.find((p) => (p.name ?? '') === port.name);
      if (!match || typeof match.port !== 'number') continue;
      for (const e of (slice.endpoints ?? []) as SliceEndpoint[]) {
        const ready = e.conditions?.ready ?? true;
        const serving = e.conditions?.serving ?? ready;
        const terminating = e.conditions?.terminating ?? false;
        const pod =
          e.targetRef?.kind === 'Pod' && typeof e.targetRef.name === 'string'
            ? e.targetRef.name
            : undefined;
        for (const address of e.addresses ?? []) {
          const key = `${address}:${match.port}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const endpoint: Endpoint = {
            address,
            port: match.port,
            ready: ready === true,
            serving: serving === true,
            terminating: terminating === true,
          };
          // Only where known: most tables never read them (see the OpenShift cookie format).
          if (pod !== undefined) endpoint.pod = pod;
          if (port.name !== '') endpoint.portName = port.name;
          out.push(endpoint);
        }
      }
    }
    // Kept for as long as the Service and its EndpointSlices do not change (see kept.ts).
    return out.slice();
  }
}
