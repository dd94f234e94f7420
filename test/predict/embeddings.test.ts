/**
 * `--embed-model`: chunk embeddings from a tiny ONNX model in the Hugging Face layout (built by
 * scripts/tiny-model.mjs), cached by semantic hash in memory and in the store under an LRU
 * bound, and used by knn to compare submissions that share no static chunk.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { writeEmbeddingModel } from '../../scripts/tiny-model.mjs';
import { chunk } from '../../src/chunking/chunk.js';
import { loadHeadSnapshot, loadSnapshotManifest } from '../../src/chunking/snapshot.js';
import { ChunkEmbeddings, denseCosine, loadEmbedder } from '../../src/predict/embeddings.js';
import { createModel } from '../../src/predict/model.js';
import { openStore } from '../../src/store/store.js';
import { copyFixture, makeTemp, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

let modelDir: string;
beforeAll(() => {
  modelDir = path.join(makeTemp(), 'tiny-embedding');
  writeEmbeddingModel(modelDir, { dim: 32, seed: 7 });
});

/** Semantic hashes of the head snapshot's chunks, by chunk id. */
async function chunkHashes(root: string): Promise<Map<string, string>> {
  const store = await openStore(path.join(root, '.ccx'), { create: false });
  try {
    const manifest = await loadSnapshotManifest(store, await loadHeadSnapshot(store, root));
    return new Map(manifest.chunks.map((c) => [c.id, c.hash]));
  } finally {
    await store.close();
  }
}

describe('the embedding model', () => {
  it('loads a Hugging Face ONNX layout and embeds similar code closer than unrelated code', async () => {
    const embedder = await loadEmbedder(modelDir);
    expect(embedder.digest).toMatch(/^[0-9a-f]{16}$/);
    const [a, b, c] = await embedder.embed([
      'function parse(query) { return query.split("&").map((item) => item.split("=")) }',
      'def parse(query):\n    return [item.split("=") for item in query.split("&")]',
      'class Tree:\n    children = []',
    ]);
    expect(a).toHaveLength(32);
    expect(Math.hypot(...a!)).toBeCloseTo(1, 5);
    expect(denseCosine([...a!], [...b!])).toBeGreaterThan(denseCosine([...a!], [...c!]));
  });

  it('refuses a directory that is not a model, saying what is missing', async () => {
    await expect(loadEmbedder(makeTemp())).rejects.toThrow(/config\.json is missing/);
  });
});

describe('the embedding cache', () => {
  it('embeds a chunk once: memory, then the store, and never again after a reformat', async () => {
    const root = copyFixture('exec/app');
    await chunk({ root, manifest: false });
    const hashes = [...new Set((await chunkHashes(root)).values())];
    const embedder = await loadEmbedder(modelDir);

    let store = await openStore(path.join(root, '.ccx'));
    const first = new ChunkEmbeddings(store, embedder);
    const vectors = await first.vectors(hashes);
    expect(vectors.size).toBe(hashes.length);
    await first.vectors(hashes);
    expect(first.stats).toMatchObject({ computed: hashes.length, memory: hashes.length, stored: 0 });
    await first.flush();
    await store.close();

    // A reformat (comments and blank lines) keeps every semantic hash: nothing is embedded again.
    const file = path.join(root, 'lib', 'math.js');
    writeFileSync(file, `// reformatted\n\n${readFileSync(file, 'utf8').replace(/\n/g, '\n\n')}`);
    await chunk({ root, manifest: false });
    const after = [...new Set((await chunkHashes(root)).values())].sort();
    expect(after).toEqual([...hashes].sort());
    store = await openStore(path.join(root, '.ccx'));
    const second = new ChunkEmbeddings(store, embedder);
    const again = await second.vectors(after);
    expect(second.stats).toMatchObject({ computed: 0, stored: hashes.length });
    for (const h of hashes) expect([...again.get(h)!]).toEqual([...vectors.get(h)!]);
    await store.close();
  });

  it('keeps at most the bound in the store, evicting the least recently used', async () => {
    const root = copyFixture('exec/app');
    await chunk({ root, manifest: false });
    const hashes = [...new Set((await chunkHashes(root)).values())].sort();
    expect(hashes.length).toBeGreaterThanOrEqual(6);
    const embedder = await loadEmbedder(modelDir);
    const store = await openStore(path.join(root, '.ccx'));
    try {
      const old = new ChunkEmbeddings(store, embedder, { maxEntries: 4 });
      await old.vectors(hashes.slice(0, 3));
      await old.flush();
      // Later, newer use of three others: past the bound of 4, the oldest go until 90% (3) is left.
      await new Promise((r) => setTimeout(r, 5));
      const recent = new ChunkEmbeddings(store, embedder, { maxEntries: 4 });
      await recent.vectors(hashes.slice(3, 6));
      await recent.flush();
      expect(recent.stats.evicted).toBe(3);
      const kept = await store.getEmbeddings(embedder.digest, hashes.slice(0, 6));
      expect(kept.map((v) => v !== undefined)).toEqual([false, false, false, true, true, true]);
    } finally {
      await store.close();
    }
  });
});

describe('knn with embeddings', () => {
  it('averages the embedding cosine with the TF-IDF one for submissions sharing no static chunk', () => {
    const m = createModel('knn');
    m.add({ submission: 's1', staticSet: ['a'], ownChunks: ['a'], used: ['lib#x'], embedding: [1, 0] });
    m.add({ submission: 's2', staticSet: ['b'], ownChunks: ['b'], used: ['lib#y'], embedding: [0, 1] });
    const near = m.predict({ staticSet: ['c'], ownChunks: ['c'], embedding: [0.96, 0.28] });
    expect(near.predicted).toEqual([{ id: 'lib#x', p: 1 }]);
    // Without embeddings and tokens, nothing resembles it.
    expect(m.predict({ staticSet: ['c'], ownChunks: ['c'] }).coldStart).toBe(true);
  });
});

describe('ccx train, predict, eval --embed-model', () => {
  it('trains with embeddings, predicts with them from the cache, and says when models differ', async () => {
    const root = copyFixture('exec/app');
    expect((await runCcx(['chunk', root, '--quiet'])).exitCode).toBe(0);
    await runCcx(['run', '--quiet', '--', 'node', 'child.js'], { cwd: root });
    const trained = await runCcx(['train', '--embed-model', modelDir, '--json'], { cwd: root });
    expect(trained.exitCode, trained.stderr).toBe(0);
    const info = JSON.parse(trained.stdout);
    expect(info.embedModel).toBe((await loadEmbedder(modelDir)).digest);

    // A new submission sharing no static chunk with child.js: compared by content.
    appendFileSync(
      path.join(root, 'other.js'),
      "'use strict';\nfunction inner() {\n  return 6;\n}\nconsole.log('product', inner());\n",
    );
    const p = await runCcx(['predict', 'other.js', '--embed-model', modelDir, '--json', '--verbose'], {
      cwd: root,
    });
    expect(p.exitCode, p.stderr).toBe(0);
    const out = JSON.parse(p.stdout);
    expect(out.coldStart).toBe(false);
    expect(out.static).not.toContain('lib/math.js');
    expect(out.predicted.map((x: { id: string }) => x.id)).toContain('lib/math.js#mul');
    // Training embedded child.js's chunks; predicting embedded only other.js's new ones.
    expect(p.stderr).toMatch(/^embeddings: 2 computed, 0 from the store, 0 from memory, 0 evicted$/m);

    const without = await runCcx(['predict', 'other.js', '--json'], { cwd: root });
    expect(without.stderr).toContain('was trained with embeddings');
    const bad = await runCcx(['predict', 'other.js', '--embed-model', makeTemp()], { cwd: root });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^error: .* is not an embedding model: config\.json is missing$/m);

    const e = await runCcx(['eval', '--json', '--embed-model', modelDir], { cwd: root });
    expect(e.exitCode, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).records).toBe(1);
  });
});
