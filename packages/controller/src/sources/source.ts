import type { Diagnostic } from '@tether/model';
import type { Snapshot } from '../snapshot';

/** Where objects come from: the Kubernetes API or manifest files. */
export interface Source {
  /** Starts delivering snapshots; the first one arrives once everything is listed. */
  start(onSnapshot: (snapshot: Snapshot, problems: readonly Diagnostic[]) => void): Promise<void>;
  stop(): Promise<void>;
}
