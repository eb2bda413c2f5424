/**
 * Balancing: `load-balance`, `upstream-hash-by` and its subset keys — read, checked against
 * cookie affinity and service-upstream, turned into load-balancing fields, and written back.
 */
import { LoadBalancing, PersistenceMode, PolicyField, quote, warning } from '@tether/model';
import type { FieldCollector } from '../../helpers';
import { HASH_BY_CHARS, KEY, LOAD_BALANCE_VALUES, NginxKey } from '../annotations';
import type { Expression } from '../expression';
import { AnnotationReader, bool, integer, oneOf, token } from '../reader';
import type { NginxSettings } from '../settings-shape';
import type { IngressFacts } from './affinity';

/** Reads the balancing keys. */
export function readBalancing(reader: AnnotationReader, settings: NginxSettings): void {
  settings.loadBalance = reader.read(KEY.loadBalance, oneOf(LOAD_BALANCE_VALUES));
  settings.hashBy = reader.read(KEY.upstreamHashBy, token(HASH_BY_CHARS));
  settings.hashBySubset = reader.read(KEY.upstreamHashBySubset, bool);
  settings.hashBySubsetSize = reader.read(KEY.upstreamHashBySubsetSize, integer);
}

const BALANCING_KEYS: readonly NginxKey[] = [
  KEY.loadBalance,
  KEY.upstreamHashBy,
  KEY.upstreamHashBySubset,
  KEY.upstreamHashBySubsetSize,
];

function affinityOverridesBalancing(r: AnnotationReader, s: NginxSettings): void {
  if (s.loadBalance === undefined && s.hashBy === undefined) return;
  const sticky =
    s.loadBalance === 'sticky_persistent' && s.affinityMode === undefined
      ? `; load-balance "sticky_persistent" does not choose persistent mode, ${KEY.affinityMode} does`
      : '';
  // Row 21: the controller picks the sticky balancer whenever affinity is "cookie".
  r.diagnostics.push(
    warning(
      'BalancingOverriddenByPersistence',
      `cookie affinity decides the endpoint for every request of this upstream; ingress-nginx ignores ${[
        s.loadBalance !== undefined ? `load-balance ${quote(s.loadBalance)}` : '',
        s.hashBy !== undefined ? `upstream-hash-by ${quote(s.hashBy)}` : '',
      ]
        .filter(Boolean)
        .join(' and ')}${sticky}`,
      r.source(KEY.affinity),
      ...r.sources(...BALANCING_KEYS),
    ),
  );
}

/** The balancing rules that look at several annotations together. */
export function checkBalancing(r: AnnotationReader, s: NginxSettings): void {
  if (s.hashBySubset === true && s.hashBy === undefined) {
    r.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEY.upstreamHashBySubset} has no effect without ${KEY.upstreamHashBy}`,
        r.source(KEY.upstreamHashBySubset),
      ),
    );
  }
  if (r.has(KEY.upstreamHashBySubsetSize) && s.hashBySubset !== true) {
    r.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEY.upstreamHashBySubsetSize} has no effect unless ${KEY.upstreamHashBySubset} is "true"`,
        r.source(KEY.upstreamHashBySubsetSize),
      ),
    );
  }
  if (s.affinity) {
    affinityOverridesBalancing(r, s);
    return;
  }
  if (s.serviceUpstream === true) {
    const written = BALANCING_KEYS.filter((k) => r.has(k));
    if (written.length > 0) {
      r.diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${KEY.serviceUpstream} is "true": ingress-nginx proxies to the Service's ClusterIP alone, so ${written.join(', ')} ${written.length > 1 ? 'have' : 'has'} no effect`,
          r.source(KEY.serviceUpstream),
          ...r.sources(...written),
        ),
      );
    }
    return;
  }
  if (s.hashBy !== undefined) {
    if (
      s.loadBalance !== undefined &&
      s.loadBalance !== 'chash' &&
      s.loadBalance !== 'chashsubset'
    ) {
      r.diagnostics.push(
        warning(
          'ValueOverridden',
          `${KEY.upstreamHashBy} takes precedence over load-balance ${quote(s.loadBalance)}`,
          r.source(KEY.upstreamHashBy),
          r.source(KEY.loadBalance),
        ),
      );
    }
    if (s.hashBySubset === true) {
      r.diagnostics.push(
        warning(
          'NotReproduced',
          `ingress-nginx hashes each key to a subset of ${s.hashBySubsetSize ?? 3} endpoints and picks one of them at random per request; Tether hashes each key to a single endpoint`,
          r.source(KEY.upstreamHashBySubset),
          ...r.sources(KEY.upstreamHashBySubsetSize),
        ),
      );
    }
    return;
  }
  if (s.loadBalance === 'chash' || s.loadBalance === 'chashsubset') {
    r.diagnostics.push(
      warning(
        'MissingValue',
        `load-balance ${quote(s.loadBalance)} hashes the value named by ${KEY.upstreamHashBy}, which is not set; ingress-nginx would have no key to hash, Tether balances round robin`,
        r.source(KEY.loadBalance),
      ),
    );
  }
  if (s.loadBalance === 'sticky_balanced' || s.loadBalance === 'sticky_persistent') {
    r.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `load-balance ${quote(s.loadBalance)} pins sessions only together with ${KEY.affinity}: "cookie"; without it ingress-nginx issues no cookie and sends each request to a random endpoint`,
        r.source(KEY.loadBalance),
      ),
    );
  }
}

/**
 * The controller picks one balancer per upstream: the sticky one when affinity is "cookie",
 * else consistent hashing when upstream-hash-by is set, else load-balance, else the ConfigMap
 * default. With service-upstream the only endpoint is the ClusterIP, so nothing is balanced.
 */
export function balancingFields(c: FieldCollector, s: NginxSettings): void {
  if (s.affinity || s.serviceUpstream === true) return;
  if (s.hashBy === CLIENT_ADDRESS) {
    // Hashing on the client address alone is source-IP hashing, as OCI's IP_HASH or HAProxy's source.
    c.set('loadBalancing.algorithm', 'sourceIpHash', KEY.upstreamHashBy);
    return;
  }
  if (s.hashBy !== undefined) {
    c.set('loadBalancing.algorithm', 'hash', KEY.upstreamHashBy);
    c.set('loadBalancing.hashKey', s.hashBy, KEY.upstreamHashBy);
    return;
  }
  switch (s.loadBalance) {
    case 'round_robin':
      c.set('loadBalancing.algorithm', 'roundRobin', KEY.loadBalance);
      return;
    case 'ewma':
      c.set('loadBalancing.algorithm', 'ewma', KEY.loadBalance);
      return;
    case 'sticky_balanced':
    case 'sticky_persistent':
      // Without affinity no cookie is issued and each request gets a fresh random key.
      c.set('loadBalancing.algorithm', 'random', KEY.loadBalance);
      return;
    default:
      // Unset, or chash without a key to hash (warned about when reading).
      c.setDefault('loadBalancing.algorithm', 'roundRobin', KEY.loadBalance);
  }
}

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
