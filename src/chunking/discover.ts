/**
 * Finding the source files of a repository: which files below a root are chunked, in which
 * language, and which source files cannot be (symbolic links, FIFOs and the like) and why.
 *
 * Inside a git work tree git decides (tracked files plus untracked files that are not ignored);
 * elsewhere a directory walk applies every `.gitignore` below the root the way git would.
 */
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { lstat, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { UsageError } from '../errors.js';
import type { Language } from './types.js';

const LANGUAGE_BY_EXTENSION = new Map<string, Language>([
  ['.ts', 'typescript'],
  ['.mts', 'typescript'],
  ['.cts', 'typescript'],
  ['.tsx', 'tsx'],
  ['.js', 'javascript'],
  ['.mjs', 'javascript'],
  ['.cjs', 'javascript'],
  ['.jsx', 'javascript'],
  ['.py', 'python'],
  ['.go', 'go'],
]);

/**
 * The language of a file, from its extension (case-sensitive, as `path.extname` reads it: a
 * name that only starts with a dot, like `.ts`, has none): `.ts` `.mts` `.cts` (declaration
 * files `.d.ts` included) are `typescript`, `.tsx` is `tsx`, `.js` `.mjs` `.cjs` `.jsx` are
 * `javascript`, `.py` is `python`, `.go` is `go`; anything else is undefined.
 */
export function languageForPath(path: string): Language | undefined {
  const dot = path.lastIndexOf('.');
  if (dot <= path.lastIndexOf('/') + 1) return undefined;
  return LANGUAGE_BY_EXTENSION.get(path.slice(dot));
}

/** A source file to chunk. */
export interface SourceCandidate {
  /** Relative to the root, `/`-separated, e.g. `src/a.ts`. */
  path: string;
  /** Absolute path on disk. */
  absPath: string;
  language: Language;
}

/** A file with a source extension that is not chunked, and why. */
export interface SkippedFile {
  /** Relative to the root, `/`-separated. */
  path: string;
  language: Language;
  /** For a person, e.g. `symbolic link to a path outside the root`. */
  reason: string;
  /** Size of the file in bytes when it was read; 0 for what discovery skips (it reads no file). */
  bytes: number;
}

/** What {@link discoverFiles} found below a root. */
export interface Discovery {
  /** Sorted by path in the byte order of its UTF-8 encoding ({@link compareUtf8}). */
  candidates: SourceCandidate[];
  /**
   * Paths with a source extension that cannot be read as a regular file in the root (symbolic
   * links, FIFOs, sockets, devices, names that are not UTF-8), sorted like `candidates`.
   */
  skipped: SkippedFile[];
  /** Problems not tied to one source file (an unreadable directory, a git failure), for a person; sorted. */
  warnings: string[];
  /** Absolute path of the top of the git work tree containing the root, or null outside one. */
  gitWorkTree: string | null;
}

/**
 * Lists the source files below `root`.
 *
 * In a git work tree: the tracked files and the untracked files git does not ignore (one
 * `git ls-files --cached --others --exclude-standard` run in the root); tracked files missing on
 * disk are dropped. When git fails there, a warning says why and the directory walk is used. A
 * root inside a directory the work tree ignores, with nothing tracked below it, is walked as if
 * outside git (`gitWorkTree` null): git would list nothing there.
 * Elsewhere: a walk of the directory that honours every `.gitignore` file below the root, each
 * for its own subtree, deeper ones first (case-insensitively on macOS and Windows, as git's
 * default `core.ignorecase` there).
 *
 * Never listed: `.git` and `node_modules` directories at any depth, the store directory
 * (`storePath`, resolved against the working directory, when it lies inside the root), and files
 * whose language {@link languageForPath} does not know. Directory symbolic links are not
 * followed. A symbolic link with a source extension is skipped (its target, when inside the root,
 * is listed under its own path), as is anything with a source extension that is not a regular
 * file; no file is opened, so a FIFO cannot block.
 *
 * @throws UsageError when `root` is not a readable directory.
 */
export async function discoverFiles(root: string, options: { storePath?: string }): Promise<Discovery> {
  const rootAbs = path.resolve(root);
  const hint = 'pass the root of a repository or source tree that exists';
  let rootReal: string;
  try {
    rootReal = await realpath(rootAbs);
  } catch (error) {
    throw new UsageError(`cannot read the directory ${root} (${errorCode(error)})`, { hint, cause: error });
  }
  if (!(await stat(rootReal)).isDirectory()) throw new UsageError(`${root} is not a directory`, { hint });
  const ctx: Context = {
    rootAbs,
    rootReal,
    storeRel: await resolveStoreRelative(rootAbs, rootReal, options.storePath),
    ignoreCase: process.platform === 'darwin' || process.platform === 'win32',
    candidates: [],
    skipped: [],
    warnings: [],
    links: [],
  };

  let gitWorkTree = await findGitWorkTree(ctx);
  const listed = gitWorkTree === null ? 'failed' : await listWithGit(ctx);
  if (listed === 'ignored') gitWorkTree = null;
  if (listed !== 'listed') await walk(ctx);
  await resolveLinks(ctx);

  ctx.candidates.sort((a, b) => compareUtf8(a.path, b.path));
  ctx.skipped.sort((a, b) => compareUtf8(a.path, b.path));
  ctx.warnings.sort(compareUtf8);
  return { candidates: ctx.candidates, skipped: ctx.skipped, warnings: ctx.warnings, gitWorkTree };
}

/**
 * Compares two strings in the byte order of their UTF-8 encodings (which is code-point order),
 * without encoding them: UTF-16 code units already sort so, except that surrogates (characters
 * above U+FFFF) must come after U+E000..U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

interface Context {
  rootAbs: string;
  rootReal: string;
  /** The store directory relative to the root, `/`-separated, when it lies inside it. */
  storeRel: string | undefined;
  ignoreCase: boolean;
  candidates: SourceCandidate[];
  skipped: SkippedFile[];
  warnings: string[];
  /** Symbolic links with a source extension, classified once every candidate is known. */
  links: SourceCandidate[];
}

async function resolveStoreRelative(
  rootAbs: string,
  rootReal: string,
  storePath: string | undefined,
): Promise<string | undefined> {
  if (storePath === undefined || storePath === '') return undefined;
  const storeAbs = path.resolve(storePath);
  const pairs: [string, string][] = [
    [rootAbs, storeAbs],
    [rootReal, storeAbs],
  ];
  try {
    pairs.push([rootReal, await realpath(storeAbs)]);
  } catch {
    // A store not created yet has no real path; the lexical comparisons above cover it.
  }
  for (const [base, target] of pairs) {
    const rel = toPosix(path.relative(base, target));
    if (rel !== '' && rel !== '..' && !rel.startsWith('../') && !path.isAbsolute(rel)) return rel;
  }
  return undefined;
}

function toPosix(p: string): string {
  return path.sep === '/' ? p : p.split(path.sep).join('/');
}

function joinRel(dirRel: string, name: string): string {
  return dirRel === '' ? name : `${dirRel}/${name}`;
}

/** True for paths under `.git/`, `node_modules/` or the store, which are never listed. */
function isExcluded(ctx: Context, rel: string): boolean {
  if (ctx.storeRel !== undefined && rel.startsWith(`${ctx.storeRel}/`)) return true;
  for (const name of ['node_modules', '.git']) {
    if (rel.startsWith(`${name}/`) || rel.includes(`/${name}/`)) return true;
  }
  return false;
}

/** Files a dirent stands for: a candidate, a symbolic link to resolve later, or skipped. */
function classifyEntry(ctx: Context, rel: string, entry: Dirent, language: Language): void {
  if (rel.includes('\uFFFD')) {
    // Node decodes file names as UTF-8 and replaces bad bytes, so the name cannot be reopened.
    ctx.skipped.push({ path: rel, language, reason: 'file name is not valid UTF-8', bytes: 0 });
  } else if (entry.isFile()) {
    ctx.candidates.push({ path: rel, absPath: path.join(ctx.rootAbs, rel), language });
  } else if (entry.isSymbolicLink()) {
    ctx.links.push({ path: rel, absPath: path.join(ctx.rootAbs, rel), language });
  } else {
    ctx.skipped.push({ path: rel, language, reason: 'not a regular file', bytes: 0 });
  }
}

/** The top of the git work tree containing the root, or null (with a warning when git is broken). */
async function findGitWorkTree(ctx: Context): Promise<string | null> {
  // git finds its repository by looking for `.git` in the directory and its parents, unless
  // GIT_DIR or GIT_WORK_TREE say where it is: without either there is no work tree, and no
  // need to start git (or to load execa) at all.
  if (
    process.env.GIT_DIR === undefined &&
    process.env.GIT_WORK_TREE === undefined &&
    !(await hasGitDirectoryAbove(ctx.rootAbs))
  ) {
    return null;
  }
  const { execa } = await import('execa');
  const result = await execa('git', ['rev-parse', '--show-toplevel'], {
    cwd: ctx.rootAbs,
    reject: false,
    stdin: 'ignore',
  });
  // Old versions of git print nothing, successfully, outside a work tree (in a bare repository).
  if (result.exitCode === 0) return result.stdout === '' ? null : path.resolve(result.stdout);
  if (result.exitCode === undefined) {
    // No git to run: only worth saying if this looks like a repository.
    if (await hasGitDirectoryAbove(ctx.rootAbs)) {
      ctx.warnings.push(
        `${explainGitFailure(result)}; listing files by walking the directory (only .gitignore files apply)`,
      );
    }
  } else if (!/not a git repository/i.test(result.stderr)) {
    ctx.warnings.push(`${explainGitFailure(result)}; listing files by walking the directory`);
  }
  return null;
}

async function hasGitDirectoryAbove(dir: string): Promise<boolean> {
  for (;;) {
    try {
      await lstat(path.join(dir, '.git'));
      return true;
    } catch {
      const parent = path.dirname(dir);
      if (parent === dir) return false;
      dir = parent;
    }
  }
}

function explainGitFailure(result: {
  command: string;
  exitCode?: number;
  signal?: string;
  stderr?: unknown;
  shortMessage?: string;
  code?: string;
}): string {
  if (result.exitCode === undefined && result.signal === undefined) {
    return `could not run git (${result.code ?? result.shortMessage ?? 'unknown error'})`;
  }
  const stderr =
    result.stderr instanceof Uint8Array
      ? Buffer.from(result.stderr).toString('utf8')
      : String(result.stderr ?? '');
  const firstLine = stderr.split('\n').find((line) => line.trim() !== '') ?? '';
  const status = result.exitCode === undefined ? `signal ${result.signal}` : `exit code ${result.exitCode}`;
  return `${result.command} failed (${status}${firstLine === '' ? '' : `: ${firstLine.trim()}`})`;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Fills the context from `git ls-files`. Says `failed` (with a warning) when git fails, and
 * `ignored` when git lists nothing because the root lies in a directory the work tree ignores
 * (say a virtualenv or a toolchain inside a dotfiles repository); the caller then walks the
 * directory instead.
 */
async function listWithGit(ctx: Context): Promise<'listed' | 'failed' | 'ignored'> {
  const { execa } = await import('execa');
  const result = await execa(
    'git',
    [
      '-c',
      'core.quotepath=off',
      'ls-files',
      '-z',
      '--cached',
      '--others',
      '--exclude-standard',
      // Spares git listing an untracked, unignored node_modules that would be dropped anyway.
      '--exclude=node_modules/',
    ],
    { cwd: ctx.rootAbs, reject: false, stdin: 'ignore', encoding: 'buffer', stripFinalNewline: false },
  );
  if (result.exitCode !== 0 || !(result.stdout instanceof Uint8Array)) {
    ctx.warnings.push(`${explainGitFailure(result)}; listing files by walking the directory instead`);
    return 'failed';
  }

  const stdout = result.stdout;
  if (stdout.length === 0 && (await isIgnoredByGit(ctx.rootAbs))) return 'ignored';
  // Source paths grouped by directory, so one readdir per directory tells each file's type.
  const byDirectory = new Map<string, Map<string, Language>>();
  let start = 0;
  for (let end = stdout.indexOf(0, start); end !== -1; end = stdout.indexOf(0, start)) {
    const bytes = stdout.subarray(start, end);
    start = end + 1;
    let rel: string;
    try {
      rel = strictUtf8.decode(bytes);
    } catch {
      rel = Buffer.from(bytes).toString('utf8');
      const language = languageForPath(rel);
      if (language !== undefined && !isExcluded(ctx, rel)) {
        ctx.skipped.push({ path: rel, language, reason: 'file name is not valid UTF-8', bytes: 0 });
      }
      continue;
    }
    const language = languageForPath(rel);
    if (language === undefined || isExcluded(ctx, rel)) continue;
    const slash = rel.lastIndexOf('/');
    const dir = slash === -1 ? '' : rel.slice(0, slash);
    let names = byDirectory.get(dir);
    if (names === undefined) {
      names = new Map();
      byDirectory.set(dir, names);
    }
    // A conflicted file is listed once per stage; the map keeps one.
    names.set(slash === -1 ? rel : rel.slice(slash + 1), language);
  }

  // Synchronous reads, as in the walk (see there).
  let visited = 0;
  for (const [dir, names] of byDirectory) {
    if (++visited % DIRECTORIES_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
    let entries: Dirent[];
    try {
      entries = readdirSync(path.join(ctx.rootAbs, dir), { withFileTypes: true });
    } catch (error) {
      const code = errorCode(error);
      // A directory of tracked files deleted from disk: its files are gone, nothing to say.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        ctx.warnings.push(`cannot read directory ${dir === '' ? '.' : dir} (${code})`);
      }
      continue;
    }
    for (const entry of entries) {
      const language = names.get(entry.name);
      if (language !== undefined) classifyEntry(ctx, joinRel(dir, entry.name), entry, language);
    }
  }
  return 'listed';
}

/** Whether git ignores the directory `dir` (its own work tree top never is). */
async function isIgnoredByGit(dir: string): Promise<boolean> {
  const { execa } = await import('execa');
  const result = await execa('git', ['check-ignore', '-q', '.'], {
    cwd: dir,
    reject: false,
    stdin: 'ignore',
  });
  return result.exitCode === 0;
}

/** One `.gitignore`: the directory it sits in (relative to the root) and its rules. */
interface IgnoreLayer {
  base: string;
  rules: Ignore;
}

/**
 * Whether `rel` (a file, or a directory with a trailing `/`) is ignored. As in git, the deepest
 * `.gitignore` with a rule matching the path decides; ignored directories are never entered, so
 * nothing below one can be re-included.
 */
function isIgnored(layers: IgnoreLayer[], rel: string): boolean {
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const result = layer.rules.test(layer.base === '' ? rel : rel.slice(layer.base.length + 1));
    if (result.ignored) return true;
    if (result.unignored) return false;
  }
  return false;
}

/** Directories read between two yields to the event loop during a walk. */
const DIRECTORIES_PER_YIELD = 256;

interface PendingDirectory {
  dirRel: string;
  dirAbs: string;
  layers: IgnoreLayer[];
}

/**
 * Walks the tree below the root. Reads are synchronous: on a tree of thousands of directories
 * that is about twice as fast as `fs/promises` (no thread-pool round trip per directory); the
 * walk yields to the event loop now and then so that a spinner keeps turning.
 */
async function walk(ctx: Context): Promise<void> {
  const stack: PendingDirectory[] = [{ dirRel: '', dirAbs: ctx.rootAbs, layers: [] }];
  for (let visited = 1; stack.length > 0; visited++) {
    if (visited % DIRECTORIES_PER_YIELD === 0) await new Promise((resolve) => setImmediate(resolve));
    readDirectory(ctx, stack.pop()!, stack);
  }
}

function readDirectory(ctx: Context, directory: PendingDirectory, stack: PendingDirectory[]): void {
  const { dirRel, dirAbs } = directory;
  let { layers } = directory;
  let entries: Dirent[];
  try {
    entries = readdirSync(dirAbs, { withFileTypes: true });
  } catch (error) {
    ctx.warnings.push(`cannot read directory ${dirRel === '' ? '.' : dirRel} (${errorCode(error)})`);
    return;
  }

  // Git reads a .gitignore only when it is a regular file, never through a symbolic link.
  if (entries.some((entry) => entry.name === '.gitignore' && entry.isFile())) {
    try {
      const text = readFileSync(path.join(dirAbs, '.gitignore'), 'utf8');
      layers = [...layers, { base: dirRel, rules: ignore({ ignorecase: ctx.ignoreCase }).add(text) }];
    } catch (error) {
      ctx.warnings.push(
        `cannot read ${joinRel(dirRel, '.gitignore')} (${errorCode(error)}); its rules are not applied`,
      );
    }
  }

  for (const entry of entries) {
    const name = entry.name;
    const rel = joinRel(dirRel, name);
    if (entry.isDirectory()) {
      if (name === '.git' || name === 'node_modules' || rel === ctx.storeRel) continue;
      if (isIgnored(layers, `${rel}/`)) continue;
      stack.push({ dirRel: rel, dirAbs: path.join(dirAbs, name), layers });
      continue;
    }
    const language = languageForPath(name);
    if (language === undefined || isIgnored(layers, rel)) continue;
    classifyEntry(ctx, rel, entry, language);
  }
}

/** Classifies each symbolic link with a source extension by where it leads; all are skipped. */
async function resolveLinks(ctx: Context): Promise<void> {
  if (ctx.links.length === 0) return;
  const indexed = new Set(ctx.candidates.map((candidate) => candidate.path));
  await Promise.all(
    ctx.links.map(async (link) => {
      const reason = await explainLink(ctx, link.absPath, indexed);
      ctx.skipped.push({ path: link.path, language: link.language, reason, bytes: 0 });
    }),
  );
}

async function explainLink(ctx: Context, absPath: string, indexed: Set<string>): Promise<string> {
  let target: string;
  try {
    target = await realpath(absPath);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ELOOP') return 'symbolic link loop';
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'symbolic link to a missing file';
    return `symbolic link that cannot be followed (${code})`;
  }
  const rel = toPosix(path.relative(ctx.rootReal, target));
  if (rel === '..' || rel.startsWith('../') || path.isAbsolute(rel)) {
    return 'symbolic link to a path outside the root';
  }
  if (rel === '') return 'symbolic link to the root directory';
  if (indexed.has(rel)) return `symbolic link to ${rel}, which is indexed under its own path`;
  return `symbolic link to ${rel}, which is not indexed`;
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') {
    return error.code;
  }
  return error instanceof Error ? error.message : String(error);
}
