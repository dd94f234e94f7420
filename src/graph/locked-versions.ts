/**
 * Versions that lockfiles pin for external packages, keyed the way `externalDeps` names them:
 * npm packages from the root package-lock.json, Python distributions from the root
 * requirements.txt (`name==version`), Go modules and the import paths they provide from go.mod
 * `require` lines.
 */
import { compareStrings, type RepoIndex } from './repo-index.js';
import { GoResolver } from './resolve-go.js';

/** `package-lock.json` v2/v3 (`packages["node_modules/NAME"]`) or v1 (`dependencies`). */
export function parseNpmLock(text: string): Map<string, string> {
  const versions = new Map<string, string>();
  const lock = JSON.parse(text) as {
    packages?: Record<string, { version?: unknown }>;
    dependencies?: Record<string, { version?: unknown }>;
  };
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (!key.startsWith('node_modules/')) continue;
    const name = key.slice('node_modules/'.length);
    // Nested copies (`node_modules/a/node_modules/b`) are not what the repository imports.
    if (name.includes('/node_modules/') || typeof entry?.version !== 'string') continue;
    versions.set(name, entry.version);
  }
  for (const [name, entry] of Object.entries(lock.dependencies ?? {})) {
    if (!versions.has(name) && typeof entry?.version === 'string') versions.set(name, entry.version);
  }
  return versions;
}

/**
 * `name==version` lines of a requirements file (extras and environment markers allowed).
 * Each name is also given in its normalized form (lowercase, runs of `-_.` as `_`), which is
 * what an import of the distribution usually spells (`typing-extensions` -> `typing_extensions`).
 */
export function parseRequirements(text: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/(^|\s)#.*$/, '').trim();
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;,]+)/.exec(line);
    if (match === null) continue;
    const [, name, version] = match;
    versions.set(name!, version!);
    const normalized = name!.toLowerCase().replace(/[-_.]+/g, '_');
    if (!versions.has(normalized)) versions.set(normalized, version!);
  }
  return versions;
}

/** Reads the lockfiles of the repository; unreadable ones are reported as warnings. */
export function readLockedVersions(index: RepoIndex, go: GoResolver): Map<string, string> {
  const versions = new Map<string, string>();
  const merge = (from: Map<string, string>): void => {
    for (const [name, version] of from) if (!versions.has(name)) versions.set(name, version);
  };
  const read = (file: string, parse: (text: string) => Map<string, string>): void => {
    const text = index.readConfig(file);
    if (text === undefined) return;
    try {
      merge(parse(text));
    } catch (error) {
      index.warn(`${file}: cannot be read (${error instanceof Error ? error.message : String(error)})`);
    }
  };
  read('package-lock.json', parseNpmLock);
  read('requirements.txt', parseRequirements);
  // An import path takes the version its own go.mod requires for the longest module prefix.
  for (const importPath of [...go.externalImports.keys()].sort(compareStrings)) {
    const mod = go.externalImports.get(importPath);
    const version = mod === undefined ? undefined : GoResolver.requiredVersion(mod, importPath);
    if (version !== undefined && !versions.has(importPath)) versions.set(importPath, version);
  }
  const modules = [...go.modules].sort(
    (a, b) => a.dir.split('/').length - b.dir.split('/').length || compareStrings(a.dir, b.dir),
  );
  for (const mod of modules) merge(mod.requires);
  return versions;
}
