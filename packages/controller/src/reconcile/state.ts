import { ParseCache } from './parse-cache';
import type { ServingOptions } from '../serving';
import type { Retained } from './steps';

/**
 * What one reconcile leaves for the next, owned by the caller (the controller keeps one):
 * parse results and memos by object identity, and the parts of the last full result that a
 * small change updates in place. `reconcile()` reads it and replaces what it changed; without
 * one, every reconcile starts afresh and gives the same answer.
 */
export class ReconcileState {
  readonly cache = new ParseCache();
  /** The parts of the result this state last produced; cleared when an update fails midway. */
  retained: Retained | undefined;
}

export interface ReconcileOptions extends ServingOptions {
  /** What the previous reconcile left to reuse (see state.ts); same results with or without it. */
  state?: ReconcileState;
}
