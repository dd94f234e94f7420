/**
 * The normalized token stream behind `hash` and `interfaceHash` (shared/spec/semantic-hash.md,
 * version ccx-sh/1), shared by every language analyzer.
 *
 * A chunk's subtree is serialized in pre-order as tokens: a named node opens with its type (and
 * the field it fills in its parent, so `for(a;;)` and `for(;a;)` differ once `;` is dropped) and
 * closes with `)`; comments, docstrings and nested chunks are skipped; pure punctuation that the
 * tree structure already implies (commas, semicolons, brackets) is dropped, which makes ASI
 * semicolons and trailing commas (rule 4) invisible; literals become their value (rule 3);
 * identifiers bound locally become `$n`, numbered by first occurrence (rule 5), and references of
 * the chunk to itself become `$self` (rule 6). Whitespace never reaches the stream (rule 1).
 */
import { createHash } from 'node:crypto';
import { HASH_VERSION } from '../manifest.js';
import type { CompactTree } from './compact-tree.js';

/** What a language tells the normalizer about its grammar. */
export interface LanguageProfile {
  /** Anonymous token types dropped from the stream (punctuation implied by the tree). */
  dropTokens: ReadonlySet<string>;
  /** Named node types replaced by their only named child (e.g. `parenthesized_expression`). */
  unwrap: ReadonlySet<string>;
  /** Named node types whose text is a comment. */
  comments: ReadonlySet<string>;
  /** Named node types that do nothing and are skipped (an empty statement, `;` on its own). */
  noOps?: ReadonlySet<string>;
  /**
   * The normalized token of a literal node (`'s:' + JSON of the value`, `'n:' + canonical number`),
   * or undefined if `node` is not a literal this language normalizes. Its subtree is not walked.
   */
  literal(ct: CompactTree, node: number): string | undefined;
  /**
   * For a `formal_parameters` node: the identifier to emit as a bare `parameter:` when the
   * parameters are one plain identifier that could be written without parentheses (an arrow
   * function's `(x) => ...` is the same code as `x => ...`); -1 otherwise.
   */
  bareParameter?(ct: CompactTree, node: number): number;
}

/** Marks on nodes, set by a language analyzer before hashing. */
export const BIND_NONE = -1;
/** The identifier names the chunk itself (its declared name, or recursion). */
export const BIND_SELF = -2;

/** Per-node annotations for one file, shared by all its chunks. */
export interface NodeMarks {
  /** Per node: BIND_NONE, BIND_SELF, or a local binding id (>= 0) unique within the file. */
  binding: Int32Array;
  /** Per node: 1 to skip the subtree (comment, docstring, a chunk nested in the one being hashed). */
  skip: Uint8Array;
}

export function createNodeMarks(ct: CompactTree): NodeMarks {
  const binding = new Int32Array(ct.count);
  binding.fill(BIND_NONE);
  return { binding, skip: new Uint8Array(ct.count) };
}

/**
 * Appends the normalized tokens of the subtree at `root` to `out`. `locals` maps local binding
 * ids to their number in this stream; pass the same map to several calls to keep one numbering.
 * `stopAt` (a set of node indexes) are skipped in addition to `marks.skip` (nested chunks).
 * Iterative: nesting depth is bounded by memory, not the call stack.
 */
export function emitTokens(
  ct: CompactTree,
  profile: LanguageProfile,
  marks: NodeMarks,
  root: number,
  out: string[],
  locals: Map<number, number>,
  stopAt?: ReadonlySet<number>,
): void {
  const stack: number[] = [root];
  const fieldNames = ct.tables.fieldNames;
  /** Nodes emitted under another field than their own (a bare arrow parameter). */
  const fieldOverride = new Map<number, string>();
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node < 0) {
      out.push(')');
      continue;
    }
    if (marks.skip[node] === 1 || (stopAt !== undefined && node !== root && stopAt.has(node))) continue;
    const typeName = ct.typeName(node);
    if (!ct.isNamed(node)) {
      if (!profile.dropTokens.has(typeName)) out.push(typeName);
      continue;
    }
    if (profile.comments.has(typeName) || profile.noOps?.has(typeName) === true) continue;
    const fieldId = ct.field[node]!;
    const prefix =
      fieldOverride.size > 0 && fieldOverride.has(node)
        ? fieldOverride.get(node)!
        : fieldId === 0
          ? ''
          : `${fieldNames[fieldId]}:`;
    if (typeName === 'formal_parameters' && profile.bareParameter !== undefined) {
      const bare = profile.bareParameter(ct, node);
      if (bare !== -1) {
        fieldOverride.set(bare, 'parameter:');
        stack.push(bare);
        continue;
      }
    }
    if (profile.unwrap.has(typeName)) {
      const inner = onlyNamedChild(ct, profile, node);
      if (inner !== -1) {
        // The wrapper's field applies to what it wraps, in the same token as without it.
        if (prefix !== '') fieldOverride.set(inner, prefix);
        stack.push(inner);
        continue;
      }
    }
    const lit = profile.literal(ct, node);
    if (lit !== undefined) {
      out.push(prefix + lit);
      continue;
    }
    const bind = marks.binding[node]!;
    if (bind === BIND_SELF) {
      out.push(`${prefix}$self`);
      continue;
    }
    if (bind >= 0) {
      let n = locals.get(bind);
      if (n === undefined) {
        n = locals.size;
        locals.set(bind, n);
      }
      out.push(`${prefix}$${n}`);
      continue;
    }
    const first = ct.firstChild[node]!;
    if (first === -1) {
      // A named leaf: identifiers, keywords such as `this`, `true`, type names.
      out.push(`${prefix}${typeName}=${ct.text(node)}`);
      continue;
    }
    out.push(`${prefix}(${typeName}`);
    stack.push(-1);
    // Push children in reverse so they pop in source order.
    let n = 0;
    for (let c = first; c !== -1; c = ct.nextSibling[c]!) n++;
    const base = stack.length;
    stack.length += n;
    let k = base + n - 1;
    for (let c = first; c !== -1; c = ct.nextSibling[c]!) stack[k--] = c;
  }
}

function onlyNamedChild(ct: CompactTree, profile: LanguageProfile, node: number): number {
  let found = -1;
  for (let c = ct.firstChild[node]!; c !== -1; c = ct.nextSibling[c]!) {
    if (!ct.isNamed(c) || profile.comments.has(ct.typeName(c))) continue;
    if (found !== -1) return -1;
    found = c;
  }
  return found;
}

/**
 * SHA-256 (lowercase hex) of a token stream, with the hash version and a domain tag
 * (`'hash'`, `'interface'`) mixed in, so a stream can never collide across versions or purposes.
 * Tokens are joined with U+0001, which no token contains (literal values are JSON-escaped).
 */
export function hashTokens(domain: string, tokens: readonly string[]): string {
  const h = createHash('sha256');
  h.update(`${HASH_VERSION}\u0000${domain}\u0000`);
  h.update(tokens.join('\u0001'));
  return h.digest('hex');
}
