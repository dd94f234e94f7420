/**
 * The chunk manifest: what `ccx chunk DIR --json` and `ccx manifest --json` print.
 * Shape and field meanings: shared/spec/manifest.schema.json (manifestVersion 1).
 */
import type { ChunkKind, Language } from './chunking/types.js';

/** The semantic hash rules implemented, mixed into every hash (shared/spec/semantic-hash.md). */
export const HASH_VERSION = 'ccx-sh/1';
export const MANIFEST_VERSION = 1;

export type FileStatus = 'ok' | 'parse-error' | 'skipped';

export interface ManifestFile {
  /** Relative to the root, forward slashes. */
  path: string;
  language: Language;
  /** sha256 of the raw bytes, lowercase hex; of the empty string where the file could not be read. */
  sha256: string;
  bytes: number;
  status: FileStatus;
  reason?: string;
  /** Ids of the file's chunks in source order (empty for skipped files). */
  chunks: string[];
}

export interface ManifestChunk {
  /** `'<file>#<qualified.name>'`, or `'<file>'` for the module chunk. */
  id: string;
  hash: string;
  interfaceHash: string;
  closureHash: string;
  name: string;
  kind: ChunkKind;
  language: Language;
  file: string;
  startLine: number;
  endLine: number;
  startByte: number;
  endByte: number;
  size: number;
  /** Ids of in-repo chunks used directly, sorted. */
  deps: string[];
  /** Package names used from outside the repo, sorted. */
  externalDeps: string[];
  creator: string | null;
  /** ISO 8601 date-time. */
  lastModified: string;
}

export interface ManifestStats {
  files: number;
  chunks: number;
  parseErrors: number;
  skipped: number;
  reusedFiles: number;
  newChunks: number;
  /** Wall time of the run in milliseconds. */
  ms: number;
}

export interface Manifest {
  manifestVersion: 1;
  hashVersion: string;
  /** Snapshot id: sha256 of the snapshot's content (not its time). */
  snapshot: string;
  parent: string | null;
  /** The directory chunked, as given. */
  root: string;
  createdAt: string;
  files: ManifestFile[];
  chunks: ManifestChunk[];
  stats: ManifestStats;
  /** Problems that are not about one source file (unreadable directories, symlink loops), for a person. */
  warnings?: string[];
}
