import { Diagnostic, EntryFragment, PRECEDENCE, error } from '@tether/model';
import { FieldCollector } from '../helpers';
import { ingressEntries, readIngress, sourceOf, type EntryBackend } from '../kube';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import { ALGORITHM, CLASS, MODE, type ElbAlgorithm } from './annotations';
import { applyPlan, planPersistence, type Plan } from './features/persistence';
import { DIALECT, readSettings, type ElbSettings } from './settings';
import { algorithmFields, serviceOverride } from './parse-service';

/** What one route keeps of the Ingress's own settings once the Service behind it had its say. */
interface RouteSettings {
  plan?: Plan;
  /** `dropped`: the Ingress's algorithm is not applied on this route (an error says why). */
  algorithm?: ElbAlgorithm | 'dropped';
}

/**
 * The Service behind a route overrides the Ingress's mode and algorithm; the pair that results
 * must still be one CCE allows. Each Service is judged once per Ingress.
 */
function combineWithService(
  ingress: KubeObject,
  settings: ElbSettings,
  plan: Plan | undefined,
  item: EntryBackend,
  context: ParseContext,
  diagnostics: Diagnostic[],
  reported: Set<string>,
): RouteSettings {
  const route: RouteSettings = { plan, algorithm: settings.algorithm };
  const service = context.findService(item.backend.namespace, item.backend.service);
  if (!service) return route;
  const override = serviceOverride(service, context);
  const problems: Diagnostic[] = [];
  const ingressSource = (key: string) => sourceOf(DIALECT, ingress, key);
  const serviceSource = (key: string) => sourceOf(DIALECT, service, key);
  const name = `${item.backend.namespace}/${item.backend.service}`;
  if (override.algorithm === 'SOURCE_IP' && plan && !override.plan) {
    problems.push(
      error(
        'IncompatibleSettings',
        `${MODE} on this Ingress cannot take effect: the Service ${name} behind it sets ${ALGORITHM}: SOURCE_IP, which overrides the Ingress and allows no sticky session`,
        ingressSource(MODE),
        serviceSource(ALGORITHM),
      ),
    );
    route.plan = undefined;
  }
  if (override.plan && settings.algorithm === 'SOURCE_IP' && override.algorithm === undefined) {
    problems.push(
      error(
        'IncompatibleSettings',
        `${ALGORITHM}: SOURCE_IP on this Ingress cannot be combined with the sticky session that the Service ${name} behind it sets with ${MODE}; ELB allows no sticky session with the source-IP algorithm`,
        ingressSource(ALGORITHM),
        serviceSource(MODE),
      ),
    );
    route.algorithm = 'dropped';
  }
  if (override.plan?.mode === 'appCookie' && settings.elbClass === 'performance') {
    problems.push(
      error(
        'IncompatibleSettings',
        `APP_COOKIE set by the Service ${name} does not take effect on this Ingress's dedicated ELB (${CLASS}: performance), where only HTTP_COOKIE applies`,
        serviceSource(MODE),
        ingressSource(CLASS),
      ),
    );
  }
  if (!reported.has(name)) {
    reported.add(name);
    diagnostics.push(...problems);
  }
  return route;
}

/** An Ingress: cookie stickiness and the algorithm on every rule path that has a Service backend. */
export function parseIngress(object: KubeObject, context: ParseContext): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const fragments: EntryFragment[] = [];
  // A spec without an Ingress's shape is reported by the structure reader.
  const { spec } = readIngress(object);
  if (!spec) return { fragments, diagnostics };
  const settings = readSettings(object, diagnostics);
  const plan = planPersistence(object, settings, 'l7', diagnostics);
  const reported = new Set<string>();
  for (const item of ingressEntries(object, spec)) {
    const route = combineWithService(object, settings, plan, item, context, diagnostics, reported);
    const fields = new FieldCollector(DIALECT, object, diagnostics);
    if (route.plan) applyPlan(fields, route.plan);
    if (route.algorithm !== 'dropped') algorithmFields(fields, route.algorithm);
    fragments.push({
      type: 'entry',
      dialect: DIALECT,
      entry: item.entry,
      backend: item.backend,
      precedence: PRECEDENCE.entry,
      values: fields.values,
    });
  }
  return { fragments, diagnostics };
}
