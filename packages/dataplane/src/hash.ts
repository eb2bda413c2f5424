/**
 * Non-cryptographic hashing for balancing decisions: string hashing, integer mixing and
 * weighted rendezvous (highest random weight) hashing.
 *
 * Rendezvous hashing gives every (key, endpoint) pair a score and picks the highest. Adding
 * one endpoint to N moves only the keys the new endpoint now wins, about 1/(N+1) of them,
 * and removing one moves only the keys it held. Endpoint seeds come from the keyed endpoint
 * ids, so every proxy replica that shares the cookie key computes the same placement.
 */

/** FNV-1a, 32 bits, over the UTF-16 code units of a string. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The finaliser of MurmurHash3: spreads every input bit over the output. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Something rendezvous hashing can place a key on. */
export interface RendezvousNode {
  /** A 32-bit seed that identifies the node (stable across tables and replicas). */
  readonly seed: number;
  /** Relative weight; nodes of weight 0 never win. */
  readonly weight: number;
}

const TWO_32 = 4294967296;

/** The score of a key on a node: larger wins. Weighted so that shares follow the weights. */
export function rendezvousScore(key: number, node: RendezvousNode): number {
  if (node.weight <= 0) return -Infinity;
  const h = mix32((key ^ node.seed) + Math.imul(node.seed, 0x9e3779b1));
  // Uniform in (0, 1), then the standard weighted-rendezvous transform -w / ln(u).
  const u = (h + 0.5) / TWO_32;
  return -node.weight / Math.log(u);
}

/** The node a key lands on, or undefined when none can take it. */
export function rendezvous<T extends RendezvousNode>(
  key: number,
  nodes: readonly T[],
): T | undefined {
  let best: T | undefined;
  let bestScore = -Infinity;
  for (const node of nodes) {
    const score = rendezvousScore(key, node);
    if (score > bestScore) {
      bestScore = score;
      best = node;
    }
  }
  return best;
}
