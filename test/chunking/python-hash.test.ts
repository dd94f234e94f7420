/**
 * Python `hash` / `interfaceHash` rules of shared/spec/semantic-hash.md (ccx-sh/1): pairs of
 * sources that must hash equal and pairs that must hash differently.
 */
import { describe, expect, it } from 'vitest';
import type { ChunkRecord, FileAnalysis } from '../../src/chunking/types.js';
import { analyzeText, findChunk } from '../helpers/analyze.js';

function analyzePy(text: string): Promise<FileAnalysis> {
  return analyzeText(text, 'python');
}

/** The chunk `localId` of `code` (default: the first chunk after the module). */
async function chunkOf(code: string, localId?: string): Promise<ChunkRecord> {
  const analysis = await analyzePy(code);
  if (localId !== undefined) return findChunk(analysis, localId);
  const found = analysis.chunks[1];
  if (found === undefined) throw new Error(`no chunk in: ${code}`);
  return found;
}

interface Pair {
  rule: string;
  a: string;
  b: string;
  /** localId of the chunk to compare in both (default: the first chunk after the module; '' is the module). */
  id?: string;
  /** localId in `b` when it differs (a rename). */
  idB?: string;
}

const EQUAL: Pair[] = [
  {
    rule: 'whitespace, indentation, blank lines and backslash continuations',
    a: 'def f(a, b):\n    if a > b:\n        return a - b\n    return b\n',
    b: 'def f(a,b):\n  if a>b: return a-b\n\n\n  return \\\n      b\n',
  },
  {
    rule: 'comments, own-line and end-of-line',
    a: 'def f(a):\n    # first\n    x = a  # inline\n    return x\n',
    b: 'def f(a):\n    x = a\n    return x  # done\n    # trailing\n',
  },
  {
    rule: 'a function docstring is a comment',
    a: 'def f(a):\n    """Does things.\n\n    More.\n    """\n    return a\n',
    b: 'def f(a):\n    return a\n',
  },
  {
    rule: 'docstring quote style and a comment before it',
    a: "def f():\n    # c\n    'doc'\n    return 1\n",
    b: 'def f():\n    r"""other doc"""\n    return 1\n',
  },
  {
    rule: 'a class docstring is a comment',
    a: 'class C:\n    """A class."""\n    x = 1\n',
    b: 'class C:\n    x = 1\n',
  },
  {
    rule: 'a module docstring is a comment',
    a: '"""Module doc."""\nimport os\nX = 1\n',
    b: '# just a comment\nimport os\nX = 1\n',
    id: '',
  },
  {
    rule: 'string quote spellings: \'a\' "a" \'\'\'a\'\'\' """a"""',
    a: `def f():\n    return ['a', 'a', 'a', 'it\\'s']\n`,
    b: `def f():\n    return ["a", '''a''', """a""", "it's"]\n`,
  },
  {
    rule: 'escapes decoded by value (\\x, octal, \\u, \\U, \\n)',
    a: String.raw`def f():
    return 'A\u00e9\t\n' + "\U0001F600"
`,
    b: String.raw`def f():
    return '\x41\xe9\011\12' + "😀"
`,
  },
  {
    rule: "a raw string: r'\\n' equals '\\\\n'",
    a: String.raw`def f():
    return r'\n\d+'
`,
    b: String.raw`def f():
    return '\\n\\d+'
`,
  },
  {
    rule: "u'' equals ''",
    a: "def f():\n    return u'x'\n",
    b: "def f():\n    return 'x'\n",
  },
  {
    rule: 'bytes spellings: b and rb with the same value',
    a: String.raw`def f():
    return b'\x41\n'
`,
    b: "def f():\n    return B'A\\n'\n",
  },
  {
    rule: 'implicit string concatenation equals the joined literal',
    a: "def f():\n    return ('ab'\n            'c')\n",
    b: "def f():\n    return 'abc'\n",
  },
  {
    rule: 'a line continuation inside a string',
    a: "def f():\n    return 'ab\\\ncd'\n",
    b: "def f():\n    return 'abcd'\n",
  },
  {
    rule: 'f-string quote spellings keep the substitution structure',
    a: "def f(x):\n    return f'<{x!r:>10}>' + F'''{x}'''\n",
    b: 'def f(x):\n    return f"<{x!r:>10}>" + f"{x}"\n',
  },
  {
    rule: 'an f-string without substitutions is a plain string ({{ }} escapes)',
    a: "def f():\n    return f'a{{b}}'\n",
    b: "def f():\n    return 'a{b}'\n",
  },
  {
    rule: 'integer spellings: 0x10 / 0o20 / 0b10000 / 1_6 / 16',
    a: 'def f():\n    return [16, 16, 16, 16, 1000000]\n',
    b: 'def f():\n    return [0x10, 0o20, 0b1_0000, 1_6, 1_000_000]\n',
  },
  {
    rule: 'float spellings: 1e3 / 1000.0, 1_0.5 / 10.5, .5 / 0.5',
    a: 'def f():\n    return [1000.0, 10.5, 0.5]\n',
    b: 'def f():\n    return [1e3, 1_0.5, .5]\n',
  },
  {
    rule: 'imaginary spellings: 1j / 1J / 1.0j',
    a: 'def f():\n    return 1j + 2j\n',
    b: 'def f():\n    return 1J + 2.0j\n',
  },
  {
    rule: 'trailing commas (call, list, dict, parameters, two-element tuple, import list)',
    a: 'def f(a, b):\n    from m import (x, y)\n    g(a, b)\n    return [1, 2], {1: 2}, (a, b)\n',
    b: 'def f(a, b,):\n    from m import (x, y,)\n    g(a, b,)\n    return [1, 2,], {1: 2,}, (a, b,)\n',
  },
  {
    rule: 'redundant parentheses around an expression',
    a: 'def f(a, b):\n    return (a + b) * 2 if (a) else (b)\n',
    b: 'def f(a, b):\n    return (((a + b))) * 2 if a else b\n',
  },
  {
    rule: 'semicolons between statements',
    a: 'def f():\n    a = 1; b = 2; return a + b\n',
    b: 'def f():\n    a = 1\n    b = 2\n    return a + b\n',
  },
  {
    rule: 'class C(): equals class C:',
    a: 'class C():\n    x = 1\n',
    b: 'class C:\n    x = 1\n',
  },
  {
    rule: 'CRLF line endings, also inside triple-quoted strings',
    a: 'def f():\r\n    s = """a\r\nb"""\r\n    return s\r\n',
    b: 'def f():\n    s = """a\nb"""\n    return s\n',
  },
  {
    rule: 'renamed local variables, including a tuple/list/star unpacking',
    a: 'def f(a):\n    x, [y, *z] = a\n    total = x + y\n    return total, z\n',
    b: 'def f(a):\n    p, [q, *r] = a\n    s = p + q\n    return s, r\n',
  },
  {
    rule: 'renamed augmented-assignment target and del',
    a: 'def f():\n    n = 0\n    n += 1\n    del n\n',
    b: 'def f():\n    k = 0\n    k += 1\n    del k\n',
  },
  {
    rule: 'renamed for loop variables',
    a: 'def f(xs):\n    for i, v in enumerate(xs):\n        print(i, v)\n',
    b: 'def f(xs):\n    for idx, item in enumerate(xs):\n        print(idx, item)\n',
  },
  {
    rule: 'renamed with-as and except-as names',
    a: 'def f(p):\n    try:\n        with open(p) as fh:\n            return fh.read()\n    except OSError as e:\n        raise ValueError(e)\n',
    b: 'def f(p):\n    try:\n        with open(p) as stream:\n            return stream.read()\n    except OSError as err:\n        raise ValueError(err)\n',
  },
  {
    rule: 'renamed walrus target',
    a: 'def f(s):\n    if (m := s.find("x")) > 0:\n        return m\n',
    b: 'def f(s):\n    if (pos := s.find("x")) > 0:\n        return pos\n',
  },
  {
    rule: 'renamed comprehension variables (own scope), at module level too',
    a: 'def f(xs):\n    return [x * 2 for x in xs if x], {k: v for k, v in xs}\n',
    b: 'def f(xs):\n    return [y * 2 for y in xs if y], {a: b for a, b in xs}\n',
  },
  {
    rule: 'renamed comprehension variable in module code',
    a: 'SQUARES = [i * i for i in range(10)]\n',
    b: 'SQUARES = [n * n for n in range(10)]\n',
    id: '',
  },
  {
    rule: 'renamed nested function and nested class',
    a: 'def f():\n    def helper():\n        return 1\n    class Box:\n        pass\n    return helper(), Box\n',
    b: 'def f():\n    def inner():\n        return 1\n    class Holder:\n        pass\n    return inner(), Holder\n',
  },
  {
    rule: 'renamed import alias inside a function',
    a: 'def f():\n    import numpy as np\n    return np.zeros(3)\n',
    b: 'def f():\n    import numpy as numeric\n    return numeric.zeros(3)\n',
  },
  {
    rule: 'renamed match capture patterns',
    a: 'def f(v):\n    match v:\n        case [first, *rest]:\n            return first, rest\n        case {"k": val}:\n            return val\n',
    b: 'def f(v):\n    match v:\n        case [head, *tail]:\n            return head, tail\n        case {"k": got}:\n            return got\n',
  },
  {
    rule: 'a closure and nonlocal see the same renamed binding',
    a: 'def f():\n    count = 0\n    def inc():\n        nonlocal count\n        count += 1\n        return count\n    return inc\n',
    b: 'def f():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n        return n\n    return inc\n',
  },
  {
    rule: 'renamed locals inside f-string substitutions and nested format specs',
    a: "def f(x):\n    width = 3\n    return f'{x:>{width}} {width!r}'\n",
    b: "def f(x):\n    w = 3\n    return f'{x:>{w}} {w!r}'\n",
  },
  {
    rule: 'a name assigned anywhere in the function is local throughout',
    a: 'def f():\n    print(x)\n    x = 1\n',
    b: 'def f():\n    print(y)\n    y = 1\n',
  },
  {
    rule: 'renaming the function itself (same hash, other name)',
    a: 'def f(a):\n    return a + 1\n',
    b: 'def g(a):\n    return a + 1\n',
    idB: 'g',
  },
  {
    rule: 'recursion normalizes to the self marker',
    a: 'def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n',
    b: 'def factorial(n):\n    return 1 if n < 2 else n * factorial(n - 1)\n',
    id: 'fact',
    idB: 'factorial',
  },
  {
    rule: "a method's self.<own name> is the self marker",
    a: 'class C:\n    def walk(self, n):\n        return self.walk(n - 1)\n',
    b: 'class C:\n    def visit(self, n):\n        return self.visit(n - 1)\n',
    id: 'C.walk',
    idB: 'C.visit',
  },
  {
    rule: 'a renamed class keeps its hash',
    a: 'class C(Base):\n    x = 1\n',
    b: 'class D(Base):\n    x = 1\n',
    id: 'C',
    idB: 'D',
  },
  {
    rule: 'a renamed lambda variable with recursion',
    a: 'f = lambda n: n and f(n - 1)\n',
    b: 'g = lambda n: n and g(n - 1)\n',
    id: 'f',
    idB: 'g',
  },
  {
    rule: 'method bodies are not part of the class hash',
    a: 'class C:\n    x = 1\n    def m(self):\n        return 1\n',
    b: 'class C:\n    x = 1\n    def m(self):\n        return 2\n',
    id: 'C',
  },
  {
    rule: 'top-level chunks are not part of the module hash',
    a: 'import os\ndef f():\n    return 1\n',
    b: 'import os\ndef f():\n    return 2\n',
    id: '',
  },
];

const DIFFERENT: Pair[] = [
  { rule: 'an operator', a: 'def f(a, b):\n    return a + b\n', b: 'def f(a, b):\n    return a - b\n' },
  { rule: 'a comparison', a: 'def f(a, b):\n    return a < b\n', b: 'def f(a, b):\n    return a <= b\n' },
  { rule: 'is vs ==', a: 'def f(a):\n    return a is None\n', b: 'def f(a):\n    return a == None\n' },
  { rule: 'an integer value', a: 'def f():\n    return 1\n', b: 'def f():\n    return 2\n' },
  { rule: 'a string value', a: "def f():\n    return 'a'\n", b: "def f():\n    return 'b'\n" },
  { rule: 'int vs float', a: 'def f():\n    return 1000\n', b: 'def f():\n    return 1e3\n' },
  { rule: 'int vs imaginary', a: 'def f():\n    return 1\n', b: 'def f():\n    return 1j\n' },
  { rule: 'bytes vs str', a: "def f():\n    return b'a'\n", b: "def f():\n    return 'a'\n" },
  {
    rule: 'a raw prefix that changes the value',
    a: String.raw`def f():
    return r'\n'
`,
    b: String.raw`def f():
    return '\n'
`,
  },
  {
    rule: 'an unknown escape stays as written',
    a: String.raw`def f():
    return '\q'
`,
    b: "def f():\n    return 'q'\n",
  },
  {
    rule: 'an f-string vs a plain string',
    a: "def f(x):\n    return f'{x}'\n",
    b: "def f(x):\n    return '{x}'\n",
  },
  {
    rule: 'an f-string format spec',
    a: "def f(x):\n    return f'{x:>10}'\n",
    b: "def f(x):\n    return f'{x:<10}'\n",
  },
  {
    rule: 'an f-string nested format spec expression',
    a: "def f(x, w):\n    return f'{x:>{w}}'\n",
    b: "def f(x, w):\n    return f'{x:>{x}}'\n",
  },
  { rule: 'a conversion', a: "def f(x):\n    return f'{x!r}'\n", b: "def f(x):\n    return f'{x!s}'\n" },
  { rule: 'a global name', a: 'def f():\n    return foo\n', b: 'def f():\n    return bar\n' },
  { rule: 'a called function', a: 'def f(x):\n    return load(x)\n', b: 'def f(x):\n    return dump(x)\n' },
  { rule: 'an attribute name', a: 'def f(x):\n    return x.left\n', b: 'def f(x):\n    return x.right\n' },
  {
    rule: 'an attribute name on a renamed local',
    a: 'def f():\n    v = g()\n    return v.left\n',
    b: 'def f():\n    v = g()\n    return v.right\n',
  },
  {
    rule: 'a keyword-argument name',
    a: 'def f(x):\n    return g(x, key=1)\n',
    b: 'def f(x):\n    return g(x, other=1)\n',
  },
  {
    rule: 'control flow: if vs while',
    a: 'def f(x):\n    if x:\n        g()\n',
    b: 'def f(x):\n    while x:\n        g()\n',
  },
  {
    rule: 'control flow: break vs continue',
    a: 'def f(xs):\n    for x in xs:\n        break\n',
    b: 'def f(xs):\n    for x in xs:\n        continue\n',
  },
  { rule: 'the number of parameters', a: 'def f(a):\n    return 1\n', b: 'def f(a, b):\n    return 1\n' },
  { rule: 'the order of parameters', a: 'def f(a, b):\n    return a\n', b: 'def f(b, a):\n    return a\n' },
  { rule: 'a default value', a: 'def f(a=1):\n    return a\n', b: 'def f(a=2):\n    return a\n' },
  { rule: 'a parameter name', a: 'def f(a):\n    return a\n', b: 'def f(b):\n    return b\n' },
  {
    rule: 'a lambda parameter name',
    a: 'def f():\n    return lambda x: x\n',
    b: 'def f():\n    return lambda y: y\n',
  },
  { rule: '*args vs a plain parameter', a: 'def f(*a):\n    return a\n', b: 'def f(a):\n    return a\n' },
  {
    rule: 'keyword-only vs positional',
    a: 'def f(a, *, b):\n    return a\n',
    b: 'def f(a, b):\n    return a\n',
  },
  { rule: 'a positional-only marker', a: 'def f(a, /):\n    return a\n', b: 'def f(a):\n    return a\n' },
  {
    rule: 'a parameter annotation',
    a: 'def f(a: int):\n    return a\n',
    b: 'def f(a: str):\n    return a\n',
  },
  { rule: 'a return annotation', a: 'def f() -> int:\n    return 1\n', b: 'def f() -> str:\n    return 1\n' },
  {
    rule: 'a local variable annotation',
    a: 'def f():\n    x: int = 1\n    return x\n',
    b: 'def f():\n    x: float = 1\n    return x\n',
  },
  { rule: 'a decorator', a: '@cache\ndef f():\n    return 1\n', b: '@wraps\ndef f():\n    return 1\n' },
  { rule: 'a decorator vs none', a: '@cache\ndef f():\n    return 1\n', b: 'def f():\n    return 1\n' },
  { rule: 'async', a: 'async def f():\n    return 1\n', b: 'def f():\n    return 1\n' },
  { rule: 'await', a: 'async def f(x):\n    return await x\n', b: 'async def f(x):\n    return x\n' },
  {
    rule: 'statement order',
    a: 'def f():\n    g()\n    h()\n',
    b: 'def f():\n    h()\n    g()\n',
  },
  {
    rule: 'an inconsistent renaming (two locals swapped in one place)',
    a: 'def f():\n    x = 1\n    y = 2\n    return x - y\n',
    b: 'def f():\n    x = 1\n    y = 2\n    return y - x\n',
  },
  {
    rule: 'a closure reference to an enclosing local vs a global of another name',
    a: 'def f():\n    x = 1\n    def g():\n        return x\n    return g\n',
    b: 'def f():\n    y = 1\n    def g():\n        return x\n    return g\n',
  },
  {
    rule: 'a global-declared name is not renamed',
    a: 'def f():\n    global x\n    x = 1\n',
    b: 'def f():\n    global y\n    y = 1\n',
  },
  {
    rule: 'a name imported without "as" is the imported name',
    a: 'def f():\n    from m import a\n    return a()\n',
    b: 'def f():\n    from m import b\n    return b()\n',
  },
  {
    rule: 'two imported names used in swapped order',
    a: 'def f():\n    from m import a, b\n    return a(), b()\n',
    b: 'def f():\n    from m import a, b\n    return b(), a()\n',
  },
  {
    rule: 'the module of an aliased import',
    a: 'def f():\n    import os as o\n    return o.sep\n',
    b: 'def f():\n    import sys as o\n    return o.sep\n',
  },
  {
    rule: 'a class attribute name (a field, not a local)',
    a: 'class C:\n    x = 1\n',
    b: 'class C:\n    y = 1\n',
  },
  {
    rule: 'a module-level name (not a local)',
    a: 'x = 1\nprint(x)\n',
    b: 'y = 1\nprint(y)\n',
    id: '',
  },
  {
    rule: 'a string statement after the first is code, not a docstring',
    a: 'def f():\n    x = 1\n    "note"\n    return x\n',
    b: 'def f():\n    x = 1\n    return x\n',
  },
  {
    rule: 'a one-element tuple vs a parenthesized expression',
    a: 'def f(a):\n    return (a,)\n',
    b: 'def f(a):\n    return (a)\n',
  },
  { rule: 'a[1,] indexes by a tuple', a: 'def f(a):\n    return a[1,]\n', b: 'def f(a):\n    return a[1]\n' },
  { rule: 'a slice bound', a: 'def f(a):\n    return a[1:]\n', b: 'def f(a):\n    return a[:1]\n' },
  { rule: 'a base class', a: 'class C(A):\n    pass\n', b: 'class C(B):\n    pass\n' },
  { rule: 'a metaclass', a: 'class C(metaclass=M):\n    pass\n', b: 'class C(metaclass=N):\n    pass\n' },
  {
    rule: 'the method kind decorator',
    a: 'class C:\n    @staticmethod\n    def m(x):\n        return x\n',
    b: 'class C:\n    @classmethod\n    def m(x):\n        return x\n',
    id: 'C.m',
  },
];

describe('python hash: equal pairs', () => {
  it.each(EQUAL)('$rule', async ({ a, b, id, idB }) => {
    const ca = await chunkOf(a, id);
    const cb = await chunkOf(b, idB ?? id);
    expect(ca.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(cb.hash).toBe(ca.hash);
  });
});

describe('python hash: different pairs', () => {
  it.each(DIFFERENT)('$rule', async ({ a, b, id, idB }) => {
    const ca = await chunkOf(a, id);
    const cb = await chunkOf(b, idB ?? id);
    expect(cb.hash).not.toBe(ca.hash);
  });
});

describe('python hash: the function itself', () => {
  it('a rename keeps hash and changes name and interfaceHash', async () => {
    const a = await chunkOf('def f(a):\n    return a + 1\n', 'f');
    const b = await chunkOf('def g(a):\n    return a + 1\n', 'g');
    expect(b.hash).toBe(a.hash);
    expect(b.name).toBe('g');
    expect(b.interfaceHash).not.toBe(a.interfaceHash);
  });

  it('a recursive call differs from a call of another function', async () => {
    const a = await chunkOf('def f(n):\n    return f(n - 1)\n', 'f');
    const b = await chunkOf('def f(n):\n    return g(n - 1)\n', 'f');
    expect(b.hash).not.toBe(a.hash);
  });

  it('the hash does not depend on where the chunk sits in the file', async () => {
    const a = await chunkOf('def f(a):\n    return a\n', 'f');
    const b = await chunkOf('import os\n\nX = 1\n\n\ndef f(a):\n    return a\n', 'f');
    expect(b.hash).toBe(a.hash);
  });
});

interface InterfacePair {
  rule: string;
  a: string;
  b: string;
  id: string;
}

const SAME_INTERFACE: InterfacePair[] = [
  { rule: 'a body change', a: 'def f(a):\n    return a + 1\n', b: 'def f(a):\n    return a * 2\n', id: 'f' },
  { rule: 'a default value change', a: 'def f(a=1):\n    pass\n', b: 'def f(a=2):\n    pass\n', id: 'f' },
  {
    rule: 'a docstring and comments',
    a: 'def f(a):\n    """Doc."""\n    return a\n',
    b: '# note\ndef f(a):\n    return a\n',
    id: 'f',
  },
  {
    rule: 'a method body in the class',
    a: 'class C:\n    def m(self):\n        return 1\n',
    b: 'class C:\n    def m(self):\n        return 2\n',
    id: 'C',
  },
  {
    rule: 'a private method of the class',
    a: 'class C:\n    def m(self):\n        pass\n    def _h(self, a):\n        pass\n',
    b: 'class C:\n    def m(self):\n        pass\n    def _h(self, a, b):\n        pass\n',
    id: 'C',
  },
  {
    rule: 'the order of methods in the class',
    a: 'class C:\n    def a(self):\n        pass\n    def b(self):\n        pass\n',
    b: 'class C:\n    def b(self):\n        pass\n    def a(self):\n        pass\n',
    id: 'C',
  },
  {
    rule: 'module code that binds no new public name',
    a: 'import os\nX = 1\ndef f():\n    pass\n',
    b: 'import os\nX = 2\n_y = 3\ndef f():\n    return 1\n',
    id: '',
  },
  {
    rule: 'a literal __all__ decides the public names',
    a: "__all__ = ['f']\ndef f():\n    pass\ndef g():\n    pass\n",
    b: "__all__ = ('f',)\ndef f():\n    pass\n",
    id: '',
  },
];

const OTHER_INTERFACE: InterfacePair[] = [
  { rule: 'the name', a: 'def f(a):\n    pass\n', b: 'def f(a):\n    pass\ndef g(a):\n    pass\n', id: 'g' },
  { rule: 'a parameter name', a: 'def f(a):\n    pass\n', b: 'def f(b):\n    pass\n', id: 'f' },
  { rule: 'a parameter added', a: 'def f(a):\n    pass\n', b: 'def f(a, b):\n    pass\n', id: 'f' },
  { rule: 'whether it has a default', a: 'def f(a):\n    pass\n', b: 'def f(a=1):\n    pass\n', id: 'f' },
  { rule: 'an annotation', a: 'def f(a: int):\n    pass\n', b: 'def f(a: str):\n    pass\n', id: 'f' },
  {
    rule: 'the return annotation',
    a: 'def f() -> int:\n    pass\n',
    b: 'def f() -> str:\n    pass\n',
    id: 'f',
  },
  { rule: 'keyword-only', a: 'def f(a, b):\n    pass\n', b: 'def f(a, *, b):\n    pass\n', id: 'f' },
  { rule: 'positional-only', a: 'def f(a, b):\n    pass\n', b: 'def f(a, /, b):\n    pass\n', id: 'f' },
  { rule: '**kwargs', a: 'def f(a):\n    pass\n', b: 'def f(a, **kw):\n    pass\n', id: 'f' },
  { rule: 'a decorator', a: 'def f():\n    pass\n', b: '@cache\ndef f():\n    pass\n', id: 'f' },
  { rule: 'async', a: 'def f():\n    pass\n', b: 'async def f():\n    pass\n', id: 'f' },
  { rule: 'a base class', a: 'class C(A):\n    pass\n', b: 'class C(B):\n    pass\n', id: 'C' },
  {
    rule: 'a public method signature',
    a: 'class C:\n    def m(self, a):\n        pass\n',
    b: 'class C:\n    def m(self, a, b):\n        pass\n',
    id: 'C',
  },
  {
    rule: 'a dunder method added',
    a: 'class C:\n    pass\n',
    b: 'class C:\n    def __len__(self):\n        return 0\n',
    id: 'C',
  },
  {
    rule: 'a public class attribute',
    a: 'class C:\n    x: int\n',
    b: 'class C:\n    x: int\n    y: int\n',
    id: 'C',
  },
  { rule: 'a lambda parameter', a: 'f = lambda a: a\n', b: 'f = lambda a, b: a\n', id: 'f' },
  {
    rule: 'a new public top-level name',
    a: 'def f():\n    pass\n',
    b: 'def f():\n    pass\nX = 1\n',
    id: '',
  },
];

describe('python interfaceHash', () => {
  it.each(SAME_INTERFACE)('stays equal on $rule', async ({ a, b, id }) => {
    const ca = await chunkOf(a, id);
    const cb = await chunkOf(b, id);
    expect(cb.interfaceHash).toMatch(/^[0-9a-f]{64}$/);
    expect(cb.interfaceHash).toBe(ca.interfaceHash);
  });

  it.each(OTHER_INTERFACE)('differs on $rule', async ({ a, b, id }) => {
    const ca = await chunkOf(a, id === 'g' ? 'f' : id);
    const cb = await chunkOf(b, id);
    expect(cb.interfaceHash).not.toBe(ca.interfaceHash);
  });

  it('a body-only change keeps interfaceHash and changes hash', async () => {
    const a = await chunkOf('def f(a: int) -> int:\n    return a + 1\n', 'f');
    const b = await chunkOf('def f(a: int) -> int:\n    return a + 2\n', 'f');
    expect(b.hash).not.toBe(a.hash);
    expect(b.interfaceHash).toBe(a.interfaceHash);
  });
});
