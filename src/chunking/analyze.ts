/**
 * From source text to a {@link FileAnalysis}: parse with tree-sitter, copy the tree into a
 * {@link CompactTree}, let the language's analyzer find chunks, scopes and references, then turn
 * UTF-16 ranges into byte offsets, lines, the segment partition and hashes.
 */
import type Parser from 'tree-sitter';
import {
  CompactTree,
  compactTree,
  createGrammarTables,
  ERROR_TYPE_ID,
  type GrammarTables,
  grammarTablesFromSymbols,
} from './compact-tree.js';
import { loadGrammar } from './grammars.js';
import { recordDynamicReferences } from './lang/dynamic.js';
import { loadNativeFlatten, type NativeFlatten } from './native.js';
import { hashTokens } from './normalize.js';
import { createByteOffsetMapper, createLineMapper } from './read-source.js';
import type {
  ChunkKind,
  ChunkRecord,
  ExportBinding,
  FileAnalysis,
  ImportBinding,
  Language,
  NameRef,
  Segment,
} from './types.js';

/**
 * Bumped whenever an analyzer's output changes for the same input, so cached analyses in a
 * store are recomputed instead of reused.
 */
export const ANALYZER_VERSION = 'a3';

/** Deeper syntax trees are refused (reported as a parse error) rather than risk the call stack. */
export const MAX_NESTING = 1500;

/** A chunk as a language analyzer reports it, in UTF-16 offsets of the decoded text. */
export interface RawChunk {
  localId: string;
  name: string;
  kind: ChunkKind;
  /** Extent in UTF-16 code units, leading attached comments included. */
  start: number;
  end: number;
  hash: string;
  interfaceHash: string;
  refs: NameRef[];
  selfRefs: string[];
  owner?: string;
  /** References static analysis cannot follow (lang/dynamic.ts), as source text. */
  dynamicRefs?: string[];
}

/** What a language analyzer returns for one file; `chunks[0]` is the module chunk. */
export interface RawAnalysis {
  chunks: RawChunk[];
  topLevel: Record<string, string>;
  imports: ImportBinding[];
  exports: ExportBinding[];
  goPackage?: string;
}

export type LanguageAnalyzer = (ct: CompactTree) => RawAnalysis;

interface LoadedLanguage {
  grammar: unknown;
  /** Tables for the JavaScript walk (filled lazily) or the native path (complete). */
  tables: GrammarTables;
  analyze: LanguageAnalyzer;
}

/**
 * Per-thread parser and grammars, loaded on first use so that commands that never parse (and
 * `ccx --help`) do not pay for the native modules. Parses with the native flattener
 * (src/chunking/native.ts) when it is built, else with node-tree-sitter and a cursor walk.
 */
export class SourceAnalyzer {
  private parser: Parser | undefined;
  private readonly languages = new Map<Language, LoadedLanguage>();
  private readonly native: NativeFlatten | null;

  /** `native: false` forces the JavaScript walk even where the native flattener is built. */
  constructor(options: { native?: boolean } = {}) {
    this.native = options.native === false ? null : loadNativeFlatten();
  }

  private async load(language: Language): Promise<LoadedLanguage> {
    let lang = this.languages.get(language);
    if (lang === undefined) {
      lang = await loadLanguage(language);
      if (this.native !== null)
        lang.tables = grammarTablesFromSymbols(this.native.symbols(languageHandle(lang.grammar)));
      this.languages.set(language, lang);
    }
    return lang;
  }

  /** True when trees come from the native flattener. */
  get usesNative(): boolean {
    return this.native !== null;
  }

  /**
   * Analyzes decoded source text. `bomBytes` (0 or 3) is the length of a UTF-8 byte order mark
   * that preceded `text` in the file, so byte offsets refer to the file's bytes. Never throws for
   * bad source: a syntax error gives status `parse-error` with what parsed indexed.
   */
  async analyze(
    text: string,
    language: Language,
    bomBytes: number,
    fileBytes: number,
  ): Promise<FileAnalysis> {
    const lang = await this.load(language);
    let ct: CompactTree;
    let reason: string | undefined;
    if (this.native !== null) {
      const buffer = this.native.flatten(languageHandle(lang.grammar), text);
      ct = CompactTree.fromNative(text, lang.tables, buffer);
      if (new Int32Array(buffer, 0, 4)[2] === 1) reason = describeSyntaxError(ct);
    } else {
      if (this.parser === undefined) {
        const { default: ParserCtor } = await import('tree-sitter');
        this.parser = new ParserCtor();
      }
      this.parser.setLanguage(lang.grammar as Parser.Language);
      const tree = this.parser.parse(text, undefined, {
        bufferSize: Math.max(32 * 1024, text.length * 2 + 2),
      });
      ct = compactTree(tree, text, lang.tables);
      if (tree.rootNode.hasError) reason = describeTreeSyntaxError(tree, text);
    }
    if (ct.maxDepth > MAX_NESTING) {
      return finalize(
        ct,
        moduleOnly(ct, `nesting deeper than ${MAX_NESTING} levels; kept as one module chunk`),
        language,
        bomBytes,
        fileBytes,
        `syntax tree nested ${ct.maxDepth} levels deep (limit ${MAX_NESTING})`,
      );
    }
    const raw = lang.analyze(ct);
    recordDynamicReferences(ct, raw, language);
    return finalize(ct, raw, language, bomBytes, fileBytes, reason);
  }
}

/** The TSLanguage handle inside a node-tree-sitter grammar object. */
function languageHandle(grammar: unknown): unknown {
  return (grammar as { language: unknown }).language;
}

async function loadLanguage(language: Language): Promise<LoadedLanguage> {
  const tables = createGrammarTables();
  const grammar = await loadGrammar(language);
  switch (language) {
    case 'typescript':
    case 'tsx':
    case 'javascript': {
      const { analyzeJavaScript } = await import('./lang/javascript.js');
      return { grammar, tables, analyze: (ct) => analyzeJavaScript(ct, language) };
    }
    case 'python': {
      const { analyzePython } = await import('./lang/python.js');
      return { grammar, tables, analyze: analyzePython };
    }
    case 'go': {
      const { analyzeGo } = await import('./lang/go.js');
      return { grammar, tables, analyze: analyzeGo };
    }
  }
}

/** `syntax error at line L, column C: ...` for the first ERROR or MISSING node in source order. */
function syntaxErrorMessage(
  text: string,
  offset: number,
  end: number,
  missingType: string | undefined,
): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  const where = `line ${line}, column ${offset - lineStart + 1}`;
  if (missingType !== undefined) return `syntax error at ${where}: missing ${missingType}`;
  const snippet = text.slice(offset, Math.min(end, offset + 24)).split('\n')[0];
  return `syntax error at ${where}: unexpected ${JSON.stringify(snippet)}`;
}

/** The first error of a tree from the native flattener, which records ERROR and MISSING flags. */
function describeSyntaxError(ct: CompactTree): string {
  for (let i = 0; i < ct.count; i++) {
    const flags = ct.flags[i]!;
    if (ct.type[i] === ERROR_TYPE_ID || (flags & 8) !== 0)
      return syntaxErrorMessage(ct.source, ct.start[i]!, ct.end[i]!, undefined);
    if ((flags & 2) !== 0) return syntaxErrorMessage(ct.source, ct.start[i]!, ct.end[i]!, ct.typeName(i));
  }
  return 'syntax error';
}

/** The same for a node-tree-sitter tree (the JavaScript walk does not record the flags). */
function describeTreeSyntaxError(tree: Parser.Tree, text: string): string {
  const cursor = tree.walk();
  for (;;) {
    if (cursor.nodeTypeId === ERROR_TYPE_ID || cursor.nodeIsMissing) {
      return syntaxErrorMessage(
        text,
        cursor.startIndex,
        cursor.endIndex,
        cursor.nodeIsMissing ? cursor.nodeType : undefined,
      );
    }
    if (cursor.gotoFirstChild()) continue;
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return 'syntax error';
    }
  }
}

function moduleOnly(ct: CompactTree, note: string): RawAnalysis {
  const tokens = ['unanalyzed', ct.source];
  return {
    chunks: [
      {
        localId: '',
        name: '',
        kind: 'module',
        start: 0,
        end: ct.source.length,
        hash: hashTokens('hash', tokens),
        interfaceHash: hashTokens('interface', [note]),
        refs: [],
        selfRefs: [],
      },
    ],
    topLevel: {},
    imports: [],
    exports: [],
  };
}

/**
 * Turns a raw analysis into byte offsets, lines and the segment partition. Chunks must nest:
 * each chunk's range lies inside an earlier chunk's range (the module chunk covers everything).
 */
export function finalize(
  ct: CompactTree,
  raw: RawAnalysis,
  language: Language,
  bomBytes: number,
  fileBytes: number,
  reason: string | undefined,
): FileAnalysis {
  const toByte = createByteOffsetMapper(ct.source, bomBytes);
  const toLine = createLineMapper(ct.source);
  const n = raw.chunks.length;
  const chunks: ChunkRecord[] = new Array(n);
  const starts: number[] = new Array(n);
  const ends: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = raw.chunks[i]!;
    const isModule = i === 0;
    starts[i] = isModule ? 0 : toByte(c.start);
    ends[i] = isModule ? fileBytes : toByte(c.end);
    const record: ChunkRecord = {
      localId: c.localId,
      name: c.name,
      kind: c.kind,
      startByte: starts[i]!,
      endByte: ends[i]!,
      startLine: isModule ? 1 : toLine(c.start),
      endLine: isModule ? toLine(Math.max(0, ct.source.length - 1)) : toLine(Math.max(c.start, c.end - 1)),
      size: 0,
      hash: c.hash,
      interfaceHash: c.interfaceHash,
      refs: c.refs,
      selfRefs: c.selfRefs,
    };
    if (c.owner !== undefined) record.owner = c.owner;
    if (c.dynamicRefs !== undefined) record.dynamicRefs = c.dynamicRefs;
    chunks[i] = record;
  }
  const segments = partition(starts, ends);
  for (const [s, e, idx] of segments) chunks[idx]!.size += e - s;
  const analysis: FileAnalysis = {
    language,
    status: reason === undefined ? 'ok' : 'parse-error',
    chunks,
    segments,
    topLevel: raw.topLevel,
    imports: raw.imports,
    exports: raw.exports,
  };
  if (reason !== undefined) analysis.reason = reason;
  if (raw.goPackage !== undefined) analysis.goPackage = raw.goPackage;
  return analysis;
}

/**
 * The partition of `[starts[0], ends[0])` into each chunk's own bytes: a chunk owns its range
 * less the ranges of the chunks nested in it. Empty ranges own nothing.
 */
function partition(starts: number[], ends: number[]): Segment[] {
  const order = starts
    .map((_, i) => i)
    .sort((a, b) => starts[a]! - starts[b]! || ends[b]! - ends[a]! || a - b);
  const segments: Segment[] = [];
  const stack: number[] = [];
  let pos = starts[0] ?? 0;
  const emit = (end: number, owner: number) => {
    if (end > pos) {
      const last = segments[segments.length - 1];
      if (last !== undefined && last[2] === owner && last[1] === pos) last[1] = end;
      else segments.push([pos, end, owner]);
      pos = end;
    }
  };
  for (const i of order) {
    while (stack.length > 0 && ends[stack[stack.length - 1]!]! <= starts[i]!) {
      const top = stack.pop()!;
      emit(ends[top]!, top);
    }
    if (stack.length > 0) emit(starts[i]!, stack[stack.length - 1]!);
    stack.push(i);
  }
  while (stack.length > 0) {
    const top = stack.pop()!;
    emit(ends[top]!, top);
  }
  return segments;
}
