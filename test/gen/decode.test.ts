/**
 * ccx's decoding loop on tiny decoder models built by scripts/tiny-model.mjs: the KV cache gives
 * what recomputing the whole sequence gives, beam search finds the best sequence of a model small
 * enough to search exhaustively, greedy and beam differ where they should, sampling is seeded, and
 * syntax-aware decoding prunes what cannot become valid code.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { writeDecoderModel } from '../../scripts/tiny-model.mjs';
import { beamSearch, greedyDecode, mulberry32, sampleDecode, topK } from '../../src/gen/decode.js';
import { type CausalLM, loadCausalLM } from '../../src/gen/model.js';
import { SyntaxChecker } from '../../src/gen/syntax.js';
import { ADD_BIGRAM, ADD_TOKENS } from '../helpers/tiny-models.js';

const temps: string[] = [];
function temp(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'ccx-decode-'));
  temps.push(dir);
  return dir;
}

const PREFIX = 'def add(a, b):\n';
const base = { prompt: PREFIX, prefix: PREFIX, language: 'python' as const, maxNewTokens: 12 };

let random: CausalLM;
let choice: CausalLM;
let breaking: CausalLM;

beforeAll(async () => {
  const randomDir = temp();
  writeDecoderModel(randomDir, { seed: 7 });
  random = await loadCausalLM(randomDir);

  // ADD_BIGRAM: greedy writes `a - a` or `a - b` (0.275), beam search `b + a` (0.45).
  const tokens = ADD_TOKENS;
  const choiceDir = temp();
  writeDecoderModel(choiceDir, { tokens, bigram: ADD_BIGRAM });
  choice = await loadCausalLM(choiceDir);

  // Prefers a ")" that closes nothing after " a".
  const breakingDir = temp();
  writeDecoderModel(breakingDir, {
    tokens: [...tokens, ' )'],
    bigram: {
      '):\n': { '    return': 0 },
      '    return': { ' a': 0 },
      ' a': { ' )': Math.log(0.7), '\n': Math.log(0.3) },
      ' )': { '\n': 0 },
      '\n': { '<|endoftext|>': 0 },
    },
  });
  breaking = await loadCausalLM(breakingDir);
});

afterAll(async () => {
  for (const m of [random, choice, breaking]) await m?.release();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

describe('helpers', () => {
  it('finds the top k by value, ties by lower index, each a prefix of the next', () => {
    const random = mulberry32(5);
    const values = Float32Array.from({ length: 5000 }, () => Math.floor(random() * 300));
    const reference = [...values.keys()].sort((a, b) => values[b]! - values[a]! || a - b);
    for (const k of [1, 2, 8, 64, 5000]) expect(topK(values, k)).toEqual(reference.slice(0, k));
    // A row inside a batch: indices relative to its start.
    expect(topK(Float32Array.of(9, 9, 1, 3, 2, 3), 3, 2, 4)).toEqual([1, 3, 2]);
  });
});

describe('KV cache', () => {
  it('gives the same greedy tokens and log-probabilities as recomputing the whole sequence', async () => {
    const cached = await greedyDecode(random, { ...base, maxNewTokens: 10 });
    const full = await greedyDecode(random, { ...base, maxNewTokens: 10, noCache: true });
    expect(cached.tokens.length).toBeGreaterThan(3);
    expect(cached.tokens).toEqual(full.tokens);
    expect(cached.logprob).toBeCloseTo(full.logprob, 4);
  });

  it('gives the same beams as recomputing, with the cache rows reordered between steps', async () => {
    const cached = await beamSearch(random, { ...base, maxNewTokens: 8, beams: 3 });
    const full = await beamSearch(random, { ...base, maxNewTokens: 8, beams: 3, noCache: true });
    expect(cached.map((s) => s.tokens)).toEqual(full.map((s) => s.tokens));
    cached.forEach((s, i) => {
      expect(s.logprob).toBeCloseTo(full[i]!.logprob, 4);
    });
    // The beams are different sequences, so a wrong row order would have shown.
    expect(new Set(cached.map((s) => s.tokens.join(','))).size).toBe(3);
  });
});

describe('search', () => {
  it('greedy follows the locally best token', async () => {
    const g = await greedyDecode(choice, base);
    expect(g.code).toMatch(/^def add\(a, b\):\n {4}return a - [ab]\n$/);
    expect(g.finish).toBe('eos');
    expect(Math.exp(g.logprob)).toBeCloseTo(0.275, 4);
  });

  it('beam search returns the highest-scoring sequence, found by exhaustive search', async () => {
    const beams = await beamSearch(choice, { ...base, beams: 2, lengthPenalty: 0 });
    expect(beams[0]!.code).toBe('def add(a, b):\n    return b + a\n');
    expect(Math.exp(beams[0]!.logprob)).toBeCloseTo(0.45, 4);
    // Exhaustive: every path of the bigram table to the end of text.
    const table: Record<string, Record<string, number>> = {
      '    return': { ' a -': 0.55, ' b +': 0.45 },
      ' a -': { ' b': 0.5, ' a': 0.5 },
      ' b +': { ' a': 1 },
    };
    let best = 0;
    for (const [op, p1] of Object.entries(table['    return']!))
      for (const p2 of Object.values(table[op]!)) best = Math.max(best, p1 * p2);
    expect(Math.exp(beams[0]!.logprob)).toBeCloseTo(best, 4);
    expect(beams[1]!.logprob).toBeLessThanOrEqual(beams[0]!.logprob);
  });

  it('samples the same sequence for the same seed', async () => {
    const a = await sampleDecode(random, { ...base, seed: 3, topK: 20, topP: 0.9 });
    const b = await sampleDecode(random, { ...base, seed: 3, topK: 20, topP: 0.9 });
    expect(a.tokens).toEqual(b.tokens);
    const others = await Promise.all(
      [4, 5, 6, 7].map((seed) => sampleDecode(random, { ...base, seed, topK: 20 })),
    );
    expect(others.some((o) => o.tokens.join() !== a.tokens.join())).toBe(true);
  });
});

describe('syntax-aware decoding', () => {
  it('prunes a token that can never become valid code, which changes the result', async () => {
    const plain = await greedyDecode(breaking, base);
    expect(plain.code).toBe('def add(a, b):\n    return a )\n');
    const checker = await SyntaxChecker.create('python');
    const pruned = await greedyDecode(breaking, { ...base, syntax: checker });
    expect(pruned.code).toBe('def add(a, b):\n    return a\n');
    expect(checker.isComplete(pruned.code)).toBe(true);
    expect(checker.stats.checks).toBeGreaterThan(0);
    const beams = await beamSearch(breaking, { ...base, beams: 2, syntax: checker });
    expect(beams.every((b) => checker.isComplete(b.code))).toBe(true);
  });
});
