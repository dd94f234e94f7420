// npm packages that ship their own tests (npm pack), installed with the dev dependencies their
// tests require: the real workloads of `ccx affected` and `ccx run` measurements.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function sh(cmd, argv, cwd) {
  return execFileSync(cmd, argv, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Unpacks SPEC into .cache/affected/ and installs what its tests need; returns the package directory. */
export function fetchPackage(spec) {
  const dir = path.join(root, '.cache', 'affected', spec.replace(/[/@]/g, '_'));
  const pkg = path.join(dir, 'package');
  if (!existsSync(path.join(pkg, 'node_modules'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const tgz = sh('npm', ['pack', spec, '--silent'], dir).trim().split('\n').pop();
    sh('tar', ['xzf', tgz], dir);
    // Only the dev dependencies the tests require: the rest (linters, bundlers) may come from
    // git hosts this machine cannot reach.
    const manifestPath = path.join(pkg, 'package.json');
    const pkgJson = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const needed = new Set();
    for (const test of testFiles(pkg)) {
      for (const [, name] of readFileSync(path.join(pkg, test), 'utf8').matchAll(
        /require\(['"]([^.'"][^'"]*)['"]\)/g,
      )) {
        needed.add(name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]);
      }
    }
    pkgJson.devDependencies = Object.fromEntries(
      Object.entries(pkgJson.devDependencies ?? {}).filter(([name]) => needed.has(name)),
    );
    writeFileSync(manifestPath, `${JSON.stringify(pkgJson, null, 2)}\n`);
    sh('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], pkg);
  }
  return pkg;
}

/** Test files the package's own test script runs: its top-level test/*.js. */
export function testFiles(repo) {
  return readdirSync(path.join(repo, 'test'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => `test/${f}`)
    .sort();
}
