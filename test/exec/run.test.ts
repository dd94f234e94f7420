/**
 * `ccx run` and `ccx history`: programs that call known functions record exactly those chunks
 * (Node.js and Python, a child process each), the command's output and exit status pass
 * through, and records round-trip through export and import, bad lines listed and skipped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXECUTION_RECORD_SCHEMA, type ExecutionRecord } from '../../src/history/record.js';
import { copyFixture, makeTemp, removeTemps, runCcx, SPEC_DIR } from '../helpers/cli.js';

afterAll(removeTemps);

/** The fixture app, chunked into its default store. */
async function chunkedApp(): Promise<string> {
  const root = copyFixture('exec/app');
  const r = await runCcx(['chunk', root, '--quiet']);
  expect(r.exitCode, r.stderr).toBe(0);
  return root;
}

async function lastRecord(root: string): Promise<ExecutionRecord> {
  const r = await runCcx(['history', 'ls', '--json', '--store', path.join(root, '.ccx')]);
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as ExecutionRecord[]).at(-1)!;
}

describe('ccx run', () => {
  it('records the chunks a Node.js program and its child process executed, and passes output and status through', async () => {
    const root = await chunkedApp();
    const r = await runCcx(['run', '--label', 'suite=unit', '--', 'node', 'main.js'], { cwd: root });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toBe('sum 3\nproduct 6\n');
    expect(r.stderr).toBe('');
    const record = await lastRecord(root);
    expect(record.chunksUsed).toEqual([
      'child.js',
      'child.js#inner',
      'lib/math.js',
      'lib/math.js#add',
      'lib/math.js#mul',
      'main.js',
    ]);
    expect(record.exitCode).toBe(3);
    expect(record.labels).toEqual({ suite: 'unit' });
    expect(record.submission.entry).toBe('main.js');
    expect(record.submission.command).toEqual(['node', 'main.js']);
    expect(record.resources.wallMs).toBeGreaterThan(0);
    expect(record.resources.cpuMs).toBeGreaterThan(0);
    expect(record.resources.maxRssKb).toBeGreaterThan(1000);
  });

  it('records the chunks a Python program and its child process executed', async () => {
    const root = await chunkedApp();
    const r = await runCcx(['run', '--', 'python3', 'py/main.py'], { cwd: root });
    expect(r.exitCode).toBe(5);
    expect(r.stdout).toBe('square 9\narea 4\ncube 8\n');
    const record = await lastRecord(root);
    expect(record.chunksUsed).toEqual([
      'py/calc.py',
      'py/calc.py#Box',
      'py/calc.py#Box.area',
      'py/calc.py#cube',
      'py/calc.py#square',
      'py/child.py',
      'py/main.py',
    ]);
    expect(record.submission.entry).toBe('py/main.py');
    // `python -m package.module`: the module's file is the submission.
    const module = await runCcx(['run', '--', 'python3', '-m', 'tasks.greet'], { cwd: root });
    expect(module.exitCode, module.stderr).toBe(0);
    expect(module.stdout).toBe('hi\n');
    const byModule = await lastRecord(root);
    expect(byModule.submission.entry).toBe('tasks/greet.py');
    expect(byModule.chunksUsed).toEqual(['tasks/__init__.py', 'tasks/greet.py', 'tasks/greet.py#hello']);
  });

  it('says so for a program that is neither, and for files changed since the snapshot', async () => {
    const root = await chunkedApp();
    const shell = await runCcx(['run', '--', 'sh', '-c', 'echo plain; exit 7'], { cwd: root });
    expect(shell.exitCode).toBe(7);
    expect(shell.stdout).toBe('plain\n');
    expect(shell.stderr).toMatch(
      /^ccx: sh started no Node\.js or Python process that reported; recorded without chunk data$/m,
    );
    const plain = await lastRecord(root);
    expect(plain.chunksUsed).toEqual([]);
    expect(plain.submission.entry).toBe('sh -c echo plain; exit 7');

    const math = path.join(root, 'lib/math.js');
    writeFileSync(math, readFileSync(math, 'utf8').replace('a + b', 'b + a'));
    const changed = await runCcx(['run', '--', 'node', 'main.js'], { cwd: root });
    expect(changed.stderr).toMatch(
      /^ccx: lib\/math\.js changed since snapshot [0-9a-f]{12}; its chunks are not recorded$/m,
    );
    const record = await lastRecord(root);
    expect(record.chunksUsed).toEqual(['child.js', 'child.js#inner', 'main.js']);
  });

  it('explains a root without a snapshot, and a command that cannot run', async () => {
    const empty = makeTemp();
    const none = await runCcx(['run', '--store', path.join(empty, 'store'), '--', 'node', '-e', '0'], {
      cwd: empty,
    });
    expect(none.exitCode).toBe(2);
    const root = await chunkedApp();
    const missing = await runCcx(['run', '--', 'no-such-program-ccx'], { cwd: root });
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/^ccx: cannot run no-such-program-ccx/m);
  });
});

describe('ccx history', () => {
  it('lists, shows, counts, and round-trips records through export and import', async () => {
    const root = await chunkedApp();
    const store = path.join(root, '.ccx');
    await runCcx(['run', '--', 'node', 'main.js'], { cwd: root });
    await runCcx(['run', '--', 'node', 'child.js'], { cwd: root });
    const ls = await runCcx(['history', 'ls', '--store', store]);
    expect(ls.stdout.trim().split('\n')).toHaveLength(2);
    const first = (await lastRecord(root)).id;
    const show = await runCcx(['history', 'show', first.slice(0, 12), '--store', store]);
    expect(show.stdout).toContain(`id:        ${first}`);
    expect(show.stdout).toContain('  lib/math.js#mul');
    const stats = JSON.parse((await runCcx(['history', 'stats', '--json', '--store', store])).stdout);
    expect(stats).toMatchObject({ records: 2, submissions: 2, failed: 1 });
    expect(stats.topChunks[0]).toEqual({ id: 'child.js', records: 2 });

    const exported = (await runCcx(['history', 'export', '--store', store])).stdout;
    expect(exported.trim().split('\n')).toHaveLength(2);
    const file = path.join(makeTemp(), 'records.jsonl');
    writeFileSync(file, exported);
    const other = path.join(makeTemp(), 'other-store');
    const imported = await runCcx(['history', 'import', file, '--store', other]);
    expect(imported.exitCode, imported.stderr).toBe(0);
    expect(imported.stdout).toBe('imported 2, already present 0, rejected 0\n');
    expect((await runCcx(['history', 'export', '--store', other])).stdout).toBe(exported);
    // Importing again changes nothing; --since filters.
    expect((await runCcx(['history', 'import', file, '--store', other])).stdout).toBe(
      'imported 0, already present 2, rejected 0\n',
    );
    expect((await runCcx(['history', 'export', '--since', '2999-01-01', '--store', other])).stdout).toBe('');
  });

  it('imports the good lines of a file with bad ones, lists the bad ones by line, and exits 1', async () => {
    const root = await chunkedApp();
    await runCcx(['run', '--', 'node', 'child.js'], { cwd: root });
    const good = (await lastRecord(root)) as ExecutionRecord;
    const otherGood = { ...good, id: `${good.id}-b`, exitCode: 1 };
    const conflicting = { ...good, exitCode: 42 };
    const lines = [
      JSON.stringify(good),
      '{ not json',
      JSON.stringify({ ...good, id: 'x', snapshot: 'not-a-sha' }),
      '',
      JSON.stringify(otherGood),
      JSON.stringify(conflicting),
    ];
    const file = path.join(makeTemp(), 'mixed.jsonl');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const store = path.join(root, '.ccx');
    const r = await runCcx(['history', 'import', file, '--store', store]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('imported 1, already present 1, rejected 3\n');
    expect(r.stderr).toMatch(/^line 2: not JSON/m);
    expect(r.stderr).toMatch(/^line 3: record\/snapshot must match pattern/m);
    expect(r.stderr).toMatch(/^line 6: id .* already on line 1$/m);
    const ids = (
      JSON.parse((await runCcx(['history', 'ls', '--json', '--store', store])).stdout) as ExecutionRecord[]
    ).map((x) => x.id);
    expect(ids).toContain(otherGood.id);
  });

  it('carries the execution record schema of shared/spec', () => {
    const spec = JSON.parse(readFileSync(path.join(SPEC_DIR, 'execution-record.schema.json'), 'utf8'));
    expect(EXECUTION_RECORD_SCHEMA).toEqual(spec);
  });
});
