/**
 * Per-file lookup tables built once for graph resolution, and small helpers on repository
 * paths (relative to the root, `/`-separated, `''` for the root itself).
 */
import type { ExportBinding, ImportBinding, LinkAnalysis, LinkChunk } from '../chunking/types.js';

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
  analysis: LinkAnalysis;
  /** Id of the module chunk (the path). */
  moduleId: string;
  /** localId -> chunk. */
  chunks: Map<string, LinkChunk>;
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
export function createFileNode(path: string, analysis: LinkAnalysis): FileNode {
  const chunks = new Map<string, LinkChunk>();
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

/**
 * Thrown while resolving when a file's analysis is needed but was not provided (incremental
 * linking loads analyses on demand): the caller loads it and resolves the file again.
 */
export class MissingAnalysis extends Error {
  constructor(readonly path: string) {
    super(`the analysis of ${path} is not loaded`);
    this.name = 'MissingAnalysis';
  }
}

/** A cached result with what computing it read and warned, replayed on every hit. */
export interface Memo<V> {
  value: V;
  /** Paths of analyzed files whose nodes the computation read; undefined when none. */
  reads: string[] | undefined;
  warnings: string[] | undefined;
}

/** What one tracked computation (a file's resolution, or a memoized step of it) read and warned. */
export interface Frame {
  reads: Set<string>;
  warnings: Set<string>;
}

/** An analyzed file of the repository: its path and language, its analysis given or loaded later. */
export interface SourceFile {
  path: string;
  language: LinkAnalysis['language'];
}

/**
 * The analyzed files and the repository listing, shared by the language resolvers.
 *
 * Nodes are built on first use from `provide(path)`; when it has no analysis for a source
 * file, {@link MissingAnalysis} is thrown. Every node read and every warning is recorded in
 * the innermost open {@link Frame}, and memoized steps ({@link RepoIndex.memo}) replay what
 * they read and warned on each cache hit, so a file's frame ends up holding every file whose
 * analysis its resolution depended on, whatever was cached before. This is what lets a later
 * run resolve again only the files that read a file whose surface changed.
 */
export class RepoIndex {
  /** Analyzed files by path, in path order (every one, whether its node is built yet or not). */
  readonly sources = new Map<string, SourceFile>();
  /** Every path known: the listing and the analyzed files. */
  readonly paths = new Set<string>();
  /** Every directory holding a known path, `''` included. */
  readonly dirs = new Set<string>(['']);
  /** Ids of the chunks of every node built so far. */
  readonly chunkIds = new Set<string>();
  private readonly nodes = new Map<string, FileNode>();
  /** Warnings given outside any frame (configuration files read while setting up). */
  private readonly looseWarnings = new Set<string>();
  private readonly configTexts = new Map<string, string | undefined>();
  private readonly frames: Frame[] = [];

  /**
   * @param files the analyzed files; `analysis` may be left out when `provide` gives it later.
   * @param provide the analysis of a source file not given in `files`, or undefined when it is
   *   not loaded (then {@link MissingAnalysis} is thrown where it is needed).
   */
  constructor(
    files: ReadonlyArray<{ path: string; language?: LinkAnalysis['language']; analysis?: LinkAnalysis }>,
    readonly root: string,
    readonly readFile: (relPath: string) => string | undefined,
    listing: readonly string[],
    private readonly provide: (path: string) => LinkAnalysis | undefined = () => undefined,
  ) {
    const sorted = [...files].sort((a, b) => compareStrings(a.path, b.path));
    const given = new Map<string, LinkAnalysis>();
    for (const file of sorted) {
      if (this.sources.has(file.path)) {
        this.warn(`${file.path}: given twice to the graph; the first analysis is used`);
        continue;
      }
      const language = file.language ?? file.analysis?.language;
      if (language === undefined) throw new TypeError(`RepoIndex: ${file.path} has no language`);
      this.sources.set(file.path, { path: file.path, language });
      if (file.analysis !== undefined) given.set(file.path, file.analysis);
    }
    if (given.size > 0) {
      const fallback = this.provide;
      this.provide = (p) => given.get(p) ?? fallback(p);
    }
    for (const p of listing) this.addPath(p);
    for (const p of this.sources.keys()) this.addPath(p);
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

  /**
   * The node of an analyzed file, or undefined when `path` is not one. Recorded as read in the
   * open frame.
   * @throws MissingAnalysis when the file is analyzed but its analysis is not loaded.
   */
  node(path: string): FileNode | undefined {
    let node = this.nodes.get(path);
    if (node === undefined) {
      if (!this.sources.has(path)) return undefined;
      const analysis = this.provide(path);
      if (analysis === undefined) throw new MissingAnalysis(path);
      node = createFileNode(path, analysis);
      this.nodes.set(path, node);
      for (const id of node.ids.values()) this.chunkIds.add(id);
    }
    this.frames[this.frames.length - 1]?.reads.add(path);
    return node;
  }

  /** Nodes of every analyzed file of the given languages, in path order (each recorded as read). */
  nodesOf(languages: ReadonlySet<string>): FileNode[] {
    const out: FileNode[] = [];
    for (const source of this.sources.values()) {
      if (languages.has(source.language)) out.push(this.node(source.path)!);
    }
    return out;
  }

  /**
   * Runs `compute` in a new frame and returns the frame (what it read and warned) with its
   * result. A frame that throws is dropped.
   */
  track<V>(compute: () => V): { value: V; frame: Frame } {
    const frame: Frame = { reads: new Set(), warnings: new Set() };
    this.frames.push(frame);
    try {
      return { value: compute(), frame };
    } finally {
      this.frames.pop();
    }
  }

  /**
   * `cache.get(key)`, or `compute()` stored under it; either way what the computation read and
   * warned is added to the open frame, so results shared between files stay attributed to
   * every file that uses them.
   */
  memo<K, V>(cache: Map<K, Memo<V>>, key: K, compute: () => V): V {
    let entry = cache.get(key);
    if (entry === undefined) {
      const { value, frame } = this.track(compute);
      entry = {
        value,
        reads: frame.reads.size === 0 ? undefined : [...frame.reads],
        warnings: frame.warnings.size === 0 ? undefined : [...frame.warnings],
      };
      cache.set(key, entry);
    }
    const open = this.frames[this.frames.length - 1];
    if (open !== undefined) {
      if (entry.reads !== undefined) for (const p of entry.reads) open.reads.add(p);
      if (entry.warnings !== undefined) for (const w of entry.warnings) open.warnings.add(w);
    }
    return entry.value;
  }

  /** Records a warning for a person in the open frame (or, outside any, on the index itself). */
  warn(message: string): void {
    const open = this.frames[this.frames.length - 1];
    if (open !== undefined) open.warnings.add(message);
    else this.looseWarnings.add(message);
  }

  /** Warnings given outside any frame, sorted. */
  warnings(): string[] {
    return [...this.looseWarnings].sort(compareStrings);
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
