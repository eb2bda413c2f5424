import { quote, type FlatValues } from '@tether/model';
import {
  ALGORITHMS,
  CLASS,
  DEFAULT_ALGORITHM,
  DEFAULT_COOKIE_NAME,
  L4_TIMEOUT,
  L7_TIMEOUT,
  type ElbAlgorithm,
  type ElbClass,
  type ElbMode,
} from './annotations';
import type { Notes } from '../emit-losses';
import { COOKIE_NAME_MAX, COOKIE_TOKEN, type Layer } from './plan';

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

const LAYER_NAME: Record<Layer, string> = {
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
    why.push(`CCE accepts at most ${range.max} minutes on ${LAYER_NAME[layer]}`);
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
