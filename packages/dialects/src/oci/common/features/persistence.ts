/**
 * Which persistence model an object's two annotations choose (one per backend set), and the
 * LB cookie applied as both OCI controllers apply it.
 */
import { Diagnostic, DialectId, Listener, entryKey, error } from '@tether/model';
import type { FieldCollector } from '../../../helpers';
import { sourceOf, type EntryBackend } from '../../../kube';
import type { KubeObject } from '../../../types';
import { annotation, isBlank, presentKeys } from '../annotations';
import {
  AppCookieConfig,
  LbCookieConfig,
  applyLbCookie,
  readAppCookieConfig,
  readLbCookieConfig,
} from './cookie';

/** The two persistence annotations of one OCI controller. */
export interface PersistenceKeys {
  lbCookie: string;
  appCookie: string;
}

export type OciPersistence =
  | { kind: 'none' }
  /** Configured, but OCI would refuse it; the reasons are in the diagnostics. */
  | { kind: 'refused' }
  | { kind: 'lbCookie'; config: LbCookieConfig }
  | { kind: 'appCookie'; config: AppCookieConfig };

/**
 * Reads the LB-cookie and application-cookie annotations of one object. Empty values count
 * as absent. Both at once is refused (OCI allows one model per backend set); each is still
 * read so that all of its own problems are reported too.
 */
export function readPersistence(
  dialect: DialectId,
  object: KubeObject,
  keys: PersistenceKeys,
  diagnostics: Diagnostic[],
): OciPersistence {
  const lbText = annotation(object, keys.lbCookie);
  const appText = annotation(object, keys.appCookie);
  const lbSource = sourceOf(dialect, object, keys.lbCookie);
  const appSource = sourceOf(dialect, object, keys.appCookie);
  const lb =
    lbText === undefined || isBlank(lbText)
      ? undefined
      : {
          config: readLbCookieConfig(lbText, {
            source: lbSource,
            diagnostics,
            otherModelKey: keys.appCookie,
            blankCookieNameIsUnset: dialect === 'oci-native-ingress',
          }),
        };
  const app =
    appText === undefined || isBlank(appText)
      ? undefined
      : {
          config: readAppCookieConfig(appText, {
            source: appSource,
            diagnostics,
            otherModelKey: keys.lbCookie,
          }),
        };
  if (lb && app) {
    diagnostics.push(
      error(
        'ConflictingPersistence',
        `${keys.lbCookie} and ${keys.appCookie} are both set on ${object.kind} ${lbSource.namespace}/${lbSource.name}; OCI allows exactly one session-persistence model per backend set`,
        lbSource,
        appSource,
      ),
    );
    return { kind: 'refused' };
  }
  if (lb) return lb.config ? { kind: 'lbCookie', config: lb.config } : { kind: 'refused' };
  if (app) return app.config ? { kind: 'appCookie', config: app.config } : { kind: 'refused' };
  return { kind: 'none' };
}

/** A listener that carries HTTP in the clear, where a Secure-only cookie would never come back. */
export function isPlainHttpListener(l: Listener): boolean {
  return l.protocol === 'HTTP' || l.protocol === 'HTTP2' || l.protocol === 'GRPC';
}

/**
 * OCI refuses a backend set whose LB cookie has `isSecure: true` while any HTTP listener uses
 * it; one annotation configures every backend set of the object, so one plain-HTTP entry
 * refuses the whole configuration. Returns the error, or undefined when the object is fine.
 */
export function secureCookieOnHttp(
  dialect: DialectId,
  object: KubeObject,
  lbCookieKey: string,
  entries: readonly EntryBackend[],
  listenerKeys: readonly string[],
): Diagnostic | undefined {
  const plain = entries.filter((e) => e.entry.listeners.some(isPlainHttpListener));
  if (plain.length === 0) return undefined;
  const names = plain
    .slice(0, 3)
    .map((e) => entryKey(e.entry))
    .join(', ');
  return error(
    'InsecureCookieOnHttpListener',
    `${lbCookieKey} sets isSecure: true, but ${names}${plain.length > 3 ? ` and ${plain.length - 3} more` : ''} ${plain.length === 1 ? 'is' : 'are'} served over plain HTTP; OCI refuses a Secure LB cookie on a backend set that an HTTP listener uses`,
    sourceOf(dialect, object, lbCookieKey),
    ...listenerKeys.map((k) => sourceOf(dialect, object, k)),
  );
}

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
