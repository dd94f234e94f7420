/**
 * [slow] A reformat is never a functional change: real TypeScript packages (fetched with npm pack)
 * reformatted by prettier in two styles far from their own must diff as `reformatted` and
 * `unchanged` only, except in files that tree-sitter can no longer parse after prettier.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { fetchCorpus } from '../../scripts/fetch-corpus.mjs';
// @ts-expect-error -- a plain .mjs script without type declarations
import { reformatTree } from '../../scripts/reformat.mjs';
import { diff } from '../../src/change/diff.js';
import { manifest } from '../../src/chunking/queries.js';
import { makeTemp, removeTemps } from '../helpers/cli.js';

afterAll(removeTemps);

describe.each([
  ['rxjs', 'narrow'],
  ['rxjs', 'wide'],
  ['trpc', 'narrow'],
])('[slow] prettier round trip: %s, %s style', (corpus, style) => {
  it('reports reformatted chunks and no functional change', async () => {
    const source = (fetchCorpus as (n: string) => string)(corpus);
    const before = path.join(makeTemp(), 'src');
    const after = path.join(makeTemp(), 'src');
    cpSync(source, before, { recursive: true });
    cpSync(source, after, { recursive: true });
    const { rewritten } = await (reformatTree as (d: string, s: string) => Promise<{ rewritten: number }>)(
      after,
      style,
    );
    expect(rewritten).toBeGreaterThan(20);
    const store = path.join(makeTemp(), 'store');
    const result = await diff({ from: before, to: after, store });
    expect(result.summary.reformatted).toBeGreaterThan(100);
    // What is not a reformat must sit in a file prettier's output made unparsable for tree-sitter.
    const m = await manifest({ store, snapshot: result.to });
    const broken = new Set(m.files.filter((f) => f.status === 'parse-error').map((f) => f.path));
    const fileOf = (id: string) => id.split('#')[0]!;
    const functional = result.changes.filter((c) => c.kind !== 'reformatted' && c.kind !== 'unchanged');
    expect(functional.filter((c) => !broken.has(fileOf(c.to ?? c.from!)))).toEqual([]);
    // tree-sitter-typescript fails on a few of prettier's layouts (a destructured parameter
    // split over lines in a function type; call signatures without separators): few files.
    expect(broken.size).toBeLessThanOrEqual(m.files.length / 20);
  });
});
