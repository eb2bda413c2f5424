import {
  DIALECTS,
  entriesOf,
  parseObject,
  type KubeObject,
  type ParseContext,
  type ParsedObject,
} from '@tether/dialects';
import type { Diagnostic, Fragment } from '@tether/model';
import { objectKey, objectVersion } from './snapshot';

export interface CachedParse {
  version: string;
  fragments: Fragment[];
  diagnostics: Diagnostic[];
  parsed: ParsedObject[];
}

/**
 * Parse results per object, reused while the object and the Services it routes to are
 * unchanged (a parser may read the Service behind an Ingress, such as its ELB class).
 */
export class ParseCache {
  private entries = new Map<string, CachedParse>();
  hits = 0;
  misses = 0;

  parse(object: KubeObject, context: ParseContext): CachedParse {
    const key = objectKey(object);
    const version = this.versionOf(object, context);
    const cached = this.entries.get(key);
    if (cached && cached.version === version) {
      this.hits++;
      return cached;
    }
    this.misses++;
    const result = { version, ...parseObject(object, context) };
    this.entries.set(key, result);
    return result;
  }

  /** Forgets objects that are no longer in the snapshot. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.entries.keys()) if (!keys.has(key)) this.entries.delete(key);
  }

  private versionOf(object: KubeObject, context: ParseContext): string {
    if (object.kind === 'Service') return objectVersion(object);
    const services = new Set(
      (entriesOf(object).spec ?? []).map((e) => `${e.backend.namespace}/${e.backend.service}`),
    );
    const parts = [objectVersion(object)];
    for (const s of [...services].sort()) {
      const [namespace = '', name = ''] = s.split('/');
      const service = context.findService(namespace, name);
      parts.push(service ? objectVersion(service) : '-');
    }
    for (const dialect of DIALECTS) {
      for (const dep of dialect.dependencies?.(object, context) ?? [])
        parts.push(`${objectKey(dep)}@${objectVersion(dep)}`);
    }
    return parts.join('|');
  }
}
