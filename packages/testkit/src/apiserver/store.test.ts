import { describe, expect, it } from '@jest/globals';
import { Store } from './store';
import type { StoredObject } from './types';

function object(name: string): StoredObject {
  return {
    metadata: { name, namespace: 'ns', uid: name, resourceVersion: '', creationTimestamp: '' },
  };
}

describe('Store', () => {
  it('hands out one increasing version across buckets, like an etcd revision', () => {
    const store = new Store(10);
    const a = store.commit('a', 'ADDED', object('x'));
    const b = store.commit('b', 'ADDED', object('x'));
    expect(Number(b.metadata.resourceVersion)).toBe(Number(a.metadata.resourceVersion) + 1);
    expect(store.resourceVersion).toBe(Number(b.metadata.resourceVersion));
  });

  it('keeps a bounded history per bucket and reports when a resume point is gone', () => {
    const store = new Store(3);
    const versions = ['1', '2', '3', '4', '5'].map(
      (name) => store.commit('a', 'ADDED', object(name)).metadata.resourceVersion,
    );
    store.commit('b', 'ADDED', object('other'));
    const [v1, v2, v3] = versions.map(Number);
    // Changes after v2 are the last three: still resumable from v2, not from v1.
    expect(store.changesSince('a', v1!)).toBeUndefined();
    expect(store.changesSince('a', v2!)?.map((change) => change.object.metadata.name)).toEqual([
      '3',
      '4',
      '5',
    ]);
    expect(store.changesSince('a', v3!)?.map((change) => change.object.metadata.name)).toEqual([
      '4',
      '5',
    ]);
    expect(store.oldestResumable('a')).toBe(v2);
    // The other bucket's history is its own.
    expect(store.changesSince('b', 0)?.map((change) => change.object.metadata.name)).toEqual([
      'other',
    ]);
  });

  it('stays exact over many trims and after a compaction', () => {
    const store = new Store(5);
    for (let index = 0; index < 5000; index++) store.commit('a', 'MODIFIED', object('x'));
    const current = store.resourceVersion;
    expect(store.changesSince('a', current - 5)).toHaveLength(5);
    expect(store.changesSince('a', current - 6)).toBeUndefined();
    store.compact('a');
    expect(store.changesSince('a', current - 1)).toBeUndefined();
    expect(store.changesSince('a', current)).toEqual([]);
  });

  it('notifies subscribers of their bucket synchronously and stops after unsubscribe', () => {
    const store = new Store(5);
    const seen: string[] = [];
    const unsubscribe = store.subscribe('a', (change) =>
      seen.push(`${change.type}:${change.object.metadata.name}`),
    );
    store.commit('a', 'ADDED', object('x'));
    store.commit('b', 'ADDED', object('y'));
    const stored = store.get('a', 'ns', 'x')!;
    store.commit('a', 'DELETED', stored, stored);
    unsubscribe();
    store.commit('a', 'ADDED', object('z'));
    expect(seen).toEqual(['ADDED:x', 'DELETED:x']);
    expect(store.list('a').map((item) => item.metadata.name)).toEqual(['z']);
  });
});
