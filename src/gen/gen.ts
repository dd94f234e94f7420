/**
 * `ccx gen`: a function from a spec (shared/spec/gen-spec.schema.json) to verified code
 * (shared/spec/gen-result.schema.json), by the techniques the request names:
 *
 * - `greedy`: syntax-aware greedy decoding from the forced signature.
 * - `beam`: syntax-aware beam search, N candidates.
 * - `sample`: K syntax-aware samples (temperature 0.8, top-k 50, top-p 0.95), seeded with
 *   `seed`, `seed + 1`, ...: diverse candidates for execution to choose among, as CodeT does
 *   (Chen et al. 2023).
 * - `rag`: beam search with the most relevant chunks of the store in the prompt (BM25 over names,
 *   identifiers and docstrings, re-ranked by embeddings when `--embed-model` is given), laid out
 *   as RepoCoder does (Zhang et al. 2023): each retrieved fragment as comment lines naming its
 *   file, above the signature.
 * - `hierarchical`: an outline first (numbered steps as comments, greedy), then beam search
 *   conditioned on it; the candidates without the outline are kept too, since a model-written
 *   plan can hurt, and verification decides.
 * - `retrieve`: no model; existing functions of the store whose signature fits, renamed.
 * - `all`: every technique that can run (the model ones need a model, rag and retrieve a store).
 *
 * Every complete candidate runs against the spec's examples in the sandbox (src/gen/verify.ts).
 * Candidates rank by examples passed, then by mean token log-probability (retrieved functions,
 * which have none, after model candidates with as many passes, in BM25 order).
 *
 * Confidence (docs/cli.md): with n > 0 examples of which the chosen candidate passes p,
 * `confidence = (p / n) * (1 + q) / 2`, where q is the model's mean per-token probability of the
 * candidate, `exp(logprob / tokens)`, and 1 for a retrieved function; with no examples,
 * `confidence = q / 2`. So only a candidate that passes every example can reach 1, and an
 * unverified one never exceeds 0.5.
 */
import path from 'node:path';
import { CcxError } from '../errors.js';
import {
  type BeamOptions,
  beamSearch,
  type DecodeOptions,
  type GeneratedSequence,
  greedyDecode,
  sampleDecode,
} from './decode.js';
import { type CausalLM, type DeviceOption, type Dtype, loadCausalLM, requireModelDir } from './model.js';
import type { RetrieveCandidate, RetrievedChunk } from './retrieval.js';
import { buildFunctionHeader, type FunctionHeader, loadSpec, validateSpec } from './spec.js';
import type { GenSpec } from './spec-types.js';
import { SyntaxChecker } from './syntax.js';
import { type VerifyResult, verifyCandidate } from './verify.js';

/** Techniques `--technique` accepts. */
export const TECHNIQUES = ['all', 'greedy', 'beam', 'sample', 'hierarchical', 'rag', 'retrieve'] as const;
export type Technique = (typeof TECHNIQUES)[number];

/** Options of {@link gen}. */
export interface GenOptions {
  /** The spec, or the path of its JSON file. */
  spec: GenSpec | string;
  technique?: Technique;
  /** Model directory (Hugging Face ONNX layout); else `CCX_MODEL`. */
  model?: string;
  device?: DeviceOption;
  dtype?: Dtype;
  /** Beams for beam, rag and hierarchical (default 4). */
  beams?: number;
  /** Tokens generated at most per candidate (default 256). */
  maxNewTokens?: number;
  /** Seed of the first sample; sample i uses `seed + i` (default 0). */
  seed?: number;
  /** Samples drawn by `sample` (default 4). */
  samples?: number;
  /** The chunked root whose store rag and retrieve read (default '.'). */
  root?: string;
  /** Store path (default: `<root>/.ccx` or `CCX_STORE`). */
  store?: string;
  /** Model tokens given to retrieved context (default 1024; estimated at 3.5 characters a token). */
  contextTokens?: number;
  /** Embedding model directory for rag and retrieve re-ranking (src/predict/embeddings.ts). */
  embedModel?: string;
  /** Time limit for one candidate's examples, ms (default 10 000). */
  timeLimitMs?: number;
  /** Where candidates run: `'process'` skips bubblewrap. */
  sandbox?: 'bubblewrap' | 'process';
  /** Progress lines for a person (the CLI prints them on stderr). */
  onProgress?: (message: string) => void;
}

/** One candidate in the result (gen-result.schema.json `candidates[]`). */
export interface GenCandidate {
  code: string;
  strategy: string;
  logprob?: number;
  passed: number;
  total: number;
  errors?: string[];
}

/** What `ccx gen --json` prints (gen-result.schema.json). */
export interface GenResult {
  request_id?: string;
  status: 'success' | 'unverified' | 'failure';
  error?: string;
  result: {
    program_ast: {
      type: 'function';
      name: string;
      parameters: { name: string; type?: string; default?: unknown }[];
      return_type?: string;
      code: string;
    };
    confidence_score: number;
    /** Seconds. */
    time_taken: number;
    strategy: string;
    candidates: GenCandidate[];
    retrieved?: string[];
    model: { id: string; sha256: string; dtype: string; device: string } | null;
    seed?: number;
  };
}

/** The result and what a person should know about how it was made. */
export interface GenOutcome {
  result: GenResult;
  /** Lines for stderr: techniques skipped and why, the device chosen, the sandbox used. */
  notes: string[];
}

interface Candidate {
  code: string;
  strategy: string;
  /** The language it runs as, when not the spec's (a TypeScript function found for a JavaScript spec). */
  language?: GenSpec['language'];
  logprob?: number;
  tokens?: number;
  /** Retrieve order, for ties. */
  rank?: number;
  context?: { files: Record<string, string>; modulePath: string };
  verify?: VerifyResult;
}

const CHARS_PER_TOKEN = 3.5;

/** A comment line prefix per language. */
function commentPrefix(language: GenSpec['language']): string {
  return language === 'python' ? '#' : '//';
}

/** RepoCoder's prompt layout: each retrieved fragment as comment lines under its path, then the function. */
export function buildRagPrompt(spec: GenSpec, header: FunctionHeader, chunks: RetrievedChunk[]): string {
  const c = commentPrefix(spec.language);
  const blocks = chunks.map(
    (chunk) =>
      `${c} the below code fragment can be found in: ${chunk.file}\n${chunk.text
        .replace(/\n+$/, '')
        .split('\n')
        .map((line) => `${c} ${line}`.trimEnd())
        .join('\n')}\n`,
  );
  return `${blocks.join(`${c}\n`)}${blocks.length > 0 ? '\n' : ''}${header.prefix}`;
}

/** The outline prompt: the header, then `Steps:` and a first numbered step as comments. */
function outlineStart(spec: GenSpec, header: FunctionHeader): string {
  const c = commentPrefix(spec.language);
  return `${header.prefix}${header.indent}${c} Steps:\n${header.indent}${c} 1.`;
}

/** The comment lines at the start of a generated body (the outline), or ''. */
function takeOutline(generated: string, spec: GenSpec): string {
  const c = commentPrefix(spec.language);
  const lines: string[] = [];
  for (const line of generated.split('\n')) {
    if (!line.trimStart().startsWith(c)) break;
    lines.push(line);
  }
  return lines.length > 1 ? `${lines.join('\n')}\n` : '';
}

/** Candidates with the same code in the same module run the same way: verified once. */
function candidateKey(c: Candidate): string {
  return `${c.context?.modulePath ?? ''}\0${c.code}`;
}

function meanLogprob(c: Candidate): number | undefined {
  return c.logprob === undefined || c.tokens === undefined || c.tokens === 0
    ? undefined
    : c.logprob / c.tokens;
}

/** `confidence = (p / n) * (1 + q) / 2`, or `q / 2` without examples (see the module comment). */
export function confidenceScore(passed: number, total: number, meanTokenLogprob: number | undefined): number {
  const q = meanTokenLogprob === undefined ? 1 : Math.exp(meanTokenLogprob);
  const c = total === 0 ? q / 2 : (passed / total) * ((1 + q) / 2);
  return Math.min(1, Math.max(0, Math.round(c * 1e4) / 1e4));
}

/** Orders candidates: passes, then mean log-probability, then retrieve rank. */
function compareCandidates(a: Candidate, b: Candidate): number {
  const pa = a.verify?.passed ?? 0;
  const pb = b.verify?.passed ?? 0;
  if (pa !== pb) return pb - pa;
  const la = meanLogprob(a);
  const lb = meanLogprob(b);
  if (la !== undefined && lb !== undefined && la !== lb) return lb - la;
  if (la !== undefined && lb === undefined) return -1;
  if (la === undefined && lb !== undefined) return 1;
  return (a.rank ?? 0) - (b.rank ?? 0);
}

/**
 * Generates the function a spec asks for and verifies the candidates on its examples.
 * @throws SpecError for an invalid spec; UsageError when a model technique has no model, or rag
 *   or retrieve have no store (alone; `all` skips them and says so); ModelError,
 *   CudaUnavailableError from loading the model; StoreError, StoreLockedError from the store
 */
export async function gen(options: GenOptions): Promise<GenOutcome> {
  const started = performance.now();
  const spec =
    typeof options.spec === 'string'
      ? await loadSpec(options.spec)
      : await validateSpec(options.spec, 'the spec');
  const technique = options.technique ?? 'all';
  const notes: string[] = [];
  const progress = options.onProgress ?? (() => {});
  const header = buildFunctionHeader(spec);
  const seed = options.seed ?? 0;
  const wantsModel = technique !== 'retrieve';
  const wantsStore = technique === 'rag' || technique === 'retrieve' || technique === 'all';

  const run = (name: Technique) => technique === name || technique === 'all';
  let modelDir: string | undefined;
  if (wantsModel) {
    if (technique === 'all' && (options.model ?? process.env.CCX_MODEL ?? '') === '') {
      notes.push(
        'no model: only retrieve ran; pass --model DIR (or set CCX_MODEL) for greedy, beam, sample, hierarchical and rag — `ccx model pull REPO_ID` downloads one',
      );
    } else modelDir = requireModelDir(options.model);
  }

  const candidates: Candidate[] = [];
  let retrieved: string[] | undefined;
  let modelInfo: GenResult['result']['model'] = null;

  // Retrieval: the store's chunks for rag's prompt, and retrieve's candidates.
  let ragChunks: RetrievedChunk[] = [];
  let storeRead = false;
  if (wantsStore) {
    const found = await readStore(spec, options, technique, modelDir !== undefined, notes);
    ragChunks = found.ragChunks;
    storeRead = found.read;
    if (found.retrieveCandidates !== undefined) {
      found.retrieveCandidates.forEach((c, i) => {
        const files = { ...c.context.files };
        // A JS/TS module cannot declare the function twice: the original goes when the names agree.
        if (c.originalName === spec.function_name && c.language !== 'python') {
          const text = files[c.context.modulePath] ?? '';
          files[c.context.modulePath] =
            text.slice(0, c.context.chunkSpan.start) + text.slice(c.context.chunkSpan.end);
        }
        candidates.push({
          code: c.code,
          strategy: 'retrieve',
          rank: i,
          language:
            c.language === 'python' ? 'python' : c.language === 'javascript' ? 'javascript' : 'typescript',
          context: { files, modulePath: c.context.modulePath },
        });
      });
      if (found.retrieveCandidates.length === 0)
        notes.push('retrieve: no function of the store fits the spec');
      retrieved = found.retrieveCandidates.map((c) => c.chunkId);
    }
  }

  if (modelDir !== undefined) {
    progress(`loading the model in ${modelDir}`);
    const model = await loadCausalLM(modelDir, { device: options.device, dtype: options.dtype });
    try {
      if (model.deviceNote !== undefined) notes.push(`--device auto: ${model.deviceNote}`);
      modelInfo = { id: model.id, sha256: model.sha256, dtype: model.dtype, device: model.device };
      const syntax = await SyntaxChecker.create(spec.language);
      const promptTokens = (prompt: string) => model.tokenizer.encode(prompt).length + 1;
      let maxNewTokens = options.maxNewTokens ?? 256;
      if (model.maxPositions !== undefined) {
        // Prompt and generation share the model's positions; an outline adds up to 96 tokens.
        const room = model.maxPositions - promptTokens(header.prefix) - (run('hierarchical') ? 96 : 0);
        if (room < 16)
          throw new CcxError(
            'CCX_CONTEXT',
            `the spec's signature and doc comment leave the model no room to write (${model.maxPositions} positions)`,
            {
              hint: 'shorten the description or the examples, or use a model with a longer context',
            },
          );
        if (room < maxNewTokens) {
          notes.push(`--max-new-tokens lowered to ${room}: the model has ${model.maxPositions} positions`);
          maxNewTokens = room;
        }
      }
      const decodeBase: DecodeOptions = {
        prompt: header.prefix,
        prefix: header.prefix,
        language: spec.language,
        maxNewTokens,
        syntax,
      };
      const beamBase: BeamOptions = { ...decodeBase, beams: options.beams ?? 4 };
      const fromSequences = (sequences: GeneratedSequence[], strategy: string) => {
        for (const s of sequences) {
          if (s.finish === 'no-viable-token' || s.finish === 'length') continue;
          // Beams can differ only in what the end trims (trailing blank tokens): one candidate per code.
          if (candidates.some((c) => c.strategy === strategy && c.code === s.code)) continue;
          candidates.push({ code: s.code, strategy, logprob: s.logprob, tokens: s.tokens.length });
        }
      };
      if (run('greedy')) {
        progress('greedy decoding');
        fromSequences([await greedyDecode(model, decodeBase)], 'greedy');
      }
      if (run('sample')) {
        const count = options.samples ?? 4;
        progress(`sampling ${count} candidates`);
        const samples: GeneratedSequence[] = [];
        for (let i = 0; i < count; i++)
          samples.push(
            await sampleDecode(model, {
              ...decodeBase,
              seed: seed + i,
              temperature: 0.8,
              topK: 50,
              topP: 0.95,
            }),
          );
        fromSequences(samples, 'sample');
      }
      let plainBeams: GeneratedSequence[] | undefined;
      if (run('beam') || run('hierarchical')) {
        progress(`beam search (${beamBase.beams} beams)`);
        plainBeams = await beamSearch(model, beamBase);
        if (run('beam')) fromSequences(plainBeams, 'beam');
      }
      if (run('hierarchical')) {
        progress('outline, then beam search on it');
        await hierarchical(model, spec, header, beamBase, plainBeams ?? [], technique, fromSequences);
      }
      if (run('rag')) {
        if (ragChunks.length === 0 && storeRead)
          notes.push('rag: nothing relevant in the store, so rag is beam search without context');
        // Fewer retrieved chunks when the prompt would not leave the model room to write.
        let prompt = buildRagPrompt(spec, header, ragChunks);
        const selected = ragChunks.length;
        while (
          ragChunks.length > 0 &&
          model.maxPositions !== undefined &&
          promptTokens(prompt) + maxNewTokens > model.maxPositions
        ) {
          ragChunks = ragChunks.slice(0, -1);
          prompt = buildRagPrompt(spec, header, ragChunks);
        }
        if (ragChunks.length < selected)
          notes.push(
            `rag: ${ragChunks.length} of ${selected} retrieved chunks fit in the model's ${model.maxPositions} positions`,
          );
        progress(`beam search with ${ragChunks.length} retrieved chunks in the prompt`);
        fromSequences(await beamSearch(model, { ...beamBase, prompt }), 'rag');
        retrieved = [...new Set([...(retrieved ?? []), ...ragChunks.map((c) => c.id)])];
      }
    } finally {
      await model.release();
    }
  }

  // Verify each distinct candidate once; strategies that found the same code share the result.
  const unique = new Map<string, Candidate>();
  for (const c of candidates) {
    const key = candidateKey(c);
    const seen = unique.get(key);
    if (seen === undefined || compareCandidates(c, seen) < 0) unique.set(key, c);
  }
  const examples = spec.examples ?? [];
  let sandboxNoted = false;
  for (const c of unique.values()) {
    progress(`verifying a ${c.strategy} candidate on ${examples.length} examples`);
    if (examples.length === 0) continue;
    c.verify = await verifyCandidate(
      c.code,
      {
        language: c.language ?? spec.language,
        functionName: spec.function_name,
        parameters: header.parameters,
        examples,
      },
      {
        ...(c.context === undefined ? {} : { context: c.context }),
        ...(options.timeLimitMs === undefined ? {} : { timeLimitMs: options.timeLimitMs }),
        ...(options.sandbox === undefined ? {} : { prefer: options.sandbox }),
      },
    );
    if (!sandboxNoted && c.verify.sandbox === 'process') {
      notes.push(
        'candidates ran as plain processes with time and memory limits (bubblewrap is not available here)',
      );
      sandboxNoted = true;
    }
  }
  for (const c of candidates) c.verify = unique.get(candidateKey(c))?.verify;
  const ranked = [...unique.values()].sort(compareCandidates);
  const best = ranked[0];
  const total = examples.length;
  const status: GenResult['status'] =
    best === undefined ? 'failure' : total > 0 && best.verify?.passed === total ? 'success' : 'unverified';
  const result: GenResult = {
    ...(spec.request_id === undefined ? {} : { request_id: spec.request_id }),
    status,
    ...(best === undefined ? { error: 'no technique produced a complete candidate' } : {}),
    result: {
      program_ast: {
        type: 'function',
        name: spec.function_name,
        parameters: spec.ast.parameters.map((p) => ({ ...p })),
        ...(spec.ast.return_type === undefined ? {} : { return_type: spec.ast.return_type }),
        code: best?.code ?? '',
      },
      confidence_score:
        best === undefined ? 0 : confidenceScore(best.verify?.passed ?? 0, total, meanLogprob(best)),
      time_taken: Math.round(performance.now() - started) / 1000,
      strategy: best?.strategy ?? technique,
      candidates: [...candidates].sort(compareCandidates).map((c) => ({
        code: c.code,
        strategy: c.strategy,
        ...(c.logprob === undefined ? {} : { logprob: Math.round(c.logprob * 1e4) / 1e4 }),
        passed: c.verify?.passed ?? 0,
        total,
        ...(c.verify !== undefined && c.verify.errors.length > 0 ? { errors: c.verify.errors } : {}),
      })),
      ...(retrieved === undefined ? {} : { retrieved }),
      model: modelInfo,
      seed,
    },
  };
  return { result, notes };
}

/** Outline then implementation; the plain beams stand as the candidates without an outline. */
async function hierarchical(
  model: CausalLM,
  spec: GenSpec,
  header: FunctionHeader,
  beamBase: BeamOptions,
  plainBeams: GeneratedSequence[],
  technique: Technique,
  fromSequences: (s: GeneratedSequence[], strategy: string) => void,
): Promise<void> {
  const start = outlineStart(spec, header);
  // The outline is prose in comments: no syntax constraint, a short budget.
  const draft = await greedyDecode(model, {
    prompt: start,
    prefix: start,
    language: spec.language,
    maxNewTokens: 96,
  });
  const outline = takeOutline(draft.code.slice(header.prefix.length), spec);
  if (outline !== '') {
    const prefix = header.prefix + outline;
    fromSequences(await beamSearch(model, { ...beamBase, prompt: prefix, prefix }), 'hierarchical');
  }
  // Without the outline: the plain beams, unless `beam` already contributed them.
  if (technique === 'hierarchical') fromSequences(plainBeams, 'hierarchical-without-outline');
}

/** Opens the root's store once for rag's context and retrieve's candidates. */
async function readStore(
  spec: GenSpec,
  options: GenOptions,
  technique: Technique,
  haveModel: boolean,
  notes: string[],
): Promise<{ ragChunks: RetrievedChunk[]; retrieveCandidates?: RetrieveCandidate[]; read: boolean }> {
  const { withHeadSnapshot } = await import('../chunking/snapshot.js');
  const retrieval = await import('./retrieval.js');
  const wantRag = haveModel && (technique === 'rag' || technique === 'all');
  const wantRetrieve = technique === 'retrieve' || technique === 'all';
  try {
    return await withHeadSnapshot({ root: options.root ?? '.', store: options.store }, async (head) => {
      const index = await retrieval.buildChunkIndex(head.store, head.manifest);
      let embed: ((texts: string[]) => Promise<Float32Array[]>) | undefined;
      if (options.embedModel !== undefined) {
        const { loadEmbedder } = await import('../predict/embeddings.js');
        const embedder = await loadEmbedder(options.embedModel);
        embed = (texts) => embedder.embed(texts);
      }
      let ragChunks: RetrievedChunk[] = [];
      if (wantRag) {
        const query = retrieval.specQueryTerms(spec);
        const searchOptions = { limit: 20, languages: retrieval.specLanguages(spec.language) };
        const hits =
          embed === undefined
            ? index.search(query, searchOptions)
            : await index.searchHybrid(query, { ...searchOptions, embed });
        const budget = Math.floor((options.contextTokens ?? 1024) * CHARS_PER_TOKEN);
        ragChunks = retrieval.selectForPrompt(hits, budget, 80);
      }
      const retrieveCandidates = wantRetrieve
        ? await retrieval.findRetrieveCandidates(head.store, head.manifest, spec, {
            index,
            ...(embed === undefined ? {} : { embed }),
          })
        : undefined;
      return { ragChunks, read: true, ...(retrieveCandidates === undefined ? {} : { retrieveCandidates }) };
    });
  } catch (error) {
    // Alone, rag and retrieve need the store; within `all` they are skipped with a note.
    if (
      technique !== 'all' ||
      !(error instanceof CcxError) ||
      !['CCX_STORE', 'CCX_NOT_FOUND'].includes(error.code)
    )
      throw error;
    notes.push(
      `rag and retrieve skipped: ${error.message} (chunk the code first: ccx chunk ${path.resolve(options.root ?? '.')})`,
    );
    return { ragChunks: [], read: false };
  }
}
