/**
 * `ccx affected --precise`: edges the TypeScript checker finds that names alone do not give
 * (a method called on a parameter whose type is a class of another file, re-exports followed to
 * their declarations), and affected using them.
 */
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { affected } from '../../src/change/affected.js';
import { findPreciseEdges } from '../../src/change/precise.js';
import { chunk } from '../../src/chunking/chunk.js';
import { manifest } from '../../src/chunking/queries.js';
import { copyFixture, makeTemp, removeTemps } from '../helpers/cli.js';

afterAll(removeTemps);

describe('precise edges', () => {
  it('finds member calls and re-exports the name-based graph does not have', async () => {
    const root = copyFixture('affected/precise');
    const store = path.join(makeTemp(), 'store');
    await chunk({ root, store, manifest: false });
    const m = await manifest({ store });
    const firstOf = m.chunks.find((c) => c.id === 'src/use.ts#firstOf')!;
    expect(firstOf.deps).not.toContain('src/store.ts#Store.get');
    const result = await findPreciseEdges(root, m);
    expect(result.projects).toBe(1);
    expect(result.files).toBe(4);
    expect(result.edges).toContainEqual(['src/use.ts#firstOf', 'src/store.ts#Store.get']);
    // The test's imports resolve through the barrel to the declarations.
    expect(result.edges).toContainEqual(['test/use.test.ts', 'src/store.ts#Store']);
    expect(result.edges).toContainEqual(['test/use.test.ts', 'src/store.ts#Store.put']);
    expect(result.added).toBeGreaterThan(0);
    expect(result.edges.every(([from, to]) => from !== to)).toBe(true);
  });

  it('selects the test through the checker edges, and no test without a change', async () => {
    const repo = copyFixture('affected/precise');
    const git = (...args: string[]) =>
      execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-qm', 'base');
    const store = path.join(makeTemp(), 'store');
    expect((await affected({ dir: repo, store, precise: true })).tests).toEqual([]);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const file = path.join(repo, 'src/store.ts');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('return this.items[index];', 'return this.items.at(index);'),
    );
    const r = await affected({ dir: repo, store, precise: true });
    expect(r.changed).toEqual(['src/store.ts#Store.get']);
    expect(r.affected).toContain('src/use.ts#firstOf');
    expect(r.tests).toEqual(['test/use.test.ts']);
  });
});
