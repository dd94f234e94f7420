/**
 * The ccx store: a content-addressed LevelDB database (classic-level) holding file contents
 * split into chunk texts, cached analyses, and snapshots of chunked trees with a head per root.
 * The layout below is also written down in docs/formats.md, "Store layout".
 *
 * Keys are UTF-8 strings, values raw bytes:
 *
 * | key              | value                                                                          |
 * | ---------------- | ------------------------------------------------------------------------------ |
 * | `m:version`      | `ccx-store/2` (UTF-8); a directory without it is not a ccx store               |
 * | `b:<sha256>`     | a blob: the raw own text of a chunk (its segments' bytes concatenated)         |
 * | `f:<sha256>`     | file record JSON `{ sha256, bytes, pieces: [blobSha, offset, length][] }`      |
 * | `a:<key>`        | FileAnalysis JSON under the caller's cache key (`<analyzer>:<language>:<sha>`) |
 * | `c:<hash>`       | chunk record JSON `{ texts: string[] }`: blob shas seen with this semantic hash |
 * | `s:<id>`         | snapshot header JSON `{ id, root, parent, createdAt, meta, files, codec }`     |
 * | `sf:<id>`        | the snapshot's file shas, 32 raw bytes each, in the order given                |
 * | `sc:<id>`        | the snapshot's content: canonical JSON, brotli quality 1 (`codec: 'br'`)       |
 * | `sg:<id>`        | sha256 of each graph record the content names, 32 raw bytes each               |
 * | `sl:<id>`        | the snapshot's link index JSON (what incremental linking reuses; not in the id) |
 * | `g:<sha256>`     | a graph record: canonical JSON whose sha256 is the key (one file's chunk links) |
 * | `x:<id>`         | an execution record JSON (shared/spec/execution-record.schema.json)            |
 * | `mh:<id>`        | a trained co-usage model's header JSON (id, method, records, createdAt, snapshot) |
 * | `md:<id>`        | that model's state JSON (src/predict/model.ts)                                 |
 * | `e:<model>:<hash>` | a chunk embedding: 8-byte big-endian last-use time (ms), then float32 LE values |
 * | `em:<model>`     | JSON `{ count }`: how many embeddings the model has (for the LRU bound)         |
 * | `v:<id>`         | an environment record JSON (src/env/environment.ts); its files live in `environments/<id>/` |
 * | `vh:<entry>`     | what a submission needed beyond its slice, learned by a check (src/env/environment.ts) |
 * | `h:<root>`       | the head snapshot id of a root (the absolute path string given), UTF-8         |
 *
 * A snapshot id is the sha256 (hex) of the canonical JSON (src/store/canonical-json.ts) of
 * `['ccx-snapshot/1', root, parent, content]`; `createdAt` and `meta` are not part of it, so
 * chunking an unchanged tree again gives the same id and writes nothing.
 *
 * Brotli at quality 1 was measured against deflate-raw level 1 on 44 MB of manifest-like JSON
 * (60k chunks): 0.10 s and 8.4 MB against 0.22-0.29 s and 8.8 MB, with the same decompression
 * time (0.11 s), so it is the codec.
 *
 * Crash safety: every write is one LevelDB batch, which the write-ahead log makes atomic. Blobs,
 * file records, analyses and chunk records go in first (`putFiles`); a snapshot's records and
 * its root's head pointer go in one later batch, written with `sync`, and a snapshot is refused
 * unless its parent and all its files are already stored. A process killed at any moment thus
 * leaves the earlier snapshots, the head, and an openable store; what it leaves at most is
 * blobs and files no snapshot refers to yet, which the next run reuses. Because a file record
 * and its analysis are only written in the batch that holds the file's blobs and chunk records,
 * `putFiles` skips an entry whose record and analysis both exist.
 *
 * Locking: LevelDB's `LOCK` file lets one process open the store at a time; another gets
 * {@link StoreLockedError}, or waits with `wait`. The store directory also holds a `.gitignore`
 * containing `*`, so a store inside a working tree never shows in `git status`.
 */
import { createHash } from 'node:crypto';
import { type Dirent, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, brotliDecompressSync, constants as zlibConstants } from 'node:zlib';
import { ClassicLevel } from 'classic-level';
import type { FileAnalysis } from '../chunking/types.js';
import { NotFoundError, StoreError, StoreLockedError, UsageError } from '../errors.js';
import { canonicalJson } from './canonical-json.js';
import {
  assembleFile,
  assertFileRecord,
  blobsOf,
  type FileRecord,
  sha256Hex,
  splitFile,
} from './file-record.js';

/** Value of `m:version`: the store layout this code reads and writes. */
export const STORE_VERSION = 'ccx-store/2';
/** First element of the tuple a snapshot id is computed over. */
export const SNAPSHOT_ID_VERSION = 'ccx-snapshot/1';

const VERSION_KEY = 'm:version';
const LOCK_RETRY_MS = 100;
const MAX_PROBLEMS = 1000;
const SHA256_HEX = /^[0-9a-f]{64}$/;
/** Names LevelDB itself creates; a directory holding only these (and our `.gitignore`) is not yet a store. */
const LEVELDB_FILE = /^(LOCK|LOG|LOG\.old|CURRENT|MANIFEST-\d+|\d+\.(log|ldb|sst|dbtmp))$/;

type Db = ClassicLevel<string, Buffer>;
type BatchOp = { type: 'put'; key: string; value: Buffer };

/** How to open a store. */
export interface OpenStoreOptions {
  /**
   * Wait for another process to release the store: `true` waits for ever, a number waits that
   * many milliseconds; default `false`: throw {@link StoreLockedError} at once.
   */
  wait?: boolean | number;
  /**
   * Create the store if it is missing (default `true`). When `false` and the store is missing,
   * {@link openStore} throws a {@link StoreError} with a hint to run `ccx chunk`.
   */
  create?: boolean;
}

/** One file to store, as given to {@link ChunkStore.putFiles}. */
export interface PutFileEntry {
  /** sha256 of `bytes`, lowercase hex. */
  sha256: string;
  /** The file's raw bytes. */
  bytes: Buffer;
  /** Cache key the analysis is stored under, e.g. `${analyzerVersion}:${language}:${sha256}`. */
  analysisKey: string;
  /** The analysis of these bytes; its `segments` say how the file splits into chunk texts. */
  analysis: FileAnalysis;
}

/** What the store knows about a semantic hash. */
export interface ChunkHashRecord {
  /** The semantic hash (`ChunkRecord.hash`). */
  hash: string;
  /** sha256 of each distinct raw own text seen with this hash (keys of `b:` blobs), in the order first seen. */
  texts: string[];
}

/** A snapshot to write, as given to {@link ChunkStore.writeSnapshot}. */
export interface SnapshotInput {
  /** The root chunked: the absolute path string; the head pointer is kept per root. */
  root: string;
  /** Id of the snapshot this one follows (usually the root's head), or `null`. */
  parent: string | null;
  /** ISO 8601 date-time; not part of the id. */
  createdAt: string;
  /** Opaque JSON value (the file list and chunk graph); part of the id. */
  content: unknown;
  /** `canonicalJson(content)` when the caller already has it (it is large; computed otherwise). */
  contentJson?: string;
  /** Opaque JSON value shown by `ccx log` (stats, counts); not part of the id. */
  meta: unknown;
  /** sha256 of every file the snapshot refers to; each must already be stored with {@link ChunkStore.putFiles}. */
  fileShas: string[];
  /**
   * sha256 of every graph record the content names (key `g:<sha>`); each must be stored
   * already or be among `graphRecords`.
   */
  graphShas?: string[];
  /** Graph records to store with the snapshot, as canonical JSON text; their sha256 is computed here. */
  graphRecords?: string[];
  /** Opaque JSON value kept beside the snapshot (key `sl:<id>`) for later runs; not part of the id. */
  linkIndex?: unknown;
}

/** A snapshot without its content, as listed by {@link ChunkStore.listSnapshots}. */
export interface SnapshotSummary {
  /** 64 lowercase hex digits. */
  id: string;
  root: string;
  parent: string | null;
  createdAt: string;
  meta: unknown;
}

/** A snapshot as read back by {@link ChunkStore.getSnapshot}. */
export interface Snapshot extends SnapshotSummary {
  content: unknown;
  fileShas: string[];
}

/** Result of {@link ChunkStore.verify}. */
export interface VerifyResult {
  /** True when no problem was found. */
  ok: boolean;
  /** One line per problem, for a person; at most 1000, then a line saying how many more. */
  problems: string[];
  /** Records seen, by kind. */
  counts: { snapshots: number; files: number; blobs: number; chunks: number };
}

/** The value of `s:<id>`. */
interface SnapshotHeader extends SnapshotSummary {
  /** Number of file shas in `sf:<id>`. */
  files: number;
  /** Codec of `sc:<id>`. */
  codec: 'br';
}

/**
 * Opens (and by default creates) the store at `path`, a directory.
 *
 * @throws StoreLockedError when another process (or another handle in this one) has the store
 *   open, at once or after `options.wait` has run out.
 * @throws StoreError when the store is missing and `options.create` is false; when `path` is a
 *   file, a directory holding other things, a LevelDB database that is not a ccx store, a store
 *   of another layout version, or a database LevelDB cannot open.
 */
export async function openStore(path: string, options: OpenStoreOptions = {}): Promise<ChunkStore> {
  const location = resolve(path);
  const create = options.create ?? true;
  const state = inspectLocation(location);
  if (state === 'not-directory') {
    throw new StoreError(`${location} is not a directory, so it cannot be a ccx store`, {
      hint: 'give the path of a store directory',
    });
  }
  if (state === 'foreign') {
    throw new StoreError(`${location} is not a ccx store: the directory holds other files`, {
      hint: 'give another store path, or empty that directory',
    });
  }
  if (state !== 'store' && !create) throw missingStoreError(location);
  if (state === 'absent') {
    try {
      mkdirSync(location, { recursive: true });
    } catch (cause) {
      throw new StoreError(`cannot create the store directory ${location}`, { cause });
    }
  }
  if (state !== 'store') writeGitignore(location);

  const db = await openLevel(location, state !== 'store', options.wait ?? false);
  try {
    const version = await db.get(VERSION_KEY);
    if (version === undefined) {
      if (!(await isEmpty(db))) {
        throw new StoreError(
          `${location} is a LevelDB database but not a ccx store (it has no ${VERSION_KEY})`,
          {
            hint: 'give another store path',
          },
        );
      }
      // An empty database is one whose creation was cut short: finish it.
      if (!create) throw missingStoreError(location);
      await db.put(VERSION_KEY, Buffer.from(STORE_VERSION), { sync: true });
      writeGitignore(location);
    } else if (version.toString('utf8') !== STORE_VERSION) {
      throw new StoreError(
        `the store ${location} has layout ${JSON.stringify(version.toString('utf8'))}; this ccx reads ${STORE_VERSION}`,
        { hint: 'use the ccx version that wrote it, or give another store path' },
      );
    }
  } catch (error) {
    await db.close().catch(() => undefined);
    if (error instanceof StoreError) throw error;
    throw new StoreError(`cannot read the store ${location}`, { cause: error });
  }
  return new ChunkStore(location, db);
}

/**
 * An open store. Get one from {@link openStore}; call {@link ChunkStore.close} when done, since
 * the store stays locked against other processes while open. Writes from one handle are
 * serialized, so concurrent calls on it are safe.
 */
export class ChunkStore {
  /** Absolute path of the store directory. */
  readonly path: string;
  readonly #db: Db;
  #writes: Promise<unknown> = Promise.resolve();

  /** @internal Use {@link openStore}. */
  constructor(path: string, db: Db) {
    this.path = path;
    this.#db = db;
  }

  /** Waits for writes in progress, then closes the database and releases its lock. Safe to call twice. */
  async close(): Promise<void> {
    await this.#writes;
    if (this.#db.status === 'open' || this.#db.status === 'opening') await this.#db.close();
  }

  /**
   * Cached analyses by cache key.
   *
   * @returns one entry per key, in the same order: the analysis, or `undefined` when none is stored.
   * @throws StoreError when a stored analysis is not valid JSON.
   */
  async getAnalyses(keys: string[]): Promise<(FileAnalysis | undefined)[]> {
    return (await this.#getJsonMany('a:', keys, 'analysis')) as (FileAnalysis | undefined)[];
  }

  /** Parsed JSON values of `prefix + key` for each key (undefined where absent), in order. */
  async #getJsonMany(prefix: string, keys: string[], what: string): Promise<unknown[]> {
    if (keys.length === 0) return [];
    const values = await this.#db.getMany(keys.map((key) => `${prefix}${key}`));
    return values.map((value, i) => {
      if (value === undefined) return undefined;
      try {
        return JSON.parse(value.toString('utf8')) as unknown;
      } catch (cause) {
        throw this.#corrupt(`the ${what} ${keys[i]} is not valid JSON`, cause);
      }
    });
  }

  /**
   * Stores files in one atomic batch: each chunk's own text as a blob, the file record, the
   * analysis under its key, and each chunk's semantic hash with the sha of its text. Only what
   * is absent is written; storing the same files again writes nothing.
   *
   * @returns `newChunks`: how many distinct chunk `hash` values were not in the store before.
   * @throws TypeError when an entry's sha256 does not match its bytes, or its segments are not a
   *   sorted partition of the file into its chunks (an empty file may have no segments).
   */
  async putFiles(entries: PutFileEntry[]): Promise<{ newChunks: number }> {
    return this.#exclusive(async () => {
      // A file record and its analysis are written in one batch with the file's blobs and
      // chunk records, so an entry whose record and analysis both exist has nothing to add.
      const [fileStored, analysisStored] = await Promise.all([
        this.#db.hasMany(entries.map((entry) => `f:${entry.sha256}`)),
        this.#db.hasMany(entries.map((entry) => `a:${entry.analysisKey}`)),
      ]);
      const blobs = new Map<string, Buffer>();
      const files = new Map<string, FileRecord>();
      const analyses = new Map<string, FileAnalysis>();
      const chunkTexts = new Map<string, string[]>();
      entries.forEach((entry, i) => {
        if (fileStored[i] && analysisStored[i]) return;
        if (!SHA256_HEX.test(entry.sha256) || sha256Hex(entry.bytes) !== entry.sha256) {
          throw new TypeError(
            `putFiles: ${entry.sha256} is not the sha256 of the ${entry.bytes.length} bytes given`,
          );
        }
        const split = splitFile(entry.sha256, entry.bytes, entry.analysis);
        if (!fileStored[i]) files.set(entry.sha256, split.record);
        if (!analysisStored[i]) analyses.set(entry.analysisKey, entry.analysis);
        split.texts.forEach(({ sha256, text }, chunkIndex) => {
          blobs.set(sha256, text);
          const hash = entry.analysis.chunks[chunkIndex]!.hash;
          const texts = chunkTexts.get(hash);
          if (texts === undefined) chunkTexts.set(hash, [sha256]);
          else if (!texts.includes(sha256)) texts.push(sha256);
        });
      });
      if (files.size === 0 && analyses.size === 0) return { newChunks: 0 };

      const blobKeys = [...blobs.keys()];
      const hashes = [...chunkTexts.keys()];
      const [blobStored, chunkValues] = await Promise.all([
        this.#db.hasMany(blobKeys.map((sha) => `b:${sha}`)),
        this.#db.getMany(hashes.map((hash) => `c:${hash}`)),
      ]);
      const ops: BatchOp[] = [];
      blobKeys.forEach((sha, i) => {
        if (!blobStored[i]) ops.push({ type: 'put', key: `b:${sha}`, value: blobs.get(sha)! });
      });
      for (const [sha, record] of files) ops.push({ type: 'put', key: `f:${sha}`, value: jsonBytes(record) });
      for (const [key, analysis] of analyses) {
        ops.push({ type: 'put', key: `a:${key}`, value: jsonBytes(analysis) });
      }
      let newChunks = 0;
      hashes.forEach((hash, i) => {
        const seen = chunkTexts.get(hash)!;
        const stored = chunkValues[i];
        let texts: string[];
        if (stored === undefined) {
          newChunks++;
          texts = seen;
        } else {
          const known = this.#parseChunkRecord(hash, stored).texts;
          const added = seen.filter((sha) => !known.includes(sha));
          if (added.length === 0) return;
          texts = [...known, ...added];
        }
        ops.push({ type: 'put', key: `c:${hash}`, value: jsonBytes({ texts }) });
      });
      if (ops.length > 0) await this.#db.batch(ops);
      return { newChunks };
    });
  }

  /** True when a file record for content with this sha256 exists. */
  async hasFile(sha256: string): Promise<boolean> {
    return this.#db.has(`f:${sha256}`);
  }

  /**
   * Rebuilds a file's bytes from its stored chunk texts.
   *
   * @throws NotFoundError when no file with this sha256 is stored.
   * @throws StoreError when the record or a blob is missing or damaged, or the bytes rebuilt do
   *   not hash to `sha256`.
   */
  async readFileBytes(sha256: string): Promise<Buffer> {
    const value = await this.#db.get(`f:${sha256}`);
    if (value === undefined) {
      throw new NotFoundError(`no file with sha256 ${sha256} in the store ${this.path}`);
    }
    let bytes: Buffer;
    try {
      bytes = await this.#assemble(value);
    } catch (cause) {
      throw this.#corrupt(`the file ${sha256} cannot be rebuilt: ${messageOf(cause)}`, cause);
    }
    if (sha256Hex(bytes) !== sha256) {
      throw this.#corrupt(`the file ${sha256} rebuilds to other content (sha256 ${sha256Hex(bytes)})`);
    }
    return bytes;
  }

  /**
   * The record of a semantic hash: the shas of the raw texts seen with it, or `undefined`.
   *
   * @throws StoreError when the record is damaged.
   */
  async getChunkRecord(hash: string): Promise<ChunkHashRecord | undefined> {
    const value = await this.#db.get(`c:${hash}`);
    return value === undefined ? undefined : this.#parseChunkRecord(hash, value);
  }

  /** The blob (a chunk's raw own text) with this sha256, or `undefined`. */
  async readBlob(sha256: string): Promise<Buffer | undefined> {
    return this.#db.get(`b:${sha256}`);
  }

  /** The head snapshot id of `root` (the absolute path string snapshots were written with), or `null`. */
  async getHead(root: string): Promise<string | null> {
    const value = await this.#db.get(`h:${root}`);
    return value === undefined ? null : value.toString('utf8');
  }

  /**
   * Writes a snapshot and makes it the head of its root, in one atomic batch. The id is the
   * sha256 of the canonical JSON of `['ccx-snapshot/1', root, parent, content]`. When it equals
   * the root's head nothing is written; when the snapshot exists but is not the head, only the
   * head moves (its stored `createdAt` and `meta` stay).
   *
   * @returns the snapshot id, 64 lowercase hex digits.
   * @throws TypeError when a file sha is not 64 lowercase hex digits.
   * @throws StoreError when `parent` or one of `fileShas` is not in the store.
   */
  async writeSnapshot(input: SnapshotInput): Promise<string> {
    for (const sha of input.fileShas) {
      if (!SHA256_HEX.test(sha)) throw new TypeError(`writeSnapshot: ${JSON.stringify(sha)} is not a sha256`);
    }
    const contentJson = input.contentJson ?? canonicalJson(input.content);
    const id = computeSnapshotId(input.root, input.parent, contentJson);
    return this.#exclusive(async () => {
      if ((await this.getHead(input.root)) === id) return id;
      const [exists, parentExists] = await this.#db.hasMany([`s:${id}`, `s:${input.parent ?? ''}`]);
      if (input.parent !== null && !parentExists) {
        throw new StoreError(`cannot write snapshot ${id}: its parent ${input.parent} is not in the store`);
      }
      const ops: BatchOp[] = [];
      if (!exists) {
        const fileHas = await this.#db.hasMany(input.fileShas.map((sha) => `f:${sha}`));
        const missing = input.fileShas.filter((_, i) => !fileHas[i]);
        if (missing.length > 0) {
          throw new StoreError(
            `cannot write snapshot ${id}: ${missing.length} of its files are not in the store (${missing[0]}${missing.length > 1 ? ', ...' : ''})`,
          );
        }
        const graphShas = input.graphShas ?? [];
        const newRecords = new Map<string, string>();
        for (const json of input.graphRecords ?? [])
          newRecords.set(sha256Hex(Buffer.from(json, 'utf8')), json);
        const graphHas = await this.#db.hasMany(graphShas.map((sha) => `g:${sha}`));
        const missingGraphs = graphShas.filter((sha, i) => !graphHas[i] && !newRecords.has(sha));
        if (missingGraphs.length > 0) {
          throw new StoreError(
            `cannot write snapshot ${id}: ${missingGraphs.length} of its graph records are neither stored nor given (${missingGraphs[0]})`,
          );
        }
        graphShas.forEach((sha, i) => {
          const json = newRecords.get(sha);
          if (!graphHas[i] && json !== undefined) {
            ops.push({ type: 'put', key: `g:${sha}`, value: Buffer.from(json, 'utf8') });
          }
        });
        const header: SnapshotHeader = {
          id,
          root: input.root,
          parent: input.parent,
          createdAt: input.createdAt,
          meta: input.meta ?? null,
          files: input.fileShas.length,
          codec: 'br',
        };
        ops.push(
          { type: 'put', key: `s:${id}`, value: jsonBytes(header) },
          { type: 'put', key: `sf:${id}`, value: Buffer.from(input.fileShas.join(''), 'hex') },
          { type: 'put', key: `sc:${id}`, value: compress(contentJson) },
          { type: 'put', key: `sg:${id}`, value: Buffer.from(graphShas.join(''), 'hex') },
        );
        if (input.linkIndex !== undefined) {
          ops.push({ type: 'put', key: `sl:${id}`, value: jsonBytes(input.linkIndex) });
        }
      }
      ops.push({ type: 'put', key: `h:${input.root}`, value: Buffer.from(id, 'utf8') });
      // sync: the snapshot is what a person relies on, and syncing the log also makes the
      // earlier putFiles batches durable.
      await this.#db.batch(ops, { sync: true });
      return id;
    });
  }

  /**
   * The stat index of a root (key `i:<root>`): a cache of file stats and their sha256 that lets
   * `ccx chunk` skip reading files that did not change, as git's index does. Not part of any
   * snapshot; losing it only costs a full read. Returns undefined when absent or unreadable.
   */
  async getStatIndex(root: string): Promise<unknown> {
    const value = await this.#db.get(`i:${root}`);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  /**
   * Graph records by sha256 (key `g:<sha>`), parsed; undefined for one not stored.
   * @throws StoreError when a record is not valid JSON.
   */
  async getGraphRecords(shas: string[]): Promise<unknown[]> {
    return this.#getJsonMany('g:', shas, 'graph record');
  }

  /**
   * Stores execution records (key `x:<id>`) in one batch. A record whose id is stored already
   * with the same content is left as it is.
   * @returns the ids stored already with other content (not written); empty when all went in.
   */
  async putRecords(records: Array<{ id: string }>): Promise<string[]> {
    return this.#exclusive(async () => {
      const existing = await this.#db.getMany(records.map((r) => `x:${r.id}`));
      const conflicts: string[] = [];
      const ops: BatchOp[] = [];
      records.forEach((record, i) => {
        const value = Buffer.from(canonicalJson(record), 'utf8');
        const before = existing[i];
        if (before === undefined) ops.push({ type: 'put', key: `x:${record.id}`, value });
        else if (!before.equals(value)) conflicts.push(record.id);
      });
      if (ops.length > 0) await this.#db.batch(ops, { sync: true });
      return conflicts;
    });
  }

  /**
   * Execution records in id order (ccx's ids sort by start time), parsed.
   * @throws StoreError when a record is not valid JSON.
   */
  async listRecords(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const [key, value] of this.#db.iterator(prefixRange('x:'))) {
      try {
        out.push(JSON.parse(value.toString('utf8')));
      } catch (cause) {
        throw this.#corrupt(`the execution record ${key.slice(2)} is not valid JSON`, cause);
      }
    }
    return out;
  }

  /** Stores a trained model: its header (`mh:<id>`) and its state (`md:<id>`), in one batch. */
  async putModel(header: { id: string }, state: unknown): Promise<void> {
    await this.#exclusive(() =>
      this.#db.batch(
        [
          { type: 'put', key: `mh:${header.id}`, value: jsonBytes(header) },
          { type: 'put', key: `md:${header.id}`, value: jsonBytes(state) },
        ],
        { sync: true },
      ),
    );
  }

  /** Headers of the trained models, in id order (ccx's ids sort by creation time). */
  async listModels(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const [key, value] of this.#db.iterator(prefixRange('mh:'))) {
      try {
        out.push(JSON.parse(value.toString('utf8')));
      } catch (cause) {
        throw this.#corrupt(`the model header ${key.slice(3)} is not valid JSON`, cause);
      }
    }
    return out;
  }

  /**
   * A trained model's state.
   * @throws NotFoundError when there is no such model; StoreError when it is damaged.
   */
  async getModelState(id: string): Promise<unknown> {
    const [value] = await this.#getJsonMany('md:', [id], 'model');
    if (value === undefined) throw new NotFoundError(`no model ${id} in the store ${this.path}`);
    return value;
  }

  /**
   * Cached chunk embeddings by semantic hash under an embedding model's digest (keys
   * `e:<model>:<hash>`); undefined for one not cached or unreadable (a wrong length).
   */
  async getEmbeddings(model: string, hashes: string[]): Promise<(Float32Array | undefined)[]> {
    const values = await this.#db.getMany(hashes.map((h) => `e:${model}:${h}`));
    return values.map((value) => {
      if (value === undefined || value.length < 8 || (value.length - 8) % 4 !== 0) return undefined;
      const copy = new Float32Array((value.length - 8) / 4);
      for (let i = 0; i < copy.length; i++) copy[i] = value.readFloatLE(8 + i * 4);
      return copy;
    });
  }

  /**
   * Stores chunk embeddings (new ones, and ones just used, whose last-use time this renews) and
   * keeps at most `maxEntries` per model: past the bound, the least recently used go until 90%
   * of it is left (an LRU bound that holds across processes).
   * @returns how many embeddings were evicted.
   */
  async putEmbeddings(
    model: string,
    entries: ReadonlyArray<readonly [hash: string, vector: Float32Array]>,
    maxEntries: number,
  ): Promise<number> {
    if (entries.length === 0) return 0;
    return this.#exclusive(async () => {
      const keys = entries.map(([h]) => `e:${model}:${h}`);
      const [meta, ...existing] = await this.#db.getMany([`em:${model}`, ...keys]);
      let count = 0;
      try {
        count =
          meta === undefined
            ? 0
            : Number((JSON.parse(meta.toString('utf8')) as { count: number }).count) || 0;
      } catch {
        count = 0;
      }
      const now = BigInt(Date.now());
      const ops: Array<{ type: 'put'; key: string; value: Buffer } | { type: 'del'; key: string }> = [];
      entries.forEach(([, vector], i) => {
        const value = Buffer.alloc(8 + vector.length * 4);
        value.writeBigUInt64BE(now, 0);
        for (let j = 0; j < vector.length; j++) value.writeFloatLE(vector[j]!, 8 + j * 4);
        if (existing[i] === undefined) count++;
        ops.push({ type: 'put', key: keys[i]!, value });
      });
      let evicted = 0;
      if (count > maxEntries) {
        const fresh = new Set(keys);
        const stamps: Array<[key: string, used: bigint]> = [];
        for await (const [key, value] of this.#db.iterator(prefixRange(`e:${model}:`))) {
          if (!fresh.has(key)) stamps.push([key, value.length >= 8 ? value.readBigUInt64BE(0) : 0n]);
        }
        stamps.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
        const keep = Math.floor(maxEntries * 0.9);
        // Recount from what is stored, so that a damaged count heals.
        count = stamps.length + fresh.size;
        for (const [key] of stamps) {
          if (count <= keep) break;
          ops.push({ type: 'del', key });
          count--;
          evicted++;
        }
      }
      ops.push({ type: 'put', key: `em:${model}`, value: jsonBytes({ count }) });
      await this.#db.batch(ops);
      return evicted;
    });
  }

  /** Stores (or replaces) an environment record (key `v:<id>`). */
  async putEnvironment<T extends { id: string }>(record: T): Promise<void> {
    await this.#exclusive(() => this.#db.put(`v:${record.id}`, jsonBytes(record), { sync: true }));
  }

  /**
   * Environment records in id order, parsed.
   * @throws StoreError when a record is not valid JSON.
   */
  async listEnvironments(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const [key, value] of this.#db.iterator(prefixRange('v:'))) {
      try {
        out.push(JSON.parse(value.toString('utf8')));
      } catch (cause) {
        throw this.#corrupt(`the environment record ${key.slice(2)} is not valid JSON`, cause);
      }
    }
    return out;
  }

  /** Stores what a submission needed beyond its slice (key `vh:<entry>`), replacing the last. */
  async putEnvironmentHint<T extends { entry: string }>(hint: T): Promise<void> {
    await this.#exclusive(() => this.#db.put(`vh:${hint.entry}`, jsonBytes(hint)));
  }

  /** Every environment hint, in entry order; unreadable ones are skipped (hints are a cache). */
  async listEnvironmentHints(): Promise<unknown[]> {
    const out: unknown[] = [];
    for await (const [, value] of this.#db.iterator(prefixRange('vh:'))) {
      try {
        out.push(JSON.parse(value.toString('utf8')));
      } catch {
        // A damaged hint costs a widening later, nothing more.
      }
    }
    return out;
  }

  /** Deletes environment records (their files are the caller's to remove). */
  async deleteEnvironments(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#exclusive(() =>
      this.#db.batch(
        ids.map((id) => ({ type: 'del' as const, key: `v:${id}` })),
        { sync: true },
      ),
    );
  }

  /** The link index kept beside a snapshot (key `sl:<id>`), or undefined when absent or unreadable. */
  async getLinkIndex(id: string): Promise<unknown> {
    const value = await this.#db.get(`sl:${id}`);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value.toString('utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  /** Replaces the stat index of a root (see {@link ChunkStore.getStatIndex}). */
  async putStatIndex(root: string, index: unknown): Promise<void> {
    await this.#exclusive(() => this.#db.put(`i:${root}`, jsonBytes(index)));
  }

  /**
   * Resolves a snapshot id or a unique prefix of one (at least 4 hex digits, any case).
   *
   * @returns the full id.
   * @throws UsageError when `idOrPrefix` is not 4 to 64 hex digits or matches several snapshots.
   * @throws NotFoundError when no snapshot matches.
   */
  async resolveSnapshotId(idOrPrefix: string): Promise<string> {
    const id = await this.#findSnapshotId(idOrPrefix);
    if (id === undefined) {
      throw new NotFoundError(`no snapshot ${idOrPrefix} in the store ${this.path}`, {
        hint: 'run `ccx log` to list the snapshots',
      });
    }
    return id;
  }

  /**
   * Replaces a snapshot's `meta` (which is not part of its id: stats, counts, caches of what
   * the run saw). A no-op for an unknown id.
   */
  async setSnapshotMeta(id: string, meta: unknown): Promise<void> {
    await this.#exclusive(async () => {
      const value = await this.#db.get(`s:${id}`);
      if (value === undefined) return;
      const header = this.#parseSnapshotHeader(id, value);
      await this.#db.put(`s:${id}`, jsonBytes({ ...header, meta }), { sync: true });
    });
  }

  /**
   * A snapshot's header (id, root, parent, createdAt, meta) without its content, which for a
   * large tree takes a while to decompress and parse. Undefined when there is no such snapshot.
   */
  async getSnapshotSummary(id: string): Promise<SnapshotSummary | undefined> {
    const value = await this.#db.get(`s:${id}`);
    if (value === undefined) return undefined;
    const header = this.#parseSnapshotHeader(id, value);
    return { id, root: header.root, parent: header.parent, createdAt: header.createdAt, meta: header.meta };
  }

  /**
   * A snapshot with its content, by id or unique id prefix (see {@link ChunkStore.resolveSnapshotId}).
   *
   * @returns the snapshot, or `undefined` when none matches.
   * @throws UsageError when the prefix is malformed or ambiguous.
   * @throws StoreError when the snapshot's records are missing or damaged.
   */
  async getSnapshot(idOrPrefix: string): Promise<Snapshot | undefined> {
    const id = await this.#findSnapshotId(idOrPrefix);
    if (id === undefined) return undefined;
    const [headerValue, filesValue, contentValue] = await this.#db.getMany([
      `s:${id}`,
      `sf:${id}`,
      `sc:${id}`,
    ]);
    if (headerValue === undefined) return undefined;
    const header = this.#parseSnapshotHeader(id, headerValue);
    if (filesValue === undefined || contentValue === undefined) {
      throw this.#corrupt(
        `the snapshot ${id} has lost its ${filesValue === undefined ? 'file list' : 'content'}`,
      );
    }
    let content: unknown;
    try {
      content = JSON.parse(decompress(contentValue));
    } catch (cause) {
      throw this.#corrupt(`the content of snapshot ${id} is damaged`, cause);
    }
    return {
      id,
      root: header.root,
      parent: header.parent,
      createdAt: header.createdAt,
      meta: header.meta,
      content,
      fileShas: decodeFileShas(filesValue),
    };
  }

  /**
   * All snapshots without their content, newest first: by `createdAt` descending, then by id
   * ascending.
   *
   * @throws StoreError when a snapshot header is damaged.
   */
  async listSnapshots(): Promise<SnapshotSummary[]> {
    const list: SnapshotSummary[] = [];
    for await (const [key, value] of this.#db.iterator(prefixRange('s:'))) {
      const header = this.#parseSnapshotHeader(key.slice(2), value);
      list.push({
        id: header.id,
        root: header.root,
        parent: header.parent,
        createdAt: header.createdAt,
        meta: header.meta,
      });
    }
    return list.sort(
      (a, b) => compareTimes(b.createdAt, a.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
  }

  /**
   * Checks the whole store: the version key; every blob hashes to its key; every file record
   * rebuilds to its sha256; every chunk record's texts exist; every analysis parses; every
   * snapshot's content decodes and hashes to its id, its files exist and its parent exists;
   * every head points to a snapshot of its root. Reads everything, so it takes time in
   * proportion to the store's size.
   *
   * @returns what was found; it never throws on a damaged store, it reports it.
   */
  async verify(): Promise<VerifyResult> {
    const problems: string[] = [];
    let dropped = 0;
    const report = (problem: string) => {
      if (problems.length < MAX_PROBLEMS) problems.push(problem);
      else dropped++;
    };
    const counts = { snapshots: 0, files: 0, blobs: 0, chunks: 0 };
    const db = this.#db;
    const blobShas = new Set<string>();
    const fileShas = new Set<string>();
    const graphShas = new Set<string>();
    const snapshotRoots = new Map<string, string>();
    const parents = new Map<string, string>();

    const steps: Array<[what: string, run: () => Promise<void>]> = [
      [
        'the version key',
        async () => {
          const version = await db.get(VERSION_KEY);
          if (version === undefined) report(`${VERSION_KEY} is missing`);
          else if (version.toString('utf8') !== STORE_VERSION) {
            report(`${VERSION_KEY} is ${JSON.stringify(version.toString('utf8'))}, not ${STORE_VERSION}`);
          }
        },
      ],
      [
        'blobs',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('b:'))) {
            counts.blobs++;
            const sha = key.slice(2);
            const actual = sha256Hex(value);
            if (actual === sha) blobShas.add(sha);
            else report(`blob ${sha} is damaged: its bytes hash to ${actual}`);
          }
        },
      ],
      [
        'chunk records',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('c:'))) {
            counts.chunks++;
            const hash = key.slice(2);
            try {
              for (const sha of this.#parseChunkRecord(hash, value).texts) {
                if (!blobShas.has(sha)) report(`chunk ${hash}: its text blob ${sha} is missing or damaged`);
              }
            } catch (error) {
              report(`chunk ${hash}: ${messageOf(error)}`);
            }
          }
        },
      ],
      [
        'analyses',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('a:'))) {
            try {
              JSON.parse(value.toString('utf8'));
            } catch {
              report(`analysis ${key.slice(2)} is not valid JSON`);
            }
          }
        },
      ],
      [
        'file records',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('f:'))) {
            counts.files++;
            const sha = key.slice(2);
            try {
              const bytes = await this.#assemble(value);
              const actual = sha256Hex(bytes);
              if (actual !== sha) report(`file ${sha} rebuilds to other content (sha256 ${actual})`);
              else fileShas.add(sha);
            } catch (error) {
              report(`file ${sha} cannot be rebuilt: ${messageOf(error)}`);
            }
          }
        },
      ],
      [
        'execution records',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('x:'))) {
            try {
              const record = JSON.parse(value.toString('utf8')) as { id?: unknown };
              if (record.id !== key.slice(2))
                report(`execution record ${key.slice(2)} holds the id ${String(record.id)}`);
            } catch {
              report(`execution record ${key.slice(2)} is not valid JSON`);
            }
          }
        },
      ],
      [
        'graph records',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('g:'))) {
            const sha = key.slice(2);
            const actual = sha256Hex(value);
            if (actual !== sha) report(`graph record ${sha} is damaged: its bytes hash to ${actual}`);
            else graphShas.add(sha);
          }
        },
      ],
      [
        'snapshots',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('s:'))) {
            counts.snapshots++;
            const id = key.slice(2);
            try {
              const header = this.#parseSnapshotHeader(id, value);
              snapshotRoots.set(id, header.root);
              if (header.parent !== null) parents.set(id, header.parent);
              const [filesValue, contentValue, graphsValue] = await db.getMany([
                `sf:${id}`,
                `sc:${id}`,
                `sg:${id}`,
              ]);
              if (graphsValue === undefined) report(`snapshot ${id}: its graph record list is missing`);
              else {
                for (const sha of decodeFileShas(graphsValue)) {
                  if (!graphShas.has(sha))
                    report(`snapshot ${id}: its graph record ${sha} is missing or damaged`);
                }
              }
              if (filesValue === undefined) report(`snapshot ${id}: its file list is missing`);
              else {
                const shas = decodeFileShas(filesValue);
                if (shas.length !== header.files) {
                  report(
                    `snapshot ${id}: its file list holds ${shas.length} files, the header says ${header.files}`,
                  );
                }
                for (const sha of shas) {
                  if (!fileShas.has(sha)) report(`snapshot ${id}: its file ${sha} is missing or damaged`);
                }
              }
              if (contentValue === undefined) report(`snapshot ${id}: its content is missing`);
              else {
                const actual = computeSnapshotId(header.root, header.parent, decompress(contentValue));
                if (actual !== id) report(`snapshot ${id}: its content hashes to ${actual}`);
              }
            } catch (error) {
              report(`snapshot ${id}: ${messageOf(error)}`);
            }
          }
          for (const [id, parent] of parents) {
            if (!snapshotRoots.has(parent)) report(`snapshot ${id}: its parent ${parent} is missing`);
          }
          for (const prefix of ['sf:', 'sc:', 'sg:', 'sl:']) {
            for await (const key of db.keys(prefixRange(prefix))) {
              const id = key.slice(prefix.length);
              if (!snapshotRoots.has(id)) report(`${key} belongs to no snapshot`);
            }
          }
        },
      ],
      [
        'heads',
        async () => {
          for await (const [key, value] of db.iterator(prefixRange('h:'))) {
            const root = key.slice(2);
            const id = value.toString('utf8');
            const snapshotRoot = snapshotRoots.get(id);
            if (snapshotRoot === undefined) report(`the head of ${root} points to a missing snapshot ${id}`);
            else if (snapshotRoot !== root) {
              report(`the head of ${root} points to snapshot ${id}, which is of ${snapshotRoot}`);
            }
          }
        },
      ],
      [
        'keys',
        async () => {
          for await (const key of db.keys()) {
            if (key !== VERSION_KEY && !/^(b|f|a|c|g|s|sf|sc|sg|sl|h|i|x|mh|md):./.test(key)) {
              report(`unexpected key ${JSON.stringify(key.slice(0, 80))}`);
            }
          }
        },
      ],
    ];
    for (const [what, run] of steps) {
      try {
        await run();
      } catch (error) {
        report(`reading ${what} failed: ${messageOf(error)}`);
      }
    }
    if (dropped > 0) problems.push(`... and ${dropped} more problems`);
    return { ok: problems.length === 0, problems, counts };
  }

  /** Runs writes one after another, so a read-check-write in one cannot interleave with another. */
  #exclusive<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(write, write);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  async #findSnapshotId(idOrPrefix: string): Promise<string | undefined> {
    const prefix = idOrPrefix.toLowerCase();
    if (!/^[0-9a-f]{4,64}$/.test(prefix)) {
      throw new UsageError(`${JSON.stringify(idOrPrefix)} is not a snapshot id`, {
        hint: 'give a snapshot id, or at least its first 4 hex digits, as `ccx log` shows them',
      });
    }
    if (prefix.length === 64) return (await this.#db.has(`s:${prefix}`)) ? prefix : undefined;
    // Ids are hex, so every id with this prefix sorts before the prefix followed by `g`.
    const keys = await this.#db.keys({ gte: `s:${prefix}`, lt: `s:${prefix}g`, limit: 2 }).all();
    if (keys.length > 1) {
      throw new UsageError(`the snapshot id prefix ${idOrPrefix} is ambiguous`, {
        hint: 'give more digits of the id',
      });
    }
    return keys[0]?.slice(2);
  }

  async #assemble(recordValue: Buffer): Promise<Buffer> {
    const record: unknown = JSON.parse(recordValue.toString('utf8'));
    assertFileRecord(record);
    const shas = blobsOf(record);
    const values = await this.#db.getMany(shas.map((sha) => `b:${sha}`));
    const blobs = new Map<string, Buffer>();
    shas.forEach((sha, i) => {
      const value = values[i];
      if (value !== undefined) blobs.set(sha, value);
    });
    return assembleFile(record, blobs);
  }

  #parseChunkRecord(hash: string, value: Buffer): ChunkHashRecord {
    let texts: unknown;
    try {
      texts = (JSON.parse(value.toString('utf8')) as { texts?: unknown }).texts;
    } catch (cause) {
      throw this.#corrupt(`the chunk record ${hash} is not valid JSON`, cause);
    }
    if (!Array.isArray(texts) || !texts.every((sha) => typeof sha === 'string')) {
      throw this.#corrupt(`the chunk record ${hash} has no list of texts`);
    }
    return { hash, texts };
  }

  #parseSnapshotHeader(id: string, value: Buffer): SnapshotHeader {
    let header: SnapshotHeader;
    try {
      header = JSON.parse(value.toString('utf8')) as SnapshotHeader;
    } catch (cause) {
      throw this.#corrupt(`the snapshot ${id} is not valid JSON`, cause);
    }
    if (
      typeof header !== 'object' ||
      header === null ||
      header.id !== id ||
      typeof header.root !== 'string' ||
      (header.parent !== null && typeof header.parent !== 'string') ||
      typeof header.createdAt !== 'string' ||
      header.codec !== 'br'
    ) {
      throw this.#corrupt(`the snapshot ${id} has a damaged header`);
    }
    return header;
  }

  #corrupt(message: string, cause?: unknown): StoreError {
    return new StoreError(`the store ${this.path} is damaged: ${message}`, {
      hint: 'run `ccx verify` to see all problems; a store rebuilt by `ccx chunk` in a new directory loses history',
      cause,
    });
  }
}

/**
 * The id of a snapshot: sha256 (hex) of `canonicalJson(['ccx-snapshot/1', root, parent, content])`,
 * computed from the content's canonical JSON text without building the whole string.
 */
export function computeSnapshotId(root: string, parent: string | null, contentJson: string): string {
  const hash = createHash('sha256');
  hash.update(`[${JSON.stringify(SNAPSHOT_ID_VERSION)},${JSON.stringify(root)},${JSON.stringify(parent)},`);
  hash.update(contentJson);
  hash.update(']');
  return hash.digest('hex');
}

type LocationState = 'absent' | 'not-directory' | 'empty' | 'store' | 'foreign';

/** What is at the store path, judged from its directory listing without opening it. */
function inspectLocation(location: string): LocationState {
  let entries: Dirent[];
  try {
    if (!statSync(location).isDirectory()) return 'not-directory';
    entries = readdirSync(location, { withFileTypes: true });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw new StoreError(`cannot read the store directory ${location}`, { cause });
  }
  if (entries.some((entry) => entry.name === 'CURRENT')) return 'store';
  // LevelDB writes LOCK and LOG before CURRENT: such leftovers are a creation cut short.
  const ours = entries.every((entry) => entry.name === '.gitignore' || LEVELDB_FILE.test(entry.name));
  return ours ? 'empty' : 'foreign';
}

function writeGitignore(location: string): void {
  try {
    writeFileSync(join(location, '.gitignore'), '*\n');
  } catch (cause) {
    throw new StoreError(`cannot write ${join(location, '.gitignore')}`, { cause });
  }
}

function missingStoreError(location: string): StoreError {
  return new StoreError(`there is no ccx store at ${location}`, {
    hint: 'run `ccx chunk` first to create it',
  });
}

function isLockedError(error: unknown): boolean {
  const { code, cause } = (error ?? {}) as { code?: unknown; cause?: { code?: unknown } };
  return code === 'LEVEL_LOCKED' || (code === 'LEVEL_DATABASE_NOT_OPEN' && cause?.code === 'LEVEL_LOCKED');
}

/** Opens LevelDB, retrying every 100 ms while another handle holds its lock and `wait` allows. */
async function openLevel(location: string, createIfMissing: boolean, wait: boolean | number): Promise<Db> {
  const deadline = wait === true ? Number.POSITIVE_INFINITY : Date.now() + (wait === false ? 0 : wait);
  for (;;) {
    const db: Db = new ClassicLevel<string, Buffer>(location, {
      keyEncoding: 'utf8',
      valueEncoding: 'buffer',
    });
    try {
      await db.open({ createIfMissing });
      return db;
    } catch (error) {
      if (!isLockedError(error)) {
        const cause = (error as { cause?: unknown }).cause ?? error;
        throw new StoreError(`cannot open the store ${location}: ${messageOf(cause)}`, {
          hint: 'the directory is not a readable LevelDB database; give another store path',
          cause: error,
        });
      }
      if (Date.now() + LOCK_RETRY_MS > deadline) throw new StoreLockedError(location, error);
      await sleep(LOCK_RETRY_MS);
    }
  }
}

async function isEmpty(db: Db): Promise<boolean> {
  const keys = await db.keys({ limit: 1 }).all();
  return keys.length === 0;
}

function prefixRange(prefix: string): { gte: string; lt: string } {
  // ':' is followed by ';', so this range holds exactly the keys starting with the prefix.
  return { gte: prefix, lt: `${prefix.slice(0, -1)};` };
}

function compress(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  return brotliCompressSync(bytes, {
    params: {
      [zlibConstants.BROTLI_PARAM_QUALITY]: 1,
      [zlibConstants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
}

function decompress(value: Buffer): string {
  return brotliDecompressSync(value).toString('utf8');
}

function decodeFileShas(value: Buffer): string[] {
  if (value.length % 32 !== 0)
    throw new Error(`the file list is ${value.length} bytes, not a multiple of 32`);
  const shas: string[] = [];
  for (let at = 0; at < value.length; at += 32) shas.push(value.toString('hex', at, at + 32));
  return shas;
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function compareTimes(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (!Number.isNaN(ta) && !Number.isNaN(tb) && ta !== tb) return ta - tb;
  return a < b ? -1 : a > b ? 1 : 0;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
