import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NotFoundError, StoreError, UsageError } from '../../src/errors.js';
import { canonicalJson } from '../../src/store/canonical-json.js';
import { type ChunkStore, computeSnapshotId, openStore, STORE_VERSION } from '../../src/store/store.js';
import { makeEntry, makeTempDir, rangeOf, sha256 } from './helpers.js';

let dir: string;
let store: ChunkStore;

beforeEach(async () => {
  dir = makeTempDir();
  store = await openStore(path.join(dir, 'store'));
});

afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const sourceA = Buffer.from(
  'import { x } from "./x";\r\n\r\nexport function greet(name: string) {\r\n  return "héllo " + name + " ✓";\r\n}\r\n\r\nexport class Box {\r\n  open() { return 1; }\r\n}\r\n',
  'utf8',
);

function entryA() {
  return makeEntry(sourceA, [
    {
      hash: 'h-greet',
      ranges: [
        rangeOf(sourceA, 'export function greet(name: string) {\r\n  return "héllo " + name + " ✓";\r\n}'),
      ],
    },
    // The method's range lies inside the class's and, coming later, takes its bytes.
    { hash: 'h-box', ranges: [rangeOf(sourceA, 'export class Box {\r\n  open() { return 1; }\r\n}')] },
    { hash: 'h-open', ranges: [rangeOf(sourceA, 'open() { return 1; }')] },
  ]);
}

describe('files', () => {
  it('round-trips bytes exactly: CRLF, BOM, non-ASCII, empty file, binary-ish bytes', async () => {
    const bom = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('def f():\n    return "日本語"\n', 'utf8'),
    ]);
    const invalidUtf8 = Buffer.from([0x61, 0xff, 0xfe, 0x0d, 0x0a, 0x00, 0x80, 0x62]);
    const entries = [
      entryA(),
      makeEntry(bom, [{ hash: 'h-f', ranges: [rangeOf(bom, 'def f():')] }]),
      makeEntry(Buffer.alloc(0)),
      makeEntry(invalidUtf8, [{ hash: 'h-bin', ranges: [[1, 3]] }]),
    ];
    expect(entries[2]!.analysis.segments).toEqual([]);
    await store.putFiles(entries);
    for (const entry of entries) {
      expect(await store.hasFile(entry.sha256)).toBe(true);
      const bytes = await store.readFileBytes(entry.sha256);
      expect(bytes.equals(entry.bytes)).toBe(true);
    }
    expect(await store.hasFile(sha256('absent'))).toBe(false);
  });

  it('stores each chunk text as a blob and records it under the semantic hash', async () => {
    const entry = entryA();
    await store.putFiles([entry]);
    const record = await store.getChunkRecord('h-greet');
    const greet = 'export function greet(name: string) {\r\n  return "héllo " + name + " ✓";\r\n}';
    expect(record).toEqual({ hash: 'h-greet', texts: [sha256(greet)] });
    expect((await store.readBlob(sha256(greet)))?.toString('utf8')).toBe(greet);
    // A class's own text leaves out its method, which is a chunk of its own.
    const box = (await store.getChunkRecord('h-box'))!;
    expect((await store.readBlob(box.texts[0]!))?.toString('utf8')).toBe('export class Box {\r\n  \r\n}');
    expect(await store.getChunkRecord('h-unknown')).toBeUndefined();
    expect(await store.readBlob(sha256('nothing'))).toBeUndefined();
  });

  it('gives a chunk with no own bytes the empty text', async () => {
    const bytes = Buffer.from('class Empty {}\n');
    const entry = makeEntry(bytes, [{ hash: 'h-empty', ranges: [] }]);
    expect(await store.putFiles([entry])).toEqual({ newChunks: 2 });
    expect(await store.getChunkRecord('h-empty')).toEqual({ hash: 'h-empty', texts: [sha256('')] });
    expect((await store.readBlob(sha256('')))?.length).toBe(0);
    expect((await store.readFileBytes(entry.sha256)).equals(bytes)).toBe(true);
    expect((await store.verify()).ok).toBe(true);
  });

  it('caches analyses under their keys', async () => {
    const entry = entryA();
    await store.putFiles([entry]);
    const [found, missing] = await store.getAnalyses([entry.analysisKey, 'test-1:typescript:none']);
    expect(found).toEqual(entry.analysis);
    expect(missing).toBeUndefined();
    expect(await store.getAnalyses([])).toEqual([]);
  });

  it('dedups content: the same file again adds no chunks', async () => {
    const first = await store.putFiles([entryA()]);
    expect(first.newChunks).toBe(4);
    expect(await store.putFiles([entryA()])).toEqual({ newChunks: 0 });
    const { counts } = await store.verify();
    expect(counts).toMatchObject({ files: 1, chunks: 4, blobs: 4 });
  });

  it('counts a semantic hash once even when several files in one call have it', async () => {
    const one = Buffer.from('export const a = 1;\nfunction shared() {}\n');
    const two = Buffer.from('export const b = 2;\nfunction shared() {}\n');
    const result = await store.putFiles([
      makeEntry(one, [{ hash: 'h-shared', ranges: [rangeOf(one, 'function shared() {}')] }], 'm1'),
      makeEntry(two, [{ hash: 'h-shared', ranges: [rangeOf(two, 'function shared() {}')] }], 'm2'),
    ]);
    expect(result.newChunks).toBe(3);
  });

  it('lets two files that share a chunk text share its blob', async () => {
    const one = Buffer.from('// one\nfunction shared() { return 42; }\n');
    const two = Buffer.from('// two, longer header\nfunction shared() { return 42; }\n');
    await store.putFiles([
      makeEntry(one, [{ hash: 'h-s', ranges: [rangeOf(one, 'function shared() { return 42; }')] }]),
    ]);
    const before = (await store.verify()).counts.blobs;
    const result = await store.putFiles([
      makeEntry(two, [{ hash: 'h-s', ranges: [rangeOf(two, 'function shared() { return 42; }')] }]),
    ]);
    expect(result.newChunks).toBe(1); // only the new module chunk
    expect((await store.verify()).counts.blobs).toBe(before + 1);
    expect((await store.getChunkRecord('h-s'))?.texts).toEqual([sha256('function shared() { return 42; }')]);
    expect((await store.readFileBytes(sha256(two))).equals(two)).toBe(true);
  });

  it('lists every distinct text seen with a semantic hash', async () => {
    const one = Buffer.from('function f() { return 1; }\n');
    const two = Buffer.from('function f() {  return 1; }\n');
    await store.putFiles([makeEntry(one, [{ hash: 'h-f', ranges: [[0, one.length - 1]] }])]);
    expect(await store.putFiles([makeEntry(two, [{ hash: 'h-f', ranges: [[0, two.length - 1]] }])])).toEqual({
      newChunks: 1,
    });
    expect((await store.getChunkRecord('h-f'))?.texts).toEqual([
      sha256(one.subarray(0, -1)),
      sha256(two.subarray(0, -1)),
    ]);
  });

  it('rejects an entry whose sha256 or segments are wrong', async () => {
    const entry = entryA();
    await expect(store.putFiles([{ ...entry, sha256: sha256('other') }])).rejects.toThrow(TypeError);
    const gap = { ...entry, analysis: { ...entry.analysis, segments: entry.analysis.segments.slice(1) } };
    await expect(store.putFiles([gap])).rejects.toThrow(/partition/);
    const short = {
      ...entry,
      analysis: { ...entry.analysis, segments: entry.analysis.segments.slice(0, -1) },
    };
    await expect(store.putFiles([short])).rejects.toThrow(/cover/);
    const badIndex = {
      ...entry,
      analysis: {
        ...entry.analysis,
        segments: entry.analysis.segments.map(([s, e]) => [s, e, 9] as [number, number, number]),
      },
    };
    await expect(store.putFiles([badIndex])).rejects.toThrow(/chunk 9/);
    expect(await store.hasFile(entry.sha256)).toBe(false);
  });

  it('throws NotFoundError for a file it does not hold', async () => {
    await expect(store.readFileBytes(sha256('absent'))).rejects.toThrow(NotFoundError);
  });
});

describe('snapshots', () => {
  const root = '/repo/project';

  async function storedFile() {
    const entry = entryA();
    await store.putFiles([entry]);
    return entry.sha256;
  }

  it('gives an id that depends on root, parent and content only', async () => {
    const file = await storedFile();
    const base = { root, parent: null, content: { files: [file], n: 1 }, fileShas: [file] };
    const id = await store.writeSnapshot({ ...base, createdAt: '2024-01-01T00:00:00.000Z', meta: { a: 1 } });
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(id).toBe(sha256(canonicalJson(['ccx-snapshot/1', root, null, base.content])));

    const again = await store.writeSnapshot({
      ...base,
      createdAt: '2030-01-01T00:00:00.000Z',
      meta: { b: 2 },
    });
    expect(again).toBe(id);
    // Nothing was written: the stored snapshot keeps its first createdAt and meta.
    expect(await store.listSnapshots()).toHaveLength(1);
    expect((await store.getSnapshot(id))?.meta).toEqual({ a: 1 });

    const reordered = await store.writeSnapshot({
      ...base,
      content: { n: 1, files: [file] },
      createdAt: '2030-01-01T00:00:00.000Z',
      meta: null,
    });
    expect(reordered).toBe(id);

    const otherContent = await store.writeSnapshot({
      ...base,
      content: { files: [file], n: 2 },
      createdAt: 'x',
      meta: null,
    });
    expect(otherContent).not.toBe(id);
    const otherParent = await store.writeSnapshot({
      ...base,
      parent: otherContent,
      createdAt: 'x',
      meta: null,
    });
    expect(otherParent).not.toBe(id);
    expect(otherParent).not.toBe(otherContent);
    const otherRoot = await store.writeSnapshot({ ...base, root: '/repo/other', createdAt: 'x', meta: null });
    expect(otherRoot).not.toBe(id);
  });

  it('reads a snapshot back with its content, meta and files', async () => {
    const file = await storedFile();
    const content = {
      files: [{ path: 'a.ts', sha256: file }],
      chunks: [{ id: 'a.ts#greet', deps: [] }],
      note: 'ü✓',
    };
    const id = await store.writeSnapshot({
      root,
      parent: null,
      createdAt: '2024-05-01T10:00:00.000Z',
      content,
      meta: { stats: { files: 1 } },
      fileShas: [file],
    });
    expect(await store.getSnapshot(id)).toEqual({
      id,
      root,
      parent: null,
      createdAt: '2024-05-01T10:00:00.000Z',
      content,
      meta: { stats: { files: 1 } },
      fileShas: [file],
    });
  });

  it('moves the head of its root only', async () => {
    const file = await storedFile();
    expect(await store.getHead(root)).toBeNull();
    const first = await store.writeSnapshot({
      root,
      parent: null,
      createdAt: 't1',
      content: 1,
      meta: null,
      fileShas: [file],
    });
    expect(await store.getHead(root)).toBe(first);
    const second = await store.writeSnapshot({
      root,
      parent: first,
      createdAt: 't2',
      content: 2,
      meta: null,
      fileShas: [],
    });
    expect(await store.getHead(root)).toBe(second);
    expect((await store.getSnapshot(second))?.parent).toBe(first);
    expect(await store.getHead('/repo/other')).toBeNull();
    // Writing a snapshot that exists but is not the head moves the head back to it.
    expect(
      await store.writeSnapshot({
        root,
        parent: null,
        createdAt: 't3',
        content: 1,
        meta: null,
        fileShas: [file],
      }),
    ).toBe(first);
    expect(await store.getHead(root)).toBe(first);
  });

  it('refuses a snapshot whose parent or files are not stored', async () => {
    await expect(
      store.writeSnapshot({
        root,
        parent: sha256('no such'),
        createdAt: 't',
        content: 1,
        meta: null,
        fileShas: [],
      }),
    ).rejects.toThrow(StoreError);
    await expect(
      store.writeSnapshot({
        root,
        parent: null,
        createdAt: 't',
        content: 1,
        meta: null,
        fileShas: [sha256('no file')],
      }),
    ).rejects.toThrow(/not in the store/);
    await expect(
      store.writeSnapshot({ root, parent: null, createdAt: 't', content: 1, meta: null, fileShas: ['nope'] }),
    ).rejects.toThrow(TypeError);
    expect(await store.getHead(root)).toBeNull();
    expect(await store.listSnapshots()).toEqual([]);
  });

  it('lists snapshots newest first, then by id', async () => {
    const times = ['2024-01-02T00:00:00.000Z', '2024-01-03T00:00:00.000Z', '2024-01-01T00:00:00.000Z'];
    const ids: string[] = [];
    for (const [i, createdAt] of times.entries()) {
      ids.push(
        await store.writeSnapshot({
          root: `/r${i}`,
          parent: null,
          createdAt,
          content: i,
          meta: { i },
          fileShas: [],
        }),
      );
    }
    const tieA = await store.writeSnapshot({
      root: '/t',
      parent: null,
      createdAt: times[0]!,
      content: 'a',
      meta: null,
      fileShas: [],
    });
    const tieB = await store.writeSnapshot({
      root: '/u',
      parent: null,
      createdAt: times[0]!,
      content: 'b',
      meta: null,
      fileShas: [],
    });
    const list = await store.listSnapshots();
    const ties = [tieA, tieB, ids[0]!].sort();
    expect(list.map((s) => s.id)).toEqual([ids[1], ...ties, ids[2]]);
    expect(list[0]).toEqual({ id: ids[1], root: '/r1', parent: null, createdAt: times[1], meta: { i: 1 } });
    expect(list[0]).not.toHaveProperty('content');
  });

  it('resolves unique id prefixes and rejects ambiguous or malformed ones', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      ids.push(
        await store.writeSnapshot({
          root: `/r${i}`,
          parent: null,
          createdAt: 't',
          content: i,
          meta: null,
          fileShas: [],
        }),
      );
    }
    const id = ids[0]!;
    const unique = [6, 8, 12, 16, 64]
      .map((n) => id.slice(0, n))
      .find((p) => ids.filter((x) => x.startsWith(p)).length === 1)!;
    expect(await store.resolveSnapshotId(unique)).toBe(id);
    expect(await store.resolveSnapshotId(unique.toUpperCase())).toBe(id);
    expect((await store.getSnapshot(unique))?.id).toBe(id);
    expect((await store.getSnapshot(id))?.content).toBe(0);

    await expect(store.getSnapshot('abc')).rejects.toThrow(UsageError);
    await expect(store.getSnapshot('not-hex!')).rejects.toThrow(UsageError);
    const absent = ['0000', '1111', 'ffff', 'abcd', '9999'].find((p) => !ids.some((x) => x.startsWith(p)))!;
    expect(await store.getSnapshot(absent)).toBeUndefined();
    await expect(store.resolveSnapshotId(absent)).rejects.toThrow(NotFoundError);
    expect(await store.getSnapshot(sha256('absent'))).toBeUndefined();
  });

  it('rejects an ambiguous prefix', async () => {
    // Find two contents whose ids share their first 4 hex digits, then store both.
    const byPrefix = new Map<string, number>();
    let pair: [number, number, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const prefix = computeSnapshotId('/r', null, canonicalJson(i)).slice(0, 4);
      const earlier = byPrefix.get(prefix);
      if (earlier !== undefined) pair = [earlier, i, prefix];
      byPrefix.set(prefix, i);
    }
    const [a, b, prefix] = pair;
    for (const content of [a, b]) {
      await store.writeSnapshot({
        root: '/r',
        parent: null,
        createdAt: 't',
        content,
        meta: null,
        fileShas: [],
      });
    }
    await expect(store.resolveSnapshotId(prefix)).rejects.toThrow(/ambiguous/);
    await expect(store.getSnapshot(prefix)).rejects.toThrow(UsageError);
  });
});

describe('opening', () => {
  it('creates the store with a .gitignore and the version key', async () => {
    const files = fs.readdirSync(store.path);
    expect(files).toContain('.gitignore');
    expect(files).toContain('CURRENT');
    expect(fs.readFileSync(path.join(store.path, '.gitignore'), 'utf8')).toBe('*\n');
    expect(store.path).toBe(path.join(dir, 'store'));
    expect(STORE_VERSION).toBe('ccx-store/2');
    expect((await store.verify()).ok).toBe(true);
  });

  it('keeps data across close and reopen', async () => {
    const entry = entryA();
    await store.putFiles([entry]);
    const id = await store.writeSnapshot({
      root: '/r',
      parent: null,
      createdAt: 't',
      content: [1],
      meta: null,
      fileShas: [entry.sha256],
    });
    await store.close();
    await store.close();
    store = await openStore(path.join(dir, 'store'), { create: false });
    expect(await store.getHead('/r')).toBe(id);
    expect((await store.readFileBytes(entry.sha256)).equals(entry.bytes)).toBe(true);
  });

  it('with create: false, refuses a missing store and points to ccx chunk', async () => {
    const error = await openStore(path.join(dir, 'missing'), { create: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).hint).toMatch(/ccx chunk/);
    expect(fs.existsSync(path.join(dir, 'missing'))).toBe(false);
    fs.mkdirSync(path.join(dir, 'empty'));
    await expect(openStore(path.join(dir, 'empty'), { create: false })).rejects.toThrow(/no ccx store/);
  });

  it('creates a store in an existing empty directory', async () => {
    fs.mkdirSync(path.join(dir, 'empty'));
    const other = await openStore(path.join(dir, 'empty'));
    await other.close();
    expect(fs.readdirSync(path.join(dir, 'empty'))).toContain('CURRENT');
  });

  it('refuses a file, a directory of other things, and a LevelDB that is not a ccx store', async () => {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    await expect(openStore(path.join(dir, 'file'))).rejects.toThrow(/not a directory/);

    fs.mkdirSync(path.join(dir, 'src'));
    fs.writeFileSync(path.join(dir, 'src', 'index.ts'), 'x');
    await expect(openStore(path.join(dir, 'src'))).rejects.toThrow(/not a ccx store/);
    expect(fs.readdirSync(path.join(dir, 'src'))).toEqual(['index.ts']);

    const { ClassicLevel } = await import('classic-level');
    const foreign = new ClassicLevel(path.join(dir, 'foreign'));
    await foreign.put('some', 'thing');
    await foreign.close();
    await expect(openStore(path.join(dir, 'foreign'))).rejects.toThrow(/not a ccx store/);

    fs.mkdirSync(path.join(dir, 'garbage'));
    fs.writeFileSync(path.join(dir, 'garbage', 'CURRENT'), 'MANIFEST-000009\n');
    await expect(openStore(path.join(dir, 'garbage'))).rejects.toThrow(StoreError);
  });

  it('refuses a store of another layout version', async () => {
    await store.close();
    const { ClassicLevel } = await import('classic-level');
    const raw = new ClassicLevel(path.join(dir, 'store'));
    await raw.put('m:version', 'ccx-store/99');
    await raw.close();
    await expect(openStore(path.join(dir, 'store'))).rejects.toThrow(/ccx-store\/99/);
    store = await openStore(path.join(dir, 'other'));
  });
});
