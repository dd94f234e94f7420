/**
 * Chunks, scopes and references for JavaScript, TypeScript and TSX (tree-sitter-javascript and
 * tree-sitter-typescript grammars). Hash rules: shared/spec/semantic-hash.md (ccx-sh/1).
 *
 * Scoping follows ECMAScript: `var` and function declarations are hoisted to the enclosing
 * function, `let`/`const`/`class` to the enclosing block; parameters, catch parameters, loop
 * variables, destructuring targets and type parameters are local bindings. Module-level
 * declarations are not local: other chunks and importers see them by name.
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
import type { ChunkKind, ExportBinding, ImportBinding, Language } from '../types.js';
import { ChunkCollector, leadingCommentStart, RefCollector } from './common.js';

const COMMENTS = new Set(['comment', 'html_comment']);

export const JS_PROFILE: LanguageProfile = {
  dropTokens: new Set([',', ';', '(', ')', '{', '}', '[', ']']),
  // A union or intersection with one member is a leading `|` or `&` (`type A =\n  | B\n  | C`,
  // as prettier prints long unions): the same type as without it.
  unwrap: new Set(['parenthesized_expression', 'parenthesized_type', 'union_type', 'intersection_type']),
  comments: COMMENTS,
  // `;[a, b].forEach(f)`: the `;` a no-semicolon style puts before a line starting with `[` or `(`.
  noOps: new Set(['empty_statement']),
  bareParameter(ct, node) {
    const parent = ct.parent[node]!;
    if (parent < 0 || ct.typeName(parent) !== 'arrow_function') return -1;
    let only = -1;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c) || COMMENTS.has(ct.typeName(c))) continue;
      if (only !== -1) return -1;
      only = c;
    }
    if (only !== -1 && ct.typeName(only) === 'required_parameter') {
      // TypeScript wraps each parameter: bare only when it has nothing but its name.
      const inner = ct.firstChild[only]!;
      if (inner === -1 || ct.nextSibling[inner] !== -1) return -1;
      only = inner;
    }
    return only !== -1 && ct.typeName(only) === 'identifier' ? only : -1;
  },
  literal(ct, node) {
    switch (ct.typeName(node)) {
      case 'string':
        return stringToken(stringValue(ct, node));
      case 'template_string': {
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (ct.typeName(c) === 'template_substitution') return undefined;
        }
        return stringToken(stringValue(ct, node));
      }
      case 'number': {
        const text = ct.text(node);
        if (text.endsWith('n')) {
          const v = canonicalNumber(text.slice(0, -1), false);
          return v === undefined ? `n:${text}` : `bigint:${v}`;
        }
        return `n:${canonicalNumber(text, true) ?? text}`;
      }
      default:
        return undefined;
    }
  },
};

/** The value of a string or template literal without substitutions. */
function stringValue(ct: CompactTree, node: number): string {
  let out = '';
  for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
    const t = ct.typeName(c);
    if (t === 'string_fragment') out += ct.text(c);
    else if (t === 'escape_sequence') out += decodeEscape(ct.text(c), false);
    else if (t === 'html_character_reference') out += ct.text(c);
  }
  // A template literal keeps raw text between its backticks when the grammar has no fragments.
  if (out === '' && ct.typeName(node) === 'template_string' && ct.end[node]! - ct.start[node]! > 2) {
    const raw = ct.source.slice(ct.start[node]! + 1, ct.end[node]! - 1);
    return raw.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[0-7]{1,3}|\r\n|[\s\S])/g, (m) =>
      decodeEscape(m, false),
    );
  }
  return out;
}

/** `node` less any parentheses around it (`(x => x)` is the arrow function); -1 stays -1. */
function withoutParentheses(ct: CompactTree, node: number): number {
  while (node !== -1 && ct.typeName(node) === 'parenthesized_expression') {
    let only = -1;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c) || COMMENTS.has(ct.typeName(c))) continue;
      if (only !== -1) return node;
      only = c;
    }
    if (only === -1) return node;
    node = only;
  }
  return node;
}

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);
const CLASS_VALUES = new Set(['class']);
const FUNCTION_LIKE = new Set([
  'function_declaration',
  'generator_function_declaration',
  'function_expression',
  'function',
  'generator_function',
  'arrow_function',
  'method_definition',
]);
const CLASS_DECLS = new Set(['class_declaration', 'abstract_class_declaration']);
const METHOD_NODES = new Set(['method_definition']);
const BLOCK_SCOPES = new Set(['statement_block', 'switch_body', 'class_static_block']);
const MODIFIER_TOKENS = new Set([
  'async',
  'static',
  'get',
  'set',
  '*',
  'readonly',
  'abstract',
  'override',
  'declare',
  '?',
  'accessor',
]);

/** Analyzes a JavaScript, TypeScript or TSX file. */
export function analyzeJavaScript(ct: CompactTree, _language: Language): RawAnalysis {
  return new JsFileAnalyzer(ct).run();
}

interface ChunkPlan {
  localId: string;
  name: string;
  kind: ChunkKind;
  /** Node whose subtree is hashed (an `export` wrapper included). */
  node: number;
  /** The declaration itself (function, class, method, declarator...). */
  decl: number;
  /** For a variable chunk: the function or class value. */
  value: number;
  /** Tokens from wrappers (`export`, `default`, `declare`) for the interface hash. */
  wrapperTokens: string[];
  owner?: string;
  /** The node whose name identifier refers to the chunk itself. */
  nameNode: number;
  /** Decorators written before a method: siblings in the class body that belong to it. */
  leading?: number[];
}

class JsFileAnalyzer {
  private readonly marks: NodeMarks;
  private nextBinding = 0;
  private readonly plans: ChunkPlan[] = [];
  private readonly chunkNodes = new Set<number>();
  private readonly imports: ImportBinding[] = [];
  private readonly exports: ExportBinding[] = [];
  private readonly topLevel: Record<string, string> = {};

  constructor(private readonly ct: CompactTree) {
    this.marks = createNodeMarks(ct);
  }

  run(): RawAnalysis {
    const { ct } = this;
    this.markComments();
    for (let s = ct.firstChild[0]!; s !== -1; s = ct.nextSibling[s]!) this.planTopLevel(s);
    const collector = new ChunkCollector();
    const moduleChunk = this.analyzeModule();
    collector.add(moduleChunk);
    for (const plan of this.plans) collector.add(this.analyzeChunk(plan));
    return {
      chunks: collector.chunks,
      topLevel: this.topLevel,
      imports: this.imports,
      exports: this.exports,
    };
  }

  private markComments(): void {
    const { ct } = this;
    for (let i = 0; i < ct.count; i++) if (COMMENTS.has(ct.typeName(i))) this.marks.skip[i] = 1;
  }

  // ---- finding chunks -------------------------------------------------------------------

  private planTopLevel(stmt: number): void {
    const { ct } = this;
    const type = ct.typeName(stmt);
    switch (type) {
      case 'export_statement':
        this.planExport(stmt);
        return;
      case 'import_statement':
        this.recordImport(stmt);
        return;
      case 'ambient_declaration': {
        const inner = ct.namedChildren(stmt).find((c) => !COMMENTS.has(ct.typeName(c)));
        if (inner !== undefined) this.planDeclaration(stmt, inner, ['declare']);
        return;
      }
      case 'expression_statement': {
        const inner = ct.namedChildren(stmt)[0];
        if (
          inner !== undefined &&
          (ct.typeName(inner) === 'internal_module' || ct.typeName(inner) === 'module')
        ) {
          this.planDeclaration(stmt, inner, []);
          return;
        }
        if (inner !== undefined) this.recordCommonJsExport(inner);
        return;
      }
      default:
        this.planDeclaration(stmt, stmt, []);
    }
  }

  private planExport(stmt: number): void {
    const { ct } = this;
    const decl = ct.childByField(stmt, 'declaration');
    const isDefault = ct.children(stmt).some((c) => !ct.isNamed(c) && ct.typeName(c) === 'default');
    const source = ct.childByField(stmt, 'source');
    const specifier = source === -1 ? undefined : stringValue(ct, source);
    if (decl !== -1) {
      const names = this.planDeclaration(stmt, decl, isDefault ? ['export', 'default'] : ['export']);
      for (const name of names) this.exports.push({ exported: isDefault ? 'default' : name, local: name });
      return;
    }
    const value = withoutParentheses(ct, ct.childByField(stmt, 'value'));
    if (value !== -1) {
      const vt = ct.typeName(value);
      if (FUNCTION_VALUES.has(vt) || CLASS_VALUES.has(vt)) {
        const nameNode = ct.childByField(value, 'name');
        const name = nameNode === -1 ? 'default' : ct.text(nameNode);
        this.addPlan({
          localId: name,
          name,
          kind: CLASS_VALUES.has(vt) ? 'class' : 'function',
          node: stmt,
          decl: value,
          value,
          wrapperTokens: ['export', 'default'],
          nameNode,
        });
        this.exports.push({ exported: 'default', local: name });
        if (CLASS_VALUES.has(vt)) this.planMethods(value, name);
      } else if (vt === 'identifier') {
        this.exports.push({ exported: 'default', local: ct.text(value) });
      } else {
        this.exports.push({ exported: 'default' });
      }
      return;
    }
    for (let c = ct.firstChild[stmt]!; c !== -1; c = ct.nextSibling[c]!) {
      const t = ct.typeName(c);
      if (t === 'export_clause') {
        for (const spec of ct.namedChildren(c)) {
          if (ct.typeName(spec) !== 'export_specifier') continue;
          const nameNode = ct.childByField(spec, 'name');
          const aliasNode = ct.childByField(spec, 'alias');
          const local = moduleExportName(ct, nameNode);
          const exported = aliasNode === -1 ? local : moduleExportName(ct, aliasNode);
          if (specifier === undefined) this.exports.push({ exported, local });
          else this.exports.push({ exported, specifier, imported: local });
        }
      } else if (t === 'namespace_export' && specifier !== undefined) {
        const id = ct.namedChildren(c)[0];
        this.exports.push({ exported: id === undefined ? '*' : ct.text(id), specifier, imported: '*' });
      } else if (!ct.isNamed(c) && t === '*' && specifier !== undefined) {
        if (!ct.children(stmt).some((x) => ct.typeName(x) === 'namespace_export')) {
          this.exports.push({ exported: '*', specifier, imported: '*' });
        }
      }
    }
  }

  /** Plans chunks for a declaration statement; returns the top-level names it declares. */
  private planDeclaration(stmt: number, decl: number, wrapperTokens: string[]): string[] {
    const { ct } = this;
    const type = ct.typeName(decl);
    const nameNode = ct.childByField(decl, 'name');
    const name = nameNode === -1 ? '' : ct.text(nameNode);
    const plan = (kind: ChunkKind) => {
      this.addPlan({ localId: name, name, kind, node: stmt, decl, value: decl, wrapperTokens, nameNode });
      this.topLevel[name] = name;
      return [name];
    };
    switch (type) {
      case 'function_declaration':
      case 'generator_function_declaration':
        return plan('function');
      case 'function_signature':
        // Overload signatures and ambient functions: kept with the module, named for lookups.
        if (name !== '' && this.topLevel[name] === undefined) this.topLevel[name] = '';
        return name === '' ? [] : [name];
      case 'class_declaration':
      case 'abstract_class_declaration': {
        const names = plan('class');
        this.planMethods(decl, name);
        return names;
      }
      case 'interface_declaration':
        return plan('interface');
      case 'type_alias_declaration':
        return plan('type');
      case 'enum_declaration':
        return plan('enum');
      case 'internal_module':
      case 'module': {
        if (nameNode !== -1 && ct.typeName(nameNode) === 'string') {
          return []; // `declare module 'x' { ... }` augments another module: module code.
        }
        return plan('namespace');
      }
      case 'lexical_declaration':
      case 'variable_declaration':
        return this.planVariables(stmt, decl, wrapperTokens);
      default:
        return [];
    }
  }

  private planVariables(stmt: number, decl: number, wrapperTokens: string[]): string[] {
    const { ct } = this;
    const declarators = ct.namedChildren(decl).filter((c) => ct.typeName(c) === 'variable_declarator');
    const names: string[] = [];
    if (declarators.length === 1) {
      const d = declarators[0]!;
      const nameNode = ct.childByField(d, 'name');
      const value = withoutParentheses(ct, ct.childByField(d, 'value'));
      if (nameNode !== -1 && ct.typeName(nameNode) === 'identifier' && value !== -1) {
        const vt = ct.typeName(value);
        if (FUNCTION_VALUES.has(vt) || CLASS_VALUES.has(vt)) {
          const name = ct.text(nameNode);
          this.addPlan({
            localId: name,
            name,
            kind: 'variable',
            node: stmt,
            decl: d,
            value,
            wrapperTokens,
            nameNode,
          });
          this.topLevel[name] = name;
          if (CLASS_VALUES.has(vt)) this.planMethods(value, name);
          return [name];
        }
      }
    }
    for (const d of declarators) {
      const nameNode = ct.childByField(d, 'name');
      const value = ct.childByField(d, 'value');
      if (nameNode === -1) continue;
      if (value !== -1 && this.recordRequire(nameNode, value)) continue;
      for (const id of patternNames(ct, nameNode)) {
        const n = ct.text(id);
        names.push(n);
        if (this.topLevel[n] === undefined) this.topLevel[n] = '';
      }
    }
    return names;
  }

  private planMethods(classNode: number, className: string): void {
    const { ct } = this;
    const body = ct.childByField(classNode, 'body');
    if (body === -1) return;
    let decorators: number[] = [];
    for (let m = ct.firstChild[body]!; m !== -1; m = ct.nextSibling[m]!) {
      const type = ct.typeName(m);
      if (type === 'decorator') {
        decorators.push(m);
        continue;
      }
      if (COMMENTS.has(type)) continue;
      const leading = decorators;
      decorators = [];
      if (!METHOD_NODES.has(type)) continue;
      const nameNode = ct.childByField(m, 'name');
      if (nameNode === -1) continue;
      const methodName = ct.text(nameNode);
      for (const d of leading) this.chunkNodes.add(d);
      this.addPlan({
        leading,
        localId: `${className}.${methodName}`,
        name: methodName,
        kind: 'method',
        node: m,
        decl: m,
        value: m,
        wrapperTokens: [],
        owner: className,
        nameNode,
      });
    }
  }

  private addPlan(plan: ChunkPlan): void {
    this.plans.push(plan);
    this.chunkNodes.add(plan.node);
  }

  // ---- imports and exports ----------------------------------------------------------------

  private recordImport(stmt: number): void {
    const { ct } = this;
    const source = ct.childByField(stmt, 'source');
    let clause = -1;
    for (const c of ct.namedChildren(stmt)) {
      const t = ct.typeName(c);
      if (t === 'import_clause' || t === 'import_require_clause') clause = c;
    }
    if (clause !== -1 && ct.typeName(clause) === 'import_require_clause') {
      const src = ct.childByField(clause, 'source');
      const id = ct.namedChildren(clause).find((c) => ct.typeName(c) === 'identifier');
      if (src !== -1 && id !== undefined) {
        this.imports.push({ local: ct.text(id), specifier: stringValue(ct, src), imported: '*' });
      }
      return;
    }
    if (source === -1) return;
    const specifier = stringValue(ct, source);
    if (clause === -1) {
      this.imports.push({ local: '', specifier, imported: '*' });
      return;
    }
    for (const c of ct.namedChildren(clause)) {
      const t = ct.typeName(c);
      if (t === 'identifier') this.imports.push({ local: ct.text(c), specifier, imported: 'default' });
      else if (t === 'namespace_import') {
        const id = ct.namedChildren(c).find((x) => ct.typeName(x) === 'identifier');
        if (id !== undefined) this.imports.push({ local: ct.text(id), specifier, imported: '*' });
      } else if (t === 'named_imports') {
        for (const spec of ct.namedChildren(c)) {
          if (ct.typeName(spec) !== 'import_specifier') continue;
          const nameNode = ct.childByField(spec, 'name');
          const aliasNode = ct.childByField(spec, 'alias');
          const imported = moduleExportName(ct, nameNode);
          const local = aliasNode === -1 ? imported : ct.text(aliasNode);
          this.imports.push({ local, specifier, imported });
        }
      }
    }
  }

  /** `const x = require('m')`, `const { a, b: c } = require('m')`, `const y = require('m').y`. */
  private recordRequire(nameNode: number, value: number): boolean {
    const { ct } = this;
    let call = value;
    let member: string | undefined;
    if (ct.typeName(value) === 'member_expression') {
      call = ct.childByField(value, 'object');
      const prop = ct.childByField(value, 'property');
      member = prop === -1 ? undefined : ct.text(prop);
    }
    const specifier = requireSpecifier(ct, call);
    if (specifier === undefined) return false;
    const nt = ct.typeName(nameNode);
    if (nt === 'identifier') {
      this.imports.push({ local: ct.text(nameNode), specifier, imported: member ?? '*' });
      return true;
    }
    if (nt === 'object_pattern' && member === undefined) {
      for (const p of ct.namedChildren(nameNode)) {
        const pt = ct.typeName(p);
        if (pt === 'shorthand_property_identifier_pattern') {
          this.imports.push({ local: ct.text(p), specifier, imported: ct.text(p) });
        } else if (pt === 'pair_pattern') {
          const key = ct.childByField(p, 'key');
          const val = ct.childByField(p, 'value');
          if (key !== -1 && val !== -1 && ct.typeName(val) === 'identifier') {
            this.imports.push({ local: ct.text(val), specifier, imported: ct.text(key) });
          }
        }
      }
      return true;
    }
    return false;
  }

  /** `module.exports = ...`, `exports.x = ...`, `module.exports.x = ...`. */
  private recordCommonJsExport(expr: number): void {
    const { ct } = this;
    if (ct.typeName(expr) !== 'assignment_expression') return;
    const left = ct.childByField(expr, 'left');
    const right = ct.childByField(expr, 'right');
    if (left === -1 || right === -1 || ct.typeName(left) !== 'member_expression') return;
    const path = memberPath(ct, left);
    if (path === undefined) return;
    const rightLocal = ct.typeName(right) === 'identifier' ? ct.text(right) : undefined;
    if (path === 'module.exports') {
      if (ct.typeName(right) === 'object') {
        for (const p of ct.namedChildren(right)) {
          const pt = ct.typeName(p);
          if (pt === 'shorthand_property_identifier')
            this.exports.push({ exported: ct.text(p), local: ct.text(p) });
          else if (pt === 'pair') {
            const key = ct.childByField(p, 'key');
            const val = ct.childByField(p, 'value');
            if (key === -1) continue;
            const exported = ct.typeName(key) === 'string' ? stringValue(ct, key) : ct.text(key);
            const entry: ExportBinding = { exported };
            if (val !== -1 && ct.typeName(val) === 'identifier') entry.local = ct.text(val);
            this.exports.push(entry);
          }
        }
      } else {
        const entry: ExportBinding = { exported: 'default' };
        if (rightLocal !== undefined) entry.local = rightLocal;
        this.exports.push(entry);
      }
      return;
    }
    const m = /^(?:module\.)?exports\.([^.]+)$/.exec(path);
    if (m) {
      const entry: ExportBinding = { exported: m[1]! };
      if (rightLocal !== undefined) entry.local = rightLocal;
      this.exports.push(entry);
    }
  }

  // ---- per-chunk analysis ------------------------------------------------------------------

  private analyzeModule(): RawChunk {
    const { ct } = this;
    const scopes = new JsScopeWalker(
      ct,
      this.marks,
      this.chunkNodes,
      () => this.nextBinding++,
      '',
      this.imports,
    );
    scopes.walkRoot(0, null);
    const tokens: string[] = [];
    emitTokens(ct, JS_PROFILE, this.marks, 0, tokens, new Map(), this.chunkNodes);
    const exported = new Set<string>();
    for (const e of this.exports) exported.add(e.exported === '*' ? `*${e.specifier ?? ''}` : e.exported);
    const names = exported.size > 0 ? [...exported] : Object.keys(this.topLevel);
    return {
      localId: '',
      name: '',
      kind: 'module',
      start: 0,
      end: ct.source.length,
      hash: hashTokens('hash', tokens),
      interfaceHash: hashTokens('interface', ['module', ...names.sort()]),
      refs: scopes.refs.list(),
      selfRefs: [],
    };
  }

  private analyzeChunk(plan: ChunkPlan): RawChunk {
    const { ct } = this;
    const scopes = new JsScopeWalker(
      ct,
      this.marks,
      this.chunkNodes,
      () => this.nextBinding++,
      plan.localId,
      this.imports,
    );
    scopes.selfName = plan.kind === 'method' ? undefined : plan.name;
    scopes.methodName = plan.kind === 'method' ? plan.name : undefined;
    if (plan.nameNode !== -1 && plan.kind !== 'method') this.marks.binding[plan.nameNode] = BIND_SELF;
    for (const d of plan.leading ?? []) scopes.walkRoot(d, plan);
    scopes.walkRoot(plan.node, plan);
    const tokens: string[] = [];
    const locals = new Map<number, number>();
    for (const d of plan.leading ?? []) emitTokens(ct, JS_PROFILE, this.marks, d, tokens, locals);
    emitTokens(ct, JS_PROFILE, this.marks, plan.node, tokens, locals, this.chunkNodes);
    const iface = this.interfaceTokens(plan);
    for (const d of plan.leading ?? []) emitTokens(ct, JS_PROFILE, this.marks, d, iface, new Map());
    const start = leadingCommentStart(ct, plan.leading?.[0] ?? plan.node, COMMENTS);
    const chunk: RawChunk = {
      localId: plan.localId,
      name: plan.name,
      kind: plan.kind,
      start,
      end: ct.end[plan.node]!,
      hash: hashTokens('hash', tokens),
      interfaceHash: hashTokens('interface', iface),
      refs: scopes.refs.list(),
      selfRefs: [...scopes.selfRefs],
    };
    if (plan.owner !== undefined) chunk.owner = plan.owner;
    return chunk;
  }

  // ---- interface hash ---------------------------------------------------------------------

  private interfaceTokens(plan: ChunkPlan): string[] {
    const { ct } = this;
    const out: string[] = [plan.kind, plan.name, ...plan.wrapperTokens];
    const locals = new Map<number, number>();
    const emit = (node: number) => {
      if (node !== -1) emitTokens(ct, JS_PROFILE, this.marks, node, out, locals, this.chunkNodes);
    };
    switch (plan.kind) {
      case 'function':
      case 'method':
        if (CLASS_VALUES.has(ct.typeName(plan.value))) this.classInterface(plan.value, out, emit);
        else this.signature(plan.value, out, emit);
        break;
      case 'variable': {
        const declKind = ct.parent[plan.decl]!;
        for (const c of ct.children(declKind))
          if (!ct.isNamed(c) && ct.typeName(c) !== ';') out.push(ct.typeName(c));
        emit(ct.childByField(plan.decl, 'type'));
        if (CLASS_VALUES.has(ct.typeName(plan.value))) this.classInterface(plan.value, out, emit);
        else this.signature(plan.value, out, emit);
        break;
      }
      case 'class':
        this.classInterface(plan.decl, out, emit);
        break;
      case 'namespace': {
        const body = ct.childByField(plan.decl, 'body');
        const names: string[] = [];
        if (body !== -1) {
          for (const s of ct.namedChildren(body)) {
            if (ct.typeName(s) !== 'export_statement') continue;
            const d = ct.childByField(s, 'declaration');
            if (d === -1) continue;
            const n = ct.childByField(d, 'name');
            if (n !== -1) names.push(`${ct.typeName(d)}:${ct.text(n)}`);
            for (const v of ct.namedChildren(d)) {
              if (ct.typeName(v) !== 'variable_declarator') continue;
              const vn = ct.childByField(v, 'name');
              if (vn !== -1) names.push(`var:${ct.text(vn)}`);
            }
          }
        }
        out.push(...names.sort());
        break;
      }
      default:
        // Interfaces, type aliases and enums are all interface.
        emit(plan.decl);
    }
    return out;
  }

  /** Modifiers, type parameters, parameters (kind, type, default or not) and return type. */
  private signature(fn: number, out: string[], emit: (n: number) => void): void {
    const { ct } = this;
    for (let c = ct.firstChild[fn]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c) && MODIFIER_TOKENS.has(ct.typeName(c))) out.push(ct.typeName(c));
      else if (ct.typeName(c) === 'accessibility_modifier' || ct.typeName(c) === 'override_modifier') {
        out.push(ct.text(c));
      } else if (ct.typeName(c) === 'decorator') emit(c);
    }
    emit(ct.childByField(fn, 'type_parameters'));
    const params = ct.childByField(fn, 'parameters');
    const single = ct.childByField(fn, 'parameter');
    out.push('params');
    // `x => ...` and `(x) => ...` have the same signature.
    if (single !== -1 || (params !== -1 && JS_PROFILE.bareParameter!(ct, params) !== -1)) out.push('param');
    else if (params !== -1) {
      for (const p of ct.namedChildren(params)) {
        const pt = ct.typeName(p);
        if (COMMENTS.has(pt)) continue;
        const pattern = ct.childByField(p, 'pattern');
        const target = pattern === -1 ? p : pattern;
        const rest = ct.typeName(target) === 'rest_pattern';
        const hasDefault = ct.childByField(p, 'value') !== -1 || pt === 'assignment_pattern';
        out.push(`param:${pt}${rest ? ':rest' : ''}${hasDefault ? ':default' : ''}`);
        emit(ct.childByField(p, 'type'));
      }
    }
    out.push('returns');
    emit(ct.childByField(fn, 'return_type'));
  }

  private classInterface(cls: number, out: string[], emit: (n: number) => void): void {
    const { ct } = this;
    for (let c = ct.firstChild[cls]!; c !== -1; c = ct.nextSibling[c]!) {
      const t = ct.typeName(c);
      if (t === 'decorator' || t === 'class_heritage' || t === 'type_parameters') emit(c);
      else if (!ct.isNamed(c) && (t === 'abstract' || t === 'declare')) out.push(t);
    }
    const body = ct.childByField(cls, 'body');
    if (body === -1) return;
    const members: string[] = [];
    for (const m of ct.namedChildren(body)) {
      const mt = ct.typeName(m);
      if (COMMENTS.has(mt)) continue;
      const nameNode = ct.childByField(m, 'name');
      if (nameNode !== -1 && ct.typeName(nameNode) === 'private_property_identifier') continue;
      if (
        ct
          .namedChildren(m)
          .some((x) => ct.typeName(x) === 'accessibility_modifier' && ct.text(x) === 'private')
      ) {
        continue;
      }
      const memberTokens: string[] = [mt, nameNode === -1 ? '' : ct.text(nameNode)];
      const memberEmit = (n: number) => {
        if (n !== -1) emitTokens(ct, JS_PROFILE, this.marks, n, memberTokens, new Map(), this.chunkNodes);
      };
      if (mt === 'method_definition' || mt === 'method_signature' || mt === 'abstract_method_signature') {
        this.signature(m, memberTokens, memberEmit);
      } else if (mt === 'public_field_definition' || mt === 'property_signature') {
        for (let c = ct.firstChild[m]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c) && MODIFIER_TOKENS.has(ct.typeName(c))) memberTokens.push(ct.typeName(c));
          else if (ct.typeName(c) === 'accessibility_modifier') memberTokens.push(ct.text(c));
        }
        memberEmit(ct.childByField(m, 'type'));
      } else {
        memberEmit(m);
      }
      members.push(memberTokens.join('\u0002'));
    }
    out.push('members', ...members.sort());
  }
}

/** Name in an import/export specifier: an identifier or a string (`export { x as "a-b" }`). */
function moduleExportName(ct: CompactTree, node: number): string {
  if (node === -1) return '';
  return ct.typeName(node) === 'string' ? stringValue(ct, node) : ct.text(node);
}

/** The module of `require('m')` (a call with one string argument), else undefined. */
function requireSpecifier(ct: CompactTree, call: number): string | undefined {
  if (call === -1 || ct.typeName(call) !== 'call_expression') return undefined;
  const fn = ct.childByField(call, 'function');
  if (fn === -1 || ct.typeName(fn) !== 'identifier' || ct.text(fn) !== 'require') return undefined;
  const args = ct.childByField(call, 'arguments');
  if (args === -1) return undefined;
  const named = ct.namedChildren(args).filter((c) => !COMMENTS.has(ct.typeName(c)));
  if (named.length !== 1) return undefined;
  const t = ct.typeName(named[0]!);
  if (t !== 'string' && t !== 'template_string') return undefined;
  return stringValue(ct, named[0]!);
}

/** `a.b.c` for a member expression made of plain names, else undefined. */
function memberPath(ct: CompactTree, node: number): string | undefined {
  const t = ct.typeName(node);
  if (t === 'identifier') return ct.text(node);
  if (t !== 'member_expression') return undefined;
  const obj = memberPath(ct, ct.childByField(node, 'object'));
  const prop = ct.childByField(node, 'property');
  if (obj === undefined || prop === -1) return undefined;
  return `${obj}.${ct.text(prop)}`;
}

/** Identifier nodes bound by a binding pattern (declarator name, parameter, catch parameter). */
function patternNames(ct: CompactTree, node: number, out: number[] = []): number[] {
  if (node === -1) return out;
  switch (ct.typeName(node)) {
    case 'identifier':
    case 'shorthand_property_identifier_pattern':
      out.push(node);
      break;
    case 'object_pattern':
    case 'array_pattern':
      for (const c of ct.namedChildren(node)) patternNames(ct, c, out);
      break;
    case 'pair_pattern':
      patternNames(ct, ct.childByField(node, 'value'), out);
      break;
    case 'object_assignment_pattern':
    case 'assignment_pattern':
      patternNames(ct, ct.childByField(node, 'left'), out);
      break;
    case 'rest_pattern':
      for (const c of ct.namedChildren(node)) patternNames(ct, c, out);
      break;
    case 'required_parameter':
    case 'optional_parameter':
      patternNames(ct, ct.childByField(node, 'pattern'), out);
      break;
    default:
      break;
  }
  return out;
}

type Scope = Map<string, number>;

/**
 * Resolves every identifier of one chunk to a local binding, the chunk itself, or a free name,
 * marking `marks.binding` and collecting refs, selfRefs and in-chunk imports (`require`,
 * dynamic `import()`).
 */
class JsScopeWalker {
  readonly refs = new RefCollector();
  readonly selfRefs = new Set<string>();
  /** Declared name of a function/class/variable chunk (references to it are BIND_SELF). */
  selfName: string | undefined;
  /** Name of a method chunk (`this.<name>` is BIND_SELF). */
  methodName: string | undefined;
  private readonly stack: Scope[] = [];

  constructor(
    private readonly ct: CompactTree,
    private readonly marks: NodeMarks,
    private readonly chunkNodes: ReadonlySet<number>,
    private readonly newBinding: () => number,
    private readonly chunkLocalId: string,
    private readonly imports: ImportBinding[],
  ) {}

  walkRoot(node: number, plan: ChunkPlan | null): void {
    if (plan === null) {
      // Module code: top-level names stay names; nested functions and blocks get scopes.
      for (let c = this.ct.firstChild[node]!; c !== -1; c = this.ct.nextSibling[c]!) this.visit(c);
      return;
    }
    this.visitChunkRoot(node);
  }

  private visitChunkRoot(node: number): void {
    // The chunk's own node is visited even though it is in chunkNodes.
    const { ct } = this;
    const type = ct.typeName(node);
    if (type === 'export_statement' || type === 'ambient_declaration' || type === 'expression_statement') {
      for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) this.visitChunkRoot(c);
      return;
    }
    this.visitNode(node);
  }

  private visit(node: number): void {
    if (this.chunkNodes.has(node) || this.marks.skip[node] === 1) return;
    this.visitNode(node);
  }

  private visitChildren(node: number): void {
    const { ct } = this;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) this.visit(c);
  }

  private visitNode(node: number): void {
    const { ct } = this;
    const type = ct.typeName(node);
    if (FUNCTION_LIKE.has(type)) {
      this.visitFunction(node);
      return;
    }
    if (CLASS_DECLS.has(type) || type === 'class') {
      this.visitClass(node);
      return;
    }
    if (BLOCK_SCOPES.has(type)) {
      this.pushBlock(node);
      this.visitChildren(node);
      this.stack.pop();
      return;
    }
    switch (type) {
      case 'for_statement':
      case 'for_in_statement': {
        const scope: Scope = new Map();
        this.stack.push(scope);
        const left = ct.childByField(node, 'left');
        const kindNode = ct.childByField(node, 'kind');
        if (left !== -1 && kindNode !== -1) {
          const isVar = ct.text(kindNode) === 'var';
          if (!isVar) this.declarePattern(scope, left);
        }
        const init = ct.childByField(node, 'initializer');
        if (init !== -1 && ct.typeName(init) === 'lexical_declaration') this.declareLexical(scope, init);
        this.visitChildren(node);
        this.stack.pop();
        return;
      }
      case 'catch_clause': {
        const scope: Scope = new Map();
        this.stack.push(scope);
        this.declarePattern(scope, ct.childByField(node, 'parameter'));
        this.visitChildren(node);
        this.stack.pop();
        return;
      }
      case 'identifier':
        this.reference(node, true);
        return;
      case 'type_identifier':
        this.reference(node, true);
        return;
      case 'shorthand_property_identifier':
        // `{ a }` is the property name `a` and a use of `a`: never renamed (spec rule 5 note).
        this.reference(node, false);
        return;
      case 'this':
        this.thisUse(node);
        return;
      case 'member_expression': {
        this.visit(ct.childByField(node, 'object'));
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          const f = ct.fieldName(c);
          if (f !== 'object' && f !== 'property') this.visit(c);
        }
        return;
      }
      case 'nested_type_identifier':
      case 'nested_identifier': {
        const parts = flattenNested(ct, node);
        if (parts.length > 0) {
          const [head, ...members] = parts;
          this.referenceName(head!.node, head!.name, members.slice(0, 3), true);
        }
        return;
      }
      case 'jsx_opening_element':
      case 'jsx_self_closing_element': {
        const name = ct.childByField(node, 'name');
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (c === name && ct.typeName(c) === 'identifier' && /^[a-z]/.test(ct.text(c))) continue;
          this.visit(c);
        }
        return;
      }
      case 'jsx_closing_element':
        return;
      case 'export_specifier': {
        const name = ct.childByField(node, 'name');
        if (name !== -1 && ct.typeName(name) === 'identifier') this.reference(name, false);
        return;
      }
      case 'pair': {
        const key = ct.childByField(node, 'key');
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (c === key && ct.typeName(c) !== 'computed_property_name') continue;
          this.visit(c);
        }
        return;
      }
      case 'call_expression': {
        this.recordDynamicImport(node);
        this.visitChildren(node);
        return;
      }
      case 'labeled_statement':
      case 'break_statement':
      case 'continue_statement': {
        for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
          if (ct.typeName(c) !== 'statement_identifier') this.visit(c);
        }
        return;
      }
      case 'import_statement':
        return;
      default:
        this.visitChildren(node);
    }
  }

  private visitFunction(node: number): void {
    const { ct } = this;
    const type = ct.typeName(node);
    const scope: Scope = new Map();
    const nameNode = ct.childByField(node, 'name');
    // A function expression's own name is bound inside it; a declaration's name was declared
    // by the enclosing scope (or is the chunk itself).
    if (
      (type === 'function_expression' || type === 'function' || type === 'generator_function') &&
      nameNode !== -1
    ) {
      if (this.marks.binding[nameNode] !== BIND_SELF) this.declare(scope, nameNode, true);
    }
    this.stack.push(scope);
    this.declareTypeParameters(scope, ct.childByField(node, 'type_parameters'));
    const params = ct.childByField(node, 'parameters');
    if (params !== -1) {
      for (const p of ct.namedChildren(params)) this.declarePattern(scope, p);
    }
    const single = ct.childByField(node, 'parameter');
    if (single !== -1) this.declarePattern(scope, single);
    const body = ct.childByField(node, 'body');
    if (body !== -1 && ct.typeName(body) === 'statement_block') {
      this.hoistVars(scope, body);
      this.hoistLexical(scope, body);
    }
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (c === nameNode && type === 'method_definition') continue; // a property name
      if (c === nameNode) continue;
      if (c === body && ct.typeName(body) === 'statement_block') {
        this.visitChildren(body); // its declarations are already in the function scope
        continue;
      }
      this.visit(c);
    }
    this.stack.pop();
  }

  private visitClass(node: number): void {
    const { ct } = this;
    const scope: Scope = new Map();
    const nameNode = ct.childByField(node, 'name');
    if (ct.typeName(node) === 'class' && nameNode !== -1 && this.marks.binding[nameNode] !== BIND_SELF) {
      this.declare(scope, nameNode, true);
    }
    this.stack.push(scope);
    this.declareTypeParameters(scope, ct.childByField(node, 'type_parameters'));
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (c === nameNode) continue;
      if (ct.typeName(c) === 'class_body') {
        for (let m = ct.firstChild[c]!; m !== -1; m = ct.nextSibling[m]!) this.visitMember(m);
      } else this.visit(c);
    }
    this.stack.pop();
  }

  private visitMember(m: number): void {
    const { ct } = this;
    if (this.chunkNodes.has(m) || this.marks.skip[m] === 1) return;
    const name = ct.childByField(m, 'name');
    if (ct.typeName(m) === 'method_definition') {
      this.visitFunction(m);
      return;
    }
    for (let c = ct.firstChild[m]!; c !== -1; c = ct.nextSibling[c]!) {
      if (c === name && ct.typeName(c) !== 'computed_property_name') continue;
      this.visit(c);
    }
  }

  private pushBlock(block: number): void {
    const scope: Scope = new Map();
    this.stack.push(scope);
    this.hoistLexical(scope, block);
  }

  /** let/const/class/function/type declarations directly in a block. */
  private hoistLexical(scope: Scope, block: number): void {
    const { ct } = this;
    for (let s = ct.firstChild[block]!; s !== -1; s = ct.nextSibling[s]!) {
      let d = s;
      if (ct.typeName(d) === 'export_statement') d = ct.childByField(d, 'declaration');
      if (d === -1) continue;
      const t = ct.typeName(d);
      if (t === 'lexical_declaration') this.declareLexical(scope, d);
      else if (
        CLASS_DECLS.has(t) ||
        t === 'function_declaration' ||
        t === 'generator_function_declaration' ||
        t === 'interface_declaration' ||
        t === 'type_alias_declaration' ||
        t === 'enum_declaration'
      ) {
        const n = ct.childByField(d, 'name');
        if (n !== -1 && !scope.has(ct.text(n))) this.declare(scope, n, true);
        else if (n !== -1) this.marks.binding[n] = scope.get(ct.text(n))!;
      }
    }
  }

  private declareLexical(scope: Scope, decl: number): void {
    const { ct } = this;
    for (const d of ct.namedChildren(decl)) {
      if (ct.typeName(d) === 'variable_declarator') this.declarePattern(scope, ct.childByField(d, 'name'));
    }
  }

  /** `var` declarations anywhere in a function body, not inside nested functions or classes. */
  private hoistVars(scope: Scope, node: number): void {
    const { ct } = this;
    const stack = [node];
    while (stack.length > 0) {
      const n = stack.pop()!;
      const t = ct.typeName(n);
      if (n !== node && (FUNCTION_LIKE.has(t) || CLASS_DECLS.has(t) || t === 'class')) continue;
      if (t === 'variable_declaration') {
        for (const d of ct.namedChildren(n)) {
          if (ct.typeName(d) === 'variable_declarator')
            this.declarePattern(scope, ct.childByField(d, 'name'));
        }
        continue;
      }
      if (t === 'for_in_statement') {
        const kindNode = ct.childByField(n, 'kind');
        if (kindNode !== -1 && ct.text(kindNode) === 'var')
          this.declarePattern(scope, ct.childByField(n, 'left'));
      }
      for (let c = ct.firstChild[n]!; c !== -1; c = ct.nextSibling[c]!) if (ct.isNamed(c)) stack.push(c);
    }
  }

  private declareTypeParameters(scope: Scope, tps: number): void {
    const { ct } = this;
    if (tps === -1) return;
    for (const tp of ct.namedChildren(tps)) {
      const n = ct.childByField(tp, 'name');
      if (n !== -1) this.declare(scope, n, true);
    }
  }

  private declarePattern(scope: Scope, pattern: number): void {
    for (const id of patternNames(this.ct, pattern)) {
      // A shorthand pattern `{ a }` reads property `a`: the name stays, uses of it are local.
      this.declare(scope, id, this.ct.typeName(id) !== 'shorthand_property_identifier_pattern');
    }
  }

  private declare(scope: Scope, nameNode: number, mark: boolean): void {
    const name = this.ct.text(nameNode);
    let id = scope.get(name);
    if (id === undefined) {
      id = this.newBinding();
      scope.set(name, id);
    }
    if (mark) this.marks.binding[nameNode] = id;
  }

  private lookup(name: string): number | undefined {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const id = this.stack[i]!.get(name);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  private reference(node: number, renameable: boolean): void {
    if (this.marks.binding[node] !== -1) return; // a declaration already marked
    this.referenceName(node, this.ct.text(node), memberChain(this.ct, node), renameable);
  }

  private referenceName(node: number, name: string, members: string[], renameable: boolean): void {
    const id = this.lookup(name);
    if (id !== undefined) {
      if (renameable) this.marks.binding[node] = id;
      return;
    }
    if (name === this.selfName) {
      if (renameable) this.marks.binding[node] = BIND_SELF;
      return;
    }
    if (name === 'undefined' || name === 'require') return;
    this.refs.add(name, members);
  }

  private thisUse(node: number): void {
    const { ct } = this;
    const parent = ct.parent[node]!;
    if (parent === -1 || ct.typeName(parent) !== 'member_expression') return;
    if (ct.childByField(parent, 'object') !== node) return;
    const prop = ct.childByField(parent, 'property');
    if (prop === -1) return;
    const name = ct.text(prop);
    if (name === this.methodName) this.marks.binding[prop] = BIND_SELF;
    if (this.chunkLocalId.includes('.')) this.selfRefs.add(name);
  }

  private recordDynamicImport(call: number): void {
    const { ct } = this;
    const fn = ct.childByField(call, 'function');
    if (fn === -1) return;
    let specifier = requireSpecifier(ct, call);
    if (specifier === undefined && ct.typeName(fn) === 'import') {
      const args = ct.childByField(call, 'arguments');
      const arg = args === -1 ? undefined : ct.namedChildren(args)[0];
      if (arg !== undefined && ct.typeName(arg) === 'string') specifier = stringValue(ct, arg);
    }
    if (specifier === undefined) return;
    const binding: ImportBinding = { local: '', specifier, imported: '*' };
    if (this.chunkLocalId !== '') binding.chunk = this.chunkLocalId;
    if (!this.imports.some((i) => i.local === '' && i.specifier === specifier && i.chunk === binding.chunk)) {
      this.imports.push(binding);
    }
  }
}

/** Up to three property names read off an identifier: `ns.a.b` gives ['a', 'b']. */
function memberChain(ct: CompactTree, node: number): string[] {
  const out: string[] = [];
  let cur = node;
  while (out.length < 3) {
    const parent = ct.parent[cur]!;
    if (parent === -1 || ct.typeName(parent) !== 'member_expression') break;
    if (ct.childByField(parent, 'object') !== cur) break;
    const prop = ct.childByField(parent, 'property');
    if (prop === -1 || ct.typeName(prop) !== 'property_identifier') break;
    out.push(ct.text(prop));
    cur = parent;
  }
  return out;
}

/** `a.b.C` in a nested type/identifier as [{a}, b, C]. */
function flattenNested(ct: CompactTree, node: number): [{ node: number; name: string }, ...string[]] | [] {
  const names: Array<{ node: number; name: string }> = [];
  const walk = (n: number) => {
    for (let c = ct.firstChild[n]!; c !== -1; c = ct.nextSibling[c]!) {
      const t = ct.typeName(c);
      if (t === 'nested_identifier' || t === 'member_expression') walk(c);
      else if (ct.isNamed(c) && !COMMENTS.has(t)) names.push({ node: c, name: ct.text(c) });
    }
  };
  walk(node);
  if (names.length === 0) return [];
  const [head, ...rest] = names;
  return [head!, ...rest.map((r) => r.name)];
}
