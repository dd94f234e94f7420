/**
 * The Go analyzer: chunks, scopes, references and hashes of one Go file (tree-sitter-go 0.25),
 * following shared/spec/semantic-hash.md (ccx-sh/1) and docs/analyzer-guide.md.
 *
 * Chunks: the module (package clause, imports, top-level `var`/`const`, the parentheses of
 * grouped declarations); each `func` (kind `function`); each method (`Type.Method`, kind
 * `method`, owner = the receiver's base type); each type spec, grouped or not (kind `interface`
 * for an interface type, else `type`); a top-level `var f = func(...) {...}` (kind `variable`).
 *
 * Local bindings (renamed consistently in `hash`) follow Go's block scoping: parameters, named
 * results, the receiver, type parameters, `:=` (which only declares the names that are new in
 * the innermost block), `var`/`const`/`type` inside functions, range and type-switch variables,
 * labels (their own per-function namespace) and function-literal parameters. Field names,
 * selectors, import names, composite-literal keys and package-level names are never renamed.
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

/**
 * Go's literal values (rule 3). Strings are byte sequences in Go, so `"\xc3\xa9"`, `"\u00e9"`
 * and `"é"` are one value; a value that is not valid UTF-8 is hashed as its bytes (`b:` + hex).
 * Integers, floats, imaginaries and runes keep distinct prefixes because in Go the literal's kind
 * fixes the default type of the constant (`x := 1e3` is a float64, `x := 1000` an int).
 */
function goLiteral(ct: CompactTree, node: number): string | undefined {
  switch (ct.typeName(node)) {
    case 'int_literal': {
      const text = ct.text(node);
      return `n:${canonicalNumber(text, true) ?? text}`;
    }
    case 'float_literal': {
      const text = ct.text(node);
      return `f:${canonicalFloat(text) ?? text}`;
    }
    case 'imaginary_literal': {
      const text = ct.text(node);
      return `i:${canonicalImaginary(text) ?? text}`;
    }
    case 'rune_literal': {
      const value = runeValue(ct.text(node));
      return value === undefined ? `r:${ct.text(node)}` : `r:${value}`;
    }
    case 'interpreted_string_literal':
    case 'raw_string_literal':
      return stringLiteralToken(ct, node);
    default:
      return undefined;
  }
}

/** Decimal or hexadecimal floating-point literal -> canonical decimal. */
function canonicalFloat(text: string): string | undefined {
  const t = text.replace(/_/g, '').toLowerCase();
  const m = /^0x([0-9a-f]*)(?:\.([0-9a-f]*))?p([+-]?\d+)$/.exec(t);
  if (m === null) return canonicalNumber(t, false);
  const intPart = m[1] ?? '';
  const frac = m[2] ?? '';
  const digits = intPart + frac;
  if (digits === '') return undefined;
  const v = Number.parseInt(digits, 16) * 2 ** (Number(m[3]) - 4 * frac.length);
  if (!Number.isFinite(v)) return undefined;
  if (Number.isInteger(v) && Math.abs(v) < Number.MAX_SAFE_INTEGER) return BigInt(v).toString();
  return String(v);
}

/** `2i`, `0123i` (decimal, for backward compatibility), `1.5e3i`, `0x10i`. */
function canonicalImaginary(text: string): string | undefined {
  const body = text.slice(0, -1).replace(/_/g, '');
  if (/^\d+$/.test(body)) return BigInt(body).toString();
  if (/^0[xob][0-9a-f]+$/i.test(body)) return canonicalNumber(body, false);
  return canonicalFloat(body);
}

/** Code point of a rune literal such as `'a'`, `'\n'`, `'\x41'`, `'\101'`, `'\u00e9'`. */
function runeValue(text: string): number | undefined {
  if (text.length < 3 || text[0] !== "'" || text[text.length - 1] !== "'") return undefined;
  const body = text.slice(1, -1);
  if (body[0] !== '\\') {
    const cp = body.codePointAt(0);
    return cp !== undefined && String.fromCodePoint(cp).length === body.length ? cp : undefined;
  }
  const byte = byteEscape(body);
  if (byte !== undefined) return byte;
  const decoded = decodeEscape(body, false);
  const cp = decoded.codePointAt(0);
  return cp !== undefined && String.fromCodePoint(cp).length === decoded.length ? cp : undefined;
}

/** The byte of a `\xhh` or `\ooo` escape (Go: these denote single bytes, not code points). */
function byteEscape(seq: string): number | undefined {
  if (/^\\x[0-9a-fA-F]{2}$/.test(seq)) return Number.parseInt(seq.slice(2), 16);
  if (/^\\[0-7]{3}$/.test(seq)) {
    const v = Number.parseInt(seq.slice(1), 8);
    return v <= 255 ? v : undefined;
  }
  return undefined;
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The decoded value of an interpreted or raw string literal (as a JS string), or its bytes. */
function stringLiteralValue(ct: CompactTree, node: number): { text: string } | { bytes: Uint8Array } {
  const raw = ct.typeName(node) === 'raw_string_literal';
  let text = '';
  let bytes: number[] | undefined;
  for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
    const type = ct.typeName(c);
    let piece: string;
    if (type === 'escape_sequence') {
      const seq = ct.text(c);
      const byte = byteEscape(seq);
      if (byte !== undefined) {
        // Switch to byte accumulation: `\xhh` may be half of a UTF-8 sequence.
        bytes ??= Array.from(utf8.encode(text));
        bytes.push(byte);
        continue;
      }
      piece = decodeEscape(seq, false);
    } else if (type === 'interpreted_string_literal_content' || type === 'raw_string_literal_content') {
      // Go discards carriage returns inside raw strings.
      piece = raw ? ct.text(c).replace(/\r/g, '') : ct.text(c);
    } else {
      continue;
    }
    if (bytes === undefined) text += piece;
    else for (const b of utf8.encode(piece)) bytes.push(b);
  }
  if (bytes === undefined) return { text };
  const arr = Uint8Array.from(bytes);
  try {
    return { text: strictUtf8.decode(arr) };
  } catch {
    return { bytes: arr };
  }
}

function stringLiteralToken(ct: CompactTree, node: number): string {
  const v = stringLiteralValue(ct, node);
  if ('text' in v) return stringToken(v.text);
  return `b:${Buffer.from(v.bytes).toString('hex')}`;
}

/** What the normalizer needs to know about tree-sitter-go. */
export const GO_PROFILE: LanguageProfile = {
  // Separators and brackets are implied by the tree; newline-terminated statements (Go's
  // automatic semicolons) and trailing commas therefore leave no trace.
  dropTokens: new Set([',', ';', '\n', '\0', '(', ')', '{', '}', '[', ']', '.', ':', '"', '`', "'"]),
  // A group of one (`import ( "fmt" )`) is the same declaration as the ungrouped form.
  unwrap: new Set([
    'parenthesized_expression',
    'parenthesized_type',
    'import_spec_list',
    'var_spec_list',
    'const_spec_list',
  ]),
  comments: new Set(['comment']),
  literal: goLiteral,
};

/**
 * The name a Go import binds when it has no explicit name, the way goimports guesses it: the last
 * path element, the one before it when the last is a major version (`/v2`), without a `go-`
 * prefix, cut at the first character that cannot be in an identifier (`yaml.v3` -> `yaml`,
 * `bar-go` -> `bar`, `go-sqlite3` -> `sqlite3`).
 */
export function defaultImportName(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  let base = parts[parts.length - 1] ?? '';
  if (/^v\d+$/.test(base) && parts.length > 1) base = parts[parts.length - 2]!;
  if (base.startsWith('go-')) base = base.slice(3);
  const cut = base.search(/[^\p{L}\p{Nd}_]/u);
  return cut < 0 ? base : base.slice(0, cut);
}

/**
 * Records a top-level name unless already recorded. Own properties only: Go names such as
 * `constructor` or `__proto__` must not collide with `Object.prototype`.
 */
function setTopLevel(topLevel: Record<string, string>, name: string, localId: string): void {
  if (name === '' || name === '_' || Object.hasOwn(topLevel, name)) return;
  Object.defineProperty(topLevel, name, {
    value: localId,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

function isExported(name: string): boolean {
  return /^\p{Lu}/u.test(name);
}

/** A chunk found at the top level, before its hashes are computed. */
interface PlannedChunk {
  /** The node whose range (plus attached comments) is the chunk; skipped by the module. */
  rangeNode: number;
  /** The declaration hashed: the function, method, type spec or var spec. */
  node: number;
  kind: ChunkKind;
  name: string;
  localId: string;
  start: number;
  owner?: string;
}

type Scope = Map<string, number>;

/** Composite-literal types whose keys are expressions (map keys, slice and array indexes). */
const EXPRESSION_KEYED: ReadonlySet<string> = new Set([
  'map_type',
  'slice_type',
  'array_type',
  'implicit_length_array_type',
]);

/** Analyzes one Go file. Never throws on a syntax error: what parsed is chunked. */
export function analyzeGo(ct: CompactTree): RawAnalysis {
  return new GoAnalyzer(ct).run();
}

class GoAnalyzer {
  private readonly marks: NodeMarks;
  private readonly isChunkNode: Uint8Array;
  private nextBinding = 0;
  // Per-chunk walk state.
  private root = 0;
  private scopes: Scope[] = [];
  private labels: Scope | undefined;
  private selfName: string | undefined;
  private methodName: string | undefined;
  private receiverBinding = -1;
  private refs = new Map<string, NameRef>();
  private selfRefs = new Set<string>();
  /** Names of the struct types declared at the top level of this file. */
  private readonly structTypes = new Set<string>();

  constructor(private readonly ct: CompactTree) {
    this.marks = createNodeMarks(ct);
    this.isChunkNode = new Uint8Array(ct.count);
  }

  run(): RawAnalysis {
    const ct = this.ct;
    const planned: PlannedChunk[] = [];
    const imports: ImportBinding[] = [];
    const topLevel: Record<string, string> = {};
    const moduleNames: string[] = [];
    let goPackage: string | undefined;

    const scanContainer = (container: number, allowErrorDescent: boolean) => {
      const children = ct.children(container);
      for (let i = 0; i < children.length; i++) {
        const c = children[i]!;
        switch (ct.typeName(c)) {
          case 'package_clause': {
            const id = ct.childOfType(c, 'package_identifier');
            if (id !== -1 && goPackage === undefined) goPackage = ct.text(id);
            break;
          }
          case 'import_declaration':
            this.collectImports(c, imports);
            break;
          case 'function_declaration':
          case 'method_declaration':
            this.planFunction(c, this.attachedStart(children, i), planned);
            break;
          case 'type_declaration':
            this.planTypes(c, this.attachedStart(children, i), planned);
            break;
          case 'var_declaration':
            this.planVars(c, this.attachedStart(children, i), planned, moduleNames);
            break;
          case 'const_declaration':
            for (const spec of this.specsOf(c, 'const_spec')) {
              for (const n of ct.childrenByField(spec, 'name')) moduleNames.push(ct.text(n));
            }
            break;
          case 'ERROR':
            // Declarations that parsed inside a broken stretch still become chunks.
            if (allowErrorDescent) scanContainer(c, false);
            break;
        }
      }
    };
    scanContainer(0, true);

    for (const p of planned) this.isChunkNode[p.rangeNode] = 1;
    // A `type ( ... )` group whose specs are all chunks leaves no code of its own in the module,
    // so grouping or ungrouping declarations does not change the module's hash.
    const groups = new Set<number>();
    for (const p of planned) {
      const decl = ct.parent[p.rangeNode]!;
      if (decl !== -1 && ct.typeName(decl) === 'type_declaration') groups.add(decl);
    }
    for (const decl of groups) if (this.onlyChunks(decl)) this.marks.skip[decl] = 1;

    // Unique localIds: a second `func init()` becomes `init~2`.
    const seen = new Map<string, number>();
    for (const p of planned) {
      const n = (seen.get(p.localId) ?? 0) + 1;
      seen.set(p.localId, n);
      if (n > 1) p.localId = `${p.localId}~${n}`;
    }

    for (const p of planned) {
      if (p.kind !== 'method') setTopLevel(topLevel, p.name, p.localId);
    }
    for (const name of moduleNames) setTopLevel(topLevel, name, '');

    const chunks: RawChunk[] = [this.moduleChunk(planned, topLevel, goPackage ?? '')];
    for (const p of planned) chunks.push(this.chunk(p));
    const result: RawAnalysis = { chunks, topLevel, imports, exports: [] };
    if (goPackage !== undefined) result.goPackage = goPackage;
    return result;
  }

  // ---- Planning -------------------------------------------------------------------------

  /**
   * Start of `children[i]` extended backwards over directly preceding comments: each on a line
   * of its own (a trailing comment of the previous line's code is not a doc comment), separated
   * from what follows by whitespace holding at most one line break.
   */
  private attachedStart(children: readonly number[], i: number): number {
    const ct = this.ct;
    const src = ct.source;
    let start = ct.start[children[i]!]!;
    for (let j = i - 1; j >= 0; j--) {
      const c = children[j]!;
      if (ct.typeName(c) !== 'comment') break;
      const gap = src.slice(ct.end[c]!, start);
      if (!/^[ \t\r\n\f]*$/.test(gap) || gap.split('\n').length > 2) break;
      const lineStart = src.lastIndexOf('\n', ct.start[c]! - 1) + 1;
      if (!/^[ \t\f]*$/.test(src.slice(lineStart, ct.start[c]!))) break;
      start = ct.start[c]!;
    }
    return start;
  }

  /** Whether every named child of `decl` other than comments is a chunk. */
  private onlyChunks(decl: number): boolean {
    const ct = this.ct;
    for (let c = ct.firstChild[decl]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.isNamed(c) && ct.typeName(c) !== 'comment' && this.isChunkNode[c] !== 1) return false;
    }
    return true;
  }

  /** The specs of a possibly grouped declaration (`var x` or `var ( ... )`). */
  private specsOf(decl: number, specType: string): number[] {
    const ct = this.ct;
    const out: number[] = [];
    for (let c = ct.firstChild[decl]!; c !== -1; c = ct.nextSibling[c]!) {
      const t = ct.typeName(c);
      if (t === specType) out.push(c);
      else if (t.endsWith('_spec_list')) {
        for (let s = ct.firstChild[c]!; s !== -1; s = ct.nextSibling[s]!)
          if (ct.typeName(s) === specType) out.push(s);
      }
    }
    return out;
  }

  private planFunction(node: number, start: number, planned: PlannedChunk[]): void {
    const ct = this.ct;
    const nameNode = ct.childByField(node, 'name');
    const name = nameNode === -1 ? '' : ct.text(nameNode);
    if (ct.typeName(node) === 'function_declaration') {
      planned.push({ rangeNode: node, node, kind: 'function', name, localId: name, start });
      return;
    }
    const owner = this.receiverBase(node).name;
    planned.push({
      rangeNode: node,
      node,
      kind: 'method',
      name,
      localId: owner === '' ? name : `${owner}.${name}`,
      start,
      owner,
    });
  }

  private planTypes(decl: number, start: number, planned: PlannedChunk[]): void {
    const ct = this.ct;
    const children = ct.children(decl);
    const grouped = ct.childOfType(decl, '(') !== -1;
    for (let i = 0; i < children.length; i++) {
      const spec = children[i]!;
      const t = ct.typeName(spec);
      if (t !== 'type_spec' && t !== 'type_alias') continue;
      const rangeNode = grouped ? spec : decl;
      const nameNode = ct.childByField(spec, 'name');
      const name = nameNode === -1 ? '' : ct.text(nameNode);
      const type = ct.childByField(spec, 'type');
      const typeName = type === -1 ? '' : ct.typeName(type);
      if (typeName === 'struct_type' && t === 'type_spec') this.structTypes.add(name);
      planned.push({
        rangeNode,
        node: spec,
        kind: typeName === 'interface_type' ? 'interface' : 'type',
        name,
        localId: name,
        start: grouped ? this.attachedStart(children, i) : start,
      });
    }
  }

  private planVars(decl: number, start: number, planned: PlannedChunk[], moduleNames: string[]): void {
    const ct = this.ct;
    const list = ct.childOfType(decl, 'var_spec_list');
    const grouped = list !== -1;
    const children = ct.children(grouped ? list : decl);
    for (let i = 0; i < children.length; i++) {
      const spec = children[i]!;
      if (ct.typeName(spec) !== 'var_spec') continue;
      const names = ct.childrenByField(spec, 'name');
      if (names.length === 1 && this.isFuncInitializer(spec)) {
        const name = ct.text(names[0]!);
        planned.push({
          rangeNode: grouped ? spec : decl,
          node: spec,
          kind: 'variable',
          name,
          localId: name,
          start: grouped ? this.attachedStart(children, i) : start,
        });
        continue;
      }
      for (const n of names) moduleNames.push(ct.text(n));
    }
  }

  /** `var f = func(...) {...}`: one value, a function literal. */
  private isFuncInitializer(spec: number): boolean {
    const ct = this.ct;
    const value = ct.childByField(spec, 'value');
    if (value === -1) return false;
    let found = -1;
    for (let c = ct.firstChild[value]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c) || ct.typeName(c) === 'comment') continue;
      if (found !== -1) return false;
      found = c;
    }
    return found !== -1 && ct.typeName(found) === 'func_literal';
  }

  /**
   * The receiver's base type: `T` for `(r T)`, `(r *T)` and `(r *T[K, V])`, with the node of the
   * receiver parameter, its type, the base name node and the type-parameter nodes it declares.
   */
  private receiverBase(method: number): {
    name: string;
    param: number;
    type: number;
    base: number;
    typeParams: number[];
  } {
    const ct = this.ct;
    const empty = { name: '', param: -1, type: -1, base: -1, typeParams: [] as number[] };
    const list = ct.childByField(method, 'receiver');
    if (list === -1) return empty;
    const param = ct.childOfType(list, 'parameter_declaration');
    if (param === -1) return empty;
    const type = ct.childByField(param, 'type');
    if (type === -1) return { ...empty, param };
    let t = type;
    for (;;) {
      const tn = ct.typeName(t);
      if (tn !== 'pointer_type' && tn !== 'parenthesized_type') break;
      const inner = ct.namedChildren(t).filter((c) => ct.typeName(c) !== 'comment');
      if (inner.length !== 1) break;
      t = inner[0]!;
    }
    const typeParams: number[] = [];
    let base = t;
    if (ct.typeName(t) === 'generic_type') {
      base = ct.childByField(t, 'type');
      const args = ct.childByField(t, 'type_arguments');
      if (args !== -1) this.collectTypeIdentifiers(args, typeParams);
    }
    if (base === -1 || ct.typeName(base) !== 'type_identifier')
      return { name: '', param, type, base: -1, typeParams };
    return { name: ct.text(base), param, type, base, typeParams };
  }

  private collectTypeIdentifiers(node: number, out: number[]): void {
    const ct = this.ct;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.typeName(c) === 'type_identifier') out.push(c);
      else if (ct.isNamed(c)) this.collectTypeIdentifiers(c, out);
    }
  }

  private collectImports(decl: number, imports: ImportBinding[]): void {
    const ct = this.ct;
    for (const spec of this.specsOf(decl, 'import_spec')) {
      const pathNode = ct.childByField(spec, 'path');
      if (pathNode === -1) continue;
      const value = stringLiteralValue(ct, pathNode);
      if (!('text' in value)) continue;
      const specifier = value.text;
      const nameNode = ct.childByField(spec, 'name');
      let local: string;
      if (nameNode === -1) local = defaultImportName(specifier);
      else {
        const t = ct.typeName(nameNode);
        local = t === 'blank_identifier' ? '' : t === 'dot' ? '.' : ct.text(nameNode);
      }
      imports.push({ local, specifier, imported: '*' });
    }
  }

  // ---- Chunks ---------------------------------------------------------------------------

  private beginChunk(root: number): void {
    this.root = root;
    this.scopes = [];
    this.labels = undefined;
    this.selfName = undefined;
    this.methodName = undefined;
    this.receiverBinding = -1;
    this.refs = new Map();
    this.selfRefs = new Set();
  }

  private endChunk(): { refs: NameRef[]; selfRefs: string[] } {
    return { refs: [...this.refs.values()], selfRefs: [...this.selfRefs] };
  }

  private moduleChunk(
    planned: PlannedChunk[],
    topLevel: Record<string, string>,
    goPackage: string,
  ): RawChunk {
    const ct = this.ct;
    this.beginChunk(0);
    for (let c = ct.firstChild[0]!; c !== -1; c = ct.nextSibling[c]!) this.visit(c);
    const { refs } = this.endChunk();
    const stopAt = new Set(planned.map((p) => p.rangeNode));
    const tokens: string[] = [];
    emitTokens(ct, GO_PROFILE, this.marks, 0, tokens, new Map(), stopAt);
    const names = Object.keys(topLevel)
      .filter(isExported)
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      localId: '',
      name: '',
      kind: 'module',
      start: 0,
      end: ct.source.length,
      hash: hashTokens('hash', tokens),
      interfaceHash: hashTokens('interface', ['module', 'package', goPackage, 'names', ...names]),
      refs,
      selfRefs: [],
    };
  }

  private chunk(p: PlannedChunk): RawChunk {
    const ct = this.ct;
    const node = p.node;
    this.beginChunk(node);
    const iface: string[] = [p.kind, p.name];
    const locals = new Map<number, number>();
    switch (ct.typeName(node)) {
      case 'function_declaration':
        this.walkFunction(node);
        this.typeParamTokens(ct.childByField(node, 'type_parameters'), iface, locals);
        this.signatureTokens(node, iface, locals);
        break;
      case 'method_declaration': {
        const recvType = this.walkMethod(node);
        iface.push('receiver');
        if (recvType !== -1) this.emit(recvType, iface, locals);
        this.signatureTokens(node, iface, locals);
        break;
      }
      case 'type_spec':
      case 'type_alias':
        this.walkTypeSpec(node);
        this.typeInterfaceTokens(node, iface, locals);
        break;
      case 'var_spec':
        this.walkVarChunk(node);
        this.varInterfaceTokens(node, iface, locals);
        break;
    }
    const { refs, selfRefs } = this.endChunk();
    const tokens: string[] = [];
    emitTokens(ct, GO_PROFILE, this.marks, node, tokens, new Map());
    const chunk: RawChunk = {
      localId: p.localId,
      name: p.name,
      kind: p.kind,
      start: p.start,
      end: ct.end[p.rangeNode]!,
      hash: hashTokens('hash', tokens),
      interfaceHash: hashTokens('interface', iface),
      refs,
      selfRefs,
    };
    if (p.owner !== undefined) chunk.owner = p.owner;
    return chunk;
  }

  private walkFunction(node: number): void {
    const ct = this.ct;
    this.scopes = [new Map()];
    this.labels = new Map();
    const nameNode = ct.childByField(node, 'name');
    if (nameNode !== -1) {
      this.selfName = ct.text(nameNode);
      this.marks.binding[nameNode] = BIND_SELF;
    }
    this.declareTypeParams(ct.childByField(node, 'type_parameters'));
    this.visitSignature(node);
    const body = ct.childByField(node, 'body');
    if (body !== -1) this.visitFunctionBody(body);
  }

  /** Walks a method; returns the receiver's type node (or -1) for the interface hash. */
  private walkMethod(node: number): number {
    const ct = this.ct;
    this.scopes = [new Map()];
    this.labels = new Map();
    const nameNode = ct.childByField(node, 'name');
    if (nameNode !== -1) {
      this.methodName = ct.text(nameNode);
      this.marks.binding[nameNode] = BIND_SELF;
    }
    const recv = this.receiverBase(node);
    // `func (r *T[K, V])` declares K and V as the method's type parameters.
    for (const tp of recv.typeParams) this.declare(tp);
    if (recv.type !== -1) this.visit(recv.type);
    if (recv.param !== -1) {
      const recvName = ct.childByField(recv.param, 'name');
      if (recvName !== -1) this.receiverBinding = this.declare(recvName);
    }
    this.visitSignature(node);
    const body = ct.childByField(node, 'body');
    if (body !== -1) this.visitFunctionBody(body);
    return recv.type;
  }

  private walkTypeSpec(spec: number): void {
    const ct = this.ct;
    this.scopes = [new Map()];
    const nameNode = ct.childByField(spec, 'name');
    if (nameNode !== -1) {
      this.selfName = ct.text(nameNode);
      this.marks.binding[nameNode] = BIND_SELF;
    }
    const tparams = ct.childByField(spec, 'type_parameters');
    this.declareTypeParams(tparams);
    for (let c = ct.firstChild[spec]!; c !== -1; c = ct.nextSibling[c]!) {
      if (c !== nameNode && c !== tparams && ct.isNamed(c)) this.visit(c);
    }
  }

  private walkVarChunk(spec: number): void {
    const ct = this.ct;
    const nameNode = ct.childByField(spec, 'name');
    if (nameNode !== -1) {
      this.selfName = ct.text(nameNode);
      this.marks.binding[nameNode] = BIND_SELF;
    }
    for (let c = ct.firstChild[spec]!; c !== -1; c = ct.nextSibling[c]!) {
      if (c !== nameNode && ct.isNamed(c)) this.visit(c);
    }
  }

  // ---- Interface tokens -----------------------------------------------------------------

  /**
   * Tokens of a subtree for an interface stream, without the field the root fills in its parent
   * (a result type written bare fills `result`, the same type in `(int)` fills `type`).
   */
  private emit(node: number, out: string[], locals: Map<number, number>): void {
    const at = out.length;
    emitTokens(this.ct, GO_PROFILE, this.marks, node, out, locals);
    const field = this.ct.fieldName(node);
    const first = out[at];
    if (field === undefined || first === undefined || !first.startsWith(`${field}:`)) return;
    if (first.length === field.length + 1) out.splice(at, 1);
    else out[at] = first.slice(field.length + 1);
  }

  /** Type parameters: each name (a local, so only its position counts) and its constraint. */
  private typeParamTokens(list: number, out: string[], locals: Map<number, number>): void {
    if (list === -1) return;
    const ct = this.ct;
    out.push('tparams');
    for (const decl of ct.namedChildren(list)) {
      if (ct.typeName(decl) !== 'type_parameter_declaration') continue;
      const type = ct.childByField(decl, 'type');
      for (const name of ct.childrenByField(decl, 'name')) {
        this.emit(name, out, locals);
        if (type !== -1) this.emit(type, out, locals);
      }
    }
  }

  /** Parameter and result types in order (names are not significant to Go callers). */
  private signatureTokens(node: number, out: string[], locals: Map<number, number>): void {
    const ct = this.ct;
    out.push('params');
    const params = ct.childByField(node, 'parameters');
    if (params !== -1) this.parameterTokens(params, out, locals);
    out.push('results');
    const result = ct.childByField(node, 'result');
    if (result === -1) return;
    if (ct.typeName(result) === 'parameter_list') this.parameterTokens(result, out, locals);
    else {
      out.push('p');
      this.emit(result, out, locals);
    }
  }

  private parameterTokens(list: number, out: string[], locals: Map<number, number>): void {
    const ct = this.ct;
    for (const decl of ct.namedChildren(list)) {
      const t = ct.typeName(decl);
      if (t === 'comment') continue;
      const type = ct.childByField(decl, 'type');
      if (t === 'parameter_declaration') {
        const count = Math.max(1, ct.childrenByField(decl, 'name').length);
        for (let i = 0; i < count; i++) {
          out.push('p');
          if (type !== -1) this.emit(type, out, locals);
        }
      } else if (t === 'variadic_parameter_declaration') {
        out.push('v');
        if (type !== -1) this.emit(type, out, locals);
      } else {
        out.push('?');
        this.emit(decl, out, locals);
      }
    }
  }

  /**
   * A type's interface: its type parameters, then for a struct the exported fields (name,
   * type, tag) and every embedded type; for an interface its method signatures and type
   * elements; for any other type (and an alias) the type itself.
   */
  private typeInterfaceTokens(spec: number, out: string[], locals: Map<number, number>): void {
    const ct = this.ct;
    this.typeParamTokens(ct.childByField(spec, 'type_parameters'), out, locals);
    if (ct.typeName(spec) === 'type_alias') out.push('alias');
    const type = ct.childByField(spec, 'type');
    if (type === -1) return;
    const tn = ct.typeName(type);
    if (tn === 'struct_type') {
      out.push('struct');
      const list = ct.childOfType(type, 'field_declaration_list');
      if (list === -1) return;
      for (const field of ct.namedChildren(list)) {
        if (ct.typeName(field) !== 'field_declaration') continue;
        const names = ct.childrenByField(field, 'name');
        if (names.length === 0) {
          out.push('embed');
          this.emit(field, out, locals);
          continue;
        }
        const ftype = ct.childByField(field, 'type');
        const tag = ct.childByField(field, 'tag');
        for (const n of names) {
          const name = ct.text(n);
          if (!isExported(name)) continue;
          out.push('field', name);
          if (ftype !== -1) this.emit(ftype, out, locals);
          if (tag !== -1) this.emit(tag, out, locals);
        }
      }
    } else if (tn === 'interface_type') {
      out.push('interface');
      for (const elem of ct.namedChildren(type)) {
        const et = ct.typeName(elem);
        if (et === 'comment') continue;
        if (et === 'method_elem') {
          const name = ct.childByField(elem, 'name');
          out.push('method', name === -1 ? '' : ct.text(name));
          this.signatureTokens(elem, out, locals);
        } else this.emit(elem, out, locals);
      }
    } else this.emit(type, out, locals);
  }

  private varInterfaceTokens(spec: number, out: string[], locals: Map<number, number>): void {
    const ct = this.ct;
    const type = ct.childByField(spec, 'type');
    if (type !== -1) {
      out.push('type');
      this.emit(type, out, locals);
    }
    const value = ct.childByField(spec, 'value');
    const fn = value === -1 ? -1 : ct.childOfType(value, 'func_literal');
    if (fn !== -1) {
      out.push('func');
      this.signatureTokens(fn, out, locals);
    }
  }

  // ---- Scopes and references ------------------------------------------------------------

  private declare(node: number): number {
    const name = this.ct.text(node);
    if (name === '' || name === '_') return -1;
    if (this.scopes.length === 0) this.scopes.push(new Map());
    const id = this.nextBinding++;
    this.scopes[this.scopes.length - 1]!.set(name, id);
    this.marks.binding[node] = id;
    return id;
  }

  /** `:=` declares only the names new in the innermost block; the others are assigned. */
  private declareOrReuse(node: number): void {
    const name = this.ct.text(node);
    if (name === '' || name === '_') return;
    const existing = this.scopes[this.scopes.length - 1]?.get(name);
    if (existing !== undefined) this.marks.binding[node] = existing;
    else this.declare(node);
  }

  private lookup(name: string): number | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const id = this.scopes[i]!.get(name);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** A use of a name: a local, the chunk itself, or a free name recorded in `refs`. */
  private resolve(node: number): void {
    const name = this.ct.text(node);
    if (name === '' || name === '_') return;
    const id = this.lookup(name);
    if (id !== undefined) this.marks.binding[node] = id;
    else if (name === this.selfName) this.marks.binding[node] = BIND_SELF;
    else this.addRef(node, name);
  }

  /** Records a free name with the chain of up to three selectors read off it. */
  private addRef(node: number, name: string): void {
    const ct = this.ct;
    const members: string[] = [];
    let cur = node;
    while (members.length < 3) {
      const p = ct.parent[cur]!;
      if (p === -1) break;
      const pt = ct.typeName(p);
      const f = ct.fieldName(cur);
      let member = -1;
      if (pt === 'selector_expression' && f === 'operand') member = ct.childByField(p, 'field');
      else if (pt === 'qualified_type' && f === 'package') member = ct.childByField(p, 'name');
      if (member === -1) break;
      members.push(ct.text(member));
      cur = p;
    }
    const key = `${name}\u0000${members.join('\u0000')}`;
    if (!this.refs.has(key)) this.refs.set(key, { name, members });
  }

  private bindLabel(node: number): void {
    const name = this.ct.text(node);
    if (name === '') return;
    this.labels ??= new Map();
    let id = this.labels.get(name);
    if (id === undefined) {
      id = this.nextBinding++;
      this.labels.set(name, id);
    }
    this.marks.binding[node] = id;
  }

  /** Type parameter names are declared before their constraints are read (`[T any, P *T]`). */
  private declareTypeParams(list: number): void {
    if (list === -1) return;
    const ct = this.ct;
    const decls = ct.namedChildren(list).filter((d) => ct.typeName(d) === 'type_parameter_declaration');
    for (const d of decls) for (const n of ct.childrenByField(d, 'name')) this.declare(n);
    for (const d of decls) {
      for (let c = ct.firstChild[d]!; c !== -1; c = ct.nextSibling[c]!) {
        if (ct.isNamed(c) && ct.fieldName(c) !== 'name') this.visit(c);
      }
    }
  }

  /**
   * Parameters and results of a function, method, literal, function type or interface method:
   * the types are read in the enclosing scope, then the names are declared in the current one.
   */
  private visitSignature(node: number): void {
    const ct = this.ct;
    const lists: number[] = [];
    const params = ct.childByField(node, 'parameters');
    if (params !== -1) lists.push(params);
    const result = ct.childByField(node, 'result');
    if (result !== -1) {
      if (ct.typeName(result) === 'parameter_list') lists.push(result);
      else this.visit(result);
    }
    const names: number[] = [];
    for (const list of lists) {
      for (let d = ct.firstChild[list]!; d !== -1; d = ct.nextSibling[d]!) {
        if (!ct.isNamed(d)) continue;
        for (let c = ct.firstChild[d]!; c !== -1; c = ct.nextSibling[c]!) {
          if (!ct.isNamed(c)) continue;
          if (ct.fieldName(c) === 'name' && ct.typeName(c) === 'identifier') names.push(c);
          else this.visit(c);
        }
      }
    }
    for (const n of names) this.declare(n);
  }

  /** A function body shares the block of the parameters (Go forbids redeclaring them there). */
  private visitFunctionBody(block: number): void {
    this.visitChildren(block);
  }

  private visitChildren(node: number): void {
    const ct = this.ct;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) if (ct.isNamed(c)) this.visit(c);
  }

  private visitScoped(node: number): void {
    this.scopes.push(new Map());
    this.visitChildren(node);
    this.scopes.pop();
  }

  /** Visits the named children of `node` other than `skip`. */
  private visitOthers(node: number, skip: readonly number[]): void {
    const ct = this.ct;
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.isNamed(c) && !skip.includes(c)) this.visit(c);
    }
  }

  private visit(node: number): void {
    if (this.isChunkNode[node] === 1 && node !== this.root) return;
    const ct = this.ct;
    switch (ct.typeName(node)) {
      case 'comment':
      case 'field_identifier':
      case 'package_clause':
      case 'import_declaration':
      case 'package_identifier':
        return;
      case 'identifier':
      case 'type_identifier':
        this.resolve(node);
        return;
      case 'label_name':
        this.bindLabel(node);
        return;
      case 'qualified_type': {
        const pkg = ct.childByField(node, 'package');
        if (pkg !== -1) this.resolve(pkg);
        return;
      }
      case 'selector_expression':
        this.visitSelector(node);
        return;
      case 'block':
      case 'if_statement':
      case 'for_statement':
      case 'expression_switch_statement':
      case 'select_statement':
      case 'expression_case':
      case 'default_case':
      case 'type_case':
      case 'communication_case':
        this.visitScoped(node);
        return;
      case 'type_switch_statement':
        this.visitTypeSwitch(node);
        return;
      case 'func_literal': {
        const savedLabels = this.labels;
        this.labels = new Map();
        this.scopes.push(new Map());
        this.visitSignature(node);
        const body = ct.childByField(node, 'body');
        if (body !== -1) this.visitFunctionBody(body);
        this.scopes.pop();
        this.labels = savedLabels;
        return;
      }
      case 'function_type':
      case 'method_elem':
        // Parameter names of a function type are not bindings anyone can use; declaring them in
        // a scope of their own makes renaming them invisible.
        this.scopes.push(new Map());
        this.visitSignature(node);
        this.scopes.pop();
        return;
      case 'short_var_declaration':
      case 'range_clause':
      case 'receive_statement':
        this.visitDefinition(node);
        return;
      case 'var_spec':
      case 'const_spec':
        this.visitValueSpec(node);
        return;
      case 'type_spec':
      case 'type_alias':
        this.visitLocalTypeSpec(node);
        return;
      case 'labeled_statement': {
        const label = ct.childByField(node, 'label');
        if (label !== -1) this.bindLabel(label);
        this.visitOthers(node, [label]);
        return;
      }
      case 'keyed_element':
        this.visitKeyedElement(node);
        return;
      default:
        this.visitChildren(node);
    }
  }

  private visitSelector(node: number): void {
    const ct = this.ct;
    const operand = ct.childByField(node, 'operand');
    const field = ct.childByField(node, 'field');
    if (operand !== -1) this.visit(operand);
    if (
      field !== -1 &&
      operand !== -1 &&
      this.receiverBinding >= 0 &&
      this.marks.binding[operand] === this.receiverBinding
    ) {
      const name = ct.text(field);
      if (name === this.methodName) this.marks.binding[field] = BIND_SELF;
      else if (name !== '') this.selfRefs.add(name);
    }
    this.visitOthers(node, [operand, field]);
  }

  /** `switch x := x.(type)`: the value is read before the alias is declared. */
  private visitTypeSwitch(node: number): void {
    const ct = this.ct;
    this.scopes.push(new Map());
    const init = ct.childByField(node, 'initializer');
    const value = ct.childByField(node, 'value');
    const alias = ct.childByField(node, 'alias');
    if (init !== -1) this.visit(init);
    if (value !== -1) this.visit(value);
    if (alias !== -1) {
      for (const id of ct.namedChildren(alias)) if (ct.typeName(id) === 'identifier') this.declare(id);
    }
    this.visitOthers(node, [init, value, alias]);
    this.scopes.pop();
  }

  /** `a, b := f()`, `for k, v := range m`, `case v := <-ch`: right side first, then the names. */
  private visitDefinition(node: number): void {
    const ct = this.ct;
    const left = ct.childByField(node, 'left');
    const right = ct.childByField(node, 'right');
    if (left === -1 || ct.childOfType(node, ':=') === -1) {
      this.visitChildren(node);
      return;
    }
    if (right !== -1) this.visit(right);
    for (const id of ct.namedChildren(left)) {
      if (ct.typeName(id) === 'identifier') this.declareOrReuse(id);
      else this.visit(id);
    }
    this.visitOthers(node, [left, right]);
  }

  /**
   * `var`/`const` specs. Inside a function the names are declared after the type and value are
   * read (`var x = x` reads the outer `x`); at package level they are the file's top-level names.
   */
  private visitValueSpec(node: number): void {
    const ct = this.ct;
    const names: number[] = [];
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (!ct.isNamed(c)) continue;
      if (ct.fieldName(c) === 'name') names.push(c);
      else this.visit(c);
    }
    if (this.scopes.length > 0) for (const n of names) this.declare(n);
  }

  /** A type declared inside a function: its name is in scope in its own definition. */
  private visitLocalTypeSpec(node: number): void {
    const ct = this.ct;
    const name = ct.childByField(node, 'name');
    if (name !== -1 && this.scopes.length > 0) this.declare(name);
    this.scopes.push(new Map());
    const tparams = ct.childByField(node, 'type_parameters');
    this.declareTypeParams(tparams);
    this.visitOthers(node, [name, tparams]);
    this.scopes.pop();
  }

  /**
   * `T{Name: v}`: tree-sitter cannot tell a struct field key from a map key expression, so the
   * literal's type decides (followed through elided element types, `[]T{{Name: v}}`). Keys of a
   * map, slice or array literal are expressions, resolved like any other. Keys of a literal of
   * a struct type declared at the top of this file are field names: kept as written, never
   * renamed, not references. Otherwise (a type from elsewhere, which may be a struct or a named
   * map type) a bare identifier key is kept as written, never renamed, and recorded as a
   * reference unless a local has its name: at worst an extra dependency, never a missed one.
   */
  private visitKeyedElement(node: number): void {
    const ct = this.ct;
    const keys = this.keyKind(ct.parent[node]!);
    if (keys === 'expression') {
      this.visitChildren(node);
      return;
    }
    const key = ct.childByField(node, 'key');
    let ident = -1;
    if (key !== -1 && ct.typeName(key) === 'literal_element') {
      const inner = ct.namedChildren(key).filter((c) => ct.typeName(c) !== 'comment');
      if (inner.length === 1 && ct.typeName(inner[0]!) === 'identifier') ident = inner[0]!;
    }
    if (ident === -1) {
      this.visitChildren(node);
      return;
    }
    const name = ct.text(ident);
    if (
      keys === 'unknown' &&
      name !== '' &&
      name !== '_' &&
      this.lookup(name) === undefined &&
      name !== this.selfName
    ) {
      this.addRef(ident, name);
    }
    this.visitOthers(node, [key]);
  }

  /** What the keys of a `literal_value` are, from the type of the literal it belongs to. */
  private keyKind(literalValue: number): 'expression' | 'field' | 'unknown' {
    const ct = this.ct;
    let type = this.literalType(literalValue, 0);
    while (type !== -1 && ct.typeName(type) === 'pointer_type') type = ct.namedChildren(type)[0] ?? -1;
    if (type === -1) return 'unknown';
    const tn = ct.typeName(type);
    if (EXPRESSION_KEYED.has(tn)) return 'expression';
    const base = tn === 'generic_type' ? ct.childByField(type, 'type') : type;
    if (base === -1 || ct.typeName(base) !== 'type_identifier') return 'unknown';
    const name = ct.text(base);
    return this.structTypes.has(name) && this.lookup(name) === undefined ? 'field' : 'unknown';
  }

  /**
   * The type node giving a `literal_value` its type: the composite literal's type, or for an
   * elided inner literal the element, key or value type of the enclosing one; -1 when unknown.
   */
  private literalType(literalValue: number, depth: number): number {
    const ct = this.ct;
    const parent = ct.parent[literalValue]!;
    if (parent === -1 || depth > 64) return -1;
    const pt = ct.typeName(parent);
    if (pt === 'composite_literal') return ct.childByField(parent, 'type');
    if (pt !== 'literal_element') return -1;
    const holder = ct.parent[parent]!;
    if (holder === -1) return -1;
    const isKey = ct.fieldName(parent) === 'key';
    const outer = ct.typeName(holder) === 'keyed_element' ? ct.parent[holder]! : holder;
    if (outer === -1 || ct.typeName(outer) !== 'literal_value') return -1;
    let outerType = this.literalType(outer, depth + 1);
    while (outerType !== -1 && ct.typeName(outerType) === 'pointer_type') {
      outerType = ct.namedChildren(outerType)[0] ?? -1;
    }
    if (outerType === -1) return -1;
    switch (ct.typeName(outerType)) {
      case 'slice_type':
      case 'array_type':
      case 'implicit_length_array_type':
        return ct.childByField(outerType, 'element');
      case 'map_type':
        return ct.childByField(outerType, isKey ? 'key' : 'value');
      default:
        return -1;
    }
  }
}
