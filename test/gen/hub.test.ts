/**
 * `ccx model pull` / `ccx model ls` against a fake Hugging Face Hub on 127.0.0.1: the API file
 * list, `resolve` with redirects to a CDN on another origin (X-Linked-Etag), Range requests,
 * cut connections, corrupted files, private repositories; then the built CLI end to end.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  HubError,
  listModels,
  MODEL_RECORD_FILE,
  type ModelRecord,
  type PullProgress,
  pullModel,
  resolveModelCacheDir,
} from '../../src/gen/hub.js';
import { makeTemp, removeTemps, runCcx } from '../helpers/cli.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
/** Deterministic bytes that differ along the file, so a wrong offset changes the sha256. */
const bytes = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 255));
const json = (v: unknown) => Buffer.from(JSON.stringify(v));

/** How the fake Hub serves a file: plain (git blob ETag), LFS behind a redirect, LFS with a sha256 ETag. */
type Storage = 'git' | 'lfs-redirect' | 'lfs-etag';

interface FakeRepo {
  sha: string;
  files: Record<string, { data: Buffer; storage: Storage }>;
  private?: boolean;
}

const TOKEN = 'hf_secret';
const CONFIG_FILES = {
  'config.json': { data: json({ model_type: 'qwen2', vocab_size: 10 }), storage: 'git' },
  'generation_config.json': { data: json({ eos_token_id: 2 }), storage: 'git' },
  'tokenizer.json': { data: json({ model: { type: 'BPE', vocab: {} } }), storage: 'git' },
  'tokenizer_config.json': { data: json({ eos_token: '</s>' }), storage: 'git' },
  'special_tokens_map.json': { data: json({ eos_token: '</s>' }), storage: 'git' },
} satisfies FakeRepo['files'];

function makeRepos(): Map<string, FakeRepo> {
  return new Map<string, FakeRepo>([
    [
      'acme/tiny-coder',
      {
        sha: sha1('tiny-coder'),
        files: {
          '.gitattributes': { data: Buffer.from('*.onnx filter=lfs\n'), storage: 'git' },
          'README.md': { data: Buffer.from('# tiny\n'), storage: 'git' },
          'vocab.json': { data: json({}), storage: 'git' },
          ...CONFIG_FILES,
          'onnx/model.onnx': { data: bytes(200_000, 1), storage: 'lfs-redirect' },
          'onnx/model_fp16.onnx': { data: bytes(3_000, 2), storage: 'lfs-redirect' },
          'onnx/model_fp16.onnx_data': { data: bytes(50_000, 3), storage: 'lfs-etag' },
          'onnx/model_fp16.onnx_data_1': { data: bytes(40_000, 4), storage: 'lfs-etag' },
          'onnx/model_int8.onnx': { data: bytes(2_000, 5), storage: 'lfs-redirect' },
          'onnx/model_uint8.onnx': { data: bytes(2_000, 6), storage: 'lfs-redirect' },
          'onnx/decoder_model_merged.onnx': { data: bytes(1_000, 7), storage: 'lfs-redirect' },
        },
      },
    ],
    [
      'acme/private-coder',
      {
        sha: sha1('private-coder'),
        private: true,
        files: {
          'config.json': CONFIG_FILES['config.json'],
          'tokenizer.json': CONFIG_FILES['tokenizer.json'],
          'onnx/model_q4.onnx': { data: bytes(5_000, 8), storage: 'lfs-redirect' },
        },
      },
    ],
  ]);
}

interface Seen {
  server: 'hub' | 'cdn';
  path: string;
  range: string | undefined;
  authorization: string | undefined;
  status: number;
}

/** A fake Hub: the API and `resolve` on one origin, the LFS CDN on another (like cdn-lfs.hf.co). */
class FakeHub {
  repos = makeRepos();
  seen: Seen[] = [];
  /** Paths whose next download sends half the bytes and closes the connection. */
  cutOnce = new Set<string>();
  /** Paths served with other bytes than the sha256 the Hub announces. */
  corrupt = new Set<string>();
  /** Paths served whole (200) whatever the Range header asks. */
  ignoreRange = new Set<string>();
  private hub!: Server;
  private cdn!: Server;
  hubUrl = '';
  cdnUrl = '';

  async start(): Promise<void> {
    this.hub = createServer((req, res) => this.handle('hub', req, res));
    this.cdn = createServer((req, res) => this.handle('cdn', req, res));
    this.hubUrl = await listen(this.hub);
    this.cdnUrl = await listen(this.cdn);
  }

  async stop(): Promise<void> {
    for (const s of [this.hub, this.cdn]) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  }

  reset(): void {
    this.repos = makeRepos();
    this.seen = [];
    this.cutOnce.clear();
    this.corrupt.clear();
    this.ignoreRange.clear();
  }

  requests(server: 'hub' | 'cdn', pathPart: string): Seen[] {
    return this.seen.filter((s) => s.server === server && s.path.includes(pathPart));
  }

  /** Answers one request (the return value is nothing: `return reply(...)` keeps branches short). */
  private handle(server: 'hub' | 'cdn', req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://x');
    const seen: Seen = {
      server,
      path: decodeURIComponent(url.pathname),
      range: req.headers.range,
      authorization: req.headers.authorization,
      status: 0,
    };
    this.seen.push(seen);
    const reply = (status: number, headers: Record<string, string | number> = {}, body?: Buffer) => {
      seen.status = status;
      res.writeHead(status, headers);
      res.end(body);
    };
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);

    if (server === 'cdn') {
      // /{owner}/{name}/{path...}: signed URLs need no token.
      const repo = this.repos.get(`${parts[0]}/${parts[1]}`);
      const file = parts.slice(2).join('/');
      const entry = repo?.files[file];
      if (!entry) return reply(404);
      return this.serve(seen, req, res, file, entry.data, { etag: '"cdn-etag-1"' });
    }

    const isApi = parts[0] === 'api';
    const [owner, name] = isApi ? [parts[2], parts[3]] : [parts[0], parts[1]];
    const repo = this.repos.get(`${owner}/${name}`);
    if (repo === undefined) return reply(404, { 'x-error-code': 'RepoNotFound' });
    if (repo.private && req.headers.authorization !== `Bearer ${TOKEN}`)
      return reply(401, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Invalid credentials' });
    const rev = isApi ? parts[5] : parts[3];
    if (rev !== 'main' && rev !== repo.sha) return reply(404, { 'x-error-code': 'RevisionNotFound' });

    if (isApi && parts[4] === 'revision') {
      const siblings = Object.keys(repo.files).map((rfilename) => ({ rfilename }));
      return reply(
        200,
        { 'content-type': 'application/json' },
        json({ id: `${owner}/${name}`, sha: repo.sha, siblings }),
      );
    }
    if (!isApi && parts[2] === 'resolve') {
      const file = parts.slice(4).join('/');
      const entry = repo.files[file];
      if (!entry) return reply(404, { 'x-error-code': 'EntryNotFound' });
      const digest = sha256(entry.data);
      if (entry.storage === 'lfs-redirect')
        return reply(302, {
          location: `${this.cdnUrl}/${owner}/${name}/${file}`,
          'x-linked-etag': `"${digest}"`,
          etag: `W/"${sha1(file)}"`,
        });
      const etag = entry.storage === 'lfs-etag' ? `"${digest}"` : `"${sha1(entry.data.toString('latin1'))}"`;
      return this.serve(seen, req, res, file, entry.data, { etag });
    }
    return reply(404);
  }

  private serve(
    seen: Seen,
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    data: Buffer,
    headers: Record<string, string>,
  ): void {
    let body = data;
    if (this.corrupt.has(file)) {
      body = Buffer.from(data);
      body[0] = (body[0] ?? 0) ^ 0xff;
    }
    let start = 0;
    const range = this.ignoreRange.has(file) ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        seen.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
    }
    const slice = body.subarray(start);
    seen.status = range ? 206 : 200;
    res.writeHead(seen.status, {
      ...headers,
      'content-length': slice.length,
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    if (this.cutOnce.delete(file)) {
      // Half the bytes, a moment for the client to write them, then the connection goes.
      res.write(slice.subarray(0, Math.floor(slice.length / 2)), () => {
        setTimeout(() => res.socket?.destroy(), 100);
      });
      return;
    }
    res.end(slice);
  }
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const hub = new FakeHub();
beforeAll(() => hub.start());
afterAll(async () => {
  await hub.stop();
  removeTemps();
});
beforeEach(() => hub.reset());

/** pullModel with an empty environment (no HF_TOKEN, HF_ENDPOINT from the machine) and a fresh cache. */
function pull(repo: string, options: Parameters<typeof pullModel>[1] = {}) {
  return pullModel(repo, { endpoint: hub.hubUrl, cacheDir: makeTemp('ccx-models-'), env: {}, ...options });
}

async function pullError(promise: Promise<unknown>): Promise<HubError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HubError);
  return error as HubError;
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => statSync(path.join(dir, f)).isFile())
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

function repoFile(repo: string, file: string): Buffer {
  return hub.repos.get(repo)!.files[file]!.data;
}

describe('pullModel', () => {
  it('pulls fp32: exactly the config files and onnx/model.onnx, with their sha256 in ccx-model.json', async () => {
    const cacheDir = makeTemp('ccx-models-');
    const result = await pull('acme/tiny-coder', { cacheDir });
    const commit = sha1('tiny-coder');
    expect(result.dir).toBe(path.join(cacheDir, 'acme--tiny-coder', commit));
    expect(result).toMatchObject({
      repo: 'acme/tiny-coder',
      revision: 'main',
      commit,
      dtype: 'fp32',
      endpoint: hub.hubUrl,
    });
    const wanted = [...Object.keys(CONFIG_FILES), 'onnx/model.onnx'].sort();
    expect(result.files.map((f) => f.path)).toEqual(wanted);
    for (const f of result.files) {
      const data = repoFile('acme/tiny-coder', f.path);
      expect(f).toEqual({ path: f.path, bytes: data.length, sha256: sha256(data) });
      expect(sha256(readFileSync(path.join(result.dir, f.path)))).toBe(f.sha256);
    }
    expect(filesUnder(result.dir)).toEqual([...wanted, MODEL_RECORD_FILE].sort());
    const record = JSON.parse(readFileSync(path.join(result.dir, MODEL_RECORD_FILE), 'utf8')) as ModelRecord;
    const { dir: _dir, ...expected } = result;
    expect(record).toEqual(expected);
    // Nothing else was asked for, and files came from the resolved commit.
    const asked = hub.seen.filter((s) => s.server === 'hub' && s.path.includes('/resolve/'));
    expect(asked.map((s) => s.path.split(`/resolve/${commit}/`)[1]).sort()).toEqual(wanted);
    // The LFS file went through the CDN, checked against X-Linked-Etag.
    expect(hub.requests('cdn', 'onnx/model.onnx')).toHaveLength(1);
  });

  it('picks onnx/model_fp16.onnx and its external data files for --dtype fp16', async () => {
    const progress: PullProgress[] = [];
    const result = await pull('acme/tiny-coder', { dtype: 'fp16', onProgress: (p) => progress.push(p) });
    const onnx = ['onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model_fp16.onnx_data_1'];
    expect(result.files.map((f) => f.path)).toEqual([...Object.keys(CONFIG_FILES), ...onnx].sort());
    expect(result.dtype).toBe('fp16');
    for (const file of onnx)
      expect(readFileSync(path.join(result.dir, file)).equals(repoFile('acme/tiny-coder', file))).toBe(true);
    expect(existsSync(path.join(result.dir, 'onnx/model.onnx'))).toBe(false);
    const last = progress.filter((p) => p.file === 'onnx/model_fp16.onnx_data').at(-1);
    expect(last).toEqual({ file: 'onnx/model_fp16.onnx_data', bytes: 50_000, total: 50_000 });
  });

  it('takes the q8 fallbacks in order: model_int8.onnx when model_quantized.onnx is missing', async () => {
    const result = await pull('acme/tiny-coder', { dtype: 'q8' });
    expect(result.files.map((f) => f.path)).toContain('onnx/model_int8.onnx');
    expect(result.files.map((f) => f.path)).not.toContain('onnx/model_uint8.onnx');
  });

  it('fails for a dtype the repository lacks, listing the dtypes it has', async () => {
    const cacheDir = makeTemp('ccx-models-');
    const error = await pullError(pull('acme/tiny-coder', { dtype: 'q4', cacheDir }));
    expect(error.code).toBe('CCX_HUB_NO_DTYPE');
    expect(error.message).toContain('onnx/model_q4.onnx or onnx/model_q4f16.onnx');
    expect(error.message).toContain('it has fp32, fp16, q8');
    expect(error.hint).toBe('pass --dtype fp32');
    expect(hub.seen.filter((s) => s.path.includes('/resolve/'))).toEqual([]);
  });

  it('does not download again a file already present with its recorded sha256', async () => {
    const cacheDir = makeTemp('ccx-models-');
    const first = await pull('acme/tiny-coder', { cacheDir });
    hub.seen = [];
    const second = await pull('acme/tiny-coder', { cacheDir });
    expect(second.files).toEqual(first.files);
    expect(hub.seen.map((s) => s.path)).toEqual([`/api/models/acme/tiny-coder/revision/main`]);
  });

  it('downloads again a recorded file that changed on disk', async () => {
    const cacheDir = makeTemp('ccx-models-');
    const first = await pull('acme/tiny-coder', { cacheDir });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path.join(first.dir, 'config.json'), '{"tampered":1}');
    hub.seen = [];
    await pull('acme/tiny-coder', { cacheDir });
    expect(hub.seen.filter((s) => s.path.includes('/resolve/')).map((s) => s.path)).toEqual([
      `/acme/tiny-coder/resolve/${first.commit}/config.json`,
    ]);
    expect(
      readFileSync(path.join(first.dir, 'config.json')).equals(repoFile('acme/tiny-coder', 'config.json')),
    ).toBe(true);
  });

  it('resumes a download cut off mid-file with a Range request, and keeps the files already whole', async () => {
    const cacheDir = makeTemp('ccx-models-');
    hub.cutOnce.add('onnx/model.onnx');
    const error = await pullError(pull('acme/tiny-coder', { cacheDir }));
    expect(error.code).toBe('CCX_HUB_NETWORK');
    expect(error.message).toContain('onnx/model.onnx');
    expect(error.hint).toContain('again to resume');
    const dir = path.join(cacheDir, 'acme--tiny-coder', sha1('tiny-coder'));
    const part = path.join(dir, 'onnx/model.onnx.incomplete');
    const partSize = statSync(part).size;
    expect(partSize).toBeGreaterThan(0);
    expect(partSize).toBeLessThan(200_000);
    expect(existsSync(path.join(dir, 'onnx/model.onnx'))).toBe(false);
    expect(existsSync(path.join(dir, MODEL_RECORD_FILE))).toBe(false);

    hub.seen = [];
    const progress: PullProgress[] = [];
    const result = await pull('acme/tiny-coder', { cacheDir, onProgress: (p) => progress.push(p) });
    const cdn = hub.requests('cdn', 'onnx/model.onnx');
    expect(cdn.map((s) => [s.range, s.status])).toEqual([[`bytes=${partSize}-`, 206]]);
    expect(progress.find((p) => p.file === 'onnx/model.onnx')).toEqual({
      file: 'onnx/model.onnx',
      bytes: partSize,
      total: 200_000,
    });
    const model = result.files.find((f) => f.path === 'onnx/model.onnx');
    expect(model?.sha256).toBe(sha256(repoFile('acme/tiny-coder', 'onnx/model.onnx')));
    expect(
      readFileSync(path.join(dir, 'onnx/model.onnx')).equals(repoFile('acme/tiny-coder', 'onnx/model.onnx')),
    ).toBe(true);
    expect(existsSync(part)).toBe(false);
    // The config files finished in the first run were not asked for again.
    expect(hub.seen.filter((s) => s.path.endsWith('.json'))).toEqual([]);
  });

  it('starts over when the server answers a Range request with the whole file (200)', async () => {
    const cacheDir = makeTemp('ccx-models-');
    hub.cutOnce.add('tokenizer.json');
    await pullError(pull('acme/tiny-coder', { cacheDir }));
    const dir = path.join(cacheDir, 'acme--tiny-coder', sha1('tiny-coder'));
    expect(existsSync(path.join(dir, 'tokenizer.json.incomplete'))).toBe(true);
    hub.ignoreRange.add('tokenizer.json');
    hub.seen = [];
    const result = await pull('acme/tiny-coder', { cacheDir });
    expect(hub.requests('hub', 'tokenizer.json').map((s) => [s.range !== undefined, s.status])).toEqual([
      [true, 200],
    ]);
    const data = repoFile('acme/tiny-coder', 'tokenizer.json');
    expect(result.files.find((f) => f.path === 'tokenizer.json')?.sha256).toBe(sha256(data));
    expect(readFileSync(path.join(dir, 'tokenizer.json')).equals(data)).toBe(true);
  });

  it('fails on a sha256 that is not the one in X-Linked-Etag, and leaves no bad file', async () => {
    const cacheDir = makeTemp('ccx-models-');
    hub.corrupt.add('onnx/model.onnx');
    const error = await pullError(pull('acme/tiny-coder', { cacheDir }));
    expect(error.code).toBe('CCX_HUB_CHECKSUM');
    expect(error.message).toContain(sha256(repoFile('acme/tiny-coder', 'onnx/model.onnx')));
    const dir = path.join(cacheDir, 'acme--tiny-coder', sha1('tiny-coder'));
    expect(filesUnder(dir).filter((f) => f.startsWith('onnx/'))).toEqual([]);
    expect(existsSync(path.join(dir, MODEL_RECORD_FILE))).toBe(false);
  });

  it('checks a sha256 ETag without redirect (external data) too', async () => {
    const cacheDir = makeTemp('ccx-models-');
    hub.corrupt.add('onnx/model_fp16.onnx_data_1');
    const error = await pullError(pull('acme/tiny-coder', { cacheDir, dtype: 'fp16' }));
    expect(error.code).toBe('CCX_HUB_CHECKSUM');
    const dir = path.join(cacheDir, 'acme--tiny-coder', sha1('tiny-coder'));
    expect(filesUnder(dir).some((f) => f.startsWith('onnx/model_fp16.onnx_data_1'))).toBe(false);
  });

  it('names HF_TOKEN on 401, and sends the token (to the Hub only) when set', async () => {
    const error = await pullError(pull('acme/private-coder', { dtype: 'q4' }));
    expect(error.code).toBe('CCX_HUB_AUTH');
    expect(`${error.message}\n${error.hint}`).toContain('HF_TOKEN');
    expect(error.message).toContain('401');

    const wrong = await pullError(pull('acme/private-coder', { dtype: 'q4', token: 'hf_wrong' }));
    expect(wrong.message).toContain('HF_TOKEN');

    hub.seen = [];
    const result = await pull('acme/private-coder', { dtype: 'q4', env: { HF_TOKEN: TOKEN } });
    expect(result.files.map((f) => f.path)).toEqual(['config.json', 'onnx/model_q4.onnx', 'tokenizer.json']);
    const hubRequests = hub.seen.filter((s) => s.server === 'hub');
    expect(hubRequests.length).toBe(4);
    for (const s of hubRequests) expect(s.authorization).toBe(`Bearer ${TOKEN}`);
    // The CDN is another origin: the token stays with the Hub.
    expect(hub.requests('cdn', 'model_q4.onnx').map((s) => s.authorization)).toEqual([undefined]);
  });

  it('reports 404 for an unknown repository and for an unknown revision', async () => {
    const repo = await pullError(pull('acme/nope'));
    expect(repo.code).toBe('CCX_HUB_NOT_FOUND');
    expect(repo.message).toContain('acme/nope');
    const revision = await pullError(pull('acme/tiny-coder', { revision: 'v9' }));
    expect(revision.code).toBe('CCX_HUB_NOT_FOUND');
    expect(revision.message).toContain("revision 'v9' not found");
  });

  it('reports an unreachable endpoint, naming HF_ENDPOINT', async () => {
    const closed = createServer();
    const url = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const error = await pullError(pull('acme/tiny-coder', { endpoint: url }));
    expect(error.code).toBe('CCX_HUB_NETWORK');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.hint).toContain(`HF_ENDPOINT (${url})`);
  });

  it('rejects a malformed repository id before any request', async () => {
    await expect(pull('../etc')).rejects.toMatchObject({ code: 'CCX_USAGE' });
    await expect(pull('a/b/c')).rejects.toMatchObject({ code: 'CCX_USAGE' });
    expect(hub.seen).toEqual([]);
  });
});

describe('listModels and resolveModelCacheDir', () => {
  it('lists the pulled models with their directories', async () => {
    const cacheDir = makeTemp('ccx-models-');
    const a = await pull('acme/tiny-coder', { cacheDir });
    const b = await pull('acme/private-coder', { cacheDir, dtype: 'q4', token: TOKEN });
    expect(await listModels({ cacheDir })).toEqual([b, a]);
    expect(await listModels({ cacheDir: path.join(cacheDir, 'missing') })).toEqual([]);
  });

  it('leaves out a pull that did not finish', async () => {
    const cacheDir = makeTemp('ccx-models-');
    hub.cutOnce.add('onnx/model.onnx');
    await pullError(pull('acme/tiny-coder', { cacheDir }));
    expect(await listModels({ cacheDir })).toEqual([]);
  });

  it('takes --cache-dir, then CCX_MODEL_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    const env = { CCX_MODEL_CACHE: '/m', XDG_CACHE_HOME: '/x' };
    expect(resolveModelCacheDir({ cacheDir: '/c', env })).toBe(path.resolve('/c'));
    expect(resolveModelCacheDir({ env })).toBe(path.resolve('/m'));
    expect(resolveModelCacheDir({ env: { XDG_CACHE_HOME: '/x' } })).toBe(path.resolve('/x/ccx/models'));
    expect(resolveModelCacheDir({ env: {} })).toMatch(/\.cache[/\\]ccx[/\\]models$/);
  });
});

describe('ccx model (built CLI)', () => {
  const env = (cache: string) => ({ HF_ENDPOINT: hub.hubUrl, CCX_MODEL_CACHE: cache });

  it('pulls with --json, prints a summary without, lists with ls; exit 0', async () => {
    const cache = makeTemp('ccx-models-');
    const r = await runCcx(['model', 'pull', 'acme/tiny-coder', '--json'], { env: env(cache) });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const record = JSON.parse(r.stdout) as ModelRecord & { dir: string };
    expect(record.dir).toBe(path.join(cache, 'acme--tiny-coder', sha1('tiny-coder')));
    expect(record.files.map((f) => f.path)).toContain('onnx/model.onnx');

    const summary = await runCcx(['model', 'pull', 'acme/tiny-coder'], { env: env(cache) });
    expect(summary.exitCode).toBe(0);
    expect(summary.stdout).toContain('6 files');
    expect(summary.stdout).toContain(`ccx gen --model ${record.dir}`);

    const ls = await runCcx(['model', 'ls', '--json'], { env: env(cache) });
    expect(ls.exitCode).toBe(0);
    expect((JSON.parse(ls.stdout) as Array<{ dir: string }>).map((m) => m.dir)).toEqual([record.dir]);
    const text = await runCcx(['model', 'ls', '--cache-dir', cache], { env: {} });
    expect(text.stdout).toMatch(/^acme\/tiny-coder {2}main {2}[0-9a-f]{12} {2}fp32 {2}\S+ KiB {2}\//);
  });

  it('exits 2 with error and hint on stderr for a missing dtype, 404, a bad --dtype', async () => {
    const cache = makeTemp('ccx-models-');
    const noDtype = await runCcx(['model', 'pull', 'acme/tiny-coder', '--dtype', 'q4'], { env: env(cache) });
    expect(noDtype.exitCode).toBe(2);
    expect(noDtype.stdout).toBe('');
    expect(noDtype.stderr).toContain('error: acme/tiny-coder@main has no ONNX file for dtype q4');
    expect(noDtype.stderr).toContain('hint: pass --dtype fp32');

    const missing = await runCcx(['model', 'pull', 'acme/nope'], { env: env(cache) });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/^error: repository acme\/nope .*\(404\)\nhint: /);

    const auth = await runCcx(['model', 'pull', 'acme/private-coder', '--dtype', 'q4'], { env: env(cache) });
    expect(auth.exitCode).toBe(2);
    expect(auth.stderr).toContain('HF_TOKEN');
    const authed = await runCcx(['model', 'pull', 'acme/private-coder', '--dtype', 'q4'], {
      env: { ...env(cache), HF_TOKEN: TOKEN },
    });
    expect(authed.exitCode).toBe(0);

    const badDtype = await runCcx(['model', 'pull', 'acme/tiny-coder', '--dtype', 'bf16'], {
      env: env(cache),
    });
    expect(badDtype.exitCode).toBe(2);
    expect(badDtype.stderr).toContain('bf16');
  });
});
