/**
 * Per-file lookup tables built once for graph resolution, and small helpers on repository
 * paths (relative to the root, `/`-separated, `''` for the root itself).
 */
import type { ChunkRecord, ExportBinding, FileAnalysis, ImportBinding } from '../chunking/types.js';

/** What a reference or an import resolves to: in-repo chunk ids and/or one external package. */
export interface Target {
  ids: readonly string[];
  external?: string;
}

/** Resolves to nothing (a global, a builtin, an unresolvable relative import). */
export const NO_TARGET: Target = Object.freeze({ ids: Object.freeze([]) as readonly string[] });

/** A file of the repository with its analysis indexed for lookups by name. */
export interface FileNode {
  path: string;
  /** Directory of the file, `''` at the root. */
  dir: string;
  analysis: FileAnalysis;
  /** Id of the module chunk (the path). */
  moduleId: string;
  /** localId -> chunk. */
  chunks: Map<string, ChunkRecord>;
  /** localId -> chunk id, built once so that ids are shared strings. */
  ids: Map<string, string>;
  /** Top-level name -> localId of a chunk that exists in the file. */
  topLevel: Map<string, string>;
  /** Imports held by a chunk's body: holder localId -> local name -> bindings. */
  chunkImports: Map<string, Map<string, ImportBinding[]>>;
  /** File-level imports by local name (side-effect and star imports excluded). */
  fileImports: Map<string, ImportBinding[]>;
  /** Python `from m import *` (local `'*'`) and Go dot imports (local `'.'`), in source order. */
  starImports: ImportBinding[];
  /** JS/TS exports by exported name, `'*'` entries excluded. */
  exportsByName: Map<string, ExportBinding[]>;
  /** JS/TS `export * from 'm'` entries. */
  starExports: ExportBinding[];
}

/** `path#localId`, or the path alone for the module chunk (localId `''`). */
export function chunkId(path: string, localId: string): string {
  return localId === '' ? path : `${path}#${localId}`;
}

/** Directory part of a repository path; `''` for a file at the root. */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** Last path element. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * Joins `rel` (with `.` and `..` segments, `/`-separated) onto the repository directory `dir`;
 * undefined when the result would leave the root.
 */
export function joinPath(dir: string, rel: string): string | undefined {
  const out = dir === '' ? [] : dir.split('/');
  for (const part of rel.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(part);
    }
  }
  return out.join('/');
}

/** Whether `dir` is `ancestor` or below it (both repository directories). */
export function isWithin(dir: string, ancestor: string): boolean {
  return ancestor === '' || dir === ancestor || dir.startsWith(`${ancestor}/`);
}

/** Code-unit order: the same on every platform and locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/** The id of a chunk of `file` by its localId (shared string when the chunk exists). */
export function idOf(file: FileNode, localId: string): string {
  return file.ids.get(localId) ?? chunkId(file.path, localId);
}

/** Builds the lookup tables of one file. */
export function createFileNode(path: string, analysis: FileAnalysis): FileNode {
  const chunks = new Map<string, ChunkRecord>();
  const ids = new Map<string, string>();
  for (const chunk of analysis.chunks) {
    if (chunks.has(chunk.localId)) continue;
    chunks.set(chunk.localId, chunk);
    ids.set(chunk.localId, chunkId(path, chunk.localId));
  }
  const topLevel = new Map<string, string>();
  for (const [name, localId] of Object.entries(analysis.topLevel)) {
    if (chunks.has(localId)) topLevel.set(name, localId);
  }
  const chunkImports = new Map<string, Map<string, ImportBinding[]>>();
  const fileImports = new Map<string, ImportBinding[]>();
  const starImports: ImportBinding[] = [];
  for (const binding of analysis.imports) {
    if (binding.chunk !== undefined && binding.chunk !== '' && chunks.has(binding.chunk)) {
      if (binding.local !== '' && binding.local !== '*' && binding.local !== '.') {
        let held = chunkImports.get(binding.chunk);
        if (held === undefined) {
          held = new Map();
          chunkImports.set(binding.chunk, held);
        }
        pushTo(held, binding.local, binding);
      }
    } else if (binding.local === '*' || binding.local === '.') {
      starImports.push(binding);
    } else if (binding.local !== '') {
      pushTo(fileImports, binding.local, binding);
    }
  }
  const exportsByName = new Map<string, ExportBinding[]>();
  const starExports: ExportBinding[] = [];
  for (const binding of analysis.exports) {
    if (binding.exported === '*') {
      if (binding.specifier !== undefined) starExports.push(binding);
    } else {
      pushTo(exportsByName, binding.exported, binding);
    }
  }
  return {
    path,
    dir: dirOf(path),
    analysis,
    moduleId: path,
    chunks,
    ids,
    topLevel,
    chunkImports,
    fileImports,
    starImports,
    exportsByName,
    starExports,
  };
}

/** The analyzed files and the repository listing, shared by the language resolvers. */
export class RepoIndex {
  /** Analyzed files by path, in path order. */
  readonly files = new Map<string, FileNode>();
  /** Every path known: the listing and the analyzed files. */
  readonly paths = new Set<string>();
  /** Every directory holding a known path, `''` included. */
  readonly dirs = new Set<string>(['']);
  private readonly warningSet = new Set<string>();
  private readonly configTexts = new Map<string, string | undefined>();

  constructor(
    files: ReadonlyArray<{ path: string; analysis: FileAnalysis }>,
    readonly root: string,
    readonly readFile: (relPath: string) => string | undefined,
    listing: readonly string[],
  ) {
    const sorted = [...files].sort((a, b) => compareStrings(a.path, b.path));
    for (const file of sorted) {
      if (this.files.has(file.path)) {
        this.warn(`${file.path}: given twice to the graph; the first analysis is used`);
        continue;
      }
      this.files.set(file.path, createFileNode(file.path, file.analysis));
    }
    for (const p of listing) this.addPath(p);
    for (const p of this.files.keys()) this.addPath(p);
  }

  private addPath(p: string): void {
    if (this.paths.has(p)) return;
    this.paths.add(p);
    let dir = dirOf(p);
    while (dir !== '' && !this.dirs.has(dir)) {
      this.dirs.add(dir);
      dir = dirOf(dir);
    }
  }

  /** Records a warning for a person; duplicates are dropped. */
  warn(message: string): void {
    this.warningSet.add(message);
  }

  /** The warnings so far, sorted. */
  warnings(): string[] {
    return [...this.warningSet].sort(compareStrings);
  }

  /**
   * A configuration file's text (package.json, tsconfig.json, go.mod, a lockfile), or undefined
   * when there is none. A path missing from the listing is still tried through `readFile`, so
   * that a listing of source files alone does not hide the configs next to them. Cached.
   */
  readConfig(relPath: string): string | undefined {
    if (this.configTexts.has(relPath)) return this.configTexts.get(relPath);
    let text: string | undefined;
    try {
      text = this.readFile(relPath);
    } catch {
      text = undefined;
    }
    this.configTexts.set(relPath, text);
    return text;
  }

  /** Whether a configuration file exists: in the listing, or readable when the listing lacks it. */
  hasConfig(relPath: string): boolean {
    return this.paths.has(relPath) ? true : this.readConfig(relPath) !== undefined;
  }
}
