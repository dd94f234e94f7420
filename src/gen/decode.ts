/**
 * ccx's decoding loop over a {@link CausalLM}: greedy, top-k / top-p sampling with a seed, and
 * beam search with all beams in one batched session run per step, all with a KV cache, all
 * stopping at the end of the function, and all optionally syntax-aware (src/gen/syntax.ts).
 *
 * Scores are sums of the model's log-softmax over the whole vocabulary; pruning a token for its
 * syntax removes it from the candidates without renormalizing the rest, so constrained and
 * unconstrained scores stay comparable. Beam search follows Hugging Face transformers'
 * `BeamSearchScorer`: 2N candidates per step so that N live beams remain after finished ones are
 * set aside, finished hypotheses scored by `logprob / length ** lengthPenalty`, and the search
 * ends when N are finished and no live beam can beat the worst of them.
 */
import type { CausalLM, KvCache } from './model.js';
import {
  type GenLanguage,
  type LexState,
  lexExtend,
  lexText,
  type SyntaxChecker,
  type SyntaxState,
} from './syntax.js';

/** Why a sequence ended. */
export type FinishReason = 'eos' | 'end-of-function' | 'length' | 'no-viable-token';

/** One generated sequence. */
export interface GeneratedSequence {
  /** Token ids generated after the prompt (up to the end of the function). */
  tokens: number[];
  /** The function's text: the forced prefix and what was generated, cut at the function's end. */
  code: string;
  /** Sum of the tokens' log-probabilities (natural log). */
  logprob: number;
  /** `logprob / tokens ** lengthPenalty` for beams; `logprob` otherwise. */
  score: number;
  finish: FinishReason;
}

/** What every technique shares. */
export interface DecodeOptions {
  /** The prompt: retrieved context, doc comment and signature. Must end with `prefix`. */
  prompt: string;
  /** The forced function start (signature and doc comment), the start of `code`. */
  prefix: string;
  language: GenLanguage;
  maxNewTokens: number;
  /** Prune candidates whose text is not a viable prefix (default: on when a checker is given). */
  syntax?: SyntaxChecker;
  /** Recompute the whole sequence every step instead of using the KV cache (for tests and the benchmark). */
  noCache?: boolean;
  /** Candidates tried per pick before giving up on a step (syntax checks are made lazily, best first). */
  maxChecks?: number;
  /** Called after each step with the milliseconds spent inside `session.run` (the benchmark's baseline). */
  onStep?: (runMs: number) => void;
}

/** Whether a hypothesis's syntax state shows its whole text complete: nothing held back, open or wrong. */
function parsedWhole(hyp: Hypothesis): boolean {
  const state = hyp.syntax;
  return (
    state !== undefined &&
    state.lex.pos === hyp.text.length &&
    state.completion === '' &&
    state.lex.comment !== 'block' &&
    !state.tree.rootNode.hasError
  );
}

/** One hypothesis being extended. */
interface Hypothesis {
  tokens: number[];
  logprob: number;
  /** UTF-8 bytes generated but not yet a whole character. */
  pending: Uint8Array;
  /** `prefix + text generated so far`. */
  text: string;
  lex: LexState;
  syntax: SyntaxState | undefined;
}

/** Outcome of appending one token to a hypothesis. */
type Extension =
  | { kind: 'continue'; hyp: Hypothesis }
  | { kind: 'finished'; hyp: Hypothesis; code: string; finish: FinishReason }
  | { kind: 'invalid'; reason: string };

const DECODER = new TextDecoder('utf-8');

/** Splits bytes into the longest prefix of whole UTF-8 characters and the rest. */
function splitUtf8(bytes: Uint8Array): [string, Uint8Array] {
  let end = bytes.length;
  // A character is at most 4 bytes: look back at most 3 for an unfinished lead byte.
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    if (need > back) end = bytes.length - back;
    break;
  }
  return [DECODER.decode(bytes.subarray(0, end)), bytes.slice(end)];
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `a` ranks before `b`: larger value, then lower index. */
function before(values: ArrayLike<number>, a: number, b: number): boolean {
  const va = values[a]!;
  const vb = values[b]!;
  return va > vb || (va === vb && a < b);
}

/**
 * Indices (relative to `from`) of the `k` largest of `values[from .. from + length)`, largest
 * first, ties by lower index: a bounded min-heap, O(length log k), so a 150k-token vocabulary
 * costs one pass. `topK(v, k)` is a prefix of `topK(v, 2k)`.
 */
export function topK(
  values: ArrayLike<number>,
  k: number,
  from = 0,
  length = values.length - from,
): number[] {
  const n = Math.min(k, length);
  if (n <= 0) return [];
  // heap[0] is the worst kept index (absolute).
  const heap: number[] = [];
  const worse = (a: number, b: number) => before(values, b, a);
  const siftUp = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = from; i < from + length; i++) {
    if (heap.length < n) {
      heap.push(i);
      siftUp(heap.length - 1);
    } else if (before(values, i, heap[0]!)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (before(values, a, b) ? -1 : 1)).map((i) => i - from);
}

/** One row of logits and its log-sum-exp: log-probabilities on demand, without a copy. */
class LogprobRow {
  readonly lse: number;
  constructor(
    readonly logits: Float32Array,
    readonly offset: number,
    readonly vocab: number,
  ) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = offset; i < offset + vocab; i++) if (logits[i]! > max) max = logits[i]!;
    let sum = 0;
    for (let i = offset; i < offset + vocab; i++) sum += Math.exp(logits[i]! - max);
    this.lse = max + Math.log(sum);
  }
  /** Natural-log probability of `token`. */
  at(token: number): number {
    return this.logits[this.offset + token]! - this.lse;
  }
  top(k: number): number[] {
    return topK(this.logits, k, this.offset, this.vocab);
  }
}

/** Deterministic PRNG (mulberry32) for seeded sampling. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Drives one model over one prompt: encodes it, runs steps, extends hypotheses. */
class Decoder {
  readonly promptIds: number[];
  readonly prefixLength: number;

  constructor(
    readonly model: CausalLM,
    readonly options: DecodeOptions,
  ) {
    if (!options.prompt.endsWith(options.prefix))
      throw new Error('the prompt must end with the forced prefix');
    const ids = model.tokenizer.encode(options.prompt);
    this.promptIds = model.addBos && model.bosId !== undefined ? [model.bosId, ...ids] : ids;
    this.prefixLength = options.prefix.length;
  }

  root(): Hypothesis {
    const syntax = this.options.syntax?.start(this.options.prefix).state;
    return {
      tokens: [],
      logprob: 0,
      pending: new Uint8Array(0),
      text: this.options.prefix,
      lex: lexText(this.options.prefix, this.options.language),
      syntax,
    };
  }

  /** Runs the model for `hyps` (which share the cache rows in order) and returns each row's log-probabilities. */
  async run(hyps: Hypothesis[], cache: KvCache | null): Promise<{ rows: LogprobRow[]; cache: KvCache }> {
    const out =
      this.options.noCache || cache === null
        ? await this.model.step(
            hyps.map((h) => [...this.promptIds, ...h.tokens]),
            null,
          )
        : await this.model.step(
            hyps.map((h) => [h.tokens.at(-1)!]),
            cache,
          );
    this.options.onStep?.(out.runMs);
    const vocab = out.logits.length / hyps.length;
    return { rows: hyps.map((_, i) => new LogprobRow(out.logits, i * vocab, vocab)), cache: out.cache };
  }

  /** Appends a token to a hypothesis: ends it, continues it, or finds it not viable. */
  extend(hyp: Hypothesis, token: number, logprob: number): Extension {
    const model = this.model;
    const tokens = [...hyp.tokens, token];
    const total = hyp.logprob + logprob;
    if (model.eosIds.has(token)) {
      const [rest] = splitUtf8(hyp.pending);
      const code = `${(hyp.text + rest).trimEnd()}\n`;
      if (
        this.options.syntax !== undefined &&
        !(rest === '' && parsedWhole(hyp)) &&
        !this.options.syntax.isComplete(code)
      )
        return { kind: 'invalid', reason: 'the end of the text before the function is complete' };
      return { kind: 'finished', hyp: { ...hyp, tokens, logprob: total }, code, finish: 'eos' };
    }
    const [piece, pending] = splitUtf8(concat(hyp.pending, model.tokenizer.tokenBytes(token)));
    const text = hyp.text + piece;
    const lex = lexExtend(hyp.lex, text, this.options.language);
    const end = this.functionEnd(lex);
    const next: Hypothesis = { tokens, logprob: total, pending, text, lex, syntax: hyp.syntax };
    if (end !== null) {
      const code = `${text.slice(0, end).trimEnd()}\n`;
      // Most ends come with a new line at column 0 after a finished one: the code is the
      // hypothesis's own text, whose parse is at hand.
      const own = text.slice(0, end).trimEnd() === hyp.text.trimEnd() && parsedWhole(hyp);
      if (this.options.syntax !== undefined && !own && !this.options.syntax.isComplete(code))
        return { kind: 'invalid', reason: 'the function ends with a syntax error' };
      return { kind: 'finished', hyp: next, code, finish: 'end-of-function' };
    }
    if (lex.invalid !== null && this.options.syntax !== undefined)
      return { kind: 'invalid', reason: lex.invalid };
    if (this.options.syntax !== undefined && hyp.syntax !== undefined && piece !== '') {
      const check = this.options.syntax.extend(hyp.syntax, piece);
      if (!check.viable) return { kind: 'invalid', reason: check.reason ?? 'not a viable prefix' };
      next.syntax = check.state;
    }
    return { kind: 'continue', hyp: next };
  }

  /** Where the function ended, if it did in the generated part: JS/TS after the body's `}`, Python before a dedented line. */
  private functionEnd(lex: LexState): number | null {
    if (this.options.language === 'python')
      return lex.dedentAt !== null && lex.dedentAt >= this.prefixLength ? lex.dedentAt : null;
    return lex.closedAt !== null && lex.closedAt > this.prefixLength ? lex.closedAt : null;
  }

  /** A hypothesis cut off at the token limit. */
  finishAtLimit(hyp: Hypothesis): GeneratedSequence {
    const [rest] = splitUtf8(hyp.pending);
    return {
      tokens: hyp.tokens,
      code: hyp.text + rest,
      logprob: hyp.logprob,
      score: hyp.logprob,
      finish: 'length',
    };
  }
}

/** The sequence a finished extension makes (scored by its log-probability). */
function finishedSequence(ext: Extract<Extension, { kind: 'finished' }>): GeneratedSequence {
  return {
    tokens: ext.hyp.tokens,
    code: ext.code,
    logprob: ext.hyp.logprob,
    score: ext.hyp.logprob,
    finish: ext.finish,
  };
}

/** A beam's extension by one token, scored by the total log-probability. */
interface Offer {
  beam: number;
  token: number;
  total: number;
  ext: Extension;
}

/**
 * The `want` best viable extensions of all beams together (greedy: one beam, one extension),
 * best first (ties: lower beam, lower token). Candidates are taken in order of total log-probability across beams, each beam's
 * lazily (its top k, then 2k), and checked only as they come up, so a beam too far behind to
 * place is never parsed; at most `maxChecks` candidates of a beam are checked.
 */
function bestOffers(
  decoder: Decoder,
  beams: Hypothesis[],
  rows: LogprobRow[],
  want: number,
  maxChecks: number,
): Offer[] {
  const cursors = beams.map((_, b) => ({ order: rows[b]!.top(Math.min(want, rows[b]!.vocab)), next: 0 }));
  const limit = (b: number) => Math.min(maxChecks, rows[b]!.vocab);
  const head = (b: number): number | undefined => {
    const c = cursors[b]!;
    if (c.next >= limit(b)) return undefined;
    if (c.next >= c.order.length) c.order = rows[b]!.top(Math.min(2 * c.order.length, limit(b)));
    return c.order[c.next];
  };
  const offers: Offer[] = [];
  while (offers.length < want) {
    let best = -1;
    let bestTotal = Number.NEGATIVE_INFINITY;
    let bestToken = -1;
    beams.forEach((hyp, b) => {
      const token = head(b);
      if (token === undefined) return;
      const total = hyp.logprob + rows[b]!.at(token);
      if (total > bestTotal) {
        best = b;
        bestTotal = total;
        bestToken = token;
      }
    });
    if (best < 0) break;
    cursors[best]!.next++;
    const ext = decoder.extend(beams[best]!, bestToken, rows[best]!.at(bestToken));
    if (ext.kind !== 'invalid') offers.push({ beam: best, token: bestToken, total: bestTotal, ext });
  }
  return offers;
}

/**
 * Greedy decoding: the most probable (viable) token at each step.
 * @returns one sequence; `finish` says why it ended
 */
export async function greedyDecode(model: CausalLM, options: DecodeOptions): Promise<GeneratedSequence> {
  const decoder = new Decoder(model, options);
  let hyp = decoder.root();
  let cache: KvCache | null = null;
  const maxChecks = options.maxChecks ?? 64;
  for (let step = 0; step < options.maxNewTokens; step++) {
    const run = await decoder.run([hyp], cache);
    cache = run.cache;
    const [best] = bestOffers(decoder, [hyp], run.rows, 1, maxChecks);
    if (best === undefined) return { ...decoder.finishAtLimit(hyp), finish: 'no-viable-token' };
    if (best.ext.kind === 'finished') return finishedSequence(best.ext);
    if (best.ext.kind === 'continue') hyp = best.ext.hyp;
  }
  return decoder.finishAtLimit(hyp);
}

/** Options of {@link sampleDecode}. */
export interface SampleOptions extends DecodeOptions {
  seed: number;
  /** Softmax temperature (default 1). */
  temperature?: number;
  /** Keep the k most probable tokens (default 50; 0 keeps all). */
  topK?: number;
  /** Keep the smallest set whose probability reaches p (nucleus sampling, Holtzman et al. 2020; default 0.95). */
  topP?: number;
}

/**
 * Sampling with top-k and top-p (nucleus) filtering and a seeded PRNG: the same seed gives the
 * same sequence. A sampled token that is not viable is removed and the rest resampled.
 */
export async function sampleDecode(model: CausalLM, options: SampleOptions): Promise<GeneratedSequence> {
  const decoder = new Decoder(model, options);
  const random = mulberry32(options.seed);
  const temperature = options.temperature ?? 1;
  const k = options.topK ?? 50;
  const p = options.topP ?? 0.95;
  let hyp = decoder.root();
  let cache: KvCache | null = null;
  for (let step = 0; step < options.maxNewTokens; step++) {
    const run = await decoder.run([hyp], cache);
    cache = run.cache;
    const row = run.rows[0]!;
    const order = row.top(k > 0 ? k : row.vocab);
    // Tempered probabilities of the kept tokens, cut to the nucleus.
    const weights = order.map((t) => Math.exp(row.at(t) / temperature));
    const sum = weights.reduce((a, b) => a + b, 0);
    let mass = 0;
    let keep = 0;
    while (keep < order.length && (keep === 0 || mass < p)) mass += weights[keep++]! / sum;
    const tokens = order.slice(0, keep);
    const w = weights.slice(0, keep);
    let chosen: Extension | undefined;
    let chosenToken = -1;
    while (tokens.length > 0) {
      const total = w.reduce((a, b) => a + b, 0);
      let r = random() * total;
      let i = 0;
      while (i < w.length - 1 && r >= w[i]!) r -= w[i++]!;
      const ext = decoder.extend(hyp, tokens[i]!, row.at(tokens[i]!));
      if (ext.kind !== 'invalid') {
        chosen = ext;
        chosenToken = tokens[i]!;
        break;
      }
      tokens.splice(i, 1);
      w.splice(i, 1);
    }
    if (chosen === undefined || chosenToken < 0)
      return { ...decoder.finishAtLimit(hyp), finish: 'no-viable-token' };
    if (chosen.kind === 'finished') return finishedSequence(chosen);
    if (chosen.kind === 'continue') hyp = chosen.hyp;
  }
  return decoder.finishAtLimit(hyp);
}

/** Options of {@link beamSearch}. */
export interface BeamOptions extends DecodeOptions {
  /** Number of beams N (default 4). */
  beams?: number;
  /** Exponent of the length normalization of finished hypotheses (default 1; 0 ranks by total log-probability). */
  lengthPenalty?: number;
}

/**
 * Beam search: N beams, batched into one session run per step, the cache rows reordered to follow
 * the surviving beams.
 * @returns up to N finished sequences, best score first (unfinished beams at the token limit are
 *   returned with `finish: 'length'` when fewer than N finished)
 */
export async function beamSearch(model: CausalLM, options: BeamOptions): Promise<GeneratedSequence[]> {
  const n = options.beams ?? 4;
  const penalty = options.lengthPenalty ?? 1;
  const maxChecks = options.maxChecks ?? 64;
  const decoder = new Decoder(model, options);
  const score = (logprob: number, length: number) => logprob / Math.max(1, length) ** penalty;
  let beams: Hypothesis[] = [decoder.root()];
  let cache: KvCache | null = null;
  const finished: GeneratedSequence[] = [];
  const worstFinished = () =>
    finished.length < n ? Number.NEGATIVE_INFINITY : Math.min(...finished.map((f) => f.score));

  for (let step = 0; step < options.maxNewTokens && beams.length > 0; step++) {
    const run = await decoder.run(beams, cache);
    const offers = bestOffers(decoder, beams, run.rows, 2 * n, Math.max(2 * n, maxChecks));
    const next: Hypothesis[] = [];
    const rows: number[] = [];
    for (const offer of offers.slice(0, 2 * n)) {
      if (offer.ext.kind === 'finished') {
        const s = score(offer.ext.hyp.logprob, offer.ext.hyp.tokens.length);
        if (finished.length < n || s > worstFinished()) {
          finished.push({ ...finishedSequence(offer.ext), score: s });
          finished.sort((a, b) => b.score - a.score);
          if (finished.length > n) finished.pop();
        }
      } else if (offer.ext.kind === 'continue' && next.length < n) {
        next.push(offer.ext.hyp);
        rows.push(offer.beam);
      }
    }
    if (next.length === 0) break;
    // Done when N are finished and the best live beam cannot beat the worst of them: its log-probability only falls.
    const bestLive = Math.max(...next.map((h) => score(h.logprob, h.tokens.length)));
    if (
      finished.length >= n &&
      (penalty <= 0 ? Math.max(...next.map((h) => h.logprob)) : bestLive) <= worstFinished()
    )
      break;
    cache = options.noCache ? null : model.selectRows(run.cache, rows);
    beams = next;
  }
  if (finished.length < n)
    for (const hyp of beams.slice(0, n - finished.length)) {
      const cut = decoder.finishAtLimit(hyp);
      finished.push({ ...cut, score: score(cut.logprob, cut.tokens.length) });
    }
  return finished.sort((a, b) => b.score - a.score);
}
