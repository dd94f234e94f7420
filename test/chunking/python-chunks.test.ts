/**
 * Python chunks (src/chunking/lang/python.ts): ids, kinds, ranges, refs, selfRefs, imports and
 * top-level names, on small sources, a file with syntax errors and real standard-library files.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChunkRecord, FileAnalysis } from '../../src/chunking/types.js';
import { analyzeText, findChunk } from '../helpers/analyze.js';

function analyzePy(text: string): Promise<FileAnalysis> {
  return analyzeText(text, 'python');
}

const byId = findChunk;

function textOf(text: string, chunk: ChunkRecord): string {
  return Buffer.from(text).subarray(chunk.startByte, chunk.endByte).toString();
}

/** Segments are sorted, contiguous, cover [0, fileBytes) and each chunk lies inside the file. */
function expectPartition(analysis: FileAnalysis, fileBytes: number): void {
  let pos = 0;
  for (const [start, end, index] of analysis.segments) {
    expect(start).toBe(pos);
    expect(end).toBeGreaterThan(start);
    expect(analysis.chunks[index]).toBeDefined();
    pos = end;
  }
  expect(pos).toBe(fileBytes);
  for (const c of analysis.chunks) {
    expect(c.startByte).toBeGreaterThanOrEqual(0);
    expect(c.endByte).toBeLessThanOrEqual(fileBytes);
    expect(c.startByte).toBeLessThanOrEqual(c.endByte);
    expect(c.startLine).toBeLessThanOrEqual(c.endLine);
  }
  expect(new Set(analysis.chunks.map((c) => c.localId)).size).toBe(analysis.chunks.length);
}

const SHAPES = `"""Module doc."""
import os

X = 1  # end-of-line comment of X
# about f
def f(a, b=2):
    """Doc."""
    def inner(x):
        return x + a
    return inner(b)


# detached by a blank line

# about C
@decorator(1)
class C(Base):
    # about first
    def first(self):
        return 1

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, v):
        self._value = v

    class Nested:
        def deep(self):
            return 1

def f():
    return 2

square = lambda n: n * n
Y = lambda: 0  # a comment after code
async def fetch():
    pass
`;

describe('Python chunks', () => {
  it('finds functions, classes, methods and lambda variables with ids, kinds and owners', async () => {
    const a = await analyzePy(SHAPES);
    expect(a.status).toBe('ok');
    expect(a.chunks.map((c) => [c.localId, c.name, c.kind, c.owner])).toEqual([
      ['', '', 'module', undefined],
      ['f', 'f', 'function', undefined],
      ['C', 'C', 'class', undefined],
      ['C.first', 'first', 'method', 'C'],
      ['C.value', 'value', 'method', 'C'],
      ['C.value~2', 'value', 'method', 'C'],
      ['f~2', 'f', 'function', undefined],
      ['square', 'square', 'variable', undefined],
      ['Y', 'Y', 'variable', undefined],
      ['fetch', 'fetch', 'function', undefined],
    ]);
    expect(a.exports).toEqual([]);
    expectPartition(a, Buffer.byteLength(SHAPES));
  });

  it('gives ranges with decorators and directly preceding comments attached', async () => {
    const a = await analyzePy(SHAPES);
    expect(textOf(SHAPES, byId(a, 'f'))).toMatch(/^# about f\ndef f\(a, b=2\):[\s\S]*return inner\(b\)$/);
    expect(textOf(SHAPES, byId(a, 'C'))).toMatch(
      /^# about C\n@decorator\(1\)\nclass C\(Base\):[\s\S]*return 1$/,
    );
    // tree-sitter leaves the first method's comment before the class body: it still attaches.
    expect(textOf(SHAPES, byId(a, 'C.first'))).toBe('# about first\n    def first(self):\n        return 1');
    expect(textOf(SHAPES, byId(a, 'C.value~2'))).toMatch(/^@value\.setter\n {4}def value\(self, v\):/);
    expect(textOf(SHAPES, byId(a, 'square'))).toBe('square = lambda n: n * n');
    expect(byId(a, 'f').startLine).toBe(5);
    expect(byId(a, 'f').endLine).toBe(10);
  });

  it('does not attach a comment after a blank line or an end-of-line comment of code', async () => {
    const a = await analyzePy(SHAPES);
    expect(textOf(SHAPES, byId(a, 'C'))).not.toContain('detached');
    expect(textOf(SHAPES, byId(a, 'fetch'))).toBe('async def fetch():\n    pass');
    // `# end-of-line comment of X` sits right above `# about f` but ends a code line.
    expect(textOf(SHAPES, byId(a, 'f'))).not.toContain('end-of-line');
  });

  it('keeps nested functions and nested classes inside their enclosing chunk', async () => {
    const a = await analyzePy(SHAPES);
    expect(a.chunks.some((c) => c.name === 'inner' || c.name === 'Nested' || c.name === 'deep')).toBe(false);
    expect(textOf(SHAPES, byId(a, 'C'))).toContain('class Nested:');
    // The class owns its own code, which excludes its methods but includes the nested class.
    const own = a.segments.filter(([, , i]) => a.chunks[i]!.localId === 'C');
    const ownText = own.map(([s, e]) => Buffer.from(SHAPES).subarray(s, e).toString()).join('');
    expect(ownText).toContain('def deep(self)');
    expect(ownText).not.toContain('def first(self)');
  });

  it('skips docstrings: a docstring edit keeps every hash', async () => {
    const edited = SHAPES.replace('"""Module doc."""', '"""Other doc."""').replace(
      '"""Doc."""',
      "'''New.'''",
    );
    const a = await analyzePy(SHAPES);
    const b = await analyzePy(edited);
    expect(b.chunks.map((c) => c.hash)).toEqual(a.chunks.map((c) => c.hash));
    expect(b.chunks.map((c) => c.interfaceHash)).toEqual(a.chunks.map((c) => c.interfaceHash));
  });

  it('records refs: globals, imports and builtins with member chains; not locals, parameters or itself', async () => {
    const src = [
      'import os',
      'from .util import helper',
      'def walk(a, b=DEFAULT):',
      '    import re',
      '    from .fmt import render as r',
      '    def inner(x):',
      '        return x + a',
      '    y = os.path.join(a, b)',
      '    z = y.strip().lower()',
      '    return re.match(y, helper(a)) or r(len(z)) or inner(y) or walk(z) or pkg.a.b.c.d',
      '',
    ].join('\n');
    const a = await analyzePy(src);
    const walk = byId(a, 'walk');
    expect(walk.refs).toEqual(
      expect.arrayContaining([
        { name: 'DEFAULT', members: [] },
        { name: 're', members: [] },
        { name: 'r', members: [] },
        { name: 'os', members: ['path', 'join'] },
        { name: 're', members: ['match'] },
        { name: 'helper', members: [] },
        { name: 'len', members: [] },
        { name: 'pkg', members: ['a', 'b', 'c'] },
      ]),
    );
    const names = walk.refs.map((r) => r.name);
    for (const local of ['a', 'b', 'x', 'y', 'z', 'inner', 'walk', 'strip', 'lower', 'path', 'join']) {
      expect(names).not.toContain(local);
    }
    expect(walk.selfRefs).toEqual([]);
  });

  it('records selfRefs read off the first parameter, not writes, the method itself or staticmethods', async () => {
    const src = [
      'class C:',
      '    def first(self):',
      '        self.count = 1',
      '        self.total += 1',
      '        helper = lambda: self.second()',
      '        return self.first() + self.count + helper()',
      '    @classmethod',
      '    def make(cls):',
      '        return cls.build()',
      '    @staticmethod',
      '    def stat(x):',
      '        return x.y',
      '',
    ].join('\n');
    const a = await analyzePy(src);
    expect([...byId(a, 'C.first').selfRefs].sort()).toEqual(['count', 'second', 'total']);
    expect(byId(a, 'C.make').selfRefs).toEqual(['build']);
    expect(byId(a, 'C.stat').selfRefs).toEqual([]);
    expect(byId(a, 'C.first').refs).toEqual([]);
  });

  it('records imports in the exact shapes the resolver expects', async () => {
    const src = [
      'import a.b.c',
      'import a.b as x, y',
      'from .m import f',
      'from .m import f as g',
      'from . import sib',
      'from ..pkg import (p, q,)',
      'from m import *',
      'from __future__ import annotations',
      'try:',
      '    import json',
      'except ImportError:',
      '    json = None',
      'def fn():',
      '    import os.path',
      '    from .h import k as kk',
      '    return os.path.sep, kk',
      'class K:',
      '    def m(self):',
      '        from . import z',
      '        return z',
      '',
    ].join('\n');
    const a = await analyzePy(src);
    expect(a.imports).toEqual([
      { local: 'a', specifier: 'a.b.c', imported: '*' },
      { local: 'x', specifier: 'a.b', imported: '*' },
      { local: 'y', specifier: 'y', imported: '*' },
      { local: 'f', specifier: '.m', imported: 'f' },
      { local: 'g', specifier: '.m', imported: 'f' },
      { local: 'sib', specifier: '.', imported: 'sib' },
      { local: 'p', specifier: '..pkg', imported: 'p' },
      { local: 'q', specifier: '..pkg', imported: 'q' },
      { local: '*', specifier: 'm', imported: '*' },
      { local: 'annotations', specifier: '__future__', imported: 'annotations' },
      { local: 'json', specifier: 'json', imported: '*' },
      { local: 'os', specifier: 'os.path', imported: '*', chunk: 'fn' },
      { local: 'kk', specifier: '.h', imported: 'k', chunk: 'fn' },
      { local: 'z', specifier: '.', imported: 'z', chunk: 'K.m' },
    ]);
    expect(byId(a, 'fn').refs).toEqual(
      expect.arrayContaining([
        { name: 'os', members: [] },
        { name: 'kk', members: [] },
        { name: 'os', members: ['path', 'sep'] },
      ]),
    );
    expect(byId(a, 'K.m').refs).toEqual([{ name: 'z', members: [] }]);
  });

  it('maps top-level names to their chunks and module code to the empty id', async () => {
    const src = [
      'import os',
      'from m import imported',
      'X = 1',
      'a, (b, *c) = 1, (2, 3)',
      'def f():',
      '    global G',
      '    G = 1',
      'class C:',
      '    attr = 1',
      '    def m(self):',
      '        pass',
      'square = lambda n: n * n',
      'if os.name == "nt":',
      '    def platform():',
      '        pass',
      'else:',
      '    PLATFORM = 2',
      'for i in range(3):',
      '    pass',
      'with open("x") as fh:',
      '    pass',
      'SQUARES = [k * k for k in range(3)]',
      'constructor = 1',
      '',
    ].join('\n');
    const a = await analyzePy(src);
    expect(a.topLevel).toEqual({
      X: '',
      a: '',
      b: '',
      c: '',
      f: 'f',
      C: 'C',
      square: 'square',
      platform: '',
      PLATFORM: '',
      i: '',
      fh: '',
      SQUARES: '',
      constructor: '',
      G: '',
    });
    expect(Object.hasOwn(a.topLevel, 'constructor')).toBe(true);
  });

  it('still yields chunks for what parses in a file with syntax errors', async () => {
    const src = [
      'import os',
      '',
      'def good(a):',
      '    return a + 1',
      '',
      'x = [1, 2',
      '',
      'def broken(:',
      '    return 2',
      '',
      'class K:',
      '    def m(self):',
      '        return self.x',
      '',
    ].join('\n');
    const a = await analyzePy(src);
    expect(a.status).toBe('parse-error');
    expect(a.reason).toMatch(/line \d+/);
    expect(a.chunks.map((c) => c.localId)).toContain('good');
    expect(textOf(src, byId(a, 'good'))).toBe('def good(a):\n    return a + 1');
    expectPartition(a, Buffer.byteLength(src));
    const ok = await analyzePy('def good(a):\n    return a + 1\n');
    expect(byId(a, 'good').hash).toBe(byId(ok, 'good').hash);
  });

  it('never throws on truncated, odd or empty input', async () => {
    for (const src of [
      '',
      '\n',
      'def',
      'class',
      '@',
      'def f(',
      'x = lambda',
      '"""',
      'f"{',
      'match x:\n  case',
      '\\',
    ]) {
      const a = await analyzePy(src);
      expect(a.chunks[0]!.localId).toBe('');
      expectPartition(a, Buffer.byteLength(src));
    }
  });

  it('counts byte offsets past multi-byte characters', async () => {
    const src = '# é — ü\nS = "😀"\ndef f():\n    return "ß"\n';
    const a = await analyzePy(src);
    expect(textOf(src, byId(a, 'f'))).toBe('def f():\n    return "ß"');
    expectPartition(a, Buffer.byteLength(src));
  });
});

/** The standard library of the Python on this machine, when there is one. */
function findStdlib(): string | undefined {
  const known = '/root/.pyenv/versions/3.11.7/lib/python3.11';
  if (existsSync(join(known, 'json', 'decoder.py'))) return known;
  try {
    const dir = execFileSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], {
      encoding: 'utf8',
    }).trim();
    return existsSync(join(dir, 'json', 'decoder.py')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

const STDLIB = findStdlib();
const STDLIB_FILES = [
  'json/decoder.py',
  'argparse.py',
  'asyncio/locks.py',
  'collections/__init__.py',
  'functools.py',
  'dataclasses.py',
  'typing.py',
  'pathlib.py',
  'email/message.py',
  'logging/__init__.py',
  'enum.py',
  'inspect.py',
  'textwrap.py',
];

describe.skipIf(STDLIB === undefined)('Python chunks: standard-library files', () => {
  it.each(STDLIB_FILES)('%s: chunks inside the file, an exact partition, no throw', async (rel) => {
    const path = join(STDLIB!, rel);
    if (!existsSync(path)) return;
    const bytes = readFileSync(path);
    const text = bytes.toString('utf8');
    const a = await analyzeText(text, 'python');
    expect(a.chunks.length).toBeGreaterThan(1);
    expectPartition(a, bytes.length);
    for (const c of a.chunks) {
      expect(c.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(c.interfaceHash).toMatch(/^[0-9a-f]{64}$/);
      if (c.kind === 'method') expect(c.localId.startsWith(`${c.owner}`)).toBe(true);
    }
  });

  it('json/decoder.py: the chunks, imports and references the graph needs', async () => {
    const bytes = readFileSync(join(STDLIB!, 'json/decoder.py'));
    const a = await analyzeText(bytes.toString('utf8'), 'python');
    const ids = a.chunks.map((c) => c.localId);
    expect(ids).toEqual(expect.arrayContaining(['JSONDecodeError', 'JSONDecoder', 'JSONDecoder.decode']));
    expect(a.imports).toEqual(expect.arrayContaining([{ local: 're', specifier: 're', imported: '*' }]));
    expect(byId(a, 'JSONDecoder.decode').selfRefs).toContain('raw_decode');
    expect(a.topLevel.JSONDecoder).toBe('JSONDecoder');
  });

  it('json/decoder.py: reindenting with tabs and stripping comments keeps every hash', async () => {
    const text = readFileSync(join(STDLIB!, 'json/decoder.py'), 'utf8');
    const stripped = text
      .split('\n')
      .filter((line) => !/^\s*#/.test(line))
      .map((line) => line.replace(/^( {4})+/, (m) => '\t'.repeat(m.length / 4)))
      .join('\n');
    const a = await analyzePy(text);
    const b = await analyzePy(stripped);
    expect(b.chunks.map((c) => [c.localId, c.hash])).toEqual(a.chunks.map((c) => [c.localId, c.hash]));
  });
});
