/**
 * The semantic hash rules of shared/spec/semantic-hash.md (ccx-sh/1) for JavaScript, TypeScript
 * and TSX: pairs that MUST hash equal and pairs that MUST differ, one or more per rule.
 */
import { describe, expect, it } from 'vitest';
import type { ChunkRecord, FileAnalysis, Language } from '../../src/chunking/types.js';
import { analyzeText } from '../helpers/analyze.js';

async function analyze(src: string, language: Language = 'typescript'): Promise<FileAnalysis> {
  return analyzeText(src, language);
}

/** The first non-module chunk of a source text. */
async function firstChunk(src: string, language: Language = 'typescript'): Promise<ChunkRecord> {
  const a = await analyze(src, language);
  const c = a.chunks[1];
  if (c === undefined) throw new Error(`no chunk in ${src}`);
  return c;
}

type Pair = [rule: string, a: string, b: string, language?: Language];

const EQUAL: Pair[] = [
  ['whitespace and line breaks', 'function f(a){return a+1}', 'function f( a ) {\n    return a + 1\n}\n'],
  [
    'indentation',
    'function f(a) {\n  if (a) {\n    return 1;\n  }\n}',
    'function f(a) {\nif (a) {\n\t\treturn 1;\n}\n}',
  ],
  ['line comments', 'function f(a) { return a; }', 'function f(a) { // the value\n  return a; // done\n}'],
  [
    'block and JSDoc comments',
    'function f(a) { return a; }',
    '/** doc */\nfunction f(/* x */ a) { /* body */ return a; }',
  ],
  ['single vs double quotes', "function f() { return 'a'; }", 'function f() { return "a"; }'],
  [
    'template literal without substitutions',
    "function f() { return 'a\\n'; }",
    'function f() { return `a\\n`; }',
  ],
  ['escapes with the same value', "function f() { return 'A'; }", "function f() { return '\\x41'; }"],
  ['unicode escapes', "function f() { return 'é'; }", "function f() { return '\\u00e9'; }"],
  ['hex vs decimal', 'function f() { return 0x10; }', 'function f() { return 16; }'],
  ['numeric separators', 'function f() { return 1_000; }', 'function f() { return 1000; }'],
  ['exponent', 'function f() { return 1e3; }', 'function f() { return 1000; }'],
  ['binary and octal', 'function f() { return 0b101 + 0o17; }', 'function f() { return 5 + 15; }'],
  ['ASI semicolons', 'function f(a) { const b = a; return b }', 'function f(a) { const b = a;\n return b; }'],
  ['trailing commas', 'function f(a, b) { return [a, b]; }', 'function f(a, b,) { return [a, b,]; }'],
  [
    'trailing commas in objects and calls',
    'function f(a) { return g({ x: a }, a); }',
    'function f(a) { return g({ x: a, }, a,); }',
  ],
  ['redundant parentheses', 'function f(a) { return (a + 1); }', 'function f(a) { return a + 1; }'],
  ['rename a parameter', 'function f(a) { return a * 2; }', 'function f(value) { return value * 2; }'],
  [
    'rename a local const',
    'function f() { const x = g(); return x; }',
    'function f() { const y = g(); return y; }',
  ],
  [
    'rename let and var',
    'function f() { let i = 0; var j = i; return j; }',
    'function f() { let n = 0; var m = n; return m; }',
  ],
  [
    'rename a catch parameter',
    'function f() { try { g(); } catch (e) { h(e); } }',
    'function f() { try { g(); } catch (err) { h(err); } }',
  ],
  [
    'rename loop variables',
    'function f(xs) { for (const x of xs) g(x); for (let i = 0; i < 3; i++) g(i); }',
    'function f(ys) { for (const y of ys) g(y); for (let k = 0; k < 3; k++) g(k); }',
  ],
  [
    'rename destructuring targets',
    'function f(o) { const { a: x, b: [y] } = o; return x + y; }',
    'function f(o) { const { a: p, b: [q] } = o; return p + q; }',
  ],
  [
    'rename nested functions and classes',
    'function f() { function g() { return 1; } class K {} return [g(), new K()]; }',
    'function f() { function h() { return 1; } class Q {} return [h(), new Q()]; }',
  ],
  [
    'rename arrow parameters',
    'const f = (a) => a.map((x) => x + 1);',
    'const f = (b) => b.map((y) => y + 1);',
  ],
  [
    'rename shadowed locals consistently',
    'function f(a) { { const a2 = 1; return a + a2; } }',
    'function f(z) { { const w = 1; return z + w; } }',
  ],
  ['rename type parameters', 'function f<T>(a: T): T { return a; }', 'function f<U>(a: U): U { return a; }'],
  ['rename the function itself', 'function f(a) { return a; }', 'function g(a) { return a; }'],
  [
    'recursion becomes a self marker',
    'function f(n) { return n ? f(n - 1) : 0; }',
    'function g(n) { return n ? g(n - 1) : 0; }',
  ],
  ['rename a class', 'class A { x = 1; }', 'class B { x = 1; }'],
  [
    'a method calling itself through this',
    'class A { m(n) { return n ? this.m(n - 1) : 0; } }',
    'class A { k(n) { return n ? this.k(n - 1) : 0; } }',
  ],
  [
    'TSX formatting',
    'function C() { return <div className="a">{x}</div>; }',
    'function C() {\n  return (\n    <div className="a">{x}</div>\n  );\n}',
    'tsx',
  ],
  [
    'JavaScript comments',
    'function f(a) { return a; }',
    '// c\nfunction f(a) { /* c */ return a; }',
    'javascript',
  ],
  // Found by reformatting rxjs with prettier (docs/benchmarks.md, "Prettier round trip").
  [
    'arrow parameter parentheses',
    'function f(xs) { return xs.map((x) => x + 1); }',
    'function f(xs) { return xs.map(x => x + 1); }',
  ],
  [
    'arrow parameter parentheses (JavaScript)',
    'function f(xs) { return xs.map((x) => x + 1); }',
    'function f(xs) { return xs.map(x => x + 1); }',
    'javascript',
  ],
  ['a leading | in a union type', 'type A = B | C;', 'type A =\n  | B\n  | C;'],
  ['a leading & in an intersection type', 'type A = B & C;', 'type A =\n  & B\n  & C;'],
  ['parentheses around a type', 'function f(a: (B | C)) { return a; }', 'function f(a: B | C) { return a; }'],
  [
    'parentheses around an arrow body',
    'function f() { return (a) => (a ? 1 : 2); }',
    'function f() { return (a) => a ? 1 : 2; }',
  ],
  [
    'the ; a no-semicolon style puts before a line starting with [',
    'function f(a, b) { g();\n[a, b].forEach(h); }',
    'function f(a, b) { g()\n;[a, b].forEach(h) }',
  ],
];

const DIFFERENT: Pair[] = [
  ['an operator', 'function f(a) { return a + 1; }', 'function f(a) { return a - 1; }'],
  ['a literal value', 'function f() { return 1; }', 'function f() { return 2; }'],
  ['a string value', "function f() { return 'a'; }", "function f() { return 'b'; }"],
  ['number vs string', 'function f() { return 1; }', "function f() { return '1'; }"],
  ['bigint vs number', 'function f() { return 1n; }', 'function f() { return 1; }'],
  ['a global name', 'function f() { return window; }', 'function f() { return document; }'],
  [
    'an imported name',
    "import { a } from './m';\nfunction f() { return a(); }",
    "import { b } from './m';\nfunction f() { return b(); }",
  ],
  ['a called function', 'function f(x) { return g(x); }', 'function f(x) { return h(x); }'],
  ['a property name', 'function f(o) { return o.a; }', 'function f(o) { return o.b; }'],
  ['an object key', 'function f(v) { return { a: v }; }', 'function f(v) { return { b: v }; }'],
  [
    'a shorthand property renamed',
    'function f() { const a = 1; return { a }; }',
    'function f() { const b = 1; return { b }; }',
  ],
  ['control flow', 'function f(a) { if (a) g(); }', 'function f(a) { while (a) g(); }'],
  [
    'break vs continue',
    'function f(xs) { for (const x of xs) { if (x) break; } }',
    'function f(xs) { for (const x of xs) { if (x) continue; } }',
  ],
  ['for clauses', 'function f() { for (let i = 0; ; ) g(); }', 'function f() { for (let i = 0; i; ) g(); }'],
  ['the number of parameters', 'function f(a) { return a; }', 'function f(a, b) { return a; }'],
  ['the order of parameters', 'function f(a, b) { return a - b; }', 'function f(b, a) { return a - b; }'],
  ['a default value', 'function f(a = 1) { return a; }', 'function f(a = 2) { return a; }'],
  ['a type annotation', 'function f(a: number) { return a; }', 'function f(a: string) { return a; }'],
  ['a return type', 'function f(): number { return 1; }', 'function f(): any { return 1; }'],
  ['a class decorator', '@dec class A { x = 1; }', '@other class A { x = 1; }'],
  ['async', 'function f() { return g(); }', 'async function f() { return g(); }'],
  ['a generator star', 'function f() { return 1; }', 'function* f() { return 1; }'],
  ['export', 'function f() { return 1; }', 'export function f() { return 1; }'],
  ['static', 'class A { static x = 1; }', 'class A { x = 1; }'],
  ['readonly', 'class A { readonly x = 1; }', 'class A { x = 1; }'],
  ['visibility', 'class A { private x = 1; }', 'class A { public x = 1; }'],
  ['statement order', 'function f() { g(); h(); }', 'function f() { h(); g(); }'],
  ['let vs const', 'function f() { let a = g(); return a; }', 'function f() { const a = g(); return a; }'],
  ['a directive prologue', 'function f() { "use strict"; return 1; }', 'function f() { return 1; }'],
  ['a local vs a global of the same name', 'function f(a) { return a; }', 'function f(b) { return a; }'],
  ['an inconsistent rename', 'function f(a, b) { return a + a; }', 'function f(a, b) { return a + b; }'],
  [
    'recursion vs a call to another function',
    'function f(n) { return f(n); }',
    'function f(n) { return g(n); }',
  ],
  [
    'a JSX attribute',
    'function C() { return <a href="x" />; }',
    'function C() { return <a title="x" />; }',
    'tsx',
  ],
  [
    'a typed vs an untyped arrow parameter',
    'function f(xs) { return xs.map((x: number) => x); }',
    'function f(xs) { return xs.map(x => x); }',
  ],
  [
    'a default on an arrow parameter',
    'function f(xs) { return xs.map((x = 1) => x); }',
    'function f(xs) { return xs.map(x => x); }',
  ],
  [
    'parentheses that group a type',
    'function f(a: (B | C)[]) { return a; }',
    'function f(a: B | C[]) { return a; }',
  ],
];

describe('hash: pairs that must be equal (TypeScript/JavaScript)', () => {
  it.each(EQUAL)('%s', async (_rule, a, b, language) => {
    const ca = await firstChunk(a, language);
    const cb = await firstChunk(b, language);
    expect(cb.hash).toBe(ca.hash);
  });
});

describe('interfaceHash of arrow functions', () => {
  it('is the same with and without parentheses around one parameter, and differs with a type', async () => {
    const bare = await firstChunk('export const f: F = x => x;');
    const paren = await firstChunk('export const f: F = (x) => x;');
    const typed = await firstChunk('export const f: F = (x: number) => x;');
    expect(paren.interfaceHash).toBe(bare.interfaceHash);
    expect(typed.interfaceHash).not.toBe(bare.interfaceHash);
  });
});

describe('hash: pairs that must differ (TypeScript/JavaScript)', () => {
  it.each(DIFFERENT)('%s', async (_rule, a, b, language) => {
    const ca = await firstChunk(a, language);
    const cb = await firstChunk(b, language);
    expect(cb.hash).not.toBe(ca.hash);
  });
});

describe('decorators of methods', () => {
  it('belong to the method chunk, not to the class', async () => {
    const a = await analyze('class A {\n  @dec m() {}\n}');
    const b = await analyze('class A {\n  @other m() {}\n}');
    const [ca, ma] = [a.chunks[1]!, a.chunks[2]!];
    const [cb, mb] = [b.chunks[1]!, b.chunks[2]!];
    expect(ma.localId).toBe('A.m');
    expect(ma.startByte).toBe('class A {\n  '.length);
    expect(mb.hash).not.toBe(ma.hash);
    expect(mb.interfaceHash).not.toBe(ma.interfaceHash);
    expect(cb.hash).toBe(ca.hash);
  });
});

describe('interfaceHash (TypeScript)', () => {
  it('stays equal when only the body changes', async () => {
    const a = await firstChunk('export function f(a: number, b = 1): number { return a + b; }');
    const b = await firstChunk('export function f(x: number, y = 7): number { return x * y - 1; }');
    expect(b.hash).not.toBe(a.hash);
    expect(b.interfaceHash).toBe(a.interfaceHash);
  });

  it.each([
    ['a parameter type', 'function f(a: number) {}', 'function f(a: string) {}'],
    ['a parameter count', 'function f(a) {}', 'function f(a, b) {}'],
    ['a default added', 'function f(a) {}', 'function f(a = 1) {}'],
    ['the return type', 'function f(): number { return 1; }', 'function f(): string { return 1; }'],
    ['the name', 'function f() {}', 'function g() {}'],
    ['async', 'function f() {}', 'async function f() {}'],
    ['export', 'function f() {}', 'export function f() {}'],
    ['a public method signature', 'class A { m(a: number) {} }', 'class A { m(a: string) {} }'],
    ['a public field', 'class A { x = 1; }', 'class A { y = 1; }'],
    ['an interface member', 'interface I { a: number }', 'interface I { a: string }'],
    ['the heritage', 'class A extends B {}', 'class A extends C {}'],
  ])('changes with %s', async (_what, a, b) => {
    expect((await firstChunk(b)).interfaceHash).not.toBe((await firstChunk(a)).interfaceHash);
  });

  it('ignores private members and method bodies of a class', async () => {
    const a = await analyze('class A { private p = 1; #q = 2; m(a: number) { return 1; } }');
    const b = await analyze('class A { private r = 3; #s = 4; m(a: number) { return 2; } }');
    expect(b.chunks[1]!.interfaceHash).toBe(a.chunks[1]!.interfaceHash);
  });

  it('gives a renamed function the same hash and another interfaceHash', async () => {
    const a = await firstChunk('function f(a) { return a; }');
    const b = await firstChunk('function g(a) { return a; }');
    expect(b.hash).toBe(a.hash);
    expect(b.interfaceHash).not.toBe(a.interfaceHash);
    expect(b.name).toBe('g');
  });
});

describe('hashes are stable', () => {
  it('do not depend on where the chunk is in the file or on other chunks', async () => {
    const a = await analyze('function f(a) { return a; }');
    const b = await analyze('const x = 1;\n\nfunction other() {}\n\nfunction f(a) { return a; }');
    const fa = a.chunks.find((c) => c.localId === 'f')!;
    const fb = b.chunks.find((c) => c.localId === 'f')!;
    expect(fb.hash).toBe(fa.hash);
    expect(fb.interfaceHash).toBe(fa.interfaceHash);
  });

  it('change for a module chunk when its own code changes, not when a function body does', async () => {
    const a = await analyze('import x from "y";\nconst K = 1;\nfunction f() { return 1; }');
    const b = await analyze('import x from "y";\nconst K = 1;\nfunction f() { return 2; }');
    const c = await analyze('import x from "y";\nconst K = 2;\nfunction f() { return 1; }');
    expect(b.chunks[0]!.hash).toBe(a.chunks[0]!.hash);
    expect(c.chunks[0]!.hash).not.toBe(a.chunks[0]!.hash);
  });

  it('are 64 lowercase hex digits', async () => {
    const c = await firstChunk('function f() {}');
    expect(c.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(c.interfaceHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
