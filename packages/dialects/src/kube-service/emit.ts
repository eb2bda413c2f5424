import type { FlatValues, PolicyField } from '@tether/model';
import { isPlainObject } from '../helpers';
import { flatOf, type Notes } from '../emit-losses';
// Compared against expected values like CCE's annotations; the helper lives beside CCE's emitter.
import { expectedLosses } from '../huawei-cce/emit-losses';
import { readService } from '../kube';
import type { EmitInput, EmitOutput, KubeObject, SpecEdit } from '../types';
import { DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from './annotations';

/** A Service carries its own affinity in its spec; nothing else can. */
export const targetKinds = ['Service'] as const;

const AFFINITY_PATH = ['spec', 'sessionAffinity'] as const;
const CONFIG_PATH = ['spec', 'sessionAffinityConfig'] as const;
const TIMEOUT_PATH = [...CONFIG_PATH, 'clientIP', 'timeoutSeconds'] as const;

/** What a Service's spec will say: ClientIP with a timeout, or nothing. */
interface ServiceWrite {
  timeoutSeconds?: number;
}

const IDLE =
  'kube-proxy restarts the ClientIP window with every new connection from the address, so the one timeout is also an idle timeout';

/** Why a Service's sessionAffinity cannot carry a field as the source said it. */
function whyService(field: PolicyField, before: unknown): string {
  if (field === 'mode')
    return `a Service pins by client address only (sessionAffinity: ClientIP); it has no ${String(before)} stickiness`;
  if (field === 'idleTimeoutSeconds') return IDLE;
  if (field === 'absoluteTimeoutSeconds')
    return 'a Service has one ClientIP timeout, which restarts with each new connection; it has no absolute limit';
  if (field === 'sourceIp.timeoutSeconds')
    return `the API server's default is ${DEFAULT_TIMEOUT_SECONDS} s`;
  if (field === 'rebalance')
    return 'a Service has no balanced mode; a pinned address stays on its endpoint while that endpoint is ready';
  if (field === 'onFailure')
    return 'a Service cannot fail closed, keep retrying a refusing endpoint, or retry elsewhere; kube-proxy picks another endpoint when the pinned one is gone';
  if (field.startsWith('loadBalancing.'))
    return 'a Service has no balancing setting; kube-proxy spreads new addresses over the endpoints itself';
  if (field.startsWith('route.')) return `a Service has no equivalent of ${field}`;
  if (field === 'canaryBehavior') return 'a Service has no canary routing';
  return `a Service's sessionAffinity cannot express ${field}`;
}

/** The ClientIP timeout: the source-IP timeout, else the idle one, else the absolute one. */
function planWrite(flat: FlatValues): { write: ServiceWrite; notes: Notes } {
  const notes: Notes = {};
  if (flat.mode !== 'sourceIp') return { write: {}, notes };
  const fields = [
    'sourceIp.timeoutSeconds',
    'idleTimeoutSeconds',
    'absoluteTimeoutSeconds',
  ] as const;
  const origin = fields.find((f) => flat[f] !== undefined);
  if (origin === undefined) {
    notes['sourceIp.timeoutSeconds'] =
      `a Service always limits ClientIP affinity; written with the API server's default of ${DEFAULT_TIMEOUT_SECONDS} s`;
    return { write: { timeoutSeconds: DEFAULT_TIMEOUT_SECONDS }, notes };
  }
  const seconds = flat[origin] ?? DEFAULT_TIMEOUT_SECONDS;
  const timeoutSeconds = Math.min(seconds, MAX_TIMEOUT_SECONDS);
  const why: string[] = [];
  if (origin === 'absoluteTimeoutSeconds')
    why.push(
      'a Service has no absolute limit; it became the ClientIP timeout, which restarts with each new connection',
    );
  if (seconds > MAX_TIMEOUT_SECONDS)
    why.push(
      `the API server accepts at most ${MAX_TIMEOUT_SECONDS} s (one day); written as ${MAX_TIMEOUT_SECONDS}`,
    );
  if (why.length > 0) notes[origin] = why.join('; ');
  if (origin !== 'sourceIp.timeoutSeconds')
    notes['sourceIp.timeoutSeconds'] = `written from ${origin} as the ClientIP timeout`;
  return { write: { timeoutSeconds }, notes };
}

/** What kube-service's parser gives for a write on a LoadBalancer Service. */
function readBack(write: ServiceWrite): FlatValues {
  const flat: FlatValues = {
    mode: 'none',
    rebalance: 'persistent',
    onFailure: 'rebalance',
    'loadBalancing.algorithm': 'roundRobin',
  };
  if (write.timeoutSeconds === undefined) return flat;
  return {
    ...flat,
    mode: 'sourceIp',
    'sourceIp.timeoutSeconds': write.timeoutSeconds,
    idleTimeoutSeconds: write.timeoutSeconds,
  };
}

/** The spec as it is now: the affinity value and whether a config object is present. */
function currentSpec(object: KubeObject): { affinity?: unknown; config?: unknown } {
  return isPlainObject(object.spec)
    ? { affinity: object.spec.sessionAffinity, config: object.spec.sessionAffinityConfig }
    : {};
}

/**
 * Spec edits for a write. The default timeout is left out unless `explicit` or a config is
 * already there (its old value must not survive); a config that is not an object is replaced.
 */
function specEdits(write: ServiceWrite, explicit: boolean, object: KubeObject): SpecEdit[] {
  const { affinity, config } = currentSpec(object);
  const hasConfig = config !== undefined && config !== null;
  if (write.timeoutSeconds === undefined) {
    // None is the API's default: written when asked, or to clear an affinity already there.
    const clear = hasConfig || (affinity !== undefined && affinity !== 'None' && affinity !== '');
    if (!clear && !(explicit && affinity === undefined)) return [];
    const edits: SpecEdit[] = [{ path: AFFINITY_PATH, value: 'None' }];
    if (hasConfig) edits.push({ path: CONFIG_PATH, value: undefined });
    return edits;
  }
  const edits: SpecEdit[] = [{ path: AFFINITY_PATH, value: 'ClientIP' }];
  const seconds = write.timeoutSeconds;
  if (!explicit && !hasConfig && seconds === DEFAULT_TIMEOUT_SECONDS) return edits;
  const clientIP = isPlainObject(config) ? config.clientIP : undefined;
  if (isPlainObject(clientIP)) edits.push({ path: TIMEOUT_PATH, value: seconds });
  else edits.push({ path: CONFIG_PATH, value: { clientIP: { timeoutSeconds: seconds } } });
  return edits;
}

/**
 * Writes the first entry's policy as `spec.sessionAffinity` (and its ClientIP timeout) of a
 * Service, and reports every field the Service will not say as the source did. Never throws.
 */
export function emit({ object, entries, explicit }: EmitInput): EmitOutput {
  const out: EmitOutput = { annotations: {}, spec: [], diagnostics: [], covers: [] };
  const withPolicy = entries.filter((e) => e.policy !== null);
  const [first] = withPolicy;
  if (object.kind !== 'Service' || first === undefined) return out;
  const { write, notes } = planWrite(flatOf(first));
  out.spec = specEdits(write, explicit, object);
  const found = expectedLosses({
    entries: withPolicy,
    expected: readBack(write),
    notes,
    why: whyService,
    oneSetting: 'a Service has one sessionAffinity for every port',
  });
  out.diagnostics = found.diagnostics;
  out.covers = found.covers;
  return out;
}

/**
 * The affinity fields of a LoadBalancer Service, for removal when its settings move to another
 * dialect. On other Services kube-proxy applies ClientIP to cluster-IP traffic whatever serves
 * the routes in front, and Tether reads nothing from it there, so those fields stay.
 */
export function ownedSpec(object: KubeObject): SpecEdit[] {
  if (object.kind !== 'Service') return [];
  const { spec } = readService(object);
  if (!spec || spec.type !== 'LoadBalancer') return [];
  const { affinity, config } = currentSpec(object);
  const edits: SpecEdit[] = [];
  if (affinity !== undefined) edits.push({ path: AFFINITY_PATH, value: undefined });
  if (config !== undefined) edits.push({ path: CONFIG_PATH, value: undefined });
  return edits;
}
