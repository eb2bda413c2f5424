import {
  BackendFragment,
  Diagnostic,
  EntryFragment,
  PRECEDENCE,
  warning,
  type FieldValues,
} from '@tether/model';
import { FieldCollector } from '../helpers';
import { namespaceOf, readService, serviceEntries, sourceOf, type ServiceSpec } from '../kube';
import type { KubeObject, ParseContext, ParseResult } from '../types';
import { ALGORITHM, ALGORITHMS, DEFAULT_ALGORITHM, MODE, type ElbAlgorithm } from './annotations';
import { applyPlan, planPersistence, type Plan } from './features/persistence';
import { DIALECT, readSettings } from './settings';

/** What a Service's annotations impose on the Ingress routes in front of it. */
export interface ServiceOverride {
  /** A cookie mode (only a Service that is not of type LoadBalancer can give one). */
  plan?: Plan;
  algorithm?: ElbAlgorithm;
}

interface ServiceAnalysis {
  spec: ServiceSpec;
  /** For the Service's own layer-4 listener. */
  own: { plan?: Plan; algorithm?: ElbAlgorithm };
  override: ServiceOverride;
}

function sourceIpMessage(type: string): string {
  return `${MODE}: SOURCE_IP applies to the own listener of a LoadBalancer Service, but this Service is of type ${type}; the Ingress routes in front of it use cookies and do not take it over`;
}

/**
 * The message for each standard Service type, built once: it names no object, and every
 * Service it is reported on keeps its own copy otherwise.
 */
const SOURCE_IP_MESSAGES = new Map(
  ['ClusterIP', 'NodePort', 'ExternalName'].map((type) => [type, sourceIpMessage(type)]),
);

function sourceIpNeedsLoadBalancer(type: string): string {
  return SOURCE_IP_MESSAGES.get(type) ?? sourceIpMessage(type);
}

function analyse(object: KubeObject, diagnostics: Diagnostic[]): ServiceAnalysis | undefined {
  // A spec without a Service's shape is reported by the structure reader.
  const { spec } = readService(object);
  if (!spec) return undefined;
  const settings = readSettings(object, diagnostics);
  const isLoadBalancer = spec.type === 'LoadBalancer';
  // SOURCE_IP and everything on a LoadBalancer Service is judged against its layer-4 listener.
  const layer = isLoadBalancer || settings.mode === 'SOURCE_IP' ? 'l4' : 'l7';
  const plan = planPersistence(object, settings, layer, diagnostics);
  const analysis: ServiceAnalysis = { spec, own: {}, override: {} };
  if (settings.algorithm !== undefined) {
    analysis.own.algorithm = settings.algorithm;
    analysis.override.algorithm = settings.algorithm;
  }
  if (plan?.mode === 'sourceIp') {
    analysis.own.plan = plan;
    if (!isLoadBalancer) {
      diagnostics.push(
        warning(
          'IneffectiveSetting',
          sourceIpNeedsLoadBalancer(spec.type ?? 'ClusterIP'),
          sourceOf(DIALECT, object, MODE),
          sourceOf('kubernetes', object, 'spec.type'),
        ),
      );
    }
  } else if (plan) analysis.override.plan = plan;
  return analysis;
}

/** Per snapshot (one parse context), so an object changed between snapshots is read afresh. */
const overrides = new WeakMap<ParseContext, WeakMap<KubeObject, ServiceOverride>>();

/**
 * The settings a Service imposes on the Ingress routes in front of it, without diagnostics
 * (those belong to the Service and are reported when it is parsed).
 */
export function serviceOverride(object: KubeObject, context: ParseContext): ServiceOverride {
  let known = overrides.get(context);
  if (!known) {
    known = new WeakMap();
    overrides.set(context, known);
  }
  const cached = known.get(object);
  if (cached) return cached;
  const override = analyse(object, [])?.override ?? {};
  known.set(object, override);
  return override;
}

/** The algorithm the object names, or ELB's default when it names none. */
export function algorithmFields(fields: FieldCollector, algorithm: ElbAlgorithm | undefined): void {
  if (algorithm !== undefined)
    fields.set('loadBalancing.algorithm', ALGORITHMS[algorithm], ALGORITHM);
  else fields.setDefault('loadBalancing.algorithm', ALGORITHMS[DEFAULT_ALGORITHM], ALGORITHM);
}

/**
 * A Service: its own LoadBalancer listeners (SOURCE_IP stickiness and the algorithm), and a
 * backend-wide fragment that overrides the Ingress routes in front of it (cookie modes and an
 * explicit algorithm), as CCE lets the Service's settings win over the Ingress's.
 */
export function parseService(object: KubeObject): ParseResult {
  const diagnostics: Diagnostic[] = [];
  const fragments: (EntryFragment | BackendFragment)[] = [];
  const analysis = analyse(object, diagnostics);
  if (!analysis) return { fragments, diagnostics };
  const own = new FieldCollector(DIALECT, object, diagnostics);
  if (analysis.own.plan) applyPlan(own, analysis.own.plan);
  algorithmFields(own, analysis.own.algorithm);
  for (const { entry, backend } of serviceEntries(object, analysis.spec)) {
    fragments.push({
      type: 'entry',
      dialect: DIALECT,
      entry,
      backend,
      precedence: PRECEDENCE.entry,
      values: { ...own.values },
    });
  }
  const { plan, algorithm } = analysis.override;
  if (plan || algorithm !== undefined) {
    const routes = new FieldCollector(DIALECT, object, diagnostics);
    if (plan) applyPlan(routes, plan);
    if (algorithm !== undefined)
      routes.set('loadBalancing.algorithm', ALGORITHMS[algorithm], ALGORITHM);
    fragments.push({
      type: 'backend',
      dialect: DIALECT,
      target: { namespace: namespaceOf(object), service: object.metadata.name },
      precedence: PRECEDENCE.serviceOverride,
      values: { ...routes.values } satisfies FieldValues,
    });
  }
  return { fragments, diagnostics };
}
