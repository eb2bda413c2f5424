import { Diagnostic, ResolvedEntry, resolve } from '@tether/model';
import { entriesOf, structureFragment } from '../../../packages/dialects/src/kube';
import type { KubeObject } from '../../../packages/dialects/src/types';
import { PREFIX } from '../../../packages/dialects/src/ingress-nginx/annotations';
import { parse } from '../../../packages/dialects/src/ingress-nginx/parse';

export interface IngressOptions {
  name?: string;
  namespace?: string;
  service?: string;
  port?: number;
  paths?: string[];
  host?: string;
  tls?: boolean;
  creationTimestamp?: string;
}

/** A small Ingress with the given annotations (short keys get the dialect's prefix). */
export function ingress(annotations: Record<string, unknown>, o: IngressOptions = {}): KubeObject {
  const prefixed = Object.fromEntries(
    Object.entries(annotations).map(([k, v]) => [k.includes('/') ? k : `${PREFIX}${k}`, v]),
  );
  const host = o.host ?? 'shop.example.com';
  const metadata: KubeObject['metadata'] = {
    name: o.name ?? 'web',
    namespace: o.namespace ?? 'shop',
    annotations: prefixed as Record<string, string>,
  };
  if (o.creationTimestamp !== undefined) metadata.creationTimestamp = o.creationTimestamp;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata,
    spec: {
      ...(o.tls ? { tls: [{ hosts: [host], secretName: 'shop-tls' }] } : {}),
      rules: [
        {
          host,
          http: {
            paths: (o.paths ?? ['/']).map((path) => ({
              path,
              pathType: 'ImplementationSpecific',
              backend: { service: { name: o.service ?? 'web', port: { number: o.port ?? 80 } } },
            })),
          },
        },
      ],
    },
  };
}

export interface Outcome {
  entries: ResolvedEntry[];
  /** What the parser said. */
  parsed: Diagnostic[];
  /** What resolving the parser's fragments said. */
  resolved: Diagnostic[];
  fragments: number;
}

/** Parses one object and resolves its fragments together with its structure. */
export function run(object: KubeObject): Outcome {
  const result = parse(object);
  const structure = (entriesOf(object).spec ?? []).map(structureFragment);
  const { entries, diagnostics } = resolve([...structure, ...result.fragments]);
  return {
    entries,
    parsed: result.diagnostics,
    resolved: diagnostics,
    fragments: result.fragments.length,
  };
}

/** `severity reason [fields…]` for every warning and error, sorted; infos are left out. */
export function summary(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics
    .filter((d) => d.severity !== 'info')
    .map(
      (d) =>
        `${d.severity} ${d.reason} ${d.sources.map((s) => s.field.replace(PREFIX, '')).join(',')}`,
    )
    .sort();
}
