import path from 'node:path';
import { it } from 'vitest';
import { openStore } from '../../src/store/store.js';
import { makeEntry, makeTempDir } from './helpers.js';
it('bench', async () => {
  const dir = makeTempDir();
  const store = await openStore(path.join(dir, 's'));
  const batches = [];
  for (let b = 0; b < 20; b++) {
    const entries = [];
    for (let f = 0; f < 500; f++) {
      const parts: string[] = [];
      for (let c = 0; c < 10; c++) parts.push(`export function f${c}_${b}_${f}() {\n${'  const x = 1;\n'.repeat(10)}}\n`);
      const bytes = Buffer.from(parts.join('\n'));
      let at = 0; const chunks = parts.map((p, c) => { const r: [number, number] = [at, at + Buffer.byteLength(p)]; at += Buffer.byteLength(p) + 1; return { hash: `h${c}_${b}_${f}`, ranges: [r] }; });
      entries.push(makeEntry(bytes, chunks));
    }
    batches.push(entries);
  }
  const t0 = performance.now();
  for (const e of batches) await store.putFiles(e);
  const t1 = performance.now();
  for (const e of batches) await store.putFiles(e);
  const t2 = performance.now();
  const keys = batches.flat().map((e) => e.analysisKey);
  await store.getAnalyses(keys);
  const t3 = performance.now();
  for (const e of batches[0]!) await store.readFileBytes(e.sha256);
  const t4 = performance.now();
  console.log({ put: t1 - t0, reput: t2 - t1, getAnalyses: t3 - t2, read500: t4 - t3 });
  await store.close();
});
