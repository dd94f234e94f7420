/**
 * Types shared by the chunking pipeline: what a language analyzer produces for one file
 * ({@link FileAnalysis}), which the store caches by the file's sha256 and the graph resolves
 * into dependencies across files.
 */

/** A language ccx chunks. Chosen by file extension (see `languageForPath`). */
export type Language = 'typescript' | 'tsx' | 'javascript' | 'python' | 'go';

/** Kinds of chunks, as in `shared/spec/manifest.schema.json`. */
export type ChunkKind =
  | 'module'
  | 'function'
  | 'class'
  | 'method'
  | 'interface'
  | 'type'
  | 'enum'
  | 'variable'
  | 'namespace';

/**
 * A use, inside a chunk, of a name the chunk does not bind locally: a top-level declaration of
 * the same file, an imported binding, a package-level name (Go) or a global/builtin.
 * `members` is the chain of property/attribute names read off it, so the graph can resolve
 * `ns.f` (namespace import), `os.path.join` (Python module attribute) or `pkg.Func` (Go import).
 */
export interface NameRef {
  /** The identifier as written, e.g. `'foo'`, `'ns'`, `'os'`. */
  name: string;
  /** Up to three member names read off it, e.g. `['path', 'join']`; empty when used bare. */
  members: string[];
}

/** One chunk of a file, as a language analyzer sees it (before graph resolution). */
export interface ChunkRecord {
  /** Qualified name inside the file: `''` for the module chunk, `'f'`, `'Class.method'`, `'Type.Method'`. */
  localId: string;
  /** Declared name; the file path is substituted for the module chunk when the manifest is built. */
  name: string;
  kind: ChunkKind;
  /** 0-based UTF-8 byte offset into the file, inclusive. */
  startByte: number;
  /** 0-based UTF-8 byte offset into the file, exclusive. */
  endByte: number;
  /** 1-based, inclusive. */
  startLine: number;
  /** 1-based, inclusive. */
  endLine: number;
  /** Bytes of the chunk's own code: its range less the ranges of chunks nested in it. */
  size: number;
  /** `hash` of shared/spec/semantic-hash.md (ccx-sh/1), lowercase hex SHA-256. */
  hash: string;
  /** `interfaceHash` of shared/spec/semantic-hash.md, lowercase hex SHA-256. */
  interfaceHash: string;
  /** Names used and not bound locally, plus names bound by an import statement inside the chunk. */
  refs: NameRef[];
  /**
   * Members read off the enclosing instance inside a method: `m` for `this.m` (JS/TS),
   * `self.m` (Python, first parameter) or `r.m` (Go, receiver `r`). Empty outside methods.
   */
  selfRefs: string[];
  /** For methods: the name of the owning class (JS/TS/Python) or receiver base type (Go). */
  owner?: string;
  /**
   * References static analysis cannot follow, as source text (at most 120 characters each):
   * `import(x)`, `require(x)`, `eval`, Python `getattr(o, name)` / `importlib.import_module(x)`,
   * Go `MethodByName` (src/chunking/lang/dynamic.ts). Absent when there are none.
   */
  dynamicRefs?: string[];
}

/** A name bound by an import (ES import, `require`, Python import, Go import). */
export interface ImportBinding {
  /** The name bound in this file, or `''` for an import for its side effects only. */
  local: string;
  /**
   * The module as written: `'./a'`, `'lodash'`, `'node:fs'` (JS/TS); for Python the dotted module
   * with its leading dots (`'os.path'`, `'.m'`, `'..pkg.m'`, `'.'`); for Go the import path.
   */
  specifier: string;
  /**
   * What is taken from it: an exported name, `'default'`, or `'*'` for the whole module
   * (namespace import, `require` into one name, Python `import a.b`, a Go package).
   */
  imported: string;
  /** localId of the chunk whose body holds the import; absent for a file-level import. */
  chunk?: string;
}

/** A name a JS/TS module exports, directly or by re-export. */
export interface ExportBinding {
  /** Name seen by importers (`'default'` too); `'*'` for `export * from 'm'`. */
  exported: string;
  /** Top-level name in this file that is exported (`export { a as b }` gives local `a`). */
  local?: string;
  /** Module re-exported from, as written (`export { x } from './m'`). */
  specifier?: string;
  /** Name taken from `specifier`; `'*'` for `export * as ns from 'm'`. */
  imported?: string;
}

/** A byte range of the file and the index (into `chunks`) of the chunk whose own code it is. */
export type Segment = [startByte: number, endByte: number, chunkIndex: number];

/** Everything ccx keeps about one file's content; cached in the store by sha256 of the bytes. */
export interface FileAnalysis {
  language: Language;
  status: 'ok' | 'parse-error';
  /** For `parse-error`: where and why, for a person to read. */
  reason?: string;
  /** In source order; `chunks[0]` is the module chunk (localId `''`). */
  chunks: ChunkRecord[];
  /** Sorted partition of `[0, file bytes)` into the chunks' own code. */
  segments: Segment[];
  /** Top-level names this file declares, each to the localId of the chunk declaring it (`''`: the module chunk). */
  topLevel: Record<string, string>;
  imports: ImportBinding[];
  /** JS/TS exports; Python and Go leave this empty (their visibility rules are applied by the graph). */
  exports: ExportBinding[];
  /** Go: the package clause's name. */
  goPackage?: string;
}

/** The part of a {@link ChunkRecord} the dependency graph reads. */
export type LinkChunk = Pick<ChunkRecord, 'localId' | 'kind' | 'hash' | 'refs' | 'selfRefs' | 'owner'>;

/**
 * The part of a {@link FileAnalysis} the dependency graph reads: a full analysis is one, and
 * {@link toLinkAnalysis} makes a smaller copy for holding every file of a large tree at once.
 */
export interface LinkAnalysis {
  language: Language;
  chunks: LinkChunk[];
  topLevel: Record<string, string>;
  imports: ImportBinding[];
  exports: ExportBinding[];
  goPackage?: string;
}

/**
 * A copy of what linking reads of an analysis, without ranges, names, interface hashes and
 * segments (on the Python standard library: 38 MiB of heap for all files instead of 56).
 */
export function toLinkAnalysis(a: LinkAnalysis): LinkAnalysis {
  const out: LinkAnalysis = {
    language: a.language,
    chunks: a.chunks.map((c) => {
      const chunk: LinkChunk = {
        localId: c.localId,
        kind: c.kind,
        hash: c.hash,
        refs: c.refs,
        selfRefs: c.selfRefs,
      };
      if (c.owner !== undefined) chunk.owner = c.owner;
      return chunk;
    }),
    topLevel: a.topLevel,
    imports: a.imports,
    exports: a.exports,
  };
  if (a.goPackage !== undefined) out.goPackage = a.goPackage;
  return out;
}
