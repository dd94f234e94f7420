import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareUtf8, type Discovery, discoverFiles, languageForPath } from '../../src/chunking/discover.js';
import { UsageError } from '../../src/errors.js';

const temporary: string[] = [];

function makeTemp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccx-discover-'));
  temporary.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

function write(root: string, rel: string, content = 'x\n'): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

function git(cwd: string, ...args: string[]): void {
  execFileSync(
    'git',
    ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', '-c', 'commit.gpgsign=false', ...args],
    {
      cwd,
      stdio: 'ignore',
      env: {
        ...process.env,
        GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z',
        GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z',
      },
    },
  );
}

function initRepo(): string {
  const root = makeTemp();
  git(root, 'init', '-q', '-b', 'main');
  return root;
}

const paths = (discovery: Discovery): string[] => discovery.candidates.map((candidate) => candidate.path);
const reasons = (discovery: Discovery): Record<string, string> =>
  Object.fromEntries(discovery.skipped.map((file) => [file.path, file.reason]));

describe('languageForPath', () => {
  it.each([
    ['a.ts', 'typescript'],
    ['src/a.mts', 'typescript'],
    ['a.cts', 'typescript'],
    ['types/index.d.ts', 'typescript'],
    ['App.tsx', 'tsx'],
    ['a.js', 'javascript'],
    ['a.mjs', 'javascript'],
    ['a.cjs', 'javascript'],
    ['a.jsx', 'javascript'],
    ['pkg/mod.py', 'python'],
    ['main.go', 'go'],
  ])('maps %s to %s', (file, language) => {
    expect(languageForPath(file)).toBe(language);
  });

  it.each(['README.md', 'a.pyc', 'Makefile', '.ts', 'dir.py/file', 'a.TS', 'a.json', 'a.'])(
    'knows no language for %s',
    (file) => {
      expect(languageForPath(file)).toBeUndefined();
    },
  );
});

describe('compareUtf8', () => {
  it('orders as the UTF-8 bytes do, including characters above U+FFFF', () => {
    const names = ['b', 'a', 'ab', '\uFF01', '\u{1F600}', 'é', '\u{10000}', 'Z', '\uE000', ''];
    const expected = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...names].sort(compareUtf8)).toEqual(expected);
    // Plain UTF-16 order would put the emoji (a surrogate pair) before U+FF01.
    expect(compareUtf8('\u{1F600}', '\uFF01')).toBeGreaterThan(0);
  });
});

describe('discoverFiles in a git work tree', () => {
  it('lists tracked and untracked files that are not ignored, and nothing else', async () => {
    const root = initRepo();
    write(root, '.gitignore', 'ignored.py\nbuild/\n');
    write(root, 'src/a.ts');
    write(root, 'src/b.tsx');
    write(root, 'gone.go');
    write(root, 'README.md');
    write(root, 'node_modules/dep/index.js');
    write(root, 'tracked-then-ignored.js');
    git(root, 'add', '.gitignore', 'src', 'gone.go', 'README.md', 'tracked-then-ignored.js');
    git(root, 'add', '-f', 'node_modules/dep/index.js');
    git(root, 'commit', '-q', '-m', 'first');
    fs.rmSync(path.join(root, 'gone.go'));
    fs.appendFileSync(path.join(root, '.gitignore'), 'tracked-then-ignored.js\n');
    write(root, 'untracked.py');
    write(root, 'ignored.py');
    write(root, 'build/out.js');
    write(root, 'lib/ünïcödé 名前.py');
    write(root, '.ccx/cache/x.ts');
    write(root, 'sub/node_modules/y.js');

    const discovery = await discoverFiles(root, { storePath: path.join(root, '.ccx') });

    expect(discovery.gitWorkTree).toBe(fs.realpathSync(root));
    expect(paths(discovery)).toEqual([
      'lib/ünïcödé 名前.py',
      'src/a.ts',
      'src/b.tsx',
      'tracked-then-ignored.js',
      'untracked.py',
    ]);
    expect(discovery.candidates[0]).toEqual({
      path: 'lib/ünïcödé 名前.py',
      absPath: path.join(root, 'lib', 'ünïcödé 名前.py'),
      language: 'python',
    });
    expect(discovery.skipped).toEqual([]);
    expect(discovery.warnings).toEqual([]);
  });

  it('lists paths relative to a root below the top of the work tree', async () => {
    const root = initRepo();
    write(root, 'top.py');
    write(root, 'pkg/inner/a.go');
    write(root, 'pkg/b.js');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'first');

    const discovery = await discoverFiles(path.join(root, 'pkg'), {});

    expect(discovery.gitWorkTree).toBe(fs.realpathSync(root));
    expect(paths(discovery)).toEqual(['b.js', 'inner/a.go']);
  });

  it('skips symbolic links that git lists, saying where they lead', async () => {
    const root = initRepo();
    write(root, 'real.py');
    fs.symlinkSync('real.py', path.join(root, 'alias.py'));
    fs.symlinkSync('missing.py', path.join(root, 'dangling.py'));
    git(root, 'add', 'real.py', 'alias.py');
    git(root, 'commit', '-q', '-m', 'first');

    const discovery = await discoverFiles(root, {});

    expect(paths(discovery)).toEqual(['real.py']);
    expect(reasons(discovery)).toEqual({
      'alias.py': 'symbolic link to real.py, which is indexed under its own path',
      'dangling.py': 'symbolic link to a missing file',
    });
  });

  it('walks a root that the enclosing work tree ignores, as if outside git', async () => {
    const root = initRepo();
    write(root, '.gitignore', 'vendor/\n');
    write(root, 'main.go');
    write(root, 'vendor/lib/a.py');
    write(root, 'vendor/lib/.gitignore', 'skip.py\n');
    write(root, 'vendor/lib/skip.py');
    git(root, 'add', '.');
    git(root, 'commit', '-q', '-m', 'first');

    const discovery = await discoverFiles(path.join(root, 'vendor'), {});

    expect(discovery.gitWorkTree).toBeNull();
    expect(paths(discovery)).toEqual(['lib/a.py']);
  });

  it('works in a repository without commits', async () => {
    const root = initRepo();
    write(root, 'a.py');
    const discovery = await discoverFiles(root, {});
    expect(paths(discovery)).toEqual(['a.py']);
    expect(discovery.gitWorkTree).toBe(fs.realpathSync(root));
  });
});

describe('discoverFiles outside git', () => {
  it('honours the root and nested .gitignore files, each relative to its directory', async () => {
    const root = makeTemp();
    write(root, '.gitignore', '*.gen.ts\nbuild/\n/top-only.py\n');
    write(root, 'a.ts');
    write(root, 'x.gen.ts');
    write(root, 'build/out.js');
    write(root, 'top-only.py');
    write(root, 'pkg/top-only.py');
    write(root, 'pkg/.gitignore', '/local.py\n!keep.gen.ts\n');
    write(root, 'pkg/local.py');
    write(root, 'pkg/keep.gen.ts');
    write(root, 'pkg/drop.gen.ts');
    write(root, 'pkg/deeper/local.py');
    write(root, 'pkg/deeper/build/x.go');
    write(root, 'other/local.py');

    const discovery = await discoverFiles(root, {});

    expect(discovery.gitWorkTree).toBeNull();
    expect(paths(discovery)).toEqual([
      'a.ts',
      'other/local.py',
      'pkg/deeper/local.py',
      'pkg/keep.gen.ts',
      'pkg/top-only.py',
    ]);
    expect(discovery.warnings).toEqual([]);
  });

  it('never lists .git, node_modules or the store, and ignores unknown extensions', async () => {
    const root = makeTemp();
    write(root, 'src/a.go');
    write(root, 'src/notes.txt');
    write(root, '.git/hooks/h.py');
    write(root, 'node_modules/m/index.js');
    write(root, 'src/node_modules/n/index.js');
    write(root, 'store/data.ts');
    write(root, 'storehouse/kept.ts');

    const discovery = await discoverFiles(root, { storePath: path.join(root, 'store') });

    expect(paths(discovery)).toEqual(['src/a.go', 'storehouse/kept.ts']);
  });

  it('sorts by UTF-8 byte order', async () => {
    const root = makeTemp();
    for (const name of ['b.py', 'a.py', '\u{1F600}.py', '\uFF01.py', 'B.py']) write(root, name);
    const discovery = await discoverFiles(root, {});
    expect(paths(discovery)).toEqual(['B.py', 'a.py', 'b.py', '\uFF01.py', '\u{1F600}.py']);
  });

  it('skips symbolic links, FIFOs and undecodable names with a reason and returns the rest', async () => {
    const root = makeTemp();
    const outside = makeTemp();
    write(outside, 'elsewhere.py');
    write(root, 'real.py');
    write(root, 'ok.js');
    fs.symlinkSync(path.join(outside, 'elsewhere.py'), path.join(root, 'outside.py'));
    fs.symlinkSync('loop-b.py', path.join(root, 'loop-a.py'));
    fs.symlinkSync('loop-a.py', path.join(root, 'loop-b.py'));
    fs.symlinkSync('nowhere.py', path.join(root, 'dangling.py'));
    fs.symlinkSync('real.py', path.join(root, 'inside.py'));
    fs.symlinkSync('notes.txt', path.join(root, 'to-unindexed.py'));
    write(root, 'notes.txt');
    // A directory symbolic link is not followed, whatever it holds.
    write(outside, 'lib/hidden.ts');
    fs.symlinkSync(path.join(outside, 'lib'), path.join(root, 'linked-dir'));
    execFileSync('mkfifo', [path.join(root, 'pipe.py')]);
    fs.writeFileSync(
      Buffer.concat([Buffer.from(`${root}/bad-`), Buffer.from([0xff, 0xfe]), Buffer.from('.py')]),
      '',
    );

    const discovery = await discoverFiles(root, {});

    expect(paths(discovery)).toEqual(['ok.js', 'real.py']);
    expect(reasons(discovery)).toEqual({
      'bad-\uFFFD\uFFFD.py': 'file name is not valid UTF-8',
      'dangling.py': 'symbolic link to a missing file',
      'inside.py': 'symbolic link to real.py, which is indexed under its own path',
      'loop-a.py': 'symbolic link loop',
      'loop-b.py': 'symbolic link loop',
      'outside.py': 'symbolic link to a path outside the root',
      'pipe.py': 'not a regular file',
      'to-unindexed.py': 'symbolic link to notes.txt, which is not indexed',
    });
    expect(discovery.skipped.map((file) => file.path)).toEqual(
      [...Object.keys(reasons(discovery))].sort(compareUtf8),
    );
    expect(discovery.skipped.every((file) => file.language === 'python' && file.bytes === 0)).toBe(true);
    expect(discovery.warnings).toEqual([]);
  });

  it('reaches the root through a symbolic link', async () => {
    const real = makeTemp();
    write(real, 'a.py');
    fs.symlinkSync('a.py', path.join(real, 'b.py'));
    const link = path.join(makeTemp(), 'link');
    fs.symlinkSync(real, link);

    const discovery = await discoverFiles(link, {});

    expect(discovery.candidates).toEqual([
      { path: 'a.py', absPath: path.join(link, 'a.py'), language: 'python' },
    ]);
    expect(reasons(discovery)).toEqual({
      'b.py': 'symbolic link to a.py, which is indexed under its own path',
    });
  });

  it('throws a UsageError when the root is not a directory', async () => {
    const root = makeTemp();
    write(root, 'file.py');
    await expect(discoverFiles(path.join(root, 'missing'), {})).rejects.toBeInstanceOf(UsageError);
    await expect(discoverFiles(path.join(root, 'file.py'), {})).rejects.toBeInstanceOf(UsageError);
  });
});
