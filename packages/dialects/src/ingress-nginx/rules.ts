import { error, info, quote, warning } from '@tether/model';
import { KEY, NginxKey } from './annotations';
import type { AnnotationReader } from './reader';
import type { NginxSettings } from './settings-shape';

const BALANCING_KEYS: readonly NginxKey[] = [
  KEY.loadBalance,
  KEY.upstreamHashBy,
  KEY.upstreamHashBySubset,
  KEY.upstreamHashBySubsetSize,
];

const CANARY_KEYS: readonly NginxKey[] = [
  KEY.canaryWeight,
  KEY.canaryWeightTotal,
  KEY.canaryByHeader,
  KEY.canaryByHeaderValue,
  KEY.canaryByCookie,
];

function cookieRules(r: AnnotationReader, s: NginxSettings): void {
  if (s.sameSite && s.sameSite.written !== s.sameSite.value) {
    r.diagnostics.push(
      info(
        'ValueNormalised',
        `${KEY.cookieSameSite}: ingress-nginx sends ${quote(s.sameSite.written)} as written; browsers read SameSite without regard to case, so Tether uses ${s.sameSite.value}`,
        r.source(KEY.cookieSameSite),
      ),
    );
  }
  if (s.conditionalSameSiteNone === true && s.sameSite?.written !== 'None') {
    r.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEY.cookieConditionalSameSiteNone} takes effect only when ${KEY.cookieSameSite} is exactly "None" (${s.sameSite ? `it is ${quote(s.sameSite.written)}` : 'it is not set'}); ingress-nginx would never leave SameSite out`,
        r.source(KEY.cookieConditionalSameSiteNone),
        ...r.sources(KEY.cookieSameSite),
      ),
    );
  }
  for (const [key, value] of [
    [KEY.cookieMaxAge, s.maxAgeSeconds],
    [KEY.cookieExpires, s.expiresSeconds],
  ] as const) {
    if (value === undefined || value > 0) continue;
    r.diagnostics.push(
      warning(
        'InvalidAnnotation',
        `${key}: ${value} seconds makes browsers discard the cookie at once, so sessions never stick; ingress-nginx sends it anyway, and so does Tether`,
        r.source(key),
      ),
    );
  }
  // Row 18: with regular-expression paths the cookie Path would be the expression's text.
  if (s.useRegex === true && s.cookiePath === undefined) {
    r.diagnostics.push(
      warning(
        'CookiePathIsRegex',
        `${KEY.useRegex} is "true" and no valid ${KEY.cookiePath} is set, so the cookie Path is the text of each path's regular expression, which browsers compare literally; set ${KEY.cookiePath}`,
        ...r.sources(KEY.useRegex, KEY.affinity, KEY.cookiePath),
      ),
    );
  }
}

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

function balancingRules(r: AnnotationReader, s: NginxSettings): void {
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

function canaryRules(r: AnnotationReader, s: NginxSettings): void {
  const written = CANARY_KEYS.filter((k) => r.has(k));
  if (s.canary !== true) {
    if (written.length > 0) {
      r.diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${written.join(', ')} ${written.length > 1 ? 'have' : 'has'} no effect unless ${KEY.canary} is "true"; ingress-nginx would ignore the canary settings`,
          ...r.sources(...written, KEY.canary),
        ),
      );
    }
    if (r.has(KEY.affinityCanaryBehavior) && !s.affinity) {
      r.diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${KEY.affinityCanaryBehavior} has no effect on an Ingress that is neither a canary nor uses cookie affinity`,
          r.source(KEY.affinityCanaryBehavior),
        ),
      );
    }
    return;
  }
  if (s.canaryHeaderValue !== undefined && s.canaryHeader === undefined) {
    r.diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${KEY.canaryByHeaderValue} has no effect without ${KEY.canaryByHeader}`,
        r.source(KEY.canaryByHeaderValue),
      ),
    );
  }
  if (s.canaryWeight !== undefined && s.canaryWeight < 0) {
    r.diagnostics.push(
      warning(
        'InvalidAnnotation',
        `${KEY.canaryWeight}: ${s.canaryWeight} is negative, so no request goes to the canary by weight; Tether uses 0`,
        r.source(KEY.canaryWeight),
      ),
    );
  }
  if (s.canaryWeightTotal !== undefined && s.canaryWeightTotal <= 0) {
    r.diagnostics.push(
      warning(
        'InvalidAnnotation',
        `${KEY.canaryWeightTotal}: ${s.canaryWeightTotal} is not positive; nginx could not draw a share of it, Tether uses 100`,
        r.source(KEY.canaryWeightTotal),
      ),
    );
  }
  const total =
    s.canaryWeightTotal !== undefined && s.canaryWeightTotal > 0 ? s.canaryWeightTotal : 100;
  if (s.canaryWeight !== undefined && s.canaryWeight > total) {
    r.diagnostics.push(
      warning(
        'InvalidAnnotation',
        `${KEY.canaryWeight}: ${s.canaryWeight} is more than the total of ${total}, so every request goes to the canary`,
        ...r.sources(KEY.canaryWeight, KEY.canaryWeightTotal),
      ),
    );
  }
}

/** The rules that look at several annotations of one Ingress together. */
export function applyRules(r: AnnotationReader, s: NginxSettings): void {
  if (s.affinity) cookieRules(r, s);
  // Row 20: with service-upstream there is one upstream address, so nothing can be pinned.
  if (s.affinity && s.serviceUpstream === true) {
    s.refused = true;
    r.diagnostics.push(
      error(
        'IncompatibleSettings',
        `${KEY.affinity} "cookie" cannot work with ${KEY.serviceUpstream} "true": ingress-nginx would proxy to the Service's ClusterIP alone and sessions would silently not stick; Tether refuses the Ingress`,
        r.source(KEY.affinity),
        r.source(KEY.serviceUpstream),
      ),
    );
  }
  balancingRules(r, s);
  canaryRules(r, s);
}
