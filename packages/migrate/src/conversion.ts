import type { KubeObject } from '@tether/dialects';

/** New objects that carry an object's routing in another kind, and how their rules map back. */
export interface Conversion {
  objects: KubeObject[];
  /** `<new object name>#<new rule>` → the rule of the source object it came from. */
  ruleMap: Map<string, string>;
  /** What the new kind cannot say about the routing itself (TLS secrets, weights, …). */
  notes: string[];
}
