#!/usr/bin/env node
// Fetches the real-world corpora ccx is shown working on, into .cache/corpora/ (git-ignored):
//   npm packages with TypeScript sources, fetched with `npm pack NAME@VERSION` and unpacked;
//   the Python standard library of the python3 on PATH, copied without site-packages.
// Usage: node scripts/fetch-corpus.mjs [rxjs|trpc|effect|python-stdlib ...]   (default: all)
// Prints one line per corpus: NAME<TAB>DIRECTORY.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cache = path.join(root, '.cache', 'corpora');

/** npm packages whose tarballs carry their TypeScript sources, pinned for repeatable figures. */
export const NPM_CORPORA = {
  rxjs: { spec: 'rxjs@7.8.1', dir: 'src' },
  trpc: { spec: '@trpc/server@10.45.2', dir: 'src' },
  effect: { spec: 'effect@3.10.0', dir: 'src' },
  // The release before rxjs@7.8.1, for `ccx diff` between consecutive versions.
  'rxjs-7.8.0': { spec: 'rxjs@7.8.0', dir: 'src' },
};

function fetchNpm(name) {
  const { spec, dir } = NPM_CORPORA[name];
  const target = path.join(cache, name);
  const src = path.join(target, 'package', dir);
  if (existsSync(src)) return src;
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const tgz = execFileSync('npm', ['pack', spec, '--silent', '--pack-destination', target], {
    cwd: target,
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  execFileSync('tar', ['xzf', path.join(target, tgz), '-C', target]);
  rmSync(path.join(target, tgz));
  return src;
}

function fetchPythonStdlib() {
  const target = path.join(cache, 'python-stdlib');
  if (existsSync(target) && readdirSync(target).length > 0) return target;
  const stdlib = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], {
    encoding: 'utf8',
  }).trim();
  mkdirSync(target, { recursive: true });
  cpSync(stdlib, target, {
    recursive: true,
    filter: (p) => path.basename(p) !== 'site-packages' && path.basename(p) !== '__pycache__',
    verbatimSymlinks: true,
  });
  return target;
}

export function fetchCorpus(name) {
  return name === 'python-stdlib' ? fetchPythonStdlib() : fetchNpm(name);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  for (const name of names.length > 0 ? names : [...Object.keys(NPM_CORPORA), 'python-stdlib']) {
    process.stdout.write(`${name}\t${fetchCorpus(name)}\n`);
  }
}
