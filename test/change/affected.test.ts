/**
 * `ccx affected` on a repository with known graphs (fixtures/affected/repo): a barrel file,
 * re-exports, a cycle, Python packages and relative imports, a Go package, a dynamic import;
 * changes in the working tree, which must be left as it was.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { affected } from '../../src/change/affected.js';
import { copyFixture, makeTemp, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

/** A git repository holding the fixture, committed once. */
async function makeRepo(): Promise<{ repo: string; git: (...args: string[]) => Promise<string> }> {
  const repo = copyFixture('affected/repo');
  const git = async (...args: string[]) =>
    (await execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo }))
      .stdout;
  await git('init', '-q');
  await git('add', '-A');
  await git('commit', '-qm', 'base');
  return { repo, git };
}

function edit(repo: string, file: string, from: string, to: string): void {
  const p = path.join(repo, file);
  const text = readFileSync(p, 'utf8');
  expect(text.includes(from), `${file} holds ${from}`).toBe(true);
  writeFileSync(p, text.replace(from, to));
}

describe('affected', () => {
  it('selects the tests a change reaches through a barrel, and no others', async () => {
    const { repo } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    edit(repo, 'src/util/math.ts', 'x * 2', 'x + x');
    const r = await affected({ dir: repo, store });
    expect(r.changed).toEqual(['src/util/math.ts#double']);
    expect(r.affected).toEqual(expect.arrayContaining(['src/util/math.ts#double', 'src/area.ts#area']));
    // parity.test.ts imports the barrel too, but only isEven: not selected (file level would).
    expect(r.tests).toEqual(['test/area.test.ts']);
  });

  it('follows a cycle to every test that reaches it', async () => {
    const { repo } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    edit(repo, 'src/util/math.ts', 'n === 0 ? false', 'n <= 0 ? false');
    const r = await affected({ dir: repo, store });
    expect(r.changed).toEqual(['src/util/math.ts#isOdd']);
    expect(r.affected).toContain('src/util/math.ts#isEven');
    expect(r.tests).toEqual(['test/parity.test.ts']);
  });

  it('goes through Python packages and relative imports', async () => {
    const { repo } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    edit(repo, 'py/pkg/m.py', 'return os.path.basename(path)', 'return os.path.basename(path.rstrip("/"))');
    const r = await affected({ dir: repo, store });
    expect(r.changed).toEqual(['py/pkg/m.py#helper']);
    // test_helper imports it through pkg/__init__.py; Walker.name calls it.
    expect(r.tests).toEqual(['py/tests/test_helper.py', 'py/tests/test_walker.py']);
  });

  it('goes through a Go package', async () => {
    const { repo } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    edit(repo, 'go/lib/lib.go', 'return a + b', 'return b + a + 0');
    const r = await affected({ dir: repo, store });
    expect(r.changed).toEqual(['go/lib/lib.go#Sum']);
    expect(r.tests).toEqual(['go/lib/lib_test.go']);
  });

  it('reports a reformat without selecting anything, and leaves the working tree as it was', async () => {
    const { repo, git } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the fixture
    edit(repo, 'src/greet.ts', 'return `hello ${name}`;', '// says hello\n    return `hello ${name}`');
    await git('add', 'src/greet.ts');
    edit(repo, 'src/area.ts', 'double(w * h)', 'double( w*h )');
    const status = await git('status', '--porcelain=v1', '--untracked-files=all');
    const index = readFileSync(path.join(repo, '.git/index'));
    const r = await affected({ dir: repo, store });
    expect(r.changed).toEqual([]);
    expect(r.affected).toEqual([]);
    expect(r.tests).toEqual([]);
    expect(r.reformattedOnly).toEqual(['src/area.ts', 'src/greet.ts']);
    expect(await git('status', '--porcelain=v1', '--untracked-files=all')).toBe(status);
    expect(readFileSync(path.join(repo, '.git/index')).equals(index)).toBe(true);
  });

  it('compares two revisions with --head, and sees a removed function', async () => {
    const { repo, git } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: source text of the fixture
    edit(repo, 'src/greet.ts', 'return `hello ${name}`;', 'return `hi ${name}`;');
    await git('commit', '-qam', 'greet');
    edit(repo, 'go/lib/lib.go', 'return a * b', 'return a * b * 1');
    const r = await affected({ dir: repo, store, base: 'HEAD~1', head: 'HEAD' });
    expect(r.changed).toEqual(['src/greet.ts#greet']);
    expect(r.tests).toEqual(['test/greet.test.ts']);
    // Removing Product affects the test that used it.
    edit(
      repo,
      'go/lib/lib.go',
      '// Product multiplies two numbers.\nfunc Product(a, b int) int {\n\treturn a * b * 1\n}\n',
      '',
    );
    const removed = await affected({ dir: repo, store });
    expect(removed.changed).toContain('go/lib/lib.go#Product');
    expect(removed.tests).toEqual(['go/lib/product_test.go']);
  });

  it('lists references it cannot follow, and --conservative selects the tests that reach them', async () => {
    const { repo } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    edit(repo, 'src/greet.ts', 'hello', 'hi');
    const r = await affected({ dir: repo, store });
    expect(r.unresolved).toEqual([{ chunk: 'src/loader.ts#load', reference: 'import(name)' }]);
    expect(r.tests).toEqual(['test/greet.test.ts']);
    const c = await affected({ dir: repo, store, conservative: true });
    expect(c.tests).toEqual(['test/greet.test.ts', 'test/plugins.test.ts']);
  });

  it('takes --tests globs instead of the defaults', async () => {
    const { repo } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    edit(repo, 'src/util/math.ts', 'x * 2', 'x * 3');
    const r = await affected({ dir: repo, store, tests: ['src/**'] });
    expect(r.tests).toEqual(['src/area.ts', 'src/util/math.ts']);
  });
});

describe('ccx affected (CLI)', () => {
  it('prints test paths for xargs, JSON, and exits 1 with --fail-if-affected', async () => {
    const { repo } = await makeRepo();
    const store = path.join(makeTemp(), 'store');
    const clean = await runCcx(['affected', repo, '--store', store, '--fail-if-affected']);
    expect(clean.exitCode, clean.stderr).toBe(0);
    expect(clean.stdout).toBe('');
    edit(repo, 'src/util/math.ts', 'x * 2', 'x + x');
    const text = await runCcx(['affected', repo, '--store', store]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toBe('test/area.test.ts\n');
    const json = await runCcx(['affected', repo, '--store', store, '--json', '--fail-if-affected']);
    expect(json.exitCode).toBe(1);
    expect(Object.keys(JSON.parse(json.stdout))).toEqual([
      'base',
      'head',
      'changed',
      'affected',
      'tests',
      'reformattedOnly',
      'unresolved',
    ]);
    const outside = await runCcx(['affected', makeTemp(), '--store', store]);
    expect(outside.exitCode).toBe(2);
    expect(outside.stderr).toMatch(/^error: .* is not in a git work tree/m);
  });

  it('keeps the default store inside DIR out of git status', async () => {
    const { repo, git } = await makeRepo();
    cpSync(path.join(repo, 'src/greet.ts'), path.join(repo, 'src/greet2.ts'));
    await runCcx(['affected', repo]);
    expect(await git('status', '--porcelain=v1', '--untracked-files=all')).toBe('?? src/greet2.ts');
  });
});
