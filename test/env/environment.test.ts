/**
 * `ccx env prewarm | ls | show | gc` on fixtures/env/app: environments sliced at chunk level
 * from recorded runs, checked by running their submissions (and widened where a run differs),
 * written as a directory, an OCI image layout (read back with umoci and skopeo), a Dockerfile
 * context and a Nix expression (parsed with nix-instantiate), reproducibly.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentRecord } from '../../src/env/environment.js';
import { planLayers } from '../../src/env/layers.js';
import { sliceSource } from '../../src/env/slice.js';
import { analyzeText } from '../helpers/analyze.js';
import { copyFixture, makeTemp, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

function tool(name: string): string {
  const r = spawnSync('which', [name], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `${name} is not installed; install it (apt-get install -y ${name === 'nix-instantiate' ? 'nix-bin' : name})`,
    );
  return r.stdout.trim();
}

function run(
  cmd: string,
  args: string[],
  cwd?: string,
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function treeDigests(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    out[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
  }
  return out;
}

describe('slicing', () => {
  it('drops unused chunks keeping every line number, with pass in Python', async () => {
    const js =
      'export function a() {\n  return 1;\n}\n\nexport function b() {\n  return 2;\n}\nconsole.log(a());\n';
    const sliced = sliceSource(
      Buffer.from(js),
      await analyzeText(js, 'javascript'),
      new Set(['a']),
      'javascript',
    ).toString();
    expect(sliced).not.toContain('function b');
    expect(sliced.split('\n')).toHaveLength(js.split('\n').length);
    expect(sliced.split('\n')[7]).toBe('console.log(a());');

    const py = 'class C:\n    def m(self):\n        return 1\n\n    def n(self):\n        return 2\n';
    const out = sliceSource(
      Buffer.from(py),
      await analyzeText(py, 'python'),
      new Set(['C', 'C.n']),
      'python',
    ).toString();
    expect(out).toBe('class C:\n    pass\n\n\n    def n(self):\n        return 2\n');
    const check = await analyzeText(out, 'python');
    expect(check.status).toBe('ok');
  });

  it('groups units into layers by the environments that share them, at most maxLayers', () => {
    const plans = planLayers(
      new Map([
        ['e1', ['npm:tape@5', 'src:a.js:1', 'src:shared.js:1']],
        ['e2', ['npm:tape@5', 'src:b.js:1', 'src:shared.js:1']],
      ]),
      100,
    );
    expect(plans.get('e1')).toEqual([
      { units: ['npm:tape@5'], shared: 2 },
      { units: ['src:shared.js:1'], shared: 2 },
      { units: ['src:a.js:1'], shared: 1 },
    ]);
    expect(plans.get('e2')![0]).toEqual(plans.get('e1')![0]);
    const capped = planLayers(new Map([['e1', ['npm:x@1', 'cfg:p:1', 'src:a:1']]]), 2);
    expect(capped.get('e1')).toEqual([
      { units: ['npm:x@1'], shared: 1 },
      { units: ['cfg:p:1', 'src:a:1'], shared: 1 },
    ]);
  });
});

describe('ccx env', () => {
  let root: string;
  let prewarmed: { environments: EnvironmentRecord[]; coveredRequests: number; totalRequests: number };
  const commands = [
    ['node', 'main.mjs'],
    ['node', 'size.js'],
    ['python3', 'shapes_main.py'],
  ];

  beforeAll(async () => {
    root = copyFixture('env/app');
    expect((await runCcx(['chunk', root, '--quiet'])).exitCode).toBe(0);
    for (const c of commands) await runCcx(['run', '--quiet', '--', ...c], { cwd: root });
    await runCcx(['train'], { cwd: root });
    const r = await runCcx(['env', 'prewarm', '--json'], { cwd: root });
    expect(r.exitCode, r.stderr).toBe(0);
    prewarmed = JSON.parse(r.stdout);
  });

  const envFor = (entry: string) =>
    prewarmed.environments.find((e) => e.submissions.some((s) => s.entry === entry))!;

  it('builds checked environments that cover the recorded requests', () => {
    expect(prewarmed.coveredRequests).toBe(3);
    expect(prewarmed.totalRequests).toBe(3);
    for (const e of prewarmed.environments) expect(e.check).toMatchObject({ ok: true, ran: 1 });
    for (const c of commands) {
      const e = envFor(c[1]!);
      const inEnv = run(c[0]!, c.slice(1), e.paths.dir);
      const inRoot = run(c[0]!, c.slice(1), root);
      expect(inEnv.status).toBe(0);
      expect(inEnv.stdout).toBe(inRoot.stdout);
    }
  });

  it('slices files at chunk level, keeps what is used, and widens what a run needs whole', () => {
    const esm = envFor('main.mjs');
    expect(esm.chunks).toContain('lib/math.mjs#add');
    expect(esm.chunks).not.toContain('lib/math.mjs#unused');
    const math = readFileSync(path.join(esm.paths.dir, 'lib/math.mjs'), 'utf8');
    const original = readFileSync(path.join(root, 'lib/math.mjs'), 'utf8');
    expect(math).toContain('export function add');
    expect(math).not.toContain('unused');
    expect(math.split('\n')).toHaveLength(original.split('\n').length);
    expect(existsSync(path.join(esm.paths.dir, 'size.js'))).toBe(false);
    // The package.json that makes .js files CommonJS goes with them.
    expect(existsSync(path.join(esm.paths.dir, 'package.json'))).toBe(true);

    const py = envFor('shapes_main.py');
    const shapes = readFileSync(path.join(py.paths.dir, 'lib/shapes.py'), 'utf8');
    expect(shapes).toContain('def area');
    expect(shapes).not.toContain('unused_helper');

    // size.js reads lib/text.js's source at run time: the slice changes its output, so it is widened.
    const size = envFor('size.js');
    expect(size.check.widened).toEqual(['lib/text.js']);
    expect(readFileSync(path.join(size.paths.dir, 'lib/text.js'), 'utf8')).toBe(
      readFileSync(path.join(root, 'lib/text.js'), 'utf8'),
    );
  });

  it('lists and shows environments in the documented JSON shapes', async () => {
    const ls = JSON.parse((await runCcx(['env', 'ls', '--json'], { cwd: root })).stdout);
    expect(ls).toHaveLength(3);
    expect(Object.keys(ls[0])).toEqual(['id', 'profile', 'version', 'bytes', 'builtAt', 'hits', 'paths']);
    const id = prewarmed.environments[0]!.id;
    const show = JSON.parse((await runCcx(['env', 'show', id.slice(0, 6), '--json'], { cwd: root })).stdout);
    expect(Object.keys(show)).toEqual(['id', 'profile', 'version', 'chunks', 'bytes', 'paths']);
    expect(Object.keys(show.paths)).toEqual(['dir', 'oci', 'dockerfile', 'nix']);
    expect(show.id).toBe(id);
    const text = await runCcx(['env', 'show', id], { cwd: root });
    expect(text.stdout).toMatch(/^check: 1 runs match the root$/m);
    const missing = await runCcx(['env', 'show', 'ffffffff'], { cwd: root });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^error: no environment ffffffff$/m);
  });

  it('writes an OCI layout umoci unpacks to the same tree and skopeo reads, sharing layers', () => {
    const umoci = tool('umoci');
    const skopeo = tool('skopeo');
    for (const e of prewarmed.environments) {
      const bundle = path.join(makeTemp(), 'bundle');
      const unpacked = run(umoci, ['unpack', '--rootless', '--image', `${e.paths.oci}:latest`, bundle]);
      expect(unpacked.status, unpacked.stderr).toBe(0);
      expect(treeDigests(path.join(bundle, 'rootfs', 'app'))).toEqual(treeDigests(e.paths.dir));
      const inspect = run(skopeo, ['inspect', `oci:${e.paths.oci}:latest`]);
      expect(inspect.status, inspect.stderr).toBe(0);
      expect(JSON.parse(inspect.stdout).Layers).toEqual(e.layers.map((l) => l.digest));
    }
    // package.json is held by both Node environments: one layer, the same digest in both.
    const a = envFor('main.mjs').layers.filter((l) => l.shared === 2);
    const b = envFor('size.js').layers.filter((l) => l.shared === 2);
    expect(a).toHaveLength(1);
    expect(a).toEqual(b);
  });

  it('writes a Dockerfile with one COPY per layer and a Nix expression that parses', () => {
    const nix = tool('nix-instantiate');
    for (const e of prewarmed.environments) {
      const dockerfile = readFileSync(e.paths.dockerfile, 'utf8');
      expect(dockerfile.match(/^COPY layer-\d\d\/ \/app\/$/gm)).toHaveLength(e.layers.length);
      const parsed = run(nix, ['--parse', e.paths.nix]);
      expect(parsed.status, parsed.stderr).toBe(0);
      expect(readFileSync(e.paths.nix, 'utf8')).toContain('pkgs.stdenvNoCC.mkDerivation');
    }
  });

  it('puts a base image underneath with --base oci:PATH, and refuses a path that is not a layout', async () => {
    const base = envFor('main.mjs');
    const other = copyFixture('env/app');
    await runCcx(['chunk', other, '--quiet']);
    await runCcx(['run', '--quiet', '--', 'node', 'main.mjs'], { cwd: other });
    const r = await runCcx(['env', 'prewarm', '--json', '--no-check', '--base', `oci:${base.paths.oci}`], {
      cwd: other,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const [e] = JSON.parse(r.stdout).environments as EnvironmentRecord[];
    const inspect = run(tool('skopeo'), ['inspect', `oci:${e!.paths.oci}:latest`]);
    const layers = JSON.parse(inspect.stdout).Layers as string[];
    expect(layers.slice(0, base.layers.length)).toEqual(base.layers.map((l) => l.digest));
    expect(layers.slice(base.layers.length)).toEqual(e!.layers.map((l) => l.digest));
    expect(e!.check.ran).toBe(0);
    const bad = await runCcx(['env', 'prewarm', '--base', `oci:${other}`], { cwd: other });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/is not an OCI image layout/);
  });

  it('builds the same bytes again, and a new version after the code changes; gc keeps the newest', async () => {
    const before = new Map(prewarmed.environments.map((e) => [e.id, treeDigests(e.paths.oci)]));
    const again = JSON.parse((await runCcx(['env', 'prewarm', '--json'], { cwd: root })).stdout);
    for (const e of again.environments as EnvironmentRecord[]) {
      expect(before.has(e.id)).toBe(true);
      expect(treeDigests(e.paths.oci)).toEqual(before.get(e.id));
      expect(e.version).toBe(1);
    }

    const file = path.join(root, 'lib', 'math.mjs');
    writeFileSync(file, readFileSync(file, 'utf8').replace('return a + b;', 'return b + a + 0;'));
    await runCcx(['chunk', root, '--quiet']);
    const changed = JSON.parse((await runCcx(['env', 'prewarm', '--json'], { cwd: root })).stdout);
    const v2 = (changed.environments as EnvironmentRecord[]).find(
      (e) => e.submissions[0]!.entry === 'main.mjs',
    )!;
    expect(v2.version).toBe(2);
    expect(v2.profile).toBe(envFor('main.mjs').profile);
    expect(v2.id).not.toBe(envFor('main.mjs').id);

    const gc = await runCcx(['env', 'gc', '--json'], { cwd: root });
    expect(JSON.parse(gc.stdout)).toEqual([envFor('main.mjs').id]);
    expect(existsSync(envFor('main.mjs').paths.dir)).toBe(false);
    const ls = JSON.parse((await runCcx(['env', 'ls', '--json'], { cwd: root })).stdout);
    expect(ls.map((e: { id: string }) => e.id).sort()).toEqual(
      (changed.environments as EnvironmentRecord[]).map((e) => e.id).sort(),
    );
  });

  it('writes every environment that fits the budget', async () => {
    const r = await runCcx(['env', 'prewarm', '--json', '--no-check', '--budget-mb', '1', '--top', '3'], {
      cwd: root,
    });
    const out = JSON.parse(r.stdout);
    // Every environment here is a few hundred bytes: all three fit in 1 MiB.
    expect(out.environments).toHaveLength(3);
    expect(out.bytes).toBeLessThanOrEqual(out.budgetBytes);
    expect(out.coveredRequests).toBe(3);
  });

  it('says what to do with an empty history', async () => {
    const fresh = copyFixture('env/app');
    await runCcx(['chunk', fresh, '--quiet']);
    const r = await runCcx(['env', 'prewarm'], { cwd: fresh });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^error: the history is empty: there is nothing to prewarm for$/m);
  });
});
