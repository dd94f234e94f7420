/**
 * Read-only questions about a store: the companion commands `ccx manifest`, `log`, `show`,
 * `deps`, `cat` and `verify`. Each opens the store, answers, and closes it.
 */
import path from 'node:path';
import { NotFoundError, UsageError } from '../errors.js';
import { reverseDeps } from '../graph/walk.js';
import type { Manifest, ManifestChunk } from '../manifest.js';
import { type ChunkStore, openStore, type Snapshot, type VerifyResult } from '../store/store.js';
import { loadSnapshotManifest, type SnapshotContent, type SnapshotMeta } from './snapshot.js';

/** Options every query takes. */
export interface StoreOptions {
  /** Store directory; default `CCX_STORE`, else `./.ccx`. */
  store?: string;
  /** Wait for a store held by another process (true, or milliseconds). */
  wait?: boolean | number;
}

export interface SnapshotOptions extends StoreOptions {
  /** Snapshot id or unique prefix; default: the newest snapshot. */
  snapshot?: string;
}

/** The store directory for queries: `--store`, `CCX_STORE`, else `./.ccx`. */
export function queryStorePath(store: string | undefined): string {
  return path.resolve(store ?? process.env.CCX_STORE ?? '.ccx');
}

/** Opens the query store (it must exist), runs `fn`, and closes the store. */
export async function withStore<T>(options: StoreOptions, fn: (store: ChunkStore) => Promise<T>): Promise<T> {
  const store = await openStore(queryStorePath(options.store), {
    create: false,
    wait: options.wait ?? false,
  });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function loadSnapshot(store: ChunkStore, id: string | undefined): Promise<Snapshot> {
  if (id === undefined) {
    const newest = (await store.listSnapshots())[0];
    if (newest === undefined) {
      throw new NotFoundError(`the store ${store.path} has no snapshot yet`, {
        hint: 'run `ccx chunk DIR` first',
      });
    }
    id = newest.id;
  }
  const snapshot = await store.getSnapshot(id);
  if (snapshot === undefined) {
    throw new NotFoundError(`no snapshot ${id} in ${store.path}`, { hint: 'list snapshots with `ccx log`' });
  }
  return snapshot;
}

/**
 * The manifest of a snapshot (default: the newest).
 * @throws NotFoundError when the store has no such snapshot; StoreError when it cannot be read.
 */
export async function manifest(options: SnapshotOptions): Promise<Manifest> {
  return withStore(options, async (store) =>
    loadSnapshotManifest(store, await loadSnapshot(store, options.snapshot)),
  );
}

/** One line of `ccx log`. */
export interface LogEntry {
  id: string;
  parent: string | null;
  createdAt: string;
  /** The root as given to `ccx chunk`. */
  root: string;
  files: number;
  chunks: number;
  parseErrors: number;
  skipped: number;
}

/** Snapshots, newest first. */
export async function log(options: StoreOptions): Promise<LogEntry[]> {
  return withStore(options, async (store) =>
    (await store.listSnapshots()).map((s) => {
      const meta = s.meta as SnapshotMeta;
      return {
        id: s.id,
        parent: s.parent,
        createdAt: s.createdAt,
        root: meta.rootAsGiven ?? s.root,
        files: meta.stats.files,
        chunks: meta.stats.chunks,
        parseErrors: meta.stats.parseErrors,
        skipped: meta.stats.skipped,
      };
    }),
  );
}

/** A chunk with its code, as `ccx show` prints it. */
export interface ShownChunk extends ManifestChunk {
  /** The chunk's source text: its whole range (chunks nested in it included), decoded as UTF-8. */
  code: string;
}

/** What `ccx show` found: one chunk, or the candidates when the query names several. */
export type ShowResult =
  | { chunk: ShownChunk; matches?: undefined }
  | { matches: ManifestChunk[]; chunk?: undefined };

/**
 * Finds a chunk by id (`src/a.ts#f`), by name (`f`, `Class.method`) or by hash prefix.
 * @throws NotFoundError when nothing matches.
 */
export async function show(options: SnapshotOptions & { query: string }): Promise<ShowResult> {
  return withStore(options, async (store) => {
    const snapshot = await loadSnapshot(store, options.snapshot);
    const m = await loadSnapshotManifest(store, snapshot);
    const matches = findChunks(m, options.query);
    if (matches.length === 0) {
      throw new NotFoundError(`no chunk matches ${JSON.stringify(options.query)}`, {
        hint: 'give a chunk id (path#name), a name, or a hash prefix; `ccx manifest --json` lists them',
      });
    }
    if (matches.length > 1) return { matches };
    const c = matches[0]!;
    const file = m.files.find((f) => f.path === c.file)!;
    const bytes = await store.readFileBytes(file.sha256);
    return { chunk: { ...c, code: bytes.subarray(c.startByte, c.endByte).toString('utf8') } };
  });
}

/**
 * Chunks matching a query: the chunk with that exact id; else every chunk whose qualified name
 * (`Class.method`, `f`) or declared name is the query; else chunks whose hash starts with it.
 */
export function findChunks(m: Manifest, query: string): ManifestChunk[] {
  const exact = m.chunks.filter((c) => c.id === query);
  if (exact.length > 0) return exact;
  const named = m.chunks.filter(
    (c) => c.id.endsWith(`#${query}`) || (c.kind !== 'module' && c.name === query),
  );
  if (named.length > 0) return named;
  if (/^[0-9a-f]{6,64}$/.test(query)) return m.chunks.filter((c) => c.hash.startsWith(query));
  return [];
}

export interface DepsOptions extends SnapshotOptions {
  /** Chunk id or a query that matches one chunk. */
  id: string;
  /** Dependents instead of dependencies. */
  reverse?: boolean;
  /** Transitively, not only direct ones. */
  closure?: boolean;
}

export interface DepsResult {
  chunk: string;
  /** In-repo chunk ids, sorted. */
  deps: string[];
  /** External packages, sorted (dependencies only; empty with `reverse`). */
  externalDeps: string[];
}

/**
 * Direct or transitive dependencies (or dependents) of one chunk.
 * @throws NotFoundError when no chunk matches; UsageError when the query matches several.
 */
export async function deps(options: DepsOptions): Promise<DepsResult> {
  return withStore(options, async (store) => {
    const m = await loadSnapshotManifest(store, await loadSnapshot(store, options.snapshot));
    const matches = findChunks(m, options.id);
    if (matches.length === 0) throw new NotFoundError(`no chunk matches ${JSON.stringify(options.id)}`);
    if (matches.length > 1) {
      throw new UsageError(`${JSON.stringify(options.id)} matches ${matches.length} chunks`, {
        hint: `give one id: ${matches
          .slice(0, 5)
          .map((c) => c.id)
          .join(', ')}`,
      });
    }
    const start = matches[0]!;
    const byId = new Map(m.chunks.map((c) => [c.id, c]));
    const edges = options.reverse ? reverseDeps(m.chunks) : new Map(m.chunks.map((c) => [c.id, c.deps]));
    const seen = new Set<string>();
    const external = new Set<string>();
    const queue = [start.id];
    while (queue.length > 0) {
      const id = queue.pop()!;
      for (const next of edges.get(id) ?? []) {
        if (next === start.id || seen.has(next)) continue;
        seen.add(next);
        if (options.closure) queue.push(next);
      }
      if (!options.reverse && (id === start.id || options.closure)) {
        for (const e of byId.get(id)?.externalDeps ?? []) external.add(e);
      }
      if (!options.closure) break;
    }
    return { chunk: start.id, deps: [...seen].sort(), externalDeps: [...external].sort() };
  });
}

/**
 * A file of a snapshot, re-assembled from the store byte for byte.
 * @throws NotFoundError when the snapshot has no such file or it was skipped.
 */
export async function cat(options: SnapshotOptions & { path: string }): Promise<Buffer> {
  return withStore(options, async (store) => {
    const snapshot = await loadSnapshot(store, options.snapshot);
    const content = snapshot.content as SnapshotContent;
    const wanted = options.path.replace(/\\/g, '/').replace(/^\.\//, '');
    const file = content.files.find((f) => f.path === wanted);
    if (file === undefined) {
      throw new NotFoundError(`the snapshot has no file ${wanted}`, {
        hint: 'give the path relative to the chunked root, as `ccx manifest` lists it',
      });
    }
    if (file.status === 'skipped') {
      throw new NotFoundError(
        `${wanted} was skipped (${file.reason ?? 'no reason'}), so the store has no copy`,
      );
    }
    return store.readFileBytes(file.sha256);
  });
}

/** Checks the whole store (see ChunkStore.verify). */
export async function verify(options: StoreOptions): Promise<VerifyResult> {
  return withStore(options, (store) => store.verify());
}
