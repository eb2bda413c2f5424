/**
 * Canaries: `canary` and the canary-weight/-by-header/-by-cookie keys — read, checked,
 * turned into route fields, and written back.
 */
import { PolicyField, RouteSettings, warning } from '@tether/model';
import type { FieldCollector } from '../../helpers';
import { BASIC_CHARS, DEFAULT_CANARY_WEIGHT_TOTAL, KEY, NginxKey } from '../annotations';
import type { Expression } from '../expression';
import { AnnotationReader, bool, integer, token } from '../reader';
import type { NginxSettings } from '../settings-shape';

/** Reads the canary keys. */
export function readCanary(reader: AnnotationReader, settings: NginxSettings): void {
  settings.canary = reader.read(KEY.canary, bool);
  settings.canaryWeight = reader.read(KEY.canaryWeight, integer);
  settings.canaryWeightTotal = reader.read(KEY.canaryWeightTotal, integer);
  settings.canaryHeader = reader.read(KEY.canaryByHeader, token(BASIC_CHARS));
  settings.canaryHeaderValue = reader.read(KEY.canaryByHeaderValue, token(BASIC_CHARS));
  settings.canaryCookie = reader.read(KEY.canaryByCookie, token(BASIC_CHARS));
}

const CANARY_KEYS: readonly NginxKey[] = [
  KEY.canaryWeight,
  KEY.canaryWeightTotal,
  KEY.canaryByHeader,
  KEY.canaryByHeaderValue,
  KEY.canaryByCookie,
];

/** The canary rules that look at several annotations together. */
export function checkCanary(r: AnnotationReader, s: NginxSettings): void {
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

/** The canary fields of an entry point of a canary Ingress. */
export function canaryFields(c: FieldCollector, s: NginxSettings): void {
  if (s.canary !== true) return;
  if (s.canaryWeight !== undefined) {
    c.set('route.canary.weight', Math.max(0, s.canaryWeight), KEY.canaryWeight);
  } else c.setDefault('route.canary.weight', 0, KEY.canaryWeight);
  if (s.canaryWeightTotal !== undefined && s.canaryWeightTotal > 0) {
    c.set('route.canary.weightTotal', s.canaryWeightTotal, KEY.canaryWeightTotal);
  } else
    c.setDefault('route.canary.weightTotal', DEFAULT_CANARY_WEIGHT_TOTAL, KEY.canaryWeightTotal);
  if (s.canaryHeader !== undefined) {
    c.set('route.canary.header', s.canaryHeader, KEY.canaryByHeader);
    if (s.canaryHeaderValue !== undefined) {
      c.set('route.canary.headerValue', s.canaryHeaderValue, KEY.canaryByHeaderValue);
    }
  }
  if (s.canaryCookie !== undefined)
    c.set('route.canary.cookie', s.canaryCookie, KEY.canaryByCookie);
}

/** A canary split as the canary Ingress's annotations. */
export function expressCanary(x: Expression, c: NonNullable<RouteSettings['canary']>): void {
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
