/**
 * Helpers for the store tests: hand-built analyses, temporary directories, and a copy of the
 * store's code that a plain `node` child process can import (so the process tests need no build).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { ChunkRecord, FileAnalysis, Segment } from '../../src/chunking/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A new empty temporary directory. */
export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ccx-store-test-'));
}

/** A chunk by its semantic hash and the byte ranges of its own code. */
export interface ChunkSpec {
  hash: string;
  ranges: Array<[start: number, end: number]>;
}

/**
 * A FileAnalysis for `bytes` whose chunks own the given ranges; bytes not in any range belong to
 * the module chunk (index 0, semantic hash `moduleHash`).
 */
export function makeAnalysis(
  bytes: Buffer,
  chunks: ChunkSpec[],
  moduleHash = `module-${sha256(bytes)}`,
): FileAnalysis {
  const owner = new Array<number>(bytes.length).fill(0);
  chunks.forEach((chunk, i) => {
    for (const [start, end] of chunk.ranges) owner.fill(i + 1, start, end);
  });
  const segments: Segment[] = [];
  for (let at = 0; at < bytes.length; at++) {
    const last = segments.at(-1);
    if (last !== undefined && last[2] === owner[at]) last[1] = at + 1;
    else segments.push([at, at + 1, owner[at]!]);
  }
  const record = (localId: string, hash: string, start: number, end: number): ChunkRecord => ({
    localId,
    name: localId,
    kind: localId === '' ? 'module' : 'function',
    startByte: start,
    endByte: end,
    startLine: 1,
    endLine: 1,
    size: end - start,
    hash,
    interfaceHash: hash,
    refs: [],
    selfRefs: [],
  });
  return {
    language: 'typescript',
    status: 'ok',
    chunks: [
      record('', moduleHash, 0, bytes.length),
      ...chunks.map((chunk, i) =>
        record(`f${i}`, chunk.hash, chunk.ranges[0]?.[0] ?? 0, chunk.ranges.at(-1)?.[1] ?? 0),
      ),
    ],
    segments,
    topLevel: {},
    imports: [],
    exports: [],
  };
}

/** An entry for `putFiles`: the chunks given plus the module chunk, which owns the rest. */
export function makeEntry(bytes: Buffer, chunks: ChunkSpec[] = [], moduleHash?: string) {
  const sha = sha256(bytes);
  return {
    sha256: sha,
    bytes,
    analysisKey: `test-1:typescript:${sha}`,
    analysis: makeAnalysis(bytes, chunks, moduleHash),
  };
}

/** Byte range of the first occurrence of `needle` in `bytes` at or after byte `from`. */
export function rangeOf(bytes: Buffer, needle: string, from = 0): [number, number] {
  const start = bytes.indexOf(Buffer.from(needle, 'utf8'), from);
  if (start < 0) throw new Error(`${needle} not found`);
  return [start, start + Buffer.byteLength(needle)];
}

/**
 * Transpiles src/store/store.ts and the modules it imports into a new directory under
 * node_modules/.cache (so that `classic-level` resolves from there), for child processes.
 *
 * @returns the path of the transpiled store.js and a function that removes the directory.
 */
export function buildStoreForChildren(): { storeModule: string; cleanup: () => void } {
  const cacheDir = path.join(repoRoot, 'node_modules', '.cache');
  fs.mkdirSync(cacheDir, { recursive: true });
  const outDir = fs.mkdtempSync(path.join(cacheDir, 'ccx-store-test-'));
  const srcDir = path.join(repoRoot, 'src');
  const pending = [path.join(srcDir, 'store', 'store.ts')];
  const done = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const output = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const target = path.join(outDir, path.relative(srcDir, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, output);
    for (const match of output.matchAll(/from '(\.\.?\/[^']+)\.js'/g)) {
      pending.push(path.resolve(path.dirname(file), `${match[1]}.ts`));
    }
  }
  return {
    storeModule: path.join(outDir, 'store', 'store.js'),
    cleanup: () => fs.rmSync(outDir, { recursive: true, force: true }),
  };
}
