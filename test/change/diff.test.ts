/**
 * `ccx diff`: every change class, on pure inputs, on directories chunked by the analyzers, on git
 * revisions (the working tree and index left untouched), and the CLI's outputs.
 */
import { appendFileSync, cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyChanges, type DiffChunk, type DiffResult, diff } from '../../src/change/diff.js';
import { copyFixture, makeTemp, REPO_ROOT, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

function c(id: string, hash: string, extra: Partial<DiffChunk> = {}): DiffChunk {
  const hashIndex = id.indexOf('#');
  const file = hashIndex < 0 ? id : id.slice(0, hashIndex);
  const name = hashIndex < 0 ? id : id.slice(hashIndex + 1);
  return { id, file, name, kind: 'function', hash, interfaceHash: `i-${hash}`, ...extra };
}

describe('classifyChanges', () => {
  it('tells every class apart', () => {
    const from = [
      c('a.ts#same', 'h1'),
      c('a.ts#body', 'h2'),
      c('a.ts#sig', 'h3'),
      c('a.ts#old', 'h4'),
      c('a.ts#gone', 'h5'),
      c('b.ts#wander', 'h6'),
      c('a.ts#spaces', 'h7'),
    ];
    const to = [
      c('a.ts#same', 'h1'),
      c('a.ts#body', 'h2x', { interfaceHash: 'i-h2' }),
      c('a.ts#sig', 'h3x'),
      c('a.ts#new', 'h4'),
      c('a.ts#fresh', 'h8'),
      c('c.ts#wander', 'h6'),
      c('a.ts#spaces', 'h7'),
    ];
    const { changes, summary } = classifyChanges(from, to, (id) => id === 'a.ts#spaces', { all: true });
    expect(summary).toEqual({
      added: 1,
      removed: 1,
      modified: 2,
      renamed: 1,
      moved: 1,
      reformatted: 1,
      unchanged: 1,
    });
    const byTo = new Map(changes.map((x) => [x.to ?? x.from, x]));
    expect(byTo.get('a.ts#body')).toEqual({
      kind: 'modified',
      from: 'a.ts#body',
      to: 'a.ts#body',
      interfaceChanged: false,
    });
    expect(byTo.get('a.ts#sig')).toMatchObject({ kind: 'modified', interfaceChanged: true });
    expect(byTo.get('a.ts#new')).toMatchObject({ kind: 'renamed', from: 'a.ts#old' });
    expect(byTo.get('c.ts#wander')).toMatchObject({ kind: 'moved', from: 'b.ts#wander' });
    expect(byTo.get('a.ts#fresh')).toMatchObject({ kind: 'added', from: null });
    expect(byTo.get('a.ts#gone')).toMatchObject({ kind: 'removed', to: null });
    expect(byTo.get('a.ts#spaces')).toMatchObject({ kind: 'reformatted' });
    expect(byTo.get('a.ts#same')).toMatchObject({ kind: 'unchanged' });
    // Sorted by id; unchanged ones only with `all`.
    const ids = changes.map((x) => x.to ?? x.from!);
    expect(ids).toEqual([...ids].sort());
    expect(classifyChanges(from, to, () => false).changes.some((x) => x.kind === 'unchanged')).toBe(false);
  });

  it('pairs equal hashes one to one, by kind, then name, then file', () => {
    const from = [c('a.ts#f', 'h'), c('a.ts#g', 'h')];
    const to = [c('b.ts#g', 'h'), c('a.ts#x', 'h'), c('a.ts#y', 'h')];
    const { changes } = classifyChanges(from, to, () => false);
    // g keeps its name in b.ts (moved); f takes a same-file candidate (renamed); one is new.
    expect(changes).toEqual([
      { kind: 'renamed', from: 'a.ts#f', to: 'a.ts#x', interfaceChanged: false },
      { kind: 'added', from: null, to: 'a.ts#y', interfaceChanged: false },
      { kind: 'moved', from: 'a.ts#g', to: 'b.ts#g', interfaceChanged: false },
    ]);
  });

  it('does not call a copy of a chunk that still exists a move', () => {
    const { changes } = classifyChanges(
      [c('a.ts#f', 'h')],
      [c('a.ts#f', 'h'), c('b.ts#f', 'h')],
      () => false,
    );
    expect(changes).toEqual([{ kind: 'added', from: null, to: 'b.ts#f', interfaceChanged: false }]);
  });
});

/** The mixed fixture and an edited copy of it, with one edit of each class. */
function editedCopy(): { before: string; after: string } {
  const before = copyFixture('chunk/mixed');
  const after = path.join(makeTemp(), 'mixed');
  cpSync(before, after, { recursive: true });
  const a = path.join(after, 'src/a.ts');
  let text = readFileSync(a, 'utf8');
  text = text.replace(
    'return double(shape.w * shape.h);',
    'return double( shape.w*shape.h ); // reformatted',
  );
  text = text.replace('return this.area() * 2;', 'return this.area() * 3;');
  writeFileSync(a, text);
  const math = path.join(after, 'src/util/math.ts');
  writeFileSync(math, readFileSync(math, 'utf8').replace('function isEven(', 'function isEvenNumber('));
  mkdirSync(path.join(after, 'src/shapes'));
  renameSync(path.join(after, 'src/types.ts'), path.join(after, 'src/shapes/types.ts'));
  appendFileSync(path.join(after, 'py/pkg/m.py'), '\n\ndef added():\n    return 1\n');
  return { before, after };
}

function kindOf(result: DiffResult, to: string | null, from?: string): string | undefined {
  return result.changes.find((x) => (to === null ? x.from === from : x.to === to))?.kind;
}

describe('diff', () => {
  it('classifies the edits between two directories', async () => {
    const { before, after } = editedCopy();
    const store = path.join(makeTemp(), 'store');
    const result = await diff({ from: before, to: after, store });
    expect(kindOf(result, 'src/a.ts#area')).toBe('reformatted');
    expect(kindOf(result, 'src/a.ts#Box.twice')).toBe('modified');
    expect(kindOf(result, 'src/util/math.ts#isEvenNumber')).toBe('renamed');
    expect(kindOf(result, 'src/shapes/types.ts#Shape')).toBe('moved');
    expect(kindOf(result, 'py/pkg/m.py#added')).toBe('added');
    // The module chunk of a.ts imports from a path that moved: a functional change.
    expect(result.summary.modified).toBeGreaterThanOrEqual(1);
    expect(result.summary.removed).toBe(0);
    // The same snapshots by id prefix give the same answer.
    const again = await diff({ from: result.from.slice(0, 8), to: result.to.slice(0, 8), store });
    expect(again).toEqual(result);
  });

  it('reads git revisions without touching the working tree or the index', async () => {
    const { before, after } = editedCopy();
    const repo = path.join(makeTemp(), 'repo');
    cpSync(before, repo, { recursive: true });
    const git = (...args: string[]) =>
      execa('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-qm', 'before');
    cpSync(after, repo, { recursive: true });
    rmSync(path.join(repo, 'src/types.ts'));
    // A staged change and an unstaged one: both must survive the diff as they were.
    await git('add', 'src/a.ts');
    const status = (await git('status', '--porcelain=v1', '--untracked-files=all')).stdout;
    const index = readFileSync(path.join(repo, '.git/index'));
    const store = path.join(makeTemp(), 'store');
    const result = await diff({ from: 'HEAD', to: repo, store, dir: repo });
    expect(kindOf(result, 'src/a.ts#Box.twice')).toBe('modified');
    expect(kindOf(result, 'src/shapes/types.ts#Shape')).toBe('moved');
    expect((await git('status', '--porcelain=v1', '--untracked-files=all')).stdout).toBe(status);
    expect(readFileSync(path.join(repo, '.git/index')).equals(index)).toBe(true);
    expect((await git('worktree', 'list')).stdout.trim().split('\n')).toHaveLength(1);
    // The same revision gives the same snapshot every time.
    const again = await diff({ from: 'HEAD', to: repo, store, dir: repo });
    expect(again.from).toBe(result.from);
  });

  it('explains a side that names nothing', async () => {
    const store = path.join(makeTemp(), 'store');
    await expect(diff({ from: 'no-such-thing', to: '.', store, dir: makeTemp() })).rejects.toThrow(
      /is not a directory, a snapshot of .* or a git revision/,
    );
  });
});

describe('ccx diff (CLI)', () => {
  it('prints text, a Markdown table and JSON, and exits 2 for a bad side', async () => {
    const { before, after } = editedCopy();
    const store = path.join(makeTemp(), 'store');
    const text = await runCcx(['diff', before, after, '--store', store]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^modified\s+src\/a\.ts#Box\.twice$/m);
    expect(text.stdout).toMatch(/^renamed\s+src\/util\/math\.ts#isEven -> src\/util\/math\.ts#isEvenNumber/m);
    expect(text.stdout).toMatch(
      /: 1 added, \d+ modified, 1 renamed, 2 moved, 1 reformatted, \d+ unchanged\n$/,
    );
    const md = await runCcx(['diff', before, after, '--store', store, '--format', 'md']);
    expect(md.stdout).toContain('| change | chunk | was | interface changed |');
    expect(md.stdout).toContain('| moved | `src/shapes/types.ts#Shape` | `src/types.ts#Shape` |');
    const json = JSON.parse(
      (await runCcx(['diff', before, after, '--store', store, '--json', '--all'])).stdout,
    );
    expect(Object.keys(json)).toEqual(['from', 'to', 'changes', 'summary']);
    expect(json.changes.filter((x: { kind: string }) => x.kind === 'unchanged')).toHaveLength(
      json.summary.unchanged,
    );
    const bad = await runCcx(['diff', 'nope', after, '--store', store, '-C', REPO_ROOT]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^error: "nope" is not a directory/m);
  });
});
