/**
 * The dependency graph of a repository: every chunk's references resolved, across files and
 * languages, to the in-repo chunks they use (`deps`) and the packages from outside the
 * repository (`externalDeps`), with the versions lockfiles pin for those packages.
 */
import type { ImportBinding, LinkAnalysis, LinkChunk, NameRef } from '../chunking/types.js';
import { readLockedVersions } from './locked-versions.js';
import { compareStrings, type FileNode, idOf, RepoIndex, type Target } from './repo-index.js';
import { GoResolver } from './resolve-go.js';
import { JsResolver } from './resolve-js.js';
import { PythonResolver } from './resolve-python.js';

export { chunkId } from './repo-index.js';

/** One analyzed file of the repository. */
export interface GraphFile {
  /** Relative to the root, `/`-separated. */
  path: string;
  analysis: LinkAnalysis;
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

/** Links as they are collected: unsorted, with repeats. */
interface LinkSets {
  deps: string[];
  externalDeps: string[];
}

type Family = 'js' | 'python' | 'go';

function familyOf(file: FileNode): Family {
  const language = file.analysis.language;
  return language === 'python' ? 'python' : language === 'go' ? 'go' : 'js';
}

/** One file resolved on its own ({@link GraphResolver.resolveFile}). */
export interface FileResolution {
  path: string;
  /** Links of the file's chunks, in the analysis's chunk order (a repeated localId once). */
  links: Array<{ id: string; localId: string; links: ChunkLinks }>;
  /**
   * Edges from chunks of other files to chunks of this one (Go: a type declared in another
   * file of the package to its methods here), `[fromId, toId]`.
   */
  foreignEdges: Array<[string, string]>;
  /** Other analyzed files whose analyses the resolution read, sorted. */
  reads: string[];
  /** Warnings the resolution gave, sorted. */
  warnings: string[];
}

/**
 * Resolves the references of chunks into dependencies, one file at a time, over a
 * {@link RepoIndex} whose analyses may be loaded on demand.
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
export class GraphResolver {
  readonly js: JsResolver;
  readonly python: PythonResolver;
  #go: GoResolver | undefined;
  // Targets are shared objects: most refs resolve to a name resolved before.
  readonly #singles = new Map<string, Target>();

  constructor(readonly index: RepoIndex) {
    this.js = new JsResolver(index);
    this.python = new PythonResolver(index);
  }

  /** The Go resolver, set up on first use (it reads every Go file's analysis). */
  get go(): GoResolver {
    this.#go ??= new GoResolver(this.index);
    return this.#go;
  }

  #single(id: string): Target {
    let target = this.#singles.get(id);
    if (target === undefined) {
      target = { ids: [id] };
      this.#singles.set(id, target);
    }
    return target;
  }

  /**
   * Resolves the chunks of one analyzed file.
   * @throws MissingAnalysis when an analysis it needs is not loaded (load it and call again).
   */
  resolveFile(path: string): FileResolution {
    const { index } = this;
    if (index.sources.get(path)?.language === 'go') void this.go; // set up outside the file's frame
    const { value, frame } = index.track(() => this.#resolve(index.node(path)!));
    frame.reads.delete(path);
    return {
      path,
      links: value.links,
      foreignEdges: value.foreignEdges,
      reads: [...frame.reads].sort(compareStrings),
      warnings: [...frame.warnings].sort(compareStrings),
    };
  }

  #resolve(file: FileNode): Pick<FileResolution, 'links' | 'foreignEdges'> {
    const { index, js, python } = this;
    const family = familyOf(file);
    const go = family === 'go' ? this.go : undefined;
    if (go !== undefined) go.prepareFile(file);
    const sets = new Map<string, LinkSets>();
    for (const id of file.ids.values()) sets.set(id, { deps: [], externalDeps: [] });
    const foreignEdges: Array<[string, string]> = [];
    const single = (id: string) => this.#single(id);
    const add = (from: string, link: LinkSets, target: Target | undefined): void => {
      if (target === undefined) return;
      for (const id of target.ids) if (id !== from && index.chunkIds.has(id)) link.deps.push(id);
      if (target.external !== undefined) link.externalDeps.push(target.external);
    };
    const bindingCache = new Map<ImportBinding, Map<string, Target>>();
    const resolveBinding = (binding: ImportBinding, members: readonly string[]): Target => {
      let byMembers = bindingCache.get(binding);
      if (byMembers === undefined) {
        byMembers = new Map();
        bindingCache.set(binding, byMembers);
      }
      const key = members.length === 0 ? '' : members.length === 1 ? members[0]! : members.join('\0');
      let target = byMembers.get(key);
      if (target === undefined) {
        target =
          family === 'js'
            ? js.resolveBinding(file, binding, members)
            : family === 'python'
              ? python.resolveBinding(file, binding, members)
              : go!.resolveBinding(file, binding, members);
        byMembers.set(key, target);
      }
      return target;
    };
    const addBindings = (from: string, link: LinkSets, bindings: ImportBinding[], ref: NameRef): void => {
      for (const binding of bindings) add(from, link, resolveBinding(binding, ref.members));
    };

    const addRef = (chunk: LinkChunk, from: string, link: LinkSets, ref: NameRef): void => {
      const held = file.chunkImports.get(chunk.localId)?.get(ref.name);
      if (held !== undefined) {
        addBindings(from, link, held, ref);
        return;
      }
      const local = file.topLevel.get(ref.name);
      if (local !== undefined) {
        add(from, link, single(idOf(file, local)));
        return;
      }
      const imported = file.fileImports.get(ref.name);
      if (imported !== undefined) {
        addBindings(from, link, imported, ref);
        return;
      }
      if (go !== undefined) {
        const id = go.resolvePackageName(file, ref.name);
        if (id !== undefined) {
          add(from, link, single(id));
          return;
        }
      }
      if (file.starImports.length === 0) return;
      if (family === 'python') add(from, link, python.resolveStar(file, ref.name));
      else if (go !== undefined) {
        // A later dot import cannot shadow an earlier one in Go (it would not compile): any order.
        for (const star of file.starImports) {
          const found = go.resolveDotImport(file, star, ref.name);
          if (found !== undefined) {
            add(from, link, found);
            return;
          }
        }
      }
    };

    const selfRefTarget = (chunk: LinkChunk, member: string): Target | undefined => {
      if (go !== undefined) {
        const id = go.resolveMethod(file, `${chunk.owner}.${member}`);
        return id === undefined ? undefined : single(id);
      }
      const dot = chunk.localId.lastIndexOf('.');
      const ownerLocal = dot < 0 ? chunk.owner : chunk.localId.slice(0, dot);
      const id = file.ids.get(`${ownerLocal}.${member}`) ?? file.ids.get(`${chunk.owner}.${member}`);
      return id === undefined ? undefined : single(id);
    };

    const parentChunk = (chunk: LinkChunk): string | undefined => {
      if (go !== undefined && chunk.owner !== undefined) return go.resolveOwnerType(file, chunk.owner);
      let localId = chunk.localId;
      for (let dot = localId.lastIndexOf('.'); dot > 0; dot = localId.lastIndexOf('.')) {
        localId = localId.slice(0, dot);
        const id = file.ids.get(localId);
        if (id !== undefined) return id;
      }
      return undefined;
    };

    for (const chunk of file.chunks.values()) {
      const id = idOf(file, chunk.localId);
      const link = sets.get(id)!;
      for (const ref of chunk.refs) addRef(chunk, id, link, ref);
      if (chunk.owner !== undefined) {
        for (const member of chunk.selfRefs) add(id, link, selfRefTarget(chunk, member));
      }
      const parent = parentChunk(chunk);
      if (parent === undefined || parent === id) continue;
      const parentLink = sets.get(parent);
      if (parentLink !== undefined) add(parent, parentLink, single(id));
      else if (index.chunkIds.has(parent)) foreignEdges.push([parent, id]);
    }

    for (const binding of file.analysis.imports) {
      const holder = idOf(
        file,
        binding.chunk !== undefined && file.chunks.has(binding.chunk) ? binding.chunk : '',
      );
      const link = sets.get(holder);
      if (link === undefined) continue;
      const target =
        family === 'python'
          ? python.resolveBinding(file, binding, [], true)
          : family === 'js'
            ? js.resolveBinding(file, binding, [])
            : go!.resolveBinding(file, binding, []);
      add(holder, link, target);
    }
    const moduleLink = sets.get(file.moduleId);
    if (family === 'js' && moduleLink !== undefined) {
      for (const target of js.reexportTargets(file)) add(file.moduleId, moduleLink, target);
    }

    const links: FileResolution['links'] = [];
    for (const [localId, id] of file.ids) {
      const link = sets.get(id)!;
      links.push({
        id,
        localId,
        links: { deps: sortedUnique(link.deps), externalDeps: sortedUnique(link.externalDeps) },
      });
    }
    return { links, foreignEdges };
  }

  /** Versions the repository's lockfiles pin (see readLockedVersions). */
  lockedVersions(): Map<string, string> {
    return readLockedVersions(this.index, this.go);
  }
}

/**
 * Resolves every chunk's references into dependencies (the rules of {@link GraphResolver}).
 * The whole graph at once, every analysis given.
 */
export function resolveGraph(files: GraphFile[], context: RepoContext): GraphResult {
  const index = new RepoIndex(files, context.root, (p) => context.readFile(p), context.paths);
  const resolver = new GraphResolver(index);
  const links = new Map<string, ChunkLinks>();
  const warnings = new Set<string>();
  const foreign: Array<[string, string]> = [];
  for (const path of index.sources.keys()) {
    const resolved = resolver.resolveFile(path);
    for (const l of resolved.links) links.set(l.id, l.links);
    for (const w of resolved.warnings) warnings.add(w);
    foreign.push(...resolved.foreignEdges);
  }
  mergeForeignEdges(links, foreign);
  const lockedVersions = resolver.lockedVersions();
  for (const w of index.warnings()) warnings.add(w);
  return { links, lockedVersions, warnings: [...warnings].sort(compareStrings) };
}

/** Adds edges found while resolving another file to the links of their source chunks. */
export function mergeForeignEdges(
  links: Map<string, ChunkLinks>,
  edges: ReadonlyArray<[string, string]>,
): void {
  const touched = new Set<ChunkLinks>();
  for (const [from, to] of edges) {
    const link = links.get(from);
    if (link === undefined) continue;
    link.deps.push(to);
    touched.add(link);
  }
  for (const link of touched) sortedUnique(link.deps);
}

/** Sorts in place (code-unit order) and drops repeats. */
function sortedUnique(list: string[]): string[] {
  if (list.length < 2) return list;
  list.sort();
  let unique = 1;
  for (let i = 1; i < list.length; i++) if (list[i] !== list[unique - 1]) list[unique++] = list[i]!;
  list.length = unique;
  return list;
}
