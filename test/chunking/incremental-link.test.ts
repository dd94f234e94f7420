/**
 * Incremental linking (src/chunking/link.ts): after an edit, a run that starts from the head
 * snapshot must give exactly the snapshot content (graph records, closure hashes, warnings)
 * and link index that a run in a fresh store gives, while resolving only what the edit can
 * reach.
 */
import { appendFileSync, cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { fetchCorpus } from '../../scripts/fetch-corpus.mjs';
import { type ChunkResult, chunk } from '../../src/chunking/chunk.js';
import { canonicalJson } from '../../src/store/canonical-json.js';
import { openStore } from '../../src/store/store.js';
import { copyFixture, makeTemp, removeTemps } from '../helpers/cli.js';

afterAll(removeTemps);

/** The head snapshot's content and link index, as canonical JSON. */
async function headState(storePath: string, root: string): Promise<{ content: string; link: string }> {
  const store = await openStore(storePath, { create: false });
  try {
    const head = await store.getHead(path.resolve(root));
    const snapshot = await store.getSnapshot(head!);
    return {
      content: canonicalJson(snapshot!.content),
      link: canonicalJson(await store.getLinkIndex(head!)),
    };
  } finally {
    await store.close();
  }
}

/** Chunks `root` into `store` (incrementally), then into a fresh store, and compares the two. */
async function chunkAndCompare(root: string, store: string): Promise<ChunkResult> {
  const result = await chunk({ root, store, manifest: false, jobs: 1 });
  const fresh = path.join(makeTemp(), 'fresh');
  const full = await chunk({ root, store: fresh, manifest: false, jobs: 1 });
  expect(full.linking.mode).toBe('full');
  const [a, b] = await Promise.all([headState(store, root), headState(fresh, root)]);
  expect(a.content).toBe(b.content);
  expect(a.link).toBe(b.link);
  expect(result.stats.chunks).toBe(full.stats.chunks);
  expect(result.chunksByKind).toEqual(full.chunksByKind);
  expect(result.chunksByLanguage).toEqual(full.chunksByLanguage);
  return result;
}

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  expect(text.includes(from), `${file} holds ${JSON.stringify(from)}`).toBe(true);
  writeFileSync(file, text.replace(from, to));
}

describe('incremental linking', () => {
  it('gives the same snapshot as a full run after each kind of edit', async () => {
    const root = copyFixture('chunk/mixed');
    const store = path.join(makeTemp(), 'store');
    const first = await chunk({ root, store, manifest: false, jobs: 1 });
    expect(first.linking.mode).toBe('full');

    // A body edit: only the edited file is resolved again.
    edit(path.join(root, 'src/util/math.ts'), 'x * 2', 'x * 2 + 0');
    let r = await chunkAndCompare(root, store);
    expect(r.linking).toMatchObject({ mode: 'incremental', resolvedFiles: 1 });

    // A rename behind a barrel: its surface changed, so the files that read it resolve again.
    edit(path.join(root, 'src/util/math.ts'), 'const double =', 'const twice =');
    r = await chunkAndCompare(root, store);
    expect(r.linking.mode).toBe('incremental');
    expect(r.linking.resolvedFiles).toBeGreaterThan(1);

    // ...and back, with a new import the file did not read before.
    edit(path.join(root, 'src/util/math.ts'), 'const twice =', 'const double =');
    appendFileSync(
      path.join(root, 'src/types.ts'),
      "\nimport { area } from './a';\nexport const unit = area;\n",
    );
    r = await chunkAndCompare(root, store);
    expect(r.linking.mode).toBe('incremental');

    // Python: a re-export through __init__.py changes, and a module gains a function.
    edit(path.join(root, 'py/pkg/__init__.py'), 'from .m import helper', 'from .m import helper, Walker');
    appendFileSync(path.join(root, 'py/pkg/m.py'), '\n\ndef extra():\n    return helper("x")\n');
    r = await chunkAndCompare(root, store);
    expect(r.linking.mode).toBe('incremental');

    // A file that stops parsing, then parses again.
    appendFileSync(path.join(root, 'py/pkg/m.py'), '\ndef broken(:\n');
    r = await chunkAndCompare(root, store);
    expect(r.linking.mode).toBe('incremental');
    expect(r.stats.parseErrors).toBe(first.stats.parseErrors + 1);

    // Go is linked in full (its package tables are not tracked per file).
    edit(path.join(root, 'go/main.go'), 'lib.Sum(1, 2)', 'lib.Sum(1, 3)');
    r = await chunkAndCompare(root, store);
    expect(r.linking.mode).toBe('full');

    // A new file changes what paths resolve to: full.
    writeFileSync(path.join(root, 'src/new.ts'), 'export const n = 1;\n');
    r = await chunkAndCompare(root, store);
    expect(r.linking.mode).toBe('full');

    // Nothing changed: the head holds.
    r = await chunk({ root, store, manifest: false, jobs: 1 });
    expect(r.linking.mode).toBe('unchanged');
  });

  it('falls back to a full link when a configuration file changed', async () => {
    const root = copyFixture('chunk/mixed');
    const store = path.join(makeTemp(), 'store');
    await chunk({ root, store, manifest: false, jobs: 1 });
    writeFileSync(path.join(root, 'tsconfig.json'), '{ "compilerOptions": { "baseUrl": "src" } }\n');
    edit(path.join(root, 'src/util/math.ts'), 'x * 2', 'x * 3');
    const r = await chunkAndCompare(root, store);
    expect(r.linking.mode).toBe('full');
  });
});

/** Every .ts file under `dir`, relative, sorted. */
function tsFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(dir, rel)).sort()) {
    const p = rel === '' ? name : `${rel}/${name}`;
    if (statSync(path.join(dir, p)).isDirectory()) out.push(...tsFiles(dir, p));
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('[slow] incremental linking on rxjs', () => {
  it('matches a full run after rounds of edits, renames and removals', async () => {
    const source = (fetchCorpus as (n: string) => string)('rxjs');
    const root = path.join(makeTemp(), 'rxjs');
    cpSync(source, root, { recursive: true });
    const store = path.join(makeTemp(), 'store');
    await chunk({ root, store, manifest: false });
    const files = tsFiles(root);
    // A fixed pseudo-random sequence (xorshift), so that a failure can be replayed.
    let seed = 0x2545f491;
    const random = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    for (let round = 0; round < 3; round++) {
      for (let k = 0; k < 4; k++) {
        const file = path.join(root, files[random(files.length)]!);
        const text = readFileSync(file, 'utf8');
        const exported = /export function (\w+)/.exec(text);
        const kind = random(3);
        if (kind === 0 && exported !== null) {
          // Rename an exported function: importers fall back to the module chunk.
          writeFileSync(file, text.replace(`function ${exported[1]}`, `function ${exported[1]}Renamed`));
        } else if (kind === 1) {
          writeFileSync(
            file,
            `${text}\nexport function ccxAdded${round}${k}(x: number) {\n  return x + ${k};\n}\n`,
          );
        } else {
          // A functional change inside the first function body.
          writeFileSync(file, text.replace(/\{\n/, '{\n  void 0;\n'));
        }
      }
      const r = await chunkAndCompare(root, store);
      expect(r.linking.mode).toBe('incremental');
      expect(r.linking.resolvedFiles).toBeLessThan(files.length / 2);
    }
    rmSync(root, { recursive: true, force: true });
  });
});
