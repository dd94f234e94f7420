/**
 * `ccx chunk DIR`: discover the source files of a tree, analyze the ones the store does not know
 * yet on worker threads, resolve the dependency graph, compute closure hashes and write a
 * snapshot. Returns the manifest (shared/spec/manifest.schema.json); prints nothing.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readFileSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { HASH_VERSION, type Manifest, type ManifestStats } from '../manifest.js';
import { canonicalJson } from '../store/canonical-json.js';
import { resolveStorePath } from '../store/location.js';
import { type ChunkStore, computeSnapshotId, openStore, type PutFileEntry } from '../store/store.js';
import { gitFileInfo } from '../util/git.js';
import { ANALYZER_VERSION } from './analyze.js';
import { DEFAULT_MAX_FILE_BYTES } from './defaults.js';
import { discoverFiles } from './discover.js';
import { type LinkContext, type LinkFile, type LinkResult, linkAll, linkChanged } from './link.js';
import { type FileAnalyzer, InThreadAnalyzer, WorkerPool } from './pool.js';
import {
  analysisKey,
  type GraphRecord,
  type LinkIndex,
  loadAnalyses,
  loadSnapshotManifest,
  type SnapshotContent,
  type SnapshotFile,
  type SnapshotMeta,
} from './snapshot.js';

export { analysisKey };

import { type FileAnalysis, type Language, type LinkAnalysis, toLinkAnalysis } from './types.js';

export { DEFAULT_MAX_FILE_BYTES };

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Files read at once while hashing. */
const READ_CONCURRENCY = 32;
/** Up to this many files to analyze are analyzed on the main thread, without starting workers. */
const IN_THREAD_MAX_FILES = 4;
/** putFiles is called once this many analyzed files are waiting. */
const PUT_BATCH_FILES = 32;

export interface ChunkOptions {
  /** The directory to chunk, as the user gave it. */
  root: string;
  /** Store directory; default `<root>/.ccx`. */
  store?: string;
  /** Worker threads; default: the number of cores. */
  jobs?: number;
  /** Files larger than this many bytes are skipped; default {@link DEFAULT_MAX_FILE_BYTES}. */
  maxFileBytes?: number;
  /** Wait for a store held by another process (true, or milliseconds) instead of failing. */
  wait?: boolean | number;
  /** Build the manifest (default true); the CLI asks for it only with `--json`. */
  manifest?: boolean;
  /**
   * The root as the store records it (head pointer, stat index, snapshot root); default: the
   * absolute path of `root`. A checkout of a git revision in a temporary directory is recorded
   * under a stable name such as `git:/repo@<commit>`, so that the next run finds its head.
   */
  recordAs?: string;
  /**
   * Where git history for the files comes from when `root` is not itself a work tree (a
   * checked-out revision): the repository directory that corresponds to `root`, and the commit.
   */
  gitHistory?: { dir: string; commit: string };
  /** Called as files are analyzed: files done so far and in all (both counts include reused files). */
  onProgress?: (done: number, total: number) => void;
}

export interface ChunkResult {
  /** The snapshot's manifest; absent when `options.manifest` is false. */
  manifest?: Manifest;
  /** Id of the snapshot (the head's, when nothing changed). */
  snapshot: string;
  parent: string | null;
  /** The root as given. */
  root: string;
  stats: ManifestStats;
  /** Chunks per language and per kind. */
  chunksByLanguage: Record<string, number>;
  chunksByKind: Record<string, number>;
  /** Files not indexed cleanly, sorted by path. */
  problems: Array<{ path: string; status: 'skipped' | 'parse-error'; reason: string }>;
  /** Problems not tied to one file. */
  warnings: string[];
  /** Absolute path of the store written to. */
  storePath: string;
  /** False when the tree was unchanged since the head snapshot, so no snapshot was added. */
  newSnapshot: boolean;
  /**
   * How the graph was linked: `unchanged` (the head snapshot held), `full` (every file
   * resolved), or `incremental` (only changed files and those that read them; link.ts), with the
   * files resolved and the closure hashes computed.
   */
  linking: { mode: 'unchanged' | 'full' | 'incremental'; resolvedFiles: number; hashedChunks: number };
}

export { resolveStorePath };

interface FileWork {
  file: SnapshotFile;
  /** The raw bytes while they are needed (until stored); absent when the stat index vouched for the file. */
  bytes?: Buffer | undefined;
  /** What linking needs of the file's analysis, once it is analyzed or found in the store. */
  link?: LinkAnalysis;
  /** The file's stat, for the next run's stat index. */
  stat?: StatEntry;
}

/** `[size, mtimeNs, ctimeNs, ino, sha256]` as strings (nanoseconds do not fit a double). */
type StatEntry = [string, string, string, string, string];

/** The stat index kept per root (ChunkStore.getStatIndex): path -> stat entry. */
interface StatIndex {
  version: 1;
  /** When it was written, ms since the epoch; files changed less than RACY_MS before are re-read. */
  writtenAt: number;
  files: Record<string, StatEntry>;
}

/**
 * A file whose mtime is this close to the time the index was written may have changed again
 * within the same timestamp granularity, so its stat is not trusted (git's "racy clean" rule).
 */
const RACY_MS = 2000;

/**
 * Chunks the tree at `options.root` into the store and returns the new snapshot's manifest.
 *
 * @throws UsageError when the root is not a readable directory.
 * @throws StoreLockedError when another process holds the store (and `wait` ran out).
 * @throws StoreError when the store cannot be opened or written.
 */
export async function chunk(options: ChunkOptions): Promise<ChunkResult> {
  const started = performance.now();
  const rootAbs = path.resolve(options.root);
  const recordAs = options.recordAs ?? rootAbs;
  const storePath = resolveStorePath(options.root, options.store);
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const jobs = Math.max(1, options.jobs ?? availableParallelism());

  const phase = createPhaseTimer();
  const discovery = await discoverFiles(rootAbs, { storePath });
  phase('discover');
  const store = await openStore(storePath, { wait: options.wait ?? false });
  try {
    // Outside a git work tree there is no history to ask for.
    const paths = discovery.candidates.map((c) => c.path);
    const gitInfo =
      options.gitHistory !== undefined
        ? gitFileInfo(options.gitHistory.dir, paths, options.gitHistory.commit)
        : discovery.gitWorkTree === null
          ? Promise.resolve(new Map<string, { creator: string; lastModified: string }>())
          : gitFileInfo(rootAbs, paths);
    const head = await store.getHead(recordAs);
    const headSummary = head === null ? undefined : await store.getSnapshotSummary(head);
    const statIndex = parseStatIndex(await store.getStatIndex(recordAs));
    phase('head');
    const work: FileWork[] = await readCandidates(discovery.candidates, maxFileBytes, statIndex);
    for (const s of discovery.skipped) {
      work.push({
        file: {
          path: s.path,
          language: s.language,
          sha256: EMPTY_SHA256,
          bytes: s.bytes,
          status: 'skipped',
          reason: s.reason,
        },
      });
    }
    // One order for everything below: files by path, chunks in source order.
    work.sort((a, b) => (a.file.path < b.file.path ? -1 : a.file.path > b.file.path ? 1 : 0));
    phase('read');
    await fillFileMetadata(work, rootAbs, await gitInfo);
    const treeDigest = digestTree(work);
    phase('metadata');
    const readConfig = createConfigReader(rootAbs);

    // Nothing changed since the head snapshot: it is the answer, without resolving the graph
    // again (and without loading its content or any analysis unless the manifest is wanted).
    if (headSummary !== undefined && isUnchanged(treeDigest, headSummary.meta as SnapshotMeta, readConfig)) {
      const meta = headSummary.meta as SnapshotMeta;
      await store.putStatIndex(recordAs, buildStatIndex(work));
      const indexed = meta.stats.files - meta.stats.skipped;
      const stats: ManifestStats = { ...meta.stats, reusedFiles: indexed, newChunks: 0 };
      const result: ChunkResult = {
        snapshot: headSummary.id,
        parent: headSummary.parent,
        root: options.root,
        stats,
        chunksByLanguage: meta.chunksByLanguage ?? {},
        chunksByKind: meta.chunksByKind ?? {},
        problems: meta.problems ?? [],
        warnings: meta.warnings ?? [],
        storePath,
        newSnapshot: false,
        linking: { mode: 'unchanged', resolvedFiles: 0, hashedChunks: 0 },
      };
      if (options.manifest !== false) {
        const snapshot = await store.getSnapshot(headSummary.id);
        stats.ms = Math.round((performance.now() - started) * 10) / 10;
        result.manifest = await loadSnapshotManifest(store, snapshot!, { root: options.root, stats });
      }
      stats.ms = Math.round((performance.now() - started) * 10) / 10;
      phase('unchanged');
      return result;
    }

    const total = work.length;
    let done = 0;
    const progress = () => options.onProgress?.(done, total);

    // The head snapshot, when this run can start from it: same hash and analyzer versions.
    const previous = headSummary === undefined ? undefined : await loadPreviousState(store, headSummary.id);
    phase('previous');

    // Files whose bytes the head snapshot already holds keep its analysis (loaded only when
    // needed); the others reuse an analysis the store has for their bytes, or are analyzed.
    let reusedFiles = 0;
    const lookups: FileWork[] = [];
    for (const w of work) {
      if (w.file.status === 'skipped') continue;
      const before = previous?.byPath.get(w.file.path)?.file;
      if (
        before !== undefined &&
        before.status !== 'skipped' &&
        before.sha256 === w.file.sha256 &&
        before.language === w.file.language
      ) {
        w.file.status = before.status;
        if (before.reason !== undefined) w.file.reason = before.reason;
        w.bytes = undefined;
        reusedFiles++;
      } else {
        lookups.push(w);
      }
    }
    const cached = await store.getAnalyses(
      lookups.map((w) => analysisKey(ANALYZER_VERSION, w.file.language, w.file.sha256)),
    );
    const misses: FileWork[] = [];
    lookups.forEach((w, i) => {
      const a = cached[i];
      if (a === undefined) {
        misses.push(w);
        return;
      }
      setAnalysis(w, a);
      w.bytes = undefined; // only files still to analyze keep their bytes in memory
      reusedFiles++;
    });
    // Files the stat index vouched for but whose analysis is not stored (another analyzer
    // version, say) are read now.
    await Promise.all(
      misses.filter((w) => w.bytes === undefined).map((w) => readBytes(w, path.join(rootAbs, w.file.path))),
    );
    done = total - misses.length;
    progress();
    phase('cache lookup');

    const newChunks = await analyzeMisses(store, misses, jobs, maxFileBytes, () => {
      done++;
      progress();
    });
    phase('analyze');
    const analyses = new Map<string, LinkAnalysis>();
    for (const w of lookups) if (w.link !== undefined) analyses.set(w.file.path, w.link);

    const linkFiles: LinkFile[] = work.map((w) => ({
      path: w.file.path,
      language: w.file.language,
      indexed: w.file.status !== 'skipped',
    }));
    const shaOf = new Map(work.map((w) => [w.file.path, w.file.sha256]));
    const languageOf = new Map(linkFiles.map((f) => [f.path, f.language]));
    const loadCurrent = async (paths: string[]): Promise<void> => {
      const found = await loadAnalyses(
        store,
        ANALYZER_VERSION,
        paths.map((p) => ({ path: p, language: languageOf.get(p)!, sha256: shaOf.get(p)! })),
      );
      for (const [p, a] of found) analyses.set(p, toLinkAnalysis(a));
    };
    const ctx: LinkContext = {
      root: rootAbs,
      listing: work.map((w) => w.file.path),
      readFile: readConfig,
      analyses,
      loadAnalyses: loadCurrent,
    };
    const changed = new Set(lookups.filter((w) => w.link !== undefined).map((w) => w.file.path));
    const incremental =
      previous !== undefined &&
      sameFiles(previous.content.files, linkFiles) &&
      configsUnchanged(previous.meta, readConfig) &&
      ![...changed].some((p) => languageOf.get(p) === 'go');
    let linked: LinkResult;
    let configFiles: Record<string, string | null>;
    const chunksByLanguage: Record<string, number> = {};
    const chunksByKind: Record<string, number> = {};
    const count = (a: LinkAnalysis, sign: number) => {
      chunksByLanguage[a.language] = (chunksByLanguage[a.language] ?? 0) + sign * a.chunks.length;
      for (const c of a.chunks) chunksByKind[c.kind] = (chunksByKind[c.kind] ?? 0) + sign;
    };
    if (incremental) {
      const prev = previous!;
      const loadPrevious = memoizedLoader(store, prev.content);
      linked = await linkChanged(
        linkFiles,
        ctx,
        {
          graphShas: prev.content.files.map((f) => f.graph),
          link: prev.link,
          lockedVersions: prev.content.lockedVersions,
          loadRecords: async (shas) => {
            const records = await store.getGraphRecords(shas);
            return records.map((r, i) => {
              if (r === undefined) {
                throw new StoreError(`the store lacks the graph record ${shas[i]}`, {
                  hint: 'run `ccx verify` to see what else is missing',
                });
              }
              return r as GraphRecord;
            });
          },
          loadPreviousAnalyses: loadPrevious,
        },
        changed,
      );
      // Counts: the head's, less what the changed files held before, plus what they hold now.
      Object.assign(chunksByLanguage, prev.meta.chunksByLanguage ?? {});
      Object.assign(chunksByKind, prev.meta.chunksByKind ?? {});
      for (const a of (await loadPrevious([...changed])).values()) count(a, -1);
      for (const p of changed) count(analyses.get(p)!, 1);
      dropZeros(chunksByLanguage);
      dropZeros(chunksByKind);
      configFiles = { ...(prev.meta.configFiles ?? {}), ...readConfig.seen() };
    } else {
      await loadCurrent(linkFiles.filter((f) => f.indexed && !analyses.has(f.path)).map((f) => f.path));
      linked = linkAll(linkFiles, ctx);
      // Also fingerprint the configuration files the resolver reads from disk by itself
      // (tsconfig.json through get-tsconfig), so that a later run notices when one changes.
      for (const rel of configCandidates(work)) readConfig(rel);
      for (const f of linkFiles) if (f.indexed) count(analyses.get(f.path)!, 1);
      configFiles = readConfig.seen();
    }
    phase(
      `link (${incremental ? 'incremental' : 'full'}: ${linked.resolvedFiles} files resolved, ${linked.hashedChunks} closures)`,
    );
    work.forEach((w, i) => {
      const sha = linked.graphShas[i];
      if (sha !== undefined) w.file.graph = sha;
    });
    const content: SnapshotContent = {
      hashVersion: HASH_VERSION,
      analyzerVersion: ANALYZER_VERSION,
      files: work.map((w) => w.file),
      lockedVersions: linked.lockedVersions,
      warnings: [...discovery.warnings, ...linked.warnings],
    };
    const createdAt = new Date().toISOString();
    const stats: ManifestStats = {
      files: work.length,
      chunks: Object.values(chunksByLanguage).reduce((a, b) => a + b, 0),
      parseErrors: work.filter((w) => w.file.status === 'parse-error').length,
      skipped: work.filter((w) => w.file.status === 'skipped').length,
      reusedFiles,
      newChunks,
      ms: 0,
    };
    const meta: SnapshotMeta = {
      rootAsGiven: options.recordAs ?? options.root,
      stats,
      chunksByLanguage,
      chunksByKind,
      hashVersion: HASH_VERSION,
      analyzerVersion: ANALYZER_VERSION,
      treeDigest,
      configFiles,
      problems: problemsOf(content.files),
      warnings: content.warnings,
    };
    const indexedFiles = work.filter((w) => w.file.status !== 'skipped');
    const fileShas = [...new Set(indexedFiles.map((w) => w.file.sha256))];
    const graphShas = [...new Set(indexedFiles.map((w) => w.file.graph!))];
    // A tree unchanged since the head snapshot adds no snapshot: the head is the answer.
    const contentJson = canonicalJson(content);
    const unchanged =
      headSummary !== undefined &&
      computeSnapshotId(recordAs, headSummary.parent, contentJson) === headSummary.id;
    // Same content: refresh the head's meta, so the next run can take the unchanged path.
    if (unchanged) await store.setSnapshotMeta(headSummary.id, meta);
    const snapshotId = unchanged
      ? headSummary.id
      : await store.writeSnapshot({
          root: recordAs,
          parent: head,
          createdAt,
          content,
          contentJson,
          meta,
          fileShas,
          graphShas,
          graphRecords: linked.records,
          linkIndex: linked.link,
        });
    await store.putStatIndex(recordAs, buildStatIndex(work));
    const newSnapshot = !unchanged;
    const snapshotParent = unchanged ? headSummary.parent : head;
    phase('snapshot');
    stats.ms = Math.round((performance.now() - started) * 10) / 10;
    const result: ChunkResult = {
      snapshot: snapshotId,
      parent: snapshotParent,
      root: options.root,
      stats,
      chunksByLanguage,
      chunksByKind,
      problems: problemsOf(content.files),
      warnings: content.warnings,
      storePath,
      newSnapshot,
      linking: {
        mode: incremental ? 'incremental' : 'full',
        resolvedFiles: linked.resolvedFiles,
        hashedChunks: linked.hashedChunks,
      },
    };
    if (options.manifest !== false) {
      const snapshot = await store.getSnapshot(snapshotId);
      result.manifest = await loadSnapshotManifest(store, snapshot!, { root: options.root, stats });
      phase('manifest');
    }
    phase(`peak rss ${process.resourceUsage().maxRSS} KiB`);
    return result;
  } finally {
    await store.close();
  }
}

function parseStatIndex(value: unknown): StatIndex | undefined {
  const v = value as StatIndex | undefined;
  if (v === undefined || v === null || v.version !== 1 || typeof v.writtenAt !== 'number') return undefined;
  if (typeof v.files !== 'object' || v.files === null) return undefined;
  return v;
}

function buildStatIndex(work: FileWork[]): StatIndex {
  const files: Record<string, StatEntry> = {};
  for (const w of work) {
    if (w.stat !== undefined && w.file.status !== 'skipped') files[w.file.path] = w.stat;
  }
  return { version: 1, writtenAt: Date.now(), files };
}

function statEntry(st: BigIntStats, sha256: string): StatEntry {
  return [String(st.size), String(st.mtimeNs), String(st.ctimeNs), String(st.ino), sha256];
}

/**
 * Stats every candidate; reads and hashes those the stat index cannot vouch for. Files over the
 * limit are skipped after the stat, without reading them.
 */
async function readCandidates(
  candidates: Array<{ path: string; absPath: string; language: Language }>,
  maxFileBytes: number,
  index: StatIndex | undefined,
): Promise<FileWork[]> {
  const out: FileWork[] = new Array(candidates.length);
  const trustBefore = index === undefined ? 0 : index.writtenAt - RACY_MS;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= candidates.length) return;
      const c = candidates[i]!;
      const file: SnapshotFile = {
        path: c.path,
        language: c.language,
        sha256: EMPTY_SHA256,
        bytes: 0,
        status: 'ok',
      };
      const w: FileWork = { file };
      out[i] = w;
      try {
        const st = await stat(c.absPath, { bigint: true });
        file.bytes = Number(st.size);
        file.mtime = new Date(Number(st.mtimeMs)).toISOString();
        if (!st.isFile()) {
          file.status = 'skipped';
          file.reason = 'not a regular file';
          continue;
        }
        if (st.size > BigInt(maxFileBytes)) {
          file.status = 'skipped';
          file.reason = `larger than ${maxFileBytes} bytes (--max-file-bytes)`;
          continue;
        }
        const known = index?.files[c.path];
        const entry = known === undefined ? undefined : statEntry(st, known[4]);
        if (
          known !== undefined &&
          entry!.every((v, k) => v === known[k]) &&
          Number(st.mtimeMs) < trustBefore &&
          Number(st.ctimeMs) < trustBefore
        ) {
          file.sha256 = known[4];
          w.stat = entry;
          continue;
        }
        await readBytes(w, c.absPath);
      } catch (error) {
        file.status = 'skipped';
        file.reason = `cannot read: ${describeFsError(error)}`;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, candidates.length) }, worker));
  return out;
}

/** Reads a file's bytes, hashes them and records its stat. */
async function readBytes(w: FileWork, absPath: string): Promise<void> {
  const handle = await open(absPath, 'r');
  try {
    const st = await handle.stat({ bigint: true });
    const bytes = await handle.readFile();
    w.file.bytes = bytes.length;
    w.file.sha256 = createHash('sha256').update(bytes).digest('hex');
    w.bytes = bytes;
    w.stat = statEntry(st, w.file.sha256);
  } finally {
    await handle.close();
  }
}

/**
 * Reads the configuration files the graph asks for (tsconfig.json, package.json, go.mod...),
 * remembering each one's sha256 (null: absent), so a later run can tell whether any changed.
 */
function createConfigReader(rootAbs: string): ((rel: string) => string | undefined) & {
  seen(): Record<string, string | null>;
} {
  const seen: Record<string, string | null> = {};
  const read = (rel: string): string | undefined => {
    let text: string | undefined;
    try {
      text = readFileSync(path.join(rootAbs, rel), 'utf8');
    } catch {
      text = undefined;
    }
    seen[rel] = text === undefined ? null : createHash('sha256').update(text).digest('hex');
    return text;
  };
  return Object.assign(read, { seen: () => seen });
}

/**
 * A digest of the tree as read, before any analysis: every file's path, language, sha256, size,
 * git metadata, and the reason for skips decided without analysis (discovery, size limit). Two
 * runs with the same digest see the same bytes under the same names.
 */
function digestTree(work: FileWork[]): string {
  const h = createHash('sha256');
  for (const w of work) {
    const f = w.file;
    const skip = f.status === 'skipped' ? (f.reason ?? '') : '';
    h.update(JSON.stringify([f.path, f.language, f.sha256, f.bytes, f.creator, f.lastModified, skip]));
    h.update('\n');
  }
  return h.digest('hex');
}

/**
 * True when the tree read now is the head snapshot's (same digest), under the same hash and
 * analyzer versions, and no configuration file the graph read has changed: then the head's
 * graph and hashes still hold.
 */
function isUnchanged(
  treeDigest: string,
  meta: SnapshotMeta,
  readConfig: (rel: string) => string | undefined,
): boolean {
  if (meta.treeDigest !== treeDigest) return false;
  if (meta.hashVersion !== HASH_VERSION || meta.analyzerVersion !== ANALYZER_VERSION) return false;
  return configsUnchanged(meta, readConfig);
}

/** True when every configuration file the snapshot's graph read is as it was (and it says which). */
function configsUnchanged(meta: SnapshotMeta, readConfig: (rel: string) => string | undefined): boolean {
  if (meta.configFiles === undefined) return false;
  for (const [rel, sha] of Object.entries(meta.configFiles)) {
    const text = readConfig(rel);
    const now = text === undefined ? null : createHash('sha256').update(text).digest('hex');
    if (now !== sha) return false;
  }
  return true;
}

/** The head snapshot as an incremental run starts from it. */
interface PreviousState {
  content: SnapshotContent;
  meta: SnapshotMeta;
  link: LinkIndex;
  byPath: Map<string, { index: number; file: SnapshotFile }>;
}

/**
 * The head snapshot's content, meta and link index, or undefined when this run cannot start
 * from it (written by another hash or analyzer version, or without a link index).
 */
async function loadPreviousState(store: ChunkStore, id: string): Promise<PreviousState | undefined> {
  const snapshot = await store.getSnapshot(id);
  if (snapshot === undefined) return undefined;
  const content = snapshot.content as SnapshotContent;
  if (content.hashVersion !== HASH_VERSION || content.analyzerVersion !== ANALYZER_VERSION) return undefined;
  if (content.lockedVersions === undefined) return undefined;
  const link = (await store.getLinkIndex(id)) as LinkIndex | undefined;
  const n = content.files.length;
  if (
    link?.version !== 1 ||
    link.surfaces?.length !== n ||
    link.reads?.length !== n ||
    link.warnings?.length !== n ||
    !Array.isArray(link.looseWarnings)
  ) {
    return undefined;
  }
  const byPath = new Map(content.files.map((file, index) => [file.path, { index, file }]));
  return { content, meta: snapshot.meta as SnapshotMeta, link, byPath };
}

/** True when `files` are the snapshot's files: same paths, languages and skipped ones, same order. */
function sameFiles(before: SnapshotFile[], files: LinkFile[]): boolean {
  if (before.length !== files.length) return false;
  return files.every((f, i) => {
    const b = before[i]!;
    return b.path === f.path && b.language === f.language && (b.status !== 'skipped') === f.indexed;
  });
}

/** Loads analyses of the head snapshot's files by path, each once. */
function memoizedLoader(
  store: ChunkStore,
  content: SnapshotContent,
): (paths: string[]) => Promise<Map<string, LinkAnalysis>> {
  const byPath = new Map(content.files.map((f) => [f.path, f]));
  const loaded = new Map<string, LinkAnalysis>();
  return async (paths) => {
    const need = paths.filter((p) => !loaded.has(p) && byPath.get(p)?.status !== 'skipped' && byPath.has(p));
    if (need.length > 0) {
      const found = await loadAnalyses(
        store,
        content.analyzerVersion,
        need.map((p) => byPath.get(p)!),
      );
      for (const [p, a] of found) loaded.set(p, toLinkAnalysis(a));
    }
    const out = new Map<string, LinkAnalysis>();
    for (const p of paths) {
      const a = loaded.get(p);
      if (a !== undefined) out.set(p, a);
    }
    return out;
  };
}

/** Takes a file's status from its analysis and keeps what linking needs of it. */
function setAnalysis(w: FileWork, a: FileAnalysis): void {
  w.file.status = a.status;
  if (a.reason !== undefined) w.file.reason = a.reason;
  else delete w.file.reason;
  w.link = toLinkAnalysis(a);
}

function dropZeros(counts: Record<string, number>): void {
  for (const [k, v] of Object.entries(counts)) if (v === 0) delete counts[k];
}

/**
 * Configuration files that can change how a file's imports resolve: tsconfig.json,
 * jsconfig.json and package.json in the directory of every JavaScript/TypeScript file and above,
 * go.mod above every Go file, requirements.txt and package-lock.json at the root.
 */
function configCandidates(work: FileWork[]): string[] {
  const out = new Set<string>(['requirements.txt', 'package-lock.json']);
  const seenDirs = new Set<string>();
  for (const w of work) {
    const language = w.file.language;
    if (language === 'python') continue;
    const names = language === 'go' ? ['go.mod'] : ['tsconfig.json', 'jsconfig.json', 'package.json'];
    let dir = path.posix.dirname(w.file.path);
    for (;;) {
      const key = `${language === 'go' ? 'go' : 'js'}:${dir}`;
      if (seenDirs.has(key)) break;
      seenDirs.add(key);
      for (const n of names) out.add(dir === '.' ? n : `${dir}/${n}`);
      if (dir === '.') break;
      dir = path.posix.dirname(dir);
    }
  }
  return [...out].sort();
}

function problemsOf(files: SnapshotFile[]): ChunkResult['problems'] {
  return files
    .filter((f) => f.status !== 'ok')
    .map((f) => ({ path: f.path, status: f.status as 'skipped' | 'parse-error', reason: f.reason ?? '' }));
}

function describeFsError(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'the file disappeared while ccx ran';
    case 'ELOOP':
      return 'symbolic link loop';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e.message ?? String(error);
  }
}

/** Analyzes files on worker threads and stores them in batches; returns new chunk hashes stored. */
async function analyzeMisses(
  store: ChunkStore,
  misses: FileWork[],
  jobs: number,
  maxFileBytes: number,
  onDone: () => void,
): Promise<number> {
  if (misses.length === 0) return 0;
  const pool: FileAnalyzer =
    misses.length <= IN_THREAD_MAX_FILES
      ? new InThreadAnalyzer()
      : new WorkerPool(Math.min(jobs, misses.length));
  let newChunks = 0;
  let batch: PutFileEntry[] = [];
  let batchWork: FileWork[] = [];
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    const entries = batch;
    const stored = batchWork;
    batch = [];
    batchWork = [];
    writing = writing.then(async () => {
      if (entries.length > 0) newChunks += (await store.putFiles(entries)).newChunks;
      // Stored: the bytes are in the store now and need not stay in memory.
      for (const w of stored) w.bytes = undefined;
    });
  };
  try {
    await Promise.all(
      misses.map(async (w) => {
        const response = await pool.analyze(w.file.language, w.bytes!, maxFileBytes);
        if (response.analysis !== undefined) {
          setAnalysis(w, response.analysis);
          batch.push({
            sha256: w.file.sha256,
            bytes: w.bytes!,
            analysisKey: analysisKey(ANALYZER_VERSION, w.file.language, w.file.sha256),
            analysis: response.analysis,
          });
          batchWork.push(w);
          if (batch.length >= PUT_BATCH_FILES) flush();
        } else {
          w.bytes = undefined;
          w.file.status = 'skipped';
          w.file.reason = response.skipped ?? `analyzer error: ${response.failed}`;
        }
        onDone();
      }),
    );
    flush();
    await writing;
  } finally {
    await pool.close();
  }
  return newChunks;
}

/** creator and lastModified per file: git's last commit where there is one, else the mtime. */
async function fillFileMetadata(
  work: FileWork[],
  rootAbs: string,
  info: Map<string, { creator: string; lastModified: string }>,
): Promise<void> {
  for (const w of work) {
    const g = info.get(w.file.path);
    if (g !== undefined) {
      w.file.creator = g.creator;
      w.file.lastModified = g.lastModified;
    } else {
      w.file.creator = null;
      if (w.file.mtime === undefined) {
        try {
          w.file.mtime = (await stat(path.join(rootAbs, w.file.path))).mtime.toISOString();
        } catch {
          w.file.mtime = new Date(0).toISOString();
        }
      }
      w.file.lastModified = w.file.mtime;
    }
    delete w.file.mtime;
  }
}

/**
 * With `CCX_TIMING=1`, prints how long each phase of a run took to stderr (for profiling; the
 * benchmark reads it too). Otherwise a no-op.
 */
function createPhaseTimer(): (name: string) => void {
  if (process.env.CCX_TIMING !== '1') return () => undefined;
  let last = performance.now();
  let elu = performance.eventLoopUtilization();
  return (name) => {
    const now = performance.now();
    const busy = performance.eventLoopUtilization(elu);
    elu = performance.eventLoopUtilization();
    if (name.startsWith('peak rss')) {
      process.stderr.write(`ccx timing: ${name}\n`);
      return;
    }
    const mainBusy = (busy.utilization * 100).toFixed(0);
    const mem = process.memoryUsage();
    const mib = (n: number) => Math.round(n / 2 ** 20);
    process.stderr.write(
      `ccx timing: ${name} ${(now - last).toFixed(0)} ms (main thread ${mainBusy}% busy; rss ${mib(mem.rss)} MiB, main heap ${mib(mem.heapUsed)}/${mib(mem.heapTotal)} MiB, external ${mib(mem.external)} MiB, buffers ${mib(mem.arrayBuffers)} MiB)\n`,
    );
    last = now;
  };
}
