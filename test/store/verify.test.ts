import fs from 'node:fs';
import path from 'node:path';
import { ClassicLevel } from 'classic-level';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { openStore } from '../../src/store/store.js';
import { makeEntry, makeTempDir, rangeOf, sha256 } from './helpers.js';

let dir: string;
let storePath: string;

const one = Buffer.from('// one\nfunction shared() { return 42; }\nfunction own() {}\n');
const two = Buffer.from('// two\nfunction shared() { return 42; }\n');
const sharedText = 'function shared() { return 42; }';

/** A store with two files and two snapshots of one root; returns their ids. */
async function buildStore() {
  const store = await openStore(storePath);
  const entries = [
    makeEntry(one, [
      { hash: 'h-shared', ranges: [rangeOf(one, sharedText)] },
      { hash: 'h-own', ranges: [rangeOf(one, 'function own() {}')] },
    ]),
    makeEntry(two, [{ hash: 'h-shared', ranges: [rangeOf(two, sharedText)] }]),
  ];
  await store.putFiles(entries);
  const first = await store.writeSnapshot({
    root: '/repo',
    parent: null,
    createdAt: '2024-01-01T00:00:00.000Z',
    content: { files: ['one'] },
    meta: null,
    fileShas: [sha256(one)],
  });
  const second = await store.writeSnapshot({
    root: '/repo',
    parent: first,
    createdAt: '2024-01-02T00:00:00.000Z',
    content: { files: ['one', 'two'] },
    meta: null,
    fileShas: [sha256(one), sha256(two)],
  });
  await store.close();
  return { first, second };
}

/** Changes the database behind the store's back. */
async function tamper(change: (db: ClassicLevel<string, Buffer>) => Promise<void>) {
  const db = new ClassicLevel<string, Buffer>(storePath, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  await db.open();
  await change(db);
  await db.close();
}

async function verifyStore() {
  const store = await openStore(storePath, { create: false });
  try {
    return await store.verify();
  } finally {
    await store.close();
  }
}

beforeEach(() => {
  dir = makeTempDir();
  storePath = path.join(dir, 'store');
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('verify', () => {
  it('passes on a good store and counts its records', async () => {
    await buildStore();
    expect(await verifyStore()).toEqual({
      ok: true,
      problems: [],
      // blobs: the shared text, `own`, and the two module texts
      counts: { snapshots: 2, files: 2, blobs: 4, chunks: 4 },
    });
  });

  it('reports a deleted blob, in every file and chunk that uses it', async () => {
    await buildStore();
    await tamper((db) => db.del(`b:${sha256(sharedText)}`));
    const result = await verifyStore();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`file ${sha256(one)} cannot be rebuilt: blob ${sha256(sharedText)} is missing`),
        ),
        expect.stringMatching(new RegExp(`file ${sha256(two)} cannot be rebuilt`)),
        expect.stringMatching(/chunk h-shared: its text blob .* is missing/),
        expect.stringMatching(/snapshot .*: its file .* is missing or damaged/),
      ]),
    );
    const store = await openStore(storePath);
    await expect(store.readFileBytes(sha256(two))).rejects.toThrow(StoreError);
    await store.close();
  });

  it('reports a tampered blob', async () => {
    await buildStore();
    await tamper((db) => db.put(`b:${sha256(sharedText)}`, Buffer.from('function shared() { return 43; }')));
    const result = await verifyStore();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`blob ${sha256(sharedText)} is damaged`)),
        expect.stringMatching(new RegExp(`file ${sha256(one)} rebuilds to other content`)),
      ]),
    );
    const store = await openStore(storePath);
    await expect(store.readFileBytes(sha256(one))).rejects.toThrow(/rebuilds to other content/);
    await store.close();
  });

  it('reports a damaged graph record and one a snapshot names but lacks', async () => {
    const store = await openStore(storePath);
    await store.putFiles([makeEntry(two, [{ hash: 'h-shared', ranges: [rangeOf(two, sharedText)] }])]);
    const record = `{"chunks":[["",${JSON.stringify(sha256('closure'))},[],[]]]}`;
    const id = await store.writeSnapshot({
      root: '/repo',
      parent: null,
      createdAt: '2024-01-01T00:00:00.000Z',
      content: { files: ['two'], graph: sha256(record) },
      meta: null,
      fileShas: [sha256(two)],
      graphShas: [sha256(record)],
      graphRecords: [record],
      linkIndex: { version: 1 },
    });
    expect(await store.getGraphRecords([sha256(record)])).toEqual([JSON.parse(record)]);
    expect(await store.getLinkIndex(id)).toEqual({ version: 1 });
    // A snapshot naming a record that is neither stored nor given is refused.
    await expect(
      store.writeSnapshot({
        root: '/other',
        parent: null,
        createdAt: '2024-01-01T00:00:00.000Z',
        content: { files: ['two'], graph: 'x' },
        meta: null,
        fileShas: [sha256(two)],
        graphShas: [sha256('absent')],
      }),
    ).rejects.toThrow(/graph records are neither stored nor given/);
    await store.close();
    expect((await verifyStore()).ok).toBe(true);

    await tamper((db) => db.put(`g:${sha256(record)}`, Buffer.from(record.replace('[]]]', '[1]]]'))));
    let result = await verifyStore();
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`graph record ${sha256(record)} is damaged`)),
        `snapshot ${id}: its graph record ${sha256(record)} is missing or damaged`,
      ]),
    );
    await tamper((db) => db.del(`g:${sha256(record)}`));
    result = await verifyStore();
    expect(result.problems).toEqual([
      `snapshot ${id}: its graph record ${sha256(record)} is missing or damaged`,
    ]);
  });

  it('reports a missing file record', async () => {
    const { second } = await buildStore();
    await tamper((db) => db.del(`f:${sha256(two)}`));
    const result = await verifyStore();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([`snapshot ${second}: its file ${sha256(two)} is missing or damaged`]);
    expect(result.counts.files).toBe(1);
  });

  it('reports a missing parent, a dangling head, damaged content and a missing version key', async () => {
    const { first, second } = await buildStore();
    await tamper(async (db) => {
      await db.batch([
        { type: 'del', key: `s:${first}` },
        { type: 'put', key: 'h:/elsewhere', value: Buffer.from(sha256('nothing')) },
        { type: 'put', key: `sc:${second}`, value: Buffer.from('not brotli') },
        { type: 'del', key: 'm:version' },
      ]);
    });
    // Without its version key the store no longer opens: check it with a raw handle instead.
    await expect(openStore(storePath)).rejects.toThrow(/not a ccx store/);
    await tamper((db) => db.put('m:version', Buffer.from('ccx-store/2')));
    const result = await verifyStore();
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        `snapshot ${second}: its parent ${first} is missing`,
        `the head of /elsewhere points to a missing snapshot ${sha256('nothing')}`,
        expect.stringMatching(new RegExp(`snapshot ${second}: `)),
        `sf:${first} belongs to no snapshot`,
      ]),
    );
  });

  it('reports a snapshot whose content does not match its id', async () => {
    const { first } = await buildStore();
    const { brotliCompressSync } = await import('node:zlib');
    await tamper((db) => db.put(`sc:${first}`, brotliCompressSync(Buffer.from('{"files":["evil"]}'))));
    const result = await verifyStore();
    expect(result.problems).toEqual([
      expect.stringMatching(new RegExp(`snapshot ${first}: its content hashes to `)),
    ]);
  });
});
