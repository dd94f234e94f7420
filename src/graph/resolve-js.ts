/**
 * JavaScript/TypeScript import resolution: relative specifiers the way Node and TypeScript find
 * files (extensions, `.js` written for `.ts`, directory `index.*` and package.json entry
 * points), tsconfig/jsconfig `paths` and `baseUrl`, and names followed through `exports`
 * (re-exports, barrels, `export *`) to the chunk that declares them.
 */
import { isBuiltin } from 'node:module';
import path from 'node:path';
import {
  createPathsMatcher,
  type PathsMatcher,
  parseTsconfig,
  type TsConfigJsonResolved,
} from 'get-tsconfig';
import type { ImportBinding } from '../chunking/types.js';
import {
  type FileNode,
  idOf,
  joinPath,
  type Memo,
  NO_TARGET,
  type RepoIndex,
  type Target,
} from './repo-index.js';

/** Extensions tried after a specifier without one, in TypeScript's order. */
const EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.d.ts', '.js', '.jsx', '.mjs', '.cjs'];

/** Sources a JavaScript extension may be written for (`import './a.js'` finds `a.ts`). */
const SOURCE_FOR_JS: Record<string, readonly string[]> = {
  '.js': ['.ts', '.tsx', '.d.ts'],
  '.jsx': ['.tsx'],
  '.mjs': ['.mts', '.d.mts'],
  '.cjs': ['.cts', '.d.cts'],
};

/** package.json fields naming a directory's entry point, in the order tried. */
const ENTRY_FIELDS = ['main', 'module', 'types', 'typings'] as const;

/** Where a module specifier leads. */
export type JsModule =
  | { kind: 'file'; file: FileNode }
  /** A file of the repository that has no chunks (JSON, CSS, an image). */
  | { kind: 'opaque' }
  | { kind: 'external'; name: string }
  | { kind: 'unresolved' };

/** A resolved name: its target, and the module when it names a whole module (a namespace). */
interface JsName {
  target: Target;
  namespace?: FileNode;
}

interface PathsConfig {
  matcher: PathsMatcher | null;
  /** `compilerOptions.paths` keys: a specifier they match is never taken for a package. */
  patterns: string[];
}

const UNRESOLVED: JsModule = { kind: 'unresolved' };
const OPAQUE: JsModule = { kind: 'opaque' };

/**
 * The package a bare specifier names: `lodash` for `lodash/fp`, `@scope/pkg` for
 * `@scope/pkg/x`, and `node:NAME` for a Node builtin (`fs`, `node:fs`, `fs/promises` all give
 * `node:fs`).
 */
export function packageName(specifier: string): string {
  if (specifier.startsWith('node:') || isBuiltin(specifier)) {
    const bare = specifier.startsWith('node:') ? specifier.slice(5) : specifier;
    const slash = bare.indexOf('/');
    return `node:${slash < 0 ? bare : bare.slice(0, slash)}`;
  }
  const parts = specifier.split('/');
  if (specifier.startsWith('@') && parts.length > 1) return `${parts[0]}/${parts[1]}`;
  return parts[0] ?? specifier;
}

function isRelative(specifier: string): boolean {
  return (
    specifier === '.' ||
    specifier === '..' ||
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier.startsWith('/')
  );
}

const SOURCE_EXTENSIONS = new Set(['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs']);

/** A specifier ending in an extension that is not a JavaScript/TypeScript source's. */
function isAsset(specifier: string): boolean {
  const ext = path.posix.extname(specifier);
  return ext !== '' && !SOURCE_EXTENSIONS.has(ext) && /^\.[A-Za-z0-9]+$/.test(ext);
}

function matchesPattern(pattern: string, specifier: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === specifier;
  const prefix = pattern.slice(0, star);
  const suffix = pattern.slice(star + 1);
  return (
    specifier.length >= prefix.length + suffix.length &&
    specifier.startsWith(prefix) &&
    specifier.endsWith(suffix)
  );
}

/** Strips comments and trailing commas from JSONC text so that `JSON.parse` reads it. */
function parseJsonc(text: string): unknown {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
}

export class JsResolver {
  // Results shared between files go through RepoIndex.memo, which keeps what each one read.
  private readonly moduleCache = new Map<string, Memo<JsModule>>();
  private readonly candidateCache = new Map<string, Memo<JsModule | undefined>>();
  private readonly configByDir = new Map<string, Memo<PathsConfig | null>>();
  private readonly tsconfigCache = new Map<string, string>();
  private readonly exportCache = new Map<string, Memo<JsName | undefined>>();

  constructor(private readonly index: RepoIndex) {}

  /** Where `specifier`, written in `from`, leads; warns once per file and specifier when nowhere. */
  resolveModule(from: FileNode, specifier: string): JsModule {
    const preferSource = from.analysis.language !== 'javascript';
    const key = `${from.dir}\0${preferSource ? 1 : 0}\0${specifier}`;
    const result = this.index.memo(this.moduleCache, key, () =>
      this.findModule(from.dir, specifier, preferSource),
    );
    if (result.kind === 'unresolved') this.index.warn(`${from.path}: cannot resolve import '${specifier}'`);
    return result;
  }

  private findModule(dir: string, specifier: string, preferSource: boolean): JsModule {
    if (specifier === '') return UNRESOLVED;
    // `https://...`, `npm:x`, `jsr:@std/x`: outside the repository, named as written.
    if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(specifier) && !specifier.startsWith('node:')) {
      return { kind: 'external', name: specifier };
    }
    if (isRelative(specifier)) {
      let rel: string | undefined;
      if (specifier.startsWith('/')) {
        const root = this.index.root.replaceAll('\\', '/');
        rel = specifier.startsWith(`${root}/`) ? specifier.slice(root.length + 1) : undefined;
      } else {
        rel = joinPath(dir, specifier);
      }
      const found = rel === undefined ? undefined : this.resolvePath(rel, preferSource, 0);
      if (found !== undefined) return found;
      // `./data.json`, `./styles.css`: an asset a listing of source files alone does not hold.
      return isAsset(specifier) ? OPAQUE : UNRESOLVED;
    }
    const config = this.pathsConfigFor(dir);
    if (config?.matcher) {
      for (const candidate of config.matcher(specifier)) {
        const rel = path.relative(this.index.root, candidate).split(path.sep).join('/');
        if (rel.startsWith('../') || rel === '..' || path.isAbsolute(rel)) continue;
        const hit = this.resolvePath(rel, preferSource, 0);
        if (hit !== undefined) return hit;
      }
      if (config.patterns.some((pattern) => matchesPattern(pattern, specifier))) return UNRESOLVED;
    }
    return { kind: 'external', name: packageName(specifier) };
  }

  /** Node/TypeScript file lookup for a repository path written as a module. */
  private resolvePath(rel: string, preferSource: boolean, depth: number): JsModule | undefined {
    const key = `${preferSource ? 1 : 0}\0${rel}`;
    return this.index.memo(this.candidateCache, key, () => this.lookupPath(rel, preferSource, depth));
  }

  private lookupPath(rel: string, preferSource: boolean, depth: number): JsModule | undefined {
    const { index } = this;
    const fileAt = (p: string): JsModule | undefined => {
      const file = index.node(p);
      if (file !== undefined) return { kind: 'file', file };
      return index.paths.has(p) && !index.dirs.has(p) ? OPAQUE : undefined;
    };
    const withExtension = (stem: string): JsModule | undefined => {
      for (const ext of EXTENSIONS) {
        const file = index.node(stem + ext);
        if (file !== undefined) return { kind: 'file', file };
      }
      return undefined;
    };
    const sourceFor = (): JsModule | undefined => {
      const ext = path.posix.extname(rel);
      const sources = SOURCE_FOR_JS[ext];
      if (sources === undefined) return undefined;
      const stem = rel.slice(0, -ext.length);
      for (const source of sources) {
        const file = index.node(stem + source);
        if (file !== undefined) return { kind: 'file', file };
      }
      return undefined;
    };
    if (rel !== '') {
      // TypeScript reads `./a.js` as its source `a.ts` before a built `a.js` next to it.
      const found =
        (preferSource ? sourceFor() : undefined) ??
        fileAt(rel) ??
        withExtension(rel) ??
        (preferSource ? undefined : sourceFor());
      if (found !== undefined) return found;
    }
    if (!index.dirs.has(rel) || depth > 2) return undefined;
    const prefix = rel === '' ? '' : `${rel}/`;
    const manifest = index.readConfig(`${prefix}package.json`);
    if (manifest !== undefined) {
      let fields: Record<string, unknown> = {};
      try {
        const parsed: unknown = JSON.parse(manifest);
        if (parsed !== null && typeof parsed === 'object') fields = parsed as Record<string, unknown>;
      } catch {
        this.index.warn(`${prefix}package.json: not valid JSON; its entry points are ignored`);
      }
      for (const field of ENTRY_FIELDS) {
        const entry = fields[field];
        if (typeof entry !== 'string' || entry === '') continue;
        const target = joinPath(rel, entry);
        if (target === undefined || target === rel) continue;
        const hit = this.resolvePath(target, preferSource, depth + 1);
        if (hit !== undefined && hit.kind === 'file') return hit;
      }
    }
    return withExtension(`${prefix}index`);
  }

  /** The `paths`/`baseUrl` of the nearest tsconfig.json or jsconfig.json above `dir`. */
  private pathsConfigFor(dir: string): PathsConfig | null {
    return this.index.memo(this.configByDir, dir, () => this.findPathsConfig(dir));
  }

  private findPathsConfig(dir: string): PathsConfig | null {
    const prefix = dir === '' ? '' : `${dir}/`;
    let config: PathsConfig | null;
    const configPath = [`${prefix}tsconfig.json`, `${prefix}jsconfig.json`].find((p) =>
      this.index.hasConfig(p),
    );
    if (configPath !== undefined) {
      config = this.loadPathsConfig(configPath);
    } else if (dir === '') {
      config = null;
    } else {
      const slash = dir.lastIndexOf('/');
      config = this.pathsConfigFor(slash < 0 ? '' : dir.slice(0, slash));
    }
    return config;
  }

  private loadPathsConfig(configPath: string): PathsConfig | null {
    const abs = path.join(this.index.root, configPath);
    let config: TsConfigJsonResolved | undefined;
    try {
      config = parseTsconfig(abs, this.tsconfigCache);
    } catch (error) {
      // An `extends` that cannot be followed (a package not installed) must not lose the
      // file's own `paths`: read them without it.
      const text = this.index.readConfig(configPath);
      try {
        if (text !== undefined) {
          const raw = parseJsonc(text) as { compilerOptions?: TsConfigJsonResolved['compilerOptions'] };
          config = { compilerOptions: raw.compilerOptions ?? {} };
        }
      } catch {
        config = undefined;
      }
      const why = error instanceof Error ? error.message : String(error);
      this.index.warn(
        config === undefined
          ? `${configPath}: cannot be read (${why}); its paths are ignored`
          : `${configPath}: ${why}; only its own compilerOptions are used`,
      );
    }
    if (config === undefined) return null;
    return {
      matcher: createPathsMatcher({ path: abs, config }),
      patterns: Object.keys(config.compilerOptions?.paths ?? {}),
    };
  }

  /**
   * What a use of `binding` resolves to, with `members` read off it (`ns.f` gives `['f']`):
   * the chunk declaring the name, the module chunk for a namespace, or the external package.
   */
  resolveBinding(from: FileNode, binding: ImportBinding, members: readonly string[]): Target {
    return this.bindingName(from, binding, members, new Set()).target;
  }

  private bindingName(
    from: FileNode,
    binding: ImportBinding,
    members: readonly string[],
    visiting: Set<string>,
  ): JsName {
    const module = this.resolveModule(from, binding.specifier);
    if (module.kind === 'external') return { target: { ids: [], external: module.name } };
    if (module.kind !== 'file') return { target: NO_TARGET };
    if (binding.local === '') return { target: { ids: [module.file.moduleId] } };
    let name: JsName =
      binding.imported === '*'
        ? { target: { ids: [module.file.moduleId] }, namespace: module.file }
        : this.exportOrFallback(module.file, binding.imported, visiting);
    for (const member of members) {
      if (name.namespace === undefined) break;
      name = this.exportOrFallback(name.namespace, member, visiting);
    }
    return name;
  }

  /**
   * `name` as exported by `file`, else its top-level declaration, else the module chunk (a
   * CommonJS module or an export the analyzer could not see).
   */
  private exportOrFallback(file: FileNode, name: string, visiting: Set<string>): JsName {
    const found = this.findExport(file, name, visiting);
    if (found !== undefined) return found;
    const local = file.topLevel.get(name);
    return { target: { ids: [local === undefined ? file.moduleId : idOf(file, local)] } };
  }

  /** Follows `name` through the exports of `file`; undefined when it does not export it. */
  private findExport(file: FileNode, name: string, visiting: Set<string>): JsName | undefined {
    const key = `${file.path}\0${name}`;
    // Only an outermost search is complete (an inner one may have been cut short by a cycle),
    // so only those are cached.
    if (visiting.size === 0) {
      return this.index.memo(this.exportCache, key, () => this.searchOnce(file, name, key, new Set()));
    }
    return this.searchOnce(file, name, key, visiting);
  }

  private searchOnce(file: FileNode, name: string, key: string, visiting: Set<string>): JsName | undefined {
    if (visiting.has(key)) return undefined;
    visiting.add(key);
    const result = this.searchExports(file, name, visiting);
    visiting.delete(key);
    return result;
  }

  private searchExports(file: FileNode, name: string, visiting: Set<string>): JsName | undefined {
    for (const entry of file.exportsByName.get(name) ?? []) {
      if (entry.specifier !== undefined) {
        const module = this.resolveModule(file, entry.specifier);
        if (module.kind === 'external') return { target: { ids: [], external: module.name } };
        if (module.kind !== 'file') return { target: NO_TARGET };
        const imported = entry.imported ?? name;
        if (imported === '*') return { target: { ids: [module.file.moduleId] }, namespace: module.file };
        return this.exportOrFallback(module.file, imported, visiting);
      }
      if (entry.local !== undefined) {
        const local = file.topLevel.get(entry.local);
        if (local !== undefined) return { target: { ids: [idOf(file, local)] } };
        const imported = file.fileImports.get(entry.local)?.[0];
        if (imported !== undefined) return this.bindingName(file, imported, [], visiting);
      }
      return { target: { ids: [file.moduleId] } };
    }
    if (name === 'default') return undefined;
    for (const entry of file.starExports) {
      const module = this.resolveModule(file, entry.specifier!);
      if (module.kind !== 'file') continue;
      const found = this.findExport(module.file, name, visiting);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /**
   * What the module chunk's re-export statements depend on: each `export ... from` target, so
   * that a namespace import of a barrel covers what the barrel re-exports.
   */
  reexportTargets(file: FileNode): Target[] {
    const targets: Target[] = [];
    for (const entry of file.analysis.exports) {
      if (entry.specifier === undefined) continue;
      const module = this.resolveModule(file, entry.specifier);
      if (module.kind === 'external') targets.push({ ids: [], external: module.name });
      else if (module.kind !== 'file') continue;
      else {
        const imported = entry.imported ?? entry.exported;
        targets.push(
          entry.exported === '*' || imported === '*'
            ? { ids: [module.file.moduleId] }
            : this.exportOrFallback(module.file, imported, new Set()).target,
        );
      }
    }
    return targets;
  }
}
