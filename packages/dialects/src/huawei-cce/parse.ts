import type { KubeObject, ParseContext, ParseResult } from '../types';
import { annotationsOf } from '../kube';
import { table } from './annotations';
import { parseIngress } from './parse-ingress';
import { parseService } from './parse-service';

const KEYS = table.map((k) => k.key);

/** Reads one Service or Ingress. Never throws: every problem becomes a diagnostic. */
export function parse(object: KubeObject, context: ParseContext): ParseResult {
  if (object.kind === 'Service') return parseService(object);
  if (object.kind === 'Ingress') return parseIngress(object, context);
  return { fragments: [], diagnostics: [] };
}

/** A Service or Ingress carrying any annotation of the table. */
export function appliesTo(object: KubeObject): boolean {
  if (object.kind !== 'Service' && object.kind !== 'Ingress') return false;
  const annotations = annotationsOf(object);
  return KEYS.some((key) => annotations[key] !== undefined);
}
