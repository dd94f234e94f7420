/**
 * Go `hash` / `interfaceHash` rules of shared/spec/semantic-hash.md (ccx-sh/1): pairs of
 * sources that must hash equal and pairs that must hash differently.
 */
import { describe, expect, it } from 'vitest';
import type { ChunkRecord, FileAnalysis } from '../../src/chunking/types.js';
import { analyzeText, findChunk } from '../helpers/analyze.js';

function analyzeGo(text: string): Promise<FileAnalysis> {
  return analyzeText(text, 'go');
}

/** The chunk `localId` of `package p` followed by `code`; the only non-module chunk by default. */
async function chunkOf(code: string, localId?: string): Promise<ChunkRecord> {
  const analysis = await analyzeGo(`package p\n\n${code}\n`);
  if (localId !== undefined) return findChunk(analysis, localId);
  const found = analysis.chunks.length > 1 ? analysis.chunks[analysis.chunks.length - 1] : undefined;
  if (found === undefined) throw new Error(`no chunk in: ${code}`);
  return found;
}

interface Pair {
  rule: string;
  a: string;
  b: string;
  /** localId of the chunk to compare in both (default: the last chunk). */
  id?: string;
  /** localId in `b` when it differs (a rename). */
  idB?: string;
}

const EQUAL: Pair[] = [
  {
    rule: 'whitespace and gofmt reflow',
    a: 'func f(a int, b int) int {\n\tif a > b {\n\t\treturn a - b\n\t}\n\treturn b\n}',
    b: 'func f(a int,   b int) int { if a>b { return a-b }\n\n\n  return b }',
  },
  {
    rule: 'line and block comments',
    a: 'func f() int {\n\tx := 1 // one\n\t/* two */\n\treturn x\n}',
    b: 'func f() int {\n\tx := 1\n\treturn /* still x */ x\n}',
  },
  {
    rule: 'a doc comment is outside the hash',
    a: '// f does things.\n// More.\nfunc f() {}',
    b: 'func f() {}',
  },
  {
    rule: 'interpreted vs raw string with the same value',
    a: 'func f() string { return "a\\nb" }',
    b: 'func f() string { return `a\nb` }',
  },
  {
    rule: 'string escapes by value (\\x bytes, octal bytes, \\u)',
    a: 'func f() string { return "A\\u00e9\\t" }',
    b: 'func f() string { return "\\x41\\xc3\\xa9\\011" }',
  },
  {
    rule: 'a raw string drops carriage returns',
    a: 'func f() string { return `a\r\nb` }',
    b: 'func f() string { return "a\\nb" }',
  },
  {
    rule: 'integer spellings: hex, octal, legacy octal, binary, underscores',
    a: 'func f() []int { return []int{16, 16, 16, 16, 1000} }',
    b: 'func f() []int { return []int{0x10, 0o20, 020, 0b1_0000, 1_000} }',
  },
  {
    rule: 'float spellings, decimal and hexadecimal',
    a: 'func f() float64 { return 1500.0 + 0.25 }',
    b: 'func f() float64 { return 1.5e3 + 0x1p-2 }',
  },
  {
    rule: 'imaginary spellings (a leading zero stays decimal)',
    a: 'func f() complex128 { return 12i + 2i }',
    b: 'func f() complex128 { return 012i + 2.0i }',
  },
  {
    rule: 'rune spellings',
    a: "func f() []rune { return []rune{'A', 'A', 'A', 'é', '\\n'} }",
    b: "func f() []rune { return []rune{'\\x41', '\\101', '\\u0041', '\\u00e9', '\\012'} }",
  },
  {
    rule: 'trailing commas',
    a: 'func f() {\n\tg(1,\n\t\t2,\n\t)\n\t_ = []int{\n\t\t1,\n\t}\n}',
    b: 'func f() {\n\tg(1, 2)\n\t_ = []int{1}\n}',
  },
  {
    rule: 'explicit semicolons vs automatic ones',
    a: 'func f() { a := 1; b := 2; g(a, b); }',
    b: 'func f() {\n\ta := 1\n\tb := 2\n\tg(a, b)\n}',
  },
  {
    rule: 'redundant parentheses',
    a: 'func f(a int) int { return (a) }',
    b: 'func f(a int) int { return a }',
  },
  {
    rule: 'renaming parameters',
    a: 'func f(a, b int, rest ...string) int { return a + b + len(rest) }',
    b: 'func f(x, y int, more ...string) int { return x + y + len(more) }',
  },
  {
    rule: 'renaming named results',
    a: 'func f() (n int, err error) { n = 1; return }',
    b: 'func f() (count int, e error) { count = 1; return }',
  },
  {
    rule: 'renaming the receiver',
    a: 'type T struct{ v int }\nfunc (t *T) Get() int { return t.v }',
    b: 'type T struct{ v int }\nfunc (self *T) Get() int { return self.v }',
  },
  {
    rule: 'renaming := variables',
    a: 'func f() int { total := g(); return total * 2 }',
    b: 'func f() int { sum := g(); return sum * 2 }',
  },
  {
    rule: ':= reuses a name already declared in the same block',
    a: 'func f() (int, int, error) {\n\ta, err := g()\n\tb, err := h()\n\treturn a, b, err\n}',
    b: 'func f() (int, int, error) {\n\tx, e := g()\n\ty, e := h()\n\treturn x, y, e\n}',
  },
  {
    rule: 'renaming var and const inside a function',
    a: 'func f() int { var acc int; const step = 2; acc += step; return acc }',
    b: 'func f() int { var n int; const k = 2; n += k; return n }',
  },
  {
    rule: 'renaming range and for-clause variables',
    a: 'func f(m map[string]int) { for k, v := range m { g(k, v) }; for i := 0; i < 3; i++ { g(i) } }',
    b: 'func f(m map[string]int) { for key, val := range m { g(key, val) }; for j := 0; j < 3; j++ { g(j) } }',
  },
  {
    rule: 'renaming a type-switch variable',
    a: 'func f(v any) { switch t := v.(type) { case int: g(t); default: h(t) } }',
    b: 'func f(v any) { switch x := v.(type) { case int: g(x); default: h(x) } }',
  },
  {
    rule: 'renaming labels',
    a: 'func f() {\nouter:\n\tfor {\n\t\tfor {\n\t\t\tbreak outer\n\t\t}\n\t}\n}',
    b: 'func f() {\nL1:\n\tfor {\n\t\tfor {\n\t\t\tbreak L1\n\t\t}\n\t}\n}',
  },
  {
    rule: 'renaming function-literal parameters',
    a: 'func f() { g(func(a, b int) bool { return a < b }) }',
    b: 'func f() { g(func(x, y int) bool { return x < y }) }',
  },
  {
    rule: 'renaming type parameters of a function',
    a: 'func Map[T, U any](xs []T, fn func(T) U) []U { return nil }',
    b: 'func Map[In, Out any](xs []In, fn func(In) Out) []Out { return nil }',
  },
  {
    rule: 'renaming type parameters of a type',
    a: 'type Pair[K comparable, V any] struct { Key K; Val V }',
    b: 'type Pair[A comparable, B any] struct { Key A; Val B }',
  },
  {
    rule: 'renaming a generic receiver type parameter',
    a: 'type L[T any] struct{}\nfunc (l *L[T]) Zero() (z T) { return }',
    b: 'type L[T any] struct{}\nfunc (l *L[E]) Zero() (z E) { return }',
  },
  {
    rule: 'renaming parameter names inside a function type',
    a: 'func f(cb func(key string, n int) error) {}',
    b: 'func f(cb func(k string, count int) error) {}',
  },
  {
    rule: 'renaming shadowed variables consistently',
    a: 'func f(c bool) int {\n\tx := 1\n\tif c {\n\t\tx := 2\n\t\tg(x)\n\t}\n\treturn x\n}',
    b: 'func f(c bool) int {\n\ty := 1\n\tif c {\n\t\tz := 2\n\t\tg(z)\n\t}\n\treturn y\n}',
  },
  {
    rule: 'renaming a local type',
    a: 'func f() int { type pt struct{ X int }; var p pt; return p.X }',
    b: 'func f() int { type point struct{ X int }; var q point; return q.X }',
  },
  {
    rule: 'renaming a local used as a map-literal key',
    a: 'func f(k string) map[string]int { return map[string]int{k: 1} }',
    b: 'func f(key string) map[string]int { return map[string]int{key: 1} }',
  },
  {
    rule: 'renaming the function (recursion included)',
    a: 'func fact(n int) int { if n < 2 { return 1 }; return n * fact(n-1) }',
    b: 'func factorial(n int) int { if n < 2 { return 1 }; return n * factorial(n-1) }',
    id: 'fact',
    idB: 'factorial',
  },
  {
    rule: 'renaming a method that calls itself through the receiver',
    a: 'type T struct{ next *T }\nfunc (t *T) Walk() { if t.next != nil { t.next.Walk() }; t.Walk() }',
    b: 'type T struct{ next *T }\nfunc (t *T) Visit() { if t.next != nil { t.next.Walk() }; t.Visit() }',
    id: 'T.Walk',
    idB: 'T.Visit',
  },
  {
    rule: 'renaming a self-referencing type',
    a: 'type Node struct { next *Node; val int }',
    b: 'type Elem struct { next *Elem; val int }',
    id: 'Node',
    idB: 'Elem',
  },
  {
    rule: 'grouped vs ungrouped type declaration',
    a: 'type (\n\tA int\n\tID string\n)',
    b: 'type ID string',
    id: 'ID',
  },
  {
    rule: 'renaming a func-valued package variable',
    a: 'var handler = func(w int) int { return w + 1 }',
    b: 'var process = func(v int) int { return v + 1 }',
    id: 'handler',
    idB: 'process',
  },
];

const DIFFERENT: Pair[] = [
  {
    rule: 'an operator',
    a: 'func f(a, b int) int { return a + b }',
    b: 'func f(a, b int) int { return a - b }',
  },
  { rule: 'an integer value', a: 'func f() int { return 16 }', b: 'func f() int { return 17 }' },
  { rule: 'a string value', a: 'func f() string { return "a" }', b: 'func f() string { return "b" }' },
  {
    rule: 'a raw backslash is not an escape',
    a: 'func f() string { return `\\n` }',
    b: 'func f() string { return "\\n" }',
  },
  {
    rule: 'an int constant is not a float constant (different default type)',
    a: 'func f() any { return 1000 }',
    b: 'func f() any { return 1e3 }',
  },
  { rule: 'a rune is not an int', a: "func f() any { return 'A' }", b: 'func f() any { return 65 }' },
  { rule: 'a package-level name', a: 'func f() int { return Alpha }', b: 'func f() int { return Beta }' },
  { rule: 'the called function', a: 'func f() { save() }', b: 'func f() { load() }' },
  {
    rule: 'an imported package member',
    a: 'func f() { fmt.Println("x") }',
    b: 'func f() { fmt.Print("x") }',
  },
  { rule: 'the imported package', a: 'func f() { fmt.Println("x") }', b: 'func f() { log.Println("x") }' },
  { rule: 'a field selector', a: 'func f(p P) int { return p.X }', b: 'func f(p P) int { return p.Y }' },
  {
    rule: 'a struct literal key (field name)',
    a: 'type T struct{ A, B int }\nfunc f(A int) T { return T{A: A} }',
    b: 'type T struct{ A, B int }\nfunc f(A int) T { return T{B: A} }',
  },
  {
    rule: 'a struct literal key is not renamed with a local of the same name',
    a: 'func f(Name string) T { return T{Name: Name} }',
    b: 'func f(n string) T { return T{n: n} }',
  },
  {
    rule: 'control flow: if vs for',
    a: 'func f(c bool) { if c { g() } }',
    b: 'func f(c bool) { for c { g() } }',
  },
  {
    rule: 'control flow: break vs continue',
    a: 'func f() { for { break } }',
    b: 'func f() { for { continue } }',
  },
  {
    rule: 'a label target',
    a: 'func f() {\nA:\n\tfor {\n\tB:\n\t\tfor {\n\t\t\tbreak A\n\t\t}\n\t}\n}',
    b: 'func f() {\nA:\n\tfor {\n\tB:\n\t\tfor {\n\t\t\tbreak B\n\t\t}\n\t}\n}',
  },
  { rule: 'the number of parameters', a: 'func f(a int) {}', b: 'func f(a, b int) {}' },
  {
    rule: 'the order of parameters',
    a: 'func f(a, b int) int { return a - b }',
    b: 'func f(b, a int) int { return a - b }',
  },
  { rule: 'a parameter type', a: 'func f(a int) {}', b: 'func f(a int64) {}' },
  { rule: 'variadic vs slice', a: 'func f(a ...int) {}', b: 'func f(a []int) {}' },
  { rule: 'a result type', a: 'func f() int { return 0 }', b: 'func f() uint { return 0 }' },
  { rule: 'statement order', a: 'func f() { a(); b() }', b: 'func f() { b(); a() }' },
  {
    rule: 'pointer vs value receiver',
    a: 'type T struct{}\nfunc (t *T) M() {}',
    b: 'type T struct{}\nfunc (t T) M() {}',
  },
  {
    rule: 'shadowing: which binding a use refers to',
    a: 'func f(c bool) int {\n\tx := 1\n\tif c {\n\t\tx := 2\n\t\tg(x)\n\t}\n\treturn x\n}',
    b: 'func f(c bool) int {\n\tx := 1\n\tif c {\n\t\ty := 2\n\t\tg(x)\n\t\t_ = y\n\t}\n\treturn x\n}',
  },
  {
    rule: ':= in an inner block declares, = assigns',
    a: 'func f(c bool) int { x := 1; if c { x := 2; _ = x }; return x }',
    b: 'func f(c bool) int { x := 1; if c { x = 2; _ = x }; return x }',
  },
  {
    rule: 'a type assertion type',
    a: 'func f(v any) bool { _, ok := v.(int); return ok }',
    b: 'func f(v any) bool { _, ok := v.(string); return ok }',
  },
  { rule: 'a struct field name', a: 'type T struct { A int }', b: 'type T struct { B int }' },
  { rule: 'a struct field type', a: 'type T struct { A int }', b: 'type T struct { A string }' },
  { rule: 'a struct tag', a: 'type T struct { A int `json:"a"` }', b: 'type T struct { A int `json:"b"` }' },
  { rule: 'an embedded pointer vs value', a: 'type T struct { *U }', b: 'type T struct { U }' },
  {
    rule: 'defer vs go',
    a: 'func f() { defer g() }',
    b: 'func f() { go g() }',
  },
  {
    rule: 'a type parameter constraint',
    a: 'func f[T any](x T) {}',
    b: 'func f[T comparable](x T) {}',
  },
  {
    rule: 'a recursive call vs a call of another function',
    a: 'func f(n int) int { return f(n - 1) }',
    b: 'func f(n int) int { return g(n - 1) }',
  },
];

describe('Go hash: equal pairs', () => {
  for (const p of EQUAL) {
    it(p.rule, async () => {
      const a = await chunkOf(p.a, p.id);
      const b = await chunkOf(p.b, p.idB ?? p.id);
      expect(b.hash).toBe(a.hash);
      expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    });
  }
});

describe('Go hash: different pairs', () => {
  for (const p of DIFFERENT) {
    it(p.rule, async () => {
      const a = await chunkOf(p.a, p.id);
      const b = await chunkOf(p.b, p.idB ?? p.id);
      expect(b.hash).not.toBe(a.hash);
    });
  }
});

describe('Go interfaceHash', () => {
  const same = async (a: string, b: string, id?: string) => {
    const [x, y] = [await chunkOf(a, id), await chunkOf(b, id)];
    expect(y.interfaceHash).toBe(x.interfaceHash);
  };
  const differ = async (a: string, b: string, id?: string, idB?: string) => {
    const [x, y] = [await chunkOf(a, id), await chunkOf(b, idB ?? id)];
    expect(y.interfaceHash).not.toBe(x.interfaceHash);
  };

  it('is kept by a body-only change', async () => {
    const a = await chunkOf('func F(a int) int { return a + 1 }');
    const b = await chunkOf('func F(a int) int { x := a * 2; return x - 1 }');
    expect(b.hash).not.toBe(a.hash);
    expect(b.interfaceHash).toBe(a.interfaceHash);
  });

  it('ignores parameter and result names (not significant in Go)', async () => {
    await same(
      'func F(a, b int) (n int, err error) { return }',
      'func F(x int, y int) (int, error) { return 0, nil }',
    );
  });

  it('treats a single parenthesized result like a bare one', async () => {
    await same('func F() (int) { return 0 }', 'func F() int { return 0 }');
  });

  it('changes with the name even when the hash does not', async () => {
    const a = await chunkOf('func fact(n int) int { return n * fact(n-1) }');
    const b = await chunkOf('func factorial(n int) int { return n * factorial(n-1) }');
    expect(b.hash).toBe(a.hash);
    expect(b.interfaceHash).not.toBe(a.interfaceHash);
  });

  it('changes with a parameter type, count, variadic-ness or result', async () => {
    const base = 'func F(a int, b string) error { return nil }';
    await differ(base, 'func F(a int, b []byte) error { return nil }');
    await differ(base, 'func F(a int) error { return nil }');
    await differ(base, 'func F(b string, a int) error { return nil }');
    await differ(base, 'func F(a int, b ...string) error { return nil }');
    await differ(base, 'func F(a int, b string) (int, error) { return 0, nil }');
  });

  it('changes with type parameters and their constraints', async () => {
    await differ('func F[T any](x T) {}', 'func F[T comparable](x T) {}');
    await differ('func F[K comparable, V any](k K, v V) {}', 'func F[K comparable, V any](k V, v K) {}');
    await same('func F[K comparable, V any](k K, v V) {}', 'func F[A comparable, B any](x A, y B) {}');
  });

  it('covers a method receiver: pointer or value, base type', async () => {
    const t = 'type T struct{}\ntype U struct{}\n';
    await differ(`${t}func (t *T) M() {}`, `${t}func (t T) M() {}`, 'T.M');
    await differ(`${t}func (t *T) M() {}`, `${t}func (t *U) M() {}`, 'T.M', 'U.M');
    await same(`${t}func (t *T) M() { t.x() }`, `${t}func (recv *T) M() {}`, 'T.M');
  });

  it('covers exported struct fields and embedded types, not unexported fields', async () => {
    const base = 'type S struct {\n\tName string\n\tio.Reader\n\tcount int\n}';
    await same(base, 'type S struct {\n\tName string\n\tio.Reader\n\tcount, extra int64\n}');
    await differ(base, 'type S struct {\n\tName string\n\tAge int\n\tio.Reader\n\tcount int\n}');
    await differ(base, 'type S struct {\n\tName []byte\n\tio.Reader\n\tcount int\n}');
    await differ(base, 'type S struct {\n\tName string\n\tio.Writer\n\tcount int\n}');
    await differ(base, 'type S struct {\n\tName string `json:"name"`\n\tio.Reader\n\tcount int\n}');
  });

  it('covers an interface method set', async () => {
    const base = 'type I interface {\n\tRead(p []byte) (n int, err error)\n}';
    await same(base, '// I reads.\ntype I interface {\n\t// Read reads.\n\tRead(buf []byte) (int, error)\n}');
    await differ(base, 'type I interface {\n\tRead(p []byte) (n int, err error)\n\tClose() error\n}');
    await differ(base, 'type I interface {\n\tRead(p []byte) (n int64, err error)\n}');
  });

  it('covers the underlying type of other types', async () => {
    await differ('type ID string', 'type ID int');
    await differ('type ID string', 'type ID = string');
  });

  it('of a func-valued variable covers its signature', async () => {
    await same('var h = func(a int) int { return a }', 'var h = func(b int) int { return b * 2 }');
    await differ('var h = func(a int) int { return a }', 'var h = func(a int64) int { return int(a) }');
  });

  it('of the module covers the package name and exported top-level names', async () => {
    const base = 'package p\n\nimport "fmt"\n\nvar x = 1\n\nfunc F() { fmt.Println(x) }\n';
    const mod = async (src: string) => (await analyzeGo(src)).chunks[0]!;
    const a = await mod(base);
    expect((await mod(`${base}var y = 2\nfunc g() {}\n`)).interfaceHash).toBe(a.interfaceHash);
    expect((await mod(`${base}const Max = 2\n`)).interfaceHash).not.toBe(a.interfaceHash);
    expect((await mod(`${base}func G() {}\n`)).interfaceHash).not.toBe(a.interfaceHash);
    expect((await mod(base.replace('package p', 'package q'))).interfaceHash).not.toBe(a.interfaceHash);
  });
});

describe('Go module hash', () => {
  const mod = async (src: string) => (await analyzeGo(src)).chunks[0]!;

  it('ignores comments, whitespace and the top-level chunks', async () => {
    const a = await mod('package p\n\nimport "fmt"\n\nvar x = 0x10\n\nfunc F() { fmt.Println(x) }\n');
    const b = await mod(
      '// Package p.\npackage p\nimport ( "fmt" )\nvar x = 16\nfunc F() { fmt.Print(x, x) }\n',
    );
    expect(b.hash).toBe(a.hash);
  });

  it('does not depend on how type declarations are grouped', async () => {
    const a = await mod('package p\n\ntype (\n\tA int\n\tB string\n)\n');
    const b = await mod('package p\n\ntype A int\n\ntype B string\n');
    expect(b.hash).toBe(a.hash);
  });

  it('changes with a top-level value or an import', async () => {
    const a = await mod('package p\n\nimport "fmt"\n\nvar x = 1\n');
    expect((await mod('package p\n\nimport "fmt"\n\nvar x = 2\n')).hash).not.toBe(a.hash);
    expect((await mod('package p\n\nimport "log"\n\nvar x = 1\n')).hash).not.toBe(a.hash);
    expect((await mod('package p\n\nimport "fmt"\n\nvar y = 1\n')).hash).not.toBe(a.hash);
  });
});
