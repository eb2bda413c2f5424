import {
  Document,
  Scalar,
  YAMLMap,
  isMap,
  parse as parseYaml,
  parseAllDocuments,
  stringify,
} from 'yaml';
import type { KubeObject, SpecEdit } from '../types';

/** The changes to one object: annotations to remove and set, and spec fields to set or remove. */
export interface ObjectEdits {
  removeAnnotations: string[];
  setAnnotations: Record<string, string>;
  spec: SpecEdit[];
}

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

/**
 * Rewrites a file's text: each changed document is re-rendered from its own syntax tree (so
 * its comments, key order and quoting stay), every other byte of the file is kept as it was.
 * A document's region runs from the end of the previous one, so it holds its own `---`
 * marker and leading comments, which the syntax tree renders again.
 */
export function rewriteText(text: string, changes: ReadonlyMap<number, DocumentChange>): string {
  if (changes.size === 0) return text;
  const parsed = parseAllDocuments(text, { keepSourceTokens: true });
  const docs = Array.isArray(parsed) ? parsed : [parsed];
  let out = '';
  let regionStart = 0;
  docs.forEach((doc, i) => {
    const regionEnd = doc.range?.[2] ?? text.length;
    const region = text.slice(regionStart, regionEnd);
    const change = changes.get(i);
    regionStart = regionEnd;
    if (!change) {
      out += region;
      return;
    }
    const marker = i > 0 ? '---\n' : '';
    if (change.type === 'replace') {
      out += marker + objectsText(change.objects);
      return;
    }
    if (change.edits) applyEdits(doc, change.edits);
    const rendered = change.edits ? doc.toString({ lineWidth: 0 }) : region;
    out +=
      change.type === 'append'
        ? `${ensureNewline(rendered)}---\n${objectsText(change.objects)}`
        : rendered;
  });
  return out + text.slice(regionStart);
}

function ensureNewline(s: string): string {
  return s.endsWith('\n') ? s : `${s}\n`;
}
