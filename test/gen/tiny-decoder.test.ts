/**
 * The tiny decoder-only models of scripts/tiny-model.mjs, which the tests of `ccx gen` decode
 * with: the byte-level BPE tokenizer loads in @huggingface/tokenizers and round-trips code, and the
 * ONNX graph run in onnxruntime-node gives the same logits in one pass, through the KV cache and
 * under left padding; the bigram model's logits are its table; the fp16 file speaks float16.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { DECODER_TOKENS, writeDecoderModel } from '../../scripts/tiny-model.mjs';

interface DecoderInfo {
  dir: string;
  vocabSize: number;
  eosId: number;
  tokenIds: Record<string, number>;
}

const LAYERS = 2;
const HEADS = 2;
const HEAD_DIM = 8;
const CODE = 'def add(a, b):\n    return a + b\n';

const temps: string[] = [];
function makeTemp(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ccx-tiny-decoder-'));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

let random: DecoderInfo;
let bigram: DecoderInfo;
beforeAll(() => {
  random = writeDecoderModel(path.join(makeTemp(), 'random'), { seed: 3, fp16: true });
  bigram = writeDecoderModel(path.join(makeTemp(), 'bigram'), {
    seed: 5,
    bigram: {
      '<|endoftext|>': { def: 7 },
      def: { ' add': 5, ' a': 1.5 },
      ' add': { '(': 4 },
      '(': { a: 3, ')': -1 },
      a: { ',': 2.5, '<|endoftext|>': 0.25 },
    },
  });
});

function loadTokenizer(dir: string): Tokenizer {
  const read = (file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  return new Tokenizer(read('tokenizer.json'), read('tokenizer_config.json'));
}

/** The id of a single-byte token: byte n has id 1 + n. */
const byteId = (char: string) => 1 + char.charCodeAt(0);

type Cache = Record<string, ort.Tensor>;

function emptyCache(type: 'float32' | 'float16', batch: number): Cache {
  const cache: Cache = {};
  for (let l = 0; l < LAYERS; l++) {
    for (const kind of ['key', 'value']) {
      const data = type === 'float32' ? new Float32Array(0) : new Uint16Array(0);
      cache[`past_key_values.${l}.${kind}`] = new ort.Tensor(type, data, [batch, HEADS, 0, HEAD_DIM]);
    }
  }
  return cache;
}

const int64 = (rows: number[][]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat().map(BigInt)), [rows.length, rows[0]!.length]);

/** Runs one step: logits [batch][position][vocab] as numbers, and the cache for the next step. */
async function step(
  session: ort.InferenceSession,
  ids: number[][],
  mask: number[][],
  positions: number[][],
  past: Cache,
): Promise<{ logits: number[][][]; cache: Cache }> {
  const out = await session.run({
    input_ids: int64(ids),
    attention_mask: int64(mask),
    position_ids: int64(positions),
    ...past,
  });
  const logitsTensor = out.logits!;
  const [batch, sequence, vocab] = logitsTensor.dims as [number, number, number];
  const flat =
    logitsTensor.type === 'float16'
      ? Array.from(logitsTensor.data as Uint16Array, halfToNumber)
      : Array.from(logitsTensor.data as Float32Array);
  const logits = Array.from({ length: batch }, (_, b) =>
    Array.from({ length: sequence }, (_, s) =>
      flat.slice((b * sequence + s) * vocab, (b * sequence + s + 1) * vocab),
    ),
  );
  const cache: Cache = {};
  for (const name of Object.keys(past)) cache[name] = out[name.replace('past_key_values', 'present')]!;
  return { logits, cache };
}

/** Runs `ids` (one row, no padding) from position `start` after `past`. */
function stepRow(session: ort.InferenceSession, ids: number[], start: number, past: Cache) {
  const total = start + ids.length;
  const positions = ids.map((_, i) => start + i);
  return step(session, [ids], [new Array(total).fill(1)], [positions], past);
}

function maxAbsDiff(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}

/** IEEE 754 binary16 bits -> number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

describe('the decoder tokenizer', () => {
  it('encodes code into the listed tokens and decodes it back byte for byte', () => {
    const tokenizer = loadTokenizer(random.dir);
    const { ids } = tokenizer.encode(CODE);
    const t = random.tokenIds;
    expect(ids).toEqual([
      t.def,
      t[' add'],
      byteId('('),
      byteId('a'),
      byteId(','),
      t[' b'],
      t['):\n'],
      t['    return'],
      t[' a'],
      t[' +'],
      t[' b'],
      byteId('\n'),
    ]);
    expect(tokenizer.decode(ids)).toBe(CODE);
    expect(tokenizer.decode([...ids, random.eosId], { skip_special_tokens: true })).toBe(CODE);
  });

  it('gives every extra token alone its own id, and knows <|endoftext|> as id 0', () => {
    const tokenizer = loadTokenizer(random.dir);
    for (const token of DECODER_TOKENS as string[]) {
      expect(tokenizer.encode(token).ids, JSON.stringify(token)).toEqual([random.tokenIds[token]]);
    }
    expect(tokenizer.encode('<|endoftext|>def').ids).toEqual([0, random.tokenIds.def]);
    expect(random.eosId).toBe(0);
    expect(tokenizer.get_vocab().size).toBe(random.vocabSize);
  });

  it('round-trips text outside the extra tokens through the byte symbols', () => {
    const tokenizer = loadTokenizer(random.dir);
    const text = 'é → ∑\t{x: 1}\r\n';
    expect(tokenizer.decode(tokenizer.encode(text).ids)).toBe(text);
  });

  it('writes the config files a Llama export has', () => {
    const config = JSON.parse(readFileSync(path.join(random.dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: random.vocabSize,
      hidden_size: HEADS * HEAD_DIM,
      num_hidden_layers: LAYERS,
      num_attention_heads: HEADS,
      num_key_value_heads: HEADS,
      head_dim: HEAD_DIM,
      eos_token_id: 0,
      bos_token_id: 0,
    });
    const generation = JSON.parse(readFileSync(path.join(random.dir, 'generation_config.json'), 'utf8'));
    expect(generation).toEqual({ bos_token_id: 0, eos_token_id: 0, max_new_tokens: 64 });
  });
});

describe('the random decoder', () => {
  let session: ort.InferenceSession;
  let ids: number[];
  beforeAll(async () => {
    session = await ort.InferenceSession.create(path.join(random.dir, 'onnx', 'model.onnx'));
    ids = loadTokenizer(random.dir).encode(CODE).ids.slice(0, 6);
  });

  it('has the Hugging Face decoder inputs and outputs', () => {
    const cacheNames = (prefix: string) =>
      Array.from({ length: LAYERS }, (_, l) => [`${prefix}.${l}.key`, `${prefix}.${l}.value`]).flat();
    expect(session.inputNames).toEqual([
      'input_ids',
      'attention_mask',
      'position_ids',
      ...cacheNames('past_key_values'),
    ]);
    expect(session.outputNames).toEqual(['logits', ...cacheNames('present')]);
  });

  it('gives the same logits in one pass, in two chunks and one token at a time through the KV cache', async () => {
    const full = await stepRow(session, ids, 0, emptyCache('float32', 1));
    expect(full.cache['past_key_values.1.value']!.dims).toEqual([1, HEADS, 6, HEAD_DIM]);
    const spread = Math.max(...full.logits[0]![5]!) - Math.min(...full.logits[0]![5]!);
    expect(spread).toBeGreaterThan(3);

    const first = await stepRow(session, ids.slice(0, 3), 0, emptyCache('float32', 1));
    const second = await stepRow(session, ids.slice(3), 3, first.cache);
    for (let i = 0; i < 3; i++) {
      expect(maxAbsDiff(first.logits[0]![i]!, full.logits[0]![i]!)).toBeLessThan(1e-4);
      expect(maxAbsDiff(second.logits[0]![i]!, full.logits[0]![3 + i]!)).toBeLessThan(1e-4);
    }

    let cache = emptyCache('float32', 1);
    for (let i = 0; i < ids.length; i++) {
      const single = await stepRow(session, [ids[i]!], i, cache);
      expect(maxAbsDiff(single.logits[0]![0]!, full.logits[0]![i]!)).toBeLessThan(1e-4);
      cache = single.cache;
    }
  });

  it('ignores left padding that the attention mask hides, in the pass and in the next step', async () => {
    const short = ids.slice(2);
    const alone = await stepRow(session, ids, 0, emptyCache('float32', 1));
    const shortAlone = await stepRow(session, short, 0, emptyCache('float32', 1));
    // Position ids count from the first real token, as Hugging Face computes them for padding.
    const batch = await step(
      session,
      [ids, [0, 0, ...short]],
      [
        [1, 1, 1, 1, 1, 1],
        [0, 0, 1, 1, 1, 1],
      ],
      [
        [0, 1, 2, 3, 4, 5],
        [1, 1, 0, 1, 2, 3],
      ],
      emptyCache('float32', 2),
    );
    expect(maxAbsDiff(batch.logits[0]![5]!, alone.logits[0]![5]!)).toBeLessThan(1e-4);
    for (let i = 0; i < short.length; i++) {
      expect(maxAbsDiff(batch.logits[1]![2 + i]!, shortAlone.logits[0]![i]!)).toBeLessThan(1e-4);
    }

    const next = random.tokenIds[' a']!;
    const batchNext = await step(
      session,
      [[next], [next]],
      [
        [1, 1, 1, 1, 1, 1, 1],
        [0, 0, 1, 1, 1, 1, 1],
      ],
      [[6], [4]],
      batch.cache,
    );
    const aloneNext = await stepRow(session, [next], 6, alone.cache);
    const shortNext = await stepRow(session, [next], 4, shortAlone.cache);
    expect(maxAbsDiff(batchNext.logits[0]![0]!, aloneNext.logits[0]![0]!)).toBeLessThan(1e-4);
    expect(maxAbsDiff(batchNext.logits[1]![0]!, shortNext.logits[0]![0]!)).toBeLessThan(1e-4);

    // Without the mask the padding is seen: the mask is what made the rows agree.
    const unmasked = await step(session, [[0, 0, ...short]], [[1, 1, 1, 1, 1, 1]], [[1, 1, 0, 1, 2, 3]], {
      ...emptyCache('float32', 1),
    });
    expect(maxAbsDiff(unmasked.logits[0]![5]!, shortAlone.logits[0]![3]!)).toBeGreaterThan(1e-2);
  });

  it('writes model_fp16.onnx: float16 cache in, float16 logits and cache out, close to float32', async () => {
    const half = await ort.InferenceSession.create(path.join(random.dir, 'onnx', 'model_fp16.onnx'));
    const full = await stepRow(session, ids, 0, emptyCache('float32', 1));
    const first = await stepRow(half, ids.slice(0, 4), 0, emptyCache('float16', 1));
    expect(first.cache['past_key_values.0.key']!.type).toBe('float16');
    expect(first.cache['past_key_values.0.key']!.dims).toEqual([1, HEADS, 4, HEAD_DIM]);
    const second = await step(half, [ids.slice(4)], [[1, 1, 1, 1, 1, 1]], [[4, 5]], first.cache);
    expect(maxAbsDiff(first.logits[0]![3]!, full.logits[0]![3]!)).toBeLessThan(0.05);
    expect(maxAbsDiff(second.logits[0]![1]!, full.logits[0]![5]!)).toBeLessThan(0.05);
  });
});

describe('the bigram decoder', () => {
  let session: ort.InferenceSession;
  let table: Map<number, Map<number, number>>;
  beforeAll(async () => {
    session = await ort.InferenceSession.create(path.join(bigram.dir, 'onnx', 'model.onnx'));
    const t = bigram.tokenIds;
    table = new Map([
      [0, new Map([[t.def!, 7]])],
      [
        t.def!,
        new Map([
          [t[' add']!, 5],
          [t[' a']!, 1.5],
        ]),
      ],
      [t[' add']!, new Map([[byteId('('), 4]])],
      [
        byteId('('),
        new Map([
          [byteId('a'), 3],
          [byteId(')'), -1],
        ]),
      ],
      [
        byteId('a'),
        new Map([
          [byteId(','), 2.5],
          [0, 0.25],
        ]),
      ],
    ]);
  });

  /** The logits the table sets after `id`: listed entries, -20 elsewhere. */
  function expected(id: number): number[] {
    const row = table.get(id) ?? new Map<number, number>();
    return Array.from({ length: bigram.vocabSize }, (_, to) => row.get(to) ?? -20);
  }

  it('outputs the table at every position of a pass and of steps through the KV cache', async () => {
    const t = bigram.tokenIds;
    const ids = [0, t.def!, t[' add']!, byteId('('), byteId('a'), byteId('('), t[' b']!];
    const full = await stepRow(session, ids, 0, emptyCache('float32', 1));
    ids.forEach((id, i) => {
      expect(maxAbsDiff(full.logits[0]![i]!, expected(id))).toBeLessThan(1e-6);
    });

    let cache = emptyCache('float32', 1);
    let start = 0;
    for (const chunk of [ids.slice(0, 2), ids.slice(2, 3), ids.slice(3)]) {
      const out = await stepRow(session, chunk, start, cache);
      chunk.forEach((id, i) => {
        expect(maxAbsDiff(out.logits[0]![i]!, expected(id))).toBeLessThan(1e-6);
      });
      expect(out.cache['past_key_values.0.key']!.dims).toEqual([1, HEADS, start + chunk.length, HEAD_DIM]);
      cache = out.cache;
      start += chunk.length;
    }
  });

  it('refuses a bigram token that is not in the vocabulary', () => {
    expect(() =>
      writeDecoderModel(path.join(makeTemp(), 'bad'), { bigram: { def: { ' nope': 1 } } }),
    ).toThrow(/" nope" is not in the vocabulary/);
  });
});
