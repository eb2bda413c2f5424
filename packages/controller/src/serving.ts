import { annotationsOf, namespaceOf, type KubeObject } from '@tether/dialects';

export const CONTROLLER_NAME = 'tether.dev/ingress-controller';
const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export interface ServingOptions {
  /** Our IngressClass name. */
  ingressClass: string;
  /** The controller name IngressClasses and GatewayClasses point at. */
  controllerName: string;
  /**
   * Serve every Ingress, HTTPRoute and Route whatever its class (manifest files on a laptop,
   * where nobody else could serve them).
   */
  serveAll: boolean;
  /**
   * Which LoadBalancer Services get their own listeners: those whose loadBalancerClass is
   * ours (`class`, the default), or also every one without a class (`all`). With `serveAll`
   * every LoadBalancer Service is served.
   */
  serviceLoadBalancers?: 'class' | 'all';
}

/** The `spec.loadBalancerClass` of the LoadBalancer Services this controller serves. */
export const SERVICE_LB_CLASS = 'tether.dev/service-lb';

/** Whether the listeners of a LoadBalancer Service are ours to serve. */
export function ownsServiceListeners(
  service: KubeObject | undefined,
  options: ServingOptions,
): boolean {
  if (!service) return false;
  if (options.serveAll) return true;
  const cls = (service.spec as { loadBalancerClass?: unknown } | undefined)?.loadBalancerClass;
  if (typeof cls === 'string') return cls === SERVICE_LB_CLASS;
  return options.serviceLoadBalancers === 'all';
}

function classOf(ingress: KubeObject): string | undefined {
  const spec = ingress.spec as { ingressClassName?: unknown } | undefined;
  if (typeof spec?.ingressClassName === 'string') return spec.ingressClassName;
  return annotationsOf(ingress)[LEGACY_CLASS_ANNOTATION];
}

function controllerOf(object: KubeObject, field: 'controller' | 'controllerName'): unknown {
  return (object.spec as Record<string, unknown> | undefined)?.[field];
}

/** The Gateways among `objects` whose GatewayClass (also among them) `controllerName` runs. */
export function gatewaysOf(objects: readonly KubeObject[], controllerName: string): KubeObject[] {
  const classes = new Set(
    objects
      .filter(
        (o) => o.kind === 'GatewayClass' && controllerOf(o, 'controllerName') === controllerName,
      )
      .map((o) => o.metadata.name),
  );
  return objects.filter(
    (o) =>
      o.kind === 'Gateway' &&
      classes.has(String((o.spec as Record<string, unknown> | undefined)?.gatewayClassName)),
  );
}

/**
 * Decides which objects are ours: Ingresses of our IngressClass (or of none, where our class
 * is the default), HTTPRoutes attached to a Gateway of our GatewayClass, and every OpenShift
 * Route. Everything else that routing needs (Services, EndpointSlices, policies) passes
 * through; whether a LoadBalancer Service's own listeners are ours is `ownsServiceListeners`.
 */
export function servedObjects(
  objects: readonly KubeObject[],
  options: ServingOptions,
): KubeObject[] {
  if (options.serveAll) return [...objects];
  const ourClasses = new Set([options.ingressClass]);
  let defaultIsOurs = false;
  for (const o of objects) {
    if (o.kind !== 'IngressClass' || controllerOf(o, 'controller') !== options.controllerName)
      continue;
    ourClasses.add(o.metadata.name);
    if (annotationsOf(o)[DEFAULT_CLASS_ANNOTATION] === 'true') defaultIsOurs = true;
  }
  const ourGateways = new Set(
    gatewaysOf(objects, options.controllerName).map((o) => `${namespaceOf(o)}/${o.metadata.name}`),
  );
  return objects.filter((o) => {
    if (o.kind === 'Ingress') {
      const cls = classOf(o);
      return cls === undefined ? defaultIsOurs : ourClasses.has(cls);
    }
    // Another controller's Gateways are not ours to listen for: a route attaches to ours only.
    if (o.kind === 'Gateway') return ourGateways.has(`${namespaceOf(o)}/${o.metadata.name}`);
    if (o.kind === 'HTTPRoute' || o.kind === 'GRPCRoute' || o.kind === 'TLSRoute') {
      const parents =
        (o.spec as { parentRefs?: { name?: unknown; namespace?: unknown }[] } | undefined)
          ?.parentRefs ?? [];
      return parents.some((p) =>
        ourGateways.has(
          `${typeof p.namespace === 'string' ? p.namespace : namespaceOf(o)}/${String(p.name)}`,
        ),
      );
    }
    return true;
  });
}
