/**
 * `ccx resolve` on fixtures/env/app after `ccx env prewarm`: a hit for a prewarmed submission, a
 * partial match merged as one new top layer (a new version of the profile), a miss assembled on
 * demand; and `--run`: the submission runs in its environment, sandboxed, with an ES module the
 * slice lacks loaded from the store by the module hook.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandbox } from '../../src/exec/sandbox.js';
import { copyFixture, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

interface Resolved {
  environment: string;
  match: string;
  merged: string[];
  readyMs: number;
  sandbox: string | null;
  run: { exitCode: number; wallMs: number; maxRssKb: number } | null;
}

describe('ccx resolve', () => {
  let root: string;
  const resolve = async (...args: string[]): Promise<Resolved> => {
    const r = await runCcx(['resolve', ...args, '--json'], { cwd: root });
    expect(r.exitCode === 0 || args.includes('--run'), r.stderr).toBe(true);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    root = copyFixture('env/app');
    writeFileSync(
      path.join(root, 'calc.mjs'),
      "import { add, sub } from './lib/math.mjs';\n\nconsole.log(sub(add(5, 1), 2));\n",
    );
    writeFileSync(path.join(root, 'alone.js'), "'use strict';\nconsole.log('alone');\n");
    await runCcx(['chunk', root, '--quiet']);
    await runCcx(['run', '--quiet', '--', 'node', 'main.mjs'], { cwd: root });
    await runCcx(['run', '--quiet', '--', 'python3', 'shapes_main.py'], { cwd: root });
    await runCcx(['run', '--quiet', '--', 'node', 'size.js'], { cwd: root });
    await runCcx(['train'], { cwd: root });
    expect((await runCcx(['env', 'prewarm'], { cwd: root })).exitCode).toBe(0);
  });

  it('matches a prewarmed environment that holds every chunk the submission needs', async () => {
    const r = await resolve('main.mjs');
    expect(Object.keys(r)).toEqual(['environment', 'match', 'merged', 'readyMs', 'sandbox', 'run']);
    expect(r).toMatchObject({ match: 'hit', merged: [], sandbox: null, run: null });
    const shown = JSON.parse((await runCcx(['env', 'ls', '--json'], { cwd: root })).stdout);
    expect(shown.find((e: { id: string }) => e.id === r.environment).hits).toBe(1);
  });

  it('merges what a partial match lacks as a new top layer and version, then hits it', async () => {
    const before = JSON.parse(
      (await runCcx(['env', 'show', (await resolve('main.mjs')).environment, '--json'], { cwd: root }))
        .stdout,
    );
    const r = await resolve('calc.mjs');
    expect(r.match).toBe('partial');
    expect(r.merged).toEqual(['calc.mjs', 'lib/math.mjs#sub']);
    const after = JSON.parse((await runCcx(['env', 'show', r.environment, '--json'], { cwd: root })).stdout);
    expect(after.profile).toBe(before.profile);
    expect(after.version).toBe(before.version + 1);
    expect(readFileSync(path.join(after.paths.dir, 'lib/math.mjs'), 'utf8')).toContain('export function sub');
    const inspect = spawnSync('skopeo', ['inspect', `oci:${after.paths.oci}:latest`], { encoding: 'utf8' });
    expect(inspect.status, inspect.stderr).toBe(0);
    const baseInspect = spawnSync('skopeo', ['inspect', `oci:${before.paths.oci}:latest`], {
      encoding: 'utf8',
    });
    const layers = JSON.parse(inspect.stdout).Layers as string[];
    // The base's layers, unchanged, with one on top.
    expect(layers.slice(0, -1)).toEqual(JSON.parse(baseInspect.stdout).Layers);
    expect(layers).toHaveLength(JSON.parse(baseInspect.stdout).Layers.length + 1);
    expect((await resolve('calc.mjs')).match).toBe('hit');
  });

  it('assembles an environment on demand for a submission nothing holds', async () => {
    const r = await resolve('alone.js');
    expect(r).toMatchObject({ match: 'miss', merged: ['alone.js'] });
    expect(await resolve('alone.js')).toMatchObject({ match: 'hit', environment: r.environment });
  });

  it('runs the submission in its environment and exits as it does in the repository', async () => {
    const r = await runCcx(['resolve', 'calc.mjs', '--run', '--json'], { cwd: root });
    const out = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
    expect(r.stdout.startsWith('4\n')).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(out.run.exitCode).toBe(0);
    expect(out.run.maxRssKb).toBeGreaterThan(1000);
    const detected = await detectSandbox();
    expect(out.sandbox).toBe(detected.kind);
    const plain = await runCcx(['resolve', 'calc.mjs', '--run', '--sandbox', 'process'], { cwd: root });
    expect(plain.stderr).toMatch(/in a plain child process/);
    expect(plain.stdout).toBe('4\n');
    const failing = await runCcx(['resolve', 'calc.mjs', '--run', '--', 'node', '-e', 'process.exit(7)'], {
      cwd: root,
    });
    expect(failing.exitCode).toBe(7);
  });

  it('applies what checks learned to a new submission beside the ones they ran', async () => {
    // size.js needed lib/text.js whole (it reads its source); a new script beside it gets the same.
    writeFileSync(path.join(root, 'size2.js'), readFileSync(path.join(root, 'size.js')));
    const expected = spawnSync('node', ['size2.js'], { cwd: root, encoding: 'utf8' }).stdout;
    const r = await runCcx(['resolve', 'size2.js', '--run'], { cwd: root });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe(expected);
  });

  it('loads an ES module the slice lacks from the store at run time, and says so', async () => {
    // A computed specifier: no static edge leads to lib/late.mjs, so no slice holds it.
    writeFileSync(path.join(root, 'lib', 'late.mjs'), "export const late = 'loaded late';\n");
    writeFileSync(
      path.join(root, 'dyn.mjs'),
      "const name = ['late'].join('');\nconst m = await import('./lib/' + name + '.mjs');\nconsole.log(m.late);\n",
    );
    const r = await runCcx(['resolve', 'dyn.mjs', '--run'], { cwd: root });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe('loaded late\n');
    expect(r.stderr).toMatch(/loaded from the store at run time: lib\/late\.mjs/);
    const id = /environment ([0-9a-f]{16})/.exec(r.stderr)![1]!;
    const shown = await runCcx(['env', 'show', id], { cwd: root });
    expect(shown.stdout).toMatch(/^loaded from the store at run time: lib\/late\.mjs$/m);
  });
});
