/** One Ingress into fragments: what each feature read, as policy fields per entry point. */
import { Diagnostic, EntryFragment, PRECEDENCE, warning } from '@tether/model';
import { FieldCollector } from '../helpers';
import {
  EntryBackend,
  HTTP_80_AND_HTTPS_443,
  HTTP_80_AND_TCP_443,
  entriesOf,
  servedOn,
} from '../kube';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import { AnnotationReader, DIALECT } from './reader';
import { affinityFields } from './features/affinity';
import { backendTlsFields, backendTlsNotes } from './features/backend-tls';
import { balancingFields } from './features/balancing';
import { canaryFields } from './features/canary';
import { routeFields, sslRedirectWithoutTls } from './features/routing';
import { readSettings } from './settings';
import type { NginxSettings } from './settings-shape';

function entryFragment(
  object: KubeObject,
  s: NginxSettings,
  item: EntryBackend,
  diagnostics: Diagnostic[],
): EntryFragment {
  const c = new FieldCollector(DIALECT, object, diagnostics);
  affinityFields(c, s, item.entry, diagnostics);
  balancingFields(c, s);
  routeFields(c, s, item.entry);
  backendTlsFields(c, s);
  canaryFields(c, s);
  return {
    type: 'entry',
    dialect: DIALECT,
    // Every server of ingress-nginx listens on its HTTPS port too: a host without TLS in the
    // Ingress is served there with the default certificate (the features above read the
    // Ingress's own TLS, which decides ssl-redirect and the Secure cookie, from item.entry).
    // With ssl-passthrough the HTTPS port hands the host's connections on as they came.
    entry: servedOn(item, s.sslPassthrough === true ? HTTP_80_AND_TCP_443 : HTTP_80_AND_HTTPS_443)
      .entry,
    backend: item.backend,
    precedence: PRECEDENCE.entry,
    values: c.values,
  };
}

/** ingress-nginx reads its annotations from Ingresses only. */
function notAnIngress(object: KubeObject): ParseResult {
  const reader = new AnnotationReader(object, []);
  return {
    fragments: [],
    diagnostics: [...reader.written].map((key) =>
      warning(
        'IneffectiveSetting',
        `${key} has no effect on a ${object.kind}: ingress-nginx reads its annotations from Ingresses only`,
        reader.source(key),
      ),
    ),
  };
}

/** One Ingress into one fragment per entry point and backend. Never throws. */
export function parse(object: KubeObject, _context?: ParseContext): ParseResult {
  if (object.kind !== 'Ingress') return notAnIngress(object);
  const { settings, diagnostics } = readSettings(object);
  // A refused Ingress contributes nothing: its entry points keep only their structure.
  if (settings.refused) return { fragments: [], diagnostics };
  // Problems with the spec itself are reported once, by the registry's structure pass.
  const items = entriesOf(object).spec ?? [];
  diagnostics.push(...sslRedirectWithoutTls(object, settings, items));
  diagnostics.push(...backendTlsNotes(object, settings));
  const fragments = items.map((item) => entryFragment(object, settings, item, diagnostics));
  return { fragments, diagnostics };
}
