/**
 * Chunk features for similarity when the history is thin (the seed design): a submission whose
 * static chunks share nothing with past submissions is compared by what its code looks like —
 * hashed TF-IDF over the sub-tokens of the identifiers it uses and declares (`parseQueryString`
 * gives `parse`, `query`, `string`), plus counts of chunk kinds and sizes as coarse shape
 * statistics. Cosine similarity over the vectors.
 */
import type { FileAnalysis } from '../chunking/types.js';

/** Hashed feature space: 2^12 buckets. */
const BUCKETS = 4096;

/** Lowercase sub-tokens of an identifier: camelCase, PascalCase, snake_case and digits split. */
export function subTokens(identifier: string): string[] {
  return identifier
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .map((t) => t.toLowerCase())
    .filter((t) => t.length > 1 && !/^\d+$/.test(t));
}

/** The feature tokens of a set of files' analyses: identifier sub-tokens, kinds, size classes. */
export function featureTokens(analyses: Iterable<FileAnalysis>): string[] {
  const out: string[] = [];
  for (const a of analyses) {
    for (const c of a.chunks) {
      out.push(`kind:${c.kind}`, `size:${Math.min(12, Math.floor(Math.log2(c.size + 1)))}`);
      for (const t of subTokens(c.name)) out.push(t);
      for (const ref of c.refs) {
        for (const t of subTokens(ref.name)) out.push(t);
        for (const m of ref.members) for (const t of subTokens(m)) out.push(t);
      }
      for (const m of c.selfRefs) for (const t of subTokens(m)) out.push(t);
    }
  }
  return out;
}

function bucket(token: string): number {
  // FNV-1a, 32 bits.
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % BUCKETS;
}

/** A sparse vector: bucket -> weight. */
export type FeatureVector = Map<number, number>;

/** Document frequencies of buckets over the submissions seen, for IDF weights. */
export class FeatureSpace {
  readonly #df = new Map<number, number>();
  documents = 0;

  /** Counts a submission's tokens as one document. */
  add(tokens: readonly string[]): void {
    this.documents++;
    for (const b of new Set(tokens.map(bucket))) this.#df.set(b, (this.#df.get(b) ?? 0) + 1);
  }

  /** TF-IDF vector of a token bag, L2-normalized. */
  vector(tokens: readonly string[]): FeatureVector {
    const tf = new Map<number, number>();
    for (const t of tokens) {
      const b = bucket(t);
      tf.set(b, (tf.get(b) ?? 0) + 1);
    }
    const out: FeatureVector = new Map();
    let norm = 0;
    for (const [b, n] of tf) {
      const idf = Math.log((1 + this.documents) / (1 + (this.#df.get(b) ?? 0))) + 1;
      const w = (1 + Math.log(n)) * idf;
      out.set(b, w);
      norm += w * w;
    }
    norm = Math.sqrt(norm);
    if (norm > 0) for (const [b, w] of out) out.set(b, w / norm);
    return out;
  }
}

/** Cosine similarity of two L2-normalized sparse vectors. */
export function cosine(a: FeatureVector, b: FeatureVector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [k, w] of small) {
    const v = large.get(k);
    if (v !== undefined) dot += w * v;
  }
  return dot;
}
