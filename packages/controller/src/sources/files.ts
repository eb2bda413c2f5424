import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { extname, join } from 'node:path';
import { readManifestText, type KubeObject } from '@tether/dialects';
import { error, warning, type Diagnostic, type SourceRef } from '@tether/model';
import type { Snapshot } from '../snapshot';
import type { Source } from './source';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface FileSourceOptions {
  paths: readonly string[];
  /** How long to wait after a change before reading again, so an editor's burst of writes is one reload. */
  debounceMs?: number;
  /** A safety net for file systems whose change events are unreliable. */
  pollMs?: number;
}

function fileRef(path: string): SourceRef {
  return {
    dialect: 'kubernetes',
    kind: 'File',
    namespace: '',
    name: path,
    field: 'file',
    file: path,
  };
}

function fileProblem(path: string, message: string): Diagnostic {
  return error('UnreadableFile', `${path}: ${message}`, fileRef(path));
}

/**
 * The manifest files of a path: the path itself when it is a file, else the .yaml, .yml and
 * .json files below the folder, in name order, skipping hidden entries and node_modules.
 * Throws when the path cannot be read. `tether explain`/`lint`/`migrate` and `serve` read the
 * same files through it.
 */
export function manifestFilesIn(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  const entries = readdirSync(path, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && d.name !== 'node_modules')
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const d of entries) {
    if (d.isDirectory()) for (const f of manifestFilesIn(join(path, d.name))) out.push(f);
    else if (EXTENSIONS.has(extname(d.name).toLowerCase())) out.push(join(path, d.name));
  }
  return out;
}

/** What was last read from one file, and the stat and content hash it was read at. */
interface FileState {
  mtimeMs: number;
  size: number;
  hash: string;
  objects: KubeObject[];
  problems: Diagnostic[];
}

/**
 * Reads manifests from files and folders and reads them again when they change.
 *
 * A check costs a directory listing and one `stat` per file: a file is read again only when
 * its modification time or size changed, and parsed again only when its content hash did.
 * A file that stops parsing (an editor caught half-way through a save) keeps the objects it
 * last gave until it parses again, with a `KeptLastGoodManifest` warning beside its error.
 */
export class FileSource implements Source {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private generation = 0;
  private readonly files = new Map<string, FileState>();
  private onSnapshot: ((s: Snapshot, p: readonly Diagnostic[]) => void) | undefined;

  constructor(private readonly options: FileSourceOptions) {}

  /** Reads what changed since the last call; returns every object and problem, and whether anything changed. */
  read(): { objects: KubeObject[]; problems: Diagnostic[]; changed: boolean } {
    const objects: KubeObject[] = [];
    const problems: Diagnostic[] = [];
    const seen = new Set<string>();
    let changed = false;
    for (const path of this.options.paths) {
      let files: string[];
      try {
        files = manifestFilesIn(path);
      } catch (e) {
        problems.push(
          fileProblem(
            path,
            (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or folder' : String(e),
          ),
        );
        continue;
      }
      for (const file of files) {
        seen.add(file);
        const before = this.files.get(file);
        const state = this.readFile(file, before);
        if (state !== before) {
          this.files.set(file, state);
          changed = true;
        }
        for (const o of state.objects) objects.push(o);
        for (const p of state.problems) problems.push(p);
      }
    }
    for (const file of this.files.keys()) {
      if (seen.has(file)) continue;
      this.files.delete(file);
      changed = true;
    }
    return { objects, problems, changed };
  }

  /** The file's state: `before` itself when nothing changed. */
  private readFile(file: string, before: FileState | undefined): FileState {
    let text: string;
    let mtimeMs: number;
    let size: number;
    try {
      const stat = statSync(file);
      if (before && stat.mtimeMs === before.mtimeMs && stat.size === before.size) return before;
      ({ mtimeMs, size } = stat);
      text = readFileSync(file, 'utf8');
    } catch (e) {
      if (before?.size === -1) return before; // still unreadable
      return {
        mtimeMs: 0,
        size: -1,
        hash: '',
        objects: [],
        problems: [fileProblem(file, e instanceof Error ? e.message : String(e))],
      };
    }
    const hash = createHash('sha256').update(text).digest('base64');
    if (before && hash === before.hash) {
      // Touched, not changed: nothing to parse.
      before.mtimeMs = mtimeMs;
      before.size = size;
      return before;
    }
    const read = readManifestText(text, file);
    const broken = read.diagnostics.some(
      (d) => d.severity === 'error' && d.reason === 'InvalidManifest',
    );
    if (broken && before && before.objects.length > 0) {
      return {
        mtimeMs,
        size,
        hash,
        objects: before.objects,
        problems: [
          ...read.diagnostics,
          warning(
            'KeptLastGoodManifest',
            `${file}: does not parse; still serving the ${before.objects.length} object(s) last read from it`,
            fileRef(file),
          ),
        ],
      };
    }
    return {
      mtimeMs,
      size,
      hash,
      objects: read.objects.map((o) => o.object),
      problems: read.diagnostics,
    };
  }

  async start(
    onSnapshot: (snapshot: Snapshot, problems: readonly Diagnostic[]) => void,
  ): Promise<void> {
    this.onSnapshot = onSnapshot;
    this.reload(true);
    for (const path of this.options.paths) {
      try {
        this.watchers.push(
          watch(path, { recursive: statSync(path).isDirectory() }, () => this.schedule()),
        );
      } catch {
        // A path that cannot be watched is still polled.
      }
    }
    this.poller = setInterval(() => this.reload(false), this.options.pollMs ?? 2000);
    this.poller.unref();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.reload(false), this.options.debounceMs ?? 100);
    this.timer.unref();
  }

  private reload(force: boolean): void {
    const { objects, problems, changed } = this.read();
    if (!force && !changed) return;
    this.onSnapshot?.({ generation: ++this.generation, objects }, problems);
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    clearInterval(this.poller);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    this.onSnapshot = undefined;
  }
}
