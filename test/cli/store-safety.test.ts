/**
 * The store under concurrent use and interruption, through the built CLI: a second process gets
 * a clear message and exit 2 (or waits with --wait), and a run killed at any moment leaves the
 * earlier snapshots intact and the store verifiable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, cpSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CCX_BIN, copyFixture, makeTemp, REPO_ROOT, removeTemps, runCcx } from '../helpers/cli.js';

afterAll(removeTemps);

/** Starts a process that holds the store open until killed; resolves once it holds it. */
async function holdStore(store: string): Promise<ChildProcess> {
  const script = `
    const { openStore } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/store/store.js'))});
    await openStore(${JSON.stringify(store)});
    process.stdout.write('held\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('held')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
  return child;
}

describe('a store in use by another process', () => {
  it('gives a clear error and exit 2, never a stack trace; --wait waits for it', async () => {
    const root = copyFixture('chunk/mixed');
    const store = path.join(root, '.ccx');
    expect((await runCcx(['chunk', root, '--quiet'])).exitCode).toBe(0);
    const holder = await holdStore(store);
    try {
      const r = await runCcx(['chunk', root]);
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain(`error: the store ${store} is in use by another ccx process`);
      expect(r.stderr).toContain('--wait');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      const log = await runCcx(['log', '--store', store]);
      expect(log.exitCode).toBe(2);
      const waiting = runCcx(['chunk', root, '--wait', '--quiet']);
      await new Promise((resolve) => setTimeout(resolve, 500));
      holder.kill('SIGTERM');
      expect((await waiting).exitCode).toBe(0);
    } finally {
      holder.kill('SIGKILL');
    }
    expect((await runCcx(['verify', '--store', store])).exitCode).toBe(0);
  }, 300_000);
});

describe('a run killed halfway', () => {
  it('leaves earlier snapshots intact and the store verifiable, whenever it is killed', async () => {
    // A tree big enough that a run takes a while: the fixture copied many times over.
    const root = path.join(makeTemp(), 'big');
    for (let i = 0; i < 40; i++)
      cpSync(path.join(REPO_ROOT, 'fixtures/chunk/mixed'), path.join(root, `copy${i}`), { recursive: true });
    const store = path.join(root, '.ccx');
    const first = await runCcx(['chunk', root, '--quiet']);
    expect(first.exitCode).toBe(0);
    const log0 = (await runCcx(['log', '--json', '--store', store])).stdout;
    const firstId = (JSON.parse(log0) as Array<{ id: string }>)[0]!.id;
    for (const [i, delayMs] of [60, 250, 600].entries()) {
      // Change some files so the run has new work to store, then kill it after delayMs.
      for (let k = 0; k < 24; k += 3)
        appendFileSync(path.join(root, `copy${k}`, 'src', 'a.ts'), `\nexport const v${i}_${k} = ${i};\n`);
      const child = spawn(process.execPath, [CCX_BIN, 'chunk', root, '--quiet'], { stdio: 'ignore' });
      const closed = new Promise((resolve) => child.on('close', resolve));
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      child.kill('SIGKILL');
      await closed;
      const verify = await runCcx(['verify', '--store', store]);
      expect(verify.stdout, `killed after ${delayMs} ms`).toContain('store ok');
      const log = JSON.parse((await runCcx(['log', '--json', '--store', store])).stdout) as Array<{
        id: string;
      }>;
      expect(log.map((e) => e.id)).toContain(firstId);
      const cat = await runCcx(['cat', 'copy0/src/types.ts', '--snapshot', firstId, '--store', store]);
      expect(cat.exitCode).toBe(0);
      expect(cat.stdout).toContain('export interface Shape');
    }
    // And the next run completes normally on top of whatever the killed runs left.
    const last = await runCcx(['chunk', root, '--json']);
    expect(last.exitCode).toBe(0);
    expect((await runCcx(['verify', '--store', store])).exitCode).toBe(0);
  }, 300_000);
});
