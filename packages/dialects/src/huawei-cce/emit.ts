import { annotationsOf } from '../kube';
import type { EmitInput, EmitOutput, KubeObject } from '../types';
import {
  ALGORITHM,
  APP_COOKIE_KEY,
  CLASS,
  DEFAULT_ALGORITHM,
  MODE,
  OPTION,
  TIMEOUT_KEY,
  type ElbClass,
} from './annotations';
import { flatOf } from '../emit-losses';
import { expectedLosses, whyCce } from './emit-losses';
import {
  DEFAULT_MINUTES,
  LAYER_OF_KIND,
  planWrite,
  readBack,
  type CceWrite,
} from './features/persistence';

/**
 * Ingress first: CCE's cookie stickiness (HTTP_COOKIE, APP_COOKIE) lives on Ingress routes,
 * which is what most policies need. A Service is written on for its own LoadBalancer listener,
 * where CCE applies only SOURCE_IP. A cookie policy on a Service therefore cannot be written
 * on it and is reported.
 */
export const targetKinds = ['Ingress', 'Service'] as const;

/** The option JSON in CCE's documented spelling: one key, the value always a JSON string. */
const optionJson = (key: string, value: string): string =>
  `{${JSON.stringify(key)}: ${JSON.stringify(value)}}`;

function elbClassOf(object: KubeObject): ElbClass | undefined {
  const value = annotationsOf(object)[CLASS];
  return value === 'union' || value === 'performance' ? value : undefined;
}

/**
 * The annotations for a write. Values equal to CCE's defaults are left out unless `explicit`,
 * or unless the object already carries the key (its old value must not survive).
 */
function annotationsFor(
  write: CceWrite,
  explicit: boolean,
  object: KubeObject,
): Record<string, string> {
  const present = annotationsOf(object);
  const wanted = (key: string, isDefault: boolean): boolean =>
    explicit || !isDefault || present[key] !== undefined;
  const out: Record<string, string> = {};
  if (wanted(ALGORITHM, write.algorithm === DEFAULT_ALGORITHM)) out[ALGORITHM] = write.algorithm;
  if (write.mode === undefined) return out;
  out[MODE] = write.mode;
  if (write.mode === 'APP_COOKIE' && write.appCookieName !== undefined)
    out[OPTION] = optionJson(APP_COOKIE_KEY, write.appCookieName);
  else if (
    write.minutes !== undefined &&
    wanted(OPTION, write.minutes === DEFAULT_MINUTES[write.layer])
  )
    out[OPTION] = optionJson(TIMEOUT_KEY, String(write.minutes));
  return out;
}

/**
 * Writes the first entry's policy as CCE annotations on an Ingress or a Service, and reports
 * every field that CCE will not say as the source did (and any entry whose policy differs
 * from the first: the annotations hold one setting per object). Never throws.
 */
export function emit({ object, entries, explicit }: EmitInput): EmitOutput {
  const out: EmitOutput = { annotations: {}, spec: [], diagnostics: [], covers: [] };
  const layer = LAYER_OF_KIND[object.kind];
  const withPolicy = entries.filter((e) => e.policy !== null);
  const [first] = withPolicy;
  if (layer === undefined || first === undefined) return out;
  const { write, notes } = planWrite(flatOf(first), layer, elbClassOf(object));
  out.annotations = annotationsFor(write, explicit, object);
  const found = expectedLosses({
    entries: withPolicy,
    expected: readBack(write),
    notes,
    why: whyCce,
    oneSetting: 'the annotations hold one setting per object',
  });
  out.diagnostics = found.diagnostics;
  out.covers = found.covers;
  return out;
}
