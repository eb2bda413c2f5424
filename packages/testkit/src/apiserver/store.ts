/**
 * The object store: one global resourceVersion counter (like etcd's revision), one bucket
 * of objects per storage key, and a bounded history of changes per bucket that watches
 * replay from. A change older than the retained history is "compacted": a watch asking to
 * resume before it gets 410 Expired.
 */
import type { StoredObject } from './types';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  /** The resourceVersion of this change. */
  rv: number;
  storage: string;
  /** The object after the change; for DELETED, its last state carrying the deletion's version. */
  object: StoredObject;
  /** The object before the change (MODIFIED and DELETED). */
  previous?: StoredObject;
}

export type ChangeListener = (change: Change) => void;

class Bucket {
  readonly objects = new Map<string, StoredObject>();
  /** Retained changes are history[head…]; the prefix is dropped lazily to keep trims O(1). */
  history: Change[] = [];
  head = 0;
  /** Changes with rv ≤ compactedRv are no longer retained. */
  compactedRv = 0;
  readonly listeners = new Set<ChangeListener>();
}

export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export class Store {
  private rv: number;
  private readonly buckets = new Map<string, Bucket>();
  private readonly globalListeners = new Set<ChangeListener>();

  constructor(
    private historyLimit: number,
    initialResourceVersion = 1,
  ) {
    this.rv = initialResourceVersion;
  }

  /** The latest resourceVersion handed out (the "current" version of the whole store). */
  get resourceVersion(): number {
    return this.rv;
  }

  setHistoryLimit(limit: number): void {
    this.historyLimit = Math.max(0, Math.floor(limit));
    for (const bucket of this.buckets.values()) this.trim(bucket);
  }

  private bucket(storage: string): Bucket {
    let bucket = this.buckets.get(storage);
    if (bucket === undefined) {
      bucket = new Bucket();
      this.buckets.set(storage, bucket);
    }
    return bucket;
  }

  get(storage: string, namespace: string, name: string): StoredObject | undefined {
    return this.buckets.get(storage)?.objects.get(objectKey(namespace, name));
  }

  /** All objects of a bucket in key order (namespace, then name), as etcd lists them. */
  list(storage: string): StoredObject[] {
    const bucket = this.buckets.get(storage);
    if (bucket === undefined) return [];
    return [...bucket.objects.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  storages(): string[] {
    return [...this.buckets.keys()];
  }

  /** Records a change: assigns the next resourceVersion and notifies watchers synchronously. */
  commit(
    storage: string,
    type: ChangeType,
    object: StoredObject,
    previous?: StoredObject,
  ): StoredObject {
    const bucket = this.bucket(storage);
    const rv = ++this.rv;
    const stamped: StoredObject = {
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(rv) },
    };
    const key = objectKey(stamped.metadata.namespace, stamped.metadata.name);
    if (type === 'DELETED') bucket.objects.delete(key);
    else bucket.objects.set(key, stamped);
    const change: Change = { type, rv, storage, object: stamped };
    if (previous !== undefined) change.previous = previous;
    bucket.history.push(change);
    this.trim(bucket);
    for (const listener of [...bucket.listeners]) listener(change);
    for (const listener of [...this.globalListeners]) listener(change);
    return stamped;
  }

  private trim(bucket: Bucket): void {
    while (bucket.history.length - bucket.head > this.historyLimit) {
      bucket.compactedRv = bucket.history[bucket.head]!.rv;
      bucket.head++;
    }
    if (bucket.head > 1024 && bucket.head * 2 > bucket.history.length) {
      bucket.history = bucket.history.slice(bucket.head);
      bucket.head = 0;
    }
  }

  /** Changes of a bucket after `rv`, or undefined when some of them were compacted away. */
  changesSince(storage: string, rv: number): Change[] | undefined {
    const bucket = this.bucket(storage);
    if (rv < bucket.compactedRv) return undefined;
    const result: Change[] = [];
    for (let index = bucket.head; index < bucket.history.length; index++) {
      const change = bucket.history[index]!;
      if (change.rv > rv) result.push(change);
    }
    return result;
  }

  /** The oldest resourceVersion a watch on this bucket can still resume from. */
  oldestResumable(storage: string): number {
    return this.bucket(storage).compactedRv;
  }

  /** Drops the history of one bucket, or of all: every older resume point becomes too old. */
  compact(storage?: string): void {
    const targets = storage === undefined ? [...this.buckets.values()] : [this.bucket(storage)];
    for (const bucket of targets) {
      bucket.history = [];
      bucket.head = 0;
      bucket.compactedRv = this.rv;
    }
  }

  subscribe(storage: string, listener: ChangeListener): () => void {
    const bucket = this.bucket(storage);
    bucket.listeners.add(listener);
    return () => bucket.listeners.delete(listener);
  }

  subscribeAll(listener: ChangeListener): () => void {
    this.globalListeners.add(listener);
    return () => this.globalListeners.delete(listener);
  }
}
