import { createHash } from 'node:crypto';
import { namespaceOf, type KubeObject } from '@tether/dialects';
import { pathKey } from './reconcile/kept';

/** Every object the controller knows, as one immutable value per change. */
export interface Snapshot {
  /** Increases with every change; becomes the route table's version. */
  generation: number;
  objects: readonly KubeObject[];
}

export function objectKey(o: KubeObject): string {
  return pathKey(o.kind, namespaceOf(o), o.metadata.name);
}

/** `namespace/name` of a Service: how parse results, endpoints and EndpointSlices name it. */
export function serviceKeyOf(service: KubeObject): string {
  return pathKey(namespaceOf(service), service.metadata.name);
}

/** The label that names an EndpointSlice's Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * The version of an object for caching: its resourceVersion when it comes from the API
 * server, otherwise a hash of its content (manifest files).
 */
export function objectVersion(o: KubeObject): string {
  if (o.metadata.resourceVersion) return `rv:${o.metadata.resourceVersion}`;
  return `sha:${createHash('sha1').update(JSON.stringify(o)).digest('base64url')}`;
}

export function byKind(objects: readonly KubeObject[], kind: string): KubeObject[] {
  return objects.filter((o) => o.kind === kind);
}
