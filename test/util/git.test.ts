import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitFileInfo } from '../../src/util/git.js';

const temporary: string[] = [];

function makeTemp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ccx-git-'));
  temporary.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

function write(root: string, rel: string, content: string): void {
  const file = path.join(root, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
}

function git(cwd: string, author: string, date: string, ...args: string[]): void {
  execFileSync(
    'git',
    [
      '-c',
      `user.name=${author}`,
      '-c',
      'user.email=someone@example.com',
      '-c',
      'commit.gpgsign=false',
      ...args,
    ],
    { cwd, stdio: 'ignore', env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date } },
  );
}

/** A repository with three commits by different authors on known dates. */
function createHistory(): string {
  const root = makeTemp();
  git(root, 'Nobody', '2019-01-01T00:00:00Z', 'init', '-q', '-b', 'main');
  write(root, 'src/a.ts', 'export const a = 1;\n');
  write(root, 'src/b.ts', 'export const b = 1;\n');
  write(root, 'lib/ünï 名前.py', 'x = 1\n');
  write(root, 'old.go', 'package old\n');
  git(root, 'Ann', '2020-01-02T03:04:05+01:00', 'add', '.');
  git(root, 'Ann', '2020-01-02T03:04:05+01:00', 'commit', '-q', '-m', 'first');
  write(root, 'src/a.ts', 'export const a = 2;\n');
  git(root, 'Bøb Été', '2021-06-07T08:09:10-05:00', 'commit', '-q', '-am', 'second');
  write(root, 'lib/ünï 名前.py', 'x = 2\n');
  git(root, 'Cy', '2022-12-31T23:59:59Z', 'commit', '-q', '-am', 'third');
  return root;
}

describe('gitFileInfo', () => {
  it('gives the author and author date of the last commit touching each file', async () => {
    const root = createHistory();
    write(root, 'untracked.py', 'y = 1\n');

    const info = await gitFileInfo(root, [
      'src/a.ts',
      'src/b.ts',
      'lib/ünï 名前.py',
      'old.go',
      'untracked.py',
    ]);

    expect(Object.fromEntries(info)).toEqual({
      'src/a.ts': { creator: 'Bøb Été', lastModified: '2021-06-07T08:09:10-05:00' },
      'src/b.ts': { creator: 'Ann', lastModified: '2020-01-02T03:04:05+01:00' },
      'lib/ünï 名前.py': { creator: 'Cy', lastModified: '2022-12-31T23:59:59+00:00' },
      'old.go': { creator: 'Ann', lastModified: '2020-01-02T03:04:05+01:00' },
    });
  });

  it('stops early when the newest commits name every path asked for', async () => {
    const root = createHistory();
    const info = await gitFileInfo(root, ['lib/ünï 名前.py']);
    expect(Object.fromEntries(info)).toEqual({
      'lib/ünï 名前.py': { creator: 'Cy', lastModified: '2022-12-31T23:59:59+00:00' },
    });
  });

  it('takes paths relative to a root below the top of the work tree', async () => {
    const root = createHistory();
    const info = await gitFileInfo(path.join(root, 'src'), ['a.ts', 'b.ts', 'src/a.ts']);
    expect(Object.fromEntries(info)).toEqual({
      'a.ts': { creator: 'Bøb Été', lastModified: '2021-06-07T08:09:10-05:00' },
      'b.ts': { creator: 'Ann', lastModified: '2020-01-02T03:04:05+01:00' },
    });
  });

  it('does not date a file by the commit that deleted or renamed another', async () => {
    const root = createHistory();
    git(root, 'Dee', '2023-03-03T03:03:03Z', 'mv', 'old.go', 'new.go');
    git(root, 'Dee', '2023-03-03T03:03:03Z', 'commit', '-q', '-m', 'rename');
    const info = await gitFileInfo(root, ['new.go', 'old.go', 'src/b.ts']);
    expect(Object.fromEntries(info)).toEqual({
      'new.go': { creator: 'Dee', lastModified: '2023-03-03T03:03:03+00:00' },
      'src/b.ts': { creator: 'Ann', lastModified: '2020-01-02T03:04:05+01:00' },
    });
  });

  it('returns an empty map in a repository without commits', async () => {
    const root = makeTemp();
    git(root, 'Nobody', '2019-01-01T00:00:00Z', 'init', '-q', '-b', 'main');
    write(root, 'a.py', 'x = 1\n');
    git(root, 'Nobody', '2019-01-01T00:00:00Z', 'add', 'a.py');
    expect((await gitFileInfo(root, ['a.py'])).size).toBe(0);
  });

  it('returns an empty map outside a git work tree and for no paths', async () => {
    const root = makeTemp();
    write(root, 'a.py', 'x = 1\n');
    expect((await gitFileInfo(root, ['a.py'])).size).toBe(0);
    expect((await gitFileInfo(path.join(root, 'missing'), ['a.py'])).size).toBe(0);
    expect((await gitFileInfo(createHistory(), [])).size).toBe(0);
  });
});
