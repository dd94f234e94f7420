/**
 * `ccx train`, `ccx predict` and `ccx eval`: co-usage models built from the execution history
 * (model.ts), predictions for a submission, and a replay of the history that scores ccx's
 * methods against baselines (static closure, popularity, the most recent run of the same
 * submission, and the oracle).
 */
import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { LRUCache } from 'lru-cache';
import { chunk } from '../chunking/chunk.js';
import { loadAnalyses, withHeadSnapshot } from '../chunking/snapshot.js';
import { UsageError } from '../errors.js';
import { reachable } from '../graph/walk.js';
import type { ExecutionRecord } from '../history/record.js';
import type { Manifest } from '../manifest.js';
import { resolveStorePath } from '../store/location.js';
import { type ChunkStore, openStore } from '../store/store.js';
import { ChunkEmbeddings, type EmbeddingStats, loadEmbedder } from './embeddings.js';
import { featureTokens } from './features.js';
import {
  createModel,
  METHODS,
  type MethodName,
  type Model,
  restoreModel,
  type SubmissionFeatures,
  type TrainingItem,
} from './model.js';

export interface PredictStoreOptions {
  /** The chunked root (default: the working directory). */
  root?: string;
  /** Store directory; default `<root>/.ccx`, or `CCX_STORE`. */
  store?: string;
  wait?: boolean | number;
  /**
   * A local embedding model in the Hugging Face ONNX layout; when given, submissions are also
   * compared by the mean embedding of their chunks (embeddings.ts).
   */
  embedModel?: string;
  /** Bound of the store's embedding cache per model, in entries (default 200,000). */
  maxEmbeddings?: number;
}

/** Static chunk sets from a snapshot's graph: a set of files' chunks, and their dependency closure. */
export class StaticSets {
  readonly #byFile = new Map<string, string[]>();
  readonly #deps = new Map<string, string[]>();
  readonly #size = new Map<string, number>();
  readonly #hash = new Map<string, string>();
  readonly #cache = new Map<string, { staticSet: string[]; ownChunks: string[] }>();

  constructor(readonly manifest: Manifest) {
    for (const c of manifest.chunks) {
      const list = this.#byFile.get(c.file);
      if (list === undefined) this.#byFile.set(c.file, [c.id]);
      else list.push(c.id);
      this.#deps.set(c.id, c.deps);
      this.#size.set(c.id, c.size);
      this.#hash.set(c.id, c.hash);
    }
  }

  /** Whether the snapshot indexed this file. */
  has(file: string): boolean {
    return this.#byFile.has(file);
  }

  /** Files of the snapshot at or under a path (a file, or a directory with a trailing part). */
  filesUnder(rel: string): string[] {
    if (this.#byFile.has(rel)) return [rel];
    const prefix = rel === '' || rel === '.' ? '' : `${rel.replace(/\/$/, '')}/`;
    return [...this.#byFile.keys()].filter((f) => f.startsWith(prefix)).sort();
  }

  /** The static and own chunks of a set of files. */
  of(files: readonly string[]): { staticSet: string[]; ownChunks: string[] } {
    const key = files.join('\u0000');
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const own = files.flatMap((f) => this.#byFile.get(f) ?? []);
    const seen = reachable(own, (id) => this.#deps.get(id));
    const result = { staticSet: [...seen].sort(), ownChunks: [...own].sort() };
    this.#cache.set(key, result);
    return result;
  }

  /** Semantic hashes of chunks (the ones the snapshot has). */
  hashes(ids: Iterable<string>): string[] {
    const out: string[] = [];
    for (const id of ids) {
      const h = this.#hash.get(id);
      if (h !== undefined) out.push(h);
    }
    return out;
  }

  /** Bytes of the chunks' own code. */
  bytes(ids: Iterable<string>): number {
    let total = 0;
    for (const id of ids) total += this.#size.get(id) ?? 0;
    return total;
  }
}

/** A record as training sees it: its submission's static sets and feature tokens from the snapshot. */
export async function trainingItem(
  record: ExecutionRecord,
  sets: StaticSets,
  tokensOf: (files: readonly string[]) => Promise<string[]>,
  embeddings?: ChunkEmbeddings,
): Promise<TrainingItem> {
  const files = sets.has(record.submission.entry) ? [record.submission.entry] : [];
  const { staticSet, ownChunks } = sets.of(files);
  const item: TrainingItem = {
    submission: record.submission.hash,
    staticSet,
    ownChunks,
    used: [...record.chunksUsed].sort(),
  };
  if (files.length > 0) item.tokens = await tokensOf(files);
  if (files.length > 0 && embeddings !== undefined) {
    const embedding = await embeddings.meanVector(sets.hashes(ownChunks));
    if (embedding !== undefined) item.embedding = embedding;
  }
  return item;
}

interface Loaded {
  store: ChunkStore;
  root: string;
  snapshot: string;
  sets: StaticSets;
  /** Feature tokens of files of the snapshot (their analyses are read once each). */
  tokensOf(files: readonly string[]): Promise<string[]>;
  /** Chunk embeddings, with `embedModel`. */
  embeddings?: ChunkEmbeddings;
}

async function withSnapshot<T>(options: PredictStoreOptions, fn: (loaded: Loaded) => Promise<T>): Promise<T> {
  return withHeadSnapshot(options, async ({ store, root, snapshot, content, manifest }) => {
    const byPath = new Map(content.files.map((f) => [f.path, f]));
    const cache = new Map<string, string[]>();
    const tokensOf = async (files: readonly string[]): Promise<string[]> => {
      const missing = files.filter(
        (f) => !cache.has(f) && byPath.get(f)?.status !== 'skipped' && byPath.has(f),
      );
      if (missing.length > 0) {
        const analyses = await loadAnalyses(
          store,
          content.analyzerVersion,
          missing.map((f) => byPath.get(f)!),
        );
        for (const [file, analysis] of analyses) cache.set(file, featureTokens([analysis]));
      }
      return files.flatMap((f) => cache.get(f) ?? []);
    };
    const embeddings =
      options.embedModel === undefined
        ? undefined
        : new ChunkEmbeddings(store, await loadEmbedder(options.embedModel), {
            maxEntries: options.maxEmbeddings,
          });
    const result = await fn({
      store,
      root,
      snapshot: snapshot.id,
      sets: new StaticSets(manifest),
      tokensOf,
      embeddings,
    });
    await embeddings?.flush();
    return result;
  });
}

async function historyOf(store: ChunkStore): Promise<ExecutionRecord[]> {
  const records = (await store.listRecords()) as ExecutionRecord[];
  return records.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || (a.id < b.id ? -1 : 1));
}

/** A trained model as `ccx train --list` shows it. */
export interface ModelInfo {
  id: string;
  method: MethodName;
  records: number;
  createdAt: string;
  snapshot: string;
  /** Digest of the embedding model the model was trained with (embeddings.ts), or null. */
  embedModel?: string | null;
}

function checkMethod(method: string): MethodName {
  if (!(METHODS as readonly string[]).includes(method)) {
    throw new UsageError(`unknown method ${JSON.stringify(method)}`, {
      hint: `methods: ${METHODS.join(', ')}`,
    });
  }
  return method as MethodName;
}

/**
 * Builds a model from the whole history against the root's latest snapshot and stores it.
 * @throws UsageError for an unknown method; NotFoundError without a snapshot.
 */
export async function train(options: PredictStoreOptions & { method?: string } = {}): Promise<ModelInfo> {
  const method = checkMethod(options.method ?? 'hybrid');
  return withSnapshot(options, async ({ store, snapshot, sets, tokensOf, embeddings }) => {
    const model = createModel(method);
    for (const record of await historyOf(store))
      model.add(await trainingItem(record, sets, tokensOf, embeddings));
    const info: ModelInfo = {
      id: `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(3).toString('hex')}`,
      method,
      records: model.records,
      createdAt: new Date().toISOString(),
      snapshot,
      embedModel: embeddings?.embedder.digest ?? null,
    };
    await store.putModel(info, model.toJSON());
    return info;
  });
}

/** The trained models of the store, oldest first. */
export async function listModels(options: PredictStoreOptions = {}): Promise<ModelInfo[]> {
  const root = path.resolve(options.root ?? '.');
  const store = await openStore(resolveStorePath(root, options.store), {
    create: false,
    wait: options.wait ?? false,
  });
  try {
    return (await store.listModels()) as ModelInfo[];
  } finally {
    await store.close();
  }
}

/**
 * Predictions by model, submission features and `top`, kept for a minute (LRU, 256 entries), so
 * that a long-lived process asking again for the same submission (a prewarm loop, a server) does
 * not restore the model and predict again. Cold starts are not cached.
 */
const predictionCache = new LRUCache<string, { predicted: PredictResult['predicted']; coldStart: boolean }>({
  max: 256,
  ttl: 60_000,
});

/** What `ccx predict --json` prints. */
export interface PredictResult {
  submission: string;
  /** Id of the model used, or null without one. */
  model: string | null;
  /** The submission's static chunks: its files' chunks and their dependency closure. */
  static: string[];
  predicted: Array<{ id: string; p: number }>;
  /** True when no model or no similar history exists: the static closure is the answer. */
  coldStart: boolean;
  /** Milliseconds per step, for `--verbose`, and whether the prediction came from the cache. */
  timings: { loadMs: number; featuresMs: number; predictMs: number; cached: boolean };
  /** Where the submission's chunk embeddings came from, with `embedModel`. */
  embeddings?: EmbeddingStats;
  /** What the caller should know about how the answer was made (a mismatched embedding model). */
  notes: string[];
}

/**
 * A submission's path relative to the root (`''` for the root itself), `/`-separated.
 * @throws UsageError when it is outside the root or cannot be read
 */
export function locateSubmission(root: string, submission: string): string {
  const absolute = path.resolve(submission);
  const rel = path.relative(root, absolute).split(path.sep).join('/');
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UsageError(`${submission} is outside the chunked root ${root}`, {
      hint: 'put the submission inside the root (ccx chunks it with the rest), or run from its root',
    });
  }
  try {
    statSync(absolute);
  } catch (cause) {
    throw new UsageError(`cannot read ${submission}`, { cause });
  }
  return rel;
}

/**
 * Predicts the chunks a submission (a file or directory inside the root) will use. The root is
 * chunked first, so a new or edited submission is seen as it is now.
 * @throws UsageError when the submission is outside the root or holds no indexed file.
 */
export async function predict(
  submission: string,
  options: PredictStoreOptions & { top?: number; method?: string } = {},
): Promise<PredictResult> {
  const t0 = performance.now();
  const root = path.resolve(options.root ?? '.');
  const rel = locateSubmission(root, submission);
  await chunk({ root, store: options.store, manifest: false, wait: options.wait });
  return withSnapshot(options, async ({ store, sets, tokensOf, embeddings }) => {
    const loaded = performance.now();
    const files = sets.filesUnder(rel === '' ? '.' : rel);
    if (files.length === 0) {
      throw new UsageError(`${submission} holds no file ccx indexes`, {
        hint: 'give a source file or a directory of them',
      });
    }
    const own = sets.of(files);
    const features: SubmissionFeatures = { ...own, tokens: await tokensOf(files) };
    const embedding = await embeddings?.meanVector(sets.hashes(own.ownChunks));
    if (embedding !== undefined) features.embedding = embedding;
    const featured = performance.now();
    const models = (await store.listModels()) as ModelInfo[];
    const wanted = options.method === undefined ? undefined : checkMethod(options.method);
    const info = [...models].reverse().find((m) => wanted === undefined || m.method === wanted);
    const notes: string[] = [];
    const trainedWith = info?.embedModel ?? null;
    const givenDigest = embeddings?.embedder.digest ?? null;
    if (info !== undefined && trainedWith !== givenDigest && info.method !== 'cooccur') {
      notes.push(
        trainedWith === null
          ? `model ${info.id} was trained without embeddings; retrain with --embed-model to compare by them`
          : givenDigest === null
            ? `model ${info.id} was trained with embeddings (model ${trainedWith}); give the same --embed-model to compare by them`
            : `model ${info.id} was trained with another embedding model (${trainedWith}, given ${givenDigest}); embeddings are not compared`,
      );
      delete features.embedding;
    }
    let predicted: PredictResult['predicted'] = [];
    let coldStart = true;
    let cached = false;
    if (info !== undefined) {
      const key = createHash('sha256')
        .update(
          JSON.stringify([
            info.id,
            options.top ?? null,
            features.staticSet,
            features.ownChunks,
            features.tokens,
            features.embedding ?? null,
          ]),
        )
        .digest('hex');
      const hit = predictionCache.get(key);
      if (hit !== undefined) {
        ({ predicted, coldStart } = hit);
        cached = true;
      } else {
        const model = restoreModel(info.method, await store.getModelState(info.id));
        const p = model.predict(features, options.top);
        predicted = p.predicted;
        coldStart = p.coldStart;
        if (!coldStart) predictionCache.set(key, { predicted, coldStart });
      }
    }
    const done = performance.now();
    return {
      submission: rel === '' ? '.' : rel,
      model: info?.id ?? null,
      static: features.staticSet,
      predicted,
      coldStart,
      timings: {
        loadMs: Math.round((loaded - t0) * 10) / 10,
        featuresMs: Math.round((featured - loaded) * 10) / 10,
        predictMs: Math.round((done - featured) * 10) / 10,
        cached,
      },
      ...(embeddings === undefined ? {} : { embeddings: { ...embeddings.stats } }),
      notes,
    };
  });
}

/** One method's scores over a replay. */
export interface MethodScore {
  name: string;
  recall: number;
  precision: number;
  fullHitRate: number;
  meanChunks: number;
  meanBytes: number;
  p50Ms: number;
  p95Ms: number;
}

/** What `ccx eval --json` prints. */
export interface EvalResult {
  records: number;
  methods: MethodScore[];
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
}

/**
 * Replays the history in time order: for each record, every method predicts from the records
 * before it, and is scored against what the record used. Baselines: `static` (the static
 * closure), `popularity` (the globally most used chunks, as many as the mean record used so far),
 * `recent` (what the most recent run of the same submission used; the static closure before
 * one), `oracle` (what it used).
 */
export async function evaluate(options: PredictStoreOptions = {}): Promise<EvalResult> {
  return withSnapshot(options, async ({ store, sets, tokensOf, embeddings }) => {
    const records = await historyOf(store);
    const items: TrainingItem[] = [];
    for (const r of records) items.push(await trainingItem(r, sets, tokensOf, embeddings));
    const models = METHODS.map((m) => createModel(m));
    const names = [...METHODS, 'static', 'popularity', 'recent', 'oracle'];
    const acc = new Map(
      names.map((n) => [n, { recall: 0, precision: 0, full: 0, chunks: 0, bytes: 0, ms: [] as number[] }]),
    );
    const popularity = new Map<string, number>();
    const lastBySubmission = new Map<string, string[]>();
    let usedSoFar = 0;
    const score = (name: string, predicted: readonly string[], actual: readonly string[], ms: number) => {
      const a = acc.get(name)!;
      const actualSet = new Set(actual);
      let hit = 0;
      for (const id of predicted) if (actualSet.has(id)) hit++;
      a.recall += actual.length === 0 ? 1 : hit / actual.length;
      a.precision += predicted.length === 0 ? (actual.length === 0 ? 1 : 0) : hit / predicted.length;
      if (hit === actualSet.size) a.full++;
      a.chunks += predicted.length;
      a.bytes += sets.bytes(predicted);
      a.ms.push(ms);
    };
    items.forEach((item, i) => {
      for (const model of models) {
        const t0 = performance.now();
        const p = model.predict(item);
        const set = p.coldStart ? item.staticSet : p.predicted.map((x) => x.id);
        score(model.method, set, item.used, performance.now() - t0);
      }
      score('static', item.staticSet, item.used, 0);
      let t0 = performance.now();
      const k = i === 0 ? 0 : Math.round(usedSoFar / i);
      const popular = [...popularity]
        .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
        .slice(0, k)
        .map(([id]) => id);
      score('popularity', popular, item.used, performance.now() - t0);
      t0 = performance.now();
      score(
        'recent',
        lastBySubmission.get(item.submission) ?? item.staticSet,
        item.used,
        performance.now() - t0,
      );
      score('oracle', item.used, item.used, 0);
      for (const model of models) model.add(item);
      for (const id of item.used) popularity.set(id, (popularity.get(id) ?? 0) + 1);
      lastBySubmission.set(item.submission, item.used);
      usedSoFar += item.used.length;
    });
    const n = Math.max(1, items.length);
    const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
    return {
      records: items.length,
      methods: names.map((name) => {
        const a = acc.get(name)!;
        const ms = [...a.ms].sort((x, y) => x - y);
        return {
          name,
          recall: round(a.recall / n),
          precision: round(a.precision / n),
          fullHitRate: round(a.full / n),
          meanChunks: round(a.chunks / n, 1),
          meanBytes: Math.round(a.bytes / n),
          p50Ms: round(percentile(ms, 0.5)),
          p95Ms: round(percentile(ms, 0.95)),
        };
      }),
    };
  });
}

export type { Model };
