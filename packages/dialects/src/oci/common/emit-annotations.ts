import type { KubeObject } from '../../types';
import { annotation, isBlank } from './annotations';
import { appCookieJson, lbCookieJson } from './features/cookie';
import type { OciWrite } from './emit-plan';
import type { PersistenceKeys } from './features/persistence';

/**
 * The annotations that make one OCI controller say `write`, as changes to the object: a key
 * already holding the wanted value is left alone; the other model's key, if the object still
 * carries it, is emptied (OCI reads an empty value as absent) so that the two cannot clash;
 * a policy already there with another value is overwritten even with the default.
 */
export function ociAnnotations(
  object: KubeObject,
  write: OciWrite,
  keys: PersistenceKeys & { policy: string },
): Record<string, string> {
  const wanted: Record<string, string | undefined> = {};
  const p = write.persistence;
  wanted[keys.lbCookie] = p.kind === 'lbCookie' ? lbCookieJson(p.config) : undefined;
  wanted[keys.appCookie] = p.kind === 'appCookie' ? appCookieJson(p.config) : undefined;
  const existingPolicy = annotation(object, keys.policy);
  if (write.writePolicy || (existingPolicy !== undefined && existingPolicy !== write.policy))
    wanted[keys.policy] = write.policy;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(wanted)) {
    const existing = annotation(object, key);
    if (value !== undefined) {
      if (existing !== value) out[key] = value;
    } else if (existing !== undefined && !isBlank(existing)) out[key] = '';
  }
  return out;
}
