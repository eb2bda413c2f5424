import {
  Document,
  type Node,
  type Pair,
  isScalar,
  Scalar,
  YAMLMap,
  isMap,
  parse as parseYaml,
  parseAllDocuments,
  stringify,
} from 'yaml';
import type { KubeObject, ObjectEdits } from '@tether/dialects';

/** What happens to one document of a file. */
export type DocumentChange =
  | { type: 'edit'; edits: ObjectEdits }
  | { type: 'replace'; objects: KubeObject[] }
  | { type: 'append'; objects: KubeObject[]; edits?: ObjectEdits };

/**
 * A YAML scalar for an annotation value: plain where that reads back as the same string,
 * otherwise quoted (single quotes for JSON, so its double quotes need no escaping).
 */
function annotationScalar(value: string): Scalar {
  const node = new Scalar(value);
  if (!readsBackPlain(value)) {
    node.type =
      value.includes('"') && !value.includes("'") && !value.includes('\n')
        ? 'QUOTE_SINGLE'
        : 'QUOTE_DOUBLE';
  }
  return node;
}

function readsBackPlain(value: string): boolean {
  if (value === '' || value.trim() !== value || /[\n#:]/.test(value)) return false;
  try {
    return parseYaml(value) === value;
  } catch {
    return false;
  }
}

function applyEdits(doc: Document, edits: ObjectEdits): void {
  for (const key of edits.removeAnnotations) doc.deleteIn(['metadata', 'annotations', key]);
  const setEntries = Object.entries(edits.setAnnotations);
  if (setEntries.length > 0 && !isMap(doc.getIn(['metadata', 'annotations']))) {
    const map = new YAMLMap();
    doc.setIn(['metadata', 'annotations'], map);
  }
  for (const [key, value] of setEntries)
    doc.setIn(['metadata', 'annotations', key], annotationScalar(value));
  const annotations = doc.getIn(['metadata', 'annotations']);
  if (isMap(annotations) && annotations.items.length === 0)
    doc.deleteIn(['metadata', 'annotations']);
  for (const edit of edits.spec) {
    if (edit.value === undefined) doc.deleteIn(edit.path);
    else doc.setIn(edit.path, doc.createNode(edit.value));
  }
}

function objectsText(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
}

export function hasEdits(edits: ObjectEdits): boolean {
  return (
    edits.removeAnnotations.length > 0 ||
    Object.keys(edits.setAnnotations).length > 0 ||
    edits.spec.length > 0
  );
}

interface Splice {
  at: number;
  remove: number;
  insert: string;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** The offset just past the end of the line holding `offset` (past its newline). */
function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf('\n', offset);
  return nl === -1 ? text.length : nl + 1;
}

function renderScalar(value: string): string {
  const node = annotationScalar(value);
  if (node.type === 'QUOTE_SINGLE') return `'${value.replace(/'/g, "''")}'`;
  if (node.type === 'QUOTE_DOUBLE') return JSON.stringify(value);
  return value;
}

/** The text span of one map entry: from the start of its key's line to the end of its value's last line. */
function pairSpan(text: string, pair: Pair): [number, number] | undefined {
  const key = pair.key as Node | null;
  if (!key?.range) return undefined;
  const value = pair.value as Node | null;
  const end = value?.range ? Math.max(value.range[1], value.range[2]) : key.range[2];
  return [lineStart(text, key.range[0]), lineEnd(text, Math.max(end - 1, key.range[0]))];
}

/**
 * Annotation edits as splices of the original text, so that every line the edits do not
 * touch stays byte for byte (comments, spacing, quoting). Undefined when the document's
 * layout needs a full re-render (flow-style maps, no metadata map).
 */
function annotationSplices(
  text: string,
  doc: Document.Parsed,
  edits: ObjectEdits,
): Splice[] | undefined {
  const metadata = doc.get('metadata', true);
  if (!isMap(metadata) || metadata.flow) return undefined;
  const annotations = metadata.get('annotations', true);
  const remove = new Set([...edits.removeAnnotations, ...Object.keys(edits.setAnnotations)]);
  const additions = Object.entries(edits.setAnnotations);
  if (
    annotations === undefined ||
    annotations === null ||
    (isScalar(annotations) && annotations.value === null)
  ) {
    if (additions.length === 0) return [];
    const first = metadata.items[0]?.key as Node | undefined;
    const lastPair = metadata.items[metadata.items.length - 1];
    if (!first?.range || !lastPair) return undefined;
    const indent = ' '.repeat(first.range[0] - lineStart(text, first.range[0]));
    const span = pairSpan(text, lastPair);
    if (!span) return undefined;
    const lines = additions
      .map(([k, v]) => `${indent}  ${renderScalar(k)}: ${renderScalar(v)}\n`)
      .join('');
    // An `annotations:` key with no value is replaced; otherwise the map goes after metadata's last entry.
    const existing = metadata.items.find((p) => isScalar(p.key) && p.key.value === 'annotations');
    const existingSpan = existing && pairSpan(text, existing);
    if (existingSpan)
      return [
        {
          at: existingSpan[0],
          remove: existingSpan[1] - existingSpan[0],
          insert: `${indent}annotations:\n${lines}`,
        },
      ];
    return [
      {
        at: span[1],
        remove: 0,
        insert: `${span[1] > 0 && text[span[1] - 1] !== '\n' ? '\n' : ''}${indent}annotations:\n${lines}`,
      },
    ];
  }
  if (!isMap(annotations) || annotations.flow) return undefined;
  const splices: Splice[] = [];
  const kept = annotations.items.filter(
    (p) => !(isScalar(p.key) && remove.has(String(p.key.value))),
  );
  for (const pair of annotations.items) {
    if (!isScalar(pair.key) || !remove.has(String(pair.key.value))) continue;
    const span = pairSpan(text, pair);
    if (!span) return undefined;
    splices.push({ at: span[0], remove: span[1] - span[0], insert: '' });
  }
  const firstKey = annotations.items[0]?.key as Node | undefined;
  const lastPair = annotations.items[annotations.items.length - 1];
  if (!firstKey?.range || !lastPair) return undefined;
  const indent = ' '.repeat(firstKey.range[0] - lineStart(text, firstKey.range[0]));
  if (kept.length === 0 && additions.length === 0) {
    // Nothing left: the `annotations:` line goes too.
    const holder = metadata.items.find((p) => p.value === annotations);
    const span = holder && pairSpan(text, holder);
    return span ? [{ at: span[0], remove: span[1] - span[0], insert: '' }] : undefined;
  }
  const lastSpan = pairSpan(text, lastPair);
  if (!lastSpan) return undefined;
  if (additions.length > 0) {
    const lines = additions
      .map(([k, v]) => `${indent}${renderScalar(k)}: ${renderScalar(v)}\n`)
      .join('');
    splices.push({
      at: lastSpan[1],
      remove: 0,
      insert: `${text[lastSpan[1] - 1] === '\n' ? '' : '\n'}${lines}`,
    });
  }
  return splices;
}

function applySplices(text: string, splices: readonly Splice[]): string {
  let out = text;
  for (const s of [...splices].sort((a, b) => b.at - a.at || b.remove - a.remove)) {
    out = out.slice(0, s.at) + s.insert + out.slice(s.at + s.remove);
  }
  return out;
}

/**
 * Rewrites a file's text. Annotation changes are spliced into the original text, so every
 * line they do not touch stays byte for byte. A document whose layout does not allow that
 * (spec edits, flow-style maps) is re-rendered from its own syntax tree, which keeps its
 * comments, key order and quoting. A document's region runs from the end of the previous one,
 * so it holds its own `---` marker and leading comments. `parsed` are the text's documents
 * when the caller has them already; the re-rendered ones are changed in place.
 */
export function rewriteText(
  text: string,
  changes: ReadonlyMap<number, DocumentChange>,
  parsed?: readonly Document.Parsed[],
): string {
  if (changes.size === 0) return text;
  const docs = parsed ?? parseAllDocuments(text);
  const splices: Splice[] = [];
  let regionStart = 0;
  docs.forEach((doc, i) => {
    const regionEnd = doc.range?.[2] ?? text.length;
    const region = text.slice(regionStart, regionEnd);
    const change = changes.get(i);
    const start = regionStart;
    regionStart = regionEnd;
    if (!change) return;
    const marker = i > 0 ? '---\n' : '';
    if (change.type === 'replace') {
      splices.push({
        at: start,
        remove: region.length,
        insert: marker + objectsText(change.objects),
      });
      return;
    }
    const surgical =
      change.edits && change.edits.spec.length === 0
        ? annotationSplices(text, doc, change.edits)
        : change.edits
          ? undefined
          : [];
    let docSplices: Splice[];
    if (surgical) docSplices = surgical;
    else {
      if (change.edits) applyEdits(doc, change.edits);
      docSplices = [{ at: start, remove: region.length, insert: doc.toString({ lineWidth: 0 }) }];
    }
    if (change.type === 'append') {
      const tail = regionEnd > 0 && text[regionEnd - 1] !== '\n' ? '\n' : '';
      docSplices.push({
        at: regionEnd,
        remove: 0,
        insert: `${tail}---\n${objectsText(change.objects)}`,
      });
    }
    splices.push(...docSplices);
  });
  return applySplices(text, splices);
}
