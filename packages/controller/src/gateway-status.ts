/**
 * What the status of a Gateway of ours should say, as Gateway API conformance reads it:
 * `Accepted` and `Programmed` with the proxy's addresses, and per listener `Accepted`,
 * `Programmed`, `ResolvedRefs`, `Conflicted`, `supportedKinds` and `attachedRoutes`. Pure: the
 * listeners and attachments come from the same reading the routes are served by.
 */
import { isIP } from 'node:net';
import {
  attachRoute,
  gatewayIndex,
  listenerServes,
  type GatewayListener,
  type KubeObject,
  type ParseContext,
} from '@tether/dialects';
import { loadTlsSecret, secretIndex } from './reconcile/tls-certificates';
import { withTransitionTimes, type Condition } from './status-desired';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

type Wanted = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/** Conditions with observedGeneration, keeping lastTransitionTime while a status stays. */
function stamped(
  wanted: Wanted[],
  before: unknown,
  generation: number | undefined,
  now: Date,
): Condition[] {
  const observed = generation === undefined ? {} : { observedGeneration: generation };
  return withTransitionTimes(
    wanted.map((c) => ({ ...c, ...observed })),
    before,
    now,
  );
}

/** Whether a Secret loads as a certificate and key, remembered per Secret object. */
const loads = new WeakMap<KubeObject, string | undefined>();

function loadProblem(secret: KubeObject): string | undefined {
  if (!loads.has(secret)) {
    const loaded = loadTlsSecret(secret);
    loads.set(secret, 'problem' in loaded ? loaded.problem : undefined);
  }
  return loads.get(secret);
}

/**
 * The listener's conditions. A certificate Secret that exists but does not load is
 * `InvalidCertificateRef` too: the listener serves nothing with it.
 */
function listenerConditions(
  l: GatewayListener,
  secrets: ReadonlyMap<string, KubeObject>,
): Wanted[] {
  let resolvedRefs: Wanted = { type: 'ResolvedRefs', ...l.resolvedRefs };
  if (l.tlsSecret !== undefined) {
    const secret = secrets.get(l.tlsSecret);
    const problem = secret ? loadProblem(secret) : undefined;
    if (problem !== undefined)
      resolvedRefs = {
        type: 'ResolvedRefs',
        status: 'False',
        reason: 'InvalidCertificateRef',
        message: `Secret ${l.tlsSecret} ${problem}`,
      };
  }
  const serves = listenerServes(l) && resolvedRefs.status === 'True';
  return [
    { type: 'Accepted', ...l.accepted },
    {
      type: 'Conflicted',
      status: l.conflicted ? 'True' : 'False',
      reason: l.conflicted?.reason ?? 'NoConflicts',
      message: l.conflicted?.message ?? 'No conflicts',
    },
    resolvedRefs,
    serves
      ? { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'Listener is served' }
      : {
          type: 'Programmed',
          status: 'False',
          reason: 'Invalid',
          message: 'Listener serves no route: see its other conditions',
        },
  ];
}

export interface GatewayStatusInput {
  gateway: KubeObject;
  context: ParseContext;
  /** Every route whose parents may name the Gateway (HTTPRoutes, GRPCRoutes, TLSRoutes). */
  routes: readonly KubeObject[];
  addresses: readonly string[];
  now: Date;
}

/** How many routes attach to each listener of the Gateway, by listener name. */
function attachedCounts(gateway: KubeObject, input: GatewayStatusInput): Map<string, number> {
  const counts = new Map<string, number>();
  for (const route of input.routes) {
    const seen = new Set<string>();
    for (const parent of attachRoute(route, input.context) ?? [])
      if (parent.gateway === gateway)
        for (const { listener } of parent.listeners) seen.add(listener.name);
    for (const name of seen) counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

/** The whole `status` of a Gateway of ours. */
export function desiredGatewayStatus(input: GatewayStatusInput): Record<string, unknown> {
  const { gateway, now } = input;
  const found = gatewayIndex(input.context).byKey.get(
    `${gateway.metadata.namespace ?? 'default'}/${gateway.metadata.name}`,
  );
  const listeners = found?.listeners ?? [];
  const generation = (gateway.metadata as { generation?: unknown }).generation;
  const gen = typeof generation === 'number' ? generation : undefined;
  const current = (gateway.status ?? {}) as {
    conditions?: unknown;
    listeners?: { name?: unknown; conditions?: unknown }[];
  };
  const counts = attachedCounts(gateway, input);
  const secrets = secretIndex(input.context.objects);
  const valid = listeners.filter((l) => l.accepted.status === 'True' && !l.conflicted);
  const programmed = listeners.some(listenerServes);
  const addresses = [...new Set(input.addresses)].map((a) => ({
    type: isIP(a) ? 'IPAddress' : 'Hostname',
    value: a,
  }));
  const gatewayConditions: Wanted[] = [
    valid.length === listeners.length && valid.length > 0
      ? { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'Gateway is accepted' }
      : {
          // Some listeners valid: the Gateway is accepted with those (the spec's partial set).
          type: 'Accepted',
          status: valid.length > 0 ? 'True' : 'False',
          reason: 'ListenersNotValid',
          message:
            valid.length > 0
              ? `listeners not accepted or conflicted: ${listeners
                  .filter((l) => !valid.includes(l))
                  .map((l) => l.name)
                  .join(', ')}; served: ${valid.map((l) => l.name).join(', ')}`
              : 'no listener of the Gateway can be served',
        },
    programmed
      ? {
          type: 'Programmed',
          status: 'True',
          reason: 'Programmed',
          message: 'Gateway is served by the proxy',
        }
      : {
          type: 'Programmed',
          status: 'False',
          reason: 'Invalid',
          message: 'no listener of the Gateway is served',
        },
  ];
  return {
    ...(addresses.length > 0 ? { addresses } : {}),
    conditions: stamped(gatewayConditions, current.conditions, gen, now),
    listeners: listeners.map((l) => ({
      name: l.name,
      supportedKinds: l.kinds.map((kind) => ({ group: GATEWAY_GROUP, kind })),
      attachedRoutes: counts.get(l.name) ?? 0,
      conditions: stamped(
        listenerConditions(l, secrets),
        current.listeners?.find((c) => c.name === l.name)?.conditions,
        gen,
        now,
      ),
    })),
  };
}
