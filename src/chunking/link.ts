/**
 * Linking: from the analyses of a tree's files to their graph records (per-file resolved
 * dependencies and closure hashes, see snapshot.ts `GraphRecord`) and the link index a later
 * run reuses.
 *
 * A full link resolves every file. An incremental link starts from the previous snapshot of
 * the same tree (same paths, same configuration) and resolves again only:
 * - the files whose bytes changed, and
 * - the files whose resolution read a changed file whose *surface* changed (what other files'
 *   resolution can see of it: its chunks' localIds and owners, top-level names, imports,
 *   exports, Go package). RepoIndex records those reads, memoized steps included.
 * Closure hashes are then recomputed for the chunks whose own hash, deps or external deps
 * changed and every chunk that reaches one of them, found through the recorded reads (a chunk
 * of file H can only depend on a chunk of file G when H's resolution read G). Every other
 * record is reused by its sha. Both ways give the same records and the same snapshot content.
 */
import { createHash } from 'node:crypto';
import { computeClosureHashes } from '../graph/closure.js';
import { chunkId, compareStrings, MissingAnalysis, RepoIndex } from '../graph/repo-index.js';
import { type ChunkLinks, type FileResolution, GraphResolver, mergeForeignEdges } from '../graph/resolve.js';
import { canonicalJson } from '../store/canonical-json.js';
import type { GraphRecord, LinkIndex } from './snapshot.js';
import type { Language, LinkAnalysis } from './types.js';

/** A file of the tree in snapshot order; `indexed` is false for skipped files (no analysis). */
export interface LinkFile {
  path: string;
  language: Language;
  indexed: boolean;
}

/** What linking reads besides the files. */
export interface LinkContext {
  /** Absolute path of the tree's root. */
  root: string;
  /** Every path of the tree (configuration files are found here). */
  listing: string[];
  /** A configuration file's text by relative path, or undefined. */
  readFile(relPath: string): string | undefined;
  /** Analyses at hand by path; linking adds what it loads. */
  analyses: Map<string, LinkAnalysis>;
  /** Loads the analyses of these paths (current bytes) into `analyses`. */
  loadAnalyses(paths: string[]): Promise<void>;
}

/** The previous snapshot of the same tree, for an incremental link. */
export interface PreviousLink {
  /** Graph record sha per file index (same files as now, same order); undefined for skipped. */
  graphShas: Array<string | undefined>;
  link: LinkIndex;
  lockedVersions: Record<string, string>;
  /** Graph records by sha (store `getGraphRecords`). */
  loadRecords(shas: string[]): Promise<GraphRecord[]>;
  /** The previous analyses of these files (their bytes before the change). */
  loadPreviousAnalyses(paths: string[]): Promise<Map<string, LinkAnalysis>>;
}

export interface LinkResult {
  /** Graph record sha per file index; `undefined` for skipped files. */
  graphShas: Array<string | undefined>;
  /** Canonical JSON of the records this run built (the store skips those it has). */
  records: string[];
  link: LinkIndex;
  lockedVersions: Record<string, string>;
  /** Graph warnings: every file's and the loose ones, sorted, unique. */
  warnings: string[];
  /** Files resolved in this run, and chunks whose closure hash was computed. */
  resolvedFiles: number;
  hashedChunks: number;
}

/** A chunk's links as a record holds them, with deps as ids. */
interface Row {
  id: string;
  localId: string;
  closure: string;
  deps: string[];
  externalDeps: string[];
}

/**
 * Digest of what other files' resolution can read of a file: language, Go package, chunk
 * localIds and owners, top-level names, imports and exports (RepoIndex `FileNode`). Hashes,
 * ranges and refs are not part of it: a change there never changes how another file resolves.
 */
export function surfaceDigest(analysis: LinkAnalysis): string {
  const text = JSON.stringify([
    analysis.language,
    analysis.goPackage ?? null,
    analysis.chunks.map((c) => [c.localId, c.owner ?? null]),
    analysis.topLevel,
    analysis.imports,
    analysis.exports,
  ]);
  return createHash('sha256').update(text).digest('hex');
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Builds a file's record from its rows (in analysis chunk order); returns its JSON and sha. */
function encodeRecord(rows: Row[]): { json: string; sha: string } {
  const local = new Map<string, number>();
  rows.forEach((r, k) => {
    local.set(r.id, k);
  });
  const record: GraphRecord = {
    chunks: rows.map((r) => [r.localId, r.closure, r.deps.map((d) => local.get(d) ?? d), r.externalDeps]),
  };
  const json = canonicalJson(record);
  return { json, sha: sha256Hex(json) };
}

function decodeRecord(path: string, record: GraphRecord): Row[] {
  const ids = record.chunks.map(([localId]) => chunkId(path, localId));
  return record.chunks.map(([localId, closure, deps, externalDeps], k) => ({
    id: ids[k]!,
    localId,
    closure,
    deps: deps.map((d) => (typeof d === 'number' ? ids[d]! : d)),
    externalDeps,
  }));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareStrings);
}

/** Links of one resolved file, in its analysis's chunk order. */
function linksOf(analysis: LinkAnalysis, path: string, links: Map<string, ChunkLinks>): Row[] {
  return analysis.chunks.map((c) => {
    const id = chunkId(path, c.localId);
    const l = links.get(id);
    return { id, localId: c.localId, closure: '', deps: l?.deps ?? [], externalDeps: l?.externalDeps ?? [] };
  });
}

function newIndex(files: LinkFile[], ctx: LinkContext): { index: RepoIndex; resolver: GraphResolver } {
  const index = new RepoIndex(
    files.filter((f) => f.indexed).map((f) => ({ path: f.path, language: f.language })),
    ctx.root,
    (p) => ctx.readFile(p),
    ctx.listing,
    (p) => ctx.analyses.get(p),
  );
  return { index, resolver: new GraphResolver(index) };
}

/**
 * Resolves every file and computes every closure hash. `ctx.analyses` must hold the analysis of
 * every indexed file.
 * @throws MissingAnalysis when one is missing (a caller bug).
 */
export function linkAll(files: LinkFile[], ctx: LinkContext): LinkResult {
  const position = new Map(files.map((f, i) => [f.path, i]));
  // Resolution in a function of its own, so that the index and its caches can be collected
  // before the closure hashes are computed.
  const { links, perFile, lockedVersions, looseWarnings } = resolveAll(files, ctx);

  const rows: Array<Row[] | undefined> = files.map((f) =>
    f.indexed ? linksOf(ctx.analyses.get(f.path)!, f.path, links) : undefined,
  );
  links.clear();
  const closureInput: Array<{ id: string; hash: string; deps: string[]; externalDeps: string[] }> = [];
  files.forEach((f, i) => {
    const fileRows = rows[i];
    if (fileRows === undefined) return;
    const analysis = ctx.analyses.get(f.path)!;
    fileRows.forEach((r, k) => {
      closureInput.push({
        id: r.id,
        hash: analysis.chunks[k]!.hash,
        deps: r.deps,
        externalDeps: r.externalDeps,
      });
    });
  });
  const closures = computeClosureHashes(closureInput, lockedVersions);

  const graphShas: Array<string | undefined> = [];
  const records: string[] = [];
  const link: LinkIndex = { version: 1, surfaces: [], reads: [], warnings: [], looseWarnings };
  files.forEach((f, i) => {
    const fileRows = rows[i];
    const resolution = perFile[i];
    if (fileRows === undefined || resolution === undefined) {
      graphShas.push(undefined);
      link.surfaces.push('');
      link.reads.push([]);
      link.warnings.push([]);
      return;
    }
    for (const r of fileRows) r.closure = closures.get(r.id)!;
    const { json, sha } = encodeRecord(fileRows);
    graphShas.push(sha);
    records.push(json);
    link.surfaces.push(surfaceDigest(ctx.analyses.get(f.path)!));
    link.reads.push(readIndexes(resolution.reads, position));
    link.warnings.push(resolution.warnings);
  });
  return {
    graphShas,
    records,
    link,
    lockedVersions: Object.fromEntries([...lockedVersions].sort((a, b) => compareStrings(a[0], b[0]))),
    warnings: allWarnings(link),
    resolvedFiles: perFile.filter((r) => r !== undefined).length,
    hashedChunks: closureInput.length,
  };
}

/** Resolves every indexed file: the links of every chunk, and each file's reads and warnings. */
function resolveAll(
  files: LinkFile[],
  ctx: LinkContext,
): {
  links: Map<string, ChunkLinks>;
  perFile: Array<Pick<FileResolution, 'reads' | 'warnings'> | undefined>;
  lockedVersions: Map<string, string>;
  looseWarnings: string[];
} {
  const { index, resolver } = newIndex(files, ctx);
  const links = new Map<string, ChunkLinks>();
  const foreign: Array<[string, string]> = [];
  const perFile = files.map((f) => {
    if (!f.indexed) return undefined;
    const r = resolver.resolveFile(f.path);
    for (const l of r.links) links.set(l.id, l.links);
    foreign.push(...r.foreignEdges);
    return { reads: r.reads, warnings: r.warnings };
  });
  mergeForeignEdges(links, foreign);
  const lockedVersions = resolver.lockedVersions();
  return { links, perFile, lockedVersions, looseWarnings: index.warnings() };
}

function readIndexes(reads: string[], position: Map<string, number>): number[] {
  const out: number[] = [];
  for (const p of reads) {
    const i = position.get(p);
    if (i !== undefined) out.push(i);
  }
  return out.sort((a, b) => a - b);
}

function allWarnings(link: LinkIndex): string[] {
  return sortedUnique([...link.looseWarnings, ...link.warnings.flat()]);
}

/**
 * Links incrementally against `previous` (see the module comment). The caller guarantees the
 * same files in the same order as the previous snapshot, unchanged configuration files, no
 * changed Go file (Go resolution is not tracked per file; the caller links all instead), and
 * the current analyses of every file in `changed` in `ctx.analyses`.
 */
export async function linkChanged(
  files: LinkFile[],
  ctx: LinkContext,
  previous: PreviousLink,
  changed: ReadonlySet<string>,
): Promise<LinkResult> {
  const position = new Map(files.map((f, i) => [f.path, i]));
  const prevLink = previous.link;
  const link: LinkIndex = {
    version: 1,
    surfaces: [...prevLink.surfaces],
    reads: [...prevLink.reads],
    warnings: [...prevLink.warnings],
    looseWarnings: prevLink.looseWarnings,
  };

  // Which files to resolve again.
  const observers: number[][] = files.map(() => []);
  prevLink.reads.forEach((reads, h) => {
    for (const g of reads) observers[g]?.push(h);
  });
  const toResolve = new Set<number>();
  const changedIndexes: number[] = [];
  for (const p of changed) {
    const i = position.get(p)!;
    changedIndexes.push(i);
    toResolve.add(i);
    const surface = surfaceDigest(ctx.analyses.get(p)!);
    if (surface !== prevLink.surfaces[i]) for (const h of observers[i]!) toResolve.add(h);
    link.surfaces[i] = surface;
  }
  const wanted = new Set<string>();
  for (const i of toResolve) {
    wanted.add(files[i]!.path);
    for (const g of prevLink.reads[i] ?? []) wanted.add(files[g]!.path);
  }
  await ctx.loadAnalyses([...wanted].filter((p) => !ctx.analyses.has(p)));

  // Resolve them; an analysis found missing is loaded and the file resolved again.
  const { resolver } = newIndex(files, ctx);
  const resolutions = new Map<number, FileResolution>();
  let pending = [...toResolve].sort((a, b) => a - b);
  while (pending.length > 0) {
    const failed: number[] = [];
    const missing = new Set<string>();
    for (const i of pending) {
      try {
        resolutions.set(i, resolver.resolveFile(files[i]!.path));
      } catch (error) {
        if (!(error instanceof MissingAnalysis)) throw error;
        missing.add(error.path);
        failed.push(i);
      }
    }
    if (failed.length === 0) break;
    await ctx.loadAnalyses([...missing]);
    pending = failed;
  }
  const resolvedLinks = new Map<string, ChunkLinks>();
  for (const r of resolutions.values()) {
    if (r.foreignEdges.length > 0) throw new Error(`linkChanged: ${r.path} links chunks of other files (Go)`);
    for (const l of r.links) resolvedLinks.set(l.id, l.links);
  }
  for (const [i, r] of resolutions) {
    link.reads[i] = readIndexes(r.reads, position);
    link.warnings[i] = r.warnings;
  }

  // Rows: the new ones of resolved files, the previous ones of others (loaded as needed).
  const rows = new Map<number, Row[]>();
  const previousRows = new Map<number, Row[]>();
  const loadPrevious = async (indexes: Iterable<number>): Promise<void> => {
    const need = [...new Set(indexes)].filter(
      (i) => !previousRows.has(i) && previous.graphShas[i] !== undefined,
    );
    if (need.length === 0) return;
    const records = await previous.loadRecords(need.map((i) => previous.graphShas[i]!));
    need.forEach((i, k) => {
      previousRows.set(i, decodeRecord(files[i]!.path, records[k]!));
    });
  };
  await loadPrevious(toResolve);
  const fileOf = new Map<string, number>();
  const rev = new Map<string, string[]>();
  const addRows = (i: number, fileRows: Row[]): void => {
    rows.set(i, fileRows);
    for (const r of fileRows) {
      fileOf.set(r.id, i);
      for (const d of r.deps) {
        const list = rev.get(d);
        if (list === undefined) rev.set(d, [r.id]);
        else list.push(r.id);
      }
    }
  };

  // Seeds: chunks whose own hash, deps or external deps differ from before (or that are new).
  const oldAnalyses = await previous.loadPreviousAnalyses(changedIndexes.map((i) => files[i]!.path));
  const seeds: string[] = [];
  for (const i of [...toResolve].sort((a, b) => a - b)) {
    const path = files[i]!.path;
    const analysis = ctx.analyses.get(path)!;
    const before = new Map((previousRows.get(i) ?? []).map((r) => [r.localId, r]));
    const oldHashes = new Map((oldAnalyses.get(path)?.chunks ?? []).map((c) => [c.localId, c.hash]));
    const isChanged = changed.has(path);
    const fileRows = linksOf(analysis, path, resolvedLinks);
    fileRows.forEach((r, k) => {
      const old = before.get(r.localId);
      const same =
        old !== undefined &&
        sameList(old.deps, r.deps) &&
        sameList(old.externalDeps, r.externalDeps) &&
        (!isChanged || oldHashes.get(r.localId) === analysis.chunks[k]!.hash);
      if (same) r.closure = old.closure;
      else seeds.push(r.id);
    });
    addRows(i, fileRows);
  }

  // Everything that reaches a seed: dependents of a chunk of G live in G or in files that read G.
  const affected = new Set(seeds);
  let frontier = seeds;
  const ensureRows = async (indexes: Iterable<number>): Promise<void> => {
    const need = [...new Set(indexes)].filter((i) => !rows.has(i));
    await loadPrevious(need);
    for (const i of need) {
      const fileRows = previousRows.get(i);
      if (fileRows !== undefined)
        addRows(
          i,
          fileRows.map((r) => ({ ...r })),
        );
    }
  };
  while (frontier.length > 0) {
    const filesToScan = new Set<number>();
    for (const id of frontier) {
      const g = fileOf.get(id)!;
      filesToScan.add(g);
      for (const h of observers[g]!) filesToScan.add(h);
    }
    await ensureRows(filesToScan);
    const next: string[] = [];
    for (const id of frontier) {
      for (const dependent of rev.get(id) ?? []) {
        if (affected.has(dependent)) continue;
        affected.add(dependent);
        next.push(dependent);
      }
    }
    frontier = next;
  }

  // Closure hashes of the affected chunks; every other dep keeps its closure hash.
  const affectedFiles = new Set<number>();
  for (const id of affected) affectedFiles.add(fileOf.get(id)!);
  const depFiles = new Set<number>();
  for (const i of affectedFiles) for (const g of link.reads[i] ?? []) depFiles.add(g);
  await ensureRows(depFiles);
  await ctx.loadAnalyses([...affectedFiles].map((i) => files[i]!.path).filter((p) => !ctx.analyses.has(p)));
  const known = new Map<string, string>();
  for (const fileRows of rows.values())
    for (const r of fileRows) if (!affected.has(r.id)) known.set(r.id, r.closure);
  const closureInput: Array<{ id: string; hash: string; deps: string[]; externalDeps: string[] }> = [];
  for (const i of [...affectedFiles].sort((a, b) => a - b)) {
    const analysis = ctx.analyses.get(files[i]!.path)!;
    rows.get(i)!.forEach((r, k) => {
      if (affected.has(r.id)) {
        closureInput.push({
          id: r.id,
          hash: analysis.chunks[k]!.hash,
          deps: r.deps,
          externalDeps: r.externalDeps,
        });
      }
    });
  }
  const lockedVersions = new Map(Object.entries(previous.lockedVersions));
  const closures = computeClosureHashes(closureInput, lockedVersions, known);

  const graphShas = [...previous.graphShas];
  const records: string[] = [];
  for (const i of [...new Set([...toResolve, ...affectedFiles])].sort((a, b) => a - b)) {
    const fileRows = rows.get(i)!;
    for (const r of fileRows) if (affected.has(r.id)) r.closure = closures.get(r.id)!;
    const { json, sha } = encodeRecord(fileRows);
    graphShas[i] = sha;
    records.push(json);
  }
  return {
    graphShas,
    records,
    link,
    lockedVersions: previous.lockedVersions,
    warnings: allWarnings(link),
    resolvedFiles: resolutions.size,
    hashedChunks: closureInput.length,
  };
}
