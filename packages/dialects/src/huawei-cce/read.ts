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
  /** The open-source provider's switch is present: a hint for users mixing the two dialects. */
  ossFlag: boolean;
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
  const settings: ElbSettings = { ossFlag: annotationsOf(object)[OSS_FLAG] !== undefined };
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
  const option = readOption(object, diagnostics);
  if (option !== undefined) settings.option = option;
  return settings;
}
