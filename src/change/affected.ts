/**
 * `ccx affected`: which chunks a change reaches and which test files must run, statically, from
 * the chunk graph of the base revision and the head (by default the working tree).
 */
import path from 'node:path';
import picomatch from 'picomatch';
import { chunk, resolveStorePath } from '../chunking/chunk.js';
import { loadSnapshotDetails } from '../chunking/snapshot.js';
import type { FileAnalysis } from '../chunking/types.js';
import { NotFoundError } from '../errors.js';
import { reachable, reverseDeps } from '../graph/walk.js';
import type { Manifest } from '../manifest.js';
import { type ChunkStore, openStore } from '../store/store.js';
import { checkoutRevision, chunkRevision, findWorkTree } from './revision.js';

/** Test files when `--tests` is not given (globs over paths relative to DIR). */
export const DEFAULT_TEST_GLOBS: readonly string[] = [
  '**/*.test.*',
  '**/*.spec.*',
  '**/test_*.py',
  '**/*_test.py',
  '**/*_test.go',
  'test/**',
  'tests/**',
];

export interface AffectedOptions {
  /** Directory inside a git work tree (default: the working directory). */
  dir?: string;
  /** Base revision (default `HEAD`). */
  base?: string;
  /** Head revision; default: the working tree of `dir`, uncommitted changes included. */
  head?: string;
  /** Globs of test files, relative to `dir`; default {@link DEFAULT_TEST_GLOBS}. */
  tests?: readonly string[];
  /** Also select every test file that holds, or depends on, a reference static analysis cannot follow. */
  conservative?: boolean;
  /**
   * Add the edges the TypeScript type checker finds (member calls, type references, re-exports;
   * change/precise.ts) to the head's graph before walking it.
   */
  precise?: boolean;
  /** Store directory; default `DIR/.ccx`, or `CCX_STORE`. */
  store?: string;
  /** Wait for a store held by another process (true, or milliseconds). */
  wait?: boolean | number;
}

/** A reference static analysis cannot follow, in the chunk that holds it. */
export interface UnresolvedReference {
  chunk: string;
  reference: string;
}

/** What `ccx affected --json` prints. Ids and paths are relative to DIR; every list is sorted. */
export interface AffectedResult {
  /** Snapshot ids of the two sides. */
  base: string;
  head: string;
  /** Chunks added, removed, or whose hash or interface hash changed. */
  changed: string[];
  /** Those, and every head chunk that depends on one of them, transitively. */
  affected: string[];
  /** Test files (head side) holding an affected chunk. */
  tests: string[];
  /** Files whose bytes changed while every chunk in them kept its hash (a reformat, a comment). */
  reformattedOnly: string[];
  /** References in the head that static analysis cannot follow. */
  unresolved: UnresolvedReference[];
}

/**
 * Chunks the base and head of a git repository into one store and answers which chunks the
 * change reaches and which tests to run. The user's working tree and index are not touched
 * (revisions are read from a temporary checkout).
 *
 * @throws UsageError when `dir` is not in a git work tree or a revision names no commit.
 * @throws StoreError / StoreLockedError when the store cannot be used.
 */
export async function affected(options: AffectedOptions): Promise<AffectedResult> {
  const dir = path.resolve(options.dir ?? '.');
  await findWorkTree(dir);
  const storePath = resolveStorePath(dir, options.store);
  const wait = options.wait;
  const base = await chunkRevision(dir, options.base ?? 'HEAD', storePath, wait);
  const head =
    options.head === undefined
      ? (await chunk({ root: dir, store: storePath, manifest: false, wait })).snapshot
      : await chunkRevision(dir, options.head, storePath, wait);
  const store = await openStore(storePath, { create: false, wait: wait ?? false });
  try {
    if (options.precise !== true) return await affectedBetween(store, base, head, options);
    // The checker reads the head's files from disk: the working tree, or a checkout of --head.
    const checkout = options.head === undefined ? undefined : await checkoutRevision(dir, options.head);
    try {
      return await affectedBetween(store, base, head, { ...options, headRoot: checkout?.root ?? dir });
    } finally {
      await checkout?.dispose();
    }
  } finally {
    await store.close();
  }
}

/** {@link affected} between two snapshots of a store. */
export async function affectedBetween(
  store: ChunkStore,
  baseId: string,
  headId: string,
  options: Pick<AffectedOptions, 'tests' | 'conservative' | 'precise'> & { headRoot?: string } = {},
): Promise<AffectedResult> {
  const [base, head] = await Promise.all([load(store, baseId), load(store, headId)]);
  const baseChunks = new Map(base.manifest.chunks.map((c) => [c.id, c]));
  const headChunks = new Map(head.manifest.chunks.map((c) => [c.id, c]));

  const changed = new Set<string>();
  for (const [id, c] of headChunks) {
    const before = baseChunks.get(id);
    if (before === undefined || before.hash !== c.hash || before.interfaceHash !== c.interfaceHash)
      changed.add(id);
  }
  const removed = [...baseChunks.keys()].filter((id) => !headChunks.has(id));
  for (const id of removed) changed.add(id);

  // Reverse graphs: dependents of each chunk in the head, and in the base (for removed chunks).
  const dependents = reverseDeps(head.manifest.chunks);
  if (options.precise === true && options.headRoot !== undefined) {
    const { findPreciseEdges } = await import('./precise.js');
    for (const [from, to] of (await findPreciseEdges(options.headRoot, head.manifest)).edges) {
      const list = dependents.get(to);
      if (list === undefined) dependents.set(to, [from]);
      else list.push(from);
    }
  }
  const baseDependents = reverseDeps(base.manifest.chunks);
  const starts: string[] = [];
  for (const id of changed) {
    if (headChunks.has(id)) starts.push(id);
    // A removed chunk's dependents that survive depend on something gone.
    else for (const d of baseDependents.get(id) ?? []) if (headChunks.has(d)) starts.push(d);
  }
  // A chunk whose closure hash changed depends on a change, whatever the path (a dependency that
  // now resolves elsewhere, a locked version that moved): also affected.
  for (const [id, c] of headChunks) {
    const before = baseChunks.get(id);
    if (before !== undefined && before.closureHash !== c.closureHash) starts.push(id);
  }
  const reached = reachable(starts, (id) => dependents.get(id));
  const affectedIds = new Set([...reached, ...removed]);

  const isTest = picomatch([...(options.tests ?? DEFAULT_TEST_GLOBS)], { dot: true });
  const tests = new Set<string>();
  for (const id of reached) {
    const file = headChunks.get(id)?.file;
    if (file !== undefined && isTest(file)) tests.add(file);
  }

  const unresolved: UnresolvedReference[] = [];
  for (const f of head.manifest.files) {
    const analysis = head.analyses.get(f.path);
    if (analysis === undefined) continue;
    for (const c of analysis.chunks) {
      for (const reference of c.dynamicRefs ?? []) {
        unresolved.push({ chunk: c.localId === '' ? f.path : `${f.path}#${c.localId}`, reference });
      }
    }
  }
  if (options.conservative === true && changed.size > 0) {
    // Every test that holds a blind spot, or reaches one through its dependencies.
    const blind = new Set(unresolved.map((u) => u.chunk));
    const deps = new Map(head.manifest.chunks.map((c) => [c.id, c.deps]));
    for (const f of head.manifest.files) {
      if (!isTest(f.path) || tests.has(f.path)) continue;
      const reaches = reachable(f.chunks, (id) => deps.get(id));
      if ([...blind].some((id) => reaches.has(id))) tests.add(f.path);
    }
  }

  const baseFiles = new Map(base.manifest.files.map((f) => [f.path, f]));
  const reformattedOnly: string[] = [];
  for (const f of head.manifest.files) {
    const before = baseFiles.get(f.path);
    if (before === undefined || before.sha256 === f.sha256 || f.status === 'skipped') continue;
    const beforeIds = new Set(before.chunks);
    if (
      f.chunks.length === before.chunks.length &&
      f.chunks.every((id) => beforeIds.has(id) && !changed.has(id))
    ) {
      reformattedOnly.push(f.path);
    }
  }

  const sorted = (xs: Iterable<string>) => [...xs].sort(compare);
  return {
    base: base.manifest.snapshot,
    head: head.manifest.snapshot,
    changed: sorted(changed),
    affected: sorted(affectedIds),
    tests: sorted(tests),
    reformattedOnly: reformattedOnly.sort(compare),
    unresolved: unresolved.sort((a, b) => compare(a.chunk, b.chunk) || compare(a.reference, b.reference)),
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function load(
  store: ChunkStore,
  id: string,
): Promise<{ manifest: Manifest; analyses: Map<string, FileAnalysis> }> {
  const snapshot = await store.getSnapshot(id);
  if (snapshot === undefined) throw new NotFoundError(`no snapshot ${id} in ${store.path}`);
  return loadSnapshotDetails(store, snapshot);
}
