/**
 * The optional native accelerator (native/flatten.c, built by `npm install` through node-gyp):
 * parses and flattens a whole syntax tree in one call. When it is not built (no C compiler at
 * install time) or `CCX_NO_NATIVE=1`, ccx walks node-tree-sitter's trees instead: same result,
 * slower (docs/benchmarks.md).
 */
import { createRequire } from 'node:module';

/** What native/flatten.c exports. */
export interface NativeFlatten {
  /** Parses `text` with the grammar's TSLanguage and returns the flat tree (layout in flatten.c). */
  flatten(language: unknown, text: string): ArrayBuffer;
  /** Symbol names, whether each is named, and field names, indexed by id. */
  symbols(language: unknown): { names: string[]; named: boolean[]; fields: string[] };
  /**
   * getrusage(RUSAGE_CHILDREN): CPU milliseconds of the waited-for child processes (and their
   * waited-for descendants) and the largest maximum RSS among them in KiB; null where unsupported.
   * Absent in an addon built by an older ccx.
   */
  childrenUsage?(): { userMs: number; systemMs: number; maxRssKb: number } | null;
}

let loaded: NativeFlatten | null | undefined;

/** The native module, or null when it is not built or disabled with `CCX_NO_NATIVE=1`. */
export function loadNativeFlatten(): NativeFlatten | null {
  if (loaded !== undefined) return loaded;
  if (process.env.CCX_NO_NATIVE === '1') {
    loaded = null;
    return loaded;
  }
  try {
    const require = createRequire(import.meta.url);
    loaded = require('../../build/Release/ccx_flatten.node') as NativeFlatten;
  } catch {
    loaded = null;
  }
  return loaded;
}
