import { readFileSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { extname, join } from 'node:path';
import { readManifestText, type KubeObject } from '@tether/dialects';
import { error, type Diagnostic } from '@tether/model';
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

function fileProblem(path: string, message: string): Diagnostic {
  return error('UnreadableFile', `${path}: ${message}`, {
    dialect: 'kubernetes',
    kind: 'File',
    namespace: '',
    name: path,
    field: 'file',
    file: path,
  });
}

/**
 * The manifest files of a path: the path itself when it is a file, else the .yaml, .yml and
 * .json files below the folder, in name order, skipping hidden entries and node_modules.
 * Throws when the path cannot be read. `tether explain`/`lint`/`migrate` and `serve` read the
 * same files through it.
 */
export function manifestFilesIn(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && d.name !== 'node_modules')
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((d) =>
      d.isDirectory()
        ? manifestFilesIn(join(path, d.name))
        : EXTENSIONS.has(extname(d.name).toLowerCase())
          ? [join(path, d.name)]
          : [],
    );
}

/** Reads manifests from files and folders and reads them again whenever they change. */
export class FileSource implements Source {
  private watchers: FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poller: NodeJS.Timeout | undefined;
  private generation = 0;
  private lastContent = '';
  private onSnapshot: ((s: Snapshot, p: readonly Diagnostic[]) => void) | undefined;

  constructor(private readonly options: FileSourceOptions) {}

  /** Reads every file now; returns the objects and the problems met. */
  read(): { objects: KubeObject[]; problems: Diagnostic[]; content: string } {
    const objects: KubeObject[] = [];
    const problems: Diagnostic[] = [];
    let content = '';
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
        try {
          const text = readFileSync(file, 'utf8');
          content += `${file}\0${text}\0`;
          const read = readManifestText(text, file);
          objects.push(...read.objects.map((o) => o.object));
          problems.push(...read.diagnostics);
        } catch (e) {
          problems.push(fileProblem(file, e instanceof Error ? e.message : String(e)));
        }
      }
    }
    return { objects, problems, content };
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
    const { objects, problems, content } = this.read();
    if (!force && content === this.lastContent) return;
    this.lastContent = content;
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
