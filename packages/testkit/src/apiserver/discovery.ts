/** Discovery documents (/api, /apis, …), /version and the minimal OpenAPI answers kubectl needs. */
import type { GroupVersion } from './catalogue';
import type { ResourceDef } from './resource';
import type { JsonObject } from './types';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersions(serverAddress: string): JsonObject {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupEntry(group: string, served: GroupVersion[]): JsonObject {
  const versions = served
    .filter((entry) => entry.group === group)
    .map((entry) => ({ groupVersion: `${group}/${entry.version}`, version: entry.version }));
  return { name: group, versions, preferredVersion: versions[0] ?? {} };
}

export function apiGroupList(served: GroupVersion[]): JsonObject {
  const groups = [...new Set(served.map((entry) => entry.group).filter((group) => group !== ''))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((group) => groupEntry(group, served)),
  };
}

export function apiGroup(group: string, served: GroupVersion[]): JsonObject | undefined {
  if (!served.some((entry) => entry.group === group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(group, served) };
}

function resourceEntries(def: ResourceDef): JsonObject[] {
  const main: JsonObject = {
    name: def.plural,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: VERBS,
  };
  if (def.shortNames.length > 0) main.shortNames = def.shortNames;
  if (def.categories.length > 0) main.categories = def.categories;
  const entries = [main];
  if (def.hasStatus) {
    entries.push({
      name: `${def.plural}/status`,
      singularName: '',
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: ['get', 'patch', 'update'],
    });
  }
  return entries;
}

export function apiResourceList(entry: GroupVersion): JsonObject {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: entry.group === '' ? entry.version : `${entry.group}/${entry.version}`,
    resources: entry.resources.flatMap(resourceEntries),
  };
}

export const VERSION_INFO: JsonObject = {
  major: '1',
  minor: '30',
  gitVersion: 'v1.30.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-04-17T00:00:00Z',
  goVersion: 'go1.22.2',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/**
 * OpenAPI v3 root without any group: kubectl then finds no server-side field validation
 * for any kind and falls back to validating against the v2 document.
 */
export const OPENAPI_V3_ROOT: JsonObject = { paths: {} };

/**
 * OpenAPI v2 is fetched as protobuf; an empty body is a valid, empty `Document` message, so
 * kubectl's client-side validation finds no schema and accepts every object.
 */
export const OPENAPI_V2_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
