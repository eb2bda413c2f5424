import {
  LineCounter,
  parseAllDocuments,
  isMap,
  isScalar,
  isSeq,
  type Node,
  type Document,
} from 'yaml';
import { Diagnostic, SourceRef, error } from '@tether/model';
import type { KubeObject } from './types';

/** A Kubernetes object read from text, with where it stands in its file. */
export interface LocatedObject {
  object: KubeObject;
  file: string;
  /** Line of the object's first key. */
  line: number;
  /** Index of the YAML document in the file. */
  document: number;
  /** Set when the object is an item of a `kind: List` document. */
  listItem?: number;
  /** Line of each annotation key and of each spec path read from YAML (`spec.rules[0].sessionPersistence`). */
  lines: Record<string, number>;
}

export interface ManifestRead {
  objects: LocatedObject[];
  diagnostics: Diagnostic[];
  /** The parsed documents, for callers that rewrite the text (so it is parsed once). */
  documents: Document.Parsed[];
}

function fileSource(file: string, line: number, field = 'document'): SourceRef {
  return { dialect: 'kubernetes', kind: 'File', namespace: '', name: file, field, file, line };
}

function isKubeObject(value: unknown): value is KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const meta = v.metadata as Record<string, unknown> | undefined;
  return (
    typeof v.apiVersion === 'string' &&
    typeof v.kind === 'string' &&
    typeof meta === 'object' &&
    meta !== null &&
    typeof meta.name === 'string' &&
    (meta.namespace === undefined || typeof meta.namespace === 'string') &&
    (meta.annotations === undefined ||
      (typeof meta.annotations === 'object' &&
        meta.annotations !== null &&
        Object.values(meta.annotations).every((a) => typeof a === 'string')))
  );
}

function whyNotKube(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a mapping';
  const v = value as Record<string, unknown>;
  if (typeof v.apiVersion !== 'string') return 'no apiVersion';
  if (typeof v.kind !== 'string') return 'no kind';
  const meta = v.metadata as Record<string, unknown> | undefined;
  if (typeof meta !== 'object' || meta === null || typeof meta.name !== 'string')
    return 'no metadata.name';
  if (meta.namespace !== undefined && typeof meta.namespace !== 'string')
    return 'metadata.namespace is not a string';
  return 'metadata.annotations must map strings to strings (quote numbers and booleans)';
}

/** Records the line of every key below `node`, as dotted paths with [i] for sequences. */
function collectLines(
  node: unknown,
  path: string,
  counter: LineCounter,
  out: Record<string, number>,
  depth: number,
): void {
  if (depth > 12) return;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
      if (key === undefined) continue;
      const child = path ? `${path}.${key}` : key;
      const range = (pair.key as Node).range;
      if (range) out[child] = counter.linePos(range[0]).line;
      collectLines(pair.value, child, counter, out, depth + 1);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const child = `${path}[${i}]`;
      const range = (item as Node | null)?.range;
      if (range) out[child] = counter.linePos(range[0]).line;
      collectLines(item, child, counter, out, depth + 1);
    });
  }
}

function annotationLines(lines: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [path, line] of Object.entries(lines)) {
    if (path.startsWith('metadata.annotations.'))
      out[path.slice('metadata.annotations.'.length)] = line;
    else if (path.startsWith('spec')) out[path] = line;
  }
  return out;
}

function documentLine(doc: Document, counter: LineCounter): number {
  const start = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
  return counter.linePos(start).line;
}

/**
 * Reads multi-document YAML or JSON text into Kubernetes objects. `kind: List` is unpacked.
 * A bad document is reported with its line and skipped; the others are still read.
 */
export function readManifestText(text: string, file: string): ManifestRead {
  const counter = new LineCounter();
  const objects: LocatedObject[] = [];
  const diagnostics: Diagnostic[] = [];
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, {
      lineCounter: counter,
      uniqueKeys: false,
    }) as Document.Parsed[];
  } catch (e) {
    return {
      objects,
      documents: [],
      diagnostics: [
        error(
          'InvalidManifest',
          `${file}: ${e instanceof Error ? e.message : String(e)}`,
          fileSource(file, 1),
        ),
      ],
    };
  }
  if (!Array.isArray(docs)) docs = [docs];
  docs.forEach((doc, document) => {
    const line = documentLine(doc, counter);
    if (doc.errors.length > 0) {
      const first = doc.errors[0]!;
      const at = first.linePos?.[0];
      const where = at ? `${at.line}:${at.col}` : `${line}`;
      diagnostics.push(
        error(
          'InvalidManifest',
          `YAML syntax error at ${where}: ${(first.message.split('\n')[0] ?? '').replace(/:$/, '')}`,
          fileSource(file, at?.line ?? line),
        ),
      );
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      diagnostics.push(
        error(
          'InvalidManifest',
          `${file}:${line}: ${e instanceof Error ? e.message : String(e)}`,
          fileSource(file, line),
        ),
      );
      return;
    }
    if (value === null || value === undefined) return;
    const lines: Record<string, number> = {};
    collectLines(doc.contents, '', counter, lines, 0);
    const candidates: { item: unknown; prefix: string; listItem?: number }[] =
      typeof value === 'object' &&
      !Array.isArray(value) &&
      (value as Record<string, unknown>).kind === 'List' &&
      Array.isArray((value as Record<string, unknown>).items)
        ? ((value as Record<string, unknown>).items as unknown[]).map((item, i) => ({
            item,
            prefix: `items[${i}].`,
          }))
        : [{ item: value, prefix: '' }];
    for (const { item, prefix, listItem } of candidates) {
      const itemLines: Record<string, number> = {};
      for (const [path, l] of Object.entries(lines))
        if (path.startsWith(prefix)) itemLines[path.slice(prefix.length)] = l;
      const itemLine = prefix ? (lines[prefix.slice(0, -1)] ?? line) : line;
      if (!isKubeObject(item)) {
        diagnostics.push(
          error(
            'InvalidManifest',
            `document at line ${itemLine} is not a Kubernetes object (${whyNotKube(item)})`,
            fileSource(file, itemLine),
          ),
        );
        continue;
      }
      const located: LocatedObject = {
        object: item,
        file,
        line: itemLine,
        document,
        lines: annotationLines(itemLines),
      };
      if (listItem !== undefined) located.listItem = listItem;
      objects.push(located);
    }
  });
  return { objects, diagnostics, documents: docs };
}

export type LocatedIndex = Map<string, LocatedObject>;

export function indexLocated(located: readonly LocatedObject[]): LocatedIndex {
  const index: LocatedIndex = new Map();
  for (const l of located) {
    index.set(
      `${l.object.kind}/${l.object.metadata.namespace ?? 'default'}/${l.object.metadata.name}`,
      l,
    );
  }
  return index;
}

/** Adds the file and line of the object (and of the key, where known) to a source. */
export function locateSource(source: SourceRef, index: LocatedIndex): SourceRef {
  if (source.file) return source;
  const l = index.get(`${source.kind}/${source.namespace}/${source.name}`);
  if (!l) return source;
  return { ...source, file: l.file, line: l.lines[source.field] ?? l.line };
}
