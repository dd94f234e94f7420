/**
 * Go resolution: packages (a directory and a package clause), import paths through the nearest
 * go.mod's `module` path (and `vendor/`), package-level names across the files of a package,
 * and the `require` versions of go.mod files.
 */
import type { ImportBinding } from '../chunking/types.js';
import {
  baseName,
  compareStrings,
  dirOf,
  type FileNode,
  idOf,
  joinPath,
  NO_TARGET,
  type RepoIndex,
  type Target,
} from './repo-index.js';

/** One go.mod of the repository. */
export interface GoModule {
  /** Directory of the go.mod, `''` at the root. */
  dir: string;
  /** The `module` path. */
  path: string;
  /** Required module path -> version. */
  requires: Map<string, string>;
}

/** Names of one package (files of one directory with one package clause). */
interface GoPackage {
  name: string;
  dir: string;
  /** Package-level name -> chunk id, from the non-test files. */
  names: Map<string, string>;
  /** The same with `_test.go` files of the package included. */
  namesWithTests: Map<string, string>;
  /** Method localId (`Type.Method`) -> chunk id, non-test files. */
  methods: Map<string, string>;
  methodsWithTests: Map<string, string>;
  /** Module chunks of the non-test files, in path order. */
  moduleIds: string[];
  /** Number of non-test files: how a directory's main package is chosen. */
  sourceFiles: number;
}

/** Parses a go.mod: the `module` path and the `require` versions (single lines and blocks). */
export function parseGoMod(text: string): { path: string | undefined; requires: Map<string, string> } {
  let modulePath: string | undefined;
  const requires = new Map<string, string>();
  let inRequire = false;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\/\/.*$/, '').trim();
    if (line === '') continue;
    if (inRequire) {
      if (line === ')') {
        inRequire = false;
        continue;
      }
      const [mod, version] = line.split(/\s+/);
      if (mod !== undefined && version !== undefined) requires.set(unquote(mod), version);
      continue;
    }
    const words = line.split(/\s+/);
    if (words[0] === 'module' && words[1] !== undefined) modulePath = unquote(words[1]);
    else if (words[0] === 'require') {
      if (words[1] === '(') inRequire = true;
      else if (words[1] !== undefined && words[2] !== undefined) requires.set(unquote(words[1]), words[2]);
    }
  }
  return { path: modulePath, requires };
}

function unquote(word: string): string {
  return word.length >= 2 && (word.startsWith('"') || word.startsWith('`')) ? word.slice(1, -1) : word;
}

/** go.mod files: those listed, and those beside or above a Go file when the listing has only sources. */
function findGoModFiles(index: RepoIndex): string[] {
  const found = new Set<string>();
  for (const p of index.paths) if (baseName(p) === 'go.mod') found.add(p);
  const probed = new Set<string>();
  for (const source of index.sources.values()) {
    if (source.language !== 'go') continue;
    for (let dir = dirOf(source.path); !probed.has(dir); dir = dirOf(dir)) {
      probed.add(dir);
      const candidate = dir === '' ? 'go.mod' : `${dir}/go.mod`;
      if (index.hasConfig(candidate)) found.add(candidate);
      if (dir === '') break;
    }
  }
  return [...found].sort(compareStrings);
}

const GO: ReadonlySet<string> = new Set(['go']);

function isTestFile(file: FileNode): boolean {
  return file.path.endsWith('_test.go');
}

/**
 * The name a Go analyzer binds for an import without an alias: the last path element, skipping
 * a `/vN` major version, without a `go-` prefix, cut at the first character that cannot be in
 * an identifier (`yaml` for `gopkg.in/yaml.v3`). Mirrors `defaultImportName` of the Go analyzer.
 */
function defaultImportName(importPath: string): string {
  const parts = importPath.split('/').filter((p) => p !== '');
  let base = parts[parts.length - 1] ?? '';
  if (/^v\d+$/.test(base) && parts.length > 1) base = parts[parts.length - 2]!;
  if (base.startsWith('go-')) base = base.slice(3);
  const cut = base.search(/[^\p{L}\p{Nd}_]/u);
  return cut < 0 ? base : base.slice(0, cut);
}

export class GoResolver {
  readonly modules: GoModule[] = [];
  private readonly packages = new Map<string, GoPackage>();
  /** Directory -> the package importers get there (the non-test package with most files). */
  private readonly importable = new Map<string, GoPackage>();
  private readonly moduleByDir = new Map<string, GoModule | null>();
  private readonly importCache = new Map<string, GoPackage | string>();
  /** Go external import path -> the go.mod that required it, for locked versions. */
  readonly externalImports = new Map<string, GoModule | undefined>();
  private readonly preparedFiles = new Set<FileNode>();

  constructor(index: RepoIndex) {
    for (const goModPath of findGoModFiles(index)) {
      const text = index.readConfig(goModPath);
      if (text === undefined) continue;
      const parsed = parseGoMod(text);
      if (parsed.path === undefined) {
        index.warn(`${goModPath}: no module line; its packages resolve as external`);
        continue;
      }
      this.modules.push({ dir: dirOf(goModPath), path: parsed.path, requires: parsed.requires });
    }
    for (const file of index.nodesOf(GO)) {
      const name = file.analysis.goPackage;
      if (name === undefined) continue;
      const key = `${file.dir}\0${name}`;
      let pkg = this.packages.get(key);
      if (pkg === undefined) {
        pkg = {
          name,
          dir: file.dir,
          names: new Map(),
          namesWithTests: new Map(),
          methods: new Map(),
          methodsWithTests: new Map(),
          moduleIds: [],
          sourceFiles: 0,
        };
        this.packages.set(key, pkg);
      }
      const test = isTestFile(file);
      if (!test) {
        pkg.sourceFiles++;
        pkg.moduleIds.push(file.moduleId);
      }
      for (const [topName, localId] of file.topLevel) {
        const id = idOf(file, localId);
        if (!test && !pkg.names.has(topName)) pkg.names.set(topName, id);
        if (!pkg.namesWithTests.has(topName)) pkg.namesWithTests.set(topName, id);
      }
      for (const chunk of file.analysis.chunks) {
        if (chunk.owner === undefined || !chunk.localId.includes('.')) continue;
        const id = idOf(file, chunk.localId);
        if (!test && !pkg.methods.has(chunk.localId)) pkg.methods.set(chunk.localId, id);
        if (!pkg.methodsWithTests.has(chunk.localId)) pkg.methodsWithTests.set(chunk.localId, id);
      }
    }
    for (const pkg of this.packages.values()) {
      if (pkg.name.endsWith('_test') || pkg.sourceFiles === 0) continue;
      const current = this.importable.get(pkg.dir);
      if (
        current === undefined ||
        pkg.sourceFiles > current.sourceFiles ||
        (pkg.sourceFiles === current.sourceFiles && compareStrings(pkg.name, current.name) < 0)
      ) {
        this.importable.set(pkg.dir, pkg);
      }
    }
  }

  private packageOf(file: FileNode): GoPackage | undefined {
    const name = file.analysis.goPackage;
    return name === undefined ? undefined : this.packages.get(`${file.dir}\0${name}`);
  }

  /** The go.mod nearest above `dir` (inside the repository). */
  moduleFor(dir: string): GoModule | undefined {
    const cached = this.moduleByDir.get(dir);
    if (cached !== undefined) return cached ?? undefined;
    let found: GoModule | undefined = this.modules.find((m) => m.dir === dir);
    if (found === undefined && dir !== '') found = this.moduleFor(dirOf(dir));
    this.moduleByDir.set(dir, found ?? null);
    return found;
  }

  /** The in-repo package an import path names from `from`, or the external import path. */
  private resolveImport(from: FileNode, importPath: string): GoPackage | string {
    const own = this.moduleFor(from.dir);
    const key = `${own?.dir ?? '\0'}\0${importPath}`;
    let result = this.importCache.get(key);
    if (result === undefined) {
      result = this.findPackage(own, importPath) ?? importPath;
      this.importCache.set(key, result);
      if (typeof result === 'string' && !this.externalImports.has(importPath)) {
        this.externalImports.set(importPath, own);
      }
    }
    return result;
  }

  private findPackage(own: GoModule | undefined, importPath: string): GoPackage | undefined {
    const inModule = (mod: GoModule): GoPackage | undefined => {
      if (importPath !== mod.path && !importPath.startsWith(`${mod.path}/`)) return undefined;
      const dir = joinPath(mod.dir, importPath.slice(mod.path.length + 1));
      return dir === undefined ? undefined : this.importable.get(dir);
    };
    if (own !== undefined) {
      const pkg = inModule(own) ?? this.importable.get(joinPath(own.dir, `vendor/${importPath}`) ?? '\0');
      if (pkg !== undefined) return pkg;
    }
    // Another module of the repository (a multi-module repo with `replace` directives).
    let best: GoModule | undefined;
    for (const mod of this.modules) {
      if (mod === own || (importPath !== mod.path && !importPath.startsWith(`${mod.path}/`))) continue;
      if (best === undefined || mod.path.length > best.path.length) best = mod;
    }
    return best === undefined ? undefined : inModule(best);
  }

  /**
   * Adds to the file's import table the package clause's name of each in-repo package imported
   * without an alias, where it differs from the name the analyzer guessed from the path
   * (directory `go-yaml`, `package yaml`; directory `utils-x`, `package utilsx`).
   */
  prepareFile(file: FileNode): void {
    if (this.preparedFiles.has(file)) return;
    this.preparedFiles.add(file);
    for (const binding of file.analysis.imports) {
      if (binding.local === '' || binding.local === '.' || binding.chunk !== undefined) continue;
      if (
        binding.local !== defaultImportName(binding.specifier) &&
        binding.local !== baseName(binding.specifier)
      ) {
        continue;
      }
      const target = this.resolveImport(file, binding.specifier);
      if (typeof target === 'string' || target.name === binding.local) continue;
      if (!file.fileImports.has(target.name)) file.fileImports.set(target.name, [binding]);
    }
  }

  /** What a use of `binding` (`pkg` or `pkg.Name`) resolves to from `from`. */
  resolveBinding(from: FileNode, binding: ImportBinding, members: readonly string[]): Target {
    const target = this.resolveImport(from, binding.specifier);
    if (typeof target === 'string') return { ids: [], external: target };
    const member = members[0];
    if (member === undefined || binding.local === '' || binding.local === '_')
      return { ids: target.moduleIds };
    const id = (isTestFile(from) ? target.namesWithTests : target.names).get(member);
    return id === undefined ? NO_TARGET : { ids: [id] };
  }

  /** Rule 4: a package-level name declared in another file of the same package. */
  resolvePackageName(from: FileNode, name: string): string | undefined {
    const pkg = this.packageOf(from);
    return pkg === undefined ? undefined : (isTestFile(from) ? pkg.namesWithTests : pkg.names).get(name);
  }

  /** A dot import: `name` among the imported package's names. */
  resolveDotImport(from: FileNode, binding: ImportBinding, name: string): Target | undefined {
    const target = this.resolveImport(from, binding.specifier);
    if (typeof target === 'string') return undefined;
    const id = (isTestFile(from) ? target.namesWithTests : target.names).get(name);
    return id === undefined ? undefined : { ids: [id] };
  }

  /** A method `owner.member` anywhere in the package of `from` (receiver selfRefs). */
  resolveMethod(from: FileNode, qualified: string): string | undefined {
    const pkg = this.packageOf(from);
    return pkg === undefined
      ? undefined
      : (isTestFile(from) ? pkg.methodsWithTests : pkg.methods).get(qualified);
  }

  /**
   * The type declaration a method chunk belongs to, anywhere in its package; a type in a
   * non-test file does not take methods from `_test.go` files.
   */
  resolveOwnerType(from: FileNode, owner: string): string | undefined {
    const pkg = this.packageOf(from);
    if (pkg === undefined) return undefined;
    if (!isTestFile(from)) return pkg.names.get(owner);
    const id = pkg.namesWithTests.get(owner);
    return id !== undefined && pkg.names.get(owner) !== id ? id : undefined;
  }

  /** The version a go.mod's `require` gives the module holding `importPath` (longest prefix). */
  static requiredVersion(mod: GoModule, importPath: string): string | undefined {
    let best: string | undefined;
    let bestLength = -1;
    for (const [modulePath, version] of mod.requires) {
      if (
        (importPath === modulePath || importPath.startsWith(`${modulePath}/`)) &&
        modulePath.length > bestLength
      ) {
        best = version;
        bestLength = modulePath.length;
      }
    }
    return best;
  }
}
