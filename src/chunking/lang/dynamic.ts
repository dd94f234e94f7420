/**
 * References static analysis cannot follow: a module loaded by a computed name (`import(x)`,
 * `require(x)`, Python `importlib.import_module(x)` / `__import__(x)`), an attribute or method
 * looked up by a computed name (Python `getattr(o, name)`, Go `MethodByName`/`FieldByName`
 * through reflect), and code run from a string (`eval`, `new Function`, `exec`). `ccx affected`
 * lists them as `unresolved`; `--conservative` selects every test file holding one.
 */
import type { RawAnalysis } from '../analyze.js';
import type { CompactTree } from '../compact-tree.js';
import type { Language } from '../types.js';

/** At most this many characters of a reference's source text are kept. */
const MAX_TEXT = 120;

interface Finder {
  /** Node types that can hold a dynamic reference. */
  types: ReadonlySet<string>;
  isDynamic(ct: CompactTree, node: number): boolean;
}

function firstArguments(ct: CompactTree, call: number, field: string): number[] {
  const args = ct.childByField(call, field);
  return args === -1 ? [] : ct.namedChildren(args).filter((c) => !ct.typeName(c).includes('comment'));
}

function isStringLiteral(ct: CompactTree, node: number | undefined): boolean {
  if (node === undefined) return false;
  const t = ct.typeName(node);
  if (t === 'string' || t === 'interpreted_string_literal' || t === 'raw_string_literal') {
    // A string with an interpolation (f-string, template substitution) is computed.
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      const childType = ct.typeName(c);
      if (childType === 'interpolation' || childType === 'template_substitution') return false;
    }
    return true;
  }
  if (t === 'template_string') {
    for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
      if (ct.typeName(c) === 'template_substitution') return false;
    }
    return true;
  }
  return false;
}

const JS: Finder = {
  types: new Set(['call_expression', 'new_expression']),
  isDynamic(ct, node) {
    if (ct.typeName(node) === 'new_expression') {
      const ctor = ct.childByField(node, 'constructor');
      return ctor !== -1 && ct.typeName(ctor) === 'identifier' && ct.text(ctor) === 'Function';
    }
    const fn = ct.childByField(node, 'function');
    if (fn === -1) return false;
    const ft = ct.typeName(fn);
    const name = ft === 'identifier' ? ct.text(fn) : ft === 'import' ? 'import' : '';
    if (name === 'eval') return true;
    if (name !== 'import' && name !== 'require') return false;
    return !isStringLiteral(ct, firstArguments(ct, node, 'arguments')[0]);
  },
};

const PYTHON: Finder = {
  types: new Set(['call']),
  isDynamic(ct, node) {
    const fn = ct.childByField(node, 'function');
    if (fn === -1) return false;
    const ft = ct.typeName(fn);
    let name = '';
    if (ft === 'identifier') name = ct.text(fn);
    else if (ft === 'attribute') {
      const attr = ct.childByField(fn, 'attribute');
      if (attr !== -1 && ct.text(attr) === 'import_module') name = 'import_module';
    }
    const args = firstArguments(ct, node, 'arguments').filter((a) => ct.typeName(a) !== 'keyword_argument');
    switch (name) {
      case 'eval':
      case 'exec':
        return true;
      case 'getattr':
        return !isStringLiteral(ct, args[1]);
      case '__import__':
      case 'import_module':
        return !isStringLiteral(ct, args[0]);
      default:
        return false;
    }
  },
};

const GO: Finder = {
  types: new Set(['call_expression']),
  isDynamic(ct, node) {
    const fn = ct.childByField(node, 'function');
    if (fn === -1 || ct.typeName(fn) !== 'selector_expression') return false;
    const field = ct.childByField(fn, 'field');
    const name = field === -1 ? '' : ct.text(field);
    return name === 'MethodByName' || name === 'FieldByName';
  },
};

function finderFor(language: Language): Finder {
  return language === 'python' ? PYTHON : language === 'go' ? GO : JS;
}

/**
 * Finds the dynamic references of a file and records each, as source text, on the innermost
 * chunk of `raw` that holds it (`dynamicRefs`). One pass over the node array.
 */
export function recordDynamicReferences(ct: CompactTree, raw: RawAnalysis, language: Language): void {
  const finder = finderFor(language);
  for (let node = 0; node < ct.count; node++) {
    if (!finder.types.has(ct.typeName(node)) || !finder.isDynamic(ct, node)) continue;
    const start = ct.start[node]!;
    const end = ct.end[node]!;
    let holder = raw.chunks[0]!;
    for (const c of raw.chunks) {
      if (c.start <= start && end <= c.end && c.start >= holder.start) holder = c;
    }
    const text = ct.text(node).replace(/\s+/g, ' ');
    const refs = holder.dynamicRefs ?? [];
    refs.push(text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text);
    holder.dynamicRefs = refs;
  }
}
