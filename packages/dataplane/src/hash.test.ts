import { describe, expect, it } from '@jest/globals';
import { hashString, mix32, rendezvous, rendezvousScore, type RendezvousNode } from './hash';

function nodes(n: number, weight = 1): RendezvousNode[] {
  return Array.from({ length: n }, (_, i) => ({
    seed: mix32(hashString(`endpoint-${i}`)),
    weight,
  }));
}

describe('rendezvous hashing', () => {
  const keys = Array.from({ length: 20000 }, (_, i) => hashString(`session-${i}`));

  it('scores a seed the same whether it is given as a signed or an unsigned 32-bit number', () => {
    for (const node of nodes(50)) {
      const signed = { seed: node.seed | 0, weight: 2 };
      const unsigned = { seed: node.seed >>> 0, weight: 2 };
      for (const k of keys.slice(0, 200))
        expect(rendezvousScore(k, signed)).toBe(rendezvousScore(k, unsigned));
    }
    expect(nodes(50).some((n) => n.seed >= 2 ** 31)).toBe(true);
  });

  it.each([3, 5, 10])(
    'adding one endpoint to %i moves about 1/(N+1) of the keys, all to the new one',
    (n) => {
      const before = nodes(n);
      const after = nodes(n + 1);
      let moved = 0;
      for (const k of keys) {
        const a = rendezvous(k, before);
        const b = rendezvous(k, after);
        if (a?.seed !== b?.seed) {
          moved++;
          expect(b?.seed).toBe(after[n]?.seed);
        }
      }
      const share = moved / keys.length;
      expect(share).toBeGreaterThan((1 / (n + 1)) * 0.85);
      expect(share).toBeLessThan((1 / (n + 1)) * 1.15);
    },
  );

  it('removing one endpoint moves only the keys it held', () => {
    const all = nodes(6);
    const fewer = all.filter((_, i) => i !== 2);
    for (const k of keys.slice(0, 5000)) {
      const a = rendezvous(k, all);
      if (a?.seed !== all[2]?.seed) expect(rendezvous(k, fewer)?.seed).toBe(a?.seed);
    }
  });

  it('spreads keys by weight and never picks weight 0', () => {
    const weighted: RendezvousNode[] = [
      { seed: 11, weight: 1 },
      { seed: 22, weight: 3 },
      { seed: 33, weight: 0 },
    ];
    const counts = new Map<number, number>();
    for (const k of keys) {
      const w = rendezvous(k, weighted);
      counts.set(w?.seed ?? -1, (counts.get(w?.seed ?? -1) ?? 0) + 1);
    }
    expect(counts.get(33)).toBeUndefined();
    const ratio = (counts.get(22) ?? 0) / (counts.get(11) ?? 1);
    expect(ratio).toBeGreaterThan(2.6);
    expect(ratio).toBeLessThan(3.4);
  });

  it('is empty-safe', () => {
    expect(rendezvous(1, [])).toBeUndefined();
  });
});
