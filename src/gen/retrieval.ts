/**
 * Repository retrieval for `ccx gen`: a BM25 index over the chunks of a snapshot, used to put
 * related code into a generation prompt ({@link buildChunkIndex}, {@link selectForPrompt}), and
 * the `retrieve` technique, which takes an existing function whose signature fits the spec,
 * gives it the spec's name and prepares the files it needs to run ({@link findRetrieveCandidates}).
 *
 * Texts come from the store: a snapshot's files are re-assembled from their chunk texts
 * (`ChunkStore.readFileBytes`, as `ccx cat` does) and each chunk is the byte range the manifest
 * gives. Nothing here writes to the store.
 *
 * tree-sitter and its grammars are imported on first use, only by the `retrieve` part.
 */
import type Parser from 'tree-sitter';
import { loadGrammar } from '../chunking/grammars.js';
import { loadSnapshotManifest } from '../chunking/snapshot.js';
import type { Language } from '../chunking/types.js';
import type { Manifest, ManifestChunk } from '../manifest.js';
import { subTokens } from '../predict/features.js';
import type { ChunkStore, Snapshot } from '../store/store.js';
import type { GenSpec } from './spec-types.js';

/** BM25 term-frequency saturation; Robertson & Zaragoza (2009) report 1.2 to 2 as reasonable untuned values. */
export const BM25_K1 = 1.2;
/** BM25 document-length normalization; 0.75 is the customary untuned value (Robertson & Zaragoza 2009). */
export const BM25_B = 0.75;
/** Reciprocal rank fusion constant (Cormack, Clarke & Büttcher 2009). */
export const RRF_K = 60;
/**
 * How many times a chunk's name terms count in its document: a crude field weight in the spirit
 * of BM25F (Robertson & Zaragoza 2009), since a function's name says more about
 * what it does than any one identifier of its body.
 */
const NAME_WEIGHT = 3;
/** Characters of a text handed to an embedding hook (models truncate further). */
const EMBED_CHARS = 4000;
/** Files re-assembled from the store at a time. */
const READ_CONCURRENCY = 16;
const DEFAULT_INDEX_KINDS = ['function', 'method', 'class'];
/** Search results the `retrieve` technique parses at most, looking for fitting functions. */
const MAX_SCANNED = 2000;

/**
 * English stop words and keywords of Python and JavaScript/TypeScript, dropped from documents
 * and queries. Only words that carry no meaning in either place are here: `get`, `set`, `type`,
 * `default` or `string` say something in a description, so they stay.
 */
const STOP_WORDS = new Set(
  // English
  (
    'a about above after again against all am an and any are as at be because been before being ' +
    'below between both but by can could did do does doing down during each either etc few for ' +
    'from further had has have having he her here hers him his how if in into is it its itself ' +
    'just me more most my no nor not now of off on once only or other our out over own same she ' +
    'should so some such than that the their them then there these they this those through to ' +
    'too under until up upon very via was we were what when where which while who whom why will ' +
    'with would you your ' +
    // Python
    'none true false def elif else except finally lambda pass raise return try yield async await ' +
    'assert del global nonlocal import self cls ' +
    // JavaScript / TypeScript
    'const let var function new typeof instanceof void delete throw catch extends implements super ' +
    'null undefined export readonly public private protected keyof break continue switch case ' +
    'debugger'
  ).split(' '),
);

// ---------------------------------------------------------------------------------------------
// Terms

/**
 * Harman's S-stemmer ("How effective is suffixing?", JASIS 42(1), 1991): folds English plurals
 * (`values` -> `value`, `entries` -> `entry`) and nothing else, so identifiers stay recognizable.
 */
function stem(term: string): string {
  if (term.length <= 3) return term;
  if (term.endsWith('ies') && !term.endsWith('eies') && !term.endsWith('aies'))
    return `${term.slice(0, -3)}y`;
  if (term.endsWith('es') && !/(aes|ees|oes)$/.test(term)) return term.slice(0, -1);
  if (term.endsWith('s') && !term.endsWith('us') && !term.endsWith('ss')) return term.slice(0, -1);
  return term;
}

/**
 * The terms of one identifier or word: its sub-tokens (camelCase, PascalCase, snake_case split,
 * src/predict/features.ts `subTokens`), plus the letter runs of a sub-token that mixes letters
 * and digits (`rgb2hsv` gives `rgb2hsv`, `rgb`, `hsv`); lower-cased, stop words and keywords
 * dropped, plurals folded. Single characters and bare numbers are dropped.
 */
function identifierTerms(identifier: string): string[] {
  const out: string[] = [];
  for (const token of subTokens(identifier)) {
    const parts =
      /[a-z]/.test(token) && /\d/.test(token) ? [token, ...(token.match(/[a-z]{2,}/g) ?? [])] : [token];
    for (const part of parts) {
      if (STOP_WORDS.has(part)) continue;
      const stemmed = stem(part);
      if (!STOP_WORDS.has(stemmed)) out.push(stemmed);
    }
  }
  return out;
}

/**
 * The terms of a piece of code or prose: every identifier-like word (`[A-Za-z_$][A-Za-z0-9_$]*`,
 * which covers identifiers and the words of comments, docstrings and strings) split by
 * {@link identifierTerms}. In order, with repeats. Words in other scripts than ASCII are not seen.
 */
export function tokenizeCode(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/[A-Za-z_$][A-Za-z0-9_$]*/g)) {
    for (const term of identifierTerms(match[0])) out.push(term);
  }
  return out;
}

/**
 * The terms of a declared name: its sub-token terms and, for names of several parts, the
 * bigrams of consecutive parts joined with `_` (`rgb_to_hsv` gives `rgb`, `hsv`, `rgb_hsv`), so
 * that a query name matches a name with the same parts in the same order better than the
 * reverse (`hsv_to_rgb`). A bigram cannot collide with a sub-token, which never holds `_`.
 */
function nameTerms(name: string): string[] {
  const parts = name.split('.').flatMap(identifierTerms);
  const out = [...parts];
  for (let i = 1; i < parts.length; i++) out.push(`${parts[i - 1]}_${parts[i]}`);
  return out;
}

/**
 * The query terms of a spec, deduplicated in first-seen order: the terms of `function_name`
 * (with its name bigrams), of `description`, of each parameter's name and type, and of the
 * return type. Tokenized as documents are ({@link tokenizeCode}).
 */
export function specQueryTerms(spec: GenSpec): string[] {
  const terms = [
    ...nameTerms(spec.function_name),
    ...tokenizeCode(spec.description ?? ''),
    ...spec.ast.parameters.flatMap((p) => [...tokenizeCode(p.name), ...tokenizeCode(p.type ?? '')]),
    ...tokenizeCode(spec.ast.return_type ?? ''),
  ];
  return [...new Set(terms)];
}

/** A spec as one line of prose for an embedding model: name, signature and description. */
export function specQueryText(spec: GenSpec): string {
  const params = spec.ast.parameters.map((p) => (p.type === undefined ? p.name : `${p.name}: ${p.type}`));
  const returns = spec.ast.return_type === undefined ? '' : ` -> ${spec.ast.return_type}`;
  return `${spec.function_name}(${params.join(', ')})${returns}: ${spec.description ?? ''}`.trim();
}

/**
 * The chunk languages a spec's language can use: `python` for a Python spec; `typescript`,
 * `tsx` and `javascript` for a TypeScript or JavaScript spec (either can call the other's code
 * once compiled, and their functions translate line for line).
 */
export function specLanguages(language: GenSpec['language']): Language[] {
  return language === 'python' ? ['python'] : ['typescript', 'tsx', 'javascript'];
}

// ---------------------------------------------------------------------------------------------
// The index

/** A chunk found by a search. */
export interface RetrievedChunk {
  /** Chunk id, `'<file>#<qualified.name>'` (the manifest's). */
  id: string;
  /** Declared name (the file path for a module chunk). */
  name: string;
  /** Manifest chunk kind: `function`, `method`, `class`, `variable` (a function held in a variable) or `module`. */
  kind: string;
  /** Manifest language: `python`, `typescript`, `tsx`, `javascript` or `go`. */
  language: string;
  /** Repo-relative path, forward slashes. */
  file: string;
  /** BM25 score; after {@link rerankWithEmbeddings}, the reciprocal rank fusion score. Higher is better. */
  score: number;
  /**
   * The chunk's source as in the file, nested chunks included (a class holds its methods), from
   * the start of its first line when only indentation precedes it there, so that a method keeps
   * its indentation throughout; decorators and the comments right above it are part of a chunk.
   */
  text: string;
  /** 1-based line of the chunk's first character. */
  startLine: number;
}

/** Options of {@link ChunkIndex.search}. */
export interface SearchOptions {
  /** Most results to return (default 10; `Infinity` for every chunk that scores above 0). */
  limit?: number;
  /** Keep only chunks of these manifest languages (see {@link specLanguages}). */
  languages?: readonly string[];
  /** Keep only chunks of these manifest kinds. */
  kinds?: readonly string[];
}

/** Embeds texts: one vector per text, any dimension, in order (`Embedder.embed` of src/predict/embeddings.ts). */
export type EmbedTexts = (texts: string[]) => Promise<Float32Array[]>;

/** Options of {@link ChunkIndex.searchHybrid}. */
export interface HybridSearchOptions extends SearchOptions {
  embed: EmbedTexts;
  /** Text embedded for the query (default: the query terms joined with spaces, or the query string). */
  queryText?: string;
  /** BM25 results re-ranked (default `max(50, 5 * limit)`). */
  pool?: number;
}

/** A BM25 index over the chunks of a snapshot, built by {@link buildChunkIndex}. */
export interface ChunkIndex {
  /**
   * Chunks by Okapi BM25 score (k1 = 1.2, b = 0.75; Robertson & Zaragoza 2009), best first,
   * ties by id; chunks that share no term with the query are never returned. A string query is
   * tokenized with {@link tokenizeCode}; an array is taken as terms already made
   * ({@link specQueryTerms}, {@link tokenizeCode}), duplicates counting once.
   */
  search(query: string[] | string, options?: SearchOptions): RetrievedChunk[];
  /**
   * BM25 search whose top `pool` results are re-ranked by reciprocal rank fusion with their
   * cosine similarity to the query's embedding ({@link rerankWithEmbeddings}).
   */
  searchHybrid(query: string[] | string, options: HybridSearchOptions): Promise<RetrievedChunk[]>;
  /** Number of chunks indexed (documents). */
  readonly size: number;
}

/** Options of {@link buildChunkIndex}. */
export interface BuildChunkIndexOptions {
  /** Chunk kinds indexed (default `function`, `method`, `class`). */
  kinds?: readonly string[];
  /** Index module chunks too, on their own code (default false: a module's text repeats its functions'). */
  includeModules?: boolean;
  /**
   * Index JavaScript/TypeScript `variable` chunks that hold a function (`const f = (a) => ...`,
   * `const f = function () {}`), which the chunker does not call functions (default true).
   */
  includeFunctionValues?: boolean;
  /** Index only chunks of these languages (default: all). */
  languages?: readonly string[];
}

interface IndexedChunk {
  chunk: ManifestChunk;
  text: string;
}

/** `const f = (`, `let f = async x =>`, `var f = function`: a variable chunk that may hold a function. */
const FUNCTION_VALUE =
  /\b(?:const|let|var)\s+[A-Za-z_$][\w$]*\s*(?::[^=]*)?=\s*(?:async\s+)?(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>)/;

/**
 * Builds a BM25 index (Okapi BM25, k1 = 1.2, b = 0.75: S. Robertson and H. Zaragoza, "The
 * Probabilistic Relevance Framework: BM25 and Beyond", Foundations and Trends in Information
 * Retrieval 3(4), 2009) over the chunks of a snapshot, one document per chunk. A document's
 * terms are its qualified name's terms counted three times (a field weight, BM25F-like) with
 * their bigrams, and the terms of its own code ({@link tokenizeCode}: identifiers split into
 * sub-tokens, the words of docstrings and comments; stop words and keywords dropped). A class's
 * own code leaves out its methods, which are documents of their own. IDF is
 * `ln(1 + (N - df + 0.5) / (df + 0.5))`, the form that stays positive for common terms.
 *
 * `source` is the snapshot's manifest, or the snapshot itself (its manifest is then loaded);
 * from a root's head: `withHeadSnapshot({ root }, ({ store, manifest }) => buildChunkIndex(store, manifest))`.
 * Every file with an indexed chunk is re-assembled from the store once; the index keeps the
 * chunks' texts in memory.
 *
 * @throws NotFoundError / StoreError from the store when a file of the snapshot cannot be rebuilt.
 */
export async function buildChunkIndex(
  store: ChunkStore,
  source: Manifest | Snapshot,
  options: BuildChunkIndexOptions = {},
): Promise<ChunkIndex> {
  const manifest = await resolveManifest(store, source);
  const kinds = new Set(options.kinds ?? DEFAULT_INDEX_KINDS);
  if (options.includeModules) kinds.add('module');
  const languages = options.languages === undefined ? undefined : new Set(options.languages);
  const functionValues = options.includeFunctionValues ?? true;

  const chunksByFile = groupByFile(manifest.chunks);
  const candidates = manifest.chunks.filter(
    (c) =>
      (languages === undefined || languages.has(c.language)) &&
      (kinds.has(c.kind) || (functionValues && c.kind === 'variable' && c.language !== 'python')),
  );
  const files = await readFiles(store, manifest, [...new Set(candidates.map((c) => c.file))]);

  const docs: IndexedChunk[] = [];
  const termCounts: Array<Map<string, number>> = [];
  for (const c of candidates) {
    const bytes = files.get(c.file);
    if (bytes === undefined) continue;
    const text = chunkText(bytes, c);
    if (!kinds.has(c.kind) && !FUNCTION_VALUE.test(text)) continue;
    const counts = new Map<string, number>();
    const add = (term: string, weight: number) => counts.set(term, (counts.get(term) ?? 0) + weight);
    const localId = c.kind === 'module' ? '' : c.id.slice(c.file.length + 1);
    for (const term of nameTerms(localId === '' ? c.name : localId)) add(term, NAME_WEIGHT);
    const own =
      c.kind === 'class' || c.kind === 'module' ? ownText(bytes, c, chunksByFile.get(c.file)!) : text;
    for (const term of tokenizeCode(own)) add(term, 1);
    docs.push({ chunk: c, text });
    termCounts.push(counts);
  }
  return new Bm25Index(docs, termCounts);
}

class Bm25Index implements ChunkIndex {
  readonly #docs: IndexedChunk[];
  readonly #lengths: Float64Array;
  readonly #avgLength: number;
  /** term -> [document indexes, term frequencies], both in document order. */
  readonly #postings = new Map<string, { docs: number[]; tfs: number[] }>();

  constructor(docs: IndexedChunk[], termCounts: Array<Map<string, number>>) {
    this.#docs = docs;
    this.#lengths = new Float64Array(docs.length);
    let total = 0;
    termCounts.forEach((counts, d) => {
      let length = 0;
      for (const [term, tf] of counts) {
        length += tf;
        let posting = this.#postings.get(term);
        if (posting === undefined) {
          posting = { docs: [], tfs: [] };
          this.#postings.set(term, posting);
        }
        posting.docs.push(d);
        posting.tfs.push(tf);
      }
      this.#lengths[d] = length;
      total += length;
    });
    this.#avgLength = docs.length === 0 ? 1 : Math.max(1, total / docs.length);
  }

  get size(): number {
    return this.#docs.length;
  }

  search(query: string[] | string, options: SearchOptions = {}): RetrievedChunk[] {
    const terms = new Set(
      typeof query === 'string' ? tokenizeCode(query) : query.map((t) => t.toLowerCase()),
    );
    const languages = options.languages === undefined ? undefined : new Set(options.languages);
    const kinds = options.kinds === undefined ? undefined : new Set(options.kinds);
    const limit = options.limit ?? 10;
    const n = this.#docs.length;
    const scores = new Float64Array(n);
    const touched: number[] = [];
    for (const term of terms) {
      const posting = this.#postings.get(term);
      if (posting === undefined) continue;
      const df = posting.docs.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (let i = 0; i < df; i++) {
        const d = posting.docs[i]!;
        const tf = posting.tfs[i]!;
        const norm = BM25_K1 * (1 - BM25_B + (BM25_B * this.#lengths[d]!) / this.#avgLength);
        if (scores[d] === 0) touched.push(d);
        scores[d] = scores[d]! + (idf * tf * (BM25_K1 + 1)) / (tf + norm);
      }
    }
    const hits = touched.filter((d) => {
      const c = this.#docs[d]!.chunk;
      return (
        (languages === undefined || languages.has(c.language)) && (kinds === undefined || kinds.has(c.kind))
      );
    });
    hits.sort(
      (a, b) => scores[b]! - scores[a]! || compareStrings(this.#docs[a]!.chunk.id, this.#docs[b]!.chunk.id),
    );
    return hits.slice(0, limit).map((d) => toRetrieved(this.#docs[d]!, scores[d]!));
  }

  async searchHybrid(query: string[] | string, options: HybridSearchOptions): Promise<RetrievedChunk[]> {
    const limit = options.limit ?? 10;
    const pool = options.pool ?? Math.max(50, 5 * limit);
    const ranked = this.search(query, { ...options, limit: pool });
    const queryText = options.queryText ?? (typeof query === 'string' ? query : query.join(' '));
    return (await rerankWithEmbeddings(queryText, ranked, options.embed)).slice(0, limit);
  }
}

function toRetrieved(doc: IndexedChunk, score: number): RetrievedChunk {
  const c = doc.chunk;
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    language: c.language,
    file: c.file,
    score,
    text: doc.text,
    startLine: c.startLine,
  };
}

/**
 * Re-ranks ranked items by reciprocal rank fusion (G. Cormack, C. Clarke and S. Büttcher,
 * "Reciprocal Rank Fusion outperforms Condorcet and individual Rank Learning Methods", SIGIR
 * 2009) of their given rank and their rank by cosine similarity between the embedding of
 * `queryText` and of their `text` (first 4,000 characters): score `1/(k + r1) + 1/(k + r2)` with
 * 1-based ranks and k = 60. Returns new objects, best first, `score` set to the fused score;
 * ties keep the given order. One call to `embed` with the query first.
 * @throws what `embed` throws; Error when it returns fewer vectors than texts.
 */
export async function rerankWithEmbeddings<T extends { text: string; score: number }>(
  queryText: string,
  ranked: readonly T[],
  embed: EmbedTexts,
  k = RRF_K,
): Promise<T[]> {
  if (ranked.length === 0) return [];
  const vectors = await embed([queryText, ...ranked.map((r) => r.text.slice(0, EMBED_CHARS))]);
  if (vectors.length < ranked.length + 1) {
    throw new Error(`the embedding hook returned ${vectors.length} vectors for ${ranked.length + 1} texts`);
  }
  const query = vectors[0]!;
  const similarity = ranked.map((_, i) => cosineSimilarity(query, vectors[i + 1]!));
  const denseOrder = ranked.map((_, i) => i).sort((a, b) => similarity[b]! - similarity[a]! || a - b);
  const denseRank = new Array<number>(ranked.length);
  denseOrder.forEach((item, rank) => {
    denseRank[item] = rank + 1;
  });
  const fused = ranked.map((item, i) => ({ ...item, score: 1 / (k + i + 1) + 1 / (k + denseRank[i]!) }));
  return fused
    .map((item, i) => [item, i] as const)
    .sort((a, b) => b[0].score - a[0].score || a[1] - b[1])
    .map(([item]) => item);
}

function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * The best-scoring chunks whose texts fit together within `budgetChars` characters (UTF-16 code
 * units, `text.length`), best first: chunks are taken by descending score (ties in the given
 * order) and one too long for what is left is skipped, never cut, so a shorter one after it may
 * still fit. `overheadChars` is added per chunk taken (the header a prompt puts above each).
 */
export function selectForPrompt(
  chunks: readonly RetrievedChunk[],
  budgetChars: number,
  overheadChars = 0,
): RetrievedChunk[] {
  const order = chunks.map((c, i) => [c, i] as const).sort((a, b) => b[0].score - a[0].score || a[1] - b[1]);
  const out: RetrievedChunk[] = [];
  let left = budgetChars;
  for (const [c] of order) {
    const cost = c.text.length + overheadChars;
    if (cost > left) continue;
    out.push(c);
    left -= cost;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Store access

async function resolveManifest(store: ChunkStore, source: Manifest | Snapshot): Promise<Manifest> {
  return 'chunks' in source ? source : loadSnapshotManifest(store, source);
}

function groupByFile(chunks: readonly ManifestChunk[]): Map<string, ManifestChunk[]> {
  const out = new Map<string, ManifestChunk[]>();
  for (const c of chunks) {
    const list = out.get(c.file);
    if (list === undefined) out.set(c.file, [c]);
    else list.push(c);
  }
  return out;
}

/** The bytes of files of the snapshot, re-assembled from the store; skipped files are absent. */
async function readFiles(
  store: ChunkStore,
  manifest: Manifest,
  paths: string[],
): Promise<Map<string, Buffer>> {
  const byPath = new Map(manifest.files.map((f) => [f.path, f]));
  const wanted = paths.filter((p) => {
    const f = byPath.get(p);
    return f !== undefined && f.status !== 'skipped';
  });
  const out = new Map<string, Buffer>();
  for (let i = 0; i < wanted.length; i += READ_CONCURRENCY) {
    const batch = wanted.slice(i, i + READ_CONCURRENCY);
    const read = await Promise.all(batch.map((p) => store.readFileBytes(byPath.get(p)!.sha256)));
    batch.forEach((p, k) => {
      out.set(p, read[k]!);
    });
  }
  return out;
}

/** A chunk's text (see {@link RetrievedChunk.text}): its byte range, from the line start when only indentation precedes it. */
function chunkText(bytes: Buffer, c: ManifestChunk): string {
  let start = c.startByte;
  while (start > 0 && (bytes[start - 1] === 0x20 || bytes[start - 1] === 0x09)) start--;
  if (start > 0 && bytes[start - 1] !== 0x0a) start = c.startByte;
  return bytes.toString('utf8', start, c.endByte);
}

/** A chunk's own code: its range less the ranges of the chunks of its file nested in it. */
function ownText(bytes: Buffer, c: ManifestChunk, fileChunks: readonly ManifestChunk[]): string {
  const nested = fileChunks
    .filter(
      (o) =>
        o !== c &&
        o.startByte >= c.startByte &&
        o.endByte <= c.endByte &&
        !(o.startByte === c.startByte && o.endByte === c.endByte),
    )
    .sort((a, b) => a.startByte - b.startByte);
  const parts: string[] = [];
  let at = c.startByte;
  for (const o of nested) {
    if (o.startByte < at) continue;
    parts.push(bytes.toString('utf8', at, o.startByte));
    at = o.endByte;
  }
  parts.push(bytes.toString('utf8', at, c.endByte));
  return parts.join('\n');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Signatures (tree-sitter)

/** The parameter list of a function, as the `retrieve` technique reads it. */
export interface FunctionSignature {
  /** Declared name (of the function, or of the variable holding it). */
  name: string;
  /**
   * Parameters a call must give: Python, those without a default (keyword-only ones included);
   * JavaScript/TypeScript, the position of the last one without a default or `?`, plus one
   * (earlier ones must be passed to reach it). `*args`, `**kwargs`, rest and TypeScript's `this` never count.
   */
  required: number;
  /**
   * Most arguments accepted: the named parameters; `Infinity` with a JavaScript/TypeScript rest
   * parameter. A Python `*args` does not raise it, since the examples call Python functions
   * with keyword arguments (`fn(**input)`), which `*args` cannot take.
   */
  total: number;
  /** Names of the named parameters in order (`null` for a destructuring pattern). */
  names: Array<string | null>;
  /** Python `**kwargs`. */
  kwargs: boolean;
  /** `*args` (Python) or `...rest` (JavaScript/TypeScript). */
  variadic: boolean;
}

interface ParamSlot {
  name: string | null;
  required: boolean;
}

interface ParsedFunction {
  root: Parser.SyntaxNode;
  /** The function node (`function_definition`, `function_declaration`, `arrow_function`, ...). */
  fn: Parser.SyntaxNode;
  signature: FunctionSignature;
  params: ParamSlot[];
  /** Python positional-only parameters (`/`). */
  positionalOnly: boolean;
  /** A `default` token of `export default function f` to drop, as [start, end) of the text. */
  exportDefault?: [number, number];
}

let parser: Parser | undefined;

async function parseCode(text: string, language: Language): Promise<Parser.Tree> {
  if (parser === undefined) {
    const { default: ParserCtor } = await import('tree-sitter');
    parser = new ParserCtor();
  }
  const grammar = await loadGrammar(language);
  parser.setLanguage(grammar);
  return parser.parse(text, undefined, { bufferSize: Math.max(32 * 1024, text.length * 2 + 2) });
}

/**
 * The signature of the first top-level function declared in `code` (a function chunk's text:
 * Python `def`, decorated or not; JavaScript/TypeScript `function`, exported or not, or one
 * `const`/`let`/`var` holding an arrow function or function expression), parsed with
 * tree-sitter. `undefined` when there is none, the code does not parse cleanly, or a parameter
 * is of a form not understood (a Python 2 tuple parameter). Go is not supported.
 */
export async function readFunctionSignature(
  code: string,
  language: Language,
): Promise<FunctionSignature | undefined> {
  return (await parseFunction(code, language))?.signature;
}

async function parseFunction(code: string, language: Language): Promise<ParsedFunction | undefined> {
  if (language === 'go') return undefined;
  const tree = await parseCode(code, language);
  if (tree.rootNode.hasError) return undefined;
  return language === 'python' ? parsePythonFunction(tree.rootNode) : parseJsFunction(tree.rootNode);
}

function firstDeclaration(root: Parser.SyntaxNode): Parser.SyntaxNode | undefined {
  return root.namedChildren.find((n) => n.type !== 'comment');
}

function parsePythonFunction(root: Parser.SyntaxNode): ParsedFunction | undefined {
  let fn = firstDeclaration(root);
  if (fn?.type === 'decorated_definition') fn = fn.childForFieldName('definition') ?? undefined;
  if (fn?.type !== 'function_definition') return undefined;
  const name = fn.childForFieldName('name')?.text;
  const list = fn.childForFieldName('parameters');
  if (name === undefined || list === null) return undefined;
  const params: ParamSlot[] = [];
  let kwargs = false;
  let variadic = false;
  let positionalOnly = false;
  for (const p of list.namedChildren) {
    switch (p.type) {
      case 'comment':
        break;
      case 'identifier':
        params.push({ name: p.text, required: true });
        break;
      case 'typed_parameter': {
        const inner = p.namedChildren[0];
        if (inner?.type === 'identifier') params.push({ name: inner.text, required: true });
        else if (inner?.type === 'list_splat_pattern') variadic = true;
        else if (inner?.type === 'dictionary_splat_pattern') kwargs = true;
        else return undefined;
        break;
      }
      case 'default_parameter':
      case 'typed_default_parameter': {
        const n = p.childForFieldName('name');
        if (n?.type !== 'identifier') return undefined;
        params.push({ name: n.text, required: false });
        break;
      }
      case 'list_splat_pattern':
        variadic = true;
        break;
      case 'dictionary_splat_pattern':
        kwargs = true;
        break;
      case 'keyword_separator':
        break;
      case 'positional_separator':
        positionalOnly = true;
        break;
      default:
        return undefined;
    }
  }
  return {
    root,
    fn,
    params,
    positionalOnly,
    signature: {
      name,
      required: params.filter((p) => p.required).length,
      total: params.length,
      names: params.map((p) => p.name),
      kwargs,
      variadic,
    },
  };
}

const JS_FUNCTION_DECLARATIONS = new Set(['function_declaration', 'generator_function_declaration']);
const JS_FUNCTION_VALUES = new Set([
  'arrow_function',
  'function_expression',
  'function',
  'generator_function',
]);

function parseJsFunction(root: Parser.SyntaxNode): ParsedFunction | undefined {
  const top = firstDeclaration(root);
  if (top === undefined) return undefined;
  let decl: Parser.SyntaxNode | null = top;
  let exportDefault: [number, number] | undefined;
  if (top.type === 'export_statement') {
    decl = top.childForFieldName('declaration');
    const token = top.children.find((c) => c.type === 'default');
    if (token !== undefined) exportDefault = [token.startIndex, decl?.startIndex ?? token.endIndex];
  }
  if (decl === null) return undefined;
  let fn: Parser.SyntaxNode | undefined;
  let name: string | undefined;
  if (JS_FUNCTION_DECLARATIONS.has(decl.type)) {
    fn = decl;
    name = decl.childForFieldName('name')?.text;
  } else if (decl.type === 'lexical_declaration' || decl.type === 'variable_declaration') {
    const declarators = decl.namedChildren.filter((c) => c.type === 'variable_declarator');
    const value = declarators[0]?.childForFieldName('value');
    const id = declarators[0]?.childForFieldName('name');
    if (
      declarators.length === 1 &&
      value &&
      JS_FUNCTION_VALUES.has(value.type) &&
      id?.type === 'identifier'
    ) {
      fn = value;
      name = id.text;
    }
  }
  if (fn === undefined || name === undefined || fn.childForFieldName('body') === null) return undefined;
  const params: ParamSlot[] = [];
  let variadic = false;
  const single = fn.childForFieldName('parameter');
  const list = fn.childForFieldName('parameters');
  const nodes = single !== null ? [single] : (list?.namedChildren ?? []);
  for (const p of nodes) {
    let pattern: Parser.SyntaxNode | null = p;
    let required = true;
    if (p.type === 'comment') continue;
    if (p.type === 'required_parameter' || p.type === 'optional_parameter') {
      pattern = p.childForFieldName('pattern');
      required = p.type === 'required_parameter' && p.childForFieldName('value') === null;
    } else if (p.type === 'assignment_pattern') {
      pattern = p.childForFieldName('left');
      required = false;
    }
    if (pattern === null || pattern.type === 'this') continue;
    if (pattern.type === 'rest_pattern') {
      variadic = true;
      continue;
    }
    params.push({ name: pattern.type === 'identifier' ? pattern.text : null, required });
  }
  let required = 0;
  params.forEach((p, i) => {
    if (p.required) required = i + 1;
  });
  const parsed: ParsedFunction = {
    root,
    fn,
    params,
    positionalOnly: false,
    signature: {
      name,
      required,
      total: variadic ? Number.POSITIVE_INFINITY : params.length,
      names: params.map((p) => p.name),
      kwargs: false,
      variadic,
    },
  };
  if (exportDefault !== undefined) parsed.exportDefault = exportDefault;
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// Fitting and renaming

/** How a function's parameters take the spec's arguments. */
type ParameterFit = { fits: false } | { fits: true; renames: Map<string, string> };

/**
 * Whether a function can be called as the spec's examples call it. With `n` spec parameters of
 * which `nr` have no default, JavaScript/TypeScript (positional calls, names free) need
 * `required <= nr` and `n <= total`. Python is called with keywords (`fn(**input)`): either the
 * spec's names are the function's (any order; names it lacks go to its `**kwargs`) and each
 * parameter it requires is one the spec requires; or else its first `n` named parameters are
 * renamed to the spec's names, which needs `n <= total`, and a parameter past `nr` or past `n`
 * to have a default. Positional-only parameters (`/`) never fit a Python spec.
 */
function fitParameters(parsed: ParsedFunction, spec: GenSpec, language: Language): ParameterFit {
  const specParams = spec.ast.parameters;
  const n = specParams.length;
  const nr = specParams.filter((p) => p.default === undefined).length;
  const { signature, params } = parsed;
  if (language !== 'python') {
    return signature.required <= nr && n <= signature.total
      ? { fits: true, renames: new Map() }
      : { fits: false };
  }
  if (parsed.positionalOnly) return { fits: false };
  const specRequired = new Map(specParams.map((p) => [p.name, p.default === undefined]));
  const byName = specParams.every((p) => signature.kwargs || params.some((q) => q.name === p.name));
  if (byName && params.every((q) => !q.required || specRequired.get(q.name ?? '') === true)) {
    return { fits: true, renames: new Map() };
  }
  if (n > params.length) return { fits: false };
  for (let i = 0; i < params.length; i++) {
    if (params[i]!.required && i >= n) return { fits: false };
    if (params[i]!.required && specParams[i]?.default !== undefined) return { fits: false };
  }
  const renames = new Map<string, string>();
  for (let i = 0; i < n; i++) {
    const from = params[i]!.name!;
    const to = specParams[i]!.name;
    if (from !== to) renames.set(from, to);
  }
  return { fits: true, renames };
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

/** Nodes under `node` (itself included) in source order, not entering those `skip` holds. */
function* descendants(
  node: Parser.SyntaxNode,
  skip: ReadonlySet<string> = new Set(),
): Generator<Parser.SyntaxNode> {
  const stack = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (skip.has(nodeKey(n))) continue;
    yield n;
    for (let i = n.namedChildCount - 1; i >= 0; i--) stack.push(n.namedChild(i)!);
  }
}

function nodeKey(node: Parser.SyntaxNode): string {
  return `${node.type}:${node.startIndex}:${node.endIndex}`;
}

/**
 * The parts of a Python function evaluated in the scope around it, not its own: its
 * parameters' default values and annotations and its return annotation.
 */
function outerScopeParts(fn: Parser.SyntaxNode): Set<string> {
  const out = new Set<string>();
  const returns = fn.childForFieldName('return_type');
  if (returns !== null) out.add(nodeKey(returns));
  for (const p of fn.childForFieldName('parameters')?.namedChildren ?? []) {
    for (const field of ['value', 'type']) {
      const part = p.childForFieldName(field);
      if (part !== null) out.add(nodeKey(part));
    }
  }
  return out;
}

function isField(parent: Parser.SyntaxNode | null, field: string, node: Parser.SyntaxNode): boolean {
  const child = parent?.childForFieldName(field);
  return child != null && child.startIndex === node.startIndex && child.endIndex === node.endIndex;
}

const PY_BINDING_STATEMENTS = new Set([
  'import_statement',
  'import_from_statement',
  'future_import_statement',
  'global_statement',
  'nonlocal_statement',
]);

function insideAny(node: Parser.SyntaxNode, types: ReadonlySet<string>): boolean {
  for (let n = node.parent; n !== null; n = n.parent) if (types.has(n.type)) return true;
  return false;
}

/**
 * Edits that rename, in a Python function's text, every identifier spelled as the function or
 * as a renamed parameter. Attribute names (`o.x`) and keyword names (`f(x=1)`) are left alone,
 * except keyword names in a recursive call, which name the function's own parameters. A
 * uniform rename inside one function keeps its meaning (the parameter shadows any outer name in
 * every nested scope) as long as no new name is already used in it and no renamed name is bound
 * by an `import` or declared `global`/`nonlocal`: both make the candidate refused (`undefined`).
 * Decorators, default values and annotations of the function's own parameters are evaluated
 * around it, so they are neither renamed nor checked. Not seen: names used through strings (`eval`, `locals()`, `getattr(self, 'x')`).
 */
function pythonRenameEdits(
  fn: Parser.SyntaxNode,
  originalName: string,
  newName: string,
  renames: ReadonlyMap<string, string>,
): Edit[] | undefined {
  const targets = new Set([newName, ...renames.values()]);
  const sources = new Set([originalName, ...renames.keys()]);
  if (renames.has(originalName) || [...renames.values()].includes(newName)) return undefined;
  const edits: Edit[] = [];
  for (const node of descendants(fn, outerScopeParts(fn))) {
    if (node.type !== 'identifier') continue;
    const text = node.text;
    const parent = node.parent;
    if (parent?.type === 'attribute' && isField(parent, 'attribute', node)) continue;
    if (parent?.type === 'keyword_argument' && isField(parent, 'name', node)) {
      const call = parent.parent?.parent;
      const callee = call?.type === 'call' ? call.childForFieldName('function') : null;
      const to = renames.get(text);
      if (to !== undefined && callee?.type === 'identifier' && callee.text === originalName) {
        edits.push({ start: node.startIndex, end: node.endIndex, text: to });
      }
      continue;
    }
    if (sources.has(text)) {
      if (insideAny(node, PY_BINDING_STATEMENTS)) return undefined;
      const to = text === originalName ? newName : renames.get(text)!;
      if (to !== text) edits.push({ start: node.startIndex, end: node.endIndex, text: to });
    } else if (targets.has(text)) {
      return undefined;
    }
  }
  return edits;
}

/**
 * Edits that rename a JavaScript/TypeScript function (identifiers spelled as it: its
 * declaration and recursive calls; a shorthand property `{ f }` becomes `{ f: g }`). Property
 * names and types are left alone. `undefined` when the new name is already used in the text or
 * the old one is bound by destructuring shorthand (`const { f } = o`).
 */
function jsRenameEdits(root: Parser.SyntaxNode, originalName: string, newName: string): Edit[] | undefined {
  const edits: Edit[] = [];
  if (originalName === newName) return edits;
  for (const node of descendants(root)) {
    const { type } = node;
    if (
      type !== 'identifier' &&
      type !== 'shorthand_property_identifier' &&
      type !== 'shorthand_property_identifier_pattern'
    ) {
      continue;
    }
    const text = node.text;
    if (text === newName) return undefined;
    if (text !== originalName) continue;
    if (type === 'shorthand_property_identifier_pattern') return undefined;
    const replacement = type === 'shorthand_property_identifier' ? `${originalName}: ${newName}` : newName;
    edits.push({ start: node.startIndex, end: node.endIndex, text: replacement });
  }
  return edits;
}

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
  }
  return out;
}

/** A function chunk with a fitting signature, renamed to a spec's name. */
interface AdaptedChunk {
  code: string;
  originalName: string;
}

/**
 * A function's text with its name (and recursive references) changed to `spec.function_name`
 * and, for Python, its parameters renamed to the spec's where the fit needs it; `undefined`
 * when it is not a function, its parameters do not fit, or the rename is refused.
 */
async function adaptFunction(
  code: string,
  language: Language,
  spec: GenSpec,
): Promise<AdaptedChunk | undefined> {
  const parsed = await parseFunction(code, language);
  if (parsed === undefined) return undefined;
  const fit = fitParameters(parsed, spec, language);
  if (!fit.fits) return undefined;
  const originalName = parsed.signature.name;
  const edits =
    language === 'python'
      ? pythonRenameEdits(parsed.fn, originalName, spec.function_name, fit.renames)
      : jsRenameEdits(parsed.root, originalName, spec.function_name);
  if (edits === undefined) return undefined;
  if (parsed.exportDefault !== undefined) {
    edits.push({ start: parsed.exportDefault[0], end: parsed.exportDefault[1], text: '' });
  }
  return { code: applyEdits(code, edits), originalName };
}

// ---------------------------------------------------------------------------------------------
// The retrieve technique

/** An existing function proposed for a spec, ready for verification. */
export interface RetrieveCandidate {
  /** Id of the chunk it comes from. */
  chunkId: string;
  /** BM25 score of the chunk for the spec's query; the fused score when `embed` was given. */
  score: number;
  /** The chunk's language (its module's): `python`, `typescript`, `tsx` or `javascript`. */
  language: Language;
  /**
   * The chunk's function text (with its decorators and the comments right above it) with its
   * declared name and recursive self-references renamed to `spec.function_name`, and for Python
   * its parameters renamed to the spec's where names had to be adapted. `export default`
   * becomes `export`, so that appending it to its module cannot add a second default export.
   */
  code: string;
  /** The function's original name. */
  originalName: string;
  /**
   * Files to run it in: its own module and every file that module needs, by repo-relative path,
   * each re-assembled byte for byte from the store (decoded as UTF-8). The code is meant to be
   * appended to `files[modulePath]`, so that the module's imports and helpers are in scope.
   */
  context: {
    files: Record<string, string>;
    modulePath: string;
    /**
     * Where the original function is in `files[modulePath]`, in UTF-16 code units, [start, end).
     * When `spec.function_name` is the original name, JavaScript/TypeScript refuse a second
     * declaration of it: cut this span before appending.
     */
    chunkSpan: { start: number; end: number };
  };
}

/** Options of {@link findRetrieveCandidates}. */
export interface FindRetrieveCandidatesOptions {
  /** Most candidates to return (default 5). */
  limit?: number;
  /** An index of the same snapshot already built (else one is built with the defaults). */
  index?: ChunkIndex;
  /**
   * Re-rank the fitting chunks by reciprocal rank fusion of their BM25 rank and their embedding's
   * cosine similarity to the spec's ({@link rerankWithEmbeddings}, k = 60); the pool re-ranked is
   * the `max(20, 4 * limit)` best-scoring fitting chunks.
   */
  embed?: EmbedTexts;
}

/**
 * The `retrieve` technique of `ccx gen` (no model): existing functions of the snapshot whose
 * signature fits the spec, renamed to it, best first, at most `limit`.
 *
 * Considered: chunks of the spec's language family ({@link specLanguages}) that are top-level
 * functions — kind `function`, plus JavaScript/TypeScript `const f = (...) => ...` variables;
 * never methods (a Python `@staticmethod` at the top level is a decorated function and counts);
 * ranked by BM25 for {@link specQueryTerms}, the best 2,000 parsed at most. A chunk fits when its parameter list, parsed with
 * tree-sitter, can take the spec's arguments: positionally for JavaScript/TypeScript (required
 * <= the spec's required, the spec's count <= total, rest = no bound); by keyword for Python
 * (the spec's names match, or the first parameters are renamed to them throughout the body; see
 * {@link FunctionSignature}). Types and return types are not compared: verification decides.
 *
 * The files of a candidate are its module and, transitively, the files of the chunks any chunk
 * of an included file depends on (`ManifestChunk.deps`): running a module runs all of it, so its
 * imports must resolve too, not only the function's. For Python, the `__init__.py` of each
 * package above an included file is included (with its own needs), as an import runs it.
 *
 * Limits: the rename is lexical within the function (see the Python and JavaScript rules in the
 * source); names used through strings are not renamed; Go chunks are never candidates.
 *
 * @throws NotFoundError / StoreError from the store when a file cannot be rebuilt.
 */
export async function findRetrieveCandidates(
  store: ChunkStore,
  source: Manifest | Snapshot,
  spec: GenSpec,
  options: FindRetrieveCandidatesOptions = {},
): Promise<RetrieveCandidate[]> {
  const limit = options.limit ?? 5;
  if (limit <= 0) return [];
  const manifest = await resolveManifest(store, source);
  const index = options.index ?? (await buildChunkIndex(store, manifest));
  const hits = index.search(specQueryTerms(spec), {
    languages: specLanguages(spec.language),
    kinds: ['function', 'variable'],
    limit: Number.POSITIVE_INFINITY,
  });
  const wanted = options.embed === undefined ? limit : Math.max(20, 4 * limit);
  const fitting: Array<{ hit: RetrievedChunk; adapted: AdaptedChunk }> = [];
  for (const hit of hits.slice(0, MAX_SCANNED)) {
    if (fitting.length >= wanted) break;
    // A top-level chunk's local id is its bare name; a nested one's is qualified (`C.m`).
    if (hit.id.slice(hit.file.length + 1).includes('.')) continue;
    const adapted = await adaptFunction(hit.text, hit.language as Language, spec);
    if (adapted !== undefined) fitting.push({ hit, adapted });
  }
  let chosen = fitting.map((f) => ({ ...f, score: f.hit.score, text: f.hit.text }));
  if (options.embed !== undefined) {
    chosen = await rerankWithEmbeddings(specQueryText(spec), chosen, options.embed);
  }
  chosen = chosen.slice(0, limit);
  if (chosen.length === 0) return [];

  const chunkById = new Map(manifest.chunks.map((c) => [c.id, c]));
  const chunksByFile = groupByFile(manifest.chunks);
  const filePaths = new Set(manifest.files.filter((f) => f.status !== 'skipped').map((f) => f.path));
  const closures = chosen.map(({ hit }) => moduleClosure(hit.file, chunksByFile, chunkById, filePaths));
  const texts = await readFiles(store, manifest, [...new Set(closures.flat())]);
  return chosen.map(({ hit, adapted, score }, i) => {
    const chunk = chunkById.get(hit.id)!;
    const files: Record<string, string> = {};
    for (const p of closures[i]!) {
      const bytes = texts.get(p);
      if (bytes !== undefined) files[p] = bytes.toString('utf8');
    }
    const module = texts.get(hit.file)!;
    const start = module.toString('utf8', 0, chunk.startByte).length;
    const end = start + module.toString('utf8', chunk.startByte, chunk.endByte).length;
    return {
      chunkId: hit.id,
      score,
      language: hit.language as Language,
      code: adapted.code,
      originalName: adapted.originalName,
      context: { files, modulePath: hit.file, chunkSpan: { start, end } },
    };
  });
}

/**
 * The files running `file` needs, itself first then sorted: the files of the chunks that chunks
 * of an included file depend on, transitively, and for Python the packages' `__init__.py`.
 */
function moduleClosure(
  file: string,
  chunksByFile: ReadonlyMap<string, readonly ManifestChunk[]>,
  chunkById: ReadonlyMap<string, ManifestChunk>,
  filePaths: ReadonlySet<string>,
): string[] {
  const seen = new Set<string>([file]);
  const stack = [file];
  const visit = (p: string) => {
    if (seen.has(p) || !filePaths.has(p)) return;
    seen.add(p);
    stack.push(p);
  };
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const c of chunksByFile.get(current) ?? []) {
      for (const dep of c.deps) {
        const target = chunkById.get(dep);
        if (target !== undefined) visit(target.file);
      }
    }
    if (current.endsWith('.py')) {
      const parts = current.split('/');
      for (let i = parts.length - 1; i > 0; i--) visit(`${parts.slice(0, i).join('/')}/__init__.py`);
    }
  }
  const rest = [...seen].filter((p) => p !== file).sort();
  return [file, ...rest];
}
