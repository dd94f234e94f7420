/**
 * Reruns of `chunk()`: unchanged trees reuse the head snapshot without re-reading files the stat
 * index vouches for; any change (content, even with the same size and mtime; a configuration
 * file the graph reads; a new file) is seen.
 */
import { readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chunk } from '../../src/chunking/chunk.js';
import { copyFixture, removeTemps } from '../helpers/cli.js';

afterAll(removeTemps);

const OLD = new Date('2020-01-01T00:00:00Z');

function ageAll(root: string, files: string[]): void {
  for (const f of files) utimesSync(path.join(root, f), OLD, OLD);
}

describe('incremental chunking', () => {
  it('reuses the head snapshot when nothing changed, and sees every kind of change', async () => {
    const root = copyFixture('chunk/mixed');
    const first = await chunk({ root, jobs: 1, manifest: false });
    expect(first.problems.map((p) => p.path)).toEqual(['py/broken.py']);
    ageAll(root, ['src/a.ts', 'src/types.ts', 'src/util/math.ts']);
    const second = await chunk({ root, jobs: 1, manifest: false });
    expect(second.newSnapshot).toBe(true); // mtimes changed: creator/lastModified differ
    const third = await chunk({ root, jobs: 1 });
    expect(third.newSnapshot).toBe(false);
    expect(third.snapshot).toBe(second.snapshot);
    expect(third.stats.newChunks).toBe(0);
    expect(third.manifest?.snapshot).toBe(second.snapshot);
    expect(third.manifest?.chunks.length).toBe(second.stats.chunks);

    // Same size, same mtime, other content: ctime still tells.
    const mathPath = path.join(root, 'src/util/math.ts');
    const math = readFileSync(mathPath, 'utf8');
    writeFileSync(mathPath, math.replace('x * 2', 'x * 3'));
    utimesSync(mathPath, OLD, OLD);
    const fourth = await chunk({ root, jobs: 1 });
    expect(fourth.newSnapshot).toBe(true);
    const double = fourth.manifest!.chunks.find((c) => c.id === 'src/util/math.ts#double')!;
    const before = third.manifest!.chunks.find((c) => c.id === 'src/util/math.ts#double')!;
    expect(double.hash).not.toBe(before.hash);
    // area depends on double: its closure hash changes, its own hash does not.
    const area = fourth.manifest!.chunks.find((c) => c.id === 'src/a.ts#area')!;
    const areaBefore = third.manifest!.chunks.find((c) => c.id === 'src/a.ts#area')!;
    expect(area.hash).toBe(areaBefore.hash);
    expect(area.closureHash).not.toBe(areaBefore.closureHash);
    expect(fourth.stats.reusedFiles).toBe(fourth.stats.files - fourth.stats.skipped - 1);

    // A configuration file the graph reads appears: not "unchanged", even with no source change.
    const fifth = await chunk({ root, jobs: 1, manifest: false });
    expect(fifth.newSnapshot).toBe(false);
    // (requirements.txt pins `os`, which py/pkg/m.py uses, so closure hashes must change.)
    writeFileSync(path.join(root, 'requirements.txt'), 'os==1.0\n');
    const sixth = await chunk({ root, jobs: 1 });
    expect(sixth.newSnapshot).toBe(true);
    expect(sixth.stats.reusedFiles).toBe(sixth.stats.files - sixth.stats.skipped);
    const helper = sixth.manifest!.chunks.find((c) => c.id === 'py/pkg/m.py#helper')!;
    const helperBefore = fourth.manifest!.chunks.find((c) => c.id === 'py/pkg/m.py#helper')!;
    expect(helper.hash).toBe(helperBefore.hash);
    expect(helper.closureHash).not.toBe(helperBefore.closureHash);

    // A tsconfig.json with paths appears beside the TypeScript sources and changes where an
    // import resolves, with no source file changed.
    writeFileSync(
      path.join(root, 'src/alias.ts'),
      "import { isEven } from '@u/math';\nexport const e = () => isEven(2);\n",
    );
    utimesSync(path.join(root, 'src/alias.ts'), OLD, OLD);
    const eighth = await chunk({ root, jobs: 1 });
    expect(eighth.manifest!.chunks.find((c) => c.id === 'src/alias.ts#e')!.externalDeps).toEqual(['@u/math']);
    writeFileSync(
      path.join(root, 'src/tsconfig.json'),
      '{"compilerOptions":{"paths":{"@u/*":["./util/*"]}}}',
    );
    const ninth = await chunk({ root, jobs: 1 });
    expect(ninth.newSnapshot).toBe(true);
    expect(ninth.manifest!.chunks.find((c) => c.id === 'src/alias.ts#e')!.deps).toEqual([
      'src/util/math.ts#isEven',
    ]);

    // A new file is seen.
    writeFileSync(path.join(root, 'src/new.ts'), 'export const n = () => 1;\n');
    const seventh = await chunk({ root, jobs: 1, manifest: false });
    expect(seventh.newSnapshot).toBe(true);
    expect(seventh.stats.files).toBe(ninth.stats.files + 1);
  });
});
