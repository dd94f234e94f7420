/**
 * [slow] ccx chunk on code nobody here wrote: TypeScript sources of real npm packages (fetched
 * with `npm pack` by scripts/fetch-corpus.mjs) and the Python standard library of this machine.
 * The manifest validates, every indexed file round-trips byte for byte, and verify passes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { fetchCorpus } from '../../scripts/fetch-corpus.mjs';
import type { Manifest } from '../../src/manifest.js';
import { openStore } from '../../src/store/store.js';
import { makeTemp, manifestValidator, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

const CORPORA: Array<{ name: string; minFiles: number; language: string }> = [
  { name: 'rxjs', minFiles: 200, language: 'typescript' },
  { name: 'trpc', minFiles: 60, language: 'typescript' },
  { name: 'python-stdlib', minFiles: 1500, language: 'python' },
];

describe.each(CORPORA)('[slow] real corpus $name', ({ name, minFiles, language }) => {
  it('chunks, validates, round-trips every file and verifies', async () => {
    const dir = (fetchCorpus as (n: string) => string)(name);
    const store = path.join(makeTemp(), 'store');
    const r = await runCcx(['chunk', dir, '--store', store, '--json']);
    expect(r.exitCode, r.stderr).toBe(0);
    const m = JSON.parse(r.stdout) as Manifest;
    const validate = manifestValidator();
    expect(validate(m), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(m.stats.files).toBeGreaterThanOrEqual(minFiles);
    expect(m.chunks.filter((c) => c.language === language).length).toBeGreaterThan(m.stats.files);
    // Ids are unique and every chunk's range lies in its file.
    expect(new Set(m.chunks.map((c) => c.id)).size).toBe(m.chunks.length);
    const bytesOf = new Map(m.files.map((f) => [f.path, f.bytes]));
    for (const c of m.chunks) {
      expect(c.startByte).toBeLessThanOrEqual(c.endByte);
      expect(c.endByte).toBeLessThanOrEqual(bytesOf.get(c.file)!);
    }
    // Most chunks that can have dependencies do: the graph is not empty.
    expect(m.chunks.filter((c) => c.deps.length > 0).length).toBeGreaterThan(m.chunks.length / 10);

    const s = await openStore(store, { create: false });
    try {
      for (const f of m.files.filter((x) => x.status !== 'skipped')) {
        const back = await s.readFileBytes(f.sha256);
        expect(back.equals(readFileSync(path.join(dir, f.path))), f.path).toBe(true);
      }
    } finally {
      await s.close();
    }
    const verify = await runCcx(['verify', '--store', store]);
    expect(verify.stdout).toContain('store ok');

    // A second run reuses every file.
    const again = JSON.parse((await runCcx(['chunk', dir, '--store', store, '--json'])).stdout) as Manifest;
    expect(again.snapshot).toBe(m.snapshot);
    expect(again.stats.reusedFiles).toBe(m.files.filter((f) => f.status !== 'skipped').length);
  });
});
