#!/usr/bin/env node
/**
 * Tiny models in the Hugging Face ONNX layout, built here because no model hub is reachable:
 * real ONNX graphs (written with onnx-proto) and real tokenizer files, small enough for tests,
 * loaded by the same code that loads a downloaded model.
 *
 *   node scripts/tiny-model.mjs embedding DIR [--dim N] [--seed N]
 *   node scripts/tiny-model.mjs decoder DIR [--seed N] [--fp16]
 *
 * `embedding`: a BERT-layout feature-extraction model. Layout (what @huggingface/transformers
 * reads for a local model directory):
 *   DIR/config.json            { model_type: "bert", hidden_size, vocab_size, ... }
 *   DIR/tokenizer.json         a WordPiece tokenizer (tokenizers' JSON format)
 *   DIR/tokenizer_config.json  { tokenizer_class: "BertTokenizer", ... }
 *   DIR/onnx/model.onnx        inputs input_ids, attention_mask [batch, sequence] int64;
 *                              output last_hidden_state [batch, sequence, dim] float32
 * The graph is an embedding lookup masked by the attention mask: each token's vector is a fixed
 * pseudo-random Gaussian one (seeded), so a mean-pooled sentence vector is a random projection of
 * the bag of word pieces, and cosine similarity approximates overlap of vocabulary. The vocabulary
 * holds the special tokens, every ASCII letter and digit alone and as a `##` continuation (so any
 * identifier tokenizes without [UNK]), and common sub-tokens of code.
 *
 * `decoder`: a Llama-layout causal LM (byte-level BPE tokenizer, ONNX graph with a KV cache) for
 * the tests of `ccx gen`; see writeDecoderModel for the layout, and its bigram mode for a model
 * whose next-token logits are set by hand.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Common sub-tokens of identifiers and keywords in JavaScript, TypeScript, Python and Go. */
const CODE_WORDS = `
  function return const let var class def self this import export from require module async await
  if else for while break continue switch case default try catch finally raise throw except with
  yield lambda new delete typeof instanceof in of is not and or none null undefined true false
  package func go defer chan map struct interface type range select string int float bool byte
  error err list dict set tuple array object number value values key keys item items index
  get set add remove update create read write open close load save parse format print log
  test assert equal expect check run start stop init main name path file dir data buffer size
  length count len first last next prev node tree root parent child children left right
  query string url http request response header body json text token line char code
  encode decode stringify split join replace match find search sort filter reduce push pop
  call apply bind args kwargs options config callback handler event listener emit error
`;

/** Deterministic PRNG (mulberry32), so the same seed gives the same bytes. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(random) {
  // Box-Muller; 1 - u keeps log away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** The WordPiece vocabulary, in id order. */
export function embeddingVocabulary() {
  const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const chars = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
  const punctuation = [...'!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'];
  const words = [...new Set(CODE_WORDS.split(/\s+/).filter((w) => w.length > 1))];
  return [...specials, ...punctuation, ...chars, ...chars.map((c) => `##${c}`), ...words];
}

/** tokenizers' JSON for a lowercasing BERT WordPiece tokenizer over `vocab`. */
export function wordPieceTokenizerJson(vocab) {
  const ids = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const special = (content) => ({
    id: ids[content],
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].map(special),
    normalizer: {
      type: 'BertNormalizer',
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [ids['[CLS]']], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [ids['[SEP]']], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

function tensor(name, dims, dataType, values) {
  const t = { name, dims, dataType };
  if (dataType === onnx.TensorProto.DataType.FLOAT) t.floatData = values;
  else t.int64Data = values;
  return t;
}

function valueInfo(name, elemType, shape) {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Encodes a model with one graph (opset 13 unless `opset` says otherwise), ir version 7. */
export function encodeModel(graph, opset = 13) {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'ccx scripts/tiny-model.mjs',
    opsetImport: [{ domain: '', version: opset }],
    graph,
  });
  return Buffer.from(onnx.ModelProto.encode(model).finish());
}

/**
 * Writes a tiny feature-extraction model to `dir`.
 * @param {string} dir
 * @param {{ dim?: number, seed?: number }} [options] dim: hidden size (default 32); seed: PRNG seed.
 * @returns {{ dir: string, vocabSize: number, dim: number }}
 */
export function writeEmbeddingModel(dir, options = {}) {
  const dim = options.dim ?? 32;
  const random = mulberry32(options.seed ?? 1);
  const vocab = embeddingVocabulary();
  const table = [];
  for (let i = 0; i < vocab.length * dim; i++) table.push(Math.fround(gaussian(random)));
  // Padding carries no meaning.
  for (let j = 0; j < dim; j++) table[j] = 0;
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;
  const graph = {
    name: 'tiny-embedding',
    initializer: [tensor('embeddings', [vocab.length, dim], FLOAT, table), tensor('axes', [1], INT64, [2])],
    node: [
      {
        opType: 'Gather',
        input: ['embeddings', 'input_ids'],
        output: ['gathered'],
        attribute: [{ name: 'axis', type: 2, i: 0 }],
      },
      { opType: 'Unsqueeze', input: ['attention_mask', 'axes'], output: ['mask3'] },
      { opType: 'Cast', input: ['mask3'], output: ['maskf'], attribute: [{ name: 'to', type: 2, i: FLOAT }] },
      { opType: 'Mul', input: ['gathered', 'maskf'], output: ['last_hidden_state'] },
    ],
    input: [
      valueInfo('input_ids', INT64, ['batch', 'sequence']),
      valueInfo('attention_mask', INT64, ['batch', 'sequence']),
    ],
    output: [valueInfo('last_hidden_state', FLOAT, ['batch', 'sequence', dim])],
  };
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  writeFileSync(path.join(dir, 'onnx', 'model.onnx'), encodeModel(graph));
  const json = (file, value) => writeFileSync(path.join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_size: dim,
    vocab_size: vocab.length,
    num_attention_heads: 1,
    num_hidden_layers: 0,
    max_position_embeddings: 512,
    type_vocab_size: 1,
  });
  json('tokenizer.json', wordPieceTokenizerJson(vocab));
  json('tokenizer_config.json', {
    tokenizer_class: 'BertTokenizer',
    do_lower_case: true,
    model_max_length: 512,
    cls_token: '[CLS]',
    sep_token: '[SEP]',
    pad_token: '[PAD]',
    unk_token: '[UNK]',
    mask_token: '[MASK]',
  });
  return { dir, vocabSize: vocab.length, dim };
}

/**
 * Extra tokens of the decoder vocabulary when the caller lists none: pieces of Python and
 * JavaScript, indentation and line ends, so `def add(a, b):\n    return a + b\n` encodes mostly
 * into whole tokens.
 */
export const DECODER_TOKENS = [
  'def',
  ' add',
  ' a',
  ' b',
  ' x',
  ' y',
  ' +',
  ' -',
  ' *',
  ' =',
  ' ==',
  ':\n',
  '):\n',
  '    ',
  '    return',
  ' return',
  'return',
  ' if',
  ' else',
  ' for',
  ' in',
  'self',
  'print',
  'import',
  'function',
  'const',
  ' {\n',
  '}\n',
  ';\n',
];

/** The end-of-text token: id 0, both bos and eos, as in GPT-2. */
const END_OF_TEXT = '<|endoftext|>';

/**
 * GPT-2's `bytes_to_unicode` table: byte n -> the one-character symbol that stands for it in a
 * byte-level BPE vocabulary. Printable Latin-1 bytes stand for themselves; the others (controls,
 * space, 0x7f-0xa0, 0xad) take U+0100 + k in byte order, so space is `Ġ` and newline `Ċ`.
 * Source: openai/gpt-2 src/encoder.py.
 * @returns {string[]} 256 symbols, indexed by byte.
 */
export function byteLevelAlphabet() {
  const printable = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols = [];
  let k = 0;
  for (let b = 0; b < 256; b++) symbols.push(String.fromCodePoint(printable(b) ? b : 256 + k++));
  return symbols;
}

const BYTE_SYMBOLS = byteLevelAlphabet();

/** `text` in byte-level form: its UTF-8 bytes, each as its symbol (`" a"` -> `"Ġa"`). */
export function toByteLevel(text) {
  return Array.from(new TextEncoder().encode(text), (b) => BYTE_SYMBOLS[b]).join('');
}

/**
 * BPE as tokenizers applies it to one word: merge the adjacent pair of lowest rank (leftmost on a
 * tie) until no pair has a rank.
 */
function applyMerges(symbols, ranks) {
  const word = [...symbols];
  for (;;) {
    let best = -1;
    let bestRank = Number.POSITIVE_INFINITY;
    for (let i = 0; i + 1 < word.length; i++) {
      const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
      if (rank !== undefined && rank < bestRank) {
        best = i;
        bestRank = rank;
      }
    }
    if (best < 0) return word;
    word.splice(best, 2, word[best] + word[best + 1]);
  }
}

/**
 * The byte-level BPE vocabulary and merges that make each of `tokens` one token.
 *
 * Ids: 0 `<|endoftext|>`, 1 + n the symbol of byte n (so 1..256), then, from 257, every merged
 * string in the order it was first built. Merges are made in the order of `tokens`: while a token
 * still encodes into more than one piece under the merges so far, the first two pieces are merged.
 * That is left to right (`Ġ r`, `Ġr e`, ...) except where rank order would split a token
 * otherwise: four spaces become `Ġ Ġ` then `ĠĠ ĠĠ`, as in GPT-2, since BPE applies a merge to
 * every pair of its rank before the next rank. Each token alone thus encodes to itself; inside a
 * longer text the merges of different tokens compete, as in any BPE.
 * @param {string[]} tokens plain strings (`"    return"`, `" a"`, `":\n"`), not byte-level.
 * @returns {{ vocab: string[], merges: string[] }} vocab in id order, in byte-level form; merges
 *   as `"left right"`, highest priority first.
 * @throws {Error} for an empty token or `<|endoftext|>`.
 */
export function decoderVocabulary(tokens) {
  const vocab = [END_OF_TEXT, ...BYTE_SYMBOLS];
  const known = new Set(vocab);
  const merges = [];
  const ranks = new Map();
  for (const token of tokens) {
    if (token === '' || token === END_OF_TEXT) {
      throw new Error(`cannot add ${JSON.stringify(token)} as an extra token: it is empty or special`);
    }
    for (;;) {
      const pieces = applyMerges(toByteLevel(token), ranks);
      if (pieces.length === 1) break;
      const merge = `${pieces[0]} ${pieces[1]}`;
      ranks.set(merge, merges.length);
      merges.push(merge);
      const merged = pieces[0] + pieces[1];
      if (!known.has(merged)) {
        known.add(merged);
        vocab.push(merged);
      }
    }
  }
  return { vocab, merges };
}

/**
 * tokenizers' JSON for a GPT-2 style byte-level BPE tokenizer over `vocab` and `merges`. The
 * pre-tokenizer does not split on GPT-2's regex (`use_regex: false`), so a token may span words
 * and line ends (`"):\n"`, `"    return"`).
 */
export function byteLevelBpeTokenizerJson(vocab, merges) {
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [
      {
        id: 0,
        content: END_OF_TEXT,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      },
    ],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      merges,
    },
  };
}

function gaussians(random, count, std) {
  const values = [];
  for (let i = 0; i < count; i++) values.push(Math.fround(std * gaussian(random)));
  return values;
}

/**
 * The graph of a pre-norm causal transformer (Llama-like, learned absolute positions) over
 * `weights`, with Hugging Face's decoder inputs and outputs. With `fp16`, past_key_values.*,
 * logits and present.* are float16 at the boundary, cast to and from float32 inside.
 */
function decoderGraph(weights, fp16) {
  const { FLOAT, FLOAT16, INT64, BOOL } = onnx.TensorProto.DataType;
  const { layers, heads, headDim, vocabSize, hidden } = weights;
  const node = (opType, input, output, attribute = []) => ({ opType, input, output: [output], attribute });
  const int = (name, i) => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
  const ints = (name, values) => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints: values });
  const pastNames = [];
  const presentNames = [];
  for (let l = 0; l < layers; l++) {
    pastNames.push(`past_key_values.${l}.key`, `past_key_values.${l}.value`);
    presentNames.push(`present.${l}.key`, `present.${l}.value`);
  }
  // Inside, every float tensor is float32; the fp16 file only casts at its boundary.
  const inner = (name) => (fp16 ? `${name}_fp32` : name);
  const nodes = [];
  if (fp16) for (const name of pastNames) nodes.push(node('Cast', [name], inner(name), [int('to', FLOAT)]));
  const initializer = [
    tensor('embed_tokens', [vocabSize, hidden], FLOAT, weights.embedTokens),
    tensor('embed_positions', [weights.maxPositions, hidden], FLOAT, weights.embedPositions),
    tensor('lm_head', [hidden, vocabSize], FLOAT, weights.lmHead),
    tensor('zero', [], INT64, [0]),
    tensor('one', [], INT64, [1]),
    tensor('two', [], INT64, [2]),
    tensor('axes_0', [1], INT64, [0]),
    tensor('axes_1', [1], INT64, [1]),
    tensor('axes_1_2', [2], INT64, [1, 2]),
    tensor('split_heads', [4], INT64, [0, 0, heads, headDim]),
    tensor('merge_heads', [3], INT64, [0, 0, heads * headDim]),
    tensor('scale', [], FLOAT, [Math.fround(1 / Math.sqrt(headDim))]),
    tensor('epsilon', [], FLOAT, [1e-6]),
    tensor('visible', [], FLOAT, [0]),
    // Finite, not -inf: a fully padded query row then softmaxes to a uniform row, not NaN.
    tensor('hidden_bias', [], FLOAT, [-1e9]),
  ];
  nodes.push(
    node('Gather', ['embed_tokens', 'input_ids'], 'token_embeddings', [int('axis', 0)]),
    node('Gather', ['embed_positions', 'position_ids'], 'position_embeddings', [int('axis', 0)]),
    node('Add', ['token_embeddings', 'position_embeddings'], 'hidden_0'),
    // The mask, from shapes: query i is at absolute position past + i and sees keys 0..past + i
    // whose attention_mask column is 1; it broadcasts to [batch, 1, sequence, total].
    node('Shape', ['input_ids'], 'input_shape'),
    node('Gather', ['input_shape', 'one'], 'sequence_length'),
    node('Shape', [inner('past_key_values.0.key')], 'past_shape'),
    node('Gather', ['past_shape', 'two'], 'past_length'),
    node('Add', ['past_length', 'sequence_length'], 'total_length'),
    node('Range', ['past_length', 'total_length', 'one'], 'query_positions'),
    node('Range', ['zero', 'total_length', 'one'], 'key_positions'),
    node('Unsqueeze', ['query_positions', 'axes_1'], 'query_column'),
    node('Unsqueeze', ['key_positions', 'axes_0'], 'key_row'),
    node('LessOrEqual', ['key_row', 'query_column'], 'causal'),
    node('Cast', ['attention_mask'], 'padding', [int('to', BOOL)]),
    node('Unsqueeze', ['padding', 'axes_1_2'], 'padding_4d'),
    node('And', ['causal', 'padding_4d'], 'allowed'),
    node('Where', ['allowed', 'visible', 'hidden_bias'], 'attention_bias'),
  );
  // RMS norm without a learned scale: keeps the random model's activations in range.
  const rmsNorm = (input, output) => {
    nodes.push(
      node('Mul', [input, input], `${output}_squares`),
      node('ReduceMean', [`${output}_squares`], `${output}_mean`, [ints('axes', [-1]), int('keepdims', 1)]),
      node('Add', [`${output}_mean`, 'epsilon'], `${output}_mean_eps`),
      node('Sqrt', [`${output}_mean_eps`], `${output}_rms`),
      node('Div', [input, `${output}_rms`], output),
    );
  };
  let residual = 'hidden_0';
  weights.blocks.forEach((layer, l) => {
    const p = `layers.${l}`;
    const attentionDim = heads * headDim;
    initializer.push(
      tensor(`${p}.q_proj`, [hidden, attentionDim], FLOAT, layer.q),
      tensor(`${p}.k_proj`, [hidden, attentionDim], FLOAT, layer.k),
      tensor(`${p}.v_proj`, [hidden, attentionDim], FLOAT, layer.v),
      tensor(`${p}.o_proj`, [attentionDim, hidden], FLOAT, layer.o),
      tensor(`${p}.up_proj`, [hidden, weights.mlp], FLOAT, layer.up),
      tensor(`${p}.down_proj`, [weights.mlp, hidden], FLOAT, layer.down),
    );
    rmsNorm(residual, `${p}.attention_input`);
    for (const x of ['q', 'k', 'v']) {
      nodes.push(
        node('MatMul', [`${p}.attention_input`, `${p}.${x}_proj`], `${p}.${x}`),
        node('Reshape', [`${p}.${x}`, 'split_heads'], `${p}.${x}_split`),
        node('Transpose', [`${p}.${x}_split`], `${p}.${x}_heads`, [ints('perm', [0, 2, 1, 3])]),
      );
    }
    const presentKey = inner(`present.${l}.key`);
    const presentValue = inner(`present.${l}.value`);
    nodes.push(
      node('Concat', [inner(`past_key_values.${l}.key`), `${p}.k_heads`], presentKey, [int('axis', 2)]),
      node('Concat', [inner(`past_key_values.${l}.value`), `${p}.v_heads`], presentValue, [int('axis', 2)]),
      node('Transpose', [presentKey], `${p}.keys_t`, [ints('perm', [0, 1, 3, 2])]),
      node('MatMul', [`${p}.q_heads`, `${p}.keys_t`], `${p}.scores`),
      node('Mul', [`${p}.scores`, 'scale'], `${p}.scaled`),
      node('Add', [`${p}.scaled`, 'attention_bias'], `${p}.masked`),
      node('Softmax', [`${p}.masked`], `${p}.probs`, [int('axis', -1)]),
      node('MatMul', [`${p}.probs`, presentValue], `${p}.context`),
      node('Transpose', [`${p}.context`], `${p}.context_t`, [ints('perm', [0, 2, 1, 3])]),
      node('Reshape', [`${p}.context_t`, 'merge_heads'], `${p}.context_merged`),
      node('MatMul', [`${p}.context_merged`, `${p}.o_proj`], `${p}.attention_output`),
      node('Add', [residual, `${p}.attention_output`], `${p}.after_attention`),
    );
    rmsNorm(`${p}.after_attention`, `${p}.mlp_input`);
    nodes.push(
      node('MatMul', [`${p}.mlp_input`, `${p}.up_proj`], `${p}.up`),
      node('Relu', [`${p}.up`], `${p}.activation`),
      node('MatMul', [`${p}.activation`, `${p}.down_proj`], `${p}.mlp_output`),
      node('Add', [`${p}.after_attention`, `${p}.mlp_output`], `${p}.output`),
    );
    residual = `${p}.output`;
  });
  nodes.push(node('MatMul', [residual, 'lm_head'], inner('logits')));
  if (fp16) {
    for (const name of ['logits', ...presentNames]) {
      nodes.push(node('Cast', [inner(name)], name, [int('to', FLOAT16)]));
    }
  }
  const floatType = fp16 ? FLOAT16 : FLOAT;
  const cacheShape = (length) => ['batch', heads, length, headDim];
  return {
    name: 'tiny-decoder',
    initializer,
    node: nodes,
    input: [
      valueInfo('input_ids', INT64, ['batch', 'sequence_length']),
      valueInfo('attention_mask', INT64, ['batch', 'total_sequence_length']),
      valueInfo('position_ids', INT64, ['batch', 'sequence_length']),
      ...pastNames.map((name) => valueInfo(name, floatType, cacheShape('past_sequence_length'))),
    ],
    output: [
      valueInfo('logits', floatType, ['batch', 'sequence_length', vocabSize]),
      ...presentNames.map((name) => valueInfo(name, floatType, cacheShape('total_sequence_length'))),
    ],
  };
}

/**
 * Writes a tiny decoder-only causal LM to `dir`, in the layout of a Hugging Face ONNX export
 * (what @huggingface/transformers and ccx gen read for a local model directory):
 *   DIR/config.json             { architectures: ["LlamaForCausalLM"], model_type: "llama", vocab_size,
 *                               hidden_size, num_hidden_layers, num_attention_heads,
 *                               num_key_value_heads, head_dim, bos_token_id, eos_token_id, ... }
 *   DIR/generation_config.json  { bos_token_id, eos_token_id, max_new_tokens: 64 }
 *   DIR/tokenizer.json          GPT-2 style byte-level BPE (see decoderVocabulary for the ids)
 *   DIR/tokenizer_config.json   { tokenizer_class: "GPT2Tokenizer", ... }
 *   DIR/onnx/model.onnx         opset 14; inputs input_ids, position_ids [batch, sequence_length]
 *                               int64, attention_mask [batch, total_sequence_length] int64,
 *                               past_key_values.{i}.key|value [batch, heads, past_sequence_length,
 *                               head_dim] float32; outputs logits [batch, sequence_length, vocab]
 *                               float32, present.{i}.key|value [batch, heads,
 *                               total_sequence_length, head_dim] float32 (past then new, axis 2)
 *   DIR/onnx/model_fp16.onnx    with options.fp16: the same model with float16 past, logits and
 *                               present (float32 inside)
 * The graph is a pre-norm transformer with learned positions: the attention mask is causal
 * (query at past + i sees keys 0..past + i) and hides attention_mask's 0 columns, computed from
 * shapes in the graph, so one pass over a sequence and steps through the KV cache give the same
 * logits, and past_sequence_length may be 0. A left-padded row gives the logits of the unpadded
 * row if its position_ids count from its first real token.
 *
 * Random mode (default): weights are seeded Gaussians of std 0.5 (output projections and the LM
 * head scaled down by their fan-in), hidden size heads * headDim: the next-token distribution is
 * neither flat nor one-hot (logits spread about 2, top probability 0.05 to 0.3). There is no final
 * norm, so that bigram mode can carry its one-hot residual stream to the LM head exactly.
 * Bigram mode (`options.bigram`): logits at every position are `bigram[token][next]` for listed
 * pairs and `floor` for the rest, whatever came before: the hidden size is the vocabulary size,
 * token embeddings are one-hot, position embeddings and the attention and MLP output projections
 * are zero (so the residual stream stays one-hot), and the LM head is the table. Attention still
 * runs on random projections, so the KV cache carries real values.
 *
 * @param {string} dir
 * @param {{ tokens?: string[], layers?: number, heads?: number, headDim?: number, mlp?: number,
 *   seed?: number, bigram?: Record<string, Record<string, number>>, floor?: number,
 *   fp16?: boolean }} [options] tokens: extra tokens as plain strings (default DECODER_TOKENS);
 *   layers (default 2), heads (2), headDim (8), mlp: MLP width (32); seed: PRNG seed (1);
 *   bigram: logits by token string (an extra token, a single byte character or `<|endoftext|>`);
 *   floor: the logit of unlisted pairs (-20); fp16: also write onnx/model_fp16.onnx.
 * @returns {{ dir: string, vocabSize: number, eosId: number, tokenIds: Record<string, number> }}
 *   tokenIds: the id of each extra token string.
 * @throws {Error} when a bigram token is not in the vocabulary.
 */
export function writeDecoderModel(dir, options = {}) {
  const layers = options.layers ?? 2;
  const heads = options.heads ?? 2;
  const headDim = options.headDim ?? 8;
  const mlp = options.mlp ?? 32;
  const tokens = options.tokens ?? DECODER_TOKENS;
  const random = mulberry32(options.seed ?? 1);
  const { vocab, merges } = decoderVocabulary(tokens);
  const ids = new Map(vocab.map((t, i) => [t, i]));
  const idOf = (token) => {
    const id = token === END_OF_TEXT ? 0 : ids.get(toByteLevel(token));
    if (id === undefined) {
      throw new Error(
        `bigram token ${JSON.stringify(token)} is not in the vocabulary: add it to options.tokens`,
      );
    }
    return id;
  };
  const vocabSize = vocab.length;
  const maxPositions = 512;
  const attentionDim = heads * headDim;
  const bigram = options.bigram;
  const hidden = bigram ? vocabSize : attentionDim;
  const std = 0.5;
  const zeros = (count) => new Array(count).fill(0);
  const weights = { layers, heads, headDim, vocabSize, hidden, mlp, maxPositions, blocks: [] };
  if (bigram) {
    const floor = options.floor ?? -20;
    weights.embedTokens = zeros(vocabSize * vocabSize);
    for (let i = 0; i < vocabSize; i++) weights.embedTokens[i * vocabSize + i] = 1;
    weights.embedPositions = zeros(maxPositions * hidden);
    weights.lmHead = new Array(vocabSize * vocabSize).fill(floor);
    for (const [from, row] of Object.entries(bigram)) {
      const f = idOf(from);
      for (const [to, logit] of Object.entries(row))
        weights.lmHead[f * vocabSize + idOf(to)] = Math.fround(logit);
    }
  } else {
    weights.embedTokens = gaussians(random, vocabSize * hidden, std);
    weights.embedPositions = gaussians(random, maxPositions * hidden, std);
    // Scaled by fan-in, so the logits' spread (about 2) does not grow with the hidden size.
    weights.lmHead = gaussians(random, hidden * vocabSize, 1 / Math.sqrt(hidden));
  }
  for (let l = 0; l < layers; l++) {
    weights.blocks.push({
      q: gaussians(random, hidden * attentionDim, std),
      k: gaussians(random, hidden * attentionDim, std),
      v: gaussians(random, hidden * attentionDim, std),
      // Output projections scaled by fan-in so that the residual stream, which has no final norm,
      // stays near unit size instead of growing with every layer.
      o: bigram
        ? zeros(attentionDim * hidden)
        : gaussians(random, attentionDim * hidden, std / Math.sqrt(attentionDim)),
      up: gaussians(random, hidden * mlp, std),
      down: bigram ? zeros(mlp * hidden) : gaussians(random, mlp * hidden, std / Math.sqrt(mlp)),
    });
  }
  mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  writeFileSync(path.join(dir, 'onnx', 'model.onnx'), encodeModel(decoderGraph(weights, false), 14));
  if (options.fp16) {
    writeFileSync(path.join(dir, 'onnx', 'model_fp16.onnx'), encodeModel(decoderGraph(weights, true), 14));
  }
  const json = (file, value) => writeFileSync(path.join(dir, file), `${JSON.stringify(value, null, 2)}\n`);
  json('config.json', {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: vocabSize,
    hidden_size: hidden,
    intermediate_size: mlp,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: heads,
    head_dim: headDim,
    max_position_embeddings: maxPositions,
    rms_norm_eps: 1e-6,
    bos_token_id: 0,
    eos_token_id: 0,
    tie_word_embeddings: false,
    use_cache: true,
    torch_dtype: 'float32',
  });
  json('generation_config.json', { bos_token_id: 0, eos_token_id: 0, max_new_tokens: 64 });
  json('tokenizer.json', byteLevelBpeTokenizerJson(vocab, merges));
  json('tokenizer_config.json', {
    tokenizer_class: 'GPT2Tokenizer',
    bos_token: END_OF_TEXT,
    eos_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
    model_max_length: maxPositions,
    add_bos_token: false,
    // tokenizers would otherwise turn " ," into "," and so on when decoding, which breaks code.
    clean_up_tokenization_spaces: false,
  });
  const tokenIds = Object.fromEntries(tokens.map((t) => [t, ids.get(toByteLevel(t))]));
  return { dir, vocabSize, eosId: 0, tokenIds };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [kind, dir, ...rest] = process.argv.slice(2);
  const flag = (name) => {
    const i = rest.indexOf(name);
    return i < 0 ? undefined : Number(rest[i + 1]);
  };
  if (kind === 'embedding' && dir !== undefined) {
    const info = writeEmbeddingModel(path.resolve(dir), { dim: flag('--dim'), seed: flag('--seed') });
    console.log(
      `wrote a ${info.dim}-dimension embedding model (${info.vocabSize} word pieces) to ${info.dir}`,
    );
  } else if (kind === 'decoder' && dir !== undefined) {
    const info = writeDecoderModel(path.resolve(dir), {
      seed: flag('--seed'),
      fp16: rest.includes('--fp16'),
    });
    console.log(`wrote a decoder model (${info.vocabSize} tokens) to ${info.dir}`);
  } else {
    console.error('usage: node scripts/tiny-model.mjs embedding DIR [--dim N] [--seed N]');
    console.error('       node scripts/tiny-model.mjs decoder DIR [--seed N] [--fp16]');
    process.exit(2);
  }
}
