/**
 * Syntax-aware decoding: is a partial function text a *viable prefix*, one that some continuation
 * can still turn into valid code? Beams whose text is not are pruned (SynCode, Ugare et al. 2024,
 * masks tokens by the same question with an LR automaton; ccx answers it with tree-sitter, which
 * it already loads for chunking, on the few candidates a beam can take).
 *
 * The viable-prefix rule (docs/architecture.md restates it):
 * 1. Lexically, the text must not close a bracket it did not open (or close it with the wrong
 *    kind), nor end a line inside a one-line string. These can never be repaired by appending.
 * 2. Otherwise ccx *completes* the text: it closes the open string, then the open brackets
 *    innermost first, and in Python gives a block that was opened (`if x:`) a `pass`. Unclosed
 *    brackets and strings are fine. A few fillers stand in for an unfinished expression (`_`
 *    after `return a +`, `:` after `else`, `;` before a closing brace after `if (a)`). If one of
 *    these completions parses without an error, the text is viable.
 * 3. If none does, the text is viable only when the first syntax error tree-sitter reports in
 *    the plain completion starts at or after the *frontier*: the start of the line being written
 *    or, when that line continues a bracket or string opened earlier, the start of the line where
 *    the outermost of them opened. An error before the frontier can no longer be repaired by
 *    what follows, so the text is not viable; one on the frontier's line is given the benefit of
 *    the doubt until the line is finished.
 *
 * The parse of the plain completion is incremental: each state keeps its tree, and a candidate
 * extension edits it (and undoes the edit afterwards, since node-tree-sitter trees cannot be
 * copied) so tree-sitter reuses the unchanged part.
 */
import type Parser from 'tree-sitter';
import { loadGrammar } from '../chunking/grammars.js';

/** Languages of `ccx gen`. */
export type GenLanguage = 'python' | 'typescript' | 'javascript';

/** Lexical state at the end of a text: open brackets and strings, and where a function ended. */
export interface LexState {
  /** Open constructs, innermost last: `(` `[` `{`, and in JS/TS `` ` `` (template) and `${`. */
  stack: string[];
  /** Line-start offsets where each `stack` entry opened. */
  opened: number[];
  /** Inside a string: its quote (`'`, `"`, `'''`, `"""`); a JS template is on `stack` instead. */
  quote: string | null;
  /** Line start where the open string began, and the offset of its first character of content. */
  quoteOpened: number;
  quoteStart: number;
  /** Inside a comment: `#`/`//` to the end of the line, or a JS block comment. */
  comment: 'line' | 'block' | null;
  /** Line start where the open block comment began. */
  commentOpened: number;
  /** Inside a JS regular expression literal (and inside its character class). */
  regex: 'body' | 'class' | null;
  /** Offset of the open regular expression's first character of body. */
  regexStart: number;
  /** How far the text has been scanned; characters after it wait for what follows them. */
  pos: number;
  /** The previous character escaped this one. */
  escape: boolean;
  /** Offset where the current line starts. */
  lineStart: number;
  /** Last significant character outside strings and comments (JS regex detection), or ''. */
  lastSignificant: string;
  /** Identifier characters seen since the last non-identifier character. */
  word: string;
  /** The last whole word before the current position, cleared by punctuation (for `return /re/`). */
  lastWord: string;
  /** Set when rule 1 already rejects the text. */
  invalid: string | null;
  /** JS/TS: the offset just after the last `}` that closed every bracket (a function's end). */
  closedAt: number | null;
  /** Python: the offset of the last line that started with code at column 0 after the first line (a function's end). */
  dedentAt: number | null;
}

/** The checker's state for one text: carry it from a beam to its extensions. */
export interface SyntaxState {
  readonly text: string;
  /** Scanned up to `lex.pos`, a final `/` or quote held back. */
  readonly lex: LexState;
  /** The plain completion appended for the parse. */
  readonly completion: string;
  /** Tree of `text + completion`. */
  readonly tree: Parser.Tree;
  /** Row and column of the end of `text` (kept so that an edit needs no rescan). */
  readonly end: Parser.Point;
  /** Whether the text before the frontier is a viable prefix (rule 3), kept while the frontier stays. */
  readonly committed?: { frontier: number; viable: boolean; reason?: string };
}

/** What {@link SyntaxChecker.extend} found. */
export interface ViabilityResult {
  viable: boolean;
  /** Why not, for the verbose output and the tests. */
  reason?: string;
  /** The state of the extended text (also when not viable, for inspection). */
  state: SyntaxState;
}

const OPENERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
/** Keywords after which `/` starts a regular expression rather than a division. */
const REGEX_KEYWORDS = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'yield',
  'await',
]);

function initialLex(): LexState {
  return {
    stack: [],
    opened: [],
    quote: null,
    quoteOpened: 0,
    quoteStart: 0,
    comment: null,
    commentOpened: 0,
    regex: null,
    regexStart: 0,
    pos: 0,
    escape: false,
    lineStart: 0,
    lastSignificant: '',
    word: '',
    lastWord: '',
    invalid: null,
    closedAt: null,
    dedentAt: null,
  };
}

function copyLex(s: LexState): LexState {
  return { ...s, stack: [...s.stack], opened: [...s.opened] };
}

/** The lexical state of a whole, finished text. */
export function lexText(text: string, language: GenLanguage): LexState {
  return scan(initialLex(), text, language, true);
}

/**
 * The lexical state of `text`, scanned on from `state` (the state of a prefix of it). A final
 * `/` (JS) or quote (Python) waits for the next text: it may start `//`, `/*` or `'''`.
 */
export function lexExtend(state: LexState, text: string, language: GenLanguage): LexState {
  return scan(state, text, language, false);
}

/** Trailing characters whose meaning depends on what follows them. */
function holdback(text: string, from: number, language: GenLanguage): number {
  let n = 0;
  if (language === 'python') {
    while (n < 2 && text.length - n - 1 >= from && `"'`.includes(text[text.length - n - 1]!)) n++;
  } else if (text.length - 1 >= from && text[text.length - 1] === '/') n = 1;
  return n;
}

/** Scans `text` on from `state.pos` (returns a new state); `final` scans to the end. */
function scan(state: LexState, text: string, language: GenLanguage, final: boolean): LexState {
  const s = copyLex(state);
  const python = language === 'python';
  const end = final ? text.length : text.length - holdback(text, state.pos, language);
  for (let i = state.pos; i < end && s.invalid === null; i++) {
    const c = text[i]!;
    if (c === '\n') {
      if (s.comment === 'line') s.comment = null;
      if (s.quote !== null && s.quote.length === 1 && !s.escape) {
        s.invalid = `line ${lineNumber(text, i)} ends inside a string`;
        break;
      }
      if (s.regex !== null) {
        s.invalid = `line ${lineNumber(text, i)} ends inside a regular expression`;
        break;
      }
      s.escape = false;
      s.lineStart = i + 1;
      s.word = '';
      continue;
    }
    if (s.comment === 'line') continue;
    if (s.comment === 'block') {
      if (c === '/' && text[i - 1] === '*') s.comment = null;
      continue;
    }
    if (s.escape) {
      s.escape = false;
      continue;
    }
    if (s.quote !== null) {
      if (c === '\\') s.escape = true;
      else if (
        s.quote.length === 1
          ? c === s.quote
          : c === s.quote[0] && i - 2 >= s.quoteStart && text.startsWith(s.quote, i - 2)
      ) {
        s.quote = null;
      }
      continue;
    }
    if (s.regex !== null) {
      if (c === '\\') s.escape = true;
      else if (s.regex === 'class') {
        if (c === ']') s.regex = 'body';
      } else if (c === '[') s.regex = 'class';
      else if (c === '/') {
        s.regex = null;
        s.lastSignificant = 'a';
        s.lastWord = '';
      }
      continue;
    }
    const top = s.stack.at(-1);
    if (top === '`') {
      if (c === '\\') s.escape = true;
      else if (c === '`') {
        s.stack.pop();
        s.opened.pop();
        s.lastSignificant = 'a';
        s.lastWord = '';
      } else if (c === '{' && text[i - 1] === '$') {
        s.stack.push('${');
        s.opened.push(s.lineStart);
      }
      continue;
    }
    if (python && i === s.lineStart && i > 0 && s.stack.length === 0 && c !== ' ' && c !== '\t' && c !== '\r')
      s.dedentAt = i;
    if (/[A-Za-z0-9_$]/.test(c)) {
      s.word += c;
      s.lastSignificant = 'a';
      s.lastWord = '';
      continue;
    }
    if (s.word !== '') s.lastWord = s.word;
    s.word = '';
    if (c === ' ' || c === '\t' || c === '\r') continue;
    if (python && c === '#') {
      s.comment = 'line';
      continue;
    }
    if (!python && c === '/' && text[i + 1] === '/') {
      s.comment = 'line';
      continue;
    }
    if (!python && c === '/' && text[i + 1] === '*') {
      s.comment = 'block';
      s.commentOpened = s.lineStart;
      i++;
      continue;
    }
    if (c === '"' || c === "'" || (!python && c === '`')) {
      if (c === '`') {
        s.stack.push('`');
        s.opened.push(s.lineStart);
        continue;
      }
      const triple = python && text[i + 1] === c && text[i + 2] === c;
      s.quote = triple ? c.repeat(3) : c;
      s.quoteOpened = s.lineStart;
      s.quoteStart = i + (triple ? 3 : 1);
      if (triple) i += 2;
      s.lastSignificant = 'a';
      s.lastWord = '';
      continue;
    }
    if (!python && c === '/') {
      const prev = s.lastSignificant;
      const afterOperand =
        prev === 'a' ? !REGEX_KEYWORDS.has(s.lastWord) : prev === ')' || prev === ']' || prev === '}';
      if (!afterOperand) {
        s.regex = 'body';
        s.regexStart = i + 1;
        continue;
      }
    }
    if (c in OPENERS) {
      s.stack.push(c);
      s.opened.push(s.lineStart);
    } else if (c in CLOSERS) {
      const open = s.stack.at(-1);
      if (open === '${' && c === '}') {
        s.stack.pop();
        s.opened.pop();
      } else if (open !== CLOSERS[c]) {
        s.invalid =
          open === undefined
            ? `'${c}' at line ${lineNumber(text, i)} closes nothing`
            : `'${c}' at line ${lineNumber(text, i)} does not close '${open}'`;
        break;
      } else {
        s.stack.pop();
        s.opened.pop();
        if (c === '}' && s.stack.length === 0) s.closedAt = i + 1;
      }
    }
    s.lastSignificant = c;
    s.lastWord = '';
  }
  s.pos = Math.max(s.pos, end);
  return s;
}

/** 1-based line of an offset. */
function lineNumber(text: string, offset: number): number {
  let n = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

/** Row and column (UTF-16 units, as node-tree-sitter counts) after `text`, written from `from`. */
function advance(from: Parser.Point, text: string): Parser.Point {
  const nl = text.lastIndexOf('\n');
  if (nl < 0) return { row: from.row, column: from.column + text.length };
  let rows = 0;
  for (let i = 0; i <= nl; i++) if (text.charCodeAt(i) === 10) rows++;
  return { row: from.row + rows, column: text.length - nl - 1 };
}

/** What closes the open string and brackets, innermost first; `semicolons` puts `;` before each `}`. */
function closers(lex: LexState, semicolons: boolean): string {
  let out = lex.comment === 'block' ? '*/' : lex.comment === 'line' ? '\n' : '';
  if (lex.quote !== null) out += lex.quote;
  // An empty regular expression would read as a comment: give it a body.
  if (lex.regex !== null) out += lex.regex === 'class' ? ']/' : lex.regexStart >= lex.pos ? '_/' : '/';
  for (let i = lex.stack.length - 1; i >= 0; i--) {
    const open = lex.stack[i]!;
    if (open === '`') out += '`';
    else if (open === '${') out += '}';
    else if (open === '{') out += semicolons ? ';}' : '}';
    else out += OPENERS[open]!;
  }
  return out;
}

/** In Python, a block opened on the last non-blank line gets `pass`, indented one level deeper. */
function pythonBlockTail(text: string): string {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const code = line.replace(/#.*$/, '').trimEnd();
    if (code.trim() === '') continue;
    const indent = /^[ \t]*/.exec(line)![0];
    // A decorator needs something to decorate.
    if (code.trimStart().startsWith('@')) return `\n${indent}def _(): pass`;
    if (!code.endsWith(':')) return '';
    return `\n${indent}    pass`;
  }
  return '';
}

/** Indentation (columns) of the last line of `text` that holds more than whitespace. */
function lastIndent(text: string): number {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!;
    if (l.trim() !== '') return l.length - l.trimStart().length;
  }
  return 0;
}

/** The first ERROR or MISSING node in source order, or null. */
function firstError(node: Parser.SyntaxNode): Parser.SyntaxNode | null {
  if (node.type === 'ERROR' || node.isMissing) return node;
  if (!node.hasError) return null;
  for (const child of node.children) {
    const e = firstError(child);
    if (e !== null) return e;
  }
  return null;
}

const FILLERS: Record<GenLanguage, string[]> = {
  python: ['', ' _', '_', ' _ else _'],
  javascript: ['', ' _', '_', ' : _', ' _ : _'],
  typescript: ['', ' _', '_', ' : _', ' _ : _'],
};

/** A parser per language, loaded lazily (tree-sitter and its grammars are native modules). */
export class SyntaxChecker {
  /** Parses made, for the benchmark: plain (incremental) and fallback completions. */
  readonly stats = { checks: 0, incremental: 0, fallback: 0 };

  private constructor(
    readonly language: GenLanguage,
    private readonly parser: Parser,
  ) {}

  /** Loads the grammar of `language`. */
  static async create(language: GenLanguage): Promise<SyntaxChecker> {
    const { default: ParserCtor } = await import('tree-sitter');
    const parser = new ParserCtor();
    parser.setLanguage(await loadGrammar(language));
    return new SyntaxChecker(language, parser);
  }

  /** The state of a whole text (the forced prefix), parsed from scratch. */
  start(text: string): ViabilityResult {
    const lex = scan(initialLex(), text, this.language, false);
    const now = lex.pos === text.length ? lex : scan(lex, text, this.language, true);
    const completion = this.plainCompletion(text, now);
    const tree = this.parser.parse(text + completion);
    return this.judge(text, advance({ row: 0, column: 0 }, text), lex, now, completion, tree, undefined);
  }

  /** The state of `state.text + piece`, parsed incrementally from `state`'s tree. */
  extend(state: SyntaxState, piece: string): ViabilityResult {
    this.stats.checks++;
    const text = state.text + piece;
    const lex = scan(state.lex, text, this.language, false);
    // What the text says if it ends here: held-back characters read as they stand.
    const now = lex.pos === text.length ? lex : scan(lex, text, this.language, true);
    const end = advance(state.end, piece);
    if (now.invalid !== null)
      return {
        viable: false,
        reason: now.invalid,
        state: { text, end, lex, completion: '', tree: state.tree },
      };
    const completion = this.plainCompletion(text, now);
    const oldLength = state.text.length + state.completion.length;
    const newFull = text + completion;
    const start = state.text.length;
    const edit = {
      startIndex: start,
      oldEndIndex: oldLength,
      newEndIndex: newFull.length,
      startPosition: state.end,
      oldEndPosition: advance(state.end, state.completion),
      newEndPosition: advance(end, completion),
    };
    state.tree.edit(edit);
    const tree = this.parser.parse(newFull, state.tree);
    // Undo the edit: the parent's tree serves its other extensions too.
    state.tree.edit({
      startIndex: start,
      oldEndIndex: newFull.length,
      newEndIndex: oldLength,
      startPosition: edit.startPosition,
      oldEndPosition: edit.newEndPosition,
      newEndPosition: edit.oldEndPosition,
    });
    this.stats.incremental++;
    return this.judge(text, end, lex, now, completion, tree, state.committed);
  }

  /** Whether `code` is a whole function without a syntax error (nothing left open). */
  isComplete(code: string): boolean {
    const lex = scan(initialLex(), code, this.language, true);
    if (lex.invalid !== null || lex.stack.length > 0 || lex.quote !== null || lex.comment === 'block')
      return false;
    return !this.parser.parse(code).rootNode.hasError;
  }

  private plainCompletion(text: string, lex: LexState): string {
    const closed = closers(lex, false);
    return this.language === 'python' ? closed + pythonBlockTail(text + closed) : closed;
  }

  /** Rule 2: some completion of `text` (whose final state is `now`) parses without an error. */
  private completes(text: string, now: LexState, plain: string, plainTree: Parser.Tree | undefined): boolean {
    if (plainTree !== undefined ? !plainTree.rootNode.hasError : !this.parser.parse(plain).rootNode.hasError)
      return true;
    const fillers = FILLERS[this.language];
    // tree-sitter-python rejects a continuation line inside brackets indented less than its
    // block (CPython does not): on a blank line, the filler goes one level deeper.
    const line = text.slice(text.lastIndexOf('\n') + 1);
    const extra =
      this.language === 'python' && /^[ \t]*$/.test(line) ? [`${' '.repeat(lastIndent(text) + 4)}_`] : [];
    for (const filler of [...fillers, ...extra]) {
      for (const variant of this.variants(text + filler, scan(now, text + filler, this.language, true))) {
        if (variant === plain) continue;
        this.stats.fallback++;
        if (!this.parser.parse(variant).rootNode.hasError) return true;
      }
    }
    return false;
  }

  private judge(
    text: string,
    end: Parser.Point,
    lex: LexState,
    now: LexState,
    completion: string,
    tree: Parser.Tree,
    committed: SyntaxState['committed'],
  ): ViabilityResult {
    const state = (c?: SyntaxState['committed']): SyntaxState => ({
      text,
      end,
      lex,
      completion,
      tree,
      ...(c === undefined ? {} : { committed: c }),
    });
    if (now.invalid !== null) return { viable: false, reason: now.invalid, state: state(committed) };
    if (!tree.rootNode.hasError) return { viable: true, state: state(committed) };
    // Rule 3 before rule 2's fillers, since the verdict on what precedes the frontier is kept
    // while the frontier stays (one line): the fillers are parsed once a line, not once a token.
    // The line being written gets the benefit of the doubt when what comes before it is viable.
    const frontier = Math.min(
      now.lineStart,
      ...now.opened.filter((_, i) => now.stack[i] !== '{'),
      now.quote !== null ? now.quoteOpened : Number.POSITIVE_INFINITY,
      now.comment === 'block' ? now.commentOpened : Number.POSITIVE_INFINITY,
    );
    let verdict = committed?.frontier === frontier ? committed : undefined;
    if (verdict === undefined) {
      const before = text.slice(0, frontier);
      const beforeLex = scan(initialLex(), before, this.language, true);
      const plain = before + this.plainCompletion(before, beforeLex);
      if (beforeLex.invalid === null && this.completes(before, beforeLex, plain, undefined))
        verdict = { frontier, viable: true };
      else {
        const error = firstError(this.parser.parse(plain).rootNode);
        verdict = {
          frontier,
          viable: false,
          reason:
            beforeLex.invalid ??
            `syntax error${error === null ? '' : ` at line ${error.startPosition.row + 1}, column ${error.startPosition.column + 1}`}, before the line being written`,
        };
      }
    }
    if (verdict.viable || this.completes(text, now, text + completion, tree))
      return { viable: true, state: state(verdict) };
    return { viable: false, reason: verdict.reason ?? 'not a viable prefix', state: state(verdict) };
  }

  /** Completions other than the plain one: `;` before closing braces (JS), `:` and a block (Python). */
  private variants(text: string, lex: LexState): string[] {
    if (lex.invalid !== null) return [];
    if (this.language !== 'python') return [text + closers(lex, false), text + closers(lex, true)];
    const closed = text + closers(lex, false);
    return [closed + pythonBlockTail(closed), `${closed}:${pythonBlockTail(`${closed}:`)}`];
  }
}
