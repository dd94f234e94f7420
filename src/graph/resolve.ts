/**
 * The dependency graph of a repository: every chunk's references resolved, across files and
 * languages, to the in-repo chunks they use (`deps`) and the packages from outside the
 * repository (`externalDeps`), with the versions lockfiles pin for those packages.
 */
import type { ChunkRecord, FileAnalysis, ImportBinding, NameRef } from '../chunking/types.js';
import { readLockedVersions } from './locked-versions.js';
import { chunkId, type FileNode, RepoIndex, type Target } from './repo-index.js';
import { GoResolver } from './resolve-go.js';
import { JsResolver } from './resolve-js.js';
import { PythonResolver } from './resolve-python.js';

export { chunkId } from './repo-index.js';

/** One analyzed file of the repository. */
export interface GraphFile {
  /** Relative to the root, `/`-separated. */
  path: string;
  analysis: FileAnalysis;
}

/** What resolution may read about the repository besides the analyses. */
export interface RepoContext {
  /** Absolute path of the repository root (tsconfig files are parsed from disk below it). */
  root: string;
  /**
   * Reads a file of the repository by its relative path, or undefined when it cannot: the
   * configuration files tsconfig.json/jsconfig.json (only as a fallback), package.json,
   * package-lock.json, go.mod and requirements.txt.
   */
  readFile(relPath: string): string | undefined;
  /** Every path of the repository listing (not only source files): config files are found here. */
  paths: string[];
}

/** The resolved dependencies of one chunk. */
export interface ChunkLinks {
  /** Ids of in-repo chunks used directly: sorted, unique, never the chunk itself. */
  deps: string[];
  /** Packages used from outside the repo, sorted and unique: `lodash`, `@scope/pkg`, `node:fs`, `numpy`, `net/http`. */
  externalDeps: string[];
}

/** The dependency graph of a repository. */
export interface GraphResult {
  /** Chunk id -> its links, for every chunk of every file given. */
  links: Map<string, ChunkLinks>;
  /** External package name (as in `externalDeps`) -> the version a lockfile pins. */
  lockedVersions: Map<string, string>;
  /** Problems for a person (unresolvable relative imports, unreadable configs), sorted. */
  warnings: string[];
}

interface LinkSets {
  deps: Set<string>;
  externalDeps: Set<string>;
}

type Family = 'js' | 'python' | 'go';

function familyOf(file: FileNode): Family {
  const language = file.analysis.language;
  return language === 'python' ? 'python' : language === 'go' ? 'go' : 'js';
}

/**
 * Resolves every chunk's references into dependencies.
 *
 * For each ref of chunk C in file F, the first rule that applies: (1) an import held by C's
 * body; (2) a top-level name of F (C itself gives no edge); (3) a file-level import of F; (4) Go:
 * a package-level name of another file of F's package; (5) a name brought in by `from m import *`
 * (Go: a dot import); (6) otherwise a global or builtin, no edge. Also: `selfRefs` to the
 * owner's method chunks; a chunk to the chunks nested in it (a class to its methods, a Go type
 * to its methods across the package); the chunk holding an import statement to what it
 * imports; a JS/TS module chunk to what it re-exports. Never throws for bad input: what cannot
 * be resolved gives no edge, and at most one warning per file and specifier.
 */
export function resolveGraph(files: GraphFile[], context: RepoContext): GraphResult {
  const index = new RepoIndex(files, context.root, (p) => context.readFile(p), context.paths);
  const js = new JsResolver(index);
  const python = new PythonResolver(index);
  const go = new GoResolver(index);
  const sets = new Map<string, LinkSets>();
  for (const file of index.files.values()) {
    for (const localId of file.chunks.keys()) {
      sets.set(chunkId(file.path, localId), { deps: new Set(), externalDeps: new Set() });
    }
  }

  const add = (from: string, target: Target | undefined): void => {
    if (target === undefined) return;
    const link = sets.get(from);
    if (link === undefined) return;
    for (const id of target.ids) if (id !== from && sets.has(id)) link.deps.add(id);
    if (target.external !== undefined) link.externalDeps.add(target.external);
  };

  for (const file of index.files.values()) {
    const family = familyOf(file);
    if (family === 'go') go.prepareFile(file);
    const resolveBinding = (binding: ImportBinding, members: readonly string[]): Target =>
      family === 'js'
        ? js.resolveBinding(file, binding, members)
        : family === 'python'
          ? python.resolveBinding(file, binding, members)
          : go.resolveBinding(file, binding, members);

    const resolveRef = (chunk: ChunkRecord, ref: NameRef): readonly Target[] => {
      const held = file.chunkImports.get(`${chunk.localId}\0${ref.name}`);
      if (held !== undefined) return held.map((binding) => resolveBinding(binding, ref.members));
      const local = file.topLevel.get(ref.name);
      if (local !== undefined) return [{ ids: [chunkId(file.path, local)] }];
      const imported = file.fileImports.get(ref.name);
      if (imported !== undefined) return imported.map((binding) => resolveBinding(binding, ref.members));
      if (family === 'go') {
        const id = go.resolvePackageName(file, ref.name);
        if (id !== undefined) return [{ ids: [id] }];
      }
      if (file.starImports.length === 0) return [];
      if (family === 'python') return optional(python.resolveStar(file, ref.name));
      if (family === 'go') {
        // A later dot import cannot shadow an earlier one in Go (it would not compile): any order.
        for (const star of file.starImports) {
          const found = go.resolveDotImport(file, star, ref.name);
          if (found !== undefined) return [found];
        }
      }
      return [];
    };

    for (const chunk of file.chunks.values()) {
      const id = chunkId(file.path, chunk.localId);
      for (const ref of chunk.refs) for (const target of resolveRef(chunk, ref)) add(id, target);
      if (chunk.owner !== undefined) {
        for (const member of chunk.selfRefs) add(id, selfRefTarget(file, chunk, member));
      }
      const parent = parentChunk(file, chunk);
      if (parent !== undefined) add(parent, { ids: [id] });
    }

    for (const binding of file.analysis.imports) {
      const holder = binding.chunk !== undefined && file.chunks.has(binding.chunk) ? binding.chunk : '';
      const target =
        family === 'python'
          ? python.resolveBinding(file, binding, [], true)
          : family === 'js'
            ? js.resolveBinding(file, binding, [])
            : go.resolveBinding(file, binding, []);
      add(chunkId(file.path, holder), target);
    }
    if (family === 'js') for (const target of js.reexportTargets(file)) add(file.moduleId, target);
  }

  function selfRefTarget(file: FileNode, chunk: ChunkRecord, member: string): Target | undefined {
    if (familyOf(file) === 'go') {
      const id = go.resolveMethod(file, `${chunk.owner}.${member}`);
      return id === undefined ? undefined : { ids: [id] };
    }
    const dot = chunk.localId.lastIndexOf('.');
    const ownerLocal = dot < 0 ? chunk.owner : chunk.localId.slice(0, dot);
    for (const candidate of [`${ownerLocal}.${member}`, `${chunk.owner}.${member}`]) {
      if (file.chunks.has(candidate)) return { ids: [chunkId(file.path, candidate)] };
    }
    return undefined;
  }

  function parentChunk(file: FileNode, chunk: ChunkRecord): string | undefined {
    if (familyOf(file) === 'go' && chunk.owner !== undefined) return go.resolveOwnerType(file, chunk.owner);
    let localId = chunk.localId;
    for (let dot = localId.lastIndexOf('.'); dot > 0; dot = localId.lastIndexOf('.')) {
      localId = localId.slice(0, dot);
      if (file.chunks.has(localId)) return chunkId(file.path, localId);
    }
    return undefined;
  }

  const links = new Map<string, ChunkLinks>();
  for (const [id, link] of sets) {
    links.set(id, { deps: [...link.deps].sort(), externalDeps: [...link.externalDeps].sort() });
  }
  const lockedVersions = readLockedVersions(index, go);
  return { links, lockedVersions, warnings: index.warnings() };
}

function optional(target: Target | undefined): readonly Target[] {
  return target === undefined ? [] : [target];
}
