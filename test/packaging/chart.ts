/**
 * Renders charts/tether with the real helm and turns the output into objects the chart tests
 * can look at.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { helm, type HelmOptions } from '../support/helm';

export const ROOT = join(__dirname, '..', '..');
export const CHART = join(ROOT, 'charts', 'tether');
export const RELEASE = 'edge';
export const NAMESPACE = 'tether-system';
/** The oldest Kubernetes the chart supports (its Chart.yaml kubeVersion). */
export const KUBE_VERSION = '1.30.0';

/** Every example values file: the chart's ci/ folder and examples/helm/, relative to the root. */
export function valuesFiles(): string[] {
  const dirs = [join(CHART, 'ci'), join(ROOT, 'examples', 'helm')];
  return dirs.flatMap((dir) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => relative(ROOT, join(dir, f))),
  );
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export interface Rendered {
  code: number;
  stderr: string;
  objects: KubeObject[];
}

/** `helm template` of the chart; `args` adds `-f`/`--set` flags. */
export async function render(args: string[] = [], options: HelmOptions = {}): Promise<Rendered> {
  const result = await helm(
    ['template', RELEASE, CHART, '--namespace', NAMESPACE, '--kube-version', KUBE_VERSION, ...args],
    options,
  );
  const objects: KubeObject[] = [];
  if (result.code === 0) {
    for (const doc of parseAllDocuments(result.stdout)) {
      if (doc.errors.length > 0) throw new Error(`helm printed invalid YAML: ${doc.errors[0]}`);
      const value: unknown = doc.toJS();
      if (value !== null) objects.push(value as KubeObject);
    }
  }
  return { code: result.code, stderr: result.stderr, objects };
}

/** The one object of a kind (and name, when given); throws when there is not exactly one. */
export function one(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found.length !== 1)
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** A nested field, or undefined when any step is missing. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}
