/**
 * Models for `ccx gen` from a Hugging Face Hub: download the files a decoder-only model in the
 * ONNX layout needs into a local cache, resumably and checked against the sha256 the Hub gives,
 * and list what the cache holds. Never prints; the CLI (src/cli/commands/model.ts) renders.
 *
 * URL layout, as huggingface_hub (`HfApi.model_info`, `hf_hub_url`, `file_download.py`) uses it:
 * - `GET {endpoint}/api/models/{repo}/revision/{revision}`: JSON `{sha, siblings: [{rfilename}]}`;
 * - `GET {endpoint}/{repo}/resolve/{revision}/{path}`: the file, often through a redirect to a
 *   CDN whose first response carries `X-Linked-Etag: "<sha256>"` for files stored with Git LFS.
 *
 * File names per dtype follow transformers.js (`onnx/model{,_fp16,_quantized,_int8,_uint8,_q4,
 * _q4f16}.onnx`, external data in `onnx/model*.onnx_data`, `_data_1`, ...).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { CcxError, UsageError } from '../errors.js';

/** Precisions a model can be pulled in; each maps to ONNX file names (see {@link DTYPE_FILES}). */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q8', 'q4'] as const;

/** One of {@link MODEL_DTYPES}. */
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/**
 * The ONNX file of each dtype, in order of preference: the first one the repository has is taken.
 * Names as transformers.js writes and reads them (`DEFAULT_DTYPE_SUFFIX_MAPPING`).
 */
export const DTYPE_FILES: Readonly<Record<ModelDtype, readonly string[]>> = {
  fp32: ['onnx/model.onnx'],
  fp16: ['onnx/model_fp16.onnx'],
  q8: ['onnx/model_quantized.onnx', 'onnx/model_int8.onnx', 'onnx/model_uint8.onnx'],
  q4: ['onnx/model_q4.onnx', 'onnx/model_q4f16.onnx'],
};

/** The configuration and tokenizer files a model needs, taken when the repository has them. */
export const MODEL_CONFIG_FILES: readonly string[] = [
  'config.json',
  'generation_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
];

/** Name of the record a pull writes in the model directory. */
export const MODEL_RECORD_FILE = 'ccx-model.json';

/** Default Hub endpoint when neither `endpoint` nor `$HF_ENDPOINT` is given. */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/** One downloaded file, as {@link ModelRecord} lists it. */
export interface ModelFileRecord {
  /** Path in the repository and in the model directory, forward slashes (`onnx/model.onnx`). */
  path: string;
  /** Size in bytes. */
  bytes: number;
  /** sha256 of the whole file, 64 lowercase hex digits. */
  sha256: string;
}

/** What `ccx-model.json` holds: where a model directory came from and what it contains. */
export interface ModelRecord {
  /** Repository id, `owner/name` (or a legacy `name`). */
  repo: string;
  /** The revision asked for: branch, tag or commit (`main` by default). */
  revision: string;
  /** The 40-hex commit the Hub resolved the revision to, or null when it gave none. */
  commit: string | null;
  /** The precision pulled. */
  dtype: ModelDtype;
  /** The Hub endpoint the files came from, without a trailing slash. */
  endpoint: string;
  /** ISO 8601 time the pull completed. */
  downloadedAt: string;
  /** Every file of the model, sorted by path. */
  files: ModelFileRecord[];
}

/** A {@link ModelRecord} with the absolute directory it describes (pass it to `ccx gen --model`). */
export type CachedModel = ModelRecord & { dir: string };

/** Progress of one file: `bytes` of it on disk so far (a resumed part included) of `total`, when known. */
export interface PullProgress {
  file: string;
  bytes: number;
  total?: number;
}

/** Where the model cache is; see {@link resolveModelCacheDir}. */
export interface CacheOptions {
  /** Cache directory; overrides the environment. */
  cacheDir?: string;
  /** Environment to read `CCX_MODEL_CACHE`, `XDG_CACHE_HOME` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/** Options of {@link pullModel}. */
export interface PullOptions extends CacheOptions {
  /** Branch, tag or commit (default `main`). */
  revision?: string;
  /** Precision (default `fp32`). */
  dtype?: ModelDtype;
  /** Hub endpoint (default `$HF_ENDPOINT`, else {@link DEFAULT_HF_ENDPOINT}). */
  endpoint?: string;
  /** Access token sent as `Authorization: Bearer` (default `$HF_TOKEN`; empty means none). */
  token?: string;
  /** The fetch to use (default the global one); redirects are followed here, not by it. */
  fetch?: typeof fetch;
  /** Called as bytes of each file arrive, and once for each file already present. */
  onProgress?: (progress: PullProgress) => void;
}

/** Stable codes of {@link HubError}. */
export type HubErrorCode =
  | 'CCX_HUB_AUTH'
  | 'CCX_HUB_NOT_FOUND'
  | 'CCX_HUB_NO_DTYPE'
  | 'CCX_HUB_NETWORK'
  | 'CCX_HUB_CHECKSUM'
  | 'CCX_HUB_HTTP';

/**
 * A pull that failed (exit 2): `CCX_HUB_AUTH` 401/403 (set HF_TOKEN), `CCX_HUB_NOT_FOUND` 404
 * (repository, revision or file), `CCX_HUB_NO_DTYPE` no ONNX file for the dtype, `CCX_HUB_NETWORK`
 * the endpoint unreachable or a download cut off (rerun to resume), `CCX_HUB_CHECKSUM` a file
 * whose sha256 is not the one the Hub gave (deleted), `CCX_HUB_HTTP` any other answer.
 */
export class HubError extends CcxError {
  constructor(code: HubErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
  }
}

const SHA256_RE = /^[0-9a-f]{64}$/;
const COMMIT_RE = /^[0-9a-f]{40}$/;
const REPO_PART_RE = /^[A-Za-z0-9_][\w.-]*$/;
const MAX_REDIRECTS = 10;
const INCOMPLETE = '.incomplete';

/**
 * The model cache directory, absolute: `cacheDir`, else `$CCX_MODEL_CACHE`, else
 * `$XDG_CACHE_HOME/ccx/models`, else `~/.cache/ccx/models`. Creates nothing.
 */
export function resolveModelCacheDir(options: CacheOptions = {}): string {
  const env = options.env ?? process.env;
  if (options.cacheDir) return path.resolve(options.cacheDir);
  if (env.CCX_MODEL_CACHE) return path.resolve(env.CCX_MODEL_CACHE);
  if (env.XDG_CACHE_HOME) return path.resolve(env.XDG_CACHE_HOME, 'ccx', 'models');
  return path.join(homedir(), '.cache', 'ccx', 'models');
}

/**
 * Downloads what `ccx gen` needs of the Hub repository `repo` at `revision` into
 * `{cache}/{owner}--{name}/{commit}/` (the revision stands in for the commit when the Hub gives
 * none), files at their repository paths, and writes `ccx-model.json` there last:
 * the files of {@link MODEL_CONFIG_FILES} the repository has, the first ONNX file of
 * {@link DTYPE_FILES} for the dtype, and its external data (`<onnx>_data`, `<onnx>_data_1`, ...).
 *
 * Each file is written to `<path>.incomplete` and renamed when whole. A rerun after a failure
 * resumes it with `Range: bytes=N-` (appending on 206, starting over on 200), and skips files a
 * record of this directory (`ccx-model.json`, or the `ccx-model.json.incomplete` a cut-off pull
 * leaves) lists with the sha256 they still have. When the Hub gives a sha256 as `X-Linked-Etag`
 * or `ETag` (Git LFS files), the file must match it.
 *
 * @returns the record written, with the directory.
 * @throws {UsageError} a malformed repository id or revision.
 * @throws {HubError} see its codes; a file that fails its checksum is deleted, a cut-off one is
 *   kept as `.incomplete` for the next run.
 */
export async function pullModel(repo: string, options: PullOptions = {}): Promise<CachedModel> {
  const [owner, name] = parseRepoId(repo);
  const revision = options.revision ?? 'main';
  if (revision === '' || /[\s\\]/.test(revision) || revision.split('/').includes('..'))
    throw new UsageError(`invalid revision '${revision}'`, { hint: 'pass a branch, tag or commit' });
  const dtype = options.dtype ?? 'fp32';
  if (!MODEL_DTYPES.includes(dtype))
    throw new UsageError(`unknown dtype '${String(dtype)}'`, {
      hint: `use one of ${MODEL_DTYPES.join(', ')}`,
    });
  const env = options.env ?? process.env;
  const endpoint = (options.endpoint ?? (env.HF_ENDPOINT || DEFAULT_HF_ENDPOINT)).replace(/\/+$/, '');
  const client: Client = {
    fetch: options.fetch ?? globalThis.fetch,
    endpoint,
    token: (options.token ?? env.HF_TOKEN) || undefined,
    repo,
  };

  const info = await fetchRepoInfo(client, revision);
  const commit = info.commit;
  const ref = commit ?? revision;
  const wanted = selectModelFiles(info.files, dtype, `${repo}@${revision}`);

  const repoDir = owner === undefined ? name : `${owner}--${name}`;
  const dir = path.join(resolveModelCacheDir(options), repoDir, commit ?? revision.replace(/[^\w.-]+/g, '-'));
  await mkdir(dir, { recursive: true });
  const recordPath = path.join(dir, MODEL_RECORD_FILE);
  const partialRecordPath = recordPath + INCOMPLETE;
  const known = new Map<string, ModelFileRecord>();
  for (const p of [recordPath, partialRecordPath]) {
    for (const f of (await readRecord(p))?.files ?? []) known.set(f.path, f);
  }

  const files: ModelFileRecord[] = [];
  const base = { repo, revision, commit, dtype, endpoint };
  for (const file of wanted) {
    const target = path.join(dir, ...file.split('/'));
    const present = await checkPresent(target, known.get(file));
    if (present) {
      options.onProgress?.({ file, bytes: present.bytes, total: present.bytes });
      files.push(present);
      continue;
    }
    files.push(await downloadFile(client, ref, file, target, options.onProgress));
    // Written after each file so that a rerun after a failure trusts what is already whole.
    const partial: ModelRecord = { ...base, downloadedAt: new Date().toISOString(), files: sortFiles(files) };
    await writeFile(partialRecordPath, `${JSON.stringify(partial, null, 2)}\n`);
  }
  const record: ModelRecord = { ...base, downloadedAt: new Date().toISOString(), files: sortFiles(files) };
  await writeFile(partialRecordPath, `${JSON.stringify(record, null, 2)}\n`);
  await rename(partialRecordPath, recordPath);
  return { ...record, dir };
}

/**
 * Every model in the cache: each `{cache}/{repo dir}/{commit}/ccx-model.json` that parses as a
 * {@link ModelRecord}, sorted by repository then download time. Directories without one (pulls
 * not finished) are left out; a missing cache is an empty list.
 */
export async function listModels(options: CacheOptions = {}): Promise<CachedModel[]> {
  const cache = resolveModelCacheDir(options);
  const out: CachedModel[] = [];
  for (const repoDir of await readDirs(cache)) {
    for (const revDir of await readDirs(path.join(cache, repoDir))) {
      const dir = path.join(cache, repoDir, revDir);
      const record = await readRecord(path.join(dir, MODEL_RECORD_FILE));
      if (record) out.push({ ...record, dir });
    }
  }
  return out.sort((a, b) =>
    a.repo === b.repo ? a.downloadedAt.localeCompare(b.downloadedAt) : a.repo.localeCompare(b.repo),
  );
}

/**
 * The dtypes whose ONNX file is among `paths` (repository paths), in {@link MODEL_DTYPES} order.
 */
export function listAvailableDtypes(paths: Iterable<string>): ModelDtype[] {
  const have = new Set(paths);
  return MODEL_DTYPES.filter((d) => DTYPE_FILES[d].some((f) => have.has(f)));
}

/**
 * The repository paths to download for `dtype`, sorted: the config files present, the ONNX file
 * and its external data files.
 * @throws {HubError} `CCX_HUB_NO_DTYPE` when none of the dtype's ONNX files is among `paths`.
 */
export function selectModelFiles(
  paths: readonly string[],
  dtype: ModelDtype,
  label = 'the repository',
): string[] {
  const have = new Set(paths);
  const onnx = DTYPE_FILES[dtype].find((f) => have.has(f));
  if (onnx === undefined) {
    const available = listAvailableDtypes(paths);
    const names = DTYPE_FILES[dtype].join(' or ');
    throw new HubError(
      'CCX_HUB_NO_DTYPE',
      available.length === 0
        ? `${label} has no ONNX model (no onnx/model*.onnx); ccx gen needs the ONNX layout`
        : `${label} has no ONNX file for dtype ${dtype} (${names}); it has ${available.join(', ')}`,
      {
        hint:
          available.length === 0
            ? 'pick a repository with an onnx/ folder (e.g. one under onnx-community)'
            : `pass --dtype ${available[0]}`,
      },
    );
  }
  const dataRe = new RegExp(`^${escapeRegExp(onnx)}_data(_\\d+)?$`);
  return [
    ...MODEL_CONFIG_FILES.filter((f) => have.has(f)),
    onnx,
    ...paths.filter((p) => dataRe.test(p)).sort(compareDataFiles),
  ];
}

interface Client {
  fetch: typeof fetch;
  endpoint: string;
  token: string | undefined;
  repo: string;
}

function parseRepoId(repo: string): [string | undefined, string] {
  const parts = repo.split('/');
  const ok =
    parts.length <= 2 &&
    parts.every((p) => REPO_PART_RE.test(p) && !p.includes('--') && !p.includes('..') && p.length <= 96);
  if (!ok)
    throw new UsageError(`invalid repository id '${repo}'`, {
      hint: 'give it as owner/name, e.g. onnx-community/Qwen2.5-Coder-0.5B-Instruct',
    });
  return parts.length === 2 ? [parts[0], parts[1]!] : [undefined, parts[0]!];
}

async function fetchRepoInfo(
  client: Client,
  revision: string,
): Promise<{ commit: string | null; files: string[] }> {
  const url = `${client.endpoint}/api/models/${client.repo}/revision/${encodeURIComponent(revision)}`;
  const { response } = await request(client, url, undefined);
  if (!response.ok) throw await statusError(client, response, { revision });
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new HubError('CCX_HUB_HTTP', `${url} did not answer with JSON`, {
      hint: `check that HF_ENDPOINT (${client.endpoint}) is a Hugging Face Hub`,
      cause: error,
    });
  }
  const b = body as { sha?: unknown; siblings?: unknown };
  if (!Array.isArray(b.siblings))
    throw new HubError('CCX_HUB_HTTP', `${url} answered without a file list (siblings)`, {
      hint: `check that HF_ENDPOINT (${client.endpoint}) is a Hugging Face Hub`,
    });
  const files = b.siblings
    .map((s: unknown) => (s as { rfilename?: unknown } | null)?.rfilename)
    .filter((f): f is string => typeof f === 'string');
  return { commit: typeof b.sha === 'string' && COMMIT_RE.test(b.sha) ? b.sha : null, files };
}

/**
 * GET `url`, following redirects here so that the `X-Linked-Etag` of the Hub's own answer is
 * seen before the CDN's; the token goes to the endpoint's origin only.
 */
async function request(
  client: Client,
  url: string,
  range: string | undefined,
): Promise<{ response: Response; linkedEtag: string | undefined }> {
  let current = new URL(url);
  const origin = new URL(client.endpoint).origin;
  let linkedEtag: string | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    // identity: a compressed body would make byte offsets for Range meaningless.
    const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'ccx' };
    if (client.token !== undefined && current.origin === origin)
      headers.authorization = `Bearer ${client.token}`;
    if (range !== undefined) headers.range = range;
    let response: Response;
    try {
      response = await client.fetch(current, { headers, redirect: 'manual' });
    } catch (error) {
      throw new HubError('CCX_HUB_NETWORK', `could not reach ${current.origin}: ${describeCause(error)}`, {
        hint: `check HF_ENDPOINT (${client.endpoint}) and your network connection`,
        cause: error,
      });
    }
    linkedEtag ??= response.headers.get('x-linked-etag') ?? undefined;
    const location = response.headers.get('location');
    if ([301, 302, 303, 307, 308].includes(response.status) && location !== null) {
      await response.body?.cancel();
      current = new URL(location, current);
      continue;
    }
    return { response, linkedEtag };
  }
  throw new HubError('CCX_HUB_HTTP', `more than ${MAX_REDIRECTS} redirects from ${url}`, {
    hint: `check HF_ENDPOINT (${client.endpoint})`,
  });
}

async function statusError(
  client: Client,
  response: Response,
  what: { revision: string; file?: string },
): Promise<HubError> {
  await response.body?.cancel();
  const status = response.status;
  const errorCode = response.headers.get('x-error-code');
  const serverMessage = response.headers.get('x-error-message');
  const detail = serverMessage ? ` (${serverMessage})` : '';
  const { repo, endpoint } = client;
  if (status === 401) {
    return client.token === undefined
      ? new HubError(
          'CCX_HUB_AUTH',
          `${endpoint} refused ${repo} without a token (401): it is private or gated, or does not exist${detail}`,
          {
            hint: 'set HF_TOKEN to an access token that can read it (https://huggingface.co/settings/tokens), or check the repository id',
          },
        )
      : new HubError('CCX_HUB_AUTH', `${endpoint} refused the token in HF_TOKEN for ${repo} (401)${detail}`, {
          hint: 'check that HF_TOKEN is a valid access token with read access, and the repository id',
        });
  }
  if (status === 403) {
    return new HubError(
      'CCX_HUB_AUTH',
      `access to ${repo} is forbidden (403): it is gated or private${detail}`,
      {
        hint:
          client.token === undefined
            ? "accept the model's conditions on its page, then set HF_TOKEN to an access token of that account"
            : "accept the model's conditions on its page with the account of HF_TOKEN, or use a token with read access",
      },
    );
  }
  if (status === 404) {
    if (what.file !== undefined && errorCode !== 'RepoNotFound' && errorCode !== 'RevisionNotFound')
      return new HubError('CCX_HUB_NOT_FOUND', `${repo} has no file ${what.file} at ${what.revision} (404)`, {
        hint: 'the repository changed while pulling; run the command again',
      });
    if (errorCode === 'RevisionNotFound')
      return new HubError('CCX_HUB_NOT_FOUND', `revision '${what.revision}' not found in ${repo} (404)`, {
        hint: 'pass --revision with a branch, tag or commit of the repository',
      });
    return new HubError(
      'CCX_HUB_NOT_FOUND',
      `repository ${repo} or its revision '${what.revision}' not found at ${endpoint} (404)`,
      { hint: 'check the repository id (owner/name), --revision and HF_ENDPOINT' },
    );
  }
  return new HubError(
    'CCX_HUB_HTTP',
    `${endpoint} answered ${status} ${response.statusText} for ${what.file ?? repo}${detail}`,
    {
      hint:
        status >= 500
          ? 'the Hub may be busy; run the command again later (it resumes)'
          : `check HF_ENDPOINT (${endpoint})`,
    },
  );
}

/** The record of `file` when the file at `target` is still what it says (size, then sha256). */
async function checkPresent(
  target: string,
  recorded: ModelFileRecord | undefined,
): Promise<ModelFileRecord | undefined> {
  if (recorded === undefined) return undefined;
  const size = await stat(target).then(
    (s) => (s.isFile() ? s.size : -1),
    () => -1,
  );
  if (size !== recorded.bytes) return undefined;
  const hash = createHash('sha256');
  await hashFile(target, hash);
  return hash.digest('hex') === recorded.sha256 ? recorded : undefined;
}

async function downloadFile(
  client: Client,
  ref: string,
  file: string,
  target: string,
  onProgress: PullOptions['onProgress'],
): Promise<ModelFileRecord> {
  const part = target + INCOMPLETE;
  await mkdir(path.dirname(target), { recursive: true });
  const url = `${client.endpoint}/${client.repo}/resolve/${encodeURIComponent(ref)}/${file
    .split('/')
    .map(encodeURIComponent)
    .join('/')}`;
  let offset = await stat(part).then(
    (s) => s.size,
    () => 0,
  );
  let { response, linkedEtag } = await request(client, url, offset > 0 ? `bytes=${offset}-` : undefined);
  if (response.status === 416 && offset > 0) {
    // The part is not a prefix the server can continue (larger than the file): start over.
    await response.body?.cancel();
    offset = 0;
    ({ response, linkedEtag } = await request(client, url, undefined));
  }
  if (!response.ok) throw await statusError(client, response, { revision: ref, file });

  let total: number | undefined;
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  const hash = createHash('sha256');
  if (response.status === 206 && offset > 0) {
    const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
    if (range?.[1] !== undefined && Number(range[1]) === offset) {
      total = range[2] === '*' || range[2] === undefined ? undefined : Number(range[2]);
      await hashFile(part, hash);
    } else {
      await response.body?.cancel();
      await rm(part, { force: true });
      return downloadFile(client, ref, file, target, onProgress);
    }
  } else {
    offset = 0;
    total = Number.isFinite(length) ? length : undefined;
  }
  total ??= Number.isFinite(length) ? offset + length : undefined;

  let bytes = offset;
  onProgress?.({ file, bytes, total });
  const handle = await open(part, offset > 0 ? 'a' : 'w');
  try {
    if (response.body !== null) {
      for await (const chunk of response.body) {
        const data = chunk as Uint8Array;
        hash.update(data);
        await handle.write(data);
        bytes += data.byteLength;
        onProgress?.({ file, bytes, total });
      }
    }
  } catch (error) {
    throw cutOff(client, file, bytes, error);
  } finally {
    await handle.close();
  }
  if (total !== undefined && bytes !== total) throw cutOff(client, file, bytes, undefined, total);

  const sha256 = hash.digest('hex');
  const expected = parseSha256Etag(linkedEtag) ?? parseSha256Etag(response.headers.get('etag') ?? undefined);
  if (expected !== undefined && expected !== sha256) {
    await rm(part, { force: true });
    throw new HubError(
      'CCX_HUB_CHECKSUM',
      `${file} of ${client.repo} has sha256 ${sha256}, not the ${expected} the Hub gives; the file was deleted`,
      { hint: 'run the command again; if it persists, the endpoint or a proxy alters the file' },
    );
  }
  await rename(part, target);
  return { path: file, bytes, sha256 };
}

function cutOff(client: Client, file: string, bytes: number, cause: unknown, total?: number): HubError {
  const why = total === undefined ? describeCause(cause) : `expected ${total} bytes`;
  return new HubError('CCX_HUB_NETWORK', `the download of ${file} stopped after ${bytes} bytes: ${why}`, {
    hint: `run the same command again to resume it; if it keeps failing, check HF_ENDPOINT (${client.endpoint}) and your connection`,
    cause,
  });
}

/** The sha256 in an ETag (`"<64 hex>"`, possibly weak), or undefined for any other ETag (git blob sha1). */
function parseSha256Etag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  const value = etag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1')
    .toLowerCase();
  return SHA256_RE.test(value) ? value : undefined;
}

function describeCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause === 'object') {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    const message = typeof cause.message === 'string' ? cause.message : undefined;
    if (code !== undefined || message !== undefined)
      return [code, message].filter((s) => s !== undefined && s !== '').join(' ');
  }
  return error.message;
}

async function hashFile(file: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
}

async function readRecord(file: string): Promise<ModelRecord | undefined> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const r = value as Partial<ModelRecord> | null;
  const valid =
    r !== null &&
    typeof r === 'object' &&
    typeof r.repo === 'string' &&
    typeof r.revision === 'string' &&
    (typeof r.commit === 'string' || r.commit === null) &&
    typeof r.dtype === 'string' &&
    (MODEL_DTYPES as readonly string[]).includes(r.dtype) &&
    typeof r.endpoint === 'string' &&
    typeof r.downloadedAt === 'string' &&
    Array.isArray(r.files) &&
    r.files.every(
      (f) =>
        typeof f?.path === 'string' &&
        typeof f.bytes === 'number' &&
        typeof f.sha256 === 'string' &&
        SHA256_RE.test(f.sha256),
    );
  return valid ? (r as ModelRecord) : undefined;
}

async function readDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function sortFiles(files: ModelFileRecord[]): ModelFileRecord[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** `x.onnx_data` before `x.onnx_data_1` before `x.onnx_data_2` ... before `x.onnx_data_10`. */
function compareDataFiles(a: string, b: string): number {
  const n = (s: string) => Number(/_data_(\d+)$/.exec(s)?.[1] ?? 0);
  return n(a) - n(b);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
