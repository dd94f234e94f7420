/**
 * `ccx diff A B`: what changed between two snapshots, chunk by chunk, telling functional changes
 * (a semantic hash changed) from reformatting, renames and moves (the hash did not).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { chunk } from '../chunking/chunk.js';
import { loadAnalyses, loadSnapshotManifest, type SnapshotContent } from '../chunking/snapshot.js';
import { NotFoundError, UsageError } from '../errors.js';
import type { Manifest } from '../manifest.js';
import { splitFile } from '../store/file-record.js';
import { type ChunkStore, openStore } from '../store/store.js';
import { chunkRevision } from './revision.js';

/** How a chunk changed between two snapshots. */
export type ChangeKind = 'added' | 'removed' | 'modified' | 'renamed' | 'moved' | 'reformatted' | 'unchanged';

/** One chunk's change: `from` is its id in the first snapshot, `to` in the second (null when absent). */
export interface ChunkChange {
  kind: ChangeKind;
  from: string | null;
  to: string | null;
  /** True when the chunk's `interfaceHash` differs too (only chunks present on both sides). */
  interfaceChanged: boolean;
}

/** Changes counted by kind. */
export type DiffSummary = Record<ChangeKind, number>;

/** The result of {@link diff}: `ccx diff --json` prints it as is. */
export interface DiffResult {
  /** Snapshot ids compared. */
  from: string;
  to: string;
  /** Sorted by the chunk's id (its `to` id, else its `from` id); unchanged ones only with `all`. */
  changes: ChunkChange[];
  summary: DiffSummary;
}

/** A chunk as classification sees it. */
export interface DiffChunk {
  id: string;
  file: string;
  name: string;
  kind: string;
  hash: string;
  interfaceHash: string;
}

const ORDER: ChangeKind[] = ['added', 'removed', 'modified', 'renamed', 'moved', 'reformatted', 'unchanged'];

/** A summary with every kind at 0. */
export function emptySummary(): DiffSummary {
  return Object.fromEntries(ORDER.map((k) => [k, 0])) as DiffSummary;
}

/**
 * Classifies every chunk of two snapshots.
 *
 * A chunk whose id is on both sides is `modified` when its semantic hash or its interface hash
 * differs (a module that gains an export keeps its own hash), `reformatted`
 * when the hash is equal but `textChanged(id)` says its own text differs, else `unchanged`.
 * The ids found on one side only are paired by equal hash (one to one; a pair of the same kind
 * first, then the same name, then the same file, then id order): a pair in the same file is
 * `renamed`, in different files `moved`. What stays unpaired is `removed` or `added`.
 */
export function classifyChanges(
  from: readonly DiffChunk[],
  to: readonly DiffChunk[],
  textChanged: (id: string) => boolean,
  options: { all?: boolean } = {},
): { changes: ChunkChange[]; summary: DiffSummary } {
  const summary = emptySummary();
  const changes: ChunkChange[] = [];
  const push = (change: ChunkChange) => {
    summary[change.kind]++;
    if (change.kind !== 'unchanged' || options.all === true) changes.push(change);
  };
  const toById = new Map(to.map((c) => [c.id, c]));
  const fromIds = new Set(from.map((c) => c.id));
  const removed: DiffChunk[] = [];
  for (const a of from) {
    const b = toById.get(a.id);
    if (b === undefined) {
      removed.push(a);
      continue;
    }
    const interfaceChanged = a.interfaceHash !== b.interfaceHash;
    // A module that gains an export keeps its own hash but not its interface: a functional change.
    if (a.hash !== b.hash || interfaceChanged)
      push({ kind: 'modified', from: a.id, to: b.id, interfaceChanged });
    else
      push({ kind: textChanged(a.id) ? 'reformatted' : 'unchanged', from: a.id, to: b.id, interfaceChanged });
  }
  const addedByHash = new Map<string, DiffChunk[]>();
  for (const b of to) {
    if (fromIds.has(b.id)) continue;
    const list = addedByHash.get(b.hash);
    if (list === undefined) addedByHash.set(b.hash, [b]);
    else list.push(b);
  }
  const paired = new Set<DiffChunk>();
  for (const a of [...removed].sort((x, y) => compare(x.id, y.id))) {
    const candidates = (addedByHash.get(a.hash) ?? []).filter((b) => !paired.has(b));
    if (candidates.length === 0) {
      push({ kind: 'removed', from: a.id, to: null, interfaceChanged: false });
      continue;
    }
    const score = (b: DiffChunk) =>
      (b.kind === a.kind ? 4 : 0) + (b.name === a.name ? 2 : 0) + (b.file === a.file ? 1 : 0);
    const best = candidates.reduce((x, y) =>
      score(y) > score(x) || (score(y) === score(x) && compare(y.id, x.id) < 0) ? y : x,
    );
    paired.add(best);
    push({
      kind: best.file === a.file ? 'renamed' : 'moved',
      from: a.id,
      to: best.id,
      interfaceChanged: a.interfaceHash !== best.interfaceHash,
    });
  }
  for (const list of addedByHash.values()) {
    for (const b of list)
      if (!paired.has(b)) push({ kind: 'added', from: null, to: b.id, interfaceChanged: false });
  }
  changes.sort((x, y) => compare(x.to ?? x.from!, y.to ?? y.from!) || compare(x.from ?? '', y.from ?? ''));
  return { changes, summary };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface DiffOptions {
  /** First side: a snapshot id (or unique prefix), a directory, or a git revision of `dir`'s repository. */
  from: string;
  /** Second side, the same kinds. */
  to: string;
  /** Store directory; default `CCX_STORE`, else `./.ccx`. */
  store?: string;
  /** Directory inside the git repository that revisions name (default: the working directory). */
  dir?: string;
  /** Also list unchanged chunks. */
  all?: boolean;
  /** Wait for a store held by another process (true, or milliseconds). */
  wait?: boolean | number;
}

/** The store path of diff and affected: `--store`, `CCX_STORE`, else `./.ccx`. */
export function changeStorePath(store: string | undefined): string {
  return path.resolve(store ?? process.env.CCX_STORE ?? '.ccx');
}

/**
 * Compares two snapshots chunk by chunk (see {@link classifyChanges}). A side given as a
 * directory or a git revision is chunked into the store first (a revision from a temporary
 * checkout; the user's working tree and index are not touched).
 *
 * @throws UsageError when a side is neither a snapshot, a directory nor a revision.
 * @throws StoreError / StoreLockedError when the store cannot be read or written.
 */
export async function diff(options: DiffOptions): Promise<DiffResult> {
  const storePath = changeStorePath(options.store);
  const dir = options.dir ?? '.';
  const from = await resolveSide(options.from, storePath, dir, options.wait);
  const to = await resolveSide(options.to, storePath, dir, options.wait);
  const store = await openStore(storePath, { create: false, wait: options.wait ?? false });
  try {
    return await diffSnapshots(store, from, to, options.all === true);
  } finally {
    await store.close();
  }
}

/**
 * The snapshot a diff side names: an existing directory is chunked; else a snapshot id or
 * unique prefix of the store; else a git revision, checked out and chunked.
 */
export async function resolveSide(
  spec: string,
  storePath: string,
  dir: string,
  wait: boolean | number | undefined,
): Promise<string> {
  if (await isDirectory(spec)) {
    return (await chunk({ root: spec, store: storePath, manifest: false, wait })).snapshot;
  }
  if (/^[0-9a-f]{4,64}$/i.test(spec) && (await isDirectory(storePath))) {
    const store = await openStore(storePath, { create: false, wait: wait ?? false });
    try {
      return await store.resolveSnapshotId(spec);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    } finally {
      await store.close();
    }
  }
  try {
    return await chunkRevision(dir, spec, storePath, wait);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      `${JSON.stringify(spec)} is not a directory, a snapshot of ${storePath} or a git revision`,
      {
        hint: `${error.message}; list snapshots with \`ccx log --store ${storePath}\``,
        cause: error,
      },
    );
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Both snapshots' manifests, and the changes between them. */
export async function diffSnapshots(
  store: ChunkStore,
  fromId: string,
  toId: string,
  all = false,
): Promise<DiffResult> {
  const [a, b] = await Promise.all([loadManifest(store, fromId), loadManifest(store, toId)]);
  const textChanged = await ownTextChanges(store, a, b);
  const { changes, summary } = classifyChanges(
    a.manifest.chunks,
    b.manifest.chunks,
    (id) => textChanged.has(id),
    {
      all,
    },
  );
  return { from: a.manifest.snapshot, to: b.manifest.snapshot, changes, summary };
}

interface LoadedSnapshot {
  manifest: Manifest;
  content: SnapshotContent;
}

async function loadManifest(store: ChunkStore, id: string): Promise<LoadedSnapshot> {
  const snapshot = await store.getSnapshot(id);
  if (snapshot === undefined) throw new NotFoundError(`no snapshot ${id} in ${store.path}`);
  return {
    manifest: await loadSnapshotManifest(store, snapshot),
    content: snapshot.content as SnapshotContent,
  };
}

/**
 * Ids of chunks present on both sides with an equal hash whose own text (the bytes the store
 * keeps for the chunk) differs. Only files whose bytes differ are read.
 */
async function ownTextChanges(store: ChunkStore, a: LoadedSnapshot, b: LoadedSnapshot): Promise<Set<string>> {
  const filesA = new Map(a.content.files.map((f) => [f.path, f]));
  const changedFiles = b.content.files.filter((f) => {
    const before = filesA.get(f.path);
    return (
      f.status !== 'skipped' &&
      before !== undefined &&
      before.status !== 'skipped' &&
      before.sha256 !== f.sha256
    );
  });
  const out = new Set<string>();
  if (changedFiles.length === 0) return out;
  const textShas = async (content: SnapshotContent, files: typeof changedFiles) => {
    const analyses = await loadAnalyses(store, content.analyzerVersion, files);
    const byId = new Map<string, string>();
    for (const f of files) {
      const analysis = analyses.get(f.path)!;
      const { texts } = splitFile(f.sha256, await store.readFileBytes(f.sha256), analysis);
      analysis.chunks.forEach((c, i) => {
        byId.set(c.localId === '' ? f.path : `${f.path}#${c.localId}`, texts[i]!.sha256);
      });
    }
    return byId;
  };
  const before = await textShas(
    a.content,
    changedFiles.map((f) => filesA.get(f.path)!),
  );
  const after = await textShas(b.content, changedFiles);
  for (const [id, sha] of after) {
    const old = before.get(id);
    if (old !== undefined && old !== sha) out.add(id);
  }
  return out;
}
