/**
 * [slow] Slicing correctness on code nobody here wrote: qs@6.13.0 (npm pack) and its own tape
 * tests. Each test file runs under `ccx run`; `ccx env prewarm` builds an environment per test
 * file, runs each test in its environment and in the package, and keeps the slice only when the
 * exit status and output match.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { fetchPackage, testFiles } from '../../scripts/test-packages.mjs';
import type { EnvironmentRecord } from '../../src/env/environment.js';
import { makeTemp, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

describe('[slow] environments of a real package', () => {
  it('slices qs at chunk level and every test runs in its environment as in the package', async () => {
    const dir = (fetchPackage as (spec: string) => string)('qs@6.13.0');
    const tests = (testFiles as (dir: string) => string[])(dir).filter(
      (t) => t !== 'test/empty-keys-cases.js',
    );
    const store = path.join(makeTemp(), 'store');
    expect((await runCcx(['chunk', dir, '--quiet', '--store', store])).exitCode).toBe(0);
    for (const t of tests) await runCcx(['run', '--quiet', '--store', store, '--', 'node', t], { cwd: dir });
    await runCcx(['train', '--store', store], { cwd: dir });
    const r = await runCcx(['env', 'prewarm', '--top', String(tests.length), '--json', '--store', store], {
      cwd: dir,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const envs = JSON.parse(r.stdout).environments as EnvironmentRecord[];
    expect(envs.length).toBeGreaterThanOrEqual(2);
    const manifest = JSON.parse(
      (await runCcx(['manifest', '--json', '--store', store], { cwd: dir })).stdout,
    );
    const libChunks = manifest.chunks.filter((c: { file: string }) => c.file.startsWith('lib/')).length;
    for (const e of envs) {
      expect(e.check.ok, e.check.failures.join('\n')).toBe(true);
      expect(e.check.ran).toBeGreaterThanOrEqual(1);
      // Slices, not copies: the dist bundle and other tests are left out.
      expect(e.chunks.some((id) => id.startsWith('dist/'))).toBe(false);
      expect(e.externals.npm.some((p) => p.startsWith('tape@'))).toBe(true);
      for (const s of e.submissions) {
        const inEnv = spawnSync('node', [s.entry], { cwd: e.paths.dir, encoding: 'utf8' });
        const inPackage = spawnSync('node', [s.entry], { cwd: dir, encoding: 'utf8' });
        expect(inEnv.status).toBe(inPackage.status);
        expect(inEnv.stdout).toBe(inPackage.stdout);
      }
    }
    // At least one environment drops chunks of lib/ its tests never need.
    const smallest = Math.min(...envs.map((e) => e.chunks.filter((id) => id.startsWith('lib/')).length));
    expect(smallest).toBeLessThan(libChunks);
    // Each environment holds tape and its dependencies (about 6 MiB): 8 MiB admits one.
    const budgeted = await runCcx(
      ['env', 'prewarm', '--budget-mb', '8', '--no-check', '--json', '--store', store],
      { cwd: dir },
    );
    const within = JSON.parse(budgeted.stdout);
    expect(within.environments).toHaveLength(1);
    expect(within.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    const utils = envs.find((e) => e.submissions.some((s) => s.entry === 'test/utils.js'));
    if (utils !== undefined) {
      const sliced = readFileSync(path.join(utils.paths.dir, 'lib/utils.js'), 'utf8');
      expect(sliced.split('\n')).toHaveLength(
        readFileSync(path.join(dir, 'lib/utils.js'), 'utf8').split('\n').length,
      );
    }
  });
});
