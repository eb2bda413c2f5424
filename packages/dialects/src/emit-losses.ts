import {
  Diagnostic,
  flattenPolicy,
  quote,
  warning,
  type FlatValues,
  type PolicyField,
  type ResolvedEntry,
  type SourceRef,
} from '@tether/model';

/** Why a field could not be written as the source said it, by field. */
export type Notes = Partial<Record<PolicyField, string>>;

/**
 * What a loss helper hands an emitter: one warning per field that will not read back as the
 * source said it, and those fields, which the emitter passes on as `EmitOutput.covers` so the
 * migration does not report them a second time.
 */
export interface Losses {
  diagnostics: Diagnostic[];
  covers: PolicyField[];
}

/** One field of one entry that the target will not say as the source did. */
export interface Loss {
  field: PolicyField;
  before: unknown;
  /** What the target will say; undefined when it says nothing. */
  after: unknown;
  /** Which entry, when it is not the one the setting was written from (" on rules[1]"). */
  where: string;
  reason: string;
  sources: SourceRef[];
}

/**
 * Collects loss warnings, once per message and sources, with the fields they explain. Every
 * loss helper words its warnings through this, so a field is covered exactly when a warning
 * names it.
 */
export class LossList {
  private readonly found = new Map<string, Diagnostic>();
  private readonly fields = new Set<PolicyField>();

  add({ field, before, after, where, reason, sources }: Loss): void {
    const what = after === undefined ? 'is dropped' : `becomes ${quote(after)}`;
    const d = warning(
      'UnsupportedByTarget',
      `${field} = ${quote(before ?? '(unset)')}${where} ${what}: ${reason}`,
      ...sources,
    );
    this.found.set(JSON.stringify([d.message, d.sources]), d);
    this.fields.add(field);
  }

  result(): Losses {
    return { diagnostics: [...this.found.values()], covers: [...this.fields] };
  }
}

/** Several helpers' losses as one, each field covered once. */
export function joinLosses(parts: readonly Losses[]): Losses {
  return {
    diagnostics: parts.flatMap((p) => p.diagnostics),
    covers: [...new Set(parts.flatMap((p) => p.covers))],
  };
}

/**
 * The general reason a field differs, for fields without a note of the written plan;
 * `modeKept` says whether the persistence mode itself carried over.
 */
export type Why = (
  field: PolicyField,
  before: unknown,
  after: unknown,
  modeKept: boolean,
) => string;

/**
 * An entry's settings as flat fields. A RegularExpression match says what ingress-nginx's
 * `use-regex` says (`route.pathRegex`), so each kind of object compares alike.
 */
export function flatOf(e: ResolvedEntry | undefined): FlatValues {
  if (!e?.policy) return {};
  const flat = flattenPolicy(e.policy, e.loadBalancing, e.route);
  return e.entry.pathType === 'RegularExpression' && flat['route.pathRegex'] === undefined
    ? { ...flat, 'route.pathRegex': true }
    : flat;
}

/**
 * Where a field came from. A field no dialect set (a model default such as no SameSite)
 * follows from the persistence mode, so it is blamed on the mode's source.
 */
export function sourcesFor(e: ResolvedEntry, field: PolicyField): SourceRef[] {
  const own = e.sources[field];
  if (own && own.length > 0) return own;
  return e.sources.mode ?? [];
}

const sameSpot = (a: ResolvedEntry, b: ResolvedEntry): boolean =>
  a.entry.rule === b.entry.rule &&
  a.backend.namespace === b.backend.namespace &&
  a.backend.service === b.backend.service &&
  a.backend.port === b.backend.port;

export interface LossInput {
  /** Entries that share one setting; the first one's policy is the one written. */
  entries: readonly ResolvedEntry[];
  /** The entries as the target's parser reads the written object. */
  readBack: readonly ResolvedEntry[];
  notes: Notes;
  why: Why;
  /** What holds the one setting ("a Route"), for entries whose policy differs from the first. */
  scope: string;
  /**
   * Fields the target object's own spec decides (not its annotations): a value there that the
   * source did not set is the object's, not a change the writing made.
   */
  fromSpec?: (field: PolicyField) => boolean;
}

/**
 * One `UnsupportedByTarget` warning per field that reads back differently from what the
 * source said, naming the source of the field and the reason, and the fields they cover.
 */
export function losses({ entries, readBack, notes, why, scope, fromSpec }: LossInput): Losses {
  const list = new LossList();
  const [first] = entries;
  if (!first) return list.result();
  const firstFlat = flatOf(first);
  for (const e of entries) {
    const before = flatOf(e);
    const now = readBack.find((r) => sameSpot(r, e));
    const after = flatOf(now);
    // The target object itself is refused (a malformed spec): nothing written can apply.
    const refused = !now?.accepted;
    const fields = new Set([...Object.keys(before), ...Object.keys(after)] as PolicyField[]);
    for (const field of fields) {
      const b = before[field];
      const a = after[field];
      if (b === a) continue;
      if (b === undefined && fromSpec?.(field)) continue;
      const other = e !== first && b !== firstFlat[field];
      const reason = refused
        ? `${scope} the settings were written on is refused by its own checks, so none of them applies; run tether lint on it`
        : other
          ? `${scope} holds one setting, written from Service ${first.backend.service}, where it is ${quote(firstFlat[field] ?? '(unset)')}`
          : (notes[field] ?? why(field, b, a, before.mode === after.mode));
      const where = other ? ` for Service ${e.backend.service}` : '';
      list.add({ field, before: b, after: a, where, reason, sources: sourcesFor(e, field) });
    }
  }
  return list.result();
}
