import { Diagnostic, error, quote, warning } from '@tether/model';
import {
  ignoredByVendor,
  isPlainObject,
  matchGoJsonKeys,
  parseJsonValue,
  refusedByVendor,
} from '../helpers';
import { annotationsOf, sourceOf } from '../kube';
import type { KubeObject } from '../types';
import {
  ALGORITHM,
  ALGORITHMS,
  APP_COOKIE_KEY,
  CLASS,
  CLASSES,
  MODE,
  MODES,
  OPTION,
  OSS_FLAG,
  TIMEOUT_KEY,
  type ElbAlgorithm,
  type ElbClass,
  type ElbMode,
} from './annotations';

export const DIALECT = 'huawei-cce';

/** The option JSON after its types were checked; values are the raw strings the user wrote. */
export interface ElbOption {
  timeout?: string;
  appCookieName?: string;
}

/** The CCE annotations of one object, each present only when it holds a value CCE accepts. */
export interface ElbSettings {
  elbClass?: ElbClass;
  algorithm?: ElbAlgorithm;
  mode?: ElbMode;
  /** `invalid` when the option was present but unusable (already reported). */
  option?: ElbOption | 'invalid';
  /** The open-source provider's switch is present. */
  ossFlag: boolean;
  /** The annotation that chose the mode: CCE's mode, or the open-source provider's flag. */
  modeKey: string;
}

const includes = <T extends string>(list: readonly T[], value: string): value is T =>
  (list as readonly string[]).includes(value);

/**
 * The value of one annotation, or undefined when it is absent or empty. CCE treats an empty
 * annotation like a missing one.
 */
function valueOf(object: KubeObject, key: string, diagnostics: Diagnostic[]): string | undefined {
  const raw: unknown = annotationsOf(object)[key];
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'string') return raw;
  diagnostics.push(refusedByVendor(sourceOf(DIALECT, object, key), raw, 'a string'));
  return undefined;
}

function unknownOptionKey(object: KubeObject, key: string): Diagnostic {
  const hint =
    key.toLowerCase() === 'cookie_name'
      ? ` (CCE spells it ${APP_COOKIE_KEY}; cookie_name belongs to the open-source cloud provider)`
      : key.toLowerCase() === 'type'
        ? ` (CCE takes the type from ${MODE}; "type" belongs to the open-source cloud provider)`
        : '';
  return warning(
    'UnknownField',
    `${OPTION}: key ${quote(key)} is not one CCE reads (expected ${TIMEOUT_KEY} or ${APP_COOKIE_KEY})${hint}; CCE would ignore it`,
    sourceOf(DIALECT, object, OPTION),
  );
}

/** One string field of the option JSON; null counts as absent, as in Go. */
function optionString(
  object: KubeObject,
  name: string,
  value: unknown,
  diagnostics: Diagnostic[],
): string | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  const example = name === TIMEOUT_KEY ? '"30"' : '"SESSIONID"';
  const kind = Array.isArray(value)
    ? 'a list'
    : typeof value === 'object'
      ? 'an object'
      : `the ${typeof value} ${String(value)}`;
  diagnostics.push(
    error(
      'InvalidAnnotation',
      `${OPTION}: ${name} must be a JSON string such as ${example}, not ${kind}`,
      sourceOf(DIALECT, object, OPTION),
    ),
  );
  return 'invalid';
}

function readOption(object: KubeObject, diagnostics: Diagnostic[]): ElbSettings['option'] {
  const text = valueOf(object, OPTION, diagnostics);
  if (text === undefined) return undefined;
  const source = sourceOf(DIALECT, object, OPTION);
  const parsed = parseJsonValue(text, source);
  if (parsed.diagnostic) {
    diagnostics.push(parsed.diagnostic);
    return 'invalid';
  }
  if (!isPlainObject(parsed.value)) {
    diagnostics.push(refusedByVendor(source, text, 'a JSON object'));
    return 'invalid';
  }
  const { values, unknown } = matchGoJsonKeys(parsed.value, [TIMEOUT_KEY, APP_COOKIE_KEY]);
  diagnostics.push(...unknown.map((key) => unknownOptionKey(object, key)));
  const timeout = optionString(object, TIMEOUT_KEY, values[TIMEOUT_KEY], diagnostics);
  const appCookieName = optionString(object, APP_COOKIE_KEY, values[APP_COOKIE_KEY], diagnostics);
  if (timeout === 'invalid' || appCookieName === 'invalid') return 'invalid';
  const option: ElbOption = {};
  if (timeout !== undefined) option.timeout = timeout;
  if (appCookieName !== undefined) option.appCookieName = appCookieName;
  return option;
}

/**
 * Reads the CCE annotations of one object, reporting values that are wrong on their own.
 * Combinations (and what each means on a listener) are judged by the callers.
 */
export function readSettings(object: KubeObject, diagnostics: Diagnostic[]): ElbSettings {
  const settings: ElbSettings = {
    ossFlag: annotationsOf(object)[OSS_FLAG] !== undefined,
    modeKey: MODE,
  };
  const elbClass = valueOf(object, CLASS, diagnostics);
  if (elbClass !== undefined) {
    if (includes(CLASSES, elbClass)) settings.elbClass = elbClass;
    else
      diagnostics.push(
        refusedByVendor(sourceOf(DIALECT, object, CLASS), elbClass, CLASSES.join(' or ')),
      );
  }
  const algorithm = valueOf(object, ALGORITHM, diagnostics);
  if (algorithm !== undefined) {
    const names = Object.keys(ALGORITHMS) as ElbAlgorithm[];
    if (includes(names, algorithm)) settings.algorithm = algorithm;
    else
      diagnostics.push(
        refusedByVendor(sourceOf(DIALECT, object, ALGORITHM), algorithm, names.join(', ')),
      );
  }
  const mode = valueOf(object, MODE, diagnostics);
  if (mode !== undefined) {
    if (includes(MODES, mode)) settings.mode = mode;
    else
      diagnostics.push(
        ignoredByVendor(
          'CCE',
          sourceOf(DIALECT, object, MODE),
          mode,
          `${MODES.join(', ')} (case-sensitive)`,
          'leave sticky sessions off',
        ),
      );
  }
  if (settings.mode === undefined && settings.ossFlag && object.kind === 'Service') {
    readOpenSourceDialect(object, settings, diagnostics);
    return settings;
  }
  const option = readOption(object, diagnostics);
  if (option !== undefined) settings.option = option;
  return settings;
}

/** The open-source provider's option keys (`cookie_name`, not CCE's `app_cookie_name`). */
const OSS_TYPE = 'type';
const OSS_COOKIE_NAME = 'cookie_name';

/**
 * The open-source cloud provider's dialect on a Service (kubernetes-sigs/cloud-provider-huaweicloud,
 * `getSessionAffinity` in `pkg/cloudprovider/huaweicloud/sharedloadbalancer.go` and
 * `dedicatedloadbalancer.go`): `session-affinity-flag` other than empty or `off` turns
 * stickiness on, with the typed option `{"type", "cookie_name", "persistence_timeout"}` (a JSON
 * number of minutes). An option that is missing or does not decode is ignored with a warning
 * and the provider's cluster-wide default applies, which a manifest cannot show: Tether takes
 * it to be SOURCE_IP with ELB's default timeout.
 */
function readOpenSourceDialect(
  object: KubeObject,
  settings: ElbSettings,
  diagnostics: Diagnostic[],
): void {
  const raw: unknown = annotationsOf(object)[OSS_FLAG];
  const flag = typeof raw === 'string' ? raw : String(raw);
  if (flag === '' || flag === 'off') {
    if (valueOf(object, OPTION, diagnostics) !== undefined)
      diagnostics.push(
        warning(
          'IneffectiveSetting',
          `${OPTION} has no effect while ${OSS_FLAG} is ${quote(flag)}; the open-source provider leaves stickiness off`,
          sourceOf(DIALECT, object, OPTION),
          sourceOf(DIALECT, object, OSS_FLAG),
        ),
      );
    return;
  }
  settings.modeKey = OSS_FLAG;
  if (flag !== 'on')
    diagnostics.push(
      warning(
        'InvalidAnnotation',
        `${OSS_FLAG}: ${quote(flag)} is not on or off; the open-source provider turns stickiness on for anything but "" and "off"`,
        sourceOf(DIALECT, object, OSS_FLAG),
      ),
    );
  const fallBack = (why: string): void => {
    diagnostics.push(
      warning(
        'InvalidJson',
        `${OPTION}: ${why}; the open-source provider ignores the option and uses its cluster-wide default, which Tether takes to be SOURCE_IP with ELB's default timeout`,
        sourceOf(DIALECT, object, OPTION),
      ),
    );
    settings.mode = 'SOURCE_IP';
    settings.option = {};
  };
  const text = valueOf(object, OPTION, diagnostics);
  if (text === undefined)
    return fallBack('it is missing (the provider requires it when the flag is on)');
  const parsed = parseJsonValue(text, sourceOf(DIALECT, object, OPTION));
  if (parsed.diagnostic || !isPlainObject(parsed.value)) return fallBack('it is not a JSON object');
  const { values, unknown } = matchGoJsonKeys(parsed.value, [
    OSS_TYPE,
    OSS_COOKIE_NAME,
    TIMEOUT_KEY,
  ]);
  for (const key of unknown)
    diagnostics.push(
      warning(
        'UnknownField',
        `${OPTION}: key ${quote(key)} is not one the open-source provider reads (expected ${OSS_TYPE}, ${OSS_COOKIE_NAME} or ${TIMEOUT_KEY}); it would ignore it`,
        sourceOf(DIALECT, object, OPTION),
      ),
    );
  const type = values[OSS_TYPE];
  const cookieName = values[OSS_COOKIE_NAME];
  const timeout = values[TIMEOUT_KEY];
  if (typeof type !== 'string' || !includes(MODES, type))
    return fallBack(`${OSS_TYPE} ${quote(type ?? null)} is not ${MODES.join(', ')}`);
  if (cookieName !== undefined && cookieName !== null && typeof cookieName !== 'string')
    return fallBack(`${OSS_COOKIE_NAME} must be a JSON string`);
  if (timeout !== undefined && timeout !== null && !Number.isInteger(timeout))
    return fallBack(`${TIMEOUT_KEY} must be a whole JSON number of minutes, such as 20`);
  settings.mode = type;
  const option: ElbOption = {};
  if (typeof timeout === 'number') option.timeout = String(timeout);
  if (typeof cookieName === 'string') option.appCookieName = cookieName;
  settings.option = option;
}
