/**
 * The Python analyzer (tree-sitter-python 0.25): chunks, scopes, normalized hashes, references and
 * imports of one file, following shared/spec/semantic-hash.md (ccx-sh/1) and docs/analyzer-guide.md.
 *
 * Chunks: the module; top-level `def`, `class` and `name = lambda ...` (decorators belong to the
 * chunk through `decorated_definition`); the methods of top-level classes (`Class.method`).
 * Nested functions and classes stay inside their enclosing chunk.
 *
 * Scopes follow Python: a name assigned anywhere in a function (or bound by `for`, `with ... as`,
 * `except ... as`, `:=`, `del`, `import`, a nested `def`/`class`, a `match` capture) is local to the
 * whole function unless declared `global`/`nonlocal`; comprehensions have their own scope; class
 * bodies bind class attributes that the functions inside them do not see. Locals are renamed for
 * hashing (rule 5), except parameters (callers pass them by keyword) and names bound by an import
 * without `as` (the name is the imported name). Module-level and class-level names are never renamed.
 */
import type { RawAnalysis, RawChunk } from '../analyze.js';
import type { CompactTree } from '../compact-tree.js';
import { canonicalNumber, decodeEscape, stringToken } from '../literals.js';
import {
  BIND_SELF,
  createNodeMarks,
  emitTokens,
  hashTokens,
  type LanguageProfile,
  type NodeMarks,
} from '../normalize.js';
import type { ChunkKind, ImportBinding, NameRef } from '../types.js';

/** How a name is bound at one site; a binding is renamed only if every site allows it. */
const SITE_PARAM = 1;
const SITE_IMPORT = 2; // `import a.b`, `from m import f`: the local name is the imported name
const SITE_ALIAS = 4; // `import a as x`, `from m import f as x`
const SITE_OTHER = 8;

/** What an identifier occurrence does with its name. */
const OCC_LOAD = 0;
const OCC_STORE = 1;
/** Augmented assignment target: stores and loads. */
const OCC_AUG = 2;
/** The name in a `global` / `nonlocal` statement. */
const OCC_DECL = 3;

type ScopeKind = 'module' | 'class' | 'function' | 'comprehension' | 'annotation';

interface Scope {
  kind: ScopeKind;
  parent: Scope | undefined;
  /** Names bound in this scope, to a SITE_* bitmask of how. */
  sites: Map<string, number>;
  globals: Set<string> | undefined;
  nonlocals: Set<string> | undefined;
  bindings: Map<string, Binding>;
}

interface Binding {
  /** Unique within the file; the normalizer's binding id. */
  id: number;
  scope: Scope;
  renamed: boolean;
  fromImport: boolean;
}

interface ChunkInfo {
  /** The chunk's node: `decorated_definition`, `function_definition`, `class_definition`, `expression_statement`, or the root. */
  node: number;
  /** The declaration inside it: `function_definition`, `class_definition`, `assignment`, or the root. */
  decl: number;
  /** The identifier declaring the chunk's name; -1 for the module. */
  nameNode: number;
  localId: string;
  name: string;
  kind: ChunkKind;
  owner?: string;
  start: number;
  end: number;
  /** Chunk nodes directly nested in this one (not part of its own code). */
  nested: number[];
  /** For methods: the function scope, to find the first parameter's binding. */
  fnScope?: Scope;
  isStatic: boolean;
  refs: Map<string, NameRef>;
  selfRefs: Set<string>;
}

const DROP_TOKENS: ReadonlySet<string> = new Set(['(', ')', '[', ']', '{', '}', ';']);
const UNWRAP: ReadonlySet<string> = new Set(['parenthesized_expression']);
const COMMENTS: ReadonlySet<string> = new Set(['comment', 'line_continuation']);
const CLOSING: ReadonlySet<string> = new Set([')', ']', '}']);
const COMPREHENSIONS: ReadonlySet<string> = new Set([
  'list_comprehension',
  'set_comprehension',
  'dictionary_comprehension',
  'generator_expression',
]);
/** Target shapes whose identifiers are all bound (`a, [b, *c] = ...`). */
const TARGET_GROUPS: ReadonlySet<string> = new Set([
  'pattern_list',
  'tuple_pattern',
  'list_pattern',
  'tuple',
  'list',
  'expression_list',
  'parenthesized_expression',
  'as_pattern_target',
  'list_splat_pattern',
  'list_splat',
]);

const PY_ESCAPE = /\\(?:N\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{1,3}|[\s\S])/g;

/**
 * Analyzes a Python file: see the module comment. Never throws on syntax errors: ERROR subtrees
 * are hashed as they parsed, and definitions directly inside a top-level ERROR node still chunk.
 */
export function analyzePython(ct: CompactTree): RawAnalysis {
  return new PythonAnalyzer(ct).run();
}

class PythonAnalyzer {
  private readonly marks: NodeMarks;
  private readonly chunks: ChunkInfo[] = [];
  /** Per node: 1 + index of the chunk whose node it is, else 0. */
  private readonly chunkAt: Int32Array;
  private readonly scopes: Scope[] = [];
  private readonly moduleScope: Scope;
  private scope: Scope;
  private chunk = 0;
  private readonly occNode: number[] = [];
  private readonly occKind: number[] = [];
  private readonly occScope: Scope[] = [];
  private readonly occChunk: number[] = [];
  /** `attribute` nodes that are assignment targets (`self.x = ...` is not a read of `x`). */
  private readonly storeAttrs = new Set<number>();
  /** Names a function declares `global` and assigns: module-level names too. */
  private readonly globalStores = new Set<string>();
  private readonly imports: ImportBinding[] = [];
  private readonly localIdCounts = new Map<string, number>();
  /** `__all__` names from top-level literal assignments; used only while `allIsLiteral` holds. */
  private allNames: string[] | undefined;
  private allIsLiteral = true;
  private nextBindingId = 0;
  /** The local numbering of the token stream being emitted (format specs emit nested streams). */
  private locals = new Map<number, number>();
  private readonly profile: LanguageProfile;

  constructor(private readonly ct: CompactTree) {
    this.marks = createNodeMarks(ct);
    this.chunkAt = new Int32Array(ct.count);
    this.moduleScope = this.newScope('module', undefined);
    this.scope = this.moduleScope;
    this.profile = {
      dropTokens: DROP_TOKENS,
      unwrap: UNWRAP,
      comments: COMMENTS,
      literal: (_ct, node) => this.literalToken(node),
    };
  }

  run(): RawAnalysis {
    const ct = this.ct;
    this.findChunks();
    this.markTrailingCommas();
    this.markDocstring(0);
    this.visit(0);
    this.finalizeScopes();
    this.resolveOccurrences();
    for (const c of this.chunks) if (c.nameNode !== -1) this.marks.binding[c.nameNode] = BIND_SELF;

    const topLevel = this.computeTopLevel();
    const out: RawChunk[] = [];
    for (const c of this.chunks) {
      const tokens: string[] = [];
      this.locals = new Map();
      emitTokens(ct, this.profile, this.marks, c.node, tokens, this.locals, new Set(c.nested));
      const raw: RawChunk = {
        localId: c.localId,
        name: c.name,
        kind: c.kind,
        start: c.start,
        end: c.end,
        hash: hashTokens('hash', tokens),
        interfaceHash: hashTokens('interface', this.interfaceTokens(c, topLevel)),
        refs: [...c.refs.values()],
        selfRefs: [...c.selfRefs],
      };
      if (c.owner !== undefined) raw.owner = c.owner;
      out.push(raw);
    }
    return { chunks: out, topLevel, imports: this.imports, exports: [] };
  }

  // ---------------------------------------------------------------- chunks

  private findChunks(): void {
    const ct = this.ct;
    this.chunks.push({
      node: 0,
      decl: 0,
      nameNode: -1,
      localId: '',
      name: '',
      kind: 'module',
      start: 0,
      end: ct.source.length,
      nested: [],
      isStatic: false,
      refs: new Map(),
      selfRefs: new Set(),
    });
    this.findChunksIn(0, true);
  }

  private findChunksIn(parent: number, allowError: boolean): void {
    const ct = this.ct;
    const kids = ct.children(parent);
    for (let i = 0; i < kids.length; i++) {
      const n = kids[i]!;
      const t = ct.typeName(n);
      if (t === 'ERROR' && allowError) {
        this.findChunksIn(n, false);
        continue;
      }
      if (t === 'expression_statement') {
        this.findModuleAll(n);
        const asg = onlyNamedChild(ct, n);
        if (asg === -1 || ct.typeName(asg) !== 'assignment') continue;
        const left = ct.childByField(asg, 'left');
        const right = ct.childByField(asg, 'right');
        if (
          left === -1 ||
          right === -1 ||
          ct.typeName(left) !== 'identifier' ||
          ct.typeName(right) !== 'lambda'
        ) {
          continue;
        }
        this.addChunk(n, asg, left, 'variable', undefined, kids, i);
        continue;
      }
      const decl = t === 'decorated_definition' ? ct.childByField(n, 'definition') : n;
      if (decl === -1) continue;
      const dt = ct.typeName(decl);
      if (dt !== 'function_definition' && dt !== 'class_definition') continue;
      const nameNode = ct.childByField(decl, 'name');
      if (nameNode === -1 || ct.end[nameNode] === ct.start[nameNode]) continue;
      const cls = this.addChunk(
        n,
        decl,
        nameNode,
        dt === 'class_definition' ? 'class' : 'function',
        undefined,
        kids,
        i,
      );
      if (dt === 'class_definition') this.findMethods(cls);
    }
  }

  private findMethods(cls: ChunkInfo): void {
    const ct = this.ct;
    const body = ct.childByField(cls.decl, 'body');
    if (body === -1) return;
    const kids = ct.children(body);
    for (let i = 0; i < kids.length; i++) {
      const n = kids[i]!;
      const t = ct.typeName(n);
      const decl = t === 'decorated_definition' ? ct.childByField(n, 'definition') : n;
      if (decl === -1 || ct.typeName(decl) !== 'function_definition') continue;
      const nameNode = ct.childByField(decl, 'name');
      if (nameNode === -1 || ct.end[nameNode] === ct.start[nameNode]) continue;
      const m = this.addChunk(n, decl, nameNode, 'method', cls, kids, i);
      m.isStatic = t === 'decorated_definition' && this.hasDecorator(n, 'staticmethod');
    }
  }

  private addChunk(
    node: number,
    decl: number,
    nameNode: number,
    kind: ChunkKind,
    owner: ChunkInfo | undefined,
    siblings: number[],
    index: number,
  ): ChunkInfo {
    const name = this.ct.text(nameNode);
    const base = owner === undefined ? name : `${owner.localId}.${name}`;
    const seen = (this.localIdCounts.get(base) ?? 0) + 1;
    this.localIdCounts.set(base, seen);
    const info: ChunkInfo = {
      node,
      decl,
      nameNode,
      localId: seen === 1 ? base : `${base}~${seen}`,
      name,
      kind,
      start: this.leadingStart(node, siblings, index),
      end: this.ct.end[node]!,
      nested: [],
      isStatic: false,
      refs: new Map(),
      selfRefs: new Set(),
    };
    if (owner !== undefined) {
      info.owner = owner.name;
      owner.nested.push(node);
    } else {
      this.chunks[0]!.nested.push(node);
    }
    this.chunks.push(info);
    this.chunkAt[node] = this.chunks.length;
    return info;
  }

  /**
   * Start of a chunk extended backwards over the comments that directly precede it: each on a
   * line of its own, separated from the next by whitespace with at most one line break. The
   * first statement of a block also takes comments tree-sitter left before the block itself
   * (`class C:\n    # about m\n    def m(self): ...`).
   */
  private leadingStart(node: number, siblings: number[], index: number): number {
    const ct = this.ct;
    const src = ct.source;
    let start = ct.start[node]!;
    let kids = siblings;
    let i = index;
    for (;;) {
      if (i === 0) {
        const block = ct.parent[kids[0]!]!;
        if (block === -1 || ct.typeName(block) !== 'block' || ct.fieldName(block) !== 'body') return start;
        const holder = ct.parent[block]!;
        kids = ct.children(holder);
        i = kids.indexOf(block);
        if (i <= 0) return start;
      }
      const prev = kids[i - 1]!;
      if (ct.typeName(prev) !== 'comment') return start;
      const gap = src.slice(ct.end[prev]!, start);
      if (!/^[ \t\f\r\n]*$/.test(gap) || gap.split('\n').length > 2) return start;
      let k = ct.start[prev]! - 1;
      while (k >= 0 && (src[k] === ' ' || src[k] === '\t' || src[k] === '\f')) k--;
      if (k >= 0 && src[k] !== '\n' && src[k] !== '\r') return start;
      start = ct.start[prev]!;
      i--;
    }
  }

  private hasDecorator(decorated: number, name: string): boolean {
    const ct = this.ct;
    for (let c = ct.firstChild[decorated]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.typeName(c) !== 'decorator') continue;
      const e = onlyNamedChild(ct, c);
      if (e !== -1 && ct.typeName(e) === 'identifier' && ct.text(e) === name) return true;
    }
    return false;
  }

  /** Collects a literal `__all__` (`= [...]`, `+= [...]`) from a top-level statement. */
  private findModuleAll(stmt: number): void {
    const ct = this.ct;
    const e = onlyNamedChild(ct, stmt);
    if (e === -1) return;
    const t = ct.typeName(e);
    if (t !== 'assignment' && t !== 'augmented_assignment') return;
    const left = ct.childByField(e, 'left');
    if (left === -1 || ct.typeName(left) !== 'identifier' || ct.text(left) !== '__all__') return;
    const right = ct.childByField(e, 'right');
    const names = right === -1 ? undefined : this.literalStrings(right);
    if (names === undefined) {
      this.allIsLiteral = false;
      return;
    }
    this.allNames = t === 'assignment' || this.allNames === undefined ? names : [...this.allNames, ...names];
  }

  private literalStrings(node: number): string[] | undefined {
    const ct = this.ct;
    const t = ct.typeName(node);
    if (t !== 'list' && t !== 'tuple') return undefined;
    const out: string[] = [];
    for (const c of ct.namedChildren(node)) {
      if (COMMENTS.has(ct.typeName(c))) continue;
      const v = this.stringValue(c);
      if (v === undefined || v.tag !== 's') return undefined;
      out.push(v.value);
    }
    return out;
  }

  // ---------------------------------------------------------------- marks before the walk

  /** Trailing commas are optional punctuation (rule 4), except `a[1,]`, which indexes by a tuple. */
  private markTrailingCommas(): void {
    const ct = this.ct;
    const names = ct.tables.typeNames;
    const commaId = names.indexOf(',');
    if (commaId === -1) return;
    const type = ct.type;
    const n = ct.count;
    for (let i = 0; i < n; i++) {
      if (type[i] !== commaId) continue;
      let next = ct.nextSibling[i]!;
      while (next !== -1 && COMMENTS.has(names[type[next]!]!)) next = ct.nextSibling[next]!;
      if (next !== -1 && !CLOSING.has(names[type[next]!]!)) continue;
      const parent = ct.parent[i]!;
      if (
        parent !== -1 &&
        ct.typeName(parent) === 'subscript' &&
        ct.childrenByField(parent, 'subscript').length < 2
      ) {
        continue;
      }
      this.marks.skip[i] = 1;
    }
  }

  /** A docstring (first statement of a module, class or function body, a bare string) counts as a comment. */
  private markDocstring(body: number): void {
    const ct = this.ct;
    let first = ct.firstChild[body]!;
    while (first !== -1 && (!ct.isNamed(first) || COMMENTS.has(ct.typeName(first))))
      first = ct.nextSibling[first]!;
    if (first === -1 || ct.typeName(first) !== 'expression_statement') return;
    const e = onlyNamedChild(ct, first);
    if (e === -1) return;
    const t = ct.typeName(e);
    if (t !== 'string' && t !== 'concatenated_string') return;
    const v = this.stringValue(e);
    if (v !== undefined && v.tag === 's' && !v.formatted) this.marks.skip[first] = 1;
  }

  // ---------------------------------------------------------------- scope walk

  private newScope(kind: ScopeKind, parent: Scope | undefined): Scope {
    const s: Scope = {
      kind,
      parent,
      sites: new Map(),
      globals: undefined,
      nonlocals: undefined,
      bindings: new Map(),
    };
    this.scopes.push(s);
    return s;
  }

  private addSite(scope: Scope, name: string, how: number): void {
    scope.sites.set(name, (scope.sites.get(name) ?? 0) | how);
  }

  private addOcc(node: number, kind: number, scope: Scope): void {
    this.occNode.push(node);
    this.occKind.push(kind);
    this.occScope.push(scope);
    this.occChunk.push(this.chunk);
  }

  private bindName(node: number, scope: Scope, how = SITE_OTHER): void {
    this.addSite(scope, this.ct.text(node), how);
    this.addOcc(node, OCC_STORE, scope);
  }

  private visit(node: number): void {
    const ci = this.chunkAt[node]!;
    if (ci !== 0) {
      const saved = this.chunk;
      this.chunk = ci - 1;
      this.visitNode(node);
      this.chunk = saved;
      return;
    }
    this.visitNode(node);
  }

  private visitChildren(node: number): void {
    const ct = this.ct;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) if (ct.isNamed(c)) this.visit(c);
  }

  private visitNode(node: number): void {
    const ct = this.ct;
    const t = ct.typeName(node);
    switch (t) {
      case 'identifier':
        this.addOcc(node, OCC_LOAD, this.scope);
        return;
      case 'comment':
      case 'line_continuation':
      case 'integer':
      case 'float':
        return;
      case 'string':
        if (ct.childOfType(node, 'interpolation') !== -1) this.visitChildren(node);
        return;
      case 'function_definition':
        this.visitFunction(node);
        return;
      case 'class_definition':
        this.visitClass(node);
        return;
      case 'lambda':
        this.visitLambda(node);
        return;
      case 'assignment':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.fieldName(c) === 'left') this.visitTarget(c, this.scope);
          else this.visit(c);
        }
        return;
      case 'augmented_assignment':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.fieldName(c) === 'left' && ct.typeName(c) === 'identifier') {
            this.addSite(this.scope, ct.text(c), SITE_OTHER);
            this.addOcc(c, OCC_AUG, this.scope);
          } else this.visit(c);
        }
        return;
      case 'for_statement':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.fieldName(c) === 'left') this.visitTarget(c, this.scope);
          else this.visit(c);
        }
        return;
      case 'as_pattern':
        this.visitAsPattern(node, false);
        return;
      case 'named_expression': {
        // `:=` binds in the nearest enclosing scope that is not a comprehension.
        let target = this.scope;
        while (target.kind === 'comprehension' && target.parent !== undefined) target = target.parent;
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.fieldName(c) === 'name' && ct.typeName(c) === 'identifier') this.bindName(c, target);
          else this.visit(c);
        }
        return;
      }
      case 'import_statement':
      case 'import_from_statement':
      case 'future_import_statement':
        this.visitImport(node, t);
        return;
      case 'global_statement':
      case 'nonlocal_statement': {
        // A module-level `global` changes nothing; `nonlocal` only means something in a function.
        const s = this.scope;
        const isGlobal = t === 'global_statement';
        const declares = s.kind !== 'module' && (isGlobal || s.kind !== 'class');
        let names: Set<string> | undefined;
        if (declares) {
          names = (isGlobal ? s.globals : s.nonlocals) ?? new Set();
          if (isGlobal) s.globals = names;
          else s.nonlocals = names;
        }
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (ct.typeName(c) !== 'identifier') continue;
          names?.add(ct.text(c));
          this.addOcc(c, OCC_DECL, s);
        }
        return;
      }
      case 'delete_statement':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (ct.isNamed(c)) this.visitTarget(c, this.scope);
        }
        return;
      case 'keyword_argument':
        // The keyword is a parameter name of the callee, never renamed nor a reference.
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (ct.isNamed(c) && ct.fieldName(c) !== 'name') this.visit(c);
        }
        return;
      case 'attribute':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (ct.isNamed(c) && ct.fieldName(c) !== 'attribute') this.visit(c);
        }
        return;
      case 'dotted_name': {
        // Outside imports: `a.b.c` reads `a`; the rest are attribute names.
        const first = ct.firstChild[node]!;
        if (first !== -1 && ct.typeName(first) === 'identifier') this.addOcc(first, OCC_LOAD, this.scope);
        return;
      }
      case 'case_clause':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.typeName(c) === 'case_pattern') this.visitPattern(c);
          else this.visit(c);
        }
        return;
      case 'type_alias_statement':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          const id = ct.fieldName(c) === 'left' ? firstIdentifier(ct, c) : -1;
          if (id !== -1) this.bindName(id, this.scope);
          else this.visit(c);
        }
        return;
      default:
        if (COMPREHENSIONS.has(t)) this.visitComprehension(node);
        else this.visitChildren(node);
    }
  }

  /** Binds the identifiers of an assignment / `for` / `with` / `del` target in `scope`. */
  private visitTarget(node: number, scope: Scope): void {
    const ct = this.ct;
    const t = ct.typeName(node);
    if (t === 'identifier') {
      this.bindName(node, scope);
      return;
    }
    if (TARGET_GROUPS.has(t)) {
      for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!)
        if (ct.isNamed(c)) this.visitTarget(c, scope);
      return;
    }
    if (t === 'attribute') this.storeAttrs.add(node);
    const saved = this.scope;
    this.scope = scope;
    this.visit(node);
    this.scope = saved;
  }

  /** `x as y` in `with`, `except` and `case`: `y` is bound, `x` evaluated (or matched). */
  private visitAsPattern(node: number, inPattern: boolean): void {
    const ct = this.ct;
    let afterAs = false;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c)) {
        if (ct.typeName(c) === 'as') afterAs = true;
        continue;
      }
      if (ct.fieldName(c) === 'alias' || afterAs) {
        this.visitTarget(c, this.scope);
      } else if (inPattern || ct.typeName(c) === 'case_pattern') this.visitPattern(c);
      else this.visit(c);
    }
  }

  /** A `match` case pattern: capture names are bound; class names and dotted values are read. */
  private visitPattern(node: number): void {
    const ct = this.ct;
    const t = ct.typeName(node);
    switch (t) {
      case 'dotted_name': {
        const ids = ct.namedChildren(node);
        if (ids.length === 1 && ct.typeName(ids[0]!) === 'identifier') {
          if (ct.text(ids[0]!) !== '_') this.bindName(ids[0]!, this.scope);
        } else this.visit(node);
        return;
      }
      case 'splat_pattern':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (ct.typeName(c) === 'identifier' && ct.text(c) !== '_') this.bindName(c, this.scope);
        }
        return;
      case 'as_pattern':
        this.visitAsPattern(node, true);
        return;
      case 'keyword_pattern': {
        // `x=pattern`: `x` is an attribute name of the matched class.
        let first = true;
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (first && ct.typeName(c) === 'identifier') {
            first = false;
            continue;
          }
          this.visitPattern(c);
        }
        return;
      }
      case 'class_pattern':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.typeName(c) === 'dotted_name') this.visit(c);
          else this.visitPattern(c);
        }
        return;
      case 'dict_pattern':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.fieldName(c) === 'key') this.visit(c);
          else this.visitPattern(c);
        }
        return;
      case 'case_pattern':
      case 'list_pattern':
      case 'tuple_pattern':
      case 'union_pattern':
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!)
          if (ct.isNamed(c)) this.visitPattern(c);
        return;
      default:
        this.visit(node);
    }
  }

  private visitFunction(node: number): void {
    const ct = this.ct;
    const outer = this.scope;
    const nameNode = ct.childByField(node, 'name');
    if (nameNode !== -1) this.bindName(nameNode, outer);
    const annotations = this.typeParameterScope(node, outer);
    const fn = this.newScope('function', annotations);
    const parent = ct.parent[node]!;
    const ci = this.chunkAt[node]! || (parent === -1 ? 0 : this.chunkAt[parent]!);
    if (ci !== 0 && this.chunks[ci - 1]!.decl === node) this.chunks[ci - 1]!.fnScope = fn;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c)) continue;
      const field = ct.fieldName(c);
      if (field === 'parameters') this.visitParameters(c, fn, outer, annotations);
      else if (field === 'return_type') this.visitIn(c, annotations);
      else if (field === 'body') {
        this.markDocstring(c);
        this.visitIn(c, fn);
      } else if (field !== 'name' && field !== 'type_parameters') this.visitIn(c, outer);
    }
  }

  private visitClass(node: number): void {
    const ct = this.ct;
    const outer = this.scope;
    const nameNode = ct.childByField(node, 'name');
    if (nameNode !== -1) this.bindName(nameNode, outer);
    const annotations = this.typeParameterScope(node, outer);
    const body = this.newScope('class', annotations);
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c)) continue;
      const field = ct.fieldName(c);
      if (field === 'superclasses') {
        // `class C():` is `class C:`.
        if (ct.namedChildren(c).length === 0) this.marks.skip[c] = 1;
        else this.visitIn(c, annotations);
      } else if (field === 'body') {
        this.markDocstring(c);
        this.visitIn(c, body);
      } else if (field !== 'name' && field !== 'type_parameters') this.visitIn(c, outer);
    }
  }

  /** PEP 695 `[T, *Ts, **P]`: their own scope, names kept (they are part of the signature). */
  private typeParameterScope(node: number, outer: Scope): Scope {
    const ct = this.ct;
    const tp = ct.childByField(node, 'type_parameters');
    if (tp === -1) return outer;
    const s = this.newScope('annotation', outer);
    for (const ty of ct.namedChildren(tp)) {
      const inner = ct.typeName(ty) === 'type' ? onlyNamedChild(ct, ty) : ty;
      if (inner === -1) continue;
      const it = ct.typeName(inner);
      if (it === 'identifier') this.addSite(s, ct.text(inner), SITE_PARAM);
      else if (it === 'splat_type') {
        const id = ct.childOfType(inner, 'identifier');
        if (id !== -1) this.addSite(s, ct.text(id), SITE_PARAM);
      } else if (it === 'constrained_type') {
        const parts = ct.namedChildren(inner);
        const id = parts.length > 0 ? firstIdentifier(ct, parts[0]!) : -1;
        if (id !== -1) this.addSite(s, ct.text(id), SITE_PARAM);
        for (let k = 1; k < parts.length; k++) this.visitIn(parts[k]!, s);
      } else this.visitIn(inner, s);
    }
    return s;
  }

  private visitLambda(node: number): void {
    const ct = this.ct;
    const outer = this.scope;
    const fn = this.newScope('function', outer);
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c)) continue;
      if (ct.fieldName(c) === 'parameters') this.visitParameters(c, fn, outer, outer);
      else this.visitIn(c, fn);
    }
  }

  /** Parameter names bind in `fn` (kept, never renamed); defaults and annotations are evaluated outside. */
  private visitParameters(params: number, fn: Scope, defaults: Scope, annotations: Scope): void {
    const ct = this.ct;
    for (let p = ct.firstChild[params]!; p !== -1; p = ct.nextSibling[p]!) {
      if (!ct.isNamed(p)) continue;
      switch (ct.typeName(p)) {
        case 'identifier':
          this.addSite(fn, ct.text(p), SITE_PARAM);
          break;
        case 'list_splat_pattern':
        case 'dictionary_splat_pattern':
        case 'tuple_pattern':
          this.bindParameterNames(p, fn);
          break;
        case 'typed_parameter':
        case 'default_parameter':
        case 'typed_default_parameter':
          for (let c = ct.firstChild[p]!; c !== -1; c = ct.nextSibling[c]!) {
            if (!ct.isNamed(c)) continue;
            const field = ct.fieldName(c);
            if (field === 'type') this.visitIn(c, annotations);
            else if (field === 'value') this.visitIn(c, defaults);
            else this.bindParameterNames(c, fn);
          }
          break;
        default:
          this.visitIn(p, defaults);
      }
    }
  }

  private bindParameterNames(node: number, fn: Scope): void {
    const ct = this.ct;
    if (ct.typeName(node) === 'identifier') {
      this.addSite(fn, ct.text(node), SITE_PARAM);
      return;
    }
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.isNamed(c)) this.bindParameterNames(c, fn);
    }
  }

  private visitComprehension(node: number): void {
    const ct = this.ct;
    const outer = this.scope;
    const comp = this.newScope('comprehension', outer);
    let firstClause = true;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c)) continue;
      if (ct.typeName(c) !== 'for_in_clause') {
        this.visitIn(c, comp);
        continue;
      }
      for (let k = ct.firstChild[c]!; k !== -1; k = ct.nextSibling[k]!) {
        if (!ct.isNamed(k)) continue;
        const field = ct.fieldName(k);
        if (field === 'left') this.visitTarget(k, comp);
        // The outermost iterable is evaluated in the enclosing scope.
        else this.visitIn(k, field === 'right' && firstClause ? outer : comp);
      }
      firstClause = false;
    }
  }

  private visitIn(node: number, scope: Scope): void {
    const saved = this.scope;
    this.scope = scope;
    this.visit(node);
    this.scope = saved;
  }

  private visitImport(node: number, type: string): void {
    const ct = this.ct;
    const scope = this.scope;
    const chunk = scope.kind === 'module' ? undefined : this.chunks[this.chunk]!;
    const record = (local: string, specifier: string, imported: string): void => {
      const b: ImportBinding = { local, specifier, imported };
      if (chunk !== undefined) {
        b.chunk = chunk.localId;
        if (local !== '*') addRef(chunk, local, []);
      }
      this.imports.push(b);
    };
    if (type === 'import_statement') {
      for (const c of ct.childrenByField(node, 'name')) {
        if (ct.typeName(c) === 'aliased_import') {
          const name = ct.childByField(c, 'name');
          const alias = ct.childByField(c, 'alias');
          if (name === -1 || alias === -1) continue;
          this.bindName(alias, scope, SITE_ALIAS);
          record(ct.text(alias), dottedText(ct, name), '*');
        } else {
          const first = firstIdentifier(ct, c);
          if (first === -1) continue;
          this.addSite(scope, ct.text(first), SITE_IMPORT);
          record(ct.text(first), dottedText(ct, c), '*');
        }
      }
      return;
    }
    let specifier = '__future__';
    if (type === 'import_from_statement') {
      const mod = ct.childByField(node, 'module_name');
      if (mod === -1) return;
      if (ct.typeName(mod) === 'relative_import') {
        specifier = '';
        for (let c = ct.firstChild[mod]!; c !== -1; c = ct.nextSibling[c]!) {
          const ctype = ct.typeName(c);
          if (ctype === 'import_prefix') specifier += '.'.repeat(ct.text(c).replace(/[^.]/g, '').length);
          else if (ctype === 'dotted_name') specifier += dottedText(ct, c);
        }
      } else specifier = dottedText(ct, mod);
    }
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      const ctype = ct.typeName(c);
      if (ctype === 'wildcard_import') {
        record('*', specifier, '*');
      } else if (ct.fieldName(c) !== 'name') {
      } else if (ctype === 'aliased_import') {
        const name = ct.childByField(c, 'name');
        const alias = ct.childByField(c, 'alias');
        if (name === -1 || alias === -1) continue;
        this.bindName(alias, scope, SITE_ALIAS);
        record(ct.text(alias), specifier, dottedText(ct, name));
      } else {
        const imported = dottedText(ct, c);
        if (imported === '') continue;
        this.addSite(scope, imported, SITE_IMPORT);
        record(imported, specifier, imported);
      }
    }
  }

  // ---------------------------------------------------------------- resolution

  private finalizeScopes(): void {
    for (const s of this.scopes) {
      const functionLike = s.kind === 'function' || s.kind === 'comprehension';
      for (const [name, how] of s.sites) {
        if (s.globals?.has(name)) {
          this.globalStores.add(name);
          continue;
        }
        if (s.nonlocals?.has(name)) continue;
        s.bindings.set(name, {
          id: this.nextBindingId++,
          scope: s,
          renamed: functionLike && (how & (SITE_PARAM | SITE_IMPORT)) === 0,
          fromImport: (how & (SITE_IMPORT | SITE_ALIAS)) !== 0,
        });
      }
    }
  }

  /** Python name lookup from `scope`: class scopes are seen only by code directly in their body. */
  private resolve(scope: Scope, name: string): Binding | undefined {
    let s: Scope | undefined = scope;
    let first = true;
    while (s !== undefined) {
      if (s.kind !== 'class' || first) {
        if (s.globals?.has(name)) return this.moduleScope.bindings.get(name);
        if (s.nonlocals?.has(name)) return this.resolveNonlocal(s.parent, name);
        const b = s.bindings.get(name);
        if (b !== undefined) return b;
      }
      first = false;
      s = s.parent;
    }
    return undefined;
  }

  private resolveNonlocal(scope: Scope | undefined, name: string): Binding | undefined {
    for (let s = scope; s !== undefined && s.kind !== 'module'; s = s.parent) {
      if (s.kind === 'class') continue;
      if (s.globals?.has(name)) return undefined;
      if (s.nonlocals?.has(name)) continue;
      const b = s.bindings.get(name);
      if (b !== undefined) return b;
    }
    return undefined;
  }

  private resolveOccurrences(): void {
    const ct = this.ct;
    const binding = this.marks.binding;
    const selfParams = new Map<number, Binding>();
    for (let i = 1; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      if (c.kind !== 'method' || c.isStatic || c.fnScope === undefined) continue;
      const first = firstParameterName(ct, c.decl);
      const b = first === undefined ? undefined : c.fnScope.bindings.get(first);
      if (b !== undefined) selfParams.set(i, b);
    }
    const n = this.occNode.length;
    for (let i = 0; i < n; i++) {
      const node = this.occNode[i]!;
      const kind = this.occKind[i]!;
      const name = ct.text(node);
      const b = this.resolve(this.occScope[i]!, name);
      if (b?.renamed) binding[node] = b.id;
      if (kind !== OCC_LOAD && kind !== OCC_AUG) continue;
      const ci = this.occChunk[i]!;
      const chunk = this.chunks[ci]!;
      if (b === undefined || b.scope.kind === 'module') {
        if (ci !== 0 && chunk.kind !== 'method' && name === chunk.name) binding[node] = BIND_SELF;
        else addRef(chunk, name, memberChain(ct, node));
        continue;
      }
      if (b.fromImport) addRef(chunk, name, memberChain(ct, node));
      if (b === selfParams.get(ci)) this.addSelfRef(chunk, node);
    }
  }

  private addSelfRef(chunk: ChunkInfo, node: number): void {
    const ct = this.ct;
    const parent = ct.parent[node]!;
    if (parent === -1 || ct.typeName(parent) !== 'attribute' || ct.fieldName(node) !== 'object') return;
    const attr = ct.childByField(parent, 'attribute');
    if (attr === -1) return;
    const name = ct.text(attr);
    if (name === chunk.name) this.marks.binding[attr] = BIND_SELF;
    else if (!this.storeAttrs.has(parent)) chunk.selfRefs.add(name);
  }

  private computeTopLevel(): Record<string, string> {
    // A Map, then own data properties: a Python name may be `__proto__` or `constructor`.
    const topLevel = new Map<string, string>();
    for (const [name, how] of this.moduleScope.sites) {
      if ((how & (SITE_IMPORT | SITE_ALIAS)) === 0) topLevel.set(name, '');
    }
    for (const name of this.globalStores) if (!topLevel.has(name)) topLevel.set(name, '');
    for (const c of this.chunks) {
      if (c.kind === 'function' || c.kind === 'class' || c.kind === 'variable')
        topLevel.set(c.name, c.localId);
    }
    return Object.fromEntries(topLevel);
  }

  // ---------------------------------------------------------------- interface

  private interfaceTokens(c: ChunkInfo, topLevel: Record<string, string>): string[] {
    const ct = this.ct;
    if (c.kind === 'module') {
      const names =
        this.allNames !== undefined && this.allIsLiteral
          ? [...new Set(this.allNames)]
          : Object.keys(topLevel).filter((k) => !k.startsWith('_'));
      return ['module', ...names.sort()];
    }
    if (c.kind === 'variable') {
      const out = ['variable', c.name];
      const type = ct.childByField(c.decl, 'type');
      if (type !== -1) this.emit(type, out);
      const lambda = ct.childByField(c.decl, 'right');
      const params = lambda === -1 ? -1 : ct.childByField(lambda, 'parameters');
      if (params !== -1) this.emitParameters(params, out);
      return out;
    }
    if (c.kind === 'function' || c.kind === 'method') return this.functionSignature(c.kind, c.node, c.decl);
    return this.classSignature(c.node, c.decl);
  }

  private functionSignature(kind: string, node: number, decl: number): string[] {
    const ct = this.ct;
    const nameNode = ct.childByField(decl, 'name');
    const out = [kind, nameNode === -1 ? '' : ct.text(nameNode)];
    this.emitDecorators(node, out);
    if (ct.childOfType(decl, 'async') !== -1) out.push('async');
    const tp = ct.childByField(decl, 'type_parameters');
    if (tp !== -1) this.emit(tp, out);
    const params = ct.childByField(decl, 'parameters');
    if (params !== -1) this.emitParameters(params, out);
    const ret = ct.childByField(decl, 'return_type');
    if (ret !== -1) this.emit(ret, out);
    return out;
  }

  private classSignature(node: number, decl: number): string[] {
    const ct = this.ct;
    const nameNode = ct.childByField(decl, 'name');
    const out = ['class', nameNode === -1 ? '' : ct.text(nameNode)];
    this.emitDecorators(node, out);
    const tp = ct.childByField(decl, 'type_parameters');
    if (tp !== -1) this.emit(tp, out);
    const bases = ct.childByField(decl, 'superclasses');
    if (bases !== -1) this.emit(bases, out);
    const body = ct.childByField(decl, 'body');
    if (body === -1) return out;
    const members: string[] = [];
    for (const s of ct.namedChildren(body)) {
      const t = ct.typeName(s);
      const d = t === 'decorated_definition' ? ct.childByField(s, 'definition') : s;
      if (d === -1) continue;
      const dt = ct.typeName(d);
      if (dt === 'function_definition' || dt === 'class_definition') {
        const nameId = ct.childByField(d, 'name');
        if (nameId === -1 || !isPublicMember(ct.text(nameId))) continue;
        const sig =
          dt === 'function_definition' ? this.functionSignature('method', s, d) : ['class', ct.text(nameId)];
        members.push(JSON.stringify(sig));
      } else if (t === 'expression_statement') {
        const asg = onlyNamedChild(ct, s);
        if (asg === -1 || ct.typeName(asg) !== 'assignment') continue;
        const left = ct.childByField(asg, 'left');
        if (left === -1 || ct.typeName(left) !== 'identifier' || !isPublicMember(ct.text(left))) continue;
        const sig = ['attribute', ct.text(left)];
        const type = ct.childByField(asg, 'type');
        if (type !== -1) this.emit(type, sig);
        members.push(JSON.stringify(sig));
      }
    }
    out.push(...members.sort());
    return out;
  }

  private emitDecorators(node: number, out: string[]): void {
    const ct = this.ct;
    if (ct.typeName(node) !== 'decorated_definition') return;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.typeName(c) === 'decorator') this.emit(c, out);
    }
  }

  /** Parameters as callers see them: names, kinds (`/`, `*`, `**`), annotations, and `=` for a default (not its value). */
  private emitParameters(params: number, out: string[]): void {
    const ct = this.ct;
    const defaults = new Set<number>();
    for (let p = ct.firstChild[params]!; p !== -1; p = ct.nextSibling[p]!) {
      const value = ct.isNamed(p) ? ct.childByField(p, 'value') : -1;
      if (value !== -1) defaults.add(value);
    }
    this.locals = new Map();
    emitTokens(ct, this.profile, this.marks, params, out, this.locals, defaults);
  }

  private emit(node: number, out: string[]): void {
    this.locals = new Map();
    emitTokens(this.ct, this.profile, this.marks, node, out, this.locals);
  }

  // ---------------------------------------------------------------- literals

  private literalToken(node: number): string | undefined {
    const ct = this.ct;
    switch (ct.typeName(node)) {
      case 'integer':
      case 'float': {
        const text = ct.text(node);
        const last = text[text.length - 1];
        if (last === 'j' || last === 'J') return `c:${canonicalNumber(text.slice(0, -1), false) ?? text}`;
        // Python keeps int and float apart: `1000` is not `1000.0`, but `1e3` is `1000.0`.
        const tag = ct.typeName(node) === 'integer' ? 'n' : 'f';
        return `${tag}:${canonicalNumber(text, false) ?? text}`;
      }
      case 'string':
      case 'concatenated_string': {
        const v = this.stringValue(node);
        if (v === undefined) return undefined;
        return v.tag === 's' ? stringToken(v.value) : `${v.tag}:${JSON.stringify(v.value)}`;
      }
      // Inside an f-string with substitutions (walked as structure).
      case 'string_start':
        return stringPrefix(ct.text(node)).includes('t') ? 'tstring' : 'fstring';
      case 'string_end':
        return 'fstring_end';
      case 'string_content': {
        const parent = ct.parent[node]!;
        const start = parent === -1 ? -1 : ct.firstChild[parent]!;
        const prefix =
          start !== -1 && ct.typeName(start) === 'string_start' ? stringPrefix(ct.text(start)) : '';
        return stringToken(decodeStringBody(ct.text(node), prefix, true));
      }
      case 'format_specifier':
        return this.formatSpecifierToken(node);
      default:
        return undefined;
    }
  }

  /**
   * `{x:>{w}d}`: the specifier's text is not in the tree (only its nested expressions are), so it
   * becomes one token holding the text pieces and the nested expressions' own tokens, numbered in
   * the stream being emitted.
   */
  private formatSpecifierToken(node: number): string {
    const ct = this.ct;
    const parts: (string | string[])[] = [];
    let pos = ct.start[node]!;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.typeName(c) !== 'format_expression') continue;
      parts.push(ct.source.slice(pos, ct.start[c]!));
      const inner: string[] = [];
      emitTokens(ct, this.profile, this.marks, c, inner, this.locals);
      parts.push(inner);
      pos = ct.end[c]!;
    }
    parts.push(ct.source.slice(pos, ct.end[node]!));
    return `fmt:${JSON.stringify(parts)}`;
  }

  /**
   * The value of a string literal (or an implicit concatenation of them) without substitutions:
   * tag `s` (str), `b` (bytes) or `t` (template). Undefined for f-strings with substitutions or
   * a mix of kinds, which stay structural.
   */
  private stringValue(node: number): { tag: string; value: string; formatted: boolean } | undefined {
    const ct = this.ct;
    if (ct.typeName(node) === 'concatenated_string') {
      let tag: string | undefined;
      let value = '';
      let formatted = false;
      for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
        if (ct.typeName(c) !== 'string') continue;
        const v = this.stringValue(c);
        if (v === undefined || (tag !== undefined && v.tag !== tag)) return undefined;
        tag = v.tag;
        value += v.value;
        formatted ||= v.formatted;
      }
      return tag === undefined ? undefined : { tag, value, formatted };
    }
    if (ct.typeName(node) !== 'string') return undefined;
    const first = ct.firstChild[node]!;
    if (first === -1 || ct.typeName(first) !== 'string_start') return undefined;
    let last = first;
    for (let c = first; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.typeName(c) === 'interpolation') return undefined;
      last = c;
    }
    const prefix = stringPrefix(ct.text(first));
    const end = ct.typeName(last) === 'string_end' ? ct.start[last]! : ct.end[node]!;
    const formatted = prefix.includes('f') || prefix.includes('t');
    const body = ct.source.slice(ct.end[first]!, Math.max(ct.end[first]!, end));
    const tag = prefix.includes('b') ? 'b' : prefix.includes('t') ? 't' : 's';
    return { tag, value: decodeStringBody(body, prefix, formatted), formatted };
  }
}

// ---------------------------------------------------------------- helpers

function addRef(chunk: ChunkInfo, name: string, members: string[]): void {
  const key = members.length === 0 ? name : `${name}.${members.join('.')}`;
  if (!chunk.refs.has(key)) chunk.refs.set(key, { name, members });
}

/** `os.path.join` read from the `os` identifier: `['path', 'join']` (at most three). */
function memberChain(ct: CompactTree, node: number): string[] {
  const members: string[] = [];
  const holder = ct.parent[node]!;
  if (holder !== -1 && ct.typeName(holder) === 'dotted_name') {
    // `case Color.RED:` (a value pattern) reads `Color` and then its attributes.
    for (let c = ct.nextSibling[node]!; c !== -1 && members.length < 3; c = ct.nextSibling[c]!) {
      if (ct.typeName(c) === 'identifier') members.push(ct.text(c));
    }
    return members;
  }
  let cur = node;
  while (members.length < 3) {
    const p = ct.parent[cur]!;
    if (p === -1 || ct.fieldName(cur) !== 'object' || ct.typeName(p) !== 'attribute') break;
    const attr = ct.childByField(p, 'attribute');
    if (attr === -1) break;
    members.push(ct.text(attr));
    cur = p;
  }
  return members;
}

function onlyNamedChild(ct: CompactTree, node: number): number {
  let found = -1;
  for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
    if (!ct.isNamed(c) || COMMENTS.has(ct.typeName(c))) continue;
    if (found !== -1) return -1;
    found = c;
  }
  return found;
}

function firstIdentifier(ct: CompactTree, node: number): number {
  if (ct.typeName(node) === 'identifier') return node;
  for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
    if (!ct.isNamed(c)) continue;
    const id = firstIdentifier(ct, c);
    if (id !== -1) return id;
  }
  return -1;
}

/** `a . b` -> `'a.b'`. */
function dottedText(ct: CompactTree, node: number): string {
  if (ct.typeName(node) === 'identifier') return ct.text(node);
  const parts: string[] = [];
  for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
    if (ct.typeName(c) === 'identifier') parts.push(ct.text(c));
  }
  return parts.join('.');
}

/** The name of a function's first parameter, unless it is `*args` / `**kw` or there is none. */
function firstParameterName(ct: CompactTree, fn: number): string | undefined {
  const params = ct.childByField(fn, 'parameters');
  if (params === -1) return undefined;
  for (let p = ct.firstChild[params]!; p !== -1; p = ct.nextSibling[p]!) {
    if (!ct.isNamed(p) || COMMENTS.has(ct.typeName(p))) continue;
    const t = ct.typeName(p);
    if (t === 'identifier') return ct.text(p);
    if (t === 'typed_parameter' || t === 'default_parameter' || t === 'typed_default_parameter') {
      const first = ct.namedChildren(p)[0];
      return first !== undefined && ct.typeName(first) === 'identifier' ? ct.text(first) : undefined;
    }
    return undefined;
  }
  return undefined;
}

/** Public to callers: not `_private`, but dunder protocol names (`__init__`) are. */
function isPublicMember(name: string): boolean {
  return !name.startsWith('_') || (name.length > 4 && name.startsWith('__') && name.endsWith('__'));
}

/** The lowercase prefix letters of a `string_start` token (`Rb'''` -> `'rb'`). */
function stringPrefix(start: string): string {
  let k = 0;
  while (k < start.length && start[k] !== "'" && start[k] !== '"') k++;
  return start.slice(0, k).toLowerCase();
}

/**
 * Decodes the source text of a string body: universal newlines (Python reads source that way),
 * `{{`/`}}` in f-strings, and escapes unless raw. Unknown escapes stay as written (`\q`), as do
 * `\N{...}` and, in bytes, `\u`/`\U`/`\N`.
 */
function decodeStringBody(body: string, prefix: string, formatted: boolean): string {
  let s = body.includes('\r') ? body.replace(/\r\n?/g, '\n') : body;
  if (formatted) s = s.replace(/\{\{/g, '{').replace(/\}\}/g, '}');
  if (prefix.includes('r') || !s.includes('\\')) return s;
  const bytes = prefix.includes('b');
  return s.replace(PY_ESCAPE, (seq) => {
    const c = seq[1];
    if (c === '`' || c === '\u2028' || c === '\u2029') return seq;
    if (bytes && (c === 'N' || c === 'u' || c === 'U')) return seq;
    return decodeEscape(seq, true);
  });
}
