/**
 * Cookie adoption, which every dialect carries the same way: `tether.dev/adopt-cookies` (and
 * `tether.dev/adopt-cookies-until`) on any object with entry points applies to all of them.
 * The values become fields of Tether's own origin, so explain shows where they came from and
 * resolve warns where the mode makes them moot.
 */
import {
  PRECEDENCE,
  error,
  parseAdoptionSources,
  quote,
  setField,
  warning,
  type Diagnostic,
  type FieldValues,
  type Fragment,
} from '@tether/model';
import { annotationsOf, sourceOf, type EntryBackend } from './kube';
import type { KubeObject } from './types';

export const ADOPT_COOKIES = 'tether.dev/adopt-cookies';
export const ADOPT_COOKIES_UNTIL = 'tether.dev/adopt-cookies-until';

export interface AdoptionRead {
  fragments: Fragment[];
  diagnostics: Diagnostic[];
}

const NOTHING: AdoptionRead = { fragments: [], diagnostics: [] };

const TETHER_PREFIX = 'tether.dev/';
const TETHER_KEYS: ReadonlySet<string> = new Set([ADOPT_COOKIES, ADOPT_COOKIES_UNTIL]);

/** Annotations under Tether's own prefix that Tether does not read: misspelt, most likely. */
function unknownTetherKeys(annotations: Record<string, string>, object: KubeObject): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const key of Object.keys(annotations))
    if (key.startsWith(TETHER_PREFIX) && !TETHER_KEYS.has(key))
      out.push(
        warning(
          'UnknownAnnotation',
          `${key} is not an annotation Tether reads (${[...TETHER_KEYS].join(', ')}); it has no effect here (misspelt?)`,
          sourceOf('tether', object, key),
        ),
      );
  return out;
}

/** Reads the adoption annotations of `object` onto its entry points. Never throws. */
export function readAdoption(object: KubeObject, entries: readonly EntryBackend[]): AdoptionRead {
  const annotations = annotationsOf(object);
  const text = annotations[ADOPT_COOKIES];
  const until = annotations[ADOPT_COOKIES_UNTIL];
  const unknown = unknownTetherKeys(annotations, object);
  if (text === undefined && until === undefined)
    return unknown.length === 0 ? NOTHING : { fragments: [], diagnostics: unknown };
  const diagnostics: Diagnostic[] = unknown;
  const textSource = sourceOf('tether', object, ADOPT_COOKIES);
  const untilSource = sourceOf('tether', object, ADOPT_COOKIES_UNTIL);
  if (text === undefined) {
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${ADOPT_COOKIES_UNTIL} has no effect without ${ADOPT_COOKIES}`,
        untilSource,
      ),
    );
    return { fragments: [], diagnostics };
  }
  const parsed = parseAdoptionSources(text);
  for (const problem of parsed.problems)
    diagnostics.push(
      warning('InvalidAnnotation', `${ADOPT_COOKIES}: ${problem}; ignored`, textSource),
    );
  const values: FieldValues = {};
  if (parsed.sources.length > 0) {
    const bad = setField(values, 'adoptCookies.sources', text, textSource);
    if (bad) diagnostics.push(bad);
  }
  if (until !== undefined) {
    // An end date that cannot be read must not become "forever": the object is refused.
    if (
      Number.isNaN(Date.parse(until)) ||
      setField(values, 'adoptCookies.until', until, untilSource)
    )
      diagnostics.push(
        error(
          'InvalidAnnotation',
          `${ADOPT_COOKIES_UNTIL}: ${quote(until)} is not an RFC 3339 date and time with a zone (for example 2027-01-31T00:00:00Z)`,
          untilSource,
        ),
      );
  }
  if (Object.keys(values).length === 0) return { fragments: [], diagnostics };
  if (entries.length === 0) {
    diagnostics.push(
      warning(
        'IneffectiveSetting',
        `${ADOPT_COOKIES} has no effect on ${object.kind} ${object.metadata.name}: it has no entry points; put it on the Ingress, Route, HTTPRoute or LoadBalancer Service`,
        textSource,
      ),
    );
    return { fragments: [], diagnostics };
  }
  const fragments: Fragment[] = entries.map((e) => ({
    type: 'entry',
    dialect: 'tether',
    entry: e.entry,
    backend: e.backend,
    precedence: PRECEDENCE.entry,
    values,
  }));
  return { fragments, diagnostics };
}
