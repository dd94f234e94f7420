/**
 * What git knows about files: the author and date of the last commit that touched each one.
 */

/** The last commit touching a file, as git records it. */
export interface GitFileInfo {
  /** Author name (`%an`, not mapped through .mailmap) of the last commit touching the file. */
  creator: string;
  /** ISO 8601 author date of that commit with its UTC offset (`%aI`), e.g. `2021-01-02T03:04:05+01:00`. */
  lastModified: string;
}

/** Options that keep a user's git configuration from changing what the parsers below read. */
const GIT_CONFIG = ['-c', 'core.quotepath=off', '-c', 'log.showSignature=false'];

/**
 * Last commit author and date for each of `paths` (relative to `root`, forward slashes), read from
 * the history of `revision` (default HEAD; a full commit id for a checked-out revision). Paths git does not know at HEAD (untracked, staged but not committed,
 * deleted) get no entry; so does every path outside a git work tree, in a repository without
 * commits, or when git is missing or fails. Never throws.
 *
 * Runs `git ls-tree` once, to learn which of the paths are in HEAD, then one `git log --name-only`
 * for the whole run, read as a stream and stopped as soon as every such path has been seen, so
 * the cost is the depth of history needed, not one process per file. Merge commits list no
 * files (no `-m`), so a file changed only while resolving a merge is dated by the commit before.
 * Commits are visited in git's default order (newest commit date first).
 */
export async function gitFileInfo(
  root: string,
  paths: string[],
  revision = 'HEAD',
): Promise<Map<string, GitFileInfo>> {
  const info = new Map<string, GitFileInfo>();
  if (paths.length === 0) return info;
  try {
    const wanted = await listPathsAt(root, paths, revision);
    if (wanted.size === 0) return info;
    await readLog(root, wanted, info, revision);
  } catch {
    // A git that cannot be run or that dies midway only means less history; callers go on without it.
  }
  return info;
}

/** Those of `paths` that are in the revision's tree, or an empty set when there is no such revision. */
async function listPathsAt(root: string, paths: string[], revision: string): Promise<Set<string>> {
  const { execa } = await import('execa');
  const result = await execa('git', [...GIT_CONFIG, 'ls-tree', '-r', '-z', '--name-only', revision], {
    cwd: root,
    reject: false,
    stdin: 'ignore',
    encoding: 'buffer',
    stripFinalNewline: false,
  });
  const wanted = new Set<string>();
  if (result.exitCode !== 0 || !(result.stdout instanceof Uint8Array)) return wanted;
  const asked = new Set(paths);
  // ls-tree run in a subdirectory lists that subdirectory only, relative to it: the paths asked for.
  for (const path of splitNul(
    Buffer.from(result.stdout.buffer, result.stdout.byteOffset, result.stdout.length),
  )) {
    if (asked.has(path)) wanted.add(path);
  }
  return wanted;
}

function splitNul(bytes: Buffer): string[] {
  const out: string[] = [];
  let start = 0;
  for (let end = bytes.indexOf(0, start); end !== -1; end = bytes.indexOf(0, start)) {
    if (end > start) out.push(bytes.toString('utf8', start, end));
    start = end + 1;
  }
  return out;
}

/**
 * Streams `git log` and records, for each path of `wanted`, the first (newest) commit naming it.
 *
 * With `-z` and the format `%x00%an%x00%aI`, each commit prints as `\0author\0date\0`, then,
 * when it touches files under the pathspec, `\nfile1\0file2\0…`. Split at NUL, an empty token
 * (file names are never empty) starts a commit, the next two are its author and date, and the
 * first file carries the newline that separates the header from the list.
 */
async function readLog(
  root: string,
  wanted: Set<string>,
  info: Map<string, GitFileInfo>,
  revision: string,
): Promise<void> {
  const { execa } = await import('execa');
  const subprocess = execa(
    'git',
    [
      ...GIT_CONFIG,
      'log',
      '--format=%x00%an%x00%aI',
      '--name-only',
      '-z',
      '--no-renames',
      '--no-color',
      // Paths relative to the working directory (root), not to the top of the work tree.
      '--relative',
      revision,
      '--',
      '.',
    ],
    { cwd: root, reject: false, buffer: false, stdin: 'ignore', stderr: 'ignore', encoding: 'buffer' },
  );

  let done = false;
  let pending: Buffer | undefined;
  // 0: expecting author, 1: expecting date, 2: first file (with its leading '\n'), 3: further files.
  let state = 3;
  let author = '';
  let date = '';
  let haveCommit = false;

  const onToken = (token: string): void => {
    switch (state) {
      case 0:
        author = token;
        state = 1;
        return;
      case 1:
        date = token;
        haveCommit = true;
        state = 2;
        return;
      default: {
        if (token === '') {
          state = 0;
          return;
        }
        const path = state === 2 && token.startsWith('\n') ? token.slice(1) : token;
        state = 3;
        if (haveCommit && wanted.has(path) && !info.has(path)) {
          info.set(path, { creator: author, lastModified: date });
          if (info.size === wanted.size) done = true;
        }
      }
    }
  };

  subprocess.stdout?.on('data', (chunk: Buffer) => {
    if (done) return;
    const bytes = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let start = 0;
    for (let end = bytes.indexOf(0, start); end !== -1 && !done; end = bytes.indexOf(0, start)) {
      onToken(bytes.toString('utf8', start, end));
      start = end + 1;
    }
    pending = start < bytes.length ? bytes.subarray(start) : undefined;
    if (done) subprocess.kill();
  });
  await subprocess;
}
