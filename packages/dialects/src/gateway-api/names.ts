import { createHash } from 'node:crypto';

/**
 * The name a route rule's session gets when the user gives none. GEP-1619 asks for a unique
 * name and for sessions that are never shared between rules, so it is derived from the rule's
 * identity (its name when it has one, so that reordering rules keeps the name) and is stable
 * across restarts and replicas.
 */
export function generatedSessionName(
  mode: 'cookie' | 'header',
  namespace: string,
  route: string,
  rule: string,
): string {
  const digest = createHash('sha256').update(`${namespace}/${route}/${rule}`).digest('hex');
  const id = digest.slice(0, 16);
  return mode === 'cookie' ? `gw-${id}` : `x-gw-session-${id}`;
}
