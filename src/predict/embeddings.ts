/**
 * Chunk embeddings from a local embedding model (`--embed-model DIR`): a directory in the Hugging
 * Face ONNX layout (`config.json`, `tokenizer.json`, `onnx/model.onnx`), run through
 * `@huggingface/transformers` feature extraction (mean pooling, L2-normalized) on the CPU.
 *
 * Embeddings are cached by the chunk's semantic hash, so a chunk that was only reformatted or
 * had a local renamed is never embedded again: an in-process LRU in front of the store's
 * `e:<model>:<hash>` entries, which keep their own LRU bound across processes
 * ({@link ChunkStore.putEmbeddings}). The text embedded is the chunk's own raw text as first
 * stored under that hash. A submission's vector is the normalized mean of its chunks' vectors.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { UsageError } from '../errors.js';
import type { ChunkStore } from '../store/store.js';

/** Default bound of the store's embedding cache, per model (entries). */
export const DEFAULT_MAX_EMBEDDINGS = 200_000;
/** Texts per forward pass. */
const BATCH = 16;
/** Characters of a chunk's text given to the model (its tokenizer truncates further). */
const MAX_CHARS = 4000;

/** Files of the Hugging Face layout that identify a model (their bytes make its digest). */
const MODEL_FILES = ['config.json', 'tokenizer.json', path.join('onnx', 'model.onnx')];

type FeatureExtractor = (
  texts: string[],
  options: { pooling: 'mean'; normalize: boolean },
) => Promise<{ dims: number[]; data: Float32Array }>;

/** A loaded embedding model. */
export interface Embedder {
  /** sha256 (hex, first 16 digits) of the model's config, tokenizer and ONNX bytes. */
  readonly digest: string;
  readonly dir: string;
  /** One L2-normalized vector per text. */
  embed(texts: string[]): Promise<Float32Array[]>;
}

const loaded = new Map<string, Promise<Embedder>>();

/**
 * Loads the embedding model in `dir` (once per process).
 * @throws UsageError when `dir` lacks a file of the layout or the model cannot be loaded.
 */
export function loadEmbedder(dir: string): Promise<Embedder> {
  const absolute = path.resolve(dir);
  let promise = loaded.get(absolute);
  if (promise === undefined) {
    promise = createEmbedder(absolute);
    loaded.set(absolute, promise);
    promise.catch(() => loaded.delete(absolute));
  }
  return promise;
}

async function createEmbedder(dir: string): Promise<Embedder> {
  const hash = createHash('sha256');
  for (const file of MODEL_FILES) {
    const full = path.join(dir, file);
    try {
      statSync(full);
    } catch (cause) {
      throw new UsageError(`${dir} is not an embedding model: ${file} is missing`, {
        cause,
        hint: 'give a directory in the Hugging Face ONNX layout (config.json, tokenizer.json, onnx/model.onnx)',
      });
    }
    hash.update(file).update('\0').update(readFileSync(full));
  }
  const digest = hash.digest('hex').slice(0, 16);
  // Loaded here, not at start-up: transformers and onnxruntime take a while to import.
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  let extract: FeatureExtractor;
  try {
    extract = (await pipeline('feature-extraction', dir, {
      local_files_only: true,
      dtype: 'fp32',
      device: 'cpu',
    })) as unknown as FeatureExtractor;
  } catch (cause) {
    throw new UsageError(`cannot load the embedding model in ${dir}: ${(cause as Error).message}`, {
      cause,
      hint: 'check that the model is a feature-extraction model exported to ONNX (for example with optimum)',
    });
  }
  return {
    digest,
    dir,
    async embed(texts: string[]): Promise<Float32Array[]> {
      const out: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += BATCH) {
        const batch = texts.slice(i, i + BATCH).map((t) => t.slice(0, MAX_CHARS));
        const tensor = await extract(batch, { pooling: 'mean', normalize: true });
        const dim = tensor.dims[tensor.dims.length - 1]!;
        for (let j = 0; j < batch.length; j++)
          out.push(Float32Array.from(tensor.data.subarray(j * dim, (j + 1) * dim)));
      }
      return out;
    },
  };
}

/** Counts of where embeddings came from, for `--verbose` and the tests. */
export interface EmbeddingStats {
  /** Found in this process's LRU. */
  memory: number;
  /** Read from the store. */
  stored: number;
  /** Computed by the model. */
  computed: number;
  /** Evicted from the store by its LRU bound. */
  evicted: number;
}

/** Chunk embeddings by semantic hash, read through the caches and computed when missing. */
export class ChunkEmbeddings {
  readonly stats: EmbeddingStats = { memory: 0, stored: 0, computed: 0, evicted: 0 };
  readonly #memory: LRUCache<string, Float32Array>;
  /** Entries to write back: new ones and ones whose last use to renew. */
  readonly #touched = new Map<string, Float32Array>();

  constructor(
    readonly store: ChunkStore,
    readonly embedder: Embedder,
    readonly options: { maxEntries?: number; memoryEntries?: number } = {},
  ) {
    this.#memory = new LRUCache({ max: options.memoryEntries ?? 20_000 });
  }

  /**
   * Vectors of chunks by semantic hash; a hash whose text the store lacks gets none.
   * @param hashes semantic hashes (`ManifestChunk.hash`)
   */
  async vectors(hashes: readonly string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    const unique = [...new Set(hashes)];
    const fromStore: string[] = [];
    for (const h of unique) {
      const v = this.#memory.get(h);
      if (v === undefined) fromStore.push(h);
      else {
        out.set(h, v);
        this.stats.memory++;
      }
    }
    const stored = await this.store.getEmbeddings(this.embedder.digest, fromStore);
    const compute: string[] = [];
    fromStore.forEach((h, i) => {
      const v = stored[i];
      if (v === undefined) compute.push(h);
      else {
        this.#keep(h, v);
        out.set(h, v);
        this.stats.stored++;
      }
    });
    const texts: string[] = [];
    const withText: string[] = [];
    const records = await Promise.all(compute.map((h) => this.store.getChunkRecord(h)));
    for (let i = 0; i < compute.length; i++) {
      const sha = records[i]?.texts[0];
      const blob = sha === undefined ? undefined : await this.store.readBlob(sha);
      if (blob === undefined) continue;
      texts.push(blob.toString('utf8'));
      withText.push(compute[i]!);
    }
    const vectors = await this.embedder.embed(texts);
    withText.forEach((h, i) => {
      this.#keep(h, vectors[i]!);
      out.set(h, vectors[i]!);
      this.stats.computed++;
    });
    return out;
  }

  /** The normalized mean of the chunks' vectors, or undefined when none has one. */
  async meanVector(hashes: readonly string[]): Promise<number[] | undefined> {
    const vectors = [...(await this.vectors(hashes)).values()];
    if (vectors.length === 0) return undefined;
    const mean = new Array<number>(vectors[0]!.length).fill(0);
    for (const v of vectors) for (let i = 0; i < mean.length; i++) mean[i]! += v[i] ?? 0;
    const norm = Math.sqrt(mean.reduce((s, x) => s + x * x, 0));
    // Four decimals keep a model's stored state small and lose nothing cosine similarity needs.
    return mean.map((x) => (norm > 0 ? Math.round((x / norm) * 1e4) / 1e4 : 0));
  }

  /** Writes new embeddings and renewed last-use times to the store, under its LRU bound. */
  async flush(): Promise<void> {
    const entries = [...this.#touched];
    this.#touched.clear();
    this.stats.evicted += await this.store.putEmbeddings(
      this.embedder.digest,
      entries,
      this.options.maxEntries ?? DEFAULT_MAX_EMBEDDINGS,
    );
  }

  #keep(hash: string, vector: Float32Array): void {
    this.#memory.set(hash, vector);
    this.#touched.set(hash, vector);
  }
}

/** Cosine similarity of two L2-normalized dense vectors (0 when their lengths differ). */
export function denseCosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return 0;
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot;
}
