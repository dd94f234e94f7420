/**
 * The store as several processes see it: the lock between two processes, and a writer killed
 * mid-way. Children are plain `node` scripts (test/store/children/) importing a transpiled copy
 * of src/store, so these tests need no build.
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreLockedError } from '../../src/errors.js';
import { openStore } from '../../src/store/store.js';
import { buildStoreForChildren, makeTempDir } from './helpers.js';

const childrenDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'children');

let storeModule: string;
let cleanupModule: () => void;
let dir: string;
let storePath: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  ({ storeModule, cleanup: cleanupModule } = buildStoreForChildren());
});

afterAll(() => cleanupModule());

beforeEach(() => {
  dir = makeTempDir();
  storePath = path.join(dir, 'store');
});

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

function startChild(script: string, args: string[]): ChildProcess {
  const child = fork(path.join(childrenDir, script), [storeModule, ...args], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return child;
}

/** The next IPC message from `child` that `accept` takes; rejects if the child exits first. */
function nextMessage<T>(child: ChildProcess, accept: (message: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (!accept(message)) return;
      child.off('message', onMessage).off('exit', onExit);
      resolve(message);
    };
    const onExit = (code: number | null, signal: string | null) =>
      reject(new Error(`child exited (code ${code}, signal ${signal}) before the expected message`));
    child.on('message', onMessage).on('exit', onExit);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('lock', () => {
  it('refuses a second process, and lets a waiting one in once the first closes', async () => {
    const holder = startChild('hold-store.mjs', [storePath]);
    expect(await nextMessage<{ type: string }>(holder)).toEqual({ type: 'open' });

    const error = await openStore(storePath).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreLockedError);
    expect((error as StoreLockedError).code).toBe('CCX_STORE_LOCKED');
    // A bounded wait that runs out while the holder keeps the store also ends in StoreLockedError.
    await expect(openStore(storePath, { wait: 300 })).rejects.toThrow(StoreLockedError);

    const waiting = openStore(storePath, { wait: true });
    holder.send('close');
    expect(await nextMessage<{ type: string }>(holder)).toEqual({ type: 'closed' });
    const store = await waiting;
    expect((await store.verify()).ok).toBe(true);

    // Now this process holds it: another process is refused in turn.
    const second = startChild('hold-store.mjs', [storePath]);
    expect(await nextMessage<{ type: string; code?: string }>(second)).toMatchObject({
      type: 'error',
      code: 'CCX_STORE_LOCKED',
    });
    await store.close();
  });

  it('refuses a second handle in the same process', async () => {
    const store = await openStore(storePath);
    await expect(openStore(storePath)).rejects.toThrow(StoreLockedError);
    const waiting = openStore(storePath, { wait: 60_000 });
    await store.close();
    await (await waiting).close();
  });
});

describe('crash safety', () => {
  it('keeps committed snapshots and an openable store when a writer is killed mid-way', async () => {
    const root = path.join(dir, 'repo');
    const committed: string[] = [];
    // Each round starts a writer on the same store and kills it a little after its fourth
    // snapshot; the delays vary where in putFiles or writeSnapshot the kill lands.
    for (const [round, delay] of [0, 3, 7, 13, 20].entries()) {
      const writer = startChild('write-forever.mjs', [storePath, root, `round-${round}`]);
      const reported: string[] = [];
      writer.on('message', (message: { id: string }) => reported.push(message.id));
      await nextMessage(writer, () => reported.length >= 4);
      await sleep(delay);
      writer.kill('SIGKILL');
      await exited(writer);
      committed.push(...reported);

      const store = await openStore(storePath, { create: false });
      try {
        const result = await store.verify();
        expect(result.problems).toEqual([]);
        expect(result.ok).toBe(true);
        for (const id of committed) {
          const snapshot = await store.getSnapshot(id);
          expect(snapshot?.id).toBe(id);
          for (const sha of snapshot!.fileShas) expect(await store.hasFile(sha)).toBe(true);
        }
        // The head is the last snapshot reported or a later one descending from it.
        const last = committed.at(-1)!;
        let cursor = await store.getHead(root);
        const chain: string[] = [];
        while (cursor !== null) {
          chain.push(cursor);
          cursor = (await store.getSnapshot(cursor))!.parent;
        }
        expect(chain).toContain(last);
        // Every committed snapshot is an ancestor, in order (a snapshot committed just before a
        // kill may sit between them unreported).
        const history = [...chain].reverse();
        expect(history.filter((id) => committed.includes(id))).toEqual(committed);
      } finally {
        await store.close();
      }
    }
  });
});
