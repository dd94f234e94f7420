/**
 * A local decoder-only code model in the Hugging Face ONNX layout, run by onnxruntime-node:
 *
 *   DIR/config.json               num_hidden_layers, num_attention_heads, num_key_value_heads,
 *                                 hidden_size, head_dim (optional), vocab_size, eos_token_id
 *   DIR/generation_config.json    eos_token_id (a number or a list), bos_token_id (optional)
 *   DIR/tokenizer.json            the tokenizers library's JSON (read by @huggingface/tokenizers)
 *   DIR/tokenizer_config.json     add_bos_token, special tokens (optional)
 *   DIR/onnx/model{,_fp16,_quantized,_q4}.onnx
 *       inputs  input_ids [batch, sequence] int64, attention_mask [batch, past + sequence] int64,
 *               position_ids [batch, sequence] int64 (when the graph has it),
 *               past_key_values.N.key / .value [batch, kv_heads, past, head_dim] (float32 or float16)
 *       outputs logits [batch, sequence, vocab], present.N.key / .value [batch, kv_heads, past +
 *               sequence, head_dim]
 *
 * This is the layout Hugging Face Optimum exports for text generation with past key values and
 * that transformers.js loads (`onnx/` and the dtype suffixes are transformers.js's). The
 * decoding loop itself is ccx's own (src/gen/decode.ts).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { CcxError, UsageError } from '../errors.js';
import { DTYPE_FILES, listAvailableDtypes, type ModelDtype } from './hub.js';

/** Where the model runs. `auto` takes CUDA when its execution provider loads, else the CPU. */
export type DeviceOption = 'cpu' | 'cuda' | 'auto';
/** Weight formats by the file-name suffixes transformers.js uses ({@link DTYPE_FILES}). */
export type Dtype = ModelDtype;

/** The CUDA execution provider of onnxruntime-node is missing or cannot start (exit 2). */
export class CudaUnavailableError extends CcxError {
  constructor(message: string, cause?: unknown) {
    super('CCX_CUDA_UNAVAILABLE', message, {
      hint: 'install onnxruntime-node with its CUDA 12 binaries (npm ci --onnxruntime-node-install=cuda12; needs an NVIDIA driver, CUDA 12 and cuDNN 9), or pass --device cpu, or --device auto to fall back',
      cause,
    });
  }
}

/** The model directory is incomplete or not a decoder in the expected layout (exit 2). */
export class ModelError extends CcxError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CCX_MODEL', message, {
      hint:
        options.hint ??
        'get a model with `ccx model pull REPO_ID` (an ONNX export of a code model) and pass --model DIR',
      cause: options.cause,
    });
  }
}

/** The key/value cache of a batch: one `present.N.key/value` tensor pair per layer. */
export interface KvCache {
  /** `[batch, kv_heads, length, head_dim]` each, in layer order: key 0, value 0, key 1, ... */
  tensors: Ort.Tensor[];
  batch: number;
  /** Positions held (past length). */
  length: number;
}

/** What one forward step returns. */
export interface StepOutput {
  /** Logits of the last position of each row, `batch × vocab`, row-major, float32. */
  logits: Float32Array;
  cache: KvCache;
  /** Milliseconds inside `session.run` (the rest of the step is ccx's: feeds, logits, cache). */
  runMs: number;
}

/** A tokenizer reduced to what decoding needs. */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: number[]): string;
  /** The bytes a token adds to the text (UTF-8; a byte-level token may hold part of a character). */
  tokenBytes(id: number): Uint8Array;
}

/** A loaded model. */
export interface CausalLM {
  /** The repository id (from ccx-model.json or config.json's `_name_or_path`), else the directory's name. */
  id: string;
  dir: string;
  onnxFile: string;
  /** sha256 (hex) of the ONNX file. */
  sha256: string;
  dtype: Dtype;
  device: 'cpu' | 'cuda';
  /** Why the device was chosen, for `--device auto`. */
  deviceNote?: string;
  vocabSize: number;
  /** Positions the model was trained for (config.json `max_position_embeddings`, `n_positions` or `n_ctx`), if given. */
  maxPositions: number | undefined;
  layers: number;
  kvHeads: number;
  headDim: number;
  kvType: 'float32' | 'float16';
  eosIds: ReadonlySet<number>;
  bosId: number | undefined;
  addBos: boolean;
  tokenizer: TextTokenizer;
  /** Runs the model on `ids` (`batch` rows of equal length) after `cache` (null: no past). */
  step(ids: number[][], cache: KvCache | null): Promise<StepOutput>;
  /**
   * Keeps rows `rows[i]` of the cache as row `i` (beam reordering); rows may repeat. With the same
   * batch size the cache is reordered in place and returned; else a new one is made.
   */
  selectRows(cache: KvCache, rows: number[]): KvCache;
  release(): Promise<void>;
}

let ortModule: Promise<typeof Ort> | undefined;
/** onnxruntime-node, loaded on first use (it takes ~100 ms and a native library). */
export function loadOrt(): Promise<typeof Ort> {
  ortModule ??= import('onnxruntime-node') as Promise<typeof Ort>;
  return ortModule;
}

/**
 * Where onnxruntime-node keeps its native libraries; the CUDA provider
 * (`libonnxruntime_providers_cuda.so`) is there only when installed with
 * `--onnxruntime-node-install=cuda12`.
 */
export function ortBinaryDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
  return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
}

/** Whether onnxruntime-node's CUDA execution provider is installed, and if not, why. */
export function cudaProviderStatus(): { installed: boolean; reason?: string } {
  if (!['linux', 'win32'].includes(process.platform) || process.arch !== 'x64')
    return {
      installed: false,
      reason: `onnxruntime-node has no CUDA provider for ${process.platform}/${process.arch}`,
    };
  const lib =
    process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
  const file = path.join(process.env.CCX_ORT_BIN_DIR ?? ortBinaryDir(), lib);
  return existsSync(file)
    ? { installed: true }
    : {
        installed: false,
        reason: `onnxruntime-node was installed without its CUDA provider (${file} is missing)`,
      };
}

function readJson(file: string, required: boolean): Record<string, unknown> | undefined {
  if (!existsSync(file)) {
    if (required)
      throw new ModelError(
        `${path.dirname(file)} is not a model directory: ${path.basename(file)} is missing`,
      );
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new ModelError(`${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** The ONNX file of a dtype in `dir/onnx`, or an error listing the dtypes present. */
export function findOnnxFile(dir: string, dtype: Dtype): string {
  for (const name of DTYPE_FILES[dtype]) {
    const file = path.join(dir, name);
    if (existsSync(file)) return file;
  }
  const present = listAvailableDtypes(
    Object.values(DTYPE_FILES)
      .flat()
      .filter((f) => existsSync(path.join(dir, f))),
  );
  throw new ModelError(`${dir} has no ${dtype} model (looked for ${DTYPE_FILES[dtype].join(', ')})`, {
    hint:
      present.length > 0
        ? `it has ${present.join(', ')}: pass --dtype ${present[0]}`
        : 'get an ONNX export with `ccx model pull REPO_ID --dtype DTYPE`',
  });
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** GPT-2's table from bytes to the printable characters byte-level BPE writes them as. */
function byteLevelDecoder(): Map<string, number> {
  const bytes: number[] = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const chars = [...bytes];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + n++);
    }
  }
  return new Map(bytes.map((b, i) => [String.fromCodePoint(chars[i]!), b]));
}

/** Whether a tokenizers decoder (or a Sequence of them) holds one of `types`. */
function hasDecoder(decoder: unknown, types: string[]): boolean {
  const d = decoder as { type?: string; decoders?: unknown[] } | null | undefined;
  if (d == null) return false;
  if (d.type !== undefined && types.includes(d.type)) return true;
  return (d.decoders ?? []).some((x) => hasDecoder(x, types));
}

/**
 * The tokenizer of `dir` through @huggingface/tokenizers, plus the per-token bytes decoding needs:
 * byte-level BPE (GPT-2, most code models) maps each character back to its byte; SentencePiece
 * style (`▁` for a space, `<0x0A>` byte fallback) likewise; any other decodes the token alone.
 */
async function loadTokenizer(
  dir: string,
): Promise<{ tokenizer: TextTokenizer; special: Set<number>; addBos: boolean }> {
  const json = readJson(path.join(dir, 'tokenizer.json'), true)!;
  const config = readJson(path.join(dir, 'tokenizer_config.json'), false) ?? {};
  const { Tokenizer } = await import('@huggingface/tokenizers');
  let tk: InstanceType<typeof Tokenizer>;
  try {
    tk = new Tokenizer(json, config);
  } catch (cause) {
    throw new ModelError(`cannot load ${path.join(dir, 'tokenizer.json')}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const special = new Set<number>();
  for (const t of (json.added_tokens as { id: number; special?: boolean }[] | undefined) ?? [])
    if (t.special) special.add(t.id);
  const byteLevel = hasDecoder(json.decoder, ['ByteLevel']) ? byteLevelDecoder() : undefined;
  const metaspace = hasDecoder(json.decoder, ['Metaspace', 'Replace', 'ByteFallback']);
  const encoder = new TextEncoder();
  const cache = new Map<number, Uint8Array>();
  const tokenBytes = (id: number): Uint8Array => {
    let bytes = cache.get(id);
    if (bytes !== undefined) return bytes;
    const piece = special.has(id) ? '' : (tk.id_to_token(id) ?? '');
    if (byteLevel !== undefined) {
      bytes = Uint8Array.from([...piece].map((c) => byteLevel.get(c) ?? 63));
    } else if (metaspace) {
      const hex = /^<0x([0-9A-Fa-f]{2})>$/.exec(piece);
      bytes = hex ? Uint8Array.of(Number.parseInt(hex[1]!, 16)) : encoder.encode(piece.replaceAll('▁', ' '));
    } else {
      bytes = encoder.encode(tk.decode([id], { skip_special_tokens: true }));
    }
    cache.set(id, bytes);
    return bytes;
  };
  return {
    tokenizer: {
      encode: (text) => tk.encode(text, { add_special_tokens: false }).ids,
      decode: (ids) => tk.decode(ids, { skip_special_tokens: true }),
      tokenBytes,
    },
    special,
    addBos: config.add_bos_token === true,
  };
}

function numberList(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((v): v is number => typeof v === 'number');
  return [];
}

/** Options of {@link loadCausalLM}. */
export interface LoadModelOptions {
  device?: DeviceOption;
  dtype?: Dtype;
  /** Threads for one operator on the CPU (onnxruntime's default: one per core). */
  threads?: number;
}

/**
 * Loads the model in `dir` for decoding.
 * @throws ModelError when a file of the layout is missing or malformed, or the graph lacks the
 *   KV-cache inputs; CudaUnavailableError for `device: 'cuda'` without a working CUDA provider
 *   (never a silent CPU fallback; `auto` falls back and says so in `deviceNote`)
 */
export async function loadCausalLM(dir: string, options: LoadModelOptions = {}): Promise<CausalLM> {
  const absolute = path.resolve(dir);
  if (!existsSync(absolute)) throw new ModelError(`the model directory ${absolute} does not exist`);
  const config = readJson(path.join(absolute, 'config.json'), true)!;
  const generation = readJson(path.join(absolute, 'generation_config.json'), false) ?? {};
  const pulled = readJson(path.join(absolute, 'ccx-model.json'), false);
  const dtype = options.dtype ?? 'fp32';
  const onnxFile = findOnnxFile(absolute, dtype);
  const deviceOption = options.device ?? 'cpu';
  const { tokenizer, special, addBos } = await loadTokenizer(absolute);

  let device: 'cpu' | 'cuda' = 'cpu';
  let deviceNote: string | undefined;
  if (deviceOption !== 'cpu') {
    const status = cudaProviderStatus();
    if (status.installed) device = 'cuda';
    else if (deviceOption === 'cuda') throw new CudaUnavailableError(`--device cuda: ${status.reason}`);
    else deviceNote = `CPU (${status.reason})`;
  }

  const ort = await loadOrt();
  const sessionOptions: Ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: 'all',
    executionProviders: device === 'cuda' ? ['cuda'] : ['cpu'],
    ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
  };
  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(onnxFile, sessionOptions);
  } catch (cause) {
    if (device === 'cuda' && deviceOption === 'cuda')
      throw new CudaUnavailableError(
        `the CUDA execution provider could not start: ${(cause as Error).message}`,
        cause,
      );
    if (device === 'cuda') {
      deviceNote = `CPU (the CUDA provider could not start: ${(cause as Error).message.split('\n')[0]})`;
      device = 'cpu';
      session = await ort.InferenceSession.create(onnxFile, {
        ...sessionOptions,
        executionProviders: ['cpu'],
      });
    } else throw new ModelError(`cannot load ${onnxFile}: ${(cause as Error).message}`, { cause });
  }
  if (device === 'cuda' && deviceOption === 'auto') deviceNote = 'CUDA (its execution provider loaded)';

  const inputs = new Set(session.inputNames);
  for (const required of ['input_ids', 'attention_mask', 'past_key_values.0.key'])
    if (!inputs.has(required))
      throw new ModelError(
        `${onnxFile} has no input ${required}: ccx needs a decoder exported with past key values`,
        {
          hint: 'export it with Optimum for text-generation-with-past, or pull an ONNX repository made for transformers.js',
        },
      );
  let layers = 0;
  while (inputs.has(`past_key_values.${layers}.key`)) layers++;
  const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
  const kvType = meta?.isTensor && meta.type === 'float16' ? 'float16' : 'float32';
  const shape = meta?.isTensor ? meta.shape : [];
  const heads = Number(config.num_attention_heads);
  const kvHeads =
    typeof shape[1] === 'number'
      ? shape[1]
      : Number(config.num_key_value_heads ?? config.num_attention_heads);
  const headDim =
    typeof shape[3] === 'number'
      ? shape[3]
      : Number(config.head_dim ?? Number(config.hidden_size) / (Number.isFinite(heads) ? heads : 1));
  if (!Number.isInteger(kvHeads) || !Number.isInteger(headDim) || kvHeads < 1 || headDim < 1)
    throw new ModelError(
      `${path.join(absolute, 'config.json')} does not give the KV-cache shape (num_key_value_heads, head_dim)`,
    );
  const eosIds = new Set([...numberList(generation.eos_token_id), ...numberList(config.eos_token_id)]);
  const bos = numberList(generation.bos_token_id ?? config.bos_token_id)[0];
  const usesPositions = inputs.has('position_ids');
  const usesCacheBranch = inputs.has('use_cache_branch');
  const vocabSize = Number(config.vocab_size);

  const emptyCache = (batch: number): KvCache => ({
    tensors: Array.from({ length: layers * 2 }, () =>
      kvType === 'float16'
        ? new ort.Tensor('float16', new Uint16Array(0), [batch, kvHeads, 0, headDim])
        : new ort.Tensor('float32', new Float32Array(0), [batch, kvHeads, 0, headDim]),
    ),
    batch,
    length: 0,
  });

  const step = async (ids: number[][], cache: KvCache | null): Promise<StepOutput> => {
    const batch = ids.length;
    const seq = ids[0]!.length;
    const past = cache ?? emptyCache(batch);
    const total = past.length + seq;
    const flatIds = new BigInt64Array(batch * seq);
    const positions = new BigInt64Array(batch * seq);
    ids.forEach((row, b) => {
      row.forEach((id, s) => {
        flatIds[b * seq + s] = BigInt(id);
        positions[b * seq + s] = BigInt(past.length + s);
      });
    });
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: new ort.Tensor('int64', flatIds, [batch, seq]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(batch * total).fill(1n), [batch, total]),
    };
    if (usesPositions) feeds.position_ids = new ort.Tensor('int64', positions, [batch, seq]);
    if (usesCacheBranch)
      feeds.use_cache_branch = new ort.Tensor('bool', Uint8Array.of(past.length > 0 ? 1 : 0), [1]);
    for (let l = 0; l < layers; l++) {
      feeds[`past_key_values.${l}.key`] = past.tensors[2 * l]!;
      feeds[`past_key_values.${l}.value`] = past.tensors[2 * l + 1]!;
    }
    const started = performance.now();
    const out = await session.run(feeds);
    const runMs = performance.now() - started;
    const logits = out.logits as Ort.Tensor;
    const vocab = logits.dims[2]!;
    const last = new Float32Array(batch * vocab);
    const data = logits.data as Float32Array | Uint16Array;
    for (let b = 0; b < batch; b++) {
      const from = (b * seq + seq - 1) * vocab;
      if (data instanceof Float32Array) last.set(data.subarray(from, from + vocab), b * vocab);
      else for (let v = 0; v < vocab; v++) last[b * vocab + v] = halfToFloat(data[from + v]!);
    }
    const tensors: Ort.Tensor[] = [];
    for (let l = 0; l < layers; l++)
      tensors.push(out[`present.${l}.key`] as Ort.Tensor, out[`present.${l}.value`] as Ort.Tensor);
    return { logits: last, cache: { tensors, batch, length: total }, runMs };
  };

  const selectRows = (cache: KvCache, rows: number[]): KvCache => {
    // Same batch: reorder in place, copying only the rows that change (beams mostly keep their
    // place); the cache is ccx's own copy of the outputs and the old order is not needed again.
    if (rows.length === cache.batch) {
      if (rows.every((r, i) => r === i)) return cache;
      for (const t of cache.tensors) {
        const [, h, len, d] = t.dims as [number, number, number, number];
        const size = h * len * d;
        const data = t.data as Float32Array | Uint16Array;
        const saved = new Map<number, Float32Array | Uint16Array>();
        rows.forEach((r, i) => {
          if (r !== i && !saved.has(r)) saved.set(r, data.slice(r * size, (r + 1) * size));
        });
        rows.forEach((r, i) => {
          if (r !== i) data.set(saved.get(r)!, i * size);
        });
      }
      return cache;
    }
    return {
      tensors: cache.tensors.map((t) => {
        const [, h, len, d] = t.dims as [number, number, number, number];
        const size = h * len * d;
        const src = t.data as Float32Array | Uint16Array;
        const dst =
          src instanceof Float32Array
            ? new Float32Array(rows.length * size)
            : new Uint16Array(rows.length * size);
        rows.forEach((r, i) => {
          dst.set(src.subarray(r * size, (r + 1) * size), i * size);
        });
        return new ort.Tensor(t.type as 'float32', dst as Float32Array, [rows.length, h, len, d]);
      }),
      batch: rows.length,
      length: cache.length,
    };
  };

  const id =
    (pulled?.repo as string | undefined) ??
    (typeof config._name_or_path === 'string' && config._name_or_path !== ''
      ? config._name_or_path
      : path.basename(absolute));
  const recorded = (pulled?.files as { path: string; sha256: string }[] | undefined)?.find(
    (f) => path.join(absolute, f.path) === onnxFile,
  );
  for (const eos of eosIds) special.add(eos);
  return {
    id,
    dir: absolute,
    onnxFile,
    sha256: recorded?.sha256 ?? (await sha256File(onnxFile)),
    dtype,
    device,
    ...(deviceNote === undefined ? {} : { deviceNote }),
    vocabSize: Number.isInteger(vocabSize) ? vocabSize : 0,
    maxPositions: numberList(config.max_position_embeddings ?? config.n_positions ?? config.n_ctx)[0],
    layers,
    kvHeads,
    headDim,
    kvType,
    eosIds,
    bosId: bos,
    addBos,
    tokenizer,
    step,
    selectRows,
    release: () => session.release(),
  };
}

/** IEEE 754 half precision (as onnxruntime hands float16 over, in a Uint16Array) to a number. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * The model directory to use: `dir`, else `CCX_MODEL`.
 * @throws UsageError naming both, and how to get a model, when neither is set
 */
export function requireModelDir(dir: string | undefined): string {
  const chosen = dir ?? process.env.CCX_MODEL;
  if (chosen === undefined || chosen === '')
    throw new UsageError('this technique needs a model: pass --model DIR or set CCX_MODEL', {
      hint: 'get one with `ccx model pull REPO_ID` (an ONNX export of a code model), or use --technique retrieve, which needs none',
    });
  return chosen;
}
