import type { DialectId } from '@tether/model';
import type { FieldCollector } from '../../helpers';
import type { EntryBackend } from '../../kube';
import type { KubeObject } from '../../types';
import { presentKeys } from './annotations';
import { applyLbCookie } from './apply';
import type { AppCookieConfig } from './cookie-config';
import { readPersistence, secureCookieOnHttp, type PersistenceKeys } from './persistence';

/**
 * Reads an object's two persistence annotations. An LB cookie is applied the same way by both
 * OCI controllers, refused when `isSecure` meets a plain-HTTP listener (the OCI API refuses
 * it); an application cookie is returned for the controller's own rule (OKE keeps
 * `disableFallback`, the native ingress controller drops it).
 */
export function applyCookiePersistence(
  dialect: DialectId,
  object: KubeObject,
  c: FieldCollector,
  served: readonly EntryBackend[],
  keys: PersistenceKeys,
  listenerKeys: readonly string[],
): AppCookieConfig | undefined {
  const persistence = readPersistence(dialect, object, keys, c.diagnostics);
  if (persistence.kind === 'appCookie') return persistence.config;
  if (persistence.kind !== 'lbCookie') return undefined;
  if (persistence.config.isSecure === true) {
    const refused = secureCookieOnHttp(
      dialect,
      object,
      keys.lbCookie,
      served,
      presentKeys(object, [...listenerKeys]),
    );
    if (refused) {
      c.diagnostics.push(refused);
      return undefined;
    }
  }
  applyLbCookie(c, persistence.config, keys.lbCookie);
  return undefined;
}
