import { readFileSync } from 'node:fs';
import { manifestFilesIn } from '@tether/controller';
import { readManifestText, type LocatedObject } from '@tether/dialects';
import { error, type Diagnostic } from '@tether/model';

export interface Input {
  objects: LocatedObject[];
  diagnostics: Diagnostic[];
}

export function unreadable(path: string, reason: string): Diagnostic {
  return error('UnreadableFile', `${path}: ${reason}`, {
    dialect: 'kubernetes',
    kind: 'File',
    namespace: '',
    name: path,
    field: 'file',
    file: path,
  });
}

export function describeError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or folder';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder';
  return e instanceof Error ? e.message : String(e);
}

/** Expands folders into their manifest files; `-` stays as it is. Unreadable paths become diagnostics. */
export function listManifestFiles(paths: readonly string[]): {
  files: string[];
  diagnostics: Diagnostic[];
} {
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const path of paths) {
    if (path === '-') {
      files.push(path);
      continue;
    }
    try {
      // One at a time: a spread of a very long list overflows the call stack.
      for (const file of manifestFilesIn(path)) files.push(file);
    } catch (e) {
      diagnostics.push(unreadable(path, describeError(e)));
    }
  }
  return { files, diagnostics };
}

/**
 * Reads every path: files, folders (their .yaml/.yml/.json files) and `-` for stdin. A path
 * that cannot be read is one diagnostic; the others are still read.
 */
export function readInputs(paths: readonly string[], stdin: () => string): Input {
  const listing = listManifestFiles(paths);
  const out: Input = { objects: [], diagnostics: listing.diagnostics };
  for (const file of listing.files) {
    let text: string;
    try {
      text = file === '-' ? stdin() : readFileSync(file, 'utf8');
    } catch (e) {
      out.diagnostics.push(unreadable(file, describeError(e)));
      continue;
    }
    const read = readManifestText(text, file === '-' ? '<stdin>' : file);
    for (const o of read.objects) out.objects.push(o);
    for (const d of read.diagnostics) out.diagnostics.push(d);
  }
  return out;
}

export function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return '';
  }
}
