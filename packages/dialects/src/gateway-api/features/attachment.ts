/**
 * The listeners a route's entry points are served on: those of its parent Gateways that take
 * it (route-attachment.ts), each with the host names the route gets there. A parent that takes it
 * nowhere is reported; a route no parent takes is served nowhere.
 */
import { PRECEDENCE, warning, type EntryFragment, type Listener } from '@tether/model';
import { FieldCollector } from '../../helpers';
import { namespaceOf, servedOn, sourceOf, type EntryBackend } from '../../kube';
import type { KubeObject, ParseContext, ParseResult } from '../../types';
import { GATEWAY_GROUP, listenerServes } from '../gateways';
import { attachRoute, type AttachedListener } from '../route-attachment';
import { referenceGranted } from '../reference-grants';

const NO_VALUES = Object.freeze({});

/** Whether a backend in another namespace is granted to the route (ReferenceGrant). */
function backendPermitted(route: KubeObject, item: EntryBackend, context: ParseContext): boolean {
  return referenceGranted(
    context,
    { group: GATEWAY_GROUP, kind: route.kind, namespace: namespaceOf(route) },
    { group: '', kind: 'Service', namespace: item.backend.namespace, name: item.backend.service },
  );
}

/** The model's listener for a Gateway listener that takes the route under `hosts`. */
function modelListener({ listener, hosts }: AttachedListener): Listener {
  const l: Listener = {
    // A TLS (Passthrough) listener relays connections unread, as the proxy's TCP routes do.
    protocol:
      listener.protocol === 'TLS' ? 'TCP' : listener.protocol === 'HTTPS' ? 'HTTPS' : 'HTTP',
    port: listener.port,
    gateway: listener.id,
    hosts,
  };
  if (listener.tlsSecret !== undefined) l.tlsSecret = listener.tlsSecret;
  if (listener.hostname !== undefined) l.hostname = listener.hostname;
  return l;
}

/**
 * The route's entry points on the listeners its parents give them, each with a fragment that
 * says so; the entries as they are when the snapshot holds no Gateway (the structure's
 * listeners then stand). Every other fragment of the route must use the entries returned.
 */
export function attachedListeners(
  route: KubeObject,
  entries: EntryBackend[],
  context: ParseContext,
  out: ParseResult,
): EntryBackend[] {
  const parents = attachRoute(route, context);
  if (!parents) return entries;
  const listeners: Listener[] = [];
  for (const parent of parents) {
    if (parent.refusal) {
      out.diagnostics.push(
        warning(
          'NotAttached',
          `${route.kind} ${namespaceOf(route)}/${route.metadata.name}: ${parent.refusal.message} (${parent.refusal.reason}); it is not served there`,
          sourceOf('gateway-api', route, `spec.parentRefs[${parent.index}]`),
        ),
      );
      continue;
    }
    for (const attached of parent.listeners)
      if (listenerServes(attached.listener)) listeners.push(modelListener(attached));
  }
  // One list for every entry point of the route (resolve copies an entry only when it differs).
  const frozen = Object.freeze(listeners.map((l) => Object.freeze(l))) as Listener[];
  const refused = new Set<string>();
  return entries.map((item) => {
    const served = servedOn(item, frozen);
    const fragment: EntryFragment = {
      type: 'entry',
      dialect: 'gateway-api',
      entry: served.entry,
      backend: served.backend,
      precedence: PRECEDENCE.entry,
      values: NO_VALUES,
    };
    if (!backendPermitted(route, item, context)) {
      // Served where the route is, with no endpoint: requests sent its way are refused.
      const c = new FieldCollector('gateway-api', route, out.diagnostics);
      c.set('route.backendRefused', 'RefNotPermitted', `spec.${item.entry.rule}.backendRefs`);
      fragment.values = c.values;
      if (!refused.has(item.backend.service)) {
        refused.add(item.backend.service);
        out.diagnostics.push(
          warning(
            'RefNotPermitted',
            `${route.kind} ${namespaceOf(route)}/${route.metadata.name} routes to Service ${item.backend.namespace}/${item.backend.service}, and no ReferenceGrant in ${item.backend.namespace} lets ${route.kind}s of ${namespaceOf(route)} do so; its share of requests gets 503`,
            sourceOf('gateway-api', route, `spec.${item.entry.rule}.backendRefs`),
          ),
        );
      }
    }
    out.fragments.push(fragment);
    return served;
  });
}
