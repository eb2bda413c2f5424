import { Diagnostic, EntryFragment, PRECEDENCE, info, warning } from '@tether/model';
import { FieldCollector, parseGoBool } from '../helpers';
import { annotationsOf, namespaceOf, readRoute, routeEntries, sourceOf } from '../kube';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import { readBackendTls } from './features/backend-tls';
import { readBalance } from './features/balancing';
import { checkPassthroughCookies, readCookie, readDisabled } from './features/cookie';
import { VENDOR, readTls } from './router';
import {
  BALANCE,
  COOKIE_NAME,
  DISABLE_COOKIES,
  LEGACY_COOKIE_NAME,
  NOT_ENFORCED,
} from './annotations';

function notes(object: KubeObject, annotations: Record<string, string>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const key of Object.keys(annotations)) {
    const what = NOT_ENFORCED[key];
    if (what !== undefined) {
      out.push(
        info(
          'NotReproduced',
          `${key} (${what}) is an OpenShift router setting that Tether does not enforce`,
          sourceOf('openshift', object, key),
        ),
      );
    }
  }
  if (annotations[LEGACY_COOKIE_NAME] !== undefined) {
    out.push(
      warning(
        'IneffectiveSetting',
        `${LEGACY_COOKIE_NAME} is never read by ${VENDOR}; the cookie name is set with ${COOKIE_NAME}`,
        sourceOf('openshift', object, LEGACY_COOKIE_NAME),
      ),
    );
  }
  return out;
}

/** One OpenShift Route into one fragment per backend Service; never throws. */
export function parseRoute(object: KubeObject, _context: ParseContext): ParseResult {
  const diagnostics: Diagnostic[] = [];
  // A Route whose spec is malformed is already reported by the structure reader.
  const { spec } = readRoute(object);
  if (!spec) return { fragments: [], diagnostics };
  const annotations = annotationsOf(object);
  diagnostics.push(...notes(object, annotations));
  const tls = readTls(object, spec, diagnostics);
  if (!tls) return { fragments: [], diagnostics };
  const c = new FieldCollector('openshift', object, diagnostics);
  const passthrough = tls.termination === 'passthrough';
  const disabled = passthrough ? undefined : readDisabled(c, annotations[DISABLE_COOKIES]);
  if (passthrough) {
    checkPassthroughCookies(
      c,
      annotations,
      parseGoBool(annotations[DISABLE_COOKIES] ?? '') === true,
    );
  } else {
    readCookie(c, object, annotations, tls, disabled);
  }
  readBackendTls(c, spec, tls.termination, namespaceOf(object));
  const algorithm = readBalance(c, spec, annotations[BALANCE], passthrough);
  if (algorithm === 'sourceIpHash' && !passthrough && disabled !== true) {
    diagnostics.push(
      info(
        'BalancingOverriddenByPersistence',
        `${BALANCE}: a client holding the route's cookie goes to its pinned endpoint; source balancing only places its first request`,
        c.source(BALANCE),
      ),
    );
  }
  const fragments: EntryFragment[] = routeEntries(object, spec).map((item) => ({
    type: 'entry',
    dialect: 'openshift',
    entry: item.entry,
    backend: item.backend,
    precedence: PRECEDENCE.entry,
    values: { ...c.values },
  }));
  return { fragments, diagnostics };
}
