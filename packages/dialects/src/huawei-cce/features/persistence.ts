/**
 * Sticky sessions on CCE: `session-affinity-mode` with its option JSON (and the open-source
 * provider's `session-affinity-flag`). Reading: every rule of CCE checked on one object and
 * layer, into a plan, and the plan into policy fields. Writing: a policy into what CCE's
 * annotations must say, and what CCE's parser gives back for it.
 */
import { Diagnostic, error, quote, warning, type FlatValues } from '@tether/model';
import type { Notes } from '../../emit-losses';
import type { FieldCollector } from '../../helpers';
import { sourceOf } from '../../kube';
import type { KubeObject } from '../../types';
import {
  ALGORITHM,
  ALGORITHMS,
  APP_COOKIE_KEY,
  CLASS,
  DEFAULT_ALGORITHM,
  DEFAULT_COOKIE_NAME,
  L4_TIMEOUT,
  L7_TIMEOUT,
  MODE,
  OPTION,
  OSS_FLAG,
  TIMEOUT_KEY,
  type ElbAlgorithm,
  type ElbClass,
  type ElbMode,
} from '../annotations';
import { DIALECT, type ElbOption, type ElbSettings } from '../settings';

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

// Writing: a policy into what CCE says.

/** What the emitter writes on one object: the inverse of one CCE plan, with the algorithm. */
export interface CceWrite {
  layer: Layer;
  mode?: ElbMode;
  /** persistence_timeout for SOURCE_IP and HTTP_COOKIE. */
  minutes?: number;
  appCookieName?: string;
  /** The algorithm ELB will use; ROUND_ROBIN when the policy names none CCE knows. */
  algorithm: ElbAlgorithm;
}

type Range = { min: number; max: number; defaultMinutes: number };

/** The policy fields that hold a number of seconds a CCE timeout can be written from. */
type SecondsField =
  | 'cookie.maxAgeSeconds'
  | 'cookie.expiresSeconds'
  | 'absoluteTimeoutSeconds'
  | 'sourceIp.timeoutSeconds'
  | 'idleTimeoutSeconds';

/** The first of `fields` the policy sets. */
const firstSet = (flat: FlatValues, fields: readonly SecondsField[]): SecondsField | undefined =>
  fields.find((f) => flat[f] !== undefined);

const ELB_ALGORITHM_OF: Partial<Record<string, ElbAlgorithm>> = Object.fromEntries(
  Object.entries(ALGORITHMS).map(([elb, model]) => [model, elb as ElbAlgorithm]),
);

const LAYER_TARGET: Record<Layer, string> = {
  l4: "a LoadBalancer Service's own listener",
  l7: 'an Ingress route',
};

/**
 * Seconds to whole minutes within the layer's range. Rounding goes up, so stickiness never
 * ends sooner than the source asked; every change is noted on `field`.
 */
function toMinutes(
  seconds: number,
  field: SecondsField,
  range: Range,
  layer: Layer,
  notes: Notes,
): number {
  let minutes = Math.ceil(seconds / 60);
  const why: string[] = [];
  if (seconds % 60 !== 0 && minutes >= range.min && minutes <= range.max)
    why.push(`persistence_timeout counts whole minutes; ${seconds} s is rounded up to ${minutes}`);
  if (minutes < range.min) {
    minutes = range.min;
    why.push(`the shortest persistence_timeout CCE accepts is ${range.min} minute`);
  } else if (minutes > range.max) {
    minutes = range.max;
    why.push(`CCE accepts at most ${range.max} minutes on ${LAYER_TARGET[layer]}`);
  }
  if (why.length > 0) notes[field] = `${why.join('; ')} (written as ${minutes} minutes)`;
  return minutes;
}

/** The cookie lifetime for HTTP_COOKIE: Max-Age, else Expires, else the absolute timeout. */
function cookieMinutes(flat: FlatValues, notes: Notes): number {
  const origin = firstSet(flat, [
    'cookie.maxAgeSeconds',
    'cookie.expiresSeconds',
    'absoluteTimeoutSeconds',
  ]);
  if (origin === undefined) {
    notes['cookie.lifetime'] =
      `ELB's inserted cookie always lasts persistence_timeout minutes (${L7_TIMEOUT.defaultMinutes} by default); CCE has no session cookie`;
    notes['cookie.maxAgeSeconds'] = notes['cookie.lifetime'];
    return L7_TIMEOUT.defaultMinutes;
  }
  const seconds = flat[origin] ?? 0;
  const minutes = toMinutes(seconds, origin, L7_TIMEOUT, 'l7', notes);
  if (origin !== 'cookie.maxAgeSeconds') {
    const how = `written from ${origin} as persistence_timeout ${minutes} minutes, which ELB sets as the cookie's Max-Age`;
    notes['cookie.maxAgeSeconds'] = how;
    notes[origin] = notes[origin] ? `${notes[origin]}; ${how}` : how;
    if (flat['cookie.lifetime'] === 'session')
      notes['cookie.lifetime'] =
        `CCE has no session cookie: the ${origin} limit became the cookie's Max-Age`;
  }
  return minutes;
}

/** Source-IP window: the source-IP timeout, else the idle, else the absolute timeout. */
function sourceIpMinutes(flat: FlatValues, notes: Notes): number {
  const origin = firstSet(flat, [
    'sourceIp.timeoutSeconds',
    'idleTimeoutSeconds',
    'absoluteTimeoutSeconds',
  ]);
  if (origin === undefined) {
    notes['sourceIp.timeoutSeconds'] =
      `CCE always limits source-IP stickiness; written with its default of ${L4_TIMEOUT.defaultMinutes} minutes`;
    return L4_TIMEOUT.defaultMinutes;
  }
  const minutes = toMinutes(flat[origin] ?? 0, origin, L4_TIMEOUT, 'l4', notes);
  if (origin !== 'sourceIp.timeoutSeconds') {
    notes['sourceIp.timeoutSeconds'] =
      `written from ${origin} as persistence_timeout ${minutes} minutes`;
  }
  return minutes;
}

/** The backend cookie APP_COOKIE follows: one exact name, a token CCE's parser accepts. */
function appCookieName(flat: FlatValues, notes: Notes): string | undefined {
  const name = flat['appCookie.name'];
  if (name === undefined) return undefined;
  if (name === '*') {
    notes['appCookie.name'] =
      'CCE names one backend cookie in app_cookie_name and has no wildcard for any cookie the backend sets; APP_COOKIE is not written';
    return undefined;
  }
  if (!COOKIE_TOKEN.test(name) || name.length > COOKIE_NAME_MAX) {
    notes['appCookie.name'] =
      `${quote(name)} is not a cookie name CCE accepts in app_cookie_name; APP_COOKIE is not written`;
    return undefined;
  }
  return name;
}

const ON_SERVICE =
  "a LoadBalancer Service's own listeners are layer 4 (TCP/UDP), where CCE applies only SOURCE_IP; cookie stickiness belongs on the Ingress in front of the Service";

/** Chooses the sticky mode for the layer, or notes why there is none. */
function chooseMode(flat: FlatValues, write: CceWrite, elbClass: ElbClass | undefined): Notes {
  const notes: Notes = {};
  const { layer } = write;
  switch (flat.mode) {
    case 'sourceIp':
      if (layer === 'l7') {
        notes.mode =
          "CCE applies SOURCE_IP stickiness only to a LoadBalancer Service's own listener; on Ingress routes ELB sticks by cookie (the SOURCE_IP algorithm, which hashes the client address, can be set by hand if that fits)";
        break;
      }
      write.mode = 'SOURCE_IP';
      write.minutes = sourceIpMinutes(flat, notes);
      break;
    case 'cookie':
      if (layer === 'l4') {
        notes.mode = ON_SERVICE;
        break;
      }
      write.mode = 'HTTP_COOKIE';
      write.minutes = cookieMinutes(flat, notes);
      break;
    case 'appCookie': {
      if (layer === 'l4') {
        notes.mode = ON_SERVICE;
        break;
      }
      if (elbClass === 'performance') {
        notes.mode = `APP_COOKIE does not take effect on a dedicated ELB (${CLASS}: performance), which this object names`;
        break;
      }
      const name = appCookieName(flat, notes);
      if (name === undefined) {
        notes.mode = notes['appCookie.name'] ?? 'APP_COOKIE needs the backend cookie name';
        break;
      }
      write.mode = 'APP_COOKIE';
      write.appCookieName = name;
      break;
    }
    case 'header':
      notes.mode = 'CCE has no header-based stickiness (ELB sticks by source IP or by cookie)';
      break;
    default:
      break;
  }
  return notes;
}

/**
 * What to write on one object for one flat policy, and notes on what could not be carried as
 * it was. `layer` is l4 for a Service (its own listener), l7 for an Ingress.
 */
export function planWrite(
  flat: FlatValues,
  layer: Layer,
  elbClass: ElbClass | undefined,
): { write: CceWrite; notes: Notes } {
  const write: CceWrite = { layer, algorithm: DEFAULT_ALGORITHM };
  const notes = chooseMode(flat, write, elbClass);
  const algorithm = flat['loadBalancing.algorithm'];
  const elbAlgorithm = algorithm === undefined ? undefined : ELB_ALGORITHM_OF[algorithm];
  if (algorithm !== undefined && elbAlgorithm === undefined) {
    notes['loadBalancing.algorithm'] =
      `ELB balances only by ROUND_ROBIN, LEAST_CONNECTIONS or SOURCE_IP; it keeps its default ${DEFAULT_ALGORITHM}`;
  } else if (elbAlgorithm === 'SOURCE_IP' && write.mode !== undefined) {
    notes['loadBalancing.algorithm'] =
      `ELB allows no sticky session with the SOURCE_IP algorithm; the sticky session is kept and the algorithm stays ${DEFAULT_ALGORITHM} (for pinned clients the session decides anyway)`;
  } else if (elbAlgorithm !== undefined) write.algorithm = elbAlgorithm;
  return { write, notes };
}

/** The flat policy CCE's parser gives for a write: what the migrated object will say. */
export function readBack(write: CceWrite): FlatValues {
  const flat: FlatValues = {
    mode: 'none',
    rebalance: 'persistent',
    onFailure: 'rebalance',
    'loadBalancing.algorithm': ALGORITHMS[write.algorithm],
  };
  const cookie = (lifetime: 'session' | 'permanent'): FlatValues => ({
    'cookie.name': DEFAULT_COOKIE_NAME,
    'cookie.httpOnly': false,
    'cookie.secure': 'never',
    'cookie.omitSameSiteNoneForOldClients': false,
    'cookie.lifetime': lifetime,
    'cookie.nocache': false,
  });
  const seconds = (write.minutes ?? 0) * 60;
  switch (write.mode) {
    case 'SOURCE_IP':
      return { ...flat, mode: 'sourceIp', 'sourceIp.timeoutSeconds': seconds };
    case 'HTTP_COOKIE':
      return {
        ...flat,
        ...cookie('permanent'),
        mode: 'cookie',
        'cookie.maxAgeSeconds': seconds,
      };
    case 'APP_COOKIE':
      return {
        ...flat,
        ...cookie('session'),
        mode: 'appCookie',
        'appCookie.name': write.appCookieName ?? '',
      };
    default:
      return flat;
  }
}

export const LAYER_OF_KIND: Partial<Record<string, Layer>> = { Service: 'l4', Ingress: 'l7' };

export const DEFAULT_MINUTES: Record<Layer, number> = {
  l4: L4_TIMEOUT.defaultMinutes,
  l7: L7_TIMEOUT.defaultMinutes,
};
