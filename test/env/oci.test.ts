/**
 * OCI image layouts written by src/env/oci.ts: umoci unpacks them to exactly the files given,
 * skopeo reports the digests returned, builds reproduce byte for byte, identical layers share a
 * digest across images, a base image goes underneath, and bad input gets a clear error.
 * Needs `umoci` and `skopeo` on PATH (apt-get install umoci skopeo); without them the tests
 * that run them fail and say so.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildLayerBlob,
  FIXED_CREATED,
  type LayerInput,
  MAX_LAYERS,
  OciLayoutError,
  writeOciImage,
} from '../../src/env/oci.js';
import { UsageError } from '../../src/errors.js';
import { makeTemp, removeTemps } from '../helpers/cli.js';

afterAll(removeTemps);

/** Fails the calling test, with what to do, when `tool` is not on PATH. */
function requireTool(tool: 'umoci' | 'skopeo'): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(
      `${tool} is not installed; install it to run the OCI image tests: apt-get install -y ${tool}`,
    );
  }
}

async function run(command: string, args: string[]): Promise<string> {
  const r = await execa(command, args, { reject: false });
  expect(r.exitCode, `${command} ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

/** Unpacks `layout:ref` with umoci and returns the bundle's rootfs. */
async function unpack(layout: string, ref: string): Promise<string> {
  requireTool('umoci');
  const bundle = path.join(makeTemp('ccx-oci-bundle-'), 'bundle');
  // --rootless works as root too, and lets the test run unprivileged.
  await run('umoci', ['unpack', '--rootless', '--image', `${layout}:${ref}`, bundle]);
  return path.join(bundle, 'rootfs');
}

interface TreeEntry {
  mode: number;
  data?: string;
}

/** Every file and directory under `root`: permission bits and, for files, their text. */
function readTree(root: string): Record<string, TreeEntry> {
  const tree: Record<string, TreeEntry> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const key = rel === '' ? name : `${rel}/${name}`;
      const stat = lstatSync(full);
      if (stat.isDirectory()) {
        tree[`${key}/`] = { mode: stat.mode & 0o7777 };
        walk(full, key);
      } else {
        expect(stat.isFile(), `${key} is a regular file`).toBe(true);
        tree[key] = { mode: stat.mode & 0o7777, data: readFileSync(full, 'utf8') };
      }
    }
  };
  walk(root, '');
  return tree;
}

async function skopeoInspect(layout: string, ref: string, config = false): Promise<Record<string, unknown>> {
  requireTool('skopeo');
  const args = ['inspect', ...(config ? ['--config'] : []), `oci:${layout}:${ref}`];
  return JSON.parse(await run('skopeo', args)) as Record<string, unknown>;
}

/** Every file of the layout except its blobs' directory entries: relative path -> bytes. */
function readLayout(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (lstatSync(full).isDirectory()) walk(full);
      else files.set(path.relative(dir, full), readFileSync(full));
    }
  };
  walk(dir);
  return files;
}

/** The entries of a gzipped tar, in order, with their headers. */
async function readTar(blob: Buffer): Promise<tar.Header[]> {
  const headers: tar.Header[] = [];
  const extract = tar.extract();
  const done = (async () => {
    for await (const entry of extract) {
      headers.push(entry.header);
      entry.resume();
    }
  })();
  extract.end(gunzipSync(blob));
  await done;
  return headers;
}

const text = (s: string) => Buffer.from(s);
const LONG_DIR = `opt/${'d'.repeat(60)}/${'e'.repeat(60)}`;

const TOOLS: LayerInput = {
  comment: 'tools',
  files: [
    { path: 'usr/bin/tool', data: text('#!/bin/sh\necho tool\n'), mode: 0o755 },
    { path: 'etc/tool.conf', data: text('level=1\n') },
    { path: `${LONG_DIR}/${'f'.repeat(90)}.txt`, data: text('long\n') },
  ],
};
const APP: LayerInput = {
  files: [
    { path: 'app/main.py', data: text('print("hi")\n') },
    { path: 'etc/tool.conf', data: text('level=2\n'), mode: 0o600 },
    { path: 'app/secret', data: text('s\n'), mode: 0o400 },
    { path: 'app/naïve.txt', data: text('ü\n') },
  ],
};

describe('buildLayerBlob', () => {
  it('writes a sorted tar with explicit parent directories, fixed times and owners, and a fixed gzip header', async () => {
    const { blob, digest, diffId } = await buildLayerBlob(TOOLS);
    expect(digest).toBe(`sha256:${createHash('sha256').update(blob).digest('hex')}`);
    expect(diffId).toBe(`sha256:${createHash('sha256').update(gunzipSync(blob)).digest('hex')}`);
    // RFC 1952: bytes 4..7 are MTIME, byte 9 is OS.
    expect([...blob.subarray(0, 10)]).toEqual([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);

    const headers = await readTar(blob);
    expect(headers.map((h) => `${h.type} ${h.name} ${h.mode.toString(8)}`)).toEqual([
      'directory etc/ 755',
      'file etc/tool.conf 644',
      'directory opt/ 755',
      `directory opt/${'d'.repeat(60)}/ 755`,
      `directory ${LONG_DIR}/ 755`,
      `file ${LONG_DIR}/${'f'.repeat(90)}.txt 644`,
      'directory usr/ 755',
      'directory usr/bin/ 755',
      'file usr/bin/tool 755',
    ]);
    for (const h of headers) {
      expect([h.mtime.getTime(), h.uid, h.gid, h.uname, h.gname, h.pax ?? null]).toEqual([
        0,
        0,
        0,
        'root',
        'root',
        null,
      ]);
    }
  });

  it('names a non-ASCII path in a pax header that carries no timestamps', async () => {
    const { blob } = await buildLayerBlob(APP);
    const raw = gunzipSync(blob).toString('latin1');
    expect(raw).toContain(Buffer.from(' path=app/naïve.txt\n').toString('latin1'));
    expect(raw).not.toMatch(/ (mtime|atime|ctime)=/);
    const names = (await readTar(blob)).map((h) => h.name);
    expect(names).toEqual(['app/', 'app/main.py', 'app/naïve.txt', 'app/secret', 'etc/', 'etc/tool.conf']);
  });

  it('gives the same bytes for the same files in any order', async () => {
    const a = await buildLayerBlob(TOOLS);
    const b = await buildLayerBlob({ comment: 'other', files: [...TOOLS.files].reverse() });
    expect(b.blob.equals(a.blob)).toBe(true);
    expect([b.digest, b.diffId]).toEqual([a.digest, a.diffId]);
    const c = await buildLayerBlob({ files: [{ ...TOOLS.files[0]!, mode: 0o700 }, ...TOOLS.files.slice(1)] });
    expect(c.digest).not.toBe(a.digest);
  });

  it.each([
    ['/etc/passwd', 'starts with /'],
    ['etc/../passwd', 'has an empty, . or .. segment'],
    ['etc//passwd', 'has an empty, . or .. segment'],
    ['./etc', 'has an empty, . or .. segment'],
  ])('rejects the path %s', async (p, problem) => {
    await expect(buildLayerBlob({ files: [{ path: p, data: text('') }] })).rejects.toThrow(problem);
  });

  it('rejects a path given twice, a file that is also a directory, and a bad mode', async () => {
    const twice = buildLayerBlob({
      files: [
        { path: 'a', data: text('1') },
        { path: 'a', data: text('2') },
      ],
    });
    await expect(twice).rejects.toThrow(/a is given twice/);
    const both = buildLayerBlob({
      files: [
        { path: 'a', data: text('1') },
        { path: 'a/b', data: text('2') },
      ],
    });
    await expect(both).rejects.toThrow(/both a file and the directory/);
    const mode = buildLayerBlob({ files: [{ path: 'a', data: text('1'), mode: 0o10000 }] });
    await expect(mode).rejects.toBeInstanceOf(UsageError);
  });
});

describe('writeOciImage', () => {
  it('writes a 2-layer image that umoci unpacks to exactly the files given and skopeo reads', async () => {
    const dir = path.join(makeTemp('ccx-oci-'), 'image');
    const written = await writeOciImage({
      dir,
      refName: 'latest',
      layers: [TOOLS, APP],
      config: {
        env: { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' },
        entrypoint: ['/usr/bin/tool'],
        cmd: ['--help'],
        workingDir: '/app',
        labels: { 'org.example.env': 'test' },
        architecture: 'amd64',
      },
    });

    expect(readTree(await unpack(dir, 'latest'))).toEqual({
      'app/': { mode: 0o755 },
      'app/main.py': { mode: 0o644, data: 'print("hi")\n' },
      'app/naïve.txt': { mode: 0o644, data: 'ü\n' },
      'app/secret': { mode: 0o400, data: 's\n' },
      'etc/': { mode: 0o755 },
      'etc/tool.conf': { mode: 0o600, data: 'level=2\n' },
      'opt/': { mode: 0o755 },
      [`opt/${'d'.repeat(60)}/`]: { mode: 0o755 },
      [`${LONG_DIR}/`]: { mode: 0o755 },
      [`${LONG_DIR}/${'f'.repeat(90)}.txt`]: { mode: 0o644, data: 'long\n' },
      'usr/': { mode: 0o755 },
      'usr/bin/': { mode: 0o755 },
      'usr/bin/tool': { mode: 0o755, data: '#!/bin/sh\necho tool\n' },
    });

    const inspected = await skopeoInspect(dir, 'latest');
    expect(inspected.Digest).toBe(written.manifestDigest);
    expect(inspected.Layers).toEqual(written.layers.map((l) => l.digest));
    const config = await skopeoInspect(dir, 'latest', true);
    expect(config).toEqual({
      created: FIXED_CREATED,
      architecture: 'amd64',
      os: 'linux',
      config: {
        Env: ['LANG=C.UTF-8', 'PATH=/usr/bin:/bin'],
        Entrypoint: ['/usr/bin/tool'],
        Cmd: ['--help'],
        WorkingDir: '/app',
        Labels: { 'org.example.env': 'test' },
      },
      rootfs: { type: 'layers', diff_ids: written.layers.map((l) => l.diffId) },
      history: [
        { created: FIXED_CREATED, created_by: 'ccx: layer of 3 files', comment: 'tools' },
        { created: FIXED_CREATED, created_by: 'ccx: layer of 4 files' },
      ],
    });

    // Every blob is named by its digest, and the layout holds nothing else.
    const files = readLayout(dir);
    expect([...files.keys()].filter((f) => !f.startsWith('blobs/'))).toEqual(['index.json', 'oci-layout']);
    for (const [name, bytes] of files) {
      if (!name.startsWith('blobs/')) continue;
      expect(name).toBe(`blobs/sha256/${createHash('sha256').update(bytes).digest('hex')}`);
    }
    const sizes = written.layers.map((l) => files.get(`blobs/sha256/${l.digest.slice(7)}`)?.length);
    expect(sizes).toEqual(written.layers.map((l) => l.size));
    expect(JSON.parse(files.get('oci-layout')!.toString())).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(JSON.parse(files.get('index.json')!.toString())).toEqual({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: written.manifestDigest,
          size: files.get(`blobs/sha256/${written.manifestDigest.slice(7)}`)!.length,
          annotations: { 'org.opencontainers.image.ref.name': 'latest' },
        },
      ],
    });
  });

  it('writes byte-identical layouts from the same inputs', async () => {
    const root = makeTemp('ccx-oci-');
    const options = {
      refName: 'v1',
      layers: [TOOLS, APP],
      config: { env: { B: '2', A: '1' }, labels: { y: '1', x: '2' } },
    };
    const first = await writeOciImage({ dir: path.join(root, 'one'), ...options });
    const second = await writeOciImage({
      dir: path.join(root, 'two'),
      ...options,
      // Same entries, other insertion order: the config is written in a canonical order.
      config: { env: { A: '1', B: '2' }, labels: { x: '2', y: '1' } },
    });
    expect(second).toEqual(first);
    const one = readLayout(path.join(root, 'one'));
    const two = readLayout(path.join(root, 'two'));
    expect([...two.keys()]).toEqual([...one.keys()]);
    expect(one.size).toBe(2 + 4); // oci-layout, index.json, config, manifest, 2 layers
    for (const [name, bytes] of one) expect(two.get(name)?.equals(bytes), name).toBe(true);
  });

  it('gives an identical layer the same digest in different images', async () => {
    const root = makeTemp('ccx-oci-');
    const other: LayerInput = { files: [{ path: 'srv/data', data: text('other\n') }] };
    const a = await writeOciImage({ dir: path.join(root, 'a'), layers: [TOOLS, APP], config: {} });
    const b = await writeOciImage({ dir: path.join(root, 'b'), layers: [TOOLS, other], config: {} });
    expect(b.layers[0]).toEqual(a.layers[0]);
    expect(b.layers[1]!.digest).not.toBe(a.layers[1]!.digest);
    expect(b.manifestDigest).not.toBe(a.manifestDigest);
  });

  it('puts a base image underneath: its layers first, its config merged, its blobs copied', async () => {
    const root = makeTemp('ccx-oci-');
    const baseDir = path.join(root, 'base');
    const base = await writeOciImage({
      dir: baseDir,
      refName: 'latest',
      layers: [TOOLS],
      config: { env: { PATH: '/usr/bin', MODE: 'base' }, entrypoint: ['/usr/bin/tool'], cmd: ['run'] },
    });
    const dir = path.join(root, 'image');
    const image = await writeOciImage({
      dir,
      base: baseDir,
      refName: 'latest',
      layers: [APP],
      config: { env: { MODE: 'app', EXTRA: '1' } },
    });
    const app = await buildLayerBlob(APP);
    expect(image.layers).toEqual([
      ...base.layers,
      { digest: app.digest, diffId: app.diffId, size: app.blob.length },
    ]);

    // The new layout stands alone: it still unpacks after the base is gone.
    rmSync(baseDir, { recursive: true });
    const tree = readTree(await unpack(dir, 'latest'));
    expect(Object.keys(tree)).toEqual([
      'app/',
      'app/main.py',
      'app/naïve.txt',
      'app/secret',
      'etc/',
      'etc/tool.conf',
      'opt/',
      `opt/${'d'.repeat(60)}/`,
      `${LONG_DIR}/`,
      `${LONG_DIR}/${'f'.repeat(90)}.txt`,
      'usr/',
      'usr/bin/',
      'usr/bin/tool',
    ]);
    expect(tree['etc/tool.conf']).toEqual({ mode: 0o600, data: 'level=2\n' });
    expect(tree['usr/bin/tool']).toEqual({ mode: 0o755, data: '#!/bin/sh\necho tool\n' });

    expect((await skopeoInspect(dir, 'latest')).Layers).toEqual(image.layers.map((l) => l.digest));
    const config = await skopeoInspect(dir, 'latest', true);
    expect(config.config).toEqual({
      // The base's variables in its order, ours replacing its values, then our new ones.
      Env: ['MODE=app', 'PATH=/usr/bin', 'EXTRA=1'],
      Entrypoint: ['/usr/bin/tool'],
      Cmd: ['run'],
    });
    expect((config.history as unknown[]).length).toBe(2);
  });

  it('takes a base written by umoci, whose history has an empty layer', async () => {
    requireTool('umoci');
    const root = makeTemp('ccx-oci-');
    const baseDir = path.join(root, 'base');
    const content = path.join(root, 'content');
    mkdirSync(path.join(content, 'opt'), { recursive: true });
    writeFileSync(path.join(content, 'opt', 'from-umoci'), 'u\n');
    await run('umoci', ['init', '--layout', baseDir]);
    await run('umoci', ['new', '--image', `${baseDir}:base`]);
    await run('umoci', [
      'insert',
      '--rootless',
      '--image',
      `${baseDir}:base`,
      path.join(content, 'opt'),
      '/opt',
    ]);
    await run('umoci', [
      'config',
      '--image',
      `${baseDir}:base`,
      '--config.env',
      'FOO=1',
      '--config.cmd',
      'sh',
    ]);

    const dir = path.join(root, 'image');
    const image = await writeOciImage({
      dir,
      base: baseDir,
      refName: 'latest',
      layers: [APP],
      config: { entrypoint: ['/app/main.py'] },
    });
    expect(image.layers).toHaveLength(2);
    const tree = readTree(await unpack(dir, 'latest'));
    expect(tree['opt/from-umoci']?.data).toBe('u\n');
    expect(tree['app/main.py']?.data).toBe('print("hi")\n');
    const config = await skopeoInspect(dir, 'latest', true);
    // A new entrypoint drops the base's Cmd, as a Dockerfile's ENTRYPOINT does.
    expect(config.config).toMatchObject({
      Env: expect.arrayContaining(['FOO=1']),
      Entrypoint: ['/app/main.py'],
    });
    expect((config.config as Record<string, unknown>).Cmd).toBeUndefined();
    const history = config.history as Array<{ created_by?: string; empty_layer?: boolean }>;
    expect(history.map((h) => [h.created_by, h.empty_layer === true])).toEqual([
      ['umoci insert', false],
      ['umoci config', true],
      ['ccx: layer of 4 files', false],
    ]);
  });

  it('keeps the other images of an existing layout and replaces the one with the same ref name', async () => {
    const dir = path.join(makeTemp('ccx-oci-'), 'image');
    const tools = await writeOciImage({ dir, refName: 'tools', layers: [TOOLS], config: {} });
    await writeOciImage({ dir, refName: 'app', layers: [APP], config: {} });
    const app = await writeOciImage({ dir, refName: 'app', layers: [APP], config: { cmd: ['x'] } });
    const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    expect(index.manifests.map((m) => m.digest)).toEqual([tools.manifestDigest, app.manifestDigest]);
    expect((await skopeoInspect(dir, 'tools')).Digest).toBe(tools.manifestDigest);
    expect((await skopeoInspect(dir, 'app')).Digest).toBe(app.manifestDigest);
  });

  it(`refuses more than ${MAX_LAYERS} layers, the base's included, and writes nothing`, async () => {
    const root = makeTemp('ccx-oci-');
    const layers = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => ({ files: [{ path: `${tag}/${i}`, data: text(String(i)) }] }));
    const dir = path.join(root, 'too-many');
    const error = await writeOciImage({ dir, layers: layers(MAX_LAYERS + 1, 'x'), config: {} }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(`the image would have 101 layers, more than the ${MAX_LAYERS} allowed`);
    expect(existsSync(dir)).toBe(false);

    const baseDir = path.join(root, 'base');
    await writeOciImage({ dir: baseDir, layers: layers(60, 'b'), config: {} });
    await expect(
      writeOciImage({ dir: path.join(root, 'on-base'), base: baseDir, layers: layers(41, 'o'), config: {} }),
    ).rejects.toThrow(
      `the image would have 101 layers (60 from the base), more than the ${MAX_LAYERS} allowed`,
    );
    const exactly = await writeOciImage({
      dir: path.join(root, 'full'),
      base: baseDir,
      layers: layers(40, 'o'),
      config: {},
    });
    expect(exactly.layers).toHaveLength(MAX_LAYERS);
  });

  it('says clearly when the base is not an OCI image layout or is malformed', async () => {
    const root = makeTemp('ccx-oci-');
    const notLayout = path.join(root, 'plain');
    mkdirSync(notLayout);
    writeFileSync(path.join(notLayout, 'README'), 'hello\n');
    const error = await writeOciImage({
      dir: path.join(root, 'x'),
      base: notLayout,
      layers: [],
      config: {},
    }).catch((e) => e);
    expect(error).toBeInstanceOf(OciLayoutError);
    expect(error.code).toBe('CCX_OCI_LAYOUT');
    expect(error.message).toBe(`${notLayout} is not an OCI image layout: its oci-layout file cannot be read`);
    expect(error.hint).toMatch(/oci-layout, index\.json, blobs/);
    expect(existsSync(path.join(root, 'x'))).toBe(false);

    const broken = path.join(root, 'broken');
    await writeOciImage({ dir: broken, layers: [TOOLS], config: {} });
    writeFileSync(path.join(broken, 'index.json'), '{"schemaVersion": 2, "manifests": [');
    await expect(
      writeOciImage({ dir: path.join(root, 'y'), base: broken, layers: [], config: {} }),
    ).rejects.toThrow(`the OCI image layout ${broken} is malformed: its index.json is not valid JSON`);
  });

  it('checks every layer before writing anything', async () => {
    const dir = path.join(makeTemp('ccx-oci-'), 'image');
    const bad: LayerInput = { files: [{ path: '../escape', data: text('x') }] };
    await expect(writeOciImage({ dir, layers: [TOOLS, bad], config: {} })).rejects.toBeInstanceOf(UsageError);
    expect(existsSync(dir)).toBe(false);
  });
});
