import { Diagnostic, error, quote, warning } from '@tether/model';
import type { FieldCollector } from '../helpers';
import { sourceOf } from '../kube';
import type { KubeObject } from '../types';
import {
  ALGORITHM,
  APP_COOKIE_KEY,
  CLASS,
  DEFAULT_COOKIE_NAME,
  L4_TIMEOUT,
  L7_TIMEOUT,
  MODE,
  OPTION,
  OSS_FLAG,
  TIMEOUT_KEY,
} from './annotations';
import { DIALECT, type ElbOption, type ElbSettings } from './read';

/** Layer 4: a LoadBalancer Service's own listener. Layer 7: an Ingress route. */
export type Layer = 'l4' | 'l7';

/** The sticky session one object asks for on one layer, after every rule of CCE was checked. */
export type Plan = (
  | { mode: 'sourceIp'; minutes: number; minutesIsDefault: boolean }
  | { mode: 'cookie'; minutes: number; minutesIsDefault: boolean }
  | { mode: 'appCookie'; appCookieName: string }
) & {
  /** The annotation that chose the mode, when not CCE's session-affinity-mode. */
  modeKey?: string;
};

/** A cookie name is an RFC 6265 token; browsers keep no cookie whose name alone passes 4 KiB. */
export const COOKIE_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export const COOKIE_NAME_MAX = 4096;
/** Go's strconv.Atoi: optional sign, ASCII digits, nothing else (no spaces, no units). */
const WHOLE_NUMBER = /^[+-]?[0-9]+$/;

const LAYER_NAME: Record<Layer, string> = {
  l4: 'a layer-4 (TCP/UDP) listener',
  l7: 'a layer-7 (HTTP/HTTPS) route',
};

interface Context {
  object: KubeObject;
  settings: ElbSettings;
  layer: Layer;
  diagnostics: Diagnostic[];
}

const src = (c: Context, key: string) =>
  sourceOf(DIALECT, c.object, key === MODE ? c.settings.modeKey : key);

/** Minutes from persistence_timeout, within the layer's range; undefined after an error. */
function minutes(
  c: Context,
  option: ElbOption,
  range: { min: number; max: number; defaultMinutes: number },
): { minutes: number; minutesIsDefault: boolean } | undefined {
  const raw = option.timeout;
  if (raw === undefined) return { minutes: range.defaultMinutes, minutesIsDefault: true };
  const value = WHOLE_NUMBER.test(raw) ? Number(raw) : Number.NaN;
  if (Number.isNaN(value) || value < range.min || value > range.max) {
    const what = Number.isNaN(value) ? 'is not a whole number of minutes' : 'is out of range';
    c.diagnostics.push(
      error(
        'InvalidAnnotation',
        `${OPTION}: ${TIMEOUT_KEY} ${quote(raw)} ${what} (expected a string of minutes from ${range.min} to ${range.max} on ${LAYER_NAME[c.layer]})`,
        src(c, OPTION),
      ),
    );
    return undefined;
  }
  return { minutes: value, minutesIsDefault: false };
}

function ineffective(c: Context, what: string, mode: string): void {
  c.diagnostics.push(
    warning(
      'IneffectiveSetting',
      `${OPTION}: ${what} has no effect with ${mode}; CCE ignores it`,
      src(c, OPTION),
      src(c, MODE),
    ),
  );
}

function appCookiePlan(c: Context, option: ElbOption): Plan | undefined {
  if (option.timeout !== undefined) ineffective(c, TIMEOUT_KEY, 'APP_COOKIE');
  const name = option.appCookieName;
  if (name === undefined || name === '') {
    c.diagnostics.push(
      error(
        'MissingValue',
        `APP_COOKIE needs the backend's cookie name in ${OPTION} as {"${APP_COOKIE_KEY}": "<name>"}`,
        src(c, MODE),
        src(c, OPTION),
      ),
    );
    return undefined;
  }
  if (!COOKIE_TOKEN.test(name) || name.length > COOKIE_NAME_MAX) {
    c.diagnostics.push(
      error(
        'InvalidAnnotation',
        `${OPTION}: ${APP_COOKIE_KEY} ${quote(name)} is not a valid cookie name (expected letters, digits and !#$%&'*+-.^_\`|~ only, at most ${COOKIE_NAME_MAX} characters)`,
        src(c, OPTION),
      ),
    );
    return undefined;
  }
  return { mode: 'appCookie', appCookieName: name };
}

/** How the object chose its mode, for messages: CCE's annotation or the provider's option. */
function said(c: Context): string {
  const mode = c.settings.mode ?? '';
  return c.settings.modeKey === MODE ? `${MODE}: ${mode}` : `${OPTION} type ${mode}`;
}

/** Rules that refuse the mode whatever the option says; true when one applies. */
function refused(c: Context): boolean {
  const { settings } = c;
  const mode = settings.mode;
  if (mode === undefined) return true;
  if (settings.algorithm === 'SOURCE_IP') {
    c.diagnostics.push(
      error(
        'IncompatibleSettings',
        `${said(c)} cannot be combined with ${ALGORITHM}: SOURCE_IP; ELB allows no sticky session with the source-IP algorithm, which already pins each client address`,
        src(c, MODE),
        src(c, ALGORITHM),
      ),
    );
    return true;
  }
  if (c.layer === 'l4' && mode !== 'SOURCE_IP') {
    c.diagnostics.push(
      error(
        'IncompatibleSettings',
        `${said(c)} needs an HTTP listener, but the own listeners of a LoadBalancer Service are layer 4 (TCP/UDP), where CCE applies only SOURCE_IP; put it on the Ingress or on a NodePort Service behind the Ingress`,
        src(c, MODE),
        sourceOf('kubernetes', c.object, 'spec.type'),
      ),
    );
    return true;
  }
  if (c.layer === 'l7' && mode === 'SOURCE_IP') {
    c.diagnostics.push(
      error(
        'IncompatibleSettings',
        `${said(c)} applies to a LoadBalancer Service's layer-4 listener only; on an Ingress route ELB uses HTTP_COOKIE or APP_COOKIE and would not apply it`,
        src(c, MODE),
      ),
    );
    return true;
  }
  if (mode === 'APP_COOKIE' && settings.elbClass === 'performance') {
    c.diagnostics.push(
      error(
        'IncompatibleSettings',
        `${said(c)} does not take effect on a dedicated ELB (${CLASS}: performance), where only HTTP_COOKIE applies`,
        src(c, MODE),
        src(c, CLASS),
      ),
    );
    return true;
  }
  return false;
}

/**
 * The sticky session the object's annotations give on one layer, or undefined when they give
 * none or CCE would refuse or not apply it (every such case is reported).
 */
export function planPersistence(
  object: KubeObject,
  settings: ElbSettings,
  layer: Layer,
  diagnostics: Diagnostic[],
): Plan | undefined {
  const c: Context = { object, settings, layer, diagnostics };
  const plan = choosePlan(c);
  return plan && settings.modeKey !== MODE ? { ...plan, modeKey: settings.modeKey } : plan;
}

function choosePlan(c: Context): Plan | undefined {
  const { object, settings, layer, diagnostics } = c;
  if (settings.mode === undefined && settings.option !== undefined) {
    const hint =
      settings.ossFlag && object.kind !== 'Service'
        ? ` (${OSS_FLAG} belongs to the open-source cloud provider, which reads it on Services only; CCE enables stickiness with ${MODE})`
        : '';
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${OPTION} has no effect without ${MODE}${hint}`,
        src(c, OPTION),
      ),
    );
  }
  if (refused(c)) return undefined;
  const option = settings.option ?? {};
  if (option === 'invalid') return undefined;
  switch (settings.mode) {
    case 'APP_COOKIE':
      return appCookiePlan(c, option);
    case 'SOURCE_IP':
    case 'HTTP_COOKIE': {
      if (option.appCookieName !== undefined) ineffective(c, APP_COOKIE_KEY, settings.mode);
      const timeout = minutes(c, option, layer === 'l4' ? L4_TIMEOUT : L7_TIMEOUT);
      if (!timeout) return undefined;
      return { mode: settings.mode === 'SOURCE_IP' ? 'sourceIp' : 'cookie', ...timeout };
    }
    default:
      return undefined;
  }
}

/** Writes a plan into fields; defaults carry the provenance "default of huawei-cce". */
export function applyPlan(fields: FieldCollector, plan: Plan): void {
  fields.set('mode', plan.mode, plan.modeKey ?? MODE);
  if (plan.mode === 'appCookie') {
    fields.set('appCookie.name', plan.appCookieName, OPTION);
    fields.setDefault('cookie.name', DEFAULT_COOKIE_NAME, MODE);
    return;
  }
  const seconds = plan.minutes * 60;
  const field = plan.mode === 'sourceIp' ? 'sourceIp.timeoutSeconds' : 'cookie.maxAgeSeconds';
  if (plan.minutesIsDefault) fields.setDefault(field, seconds, OPTION);
  else fields.set(field, seconds, OPTION);
  if (plan.mode === 'cookie') fields.setDefault('cookie.name', DEFAULT_COOKIE_NAME, MODE);
}
