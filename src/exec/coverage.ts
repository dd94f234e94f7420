/**
 * What a run executed, mapped to chunks: Node.js V8 coverage (`NODE_V8_COVERAGE`, function
 * ranges in UTF-16 offsets) and the Python tracer's records (code objects by file and first
 * line, see python-tracer.ts), against the chunk ranges of a snapshot.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest, ManifestChunk } from '../manifest.js';
import { utf16ToUtf8Offsets } from '../util/offsets.js';

/** The chunks of a snapshot by file, and which files still hold the snapshot's bytes. */
export class ChunkLocator {
  readonly #chunks = new Map<string, ManifestChunk[]>();
  readonly #sha = new Map<string, string>();
  readonly #current = new Map<string, boolean>();
  /** Files the run used whose bytes differ from the snapshot's (their chunks are not recorded). */
  readonly changedFiles = new Set<string>();

  constructor(
    readonly root: string,
    manifest: Manifest,
  ) {
    for (const f of manifest.files) if (f.status !== 'skipped') this.#sha.set(f.path, f.sha256);
    for (const c of manifest.chunks) {
      const list = this.#chunks.get(c.file);
      if (list === undefined) this.#chunks.set(c.file, [c]);
      else list.push(c);
    }
  }

  /** The snapshot path of an absolute file path, when the snapshot indexed it and its bytes still match. */
  fileOf(absolute: string): string | undefined {
    const rel = path.relative(this.root, absolute).split(path.sep).join('/');
    if (rel.startsWith('../') || rel === '..' || path.isAbsolute(rel) || !this.#sha.has(rel))
      return undefined;
    let current = this.#current.get(rel);
    if (current === undefined) {
      try {
        current = createHash('sha256').update(readFileSync(absolute)).digest('hex') === this.#sha.get(rel);
      } catch {
        current = false;
      }
      this.#current.set(rel, current);
      if (!current) this.changedFiles.add(rel);
    }
    return current ? rel : undefined;
  }

  /** The module chunk of a file (its id is the path). */
  moduleChunk(file: string): string {
    return file;
  }

  /** The innermost chunk of `file` holding the byte offset; chunks of a file nest. */
  atByte(file: string, byte: number): string | undefined {
    let best: ManifestChunk | undefined;
    for (const c of this.#chunks.get(file) ?? []) {
      if (c.startByte <= byte && byte < c.endByte && (best === undefined || c.startByte >= best.startByte))
        best = c;
    }
    return best?.id;
  }

  /** The innermost chunk of `file` holding a 1-based line. */
  atLine(file: string, line: number): string | undefined {
    let best: ManifestChunk | undefined;
    for (const c of this.#chunks.get(file) ?? []) {
      if (c.startLine <= line && line <= c.endLine && (best === undefined || c.startLine >= best.startLine))
        best = c;
    }
    return best?.id;
  }
}

interface V8Coverage {
  result: Array<{
    url: string;
    functions: Array<{
      functionName: string;
      ranges: Array<{ startOffset: number; endOffset: number; count: number }>;
    }>;
  }>;
}

/**
 * Chunks executed according to the V8 coverage files in `dir` (one per Node.js process): for
 * every file of the snapshot that was loaded, its module chunk; for every function that ran
 * (count > 0), the innermost chunk holding its start. Returns how many processes reported.
 */
export function chunksFromNodeCoverage(dir: string, locator: ChunkLocator, out: Set<string>): number {
  if (!existsSync(dir)) return 0;
  let processes = 0;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    let coverage: V8Coverage;
    try {
      coverage = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as V8Coverage;
    } catch {
      continue; // a process killed while writing its report
    }
    processes++;
    for (const script of coverage.result ?? []) {
      if (!script.url.startsWith('file:')) continue;
      const absolute = fileURLToPath(script.url);
      const file = locator.fileOf(absolute);
      if (file === undefined) continue;
      out.add(locator.moduleChunk(file));
      let toByte: ((offset: number) => number) | undefined;
      for (const fn of script.functions) {
        const top = fn.ranges[0];
        if (top === undefined || top.count === 0) continue;
        if (top.startOffset === 0 && fn.functionName === '') continue; // the module itself
        toByte ??= utf16ToUtf8Offsets(readFileSync(absolute, 'utf8'));
        const id = locator.atByte(file, toByte(top.startOffset));
        if (id !== undefined) out.add(id);
      }
    }
  }
  return processes;
}

/**
 * Chunks executed according to the Python tracer's files in `dir` (one per process, lines of
 * `path<TAB>first line<TAB>name`): the module chunk of every file entered, and the innermost
 * chunk holding each code object's first line. Returns how many processes reported.
 */
export function chunksFromPythonTraces(dir: string, locator: ChunkLocator, out: Set<string>): number {
  if (!existsSync(dir)) return 0;
  let processes = 0;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.tsv')) continue;
    processes++;
    for (const line of readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      const [absolute, first, codeName] = line.split('\t');
      if (absolute === undefined || first === undefined || codeName === undefined) continue;
      const file = locator.fileOf(absolute);
      if (file === undefined) continue;
      out.add(locator.moduleChunk(file));
      if (codeName === '<module>') continue;
      // A decorated definition's code object starts at its `def` line, inside the chunk.
      const id = locator.atLine(file, Number(first));
      if (id !== undefined) out.add(id);
    }
  }
  return processes;
}
