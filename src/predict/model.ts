/**
 * Co-usage models: from past execution records, which chunks a new submission will use.
 *
 * - `knn` (the seed design's similarity method): the k past executions whose submissions'
 *   static chunk sets are nearest by Jaccard similarity; each chunk's probability is the
 *   similarity-weighted share of those executions that used it. When no past submission shares
 *   a static chunk (a thin history), the neighbours are the most similar by content: cosine
 *   over TF-IDF features of identifiers and chunk shapes (features.ts), averaged with the cosine
 *   of the submissions' mean chunk embeddings where both have one (embeddings.ts; the cosine of
 *   the two unit vectors concatenated, each scaled by 1/sqrt 2), at least 0.3.
 * - `cooccur` (association rules, as C-Miner mines block correlations): for each chunk of the
 *   submission's own file, how often a chunk was used when it was present
 *   (confidence n(a, b) / n(a)); a chunk's probability is its best rule's confidence.
 *
 * - `hybrid`: `cooccur` where the submission's own chunks have rules (it ran before), else
 *   `knn` (a new submission borrows from similar ones), else a cold start.
 *
 * All predict the chunks whose probability reaches a threshold (0.5), most probable first; a
 * submission with no similar past execution is a cold start, answered by its static closure.
 */

import { denseCosine } from './embeddings.js';
import { cosine, FeatureSpace } from './features.js';

/** One past execution as training sees it. */
export interface TrainingItem {
  /** sha256 of the submission (entry file bytes or command line). */
  submission: string;
  /** Static chunks of the submission: its file's chunks and their dependency closure, sorted. */
  staticSet: string[];
  /** Chunks of the submission's own file (antecedents of `cooccur` rules), sorted. */
  ownChunks: string[];
  /** Chunks the execution used, sorted. */
  used: string[];
  /** Feature tokens of the submission's own files (features.ts), for similarity by content. */
  tokens?: string[];
  /**
   * The normalized mean embedding of the submission's own chunks (embeddings.ts), present when
   * the model was trained with `--embed-model`.
   */
  embedding?: number[];
}

/** What a model predicts from: a submission's static sets and content features. */
export interface SubmissionFeatures {
  staticSet: string[];
  ownChunks: string[];
  tokens?: string[];
  embedding?: number[];
}

export type MethodName = 'knn' | 'cooccur' | 'hybrid';
export const METHODS: readonly MethodName[] = ['knn', 'cooccur', 'hybrid'];

/** A prediction: chunk ids with probabilities, most probable first. */
export interface Prediction {
  predicted: Array<{ id: string; p: number }>;
  /** True when nothing in the history resembles the submission. */
  coldStart: boolean;
}

/** Predicted chunks are those whose probability reaches this. */
export const THRESHOLD = 0.5;
/** Neighbours of the `knn` method. */
export const K = 5;

function jaccard(a: ReadonlySet<string>, b: readonly string[]): number {
  if (a.size === 0 && b.length === 0) return 0;
  let common = 0;
  for (const x of b) if (a.has(x)) common++;
  return common / (a.size + b.length - common);
}

function ranked(scores: Map<string, number>, top: number | undefined): Prediction['predicted'] {
  const out = [...scores]
    .filter(([, p]) => p >= THRESHOLD)
    .map(([id, p]) => ({ id, p: Math.round(p * 1000) / 1000 }))
    .sort((x, y) => y.p - x.p || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
  return top === undefined ? out : out.slice(0, top);
}

/** A model that learns record by record (eval replays the history through `add`). */
export interface Model {
  readonly method: MethodName;
  readonly records: number;
  add(item: TrainingItem): void;
  predict(submission: SubmissionFeatures, top?: number): Prediction;
  /** JSON-able state, for the store. */
  toJSON(): unknown;
}

/** Neighbours by content must be at least this similar (cosine). */
const MIN_CONTENT_SIMILARITY = 0.3;

class KnnModel implements Model {
  readonly method = 'knn' as const;
  readonly items: TrainingItem[] = [];
  readonly #space = new FeatureSpace();
  /** Per distinct submission (by hash), its token bag, counted once in the feature space. */
  readonly #tokens = new Map<string, readonly string[]>();
  /** Per distinct submission, its mean chunk embedding. */
  readonly #embeddings = new Map<string, readonly number[]>();

  get records(): number {
    return this.items.length;
  }

  add(item: TrainingItem): void {
    this.items.push(item);
    if (item.tokens !== undefined && !this.#tokens.has(item.submission)) {
      this.#tokens.set(item.submission, item.tokens);
      this.#space.add(item.tokens);
    }
    if (item.embedding !== undefined && !this.#embeddings.has(item.submission)) {
      this.#embeddings.set(item.submission, item.embedding);
    }
  }

  /** Similarity by content of a submission to each past submission, by submission hash. */
  #contentSimilarity(submission: SubmissionFeatures): (pastSubmission: string) => number {
    const mine = submission.tokens === undefined ? undefined : this.#space.vector(submission.tokens);
    const vectors = new Map<string, number>();
    return (past) => {
      let sim = vectors.get(past);
      if (sim !== undefined) return sim;
      const tokens = this.#tokens.get(past);
      const t =
        mine === undefined || tokens === undefined ? undefined : cosine(mine, this.#space.vector(tokens));
      const theirs = this.#embeddings.get(past);
      const e =
        submission.embedding === undefined || theirs === undefined
          ? undefined
          : denseCosine(submission.embedding, theirs);
      sim = t !== undefined && e !== undefined ? (t + e) / 2 : (t ?? e ?? 0);
      vectors.set(past, sim);
      return sim;
    };
  }

  predict(submission: SubmissionFeatures, top?: number): Prediction {
    const s = new Set(submission.staticSet);
    let near = this.items
      .map((item, i) => ({ item, i, sim: jaccard(s, item.staticSet) }))
      .filter((x) => x.sim > 0)
      // Most similar first; among equals the most recent.
      .sort((a, b) => b.sim - a.sim || b.i - a.i)
      .slice(0, K);
    const hasContent = submission.tokens !== undefined || submission.embedding !== undefined;
    if (near.length === 0 && hasContent && (this.#tokens.size > 0 || this.#embeddings.size > 0)) {
      const similarity = this.#contentSimilarity(submission);
      near = this.items
        .map((item, i) => ({ item, i, sim: similarity(item.submission) }))
        .filter((x) => x.sim >= MIN_CONTENT_SIMILARITY)
        .sort((a, b) => b.sim - a.sim || b.i - a.i)
        .slice(0, K);
    }
    if (near.length === 0) return { predicted: [], coldStart: true };
    const total = near.reduce((sum, x) => sum + x.sim, 0);
    const scores = new Map<string, number>();
    for (const { item, sim } of near)
      for (const id of item.used) scores.set(id, (scores.get(id) ?? 0) + sim / total);
    return { predicted: ranked(scores, top), coldStart: false };
  }

  toJSON(): unknown {
    return { k: K, items: this.items };
  }
}

class CooccurModel implements Model {
  readonly method = 'cooccur' as const;
  records = 0;
  /** n(a): records whose own chunks hold a. */
  readonly support = new Map<string, number>();
  /** n(a, b): of those, the ones that used b. */
  readonly pairs = new Map<string, Map<string, number>>();

  add(item: TrainingItem): void {
    this.records++;
    for (const a of item.ownChunks) {
      this.support.set(a, (this.support.get(a) ?? 0) + 1);
      let row = this.pairs.get(a);
      if (row === undefined) {
        row = new Map();
        this.pairs.set(a, row);
      }
      for (const b of item.used) row.set(b, (row.get(b) ?? 0) + 1);
    }
  }

  predict(submission: { ownChunks: string[] }, top?: number): Prediction {
    const scores = new Map<string, number>();
    let seen = false;
    for (const a of submission.ownChunks) {
      const n = this.support.get(a);
      const row = this.pairs.get(a);
      if (n === undefined || row === undefined) continue;
      seen = true;
      for (const [b, count] of row) scores.set(b, Math.max(scores.get(b) ?? 0, count / n));
    }
    return { predicted: ranked(scores, top), coldStart: !seen };
  }

  toJSON(): unknown {
    return {
      records: this.records,
      support: Object.fromEntries(this.support),
      pairs: Object.fromEntries([...this.pairs].map(([a, row]) => [a, Object.fromEntries(row)])),
    };
  }
}

class HybridModel implements Model {
  readonly method = 'hybrid' as const;
  constructor(
    readonly knn = new KnnModel(),
    readonly cooccur = new CooccurModel(),
  ) {}

  get records(): number {
    return this.knn.records;
  }

  add(item: TrainingItem): void {
    this.knn.add(item);
    this.cooccur.add(item);
  }

  predict(submission: SubmissionFeatures, top?: number): Prediction {
    const byRules = this.cooccur.predict(submission, top);
    return byRules.coldStart ? this.knn.predict(submission, top) : byRules;
  }

  toJSON(): unknown {
    return { knn: this.knn.toJSON(), cooccur: this.cooccur.toJSON() };
  }
}

/** A new, empty model of a method. */
export function createModel(method: MethodName): Model {
  return method === 'knn' ? new KnnModel() : method === 'cooccur' ? new CooccurModel() : new HybridModel();
}

/** A model from its stored state ({@link Model.toJSON}). */
export function restoreModel(method: MethodName, state: unknown): Model {
  if (method === 'hybrid') {
    const s = state as { knn: unknown; cooccur: unknown };
    return new HybridModel(
      restoreModel('knn', s.knn) as KnnModel,
      restoreModel('cooccur', s.cooccur) as CooccurModel,
    );
  }
  if (method === 'knn') {
    const model = new KnnModel();
    for (const item of (state as { items: TrainingItem[] }).items) model.add(item);
    return model;
  }
  const model = new CooccurModel();
  const s = state as {
    records: number;
    support: Record<string, number>;
    pairs: Record<string, Record<string, number>>;
  };
  model.records = s.records;
  for (const [a, n] of Object.entries(s.support)) model.support.set(a, n);
  for (const [a, row] of Object.entries(s.pairs)) model.pairs.set(a, new Map(Object.entries(row)));
  return model;
}
