import type { Diagnostic } from '@tether/model';
import type { Snapshot } from '../snapshot';
import type { Source } from '../sources/source';
import { directoryOf, type ObjectDirectory } from './objects';

/**
 * A source that remembers the latest snapshot it passed on, so that the Event recorder can
 * find the objects (uid, annotation values, existence) its diagnostics name. The snapshot may
 * be newer than the one a reconcile used; for Events that is the better one (an object deleted
 * since gets no Event).
 */
export class SnapshotTap implements Source {
  private latest: Snapshot | undefined;
  private cached: { generation: number; directory: ObjectDirectory } | undefined;

  constructor(private readonly inner: Source) {}

  start(onSnapshot: (snapshot: Snapshot, problems: readonly Diagnostic[]) => void): Promise<void> {
    return this.inner.start((snapshot, problems) => {
      this.latest = snapshot;
      onSnapshot(snapshot, problems);
    });
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  /** The objects of the latest snapshot (none before the first). */
  directory(): ObjectDirectory {
    const latest = this.latest;
    if (!latest) return directoryOf([]);
    if (this.cached?.generation !== latest.generation)
      this.cached = { generation: latest.generation, directory: directoryOf(latest.objects) };
    return this.cached.directory;
  }
}
