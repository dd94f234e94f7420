/**
 * Assembling an environment's files from the store: each file of the slice plan (slice.ts)
 * re-assembled from its stored bytes with only its kept chunks, the `package.json` files that
 * govern them (module type, `exports`, `main`), and the external npm packages the kept chunks
 * import, copied whole from the root's `node_modules` with their own dependencies. Python
 * imports from outside the root are left to the runtime and listed as requirements.
 *
 * The files are grouped into units: one per source file version and one per npm package version.
 * Units are what layers are made of (layers.ts): a unit is either wholly in a layer or not.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { SourceAnalyzer } from '../chunking/analyze.js';
import { loadAnalyses, type SnapshotContent } from '../chunking/snapshot.js';
import type { Manifest } from '../manifest.js';
import type { ChunkStore } from '../store/store.js';
import { planSlice, type SlicePlan, sliceSource } from './slice.js';

/** One file of an environment: a path relative to the environment's root, bytes and mode. */
export interface EnvFile {
  path: string;
  data: Buffer;
  /** Unix permission bits: 0o644, or 0o755 for an executable. */
  mode: number;
}

/** Files that go into layers together. */
export interface EnvUnit {
  /**
   * `src:<path>:<sha256 of the bytes>`, `npm:<name>@<version>:<dir>`, `cfg:<path>:<sha256>` (a
   * package.json) or `dat:<path>:<sha256>` (a file ccx does not index that a held file imports,
   * such as `require('./data.json')`, or one of a data directory).
   */
  key: string;
  kind: 'source' | 'package' | 'config' | 'data';
  files: EnvFile[];
  bytes: number;
}

/** An assembled environment, before it is written anywhere. */
export interface AssembledEnvironment {
  plan: SlicePlan;
  /** Sorted by key. */
  units: EnvUnit[];
  /** Files held whole because their slice did not parse, with the parser's reason. */
  keptWhole: Array<{ path: string; reason: string }>;
  /** External packages: npm ones copied (name@version), Python modules left to the runtime. */
  externals: { npm: string[]; python: string[]; missing: string[] };
  /** Languages of the files held (decides the runtime). */
  languages: string[];
  /** Bytes of all files. */
  bytes: number;
  /** sha256 over the units' keys: equal content, equal digest. */
  digest: string;
}

const analyzer = new SourceAnalyzer();
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function modeOf(file: string): number {
  try {
    return (statSync(file).mode & 0o111) !== 0 ? 0o755 : 0o644;
  } catch {
    return 0o644;
  }
}

/** Every regular file under `dir` (symlinks followed once, nested node_modules left out). */
function packageFiles(dir: string, base: string): EnvFile[] {
  const out: EnvFile[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.name === 'node_modules') continue;
      let stat = lstatSync(full);
      if (stat.isSymbolicLink()) {
        try {
          stat = statSync(full);
        } catch {
          continue;
        }
      }
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile())
        out.push({
          path: path.posix.join(base, path.relative(dir, full).split(path.sep).join('/')),
          data: readFileSync(full),
          mode: (stat.mode & 0o111) !== 0 ? 0o755 : 0o644,
        });
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Directories never copied as data: version control, ccx's own store, caches, the root's node_modules. */
const NOT_DATA = new Set(['node_modules', '.git', '.hg', '.svn', '.ccx', '__pycache__']);

/** Files under `dir` (relative to the root), root-relative, dependency and VCS directories left out. */
function filesUnder(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      // The root's node_modules are packages (held as such); one deeper is a fixture.
      if (NOT_DATA.has(e.name) && (e.name !== 'node_modules' || rel === '' || rel === '.')) continue;
      const child = rel === '' || rel === '.' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(child);
      else if (e.isFile()) out.push(child);
    }
  };
  walk(dir);
  return out.sort();
}

/** The package name of an import specifier (`@scope/name/sub` -> `@scope/name`). */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * npm packages and their dependencies as Node resolves them from `fromDir` up to `root`
 * (`node_modules` of each directory on the way), each copied whole.
 */
function npmUnits(
  root: string,
  names: Iterable<string>,
): { units: EnvUnit[]; found: string[]; missing: string[] } {
  const units = new Map<string, EnvUnit>();
  const missing: string[] = [];
  const seenDirs = new Set<string>();
  const find = (name: string, fromDir: string): string | undefined => {
    let dir = fromDir;
    for (;;) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
      if (dir === root || path.dirname(dir) === dir) return undefined;
      dir = path.dirname(dir);
    }
  };
  const queue: Array<[name: string, fromDir: string]> = [...names].map((n) => [n, root]);
  while (queue.length > 0) {
    const [name, fromDir] = queue.shift()!;
    const dir = find(name, fromDir);
    if (dir === undefined) {
      if (fromDir === root) missing.push(name);
      continue;
    }
    const real = realpathSync(dir);
    if (seenDirs.has(real)) continue;
    seenDirs.add(real);
    let manifest: {
      version?: string;
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    try {
      manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    } catch {
      manifest = {};
    }
    const rel = path.relative(root, dir).split(path.sep).join('/');
    const files = packageFiles(real, rel);
    const key = `npm:${rel.replace(/^(.*\/)?node_modules\//, '')}@${manifest.version ?? '0.0.0'}:${rel}`;
    units.set(key, { key, kind: 'package', files, bytes: files.reduce((n, f) => n + f.data.length, 0) });
    for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      queue.push([dep, dir]);
  }
  return { units: [...units.values()], found: [...units.keys()].map((k) => k.split(':')[1]!), missing };
}

/**
 * Assembles the environment holding `seeds` from the root's snapshot.
 * @param input.wholeFiles files to hold whole (after a failed check)
 * @throws StoreError when the store lacks a file or analysis the snapshot names
 */
export async function assembleEnvironment(input: {
  store: ChunkStore;
  root: string;
  content: SnapshotContent;
  manifest: Manifest;
  seeds: Iterable<string>;
  wholeFiles?: ReadonlySet<string>;
  /**
   * Directories (relative to the root) whose every file goes in whole: what a run reads at run
   * time (test fixtures, data), added when a check fails for want of them.
   */
  dataDirs?: readonly string[];
}): Promise<AssembledEnvironment> {
  const { store, root, content, manifest } = input;
  const byPath = new Map(content.files.map((f) => [f.path, f]));
  const inDataDirs = (input.dataDirs ?? []).flatMap((d) => filesUnder(root, d));
  const indexedData = new Set(inDataDirs.filter((f) => byPath.has(f) && byPath.get(f)!.status !== 'skipped'));
  const plan = planSlice(
    manifest,
    [...input.seeds, ...manifest.chunks.filter((c) => indexedData.has(c.file)).map((c) => c.id)],
    { wholeFiles: new Set([...(input.wholeFiles ?? []), ...indexedData]) },
  );
  const planned = plan.files.map((f) => byPath.get(f.path)!).filter((f) => f !== undefined);
  const analyses = await loadAnalyses(
    store,
    content.analyzerVersion,
    planned.filter((f) => f.status !== 'skipped'),
  );
  const units: EnvUnit[] = [];
  const keptWhole: AssembledEnvironment['keptWhole'] = [];
  const languages = new Set<string>();
  const externals = new Set<string>();
  const python = new Set<string>();
  const chunkById = new Map(manifest.chunks.map((c) => [c.id, c]));
  for (const id of plan.chunks) {
    const c = chunkById.get(id);
    if (c === undefined) continue;
    for (const e of c.externalDeps) {
      if (c.language === 'python') python.add(e.split('.')[0]!);
      else if (!NODE_BUILTINS.has(e) && c.language !== 'go') externals.add(packageName(e));
    }
  }
  for (const f of plan.files) {
    const file = byPath.get(f.path);
    if (file === undefined) continue;
    languages.add(file.language);
    let data = await store.readFileBytes(file.sha256);
    const analysis = analyses.get(f.path);
    if (!f.whole && analysis !== undefined) {
      const sliced = sliceSource(data, analysis, new Set(f.keep), file.language);
      // A slice must still parse; if not, the file goes whole and the caller is told why.
      const bom = sliced[0] === 0xef && sliced[1] === 0xbb && sliced[2] === 0xbf ? 3 : 0;
      const check = await analyzer.analyze(
        sliced.subarray(bom).toString('utf8'),
        file.language,
        bom,
        sliced.length,
      );
      if (check.status === 'ok' || analysis.status !== 'ok') data = sliced;
      else keptWhole.push({ path: f.path, reason: check.reason ?? 'the slice does not parse' });
    }
    units.push({
      key: `src:${f.path}:${sha256(data)}`,
      kind: 'source',
      files: [{ path: f.path, data, mode: modeOf(path.join(root, f.path)) }],
      bytes: data.length,
    });
  }
  // The package.json files that govern the files held: each directory's up to the root.
  const configs = new Set<string>();
  for (const f of plan.files) {
    if (!/\.(c|m)?[jt]sx?$/.test(f.path)) continue;
    let dir = path.posix.dirname(f.path);
    for (;;) {
      const rel = dir === '.' ? 'package.json' : `${dir}/package.json`;
      if (existsSync(path.join(root, rel))) configs.add(rel);
      if (dir === '.') break;
      dir = path.posix.dirname(dir);
    }
  }
  for (const rel of [...configs].sort()) {
    const data = readFileSync(path.join(root, rel));
    units.push({
      key: `cfg:${rel}:${sha256(data)}`,
      kind: 'config',
      files: [{ path: rel, data, mode: 0o644 }],
      bytes: data.length,
    });
  }
  // Files ccx does not index that held files import by a relative specifier (JSON, native addons).
  const data = new Set<string>();
  for (const f of plan.files) {
    const analysis = analyses.get(f.path);
    if (analysis === undefined || !/\.(c|m)?[jt]sx?$/.test(f.path)) continue;
    for (const imp of analysis.imports) {
      if (!imp.specifier.startsWith('./') && !imp.specifier.startsWith('../')) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(f.path), imp.specifier));
      if (target.startsWith('..')) continue;
      for (const candidate of [target, `${target}.json`, `${target}.node`]) {
        if (byPath.has(candidate)) break;
        const full = path.join(root, candidate);
        if (existsSync(full) && statSync(full).isFile()) {
          data.add(candidate);
          break;
        }
      }
    }
  }
  for (const rel of inDataDirs) if (!indexedData.has(rel)) data.add(rel);
  // A file already held as a source or a package.json is not held twice.
  const placed = new Set(units.flatMap((u) => u.files.map((f) => f.path)));
  for (const rel of [...data].sort()) {
    if (placed.has(rel)) continue;
    const bytes = readFileSync(path.join(root, rel));
    units.push({
      key: `dat:${rel}:${sha256(bytes)}`,
      kind: 'data',
      files: [{ path: rel, data: bytes, mode: modeOf(path.join(root, rel)) }],
      bytes: bytes.length,
    });
  }
  const npm = npmUnits(root, [...externals].sort());
  units.push(...npm.units);
  units.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    plan,
    units,
    keptWhole,
    externals: { npm: npm.found.sort(), python: [...python].sort(), missing: npm.missing.sort() },
    languages: [...languages].sort(),
    bytes: units.reduce((n, u) => n + u.bytes, 0),
    digest: sha256(units.map((u) => u.key).join('\n')),
  };
}
