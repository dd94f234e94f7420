/**
 * The ccx public API: typed functions that return data. The CLI (bin/ccx.js) is a thin layer
 * over these. Formats: shared/spec/manifest.schema.json (manifest), shared/spec/semantic-hash.md
 * (hashes, version `ccx-sh/1`), docs/formats.md (store layout).
 */

export { SourceAnalyzer } from './chunking/analyze.js';
export { type ChunkOptions, type ChunkResult, chunk, DEFAULT_MAX_FILE_BYTES } from './chunking/chunk.js';
export { languageForPath } from './chunking/discover.js';
export {
  cat,
  type DepsOptions,
  type DepsResult,
  deps,
  findChunks,
  type LogEntry,
  log,
  manifest,
  type ShownChunk,
  type ShowResult,
  type SnapshotOptions,
  type StoreOptions,
  show,
  verify,
} from './chunking/queries.js';
export type {
  ChunkKind,
  ChunkRecord,
  ExportBinding,
  FileAnalysis,
  ImportBinding,
  Language,
  NameRef,
} from './chunking/types.js';
export { CcxError, NotFoundError, StoreError, StoreLockedError, UsageError } from './errors.js';
export { computeClosureHashes } from './graph/closure.js';
export { chunkId, resolveGraph } from './graph/resolve.js';
export {
  HASH_VERSION,
  type Manifest,
  type ManifestChunk,
  type ManifestFile,
  type ManifestStats,
} from './manifest.js';
