#!/usr/bin/env node
/**
 * Tiny models in the Hugging Face ONNX layout, built here because no model hub is reachable:
 * real ONNX graphs (written with onnx-proto) and real tokenizer files, small enough for tests,
 * loaded by the same code that loads a downloaded model.
 *
 *   node scripts/tiny-model.mjs embedding DIR [--dim N] [--seed N]
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

/** Encodes a model with one graph (opset 13), ir version 7. */
export function encodeModel(graph) {
  const model = onnx.ModelProto.create({
    irVersion: 7,
    producerName: 'ccx scripts/tiny-model.mjs',
    opsetImport: [{ domain: '', version: 13 }],
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [kind, dir, ...rest] = process.argv.slice(2);
  const flag = (name) => {
    const i = rest.indexOf(name);
    return i < 0 ? undefined : Number(rest[i + 1]);
  };
  if (kind !== 'embedding' || dir === undefined) {
    console.error('usage: node scripts/tiny-model.mjs embedding DIR [--dim N] [--seed N]');
    process.exit(2);
  }
  const info = writeEmbeddingModel(path.resolve(dir), { dim: flag('--dim'), seed: flag('--seed') });
  console.log(`wrote a ${info.dim}-dimension embedding model (${info.vocabSize} word pieces) to ${info.dir}`);
}
