/**
 * `ccx affected --precise`: dependency edges between TypeScript chunks found by the TypeScript
 * type checker (through ts-morph) rather than by names alone: member calls on values whose type
 * is a class of the repository (`store.get()` to `Store.get`), type references, and imports and
 * re-exports followed to their declarations. One ts-morph Project per tsconfig.json (files under
 * none share one default project), each built once per process and reused.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Manifest, ManifestChunk } from '../manifest.js';
import { utf16ToUtf8Offsets } from '../util/offsets.js';

/** Edges the checker found, and what finding them cost. */
export interface PreciseEdges {
  /** `[from, to]` chunk ids, sorted, unique; never a chunk to itself. */
  edges: Array<[string, string]>;
  /** How many of `edges` the name-based graph of the manifest does not have. */
  added: number;
  /** ts-morph projects built (one per tsconfig.json, plus one for files under none). */
  projects: number;
  /** TypeScript files read. */
  files: number;
}

type TsMorph = typeof import('ts-morph');

const projects = new Map<string, import('ts-morph').Project>();

/** The nearest tsconfig.json at or above the file's directory, inside `root`; undefined when none. */
function tsconfigFor(root: string, file: string): string | undefined {
  let dir = path.dirname(path.join(root, file));
  for (;;) {
    const candidate = path.join(dir, 'tsconfig.json');
    if (existsSync(candidate)) return candidate;
    if (dir === root || path.dirname(dir) === dir) return undefined;
    dir = path.dirname(dir);
  }
}

function projectFor(morph: TsMorph, tsconfig: string | undefined): import('ts-morph').Project {
  const key = tsconfig ?? '';
  let project = projects.get(key);
  if (project === undefined) {
    project =
      tsconfig === undefined
        ? new morph.Project({
            compilerOptions: {
              target: morph.ts.ScriptTarget.ES2022,
              module: morph.ts.ModuleKind.NodeNext,
              moduleResolution: morph.ts.ModuleResolutionKind.NodeNext,
              allowJs: false,
              noEmit: true,
            },
          })
        : new morph.Project({ tsConfigFilePath: tsconfig, skipAddingFilesFromTsConfig: true });
    projects.set(key, project);
  }
  return project;
}

/** The innermost chunk of a file holding a byte offset (chunks of a file nest). */
function innermost(chunks: readonly ManifestChunk[], byte: number): ManifestChunk | undefined {
  let best: ManifestChunk | undefined;
  for (const c of chunks) {
    if (c.startByte <= byte && byte < c.endByte && (best === undefined || c.startByte >= best.startByte))
      best = c;
  }
  return best;
}

/**
 * Resolves every identifier of the TypeScript files of `manifest` (a snapshot of the tree at
 * `root`) with the type checker and returns the chunk-to-chunk edges found.
 * @throws Error when ts-morph cannot be loaded.
 */
export async function findPreciseEdges(root: string, manifest: Manifest): Promise<PreciseEdges> {
  const morph: TsMorph = await import('ts-morph');
  const rootAbs = path.resolve(root);
  const chunksByFile = new Map<string, ManifestChunk[]>();
  for (const c of manifest.chunks) {
    const list = chunksByFile.get(c.file);
    if (list === undefined) chunksByFile.set(c.file, [c]);
    else list.push(c);
  }
  const tsFiles = manifest.files.filter(
    (f) => f.status !== 'skipped' && (f.language === 'typescript' || f.language === 'tsx'),
  );
  const used = new Set<import('ts-morph').Project>();
  const sources: Array<{ rel: string; source: import('ts-morph').SourceFile }> = [];
  for (const f of tsFiles) {
    const project = projectFor(morph, tsconfigFor(rootAbs, f.path));
    used.add(project);
    const abs = path.join(rootAbs, f.path);
    const known = project.getSourceFile(abs);
    // A project reused from an earlier call reads files that changed since then again.
    if (known !== undefined) known.refreshFromFileSystemSync();
    const source = known ?? project.addSourceFileAtPath(abs);
    sources.push({ rel: f.path, source });
  }
  const relOf = (abs: string): string | undefined => {
    const rel = path.relative(rootAbs, abs).split(path.sep).join('/');
    return chunksByFile.has(rel) ? rel : undefined;
  };
  const offsetsOf = new Map<string, (offset: number) => number>();
  const toByte = (rel: string, source: import('ts-morph').SourceFile) => {
    let map = offsetsOf.get(rel);
    if (map === undefined) {
      map = utf16ToUtf8Offsets(source.getFullText());
      offsetsOf.set(rel, map);
    }
    return map;
  };

  const edges = new Set<string>();
  const { SyntaxKind } = morph;
  for (const { rel, source } of sources) {
    const chunks = chunksByFile.get(rel) ?? [];
    const fromBytes = toByte(rel, source);
    for (const id of source.getDescendantsOfKind(SyntaxKind.Identifier)) {
      let symbol = id.getSymbol();
      if (symbol === undefined) continue;
      if (symbol.isAlias()) symbol = symbol.getAliasedSymbol() ?? symbol;
      const from = innermost(chunks, fromBytes(id.getStart()));
      if (from === undefined) continue;
      for (const decl of symbol.getDeclarations()) {
        const declSource = decl.getSourceFile();
        const declRel = relOf(declSource.getFilePath());
        if (declRel === undefined) continue;
        const to = innermost(chunksByFile.get(declRel)!, toByte(declRel, declSource)(decl.getStart()));
        if (to === undefined || to.id === from.id) continue;
        // A chunk's own locals resolve inside it; only edges between chunks count.
        edges.add(`${from.id}\u0000${to.id}`);
      }
    }
  }
  const deps = new Map(manifest.chunks.map((c) => [c.id, new Set(c.deps)]));
  const list = [...edges]
    .map((e) => e.split('\u0000') as [string, string])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return {
    edges: list,
    added: list.filter(([from, to]) => !deps.get(from)?.has(to)).length,
    projects: used.size,
    files: sources.length,
  };
}
