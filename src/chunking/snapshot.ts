/**
 * What a snapshot holds (the `content` the store hashes into the snapshot id) and how a manifest
 * is rebuilt from it plus the per-file analyses the store keeps by content.
 */
import { StoreError } from '../errors.js';
import { chunkId } from '../graph/resolve.js';
import {
  type FileStatus,
  HASH_VERSION,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestChunk,
  type ManifestStats,
} from '../manifest.js';
import type { ChunkStore, Snapshot } from '../store/store.js';
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
  const content = snapshot.content as SnapshotContent;
  const meta = snapshot.meta as SnapshotMeta;
  const indexed = content.files.filter((f) => f.status !== 'skipped');
  const found = await store.getAnalyses(
    indexed.map((f) => analysisKey(content.analyzerVersion, f.language, f.sha256)),
  );
  const analyses = new Map<string, FileAnalysis>();
  indexed.forEach((f, i) => {
    const a = found[i];
    if (a === undefined) {
      throw new StoreError(`the store lacks the analysis of ${f.path} (${f.sha256.slice(0, 12)})`, {
        hint: 'run `ccx verify`, then `ccx chunk` again to restore it',
      });
    }
    analyses.set(f.path, a);
  });
  return buildManifest({
    id: snapshot.id,
    parent: snapshot.parent,
    root: overrides.root ?? meta.rootAsGiven,
    createdAt: snapshot.createdAt,
    content,
    analyses,
    stats: overrides.stats ?? meta.stats,
  });
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
  /** Scratch while chunking; never stored. */
  mtime?: string;
}

/** The part of a snapshot its id is computed from. */
export interface SnapshotContent {
  hashVersion: string;
  /** Analyzer version whose analyses (store keys `a:<version>:<language>:<sha256>`) the snapshot uses. */
  analyzerVersion: string;
  /** Sorted by path. */
  files: SnapshotFile[];
  /**
   * Per chunk, in the order of `files` (skipped files have none) and each file's chunks in
   * source order: `[closureHash, deps as indexes into this same list, externalDeps]`.
   */
  graph: Array<[string, number[], string[]]>;
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
  stats: ManifestStats;
}

/** Assembles the manifest of shared/spec/manifest.schema.json from a snapshot and its analyses. */
export function buildManifest(input: BuildManifestInput): Manifest {
  const { content } = input;
  const files: Manifest['files'] = [];
  const chunks: ManifestChunk[] = [];
  const depIndexes: number[][] = [];
  for (const f of content.files) {
    const analysis = input.analyses.get(f.path);
    const ids: string[] = [];
    if (analysis !== undefined && f.status !== 'skipped') {
      for (const c of analysis.chunks) {
        const id = chunkId(f.path, c.localId);
        ids.push(id);
        const g = content.graph[chunks.length];
        depIndexes.push(g?.[1] ?? []);
        chunks.push({
          id,
          hash: c.hash,
          interfaceHash: c.interfaceHash,
          closureHash: g?.[0] ?? c.hash,
          name: c.localId === '' ? f.path : c.name,
          kind: c.kind,
          language: f.language,
          file: f.path,
          startLine: c.startLine,
          endLine: c.endLine,
          startByte: c.startByte,
          endByte: c.endByte,
          size: c.size,
          deps: [],
          externalDeps: g?.[2] ?? [],
          creator: f.creator ?? null,
          lastModified: f.lastModified ?? new Date(0).toISOString(),
        });
      }
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
  chunks.forEach((c, i) => {
    c.deps = depIndexes[i]!.map((d) => chunks[d]!.id).sort();
  });
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
