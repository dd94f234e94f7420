/**
 * What a run executed, mapped to chunks: Node.js V8 coverage (`NODE_V8_COVERAGE`, function
 * ranges in UTF-16 offsets) and the Python tracer's records (code objects by file and first
 * line, see python-tracer.ts), against the chunk ranges of a snapshot.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { utf16ToUtf8Offsets } from '../util/offsets.js';

/** A chunk's range as the locator needs it. */
interface ChunkRange {
  id: string;
  startByte: number;
  endByte: number;
  startLine: number;
  endLine: number;
}

/**
 * Collects what a run executed, by file and position, then maps it to chunks of a snapshot,
 * loading the analyses of the files the run touched only (a run that used 5 files of a
 * 2,000-file tree reads 5 analyses).
 */
export class ChunkLocator {
  readonly #current = new Map<string, boolean>();
  readonly #modules = new Set<string>();
  readonly #bytes = new Map<string, number[]>();
  readonly #lines = new Map<string, number[]>();
  /** Files the run used whose bytes differ from the snapshot's (their chunks are not recorded). */
  readonly changedFiles = new Set<string>();

  /** @param files snapshot path -> sha256 of every indexed file of the snapshot. */
  constructor(
    readonly root: string,
    private readonly files: ReadonlyMap<string, string>,
  ) {}

  /** The snapshot path of an absolute file path, when the snapshot indexed it and its bytes still match. */
  fileOf(absolute: string): string | undefined {
    const rel = path.relative(this.root, absolute).split(path.sep).join('/');
    if (rel.startsWith('../') || rel === '..' || path.isAbsolute(rel) || !this.files.has(rel))
      return undefined;
    let current = this.#current.get(rel);
    if (current === undefined) {
      try {
        current = createHash('sha256').update(readFileSync(absolute)).digest('hex') === this.files.get(rel);
      } catch {
        current = false;
      }
      this.#current.set(rel, current);
      if (!current) this.changedFiles.add(rel);
    }
    return current ? rel : undefined;
  }

  /** The file was loaded: its module chunk ran. */
  addModule(file: string): void {
    this.#modules.add(file);
  }

  /** Code starting at this UTF-8 byte offset of the file ran. */
  addByte(file: string, byte: number): void {
    push(this.#bytes, file, byte);
  }

  /** A code object starting at this 1-based line of the file ran. */
  addLine(file: string, line: number): void {
    push(this.#lines, file, line);
  }

  /**
   * The ids of the chunks that ran, sorted: the module chunk of every file loaded, and the
   * innermost chunk holding each position.
   */
  async chunks(load: (files: string[]) => Promise<Map<string, FileChunkRanges>>): Promise<string[]> {
    const touched = [...new Set([...this.#modules, ...this.#bytes.keys(), ...this.#lines.keys()])].sort();
    const ranges = await load(touched);
    const out = new Set<string>(this.#modules);
    const innermost = (
      list: ChunkRange[],
      inside: (c: ChunkRange) => boolean,
      start: (c: ChunkRange) => number,
    ) => {
      let best: ChunkRange | undefined;
      for (const c of list) if (inside(c) && (best === undefined || start(c) >= start(best))) best = c;
      return best?.id;
    };
    for (const [file, bytes] of this.#bytes) {
      const list = ranges.get(file) ?? [];
      for (const b of bytes) {
        const id = innermost(
          list,
          (c) => c.startByte <= b && b < c.endByte,
          (c) => c.startByte,
        );
        if (id !== undefined) out.add(id);
      }
    }
    for (const [file, lines] of this.#lines) {
      const list = ranges.get(file) ?? [];
      for (const l of lines) {
        const id = innermost(
          list,
          (c) => c.startLine <= l && l <= c.endLine,
          (c) => c.startLine,
        );
        if (id !== undefined) out.add(id);
      }
    }
    return [...out].sort();
  }
}

/** Chunk ranges of one file, as {@link ChunkLocator.chunks} loads them. */
export type FileChunkRanges = ChunkRange[];

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
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
 * Records in `locator` what the V8 coverage files in `dir` (one per Node.js process): for
 * every file of the snapshot that was loaded, its module chunk; for every function that ran
 * (count > 0), the innermost chunk holding its start. Returns how many processes reported.
 */
export function chunksFromNodeCoverage(dir: string, locator: ChunkLocator): number {
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
      locator.addModule(file);
      let toByte: ((offset: number) => number) | undefined;
      for (const fn of script.functions) {
        const top = fn.ranges[0];
        if (top === undefined || top.count === 0) continue;
        if (top.startOffset === 0 && fn.functionName === '') continue; // the module itself
        toByte ??= utf16ToUtf8Offsets(readFileSync(absolute, 'utf8'));
        locator.addByte(file, toByte(top.startOffset));
      }
    }
  }
  return processes;
}

/**
 * Records in `locator` what the Python tracer's files in `dir` (one per process, lines of
 * `path<TAB>first line<TAB>name`): the module chunk of every file entered, and the innermost
 * chunk holding each code object's first line. Returns how many processes reported.
 */
export function chunksFromPythonTraces(dir: string, locator: ChunkLocator): number {
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
      locator.addModule(file);
      if (codeName === '<module>') continue;
      // A decorated definition's code object starts at its `def` line, inside the chunk.
      locator.addLine(file, Number(first));
    }
  }
  return processes;
}
