/**
 * OCI image layouts: a ccx environment is exported as a directory that `umoci`, `skopeo` and
 * `podman` read without a daemon. Each layer is a list of files; the writer turns it into a
 * reproducible gzipped tar, so the same files give the same layer digest in every image they
 * are part of, and environments that share lower layers share their blobs.
 *
 * Formats, from the OCI image spec v1.1 (https://github.com/opencontainers/image-spec):
 * image-layout.md (`oci-layout`, `index.json`, `blobs/sha256/<hex>`), manifest.md, config.md
 * (`rootfs.diff_ids`, `history`), descriptor.md, layer.md (tar changesets, whiteouts) and
 * annotations.md (`org.opencontainers.image.ref.name`).
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { CcxError, UsageError } from '../errors.js';

/** Media types written and read, from the OCI image spec's media-types.md. */
export const OCI_MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerTarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The annotation in `index.json` that names an image of the layout (a tag, e.g. `latest`). */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/**
 * Most layers an image may have, the base's included. Overlay filesystems stack one lower
 * directory per layer and container runtimes refuse deep stacks (Docker stops at 125, and the
 * overlay mount's option string runs out of a page well before 500 on long paths), so ccx
 * keeps a margin under them.
 */
export const MAX_LAYERS = 100;

/** The time stamped on every config, history entry and tar entry, so that builds reproduce. */
export const FIXED_CREATED = '1970-01-01T00:00:00Z';

/** One regular file of a layer. */
export interface LayerFile {
  /**
   * Path inside the image's root filesystem: relative, `/`-separated, without a leading `/`,
   * `.` or `..` segments (`usr/bin/tool`). Parent directories are created (mode 0o755). A file
   * named `.wh.<name>` is a whiteout: it deletes `<name>` from the layers below (layer.md).
   */
  path: string;
  /** The file's bytes. */
  data: Buffer;
  /** Permission bits (`& 0o7777`); default 0o644, use 0o755 for executables. */
  mode?: number;
}

/** One layer: the files it adds or replaces. */
export interface LayerInput {
  files: LayerFile[];
  /** Recorded as the layer's history `comment` in the config. */
  comment?: string;
}

/** What goes into the image config (config.md); fields left out are inherited from the base. */
export interface ImageConfigInput {
  /** Environment variables; merged over the base's, ours win. */
  env?: Record<string, string>;
  /** Replaces the base's entrypoint; without `cmd`, it also drops the base's cmd (as a Dockerfile's ENTRYPOINT does). */
  entrypoint?: string[];
  /** Replaces the base's cmd. */
  cmd?: string[];
  /** Absolute path of the working directory. */
  workingDir?: string;
  /** Labels; merged over the base's, ours win. */
  labels?: Record<string, string>;
  /**
   * OCI (GOARCH) architecture name, e.g. `amd64`, `arm64`. Default: the base's, else this
   * machine's (`process.arch` mapped: x64 -> amd64, ia32 -> 386, others as they are).
   */
  architecture?: string;
  /** Default: the base's, else `linux`. */
  os?: string;
}

/** Where and what {@link writeOciImage} writes. */
export interface WriteImageOptions {
  /**
   * The image layout directory, created when missing. When it already holds a layout, its
   * blobs are reused and its other images stay in `index.json`; one with the same `refName`
   * (or, when `refName` is not given, one without a ref name) is replaced.
   */
  dir: string;
  /** Our layers, bottom first; put on top of the base's. */
  layers: LayerInput[];
  config: ImageConfigInput;
  /** Path of an existing OCI image layout whose image goes underneath: its layers first, its config merged. */
  base?: string;
  /** Which image of `base` when its `index.json` lists several: the one with this ref name. */
  baseRef?: string;
  /** Ref name (`org.opencontainers.image.ref.name`) given to the image in `index.json`, e.g. `latest`. */
  refName?: string;
}

/** A layer as the manifest lists it. */
export interface WrittenLayer {
  /** `sha256:<hex>` of the compressed blob. */
  digest: string;
  /** `sha256:<hex>` of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
  diffId: string;
  /** Size of the blob in bytes. */
  size: number;
}

/** What {@link writeOciImage} wrote. */
export interface WrittenImage {
  /** `sha256:<hex>` of the manifest; `index.json` points at it. */
  manifestDigest: string;
  /** `sha256:<hex>` of the config. */
  configDigest: string;
  /** Every layer of the image, the base's first, in manifest order. */
  layers: WrittenLayer[];
}

/** A layer built in memory. */
export interface LayerBlob {
  /** The gzipped tar. */
  blob: Buffer;
  /** `sha256:<hex>` of `blob`. */
  digest: string;
  /** `sha256:<hex>` of the uncompressed tar. */
  diffId: string;
}

/** A base image or an existing layout that is missing, not an OCI image layout, or malformed (exit 2). */
export class OciLayoutError extends CcxError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CCX_OCI_LAYOUT', message, options);
  }
}

const LAYOUT_HINT =
  'give the directory of an OCI image layout (oci-layout, index.json, blobs/), e.g. one written by ccx or by `skopeo copy docker://IMAGE oci:DIR:TAG`';

/** The ref-name grammar of annotations.md. */
const REF_NAME =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;
const SHA256_DIGEST = /^sha256:([a-f0-9]{64})$/;

/** `process.arch` names that differ from the OCI (GOARCH) ones. */
const OCI_ARCH: Partial<Record<string, string>> = { x64: 'amd64', ia32: '386', ppc64: 'ppc64le' };

/**
 * Fixed deflate settings: the compressed bytes, and so the layer digest, depend on them. They
 * are zlib's defaults, pinned so a change of Node's defaults cannot move every digest.
 */
const GZIP_OPTIONS: zlib.ZlibOptions = {
  level: 6,
  memLevel: 8,
  windowBits: 15,
  strategy: zlib.constants.Z_DEFAULT_STRATEGY,
};
/** The gzip header's OS byte: "unknown", as Go's compress/gzip writes it (RFC 1952 §2.3.1). */
const GZIP_OS_UNKNOWN = 0xff;

const gzip = promisify(zlib.gzip);

/**
 * Builds one layer: a tar of `layer.files` with their parent directories, gzipped. Reproducible:
 * entries sorted by path, each directory before what it holds, mtime 0, uid/gid 0, owner names
 * `root`, no pax timestamps; the gzip header carries mtime 0 and a fixed OS byte. The same
 * files give the same bytes, whatever order they come in; the digest can still differ between
 * zlib builds (the diffId, of the tar, does not).
 * @throws UsageError when a path is not relative and normalized, a path is given twice, a file
 *   is also another file's parent directory, or a mode is not an integer in 0..0o7777.
 */
export async function buildLayerBlob(layer: LayerInput): Promise<LayerBlob> {
  const tarball = await packTar(layer.files);
  const blob = await gzip(tarball, GZIP_OPTIONS);
  // FLG 0 means no optional fields and no header CRC, so header bytes may be rewritten.
  if (blob[0] !== 0x1f || blob[1] !== 0x8b || blob[3] !== 0) {
    throw new Error('zlib wrote an unexpected gzip header');
  }
  // zlib leaves MTIME at 0 but writes the OS it was built for (3 on Linux, 19 on macOS).
  blob.fill(0, 4, 8);
  blob[9] = GZIP_OS_UNKNOWN;
  return { blob, digest: sha256(blob), diffId: sha256(tarball) };
}

interface TarEntry {
  name: string;
  data: Buffer | null;
  mode: number;
}

async function packTar(files: LayerFile[]): Promise<Buffer> {
  const entries = tarEntries(files);
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  // Read while entries are queued: the pack stream holds back until it is drained.
  const drained = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    const header = {
      name: entry.data === null ? `${entry.name}/` : entry.name,
      type: entry.data === null ? ('directory' as const) : ('file' as const),
      // The file-type bit keeps tar-stream from replacing a mode of 0 with its default.
      mode: (entry.data === null ? fsConstants.S_IFDIR : fsConstants.S_IFREG) | entry.mode,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      mtime: new Date(0),
    };
    if (entry.data === null) pack.entry(header);
    else pack.entry(header, entry.data);
  }
  pack.finalize();
  await drained;
  return Buffer.concat(chunks);
}

/** Files and their parent directories, checked and sorted so a parent precedes its children. */
function tarEntries(files: LayerFile[]): TarEntry[] {
  const byName = new Map<string, TarEntry>();
  const directories = new Set<string>();
  for (const file of files) {
    checkPath(file.path);
    const mode = file.mode ?? 0o644;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) {
      throw new UsageError(`layer file ${file.path}: mode ${String(file.mode)} is not in 0..0o7777`);
    }
    if (byName.has(file.path)) throw new UsageError(`layer file ${file.path} is given twice`);
    byName.set(file.path, { name: file.path, data: file.data, mode });
    const segments = file.path.split('/');
    for (let i = 1; i < segments.length; i++) directories.add(segments.slice(0, i).join('/'));
  }
  for (const directory of directories) {
    if (byName.has(directory)) {
      throw new UsageError(`layer path ${directory} is both a file and the directory of another file`);
    }
    byName.set(directory, { name: directory, data: null, mode: 0o755 });
  }
  // A parent's path is a prefix of its children's, so plain code-unit order puts it first.
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function checkPath(p: string): void {
  const problem = p.startsWith('/')
    ? 'starts with /'
    : p.includes('\0')
      ? 'holds a NUL character'
      : p.split('/').some((s) => s === '' || s === '.' || s === '..')
        ? 'has an empty, . or .. segment'
        : undefined;
  if (problem !== undefined) {
    throw new UsageError(`layer path ${JSON.stringify(p)} ${problem}`, {
      hint: 'give paths relative to the image root, separated by /, e.g. usr/bin/tool',
    });
  }
}

/** A content descriptor (descriptor.md). */
interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

interface HistoryEntry {
  created?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
  [key: string]: unknown;
}

/** The image config (config.md), with the fields ccx sets typed and the rest kept as read. */
interface ImageConfig {
  architecture: string;
  os: string;
  config?: Record<string, unknown>;
  rootfs: { type: 'layers'; diff_ids: string[] };
  history?: HistoryEntry[];
  [key: string]: unknown;
}

/** The base image, as read from its layout. */
interface BaseImage {
  dir: string;
  layers: Descriptor[];
  diffIds: string[];
  config: ImageConfig;
}

/**
 * Writes an image of `base`'s layers (if any) and then `layers` into the OCI image layout
 * `dir`, tagged `refName` in its `index.json`. The same inputs give byte-identical blobs and
 * digests. Base blobs are hard-linked where the filesystem allows, copied otherwise.
 *
 * Safe to interrupt: every blob is written under a temporary name in `dir` and renamed into
 * `blobs/sha256/`, and `index.json`, which alone makes an image visible, is replaced last, the
 * same way. An interrupted write leaves the previous layout readable plus at most unreferenced
 * blobs and a `.ccx-tmp-*` directory.
 *
 * @throws UsageError when the image would have more than {@link MAX_LAYERS} layers, a layer
 *   file is invalid ({@link buildLayerBlob}), an env name or ref name is malformed, or the
 *   architecture/os given differ from the base's.
 * @throws OciLayoutError when `base` (or an existing layout in `dir`) is not an OCI image
 *   layout, holds malformed JSON, misses a blob, or `baseRef` names no image of it.
 */
export async function writeOciImage(options: WriteImageOptions): Promise<WrittenImage> {
  const { dir, refName } = options;
  if (refName !== undefined && !REF_NAME.test(refName)) {
    throw new UsageError(`image ref name ${JSON.stringify(refName)} is not valid`, {
      hint: 'use letters and digits, separated by one of - . _ : @ + / (e.g. latest, v1.2)',
    });
  }
  const base = options.base === undefined ? undefined : await readBaseImage(options.base, options.baseRef);
  const total = (base?.layers.length ?? 0) + options.layers.length;
  if (total > MAX_LAYERS) {
    throw new UsageError(
      `the image would have ${total} layers${base ? ` (${base.layers.length} from the base)` : ''}, more than the ${MAX_LAYERS} allowed`,
      { hint: 'merge some layers: put the files of several layers into one' },
    );
  }
  // Checked before anything is written, so a bad request leaves the directory as it was.
  for (const layer of options.layers) tarEntries(layer.files);
  const imageConfig = mergeConfig(options.config, base, options.layers);
  const previousIndex = await readExistingIndex(dir);

  const blobDir = path.join(dir, 'blobs', 'sha256');
  await fs.mkdir(blobDir, { recursive: true });
  const tmpDir = await fs.mkdtemp(path.join(dir, '.ccx-tmp-'));
  try {
    const layers: WrittenLayer[] = [];
    const descriptors: Descriptor[] = [];
    if (base !== undefined) {
      for (const [i, layer] of base.layers.entries()) {
        await linkBlob(base.dir, dir, tmpDir, layer);
        descriptors.push({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
        layers.push({ digest: layer.digest, diffId: base.diffIds[i]!, size: layer.size });
      }
    }
    for (const input of options.layers) {
      // One layer in memory at a time: a layer may hold tens of MB.
      const { blob, digest, diffId } = await buildLayerBlob(input);
      await putBlob(dir, tmpDir, digest, blob);
      descriptors.push({ mediaType: OCI_MEDIA_TYPES.layerTarGzip, digest, size: blob.length });
      layers.push({ digest, diffId, size: blob.length });
    }
    imageConfig.rootfs.diff_ids = layers.map((l) => l.diffId);

    const configBytes = Buffer.from(JSON.stringify(imageConfig));
    const configDigest = sha256(configBytes);
    await putBlob(dir, tmpDir, configDigest, configBytes);
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MEDIA_TYPES.manifest,
      config: { mediaType: OCI_MEDIA_TYPES.config, digest: configDigest, size: configBytes.length },
      layers: descriptors,
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256(manifestBytes);
    await putBlob(dir, tmpDir, manifestDigest, manifestBytes);

    const entry: Descriptor = {
      mediaType: OCI_MEDIA_TYPES.manifest,
      digest: manifestDigest,
      size: manifestBytes.length,
      ...(refName === undefined ? {} : { annotations: { [REF_NAME_ANNOTATION]: refName } }),
    };
    const kept = previousIndex.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] !== refName);
    const index = { schemaVersion: 2, mediaType: OCI_MEDIA_TYPES.index, manifests: [...kept, entry] };
    await putFile(path.join(dir, 'oci-layout'), tmpDir, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await putFile(path.join(dir, 'index.json'), tmpDir, JSON.stringify(index));
    return { manifestDigest, configDigest, layers };
  } finally {
    await fs.rm(tmpDir, { recursive: true, force: true });
  }
}

/** The config of the new image: the base's, with ours merged over it; diff_ids filled in later. */
function mergeConfig(
  input: ImageConfigInput,
  base: BaseImage | undefined,
  layers: LayerInput[],
): ImageConfig {
  const architecture =
    input.architecture ?? base?.config.architecture ?? OCI_ARCH[process.arch] ?? process.arch;
  const os = input.os ?? base?.config.os ?? 'linux';
  if (base !== undefined && (architecture !== base.config.architecture || os !== base.config.os)) {
    throw new UsageError(
      `the image is for ${os}/${architecture} but its base ${base.dir} is for ${base.config.os}/${base.config.architecture}`,
      { hint: 'leave architecture and os out to inherit the base’s' },
    );
  }
  // Fields ccx does not set (User, ExposedPorts, StopSignal, ...) are kept as the base has them.
  const exec: Record<string, unknown> = { ...base?.config.config };
  const baseEnv = Array.isArray(exec.Env) ? exec.Env.filter((e): e is string => typeof e === 'string') : [];
  const env = mergeEnv(baseEnv, input.env ?? {});
  if (env.length > 0) exec.Env = env;
  if (input.entrypoint !== undefined) {
    exec.Entrypoint = input.entrypoint;
    // The base's Cmd were arguments for the base's entrypoint, meaningless to a new one.
    if (input.cmd === undefined) delete exec.Cmd;
  }
  if (input.cmd !== undefined) exec.Cmd = input.cmd;
  if (input.workingDir !== undefined) exec.WorkingDir = input.workingDir;
  if (input.labels !== undefined) {
    const labels: Record<string, string> = isRecord(exec.Labels)
      ? { ...(exec.Labels as Record<string, string>) }
      : {};
    for (const key of Object.keys(input.labels).sort()) labels[key] = input.labels[key]!;
    if (Object.keys(labels).length > 0) exec.Labels = labels;
  }

  const history: HistoryEntry[] = base === undefined ? [] : baseHistory(base);
  for (const layer of layers) {
    const count = layer.files.length;
    history.push({
      created: FIXED_CREATED,
      created_by: `ccx: layer of ${count} file${count === 1 ? '' : 's'}`,
      ...(layer.comment === undefined ? {} : { comment: layer.comment }),
    });
  }
  const variant = base?.config.variant;
  return {
    created: FIXED_CREATED,
    architecture,
    os,
    ...(variant === undefined ? {} : { variant }),
    ...(Object.keys(exec).length === 0 ? {} : { config: exec }),
    rootfs: { type: 'layers', diff_ids: [] },
    history,
  };
}

/** `NAME=value` entries: the base's in their order with ours replacing theirs, then our new ones by name. */
function mergeEnv(baseEnv: string[], ours: Record<string, string>): string[] {
  for (const name of Object.keys(ours)) {
    if (name === '' || name.includes('=') || name.includes('\0')) {
      throw new UsageError(`environment variable name ${JSON.stringify(name)} is not valid`);
    }
  }
  const seen = new Set<string>();
  const merged = baseEnv.map((entry) => {
    const name = entry.split('=', 1)[0]!;
    seen.add(name);
    return Object.hasOwn(ours, name) ? `${name}=${ours[name]}` : entry;
  });
  for (const name of Object.keys(ours).sort()) if (!seen.has(name)) merged.push(`${name}=${ours[name]}`);
  return merged;
}

/** The base's history, or one entry per base layer when its history does not match its layers. */
function baseHistory(base: BaseImage): HistoryEntry[] {
  const history = base.config.history ?? [];
  if (history.filter((h) => h.empty_layer !== true).length === base.layers.length) return [...history];
  return base.layers.map(() => ({ created: FIXED_CREATED, created_by: 'ccx: base layer' }));
}

/**
 * Reads the image of the layout in `dir`: index.json -> manifest -> config, checking the
 * manifest's and config's digests and that every layer blob is there with its size.
 */
async function readBaseImage(dir: string, ref: string | undefined): Promise<BaseImage> {
  const layoutFile = await readJson(path.join(dir, 'oci-layout'), dir, 'its oci-layout file');
  if (!isRecord(layoutFile) || typeof layoutFile.imageLayoutVersion !== 'string') {
    throw malformed(dir, 'its oci-layout file has no imageLayoutVersion');
  }
  const index = await readJson(path.join(dir, 'index.json'), dir, 'its index.json');
  const manifests = isRecord(index) && Array.isArray(index.manifests) ? index.manifests : undefined;
  if (manifests === undefined || !manifests.every(isDescriptor)) {
    throw malformed(dir, 'its index.json has no valid manifests list');
  }
  const candidates =
    ref === undefined ? manifests : manifests.filter((d) => d.annotations?.[REF_NAME_ANNOTATION] === ref);
  if (candidates.length !== 1) {
    const names = manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION] ?? '(unnamed)').join(', ');
    throw new OciLayoutError(
      ref === undefined
        ? `the base layout ${dir} holds ${manifests.length} images, not one`
        : `the base layout ${dir} has no single image named ${ref}`,
      { hint: manifests.length > 0 ? `pick one by its ref name: ${names}` : LAYOUT_HINT },
    );
  }
  const manifestDescriptor = candidates[0]!;
  if (manifestDescriptor.mediaType !== OCI_MEDIA_TYPES.manifest) {
    throw new OciLayoutError(
      `the base image in ${dir} is a ${manifestDescriptor.mediaType}, not an OCI image manifest`,
      { hint: 'copy a single-platform image into the layout, e.g. skopeo copy --override-arch amd64' },
    );
  }
  const manifest = await readBlobJson(dir, manifestDescriptor, 'manifest');
  if (
    !isRecord(manifest) ||
    !isDescriptor(manifest.config) ||
    !Array.isArray(manifest.layers) ||
    !manifest.layers.every(isDescriptor)
  ) {
    throw malformed(dir, `its manifest ${manifestDescriptor.digest} lacks a config or layers`);
  }
  const config = await readBlobJson(dir, manifest.config, 'config');
  const rootfs = isRecord(config) ? config.rootfs : undefined;
  const diffIds = isRecord(rootfs) && Array.isArray(rootfs.diff_ids) ? (rootfs.diff_ids as unknown[]) : [];
  if (
    !isRecord(config) ||
    typeof config.architecture !== 'string' ||
    typeof config.os !== 'string' ||
    diffIds.length !== manifest.layers.length ||
    !diffIds.every((d) => typeof d === 'string')
  ) {
    throw malformed(
      dir,
      `its config ${manifest.config.digest} lacks architecture, os or one diff_id per layer`,
    );
  }
  for (const layer of manifest.layers) {
    const file = blobFile(dir, layer.digest);
    const size = await fs.stat(file).then(
      (s) => s.size,
      () => undefined,
    );
    if (size !== layer.size) {
      throw malformed(
        dir,
        size === undefined
          ? `its layer blob ${layer.digest} is missing`
          : `its layer blob ${layer.digest} has ${size} bytes, not ${layer.size}`,
      );
    }
  }
  return {
    dir,
    layers: manifest.layers,
    diffIds: diffIds as string[],
    config: {
      ...config,
      history: Array.isArray(config.history)
        ? (config.history.filter(isRecord) as HistoryEntry[])
        : undefined,
    } as ImageConfig,
  };
}

/** The manifests listed by an existing layout in `dir`, or none when `dir` holds no index.json yet. */
async function readExistingIndex(dir: string): Promise<Descriptor[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, 'index.json'), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new OciLayoutError(`cannot read ${path.join(dir, 'index.json')}`, { cause });
  }
  const index = parseJson(text, dir, 'its index.json');
  const manifests = isRecord(index) && Array.isArray(index.manifests) ? index.manifests : undefined;
  if (manifests === undefined || !manifests.every(isDescriptor)) {
    throw malformed(
      dir,
      'its index.json has no valid manifests list',
      'remove the directory or write elsewhere',
    );
  }
  return manifests;
}

async function readBlobJson(dir: string, descriptor: Descriptor, what: string): Promise<unknown> {
  const file = blobFile(dir, descriptor.digest);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (cause) {
    throw malformed(dir, `its ${what} blob ${descriptor.digest} cannot be read`, LAYOUT_HINT, cause);
  }
  if (sha256(bytes) !== descriptor.digest) {
    throw malformed(dir, `its ${what} blob ${descriptor.digest} does not match its digest`);
  }
  return parseJson(bytes.toString('utf8'), dir, `its ${what} ${descriptor.digest}`);
}

async function readJson(file: string, dir: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (cause) {
    throw new OciLayoutError(`${dir} is not an OCI image layout: ${what} cannot be read`, {
      cause,
      hint: LAYOUT_HINT,
    });
  }
  return parseJson(text, dir, what);
}

function parseJson(text: string, dir: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw malformed(dir, `${what} is not valid JSON`, LAYOUT_HINT, cause);
  }
}

function malformed(dir: string, detail: string, hint = LAYOUT_HINT, cause?: unknown): OciLayoutError {
  return new OciLayoutError(`the OCI image layout ${dir} is malformed: ${detail}`, { hint, cause });
}

/** `dir/blobs/sha256/<hex>`; only sha256 digests are supported (the only ones ccx writes). */
function blobFile(dir: string, digest: string): string {
  const hex = SHA256_DIGEST.exec(digest)?.[1];
  if (hex === undefined) throw malformed(dir, `digest ${digest} is not a sha256 digest`);
  return path.join(dir, 'blobs', 'sha256', hex);
}

/** Writes a blob unless the layout already has it; through a temporary file and a rename. */
async function putBlob(dir: string, tmpDir: string, digest: string, data: Buffer): Promise<void> {
  const target = blobFile(dir, digest);
  if (await hasSize(target, data.length)) return;
  await putFile(target, tmpDir, data);
}

/** Puts a base layer blob into the layout: a hard link when possible, else a copy and a rename. */
async function linkBlob(fromDir: string, toDir: string, tmpDir: string, layer: Descriptor): Promise<void> {
  const source = blobFile(fromDir, layer.digest);
  const target = blobFile(toDir, layer.digest);
  if (await hasSize(target, layer.size)) return;
  const temporary = path.join(tmpDir, path.basename(target));
  try {
    await fs.link(source, temporary);
  } catch {
    // Another filesystem (EXDEV) or one without hard links: copy instead.
    await fs.copyFile(source, temporary);
  }
  await fs.rename(temporary, target);
}

/** Writes `data` to a temporary file in `tmpDir`, flushes it, and renames it to `target`. */
async function putFile(target: string, tmpDir: string, data: Buffer | string): Promise<void> {
  const temporary = path.join(tmpDir, `${path.basename(target)}.partial`);
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(data);
    // Flushed before the rename, so a crash cannot leave a final name on incomplete data.
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, target);
}

async function hasSize(file: string, size: number): Promise<boolean> {
  return fs.stat(file).then(
    (s) => s.isFile() && s.size === size,
    () => false,
  );
}

function isDescriptor(value: unknown): value is Descriptor {
  return (
    isRecord(value) &&
    typeof value.mediaType === 'string' &&
    typeof value.digest === 'string' &&
    typeof value.size === 'number' &&
    (value.annotations === undefined || isRecord(value.annotations))
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
