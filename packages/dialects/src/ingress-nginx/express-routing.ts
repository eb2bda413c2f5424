import { LoadBalancing, PersistenceMode, PolicyField, RouteSettings, quote } from '@tether/model';
import { DEFAULT_CANARY_WEIGHT_TOTAL, KEY } from './annotations';
import type { IngressFacts } from './express-persistence';
import type { Expression } from './expression';

const CLIENT_ADDRESS = '$remote_addr';
const BALANCING: PolicyField[] = ['loadBalancing.algorithm', 'loadBalancing.hashKey'];

function isClientAddressHash(lb: LoadBalancing): boolean {
  return (
    lb.algorithm === 'sourceIpHash' || (lb.algorithm === 'hash' && lb.hashKey === CLIENT_ADDRESS)
  );
}

/**
 * Source-IP persistence becomes a consistent hash of the client address, the nearest thing
 * ingress-nginx has; the mode itself reads back as `none`, so the loss is always reported.
 */
function sourceIp(x: Expression, lb: LoadBalancing): void {
  x.write(KEY.upstreamHashBy, CLIENT_ADDRESS, 'mode', ...BALANCING);
  const displaced =
    lb.algorithm === 'roundRobin' || isClientAddressHash(lb)
      ? ''
      : `; the ${lb.algorithm} balancing gives way to it`;
  x.unsupported(
    `ingress-nginx has no source-IP persistence; upstream-hash-by ${quote(CLIENT_ADDRESS)} is written instead, a consistent hash of the client address that keeps each client on one endpoint while the endpoints stay the same but remembers nothing, so scaling moves some clients${displaced}`,
    'mode',
    ...BALANCING,
  );
}

function algorithm(x: Expression, lb: LoadBalancing): void {
  switch (lb.algorithm) {
    case 'roundRobin':
      x.writeDefault(KEY.loadBalance, 'round_robin', 'loadBalancing.algorithm');
      return;
    case 'ewma':
      x.write(KEY.loadBalance, 'ewma', 'loadBalancing.algorithm');
      return;
    case 'hash':
      if (lb.hashKey !== undefined) x.write(KEY.upstreamHashBy, lb.hashKey, ...BALANCING);
      else
        x.unsupported(
          `hash balancing without a key to hash cannot be written as upstream-hash-by; ingress-nginx balances round robin`,
          ...BALANCING,
        );
      return;
    case 'sourceIpHash':
      x.write(KEY.upstreamHashBy, CLIENT_ADDRESS, ...BALANCING);
      return;
    case 'leastConnections':
      x.unsupported(
        'ingress-nginx has no least-connections balancer (load-balance offers round_robin and ewma, upstream-hash-by hashing); it balances round robin',
        ...BALANCING,
      );
      return;
    case 'random':
      x.unsupported(
        'ingress-nginx has no random balancer that an annotation can choose; it balances round robin',
        ...BALANCING,
      );
  }
}

/**
 * The balancing part: ingress-nginx uses one balancer per upstream, the sticky one whenever
 * cookie affinity is on, so balancing can be written only without it.
 */
export function expressBalancing(
  x: Expression,
  mode: PersistenceMode,
  lb: LoadBalancing,
  facts: IngressFacts,
): void {
  if (facts.serviceUpstream) {
    if (lb.algorithm !== 'roundRobin' || mode === 'sourceIp')
      x.unsupported(
        `${KEY.serviceUpstream} is "true" on this Ingress: ingress-nginx proxies to the Service's ClusterIP alone and balances nothing`,
        ...(mode === 'sourceIp' ? ['mode' as const] : []),
        ...BALANCING,
      );
    return;
  }
  if (mode === 'cookie') {
    if (lb.algorithm !== 'roundRobin')
      x.unsupported(
        `with cookie affinity ingress-nginx's sticky balancer chooses the endpoint of every new session and ignores load-balance and upstream-hash-by, so ${lb.algorithm} balancing cannot be written`,
        ...BALANCING,
      );
    return;
  }
  if (mode === 'sourceIp') sourceIp(x, lb);
  else algorithm(x, lb);
}

function canary(x: Expression, c: NonNullable<RouteSettings['canary']>): void {
  const fields = Object.keys(c).map((k) => `route.canary.${k}` as PolicyField);
  x.write(KEY.canary, 'true', ...fields);
  if (c.weight === undefined || c.weightTotal === undefined)
    x.sameBehaviour(
      `ingress-nginx gives a canary without ${c.weight === undefined ? `${KEY.canaryWeight} a weight of 0` : `${KEY.canaryWeightTotal} a total of ${DEFAULT_CANARY_WEIGHT_TOTAL}`}`,
      ...fields,
    );
  if (c.weight === 0) x.writeDefault(KEY.canaryWeight, '0', 'route.canary.weight');
  else if (c.weight !== undefined)
    x.write(KEY.canaryWeight, String(c.weight), 'route.canary.weight');
  if (c.weightTotal === DEFAULT_CANARY_WEIGHT_TOTAL)
    x.writeDefault(KEY.canaryWeightTotal, String(c.weightTotal), 'route.canary.weightTotal');
  else if (c.weightTotal !== undefined)
    x.write(KEY.canaryWeightTotal, String(c.weightTotal), 'route.canary.weightTotal');
  if (c.header !== undefined) {
    x.write(KEY.canaryByHeader, c.header, 'route.canary.header');
    if (c.headerValue !== undefined)
      x.write(KEY.canaryByHeaderValue, c.headerValue, 'route.canary.headerValue');
  } else if (c.headerValue !== undefined) {
    x.unsupported(
      `ingress-nginx reads ${KEY.canaryByHeaderValue} only together with ${KEY.canaryByHeader}`,
      'route.canary.headerValue',
    );
  }
  if (c.cookie !== undefined) x.write(KEY.canaryByCookie, c.cookie, 'route.canary.cookie');
}

/** Regular-expression paths, the HTTPS redirect and the canary split. */
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
  if (route.canary !== undefined) canary(x, route.canary);
}
