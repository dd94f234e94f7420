/**
 * Python import resolution: module names from the package layout (`__init__.py`), absolute and
 * relative imports, `import a.b.c` attribute chains, names re-exported through `__init__.py`
 * and `from m import *`.
 */
import type { ImportBinding } from '../chunking/types.js';
import {
  baseName,
  compareStrings,
  dirOf,
  type FileNode,
  idOf,
  isWithin,
  joinPath,
  type Memo,
  NO_TARGET,
  type RepoIndex,
  type Target,
} from './repo-index.js';

/** A module of the repository: a file, a package (its `__init__.py`), or a namespace package directory. */
interface PyModule {
  file?: FileNode;
  /** Set for a package: the directory its submodules live in. */
  packageDir?: string;
}

/** A file registered under a dotted module name. */
interface Candidate {
  /** The file's path; its node is read only when the candidate is chosen. */
  path: string;
  packageDir?: string;
  /** The directory that must be on `sys.path` for the name to import (`''`: the root). */
  root: string;
  /** True when the name goes through a package; false for a lone `stem.py` outside any. */
  packaged: boolean;
}

/** A resolved name, and the module it is when it is one (so that attribute chains go on). */
interface PyName {
  target: Target;
  module?: PyModule;
  /** False for the fallback to a module's own chunk when the name was not found in it. */
  found: boolean;
}

type ModuleResult = PyModule | 'external' | 'unresolved';

function moduleTarget(module: PyModule): Target {
  return module.file === undefined ? NO_TARGET : { ids: [module.file.moduleId] };
}

function external(name: string): PyName {
  return { target: { ids: [], external: name }, found: true };
}

export class PythonResolver {
  private readonly byName = new Map<string, Candidate[]>();
  // Results shared between files go through RepoIndex.memo, which keeps what each one read.
  private readonly absoluteCache = new Map<string, Memo<PyModule | undefined>>();
  private readonly relativeCache = new Map<string, Memo<ModuleResult>>();
  private readonly nameCache = new Map<string, Memo<PyName>>();

  /** Directories with Python files at some depth: the only ones taken for namespace packages. */
  private readonly pythonDirs = new Set<string>();

  constructor(private readonly index: RepoIndex) {
    // Module names come from paths alone: no analysis is read here.
    for (const source of index.sources.values()) {
      if (source.language !== 'python') continue;
      this.register(source.path);
      for (let dir = dirOf(source.path); dir !== '' && !this.pythonDirs.has(dir); dir = dirOf(dir))
        this.pythonDirs.add(dir);
    }
  }

  private isPackageDir(dir: string): boolean {
    return dir !== '' && this.index.paths.has(`${dir}/__init__.py`);
  }

  private register(path: string): void {
    const name = baseName(path);
    const fileDir = dirOf(path);
    const stem = name.endsWith('.py') ? name.slice(0, -3) : name;
    const isInit = stem === '__init__';
    const parts: string[] = isInit ? [] : [stem];
    let dir = fileDir;
    while (this.isPackageDir(dir)) {
      parts.unshift(baseName(dir));
      dir = dirOf(dir);
    }
    const packageDir = isInit ? fileDir : undefined;
    if (parts.length > 0) {
      this.add(parts.join('.'), { path, packageDir, root: dir, packaged: parts.length > 1 || isInit });
    }
    // The dotted path from the root: `src/pkg/mod.py` is also `src.pkg.mod`.
    const fromRoot = (isInit ? fileDir : `${fileDir === '' ? '' : `${fileDir}/`}${stem}`).split('/');
    if (fromRoot.length > parts.length && fromRoot.every((p) => p !== '')) {
      this.add(fromRoot.join('.'), { path, packageDir, root: '', packaged: true });
    }
  }

  private add(name: string, candidate: Candidate): void {
    const list = this.byName.get(name);
    if (list === undefined) this.byName.set(name, [candidate]);
    else list.push(candidate);
  }

  /**
   * The module an absolute dotted name means in `from`: among the files registered under the
   * name, the one whose `sys.path` root is nearest above `from` (a lone `stem.py` outside any
   * package only imports from below its own directory); else a namespace directory from the root.
   */
  private absolute(from: FileNode, dotted: string): PyModule | undefined {
    return this.index.memo(this.absoluteCache, `${from.dir}\0${dotted}`, () =>
      this.findAbsolute(from.dir, dotted),
    );
  }

  private findAbsolute(fromDir: string, dotted: string): PyModule | undefined {
    let best: Candidate | undefined;
    let fallback: Candidate | undefined;
    for (const candidate of this.byName.get(dotted) ?? []) {
      if (isWithin(fromDir, candidate.root)) {
        if (
          best === undefined ||
          candidate.root.length > best.root.length ||
          (candidate.root.length === best.root.length && compareStrings(candidate.path, best.path) < 0)
        ) {
          best = candidate;
        }
      } else if (candidate.packaged) {
        if (fallback === undefined || compareStrings(candidate.path, fallback.path) < 0) fallback = candidate;
      }
    }
    const chosen = best ?? fallback;
    let result: PyModule | undefined;
    if (chosen !== undefined) {
      result = { file: this.index.node(chosen.path)!, packageDir: chosen.packageDir };
    } else {
      const dir = dotted.split('.').join('/');
      if (this.pythonDirs.has(dir)) result = { packageDir: dir };
    }
    return result;
  }

  /** `dir/parts...` as a package, a module file or a namespace directory. */
  private moduleAt(dir: string, parts: readonly string[]): PyModule | undefined {
    const base = joinPath(dir, parts.join('/'));
    if (base === undefined) return undefined;
    const prefix = base === '' ? '' : `${base}/`;
    const init = this.index.node(`${prefix}__init__.py`);
    if (init !== undefined) return { file: init, packageDir: base };
    const file = base === '' ? undefined : this.index.node(`${base}.py`);
    if (file !== undefined) return { file };
    if (base === '' || this.pythonDirs.has(base)) return { packageDir: base };
    return undefined;
  }

  /** The module a `from X import` specifier names in `from`, relative (leading dots) or absolute. */
  private resolveSpecifier(from: FileNode, specifier: string): ModuleResult {
    if (!specifier.startsWith('.')) {
      return this.absolute(from, specifier) ?? (specifier === '' ? 'unresolved' : 'external');
    }
    const result = this.index.memo(this.relativeCache, `${from.dir}\0${specifier}`, (): ModuleResult => {
      let dots = 0;
      while (specifier[dots] === '.') dots++;
      const rest = specifier.slice(dots);
      const base = joinPath(from.dir, '../'.repeat(dots - 1));
      const module = base === undefined ? undefined : this.moduleAt(base, rest === '' ? [] : rest.split('.'));
      return module ?? 'unresolved';
    });
    if (result === 'unresolved') this.index.warn(`${from.path}: cannot resolve import '${specifier}'`);
    return result;
  }

  /**
   * What a use of `binding` resolves to with `members` read off it: for `import a.b.c` the
   * longest in-repo module along `a.b.c` + members, for `from m import n` the name `n` in `m`;
   * then the remaining members looked up attribute by attribute. With `statement`, what the
   * chunk holding the import statement depends on: for `import a.b.c` the module `a.b.c`
   * itself rather than the `a` it binds.
   */
  resolveBinding(
    from: FileNode,
    binding: ImportBinding,
    members: readonly string[],
    statement = false,
  ): Target {
    return this.bindingName(from, binding, members, new Set(), statement).target;
  }

  private bindingName(
    from: FileNode,
    binding: ImportBinding,
    members: readonly string[],
    visiting: Set<string>,
    statement = false,
  ): PyName {
    const { specifier, imported, local } = binding;
    const wholeModule = imported === '*' || local === '' || local === '*';
    const rest = wholeModule ? [] : [imported];
    if (specifier.startsWith('.')) {
      const module = this.resolveSpecifier(from, specifier);
      if (typeof module === 'string') return { target: NO_TARGET, found: true };
      return this.followMembers(
        { target: moduleTarget(module), module, found: true },
        [...rest, ...members],
        visiting,
      );
    }
    const specParts = specifier.split('.');
    if (imported === '*' && local !== '' && local !== '*' && !statement) {
      // `import a.b.c` binds `a` and `a.b.c` is reached through members; `import a.b as x`
      // binds `x` to `a.b`. Submodules come first along the chain.
      const names = local === specParts[0] ? [specParts[0], ...members] : [...specParts, ...members];
      return this.fromLongestModule(from, names, names.length, visiting) ?? external(specParts[0]!);
    }
    // `from m import n`: `m` is a module, and `n` first of all a name in it.
    const names = [...specParts, ...rest, ...members];
    return this.fromLongestModule(from, names, specParts.length, visiting) ?? external(specParts[0]!);
  }

  /** The longest prefix of `names` (at most `longest` of them) that is a module, and the rest looked up in it. */
  private fromLongestModule(
    from: FileNode,
    names: readonly string[],
    longest: number,
    visiting: Set<string>,
  ): PyName | undefined {
    for (let k = longest; k >= 1; k--) {
      const module = this.absolute(from, names.slice(0, k).join('.'));
      if (module === undefined) continue;
      const start: PyName = { target: moduleTarget(module), module, found: true };
      if (module.file !== undefined || k === names.length)
        return this.followMembers(start, names.slice(k), visiting);
      // A namespace directory shares its name with packages elsewhere on `sys.path`
      // (`google/` here, `google.protobuf` installed): a name not found in it is not ours.
      const next = this.lookupName(module, names[k]!, visiting);
      if (!next.found) return undefined;
      return this.followMembers(next, names.slice(k + 1), visiting);
    }
    return undefined;
  }

  private followMembers(name: PyName, members: readonly string[], visiting: Set<string>): PyName {
    for (const member of members) {
      if (name.module === undefined) break;
      name = this.lookupName(name.module, member, visiting);
    }
    return name;
  }

  /**
   * `name` in `module`: its top-level declaration, a name it imports (re-exports through
   * `__init__.py`), a submodule, a name from its star imports; else the module's own chunk.
   */
  private lookupName(module: PyModule, name: string, visiting: Set<string>): PyName {
    const file = module.file;
    const key = `${file?.path ?? module.packageDir}\0${name}`;
    // Only an outermost search is complete (an inner one may be cut short by a cycle).
    if (file !== undefined && visiting.size === 0) {
      return this.index.memo(this.nameCache, `${file.path}\0${name}`, () =>
        this.searchOnce(module, name, key, new Set()),
      );
    }
    return this.searchOnce(module, name, key, visiting);
  }

  private searchOnce(module: PyModule, name: string, key: string, visiting: Set<string>): PyName {
    if (visiting.has(key)) return { target: NO_TARGET, found: false };
    visiting.add(key);
    const result = this.searchName(module, name, visiting);
    visiting.delete(key);
    return result;
  }

  private searchName(module: PyModule, name: string, visiting: Set<string>): PyName {
    const file = module.file;
    if (file !== undefined) {
      const local = file.topLevel.get(name);
      if (local !== undefined) return { target: { ids: [idOf(file, local)] }, found: true };
      const bindings = file.fileImports.get(name);
      if (bindings !== undefined) {
        const last = bindings[bindings.length - 1]!;
        const resolved = this.bindingName(file, last, [], visiting);
        if (resolved.found) return resolved;
      }
    }
    if (module.packageDir !== undefined) {
      const sub = this.moduleAt(module.packageDir, [name]);
      if (sub !== undefined) return { target: moduleTarget(sub), module: sub, found: true };
    }
    if (file !== undefined) {
      const found = this.fromStarImports(file, name, visiting);
      if (found !== undefined) return found;
    }
    return { target: moduleTarget(module), found: false };
  }

  private fromStarImports(file: FileNode, name: string, visiting: Set<string>): PyName | undefined {
    // A later `from m import *` shadows an earlier one.
    for (let i = file.starImports.length - 1; i >= 0; i--) {
      const star = file.starImports[i]!;
      const module = this.resolveSpecifier(file, star.specifier);
      if (typeof module === 'string') continue;
      const found = this.lookupName(module, name, visiting);
      if (found.found) return found;
    }
    return undefined;
  }

  /** Rule 5: `name` through the star imports of `file`, when one of them has it. */
  resolveStar(file: FileNode, name: string): Target | undefined {
    return this.fromStarImports(file, name, new Set())?.target;
  }
}
