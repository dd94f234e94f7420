/**
 * A syntax tree copied out of tree-sitter into flat typed arrays in one cursor pass.
 *
 * Walking a native tree-sitter tree from JavaScript costs an N-API call per property read, so
 * ccx crosses that boundary exactly once per node and does all further analysis (chunking,
 * scopes, normalization, hashing) on these arrays. Offsets are UTF-16 code-unit indexes into the
 * source string that was parsed (node-tree-sitter parses JS strings as UTF-16).
 */
import type Parser from 'tree-sitter';

/** Per-grammar tables filled lazily as type and field ids are first seen. */
export interface GrammarTables {
  typeNames: string[];
  typeNamed: boolean[];
  fieldNames: string[];
}

/**
 * Tables indexed by type id. They are dense arrays of all 65536 possible ids: with a hole before
 * the ERROR id (65535), V8 would store them as dictionaries, and every `typeName()` in the
 * analyzers' hot loops would become a hash lookup.
 */
export function createGrammarTables(): GrammarTables {
  return {
    typeNames: new Array<string>(ERROR_TYPE_ID + 1).fill(undefined as unknown as string),
    typeNamed: new Array<boolean>(ERROR_TYPE_ID + 1).fill(false),
    fieldNames: new Array<string>(4096).fill(undefined as unknown as string),
  };
}

/** Complete tables from a grammar's symbol list (the native path reads them all at once). */
export function grammarTablesFromSymbols(symbols: {
  names: string[];
  named: boolean[];
  fields: string[];
}): GrammarTables {
  const tables = createGrammarTables();
  symbols.names.forEach((name, id) => {
    tables.typeNames[id] = name;
    tables.typeNamed[id] = symbols.named[id] === true;
  });
  symbols.fields.forEach((name, id) => {
    if (name !== undefined) tables.fieldNames[id] = name;
  });
  tables.typeNames[ERROR_TYPE_ID] = 'ERROR';
  tables.typeNamed[ERROR_TYPE_ID] = true;
  return tables;
}

/** tree-sitter's ERROR symbol id (`ts_builtin_sym_error`, 0xFFFF as an unsigned 16-bit id). */
export const ERROR_TYPE_ID = 65535;

export class CompactTree {
  /** Number of nodes; node 0 is the root. */
  count = 0;
  type: Int32Array;
  field: Int32Array;
  start: Int32Array;
  end: Int32Array;
  parent: Int32Array;
  firstChild: Int32Array;
  nextSibling: Int32Array;
  /** Per node: 1 named, 2 missing, 4 extra, 8 error (filled by the native path only; else 0). */
  flags: Int32Array;
  /** Deepest nesting seen, 0 for a lone root. */
  maxDepth = 0;

  constructor(
    readonly source: string,
    readonly tables: GrammarTables,
    capacity: number,
  ) {
    this.type = new Int32Array(capacity);
    this.field = new Int32Array(capacity);
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.parent = new Int32Array(capacity);
    this.firstChild = new Int32Array(capacity);
    this.nextSibling = new Int32Array(capacity);
    this.flags = new Int32Array(capacity);
  }

  /**
   * Wraps the result of the native flattener (native/flatten.c): a header
   * `[count, maxDepth, hasError, 0]` then eight int32 columns of `count` entries.
   */
  static fromNative(source: string, tables: GrammarTables, buffer: ArrayBuffer): CompactTree {
    const header = new Int32Array(buffer, 0, 4);
    const n = header[0]!;
    const ct = new CompactTree(source, tables, 0);
    const column = (k: number) => new Int32Array(buffer, (4 + k * n) * 4, n);
    ct.type = column(0);
    ct.field = column(1);
    ct.start = column(2);
    ct.end = column(3);
    ct.parent = column(4);
    ct.firstChild = column(5);
    ct.nextSibling = column(6);
    ct.flags = column(7);
    ct.count = n;
    ct.maxDepth = header[1]!;
    return ct;
  }

  typeName(node: number): string {
    return this.tables.typeNames[this.type[node]!]!;
  }

  isNamed(node: number): boolean {
    return this.tables.typeNamed[this.type[node]!]!;
  }

  fieldName(node: number): string | undefined {
    const f = this.field[node]!;
    return f === 0 ? undefined : this.tables.fieldNames[f];
  }

  text(node: number): string {
    return this.source.slice(this.start[node]!, this.end[node]!);
  }

  /** Children of `node` in order (named and anonymous). */
  children(node: number): number[] {
    const out: number[] = [];
    for (let c = this.firstChild[node]!; c !== -1; c = this.nextSibling[c]!) out.push(c);
    return out;
  }

  /** Named children of `node` in order. */
  namedChildren(node: number): number[] {
    const out: number[] = [];
    for (let c = this.firstChild[node]!; c !== -1; c = this.nextSibling[c]!) if (this.isNamed(c)) out.push(c);
    return out;
  }

  /** First child with the given field name, or -1. */
  childByField(node: number, fieldName: string): number {
    for (let c = this.firstChild[node]!; c !== -1; c = this.nextSibling[c]!) {
      if (this.field[c] !== 0 && this.tables.fieldNames[this.field[c]!] === fieldName) return c;
    }
    return -1;
  }

  /** All children with the given field name. */
  childrenByField(node: number, fieldName: string): number[] {
    const out: number[] = [];
    for (let c = this.firstChild[node]!; c !== -1; c = this.nextSibling[c]!) {
      if (this.field[c] !== 0 && this.tables.fieldNames[this.field[c]!] === fieldName) out.push(c);
    }
    return out;
  }

  /** First child of the given type name, or -1. */
  childOfType(node: number, typeName: string): number {
    for (let c = this.firstChild[node]!; c !== -1; c = this.nextSibling[c]!) {
      if (this.typeName(c) === typeName) return c;
    }
    return -1;
  }
}

/**
 * Copies `tree` into a {@link CompactTree}. Iterative, so nesting depth is bounded only by memory.
 * `expectedNodes` is a capacity hint; arrays grow as needed.
 */
export function compactTree(tree: Parser.Tree, source: string, tables: GrammarTables): CompactTree {
  let capacity = Math.max(64, source.length >> 1);
  let ct = new CompactTree(source, tables, capacity);
  const cursor = tree.walk();
  const stackLast: number[] = []; // last child appended, per open ancestor
  let depth = 0;
  let current = -1;
  let parentOf = -1;
  const names = tables.typeNames;
  const fields = tables.fieldNames;
  for (;;) {
    const i = ct.count++;
    if (i >= capacity) {
      capacity *= 2;
      ct = growTree(ct, capacity);
    }
    const typeId = cursor.nodeTypeId;
    if (names[typeId] === undefined) {
      names[typeId] = cursor.nodeType;
      tables.typeNamed[typeId] = cursor.nodeIsNamed;
    }
    const fieldId = cursor.currentFieldId;
    if (fieldId !== 0 && fields[fieldId] === undefined) fields[fieldId] = cursor.currentFieldName;
    ct.type[i] = typeId;
    ct.field[i] = fieldId;
    ct.start[i] = cursor.startIndex;
    ct.end[i] = cursor.endIndex;
    ct.parent[i] = parentOf;
    ct.firstChild[i] = -1;
    ct.nextSibling[i] = -1;
    if (parentOf !== -1) {
      const prev = stackLast[depth - 1]!;
      if (prev === -1) ct.firstChild[parentOf] = i;
      else ct.nextSibling[prev] = i;
      stackLast[depth - 1] = i;
    }
    current = i;
    if (cursor.gotoFirstChild()) {
      stackLast[depth] = -1;
      depth++;
      if (depth > ct.maxDepth) ct.maxDepth = depth;
      parentOf = current;
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return ct;
      depth--;
      current = parentOf;
      parentOf = ct.parent[current]!;
    }
  }
}

function growTree(old: CompactTree, capacity: number): CompactTree {
  const ct = new CompactTree(old.source, old.tables, capacity);
  ct.type.set(old.type);
  ct.field.set(old.field);
  ct.start.set(old.start);
  ct.end.set(old.end);
  ct.parent.set(old.parent);
  ct.firstChild.set(old.firstChild);
  ct.nextSibling.set(old.nextSibling);
  ct.flags.set(old.flags);
  ct.count = old.count;
  ct.maxDepth = old.maxDepth;
  return ct;
}
