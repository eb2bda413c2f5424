/** Every resource the stand-in serves, and lookups over them. */
import { configmaps, endpoints, namespaces, secrets, services } from './kinds/core';
import {
  backendtlspolicies,
  gatewayclasses,
  gateways,
  grpcroutes,
  httproutes,
  tlsroutes,
  referencegrants,
  routes,
  xbackendtrafficpolicies,
} from './kinds/custom';
import { coreEvents, eventsV1 } from './kinds/events';
import { leases } from './kinds/leases';
import { endpointslices, ingressclasses, ingresses } from './kinds/networking';
import { apiVersionOf, type OptionalGroup, type ResourceDef } from './resource';

export const RESOURCES: readonly ResourceDef[] = [
  namespaces,
  services,
  endpoints,
  secrets,
  configmaps,
  coreEvents,
  ingresses,
  ingressclasses,
  endpointslices,
  leases,
  eventsV1,
  gatewayclasses,
  gateways,
  httproutes,
  grpcroutes,
  tlsroutes,
  backendtlspolicies,
  xbackendtrafficpolicies,
  referencegrants,
  routes,
];

export interface GroupVersion {
  group: string;
  version: string;
  resources: ResourceDef[];
}

/** The group/versions served, in discovery order, given the optional groups switched on. */
export function servedGroupVersions(enabled: ReadonlySet<OptionalGroup>): GroupVersion[] {
  const result: GroupVersion[] = [];
  for (const def of RESOURCES) {
    if (def.optionalGroup !== undefined && !enabled.has(def.optionalGroup)) continue;
    let entry = result.find(
      (candidate) => candidate.group === def.group && candidate.version === def.version,
    );
    if (entry === undefined) {
      entry = { group: def.group, version: def.version, resources: [] };
      result.push(entry);
    }
    entry.resources.push(def);
  }
  return result;
}

/** Finds a resource by apiVersion and kind (for in-process writes of whole manifests). */
export function resourceForKind(apiVersion: string, kind: string): ResourceDef | undefined {
  return RESOURCES.find((def) => apiVersionOf(def) === apiVersion && def.kind === kind);
}

export function resourceFor(
  group: string,
  version: string,
  plural: string,
): ResourceDef | undefined {
  return RESOURCES.find(
    (def) => def.group === group && def.version === version && def.plural === plural,
  );
}

export const NAMESPACES = namespaces;
