/**
 * Routing: `use-regex`, `server-alias`, `ssl-redirect` and `service-upstream` — read, turned
 * into route fields, and written back.
 */
import { Diagnostic, EntryRef, RouteSettings, quote, warning } from '@tether/model';
import type { FieldCollector } from '../../helpers';
import { EntryBackend, sourceOf } from '../../kube';
import type { KubeObject } from '../../types';
import { KEY, SPEC } from '../annotations';
import type { Expression } from '../expression';
import { AnnotationReader, DIALECT, Interpreter, bool } from '../reader';
import type { NginxSettings } from '../settings-shape';

const HOST_NAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * server-alias: names separated by commas, each trimmed, empty ones skipped and repeats
 * dropped, as the controller splits them; every one must be a host name (its
 * ValidateArrayOfServerName), else the annotation is ignored.
 */
const hostNames: Interpreter<string> = ({ normalized }, key) => {
  const names = [
    ...new Set(
      normalized
        .split(',')
        .map((n) => n.trim().toLowerCase())
        .filter((n) => n !== ''),
    ),
  ];
  const bad = names.find((n) => n.length > 253 || !HOST_NAME.test(n));
  if (names.length === 0 || bad !== undefined)
    return {
      message: `${bad === undefined ? 'names no host' : `has ${JSON.stringify(bad.slice(0, 80))}, which is not a host name`}; ingress-nginx would ${SPEC[key].fallback}`,
    };
  return { value: names.join(',') };
};

/** Reads the routing keys. */
export function readRouting(reader: AnnotationReader, settings: NginxSettings): void {
  settings.useRegex = reader.read(KEY.useRegex, bool);
  settings.serverAlias = reader.read(KEY.serverAlias, hostNames);
  settings.sslRedirect = reader.read(KEY.sslRedirect, bool);
  settings.serviceUpstream = reader.read(KEY.serviceUpstream, bool);
  settings.sslPassthrough = reader.read(KEY.sslPassthrough, bool);
}

/** The route fields of one entry point. */
export function routeFields(c: FieldCollector, s: NginxSettings, entry: EntryRef): void {
  if (s.useRegex !== undefined) c.set('route.pathRegex', s.useRegex, KEY.useRegex);
  if (s.serverAlias !== undefined) c.set('route.serverAlias', s.serverAlias, KEY.serverAlias);
  const hasTls = entry.listeners.some((l) => l.protocol === 'HTTPS');
  // ssl-redirect acts only on hosts with TLS; the ConfigMap turns it on for them by default.
  if (s.sslRedirect === false || (s.sslRedirect === true && hasTls)) {
    c.set('route.sslRedirect', s.sslRedirect, KEY.sslRedirect);
  } else if (s.sslRedirect === undefined && hasTls) {
    c.setDefault('route.sslRedirect', true, KEY.sslRedirect);
  }
}

/** ssl-redirect "true" on a host without TLS does nothing; said once per host. */
export function sslRedirectWithoutTls(
  object: KubeObject,
  s: NginxSettings,
  items: readonly EntryBackend[],
): Diagnostic[] {
  if (s.sslRedirect !== true) return [];
  const hosts = new Set<string>();
  for (const { entry } of items) {
    if (!entry.listeners.some((l) => l.protocol === 'HTTPS')) hosts.add(entry.host ?? '*');
  }
  return [...hosts].map((host) =>
    warning(
      'IneffectiveSetting',
      `${KEY.sslRedirect} is "true" but the host ${quote(host)} has no TLS in this Ingress, so ingress-nginx would not redirect it`,
      sourceOf(DIALECT, object, KEY.sslRedirect),
    ),
  );
}

/** Regular-expression paths, alias hosts and the HTTPS redirect. */
export function expressRoute(x: Expression, route: RouteSettings): void {
  if (route.pathRegex !== undefined)
    x.write(KEY.useRegex, String(route.pathRegex), 'route.pathRegex');
  if (route.serverAlias !== undefined)
    x.write(KEY.serverAlias, route.serverAlias, 'route.serverAlias');
  const tls = x.entry.entry.listeners.some((l) => l.protocol === 'HTTPS');
  if (route.sslRedirect === false) x.write(KEY.sslRedirect, 'false', 'route.sslRedirect');
  else if (route.sslRedirect === true) {
    // The controller redirects hosts with TLS by default and never redirects the others.
    if (tls) x.writeDefault(KEY.sslRedirect, 'true', 'route.sslRedirect');
    else
      x.unsupported(
        `ingress-nginx redirects to HTTPS only hosts that have TLS in the Ingress, and ${quote(x.entry.entry.host ?? '*')} has none`,
        'route.sslRedirect',
      );
  }
}
