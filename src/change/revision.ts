/**
 * Git revisions as directories: a revision is checked out into a temporary directory through a
 * temporary index file, so that the user's working tree, index and worktree list are never
 * touched (`git read-tree` + `git checkout-index --all --prefix`, with `GIT_INDEX_FILE`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chunk } from '../chunking/chunk.js';
import { UsageError } from '../errors.js';

/** A revision checked out for reading. */
export interface RevisionCheckout {
  /** The revision as given. */
  revision: string;
  /** Full commit id it names. */
  commit: string;
  /** The directory to chunk: the checkout's counterpart of the directory given. */
  root: string;
  /** A stable name to record the tree under in the store: `git:<top>@<commit>[:<subdir>]`. */
  recordAs: string;
  /** The directory given, absolute: git history for the checkout's files is read there. */
  historyDir: string;
  /** Removes the checkout. */
  dispose(): Promise<void>;
}

async function git(cwd: string, args: string[], env: Record<string, string> = {}) {
  const { execa } = await import('execa');
  return execa('git', args, { cwd, reject: false, stdin: 'ignore', env: { ...env, LC_ALL: 'C' } });
}

/** The top of the work tree holding `dir` and `dir`'s path below it (`''` at the top, else ending in `/`). */
export async function findWorkTree(dir: string): Promise<{ top: string; prefix: string }> {
  const result = await git(dir, ['rev-parse', '--show-toplevel', '--show-prefix']);
  if (result.exitCode !== 0) {
    const why = result.exitCode === undefined ? 'git cannot be run' : String(result.stderr).trim();
    throw new UsageError(`${dir} is not in a git work tree (${why})`, {
      hint: 'give snapshot ids or directories instead of revisions, or run inside the repository',
    });
  }
  const [top = '', prefix = ''] = String(result.stdout).split('\n');
  return { top: path.resolve(top), prefix };
}

/**
 * The full commit id a revision names in the repository holding `dir`.
 * @throws UsageError when it names no commit.
 */
export async function resolveCommit(dir: string, revision: string): Promise<string> {
  const result = await git(dir, [
    'rev-parse',
    '--verify',
    '--quiet',
    '--end-of-options',
    `${revision}^{commit}`,
  ]);
  const commit = String(result.stdout).trim();
  if (result.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) {
    throw new UsageError(`${JSON.stringify(revision)} names no commit of the repository at ${dir}`, {
      hint: 'give a branch, tag or commit id (`git log` lists them)',
    });
  }
  return commit;
}

/**
 * Checks out `revision` of the repository holding `dir` into a temporary directory.
 * @throws UsageError when `dir` is not in a work tree or `revision` names no commit.
 * @throws Error when git fails while checking out (the message says how).
 */
export async function checkoutRevision(dir: string, revision: string): Promise<RevisionCheckout> {
  const { top, prefix } = await findWorkTree(dir);
  const commit = await resolveCommit(dir, revision);
  const scratch = await mkdtemp(path.join(tmpdir(), 'ccx-rev-'));
  const dispose = () => rm(scratch, { recursive: true, force: true });
  try {
    const env = { GIT_INDEX_FILE: path.join(scratch, 'index') };
    const tree = path.join(scratch, 'tree');
    for (const args of [
      ['read-tree', commit],
      ['checkout-index', '--all', '--force', `--prefix=${tree}${path.sep}`],
    ]) {
      const result = await git(top, args, env);
      if (result.exitCode !== 0) {
        throw new Error(
          `git ${args[0]} failed for ${commit}: ${String(result.stderr).trim() || result.shortMessage}`,
        );
      }
    }
    const sub = prefix.replace(/\/$/, '');
    return {
      revision,
      commit,
      root: sub === '' ? tree : path.join(tree, ...sub.split('/')),
      recordAs: `git:${top}@${commit}${sub === '' ? '' : `:${sub}`}`,
      historyDir: path.resolve(dir),
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * Checks out `revision` of the repository holding `dir`, chunks it into the store (recorded as
 * `git:<top>@<commit>`, file history read at that commit) and removes the checkout.
 * @returns the snapshot id.
 * @throws UsageError when `dir` is not in a work tree or `revision` names no commit.
 */
export async function chunkRevision(
  dir: string,
  revision: string,
  storePath: string,
  wait: boolean | number | undefined,
): Promise<string> {
  const checkout = await checkoutRevision(dir, revision);
  try {
    const result = await chunk({
      root: checkout.root,
      store: storePath,
      recordAs: checkout.recordAs,
      gitHistory: { dir: checkout.historyDir, commit: checkout.commit },
      manifest: false,
      wait,
    });
    return result.snapshot;
  } finally {
    await checkout.dispose();
  }
}
