/**
 * What a snapshot holds (the `content` the store hashes into the snapshot id) and how a manifest
 * is rebuilt from it plus the per-file analyses the store keeps by content.
 */
import path from 'node:path';
import { NotFoundError, StoreError } from '../errors.js';
import { chunkId } from '../graph/repo-index.js';
import {
  type FileStatus,
  HASH_VERSION,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestChunk,
  type ManifestStats,
} from '../manifest.js';
import { resolveStorePath } from '../store/location.js';
import { type ChunkStore, openStore, type Snapshot } from '../store/store.js';
import type { FileAnalysis, Language } from './types.js';

/** The store key of a file's cached analysis. */
export function analysisKey(analyzerVersion: string, language: Language, sha256: string): string {
  return `${analyzerVersion}:${language}:${sha256}`;
}

/**
 * The manifest of a stored snapshot, rebuilt from its content and the analyses it refers to.
 * `overrides` replace the root as given and the stats recorded with it (a rerun reports its own).
 * @throws StoreError when an analysis the snapshot needs is missing from the store.
 */
export async function loadSnapshotManifest(
  store: ChunkStore,
  snapshot: Snapshot,
  overrides: { root?: string; stats?: ManifestStats } = {},
): Promise<Manifest> {
  return (await loadSnapshotDetails(store, snapshot, overrides)).manifest;
}

/**
 * The manifest of a stored snapshot (see {@link loadSnapshotManifest}) with the analyses of its
 * files by path, for callers that need more than the manifest holds (dynamic references).
 * @throws StoreError when an analysis or graph record the snapshot needs is missing.
 */
export async function loadSnapshotDetails(
  store: ChunkStore,
  snapshot: Snapshot,
  overrides: { root?: string; stats?: ManifestStats } = {},
): Promise<{ manifest: Manifest; analyses: Map<string, FileAnalysis> }> {
  const content = snapshot.content as SnapshotContent;
  const meta = snapshot.meta as SnapshotMeta;
  const indexed = content.files.filter((f) => f.status !== 'skipped');
  const [analyses, records] = await Promise.all([
    loadAnalyses(store, content.analyzerVersion, indexed),
    loadGraphRecords(store, indexed),
  ]);
  const manifest = buildManifest({
    id: snapshot.id,
    parent: snapshot.parent,
    root: overrides.root ?? meta.rootAsGiven,
    createdAt: snapshot.createdAt,
    content,
    analyses,
    records,
    stats: overrides.stats ?? meta.stats,
  });
  return { manifest, analyses };
}

/**
 * The analyses of the given files, by path.
 * @throws StoreError when one is missing from the store.
 */
export async function loadAnalyses(
  store: ChunkStore,
  analyzerVersion: string,
  files: ReadonlyArray<Pick<SnapshotFile, 'path' | 'language' | 'sha256'>>,
): Promise<Map<string, FileAnalysis>> {
  const found = await store.getAnalyses(files.map((f) => analysisKey(analyzerVersion, f.language, f.sha256)));
  const analyses = new Map<string, FileAnalysis>();
  files.forEach((f, i) => {
    const a = found[i];
    if (a === undefined) {
      throw new StoreError(`the store lacks the analysis of ${f.path} (${f.sha256.slice(0, 12)})`, {
        hint: 'run `ccx verify`, then `ccx chunk` again to restore it',
      });
    }
    analyses.set(f.path, a);
  });
  return analyses;
}

/**
 * The graph records of the given files, by path.
 * @throws StoreError when a file names none or its record is missing from the store.
 */
export async function loadGraphRecords(
  store: ChunkStore,
  files: ReadonlyArray<Pick<SnapshotFile, 'path' | 'graph'>>,
): Promise<Map<string, GraphRecord>> {
  const found = await store.getGraphRecords(files.map((f) => f.graph ?? ''));
  const records = new Map<string, GraphRecord>();
  files.forEach((f, i) => {
    const r = found[i] as GraphRecord | undefined;
    if (r === undefined || !Array.isArray(r.chunks)) {
      throw new StoreError(
        `the store lacks the graph record of ${f.path} (${(f.graph ?? 'none').slice(0, 12)})`,
        {
          hint: 'run `ccx verify`; a snapshot written by an older ccx is read after `ccx chunk` runs again',
        },
      );
    }
    records.set(f.path, r);
  });
  return records;
}

/** One file as a snapshot records it. */
export interface SnapshotFile {
  path: string;
  language: Language;
  sha256: string;
  bytes: number;
  status: FileStatus;
  reason?: string;
  /** Author of the last commit touching the file, or null outside git / for untracked files. */
  creator?: string | null;
  /** ISO 8601: last commit date in git, else the file's mtime. */
  lastModified?: string;
  /** sha256 of the file's graph record (store key `g:<sha>`); absent for skipped files. */
  graph?: string;
  /** Scratch while chunking; never stored. */
  mtime?: string;
}

/**
 * The resolved graph of one file (store key `g:<sha256 of its canonical JSON>`), content
 * addressed so that snapshots share the records of files whose links did not change.
 * `chunks` follows the analysis's chunk order: `[localId, closureHash, deps, externalDeps]`,
 * a dep being the index of a chunk of the same record or the id of a chunk of another file.
 */
export interface GraphRecord {
  chunks: Array<[localId: string, closureHash: string, deps: Array<number | string>, externalDeps: string[]]>;
}

/**
 * Kept beside a snapshot (store key `sl:<id>`), not part of its id: what the next run needs to
 * link again incrementally. Arrays follow `content.files`; skipped files have `''` and `[]`.
 */
export interface LinkIndex {
  version: 1;
  /** Digest of each file's surface: what other files' resolution can read of it (link.ts). */
  surfaces: string[];
  /** Per file, indexes (into `content.files`) of the files its resolution read. */
  reads: number[][];
  /** Per file, the warnings its resolution gave. */
  warnings: string[][];
  /** Warnings not tied to one file's resolution (lockfiles, go.mod). */
  looseWarnings: string[];
}

/** The part of a snapshot its id is computed from. */
export interface SnapshotContent {
  hashVersion: string;
  /** Analyzer version whose analyses (store keys `a:<version>:<language>:<sha256>`) the snapshot uses. */
  analyzerVersion: string;
  /** Sorted by path. */
  files: SnapshotFile[];
  /** Versions lockfiles pin for external packages (closure hashes cover them). */
  lockedVersions: Record<string, string>;
  /** Discovery and graph warnings, sorted. */
  warnings: string[];
}

/** Shown by `ccx log`; not part of the id. */
export interface SnapshotMeta {
  rootAsGiven: string;
  stats: ManifestStats;
  chunksByLanguage?: Record<string, number>;
  chunksByKind?: Record<string, number>;
  /** Configuration files the graph read (relative path -> sha256, null when absent). */
  configFiles?: Record<string, string | null>;
  hashVersion?: string;
  analyzerVersion?: string;
  /** Digest of the tree as read, before analysis (chunk.ts `digestTree`): equal means unchanged. */
  treeDigest?: string;
  /** Files not indexed cleanly and warnings, so an unchanged rerun need not load the content. */
  problems?: Array<{ path: string; status: 'skipped' | 'parse-error'; reason: string }>;
  warnings?: string[];
}

export interface BuildManifestInput {
  id: string;
  parent: string | null;
  root: string;
  createdAt: string;
  content: SnapshotContent;
  /** Analysis per file path, for every file whose status is not `skipped`. */
  analyses: Map<string, FileAnalysis>;
  /** Graph record per file path, for the same files. */
  records: Map<string, GraphRecord>;
  stats: ManifestStats;
}

/** Assembles the manifest of shared/spec/manifest.schema.json from a snapshot and its analyses. */
export function buildManifest(input: BuildManifestInput): Manifest {
  const { content } = input;
  const files: Manifest['files'] = [];
  const chunks: ManifestChunk[] = [];
  for (const f of content.files) {
    const analysis = input.analyses.get(f.path);
    const record = input.records.get(f.path);
    const ids: string[] = [];
    if (analysis !== undefined && f.status !== 'skipped') {
      analysis.chunks.forEach((c, k) => {
        const id = chunkId(f.path, c.localId);
        ids.push(id);
        const g = record?.chunks[k];
        const deps = (g?.[2] ?? []).map((d) =>
          typeof d === 'number' ? chunkId(f.path, record!.chunks[d]![0]) : d,
        );
        chunks.push({
          id,
          hash: c.hash,
          interfaceHash: c.interfaceHash,
          closureHash: g?.[1] ?? c.hash,
          name: c.localId === '' ? f.path : c.name,
          kind: c.kind,
          language: f.language,
          file: f.path,
          startLine: c.startLine,
          endLine: c.endLine,
          startByte: c.startByte,
          endByte: c.endByte,
          size: c.size,
          deps: deps.sort(),
          externalDeps: g?.[3] ?? [],
          creator: f.creator ?? null,
          lastModified: f.lastModified ?? new Date(0).toISOString(),
        });
      });
    }
    const entry: Manifest['files'][number] = {
      path: f.path,
      language: f.language,
      sha256: f.sha256,
      bytes: f.bytes,
      status: f.status,
      chunks: ids,
    };
    if (f.reason !== undefined) entry.reason = f.reason;
    files.push(entry);
  }
  const manifest: Manifest = {
    manifestVersion: MANIFEST_VERSION,
    hashVersion: content.hashVersion ?? HASH_VERSION,
    snapshot: input.id,
    parent: input.parent,
    root: input.root,
    createdAt: input.createdAt,
    files,
    chunks,
    stats: input.stats,
  };
  if (content.warnings.length > 0) manifest.warnings = content.warnings;
  return manifest;
}

/**
 * The head snapshot of a root, for commands that work on "the latest snapshot" of a tree.
 * @throws NotFoundError (with a hint to run `ccx chunk`) when the root has none.
 */
export async function loadHeadSnapshot(store: ChunkStore, root: string): Promise<Snapshot> {
  const head = await store.getHead(root);
  const snapshot = head === null ? undefined : await store.getSnapshot(head);
  if (snapshot === undefined) {
    throw new NotFoundError(`${root} has no snapshot in ${store.path}`, {
      hint: 'run `ccx chunk` there first',
    });
  }
  return snapshot;
}

/** A root's store, opened, with its head snapshot loaded (see {@link withHeadSnapshot}). */
export interface HeadSnapshot {
  store: ChunkStore;
  /** The root, absolute. */
  root: string;
  storePath: string;
  snapshot: Snapshot;
  content: SnapshotContent;
  manifest: Manifest;
}

/**
 * Opens the store of `root` (`store`, else `CCX_STORE`, else `<root>/.ccx`; it must exist),
 * loads the root's head snapshot and its manifest, runs `fn`, and closes the store.
 * @throws StoreError when there is no store; NotFoundError when the root has no snapshot;
 *   StoreLockedError when another process holds the store and `wait` does not allow waiting
 */
export async function withHeadSnapshot<T>(
  options: { root?: string; store?: string; wait?: boolean | number },
  fn: (head: HeadSnapshot) => Promise<T>,
): Promise<T> {
  const root = path.resolve(options.root ?? '.');
  const storePath = resolveStorePath(root, options.store);
  const store = await openStore(storePath, { create: false, wait: options.wait ?? false });
  try {
    const snapshot = await loadHeadSnapshot(store, root);
    const manifest = await loadSnapshotManifest(store, snapshot);
    return await fn({
      store,
      root,
      storePath,
      snapshot,
      content: snapshot.content as SnapshotContent,
      manifest,
    });
  } finally {
    await store.close();
  }
}
