import type { Diagnostic } from '@tether/model';
import { acceptedDraft } from './drafts';
import { referenceOf, type ObjectDirectory } from './objects';
import { localEventsFromDiagnostics, type EventView } from './view';

/**
 * A local run's memory of fixes: an object that had a Warning and has none left after a
 * reconcile (and still exists) gets the Normal `Accepted` item a cluster's recorder writes,
 * and a later fix counts again in it. What a local `tether serve` adds to its current
 * diagnostics in `/api/events`.
 */
export class AcceptedLog {
  #warned = new Set<string>();
  readonly #accepted = new Map<string, EventView>();

  /** Records one reconcile's diagnostics, about the objects `directory` holds. */
  observe(diagnostics: readonly Diagnostic[], directory: ObjectDirectory, now: Date): void {
    const warned = new Map<string, EventView['object']>();
    for (const item of localEventsFromDiagnostics(diagnostics, { directory }).items)
      if (item.type === 'Warning') warned.set(keyOf(item.object), item.object);
    for (const key of this.#warned) {
      if (warned.has(key)) continue;
      const [kind = '', namespace = '', name = ''] = key.split('\n');
      const object = directory.find(kind, namespace, name);
      if (!object) continue;
      const draft = acceptedDraft(referenceOf(object));
      const before = this.#accepted.get(key);
      const view: EventView = {
        type: 'Normal',
        reason: draft.reason,
        object: namespace ? { kind, namespace, name } : { kind, name },
        note: draft.note,
        count: (before?.count ?? 0) + 1,
        firstSeen: before?.firstSeen ?? now.toISOString(),
        lastSeen: now.toISOString(),
      };
      this.#accepted.set(key, view);
    }
    this.#warned = new Set(warned.keys());
  }

  /** The Accepted items so far, one per object. */
  get items(): EventView[] {
    return [...this.#accepted.values()];
  }
}

function keyOf(o: EventView['object']): string {
  return `${o.kind}\n${o.namespace ?? ''}\n${o.name}`;
}
