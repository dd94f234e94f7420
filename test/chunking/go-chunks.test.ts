/**
 * Go chunking: which chunks a file yields, their ids, kinds and ranges, and the refs, selfRefs,
 * imports and topLevel records the graph resolves.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { ChunkRecord, FileAnalysis } from '../../src/chunking/types.js';
import { analyzeText, findChunk } from '../helpers/analyze.js';

function analyzeGo(text: string): Promise<FileAnalysis> {
  return analyzeText(text, 'go');
}

const byId = findChunk;

/** The text of a chunk's range, cut by bytes. */
function textOf(src: string, c: ChunkRecord): string {
  return Buffer.from(src).subarray(c.startByte, c.endByte).toString();
}

/** Asserts that the segments partition the whole file and that sizes add up. */
function expectPartition(analysis: FileAnalysis, fileBytes: number): void {
  let pos = 0;
  for (const [s, e, idx] of analysis.segments) {
    expect(s).toBe(pos);
    expect(e).toBeGreaterThan(s);
    const c = analysis.chunks[idx]!;
    expect(s).toBeGreaterThanOrEqual(c.startByte);
    expect(e).toBeLessThanOrEqual(c.endByte);
    pos = e;
  }
  expect(pos).toBe(fileBytes);
  expect(analysis.chunks.reduce((n, c) => n + c.size, 0)).toBe(fileBytes);
}

const SHAPES = `// Package shapes does geometry.
package shapes

import "math"

// Shape is anything with an area.
type Shape interface {
	Area() float64
}

type (
	// Circle is round.
	Circle struct{ R float64 }
	Square struct{ S float64 }
)

// Area of a circle.
// Second line.
func (c *Circle) Area() float64 { return math.Pi * c.R * c.R }

func (s Square) Area() float64 { return s.S * s.S }

// List holds items.
type List[T any] struct{ items []T }

func (l *List[T]) Push(v T) { l.items = append(l.items, v) }

var area = func(s Shape) float64 { return s.Area() }

func init() {}

func init() {}
`;

describe('Go chunks', () => {
  it('finds functions, methods, type specs and func variables with ids and kinds', async () => {
    const a = await analyzeGo(SHAPES);
    expect(a.status).toBe('ok');
    expect(a.chunks.map((c) => [c.localId, c.kind])).toEqual([
      ['', 'module'],
      ['Shape', 'interface'],
      ['Circle', 'type'],
      ['Square', 'type'],
      ['Circle.Area', 'method'],
      ['Square.Area', 'method'],
      ['List', 'type'],
      ['List.Push', 'method'],
      ['area', 'variable'],
      ['init', 'function'],
      ['init~2', 'function'],
    ]);
    expect(byId(a, 'Circle.Area')).toMatchObject({ name: 'Area', owner: 'Circle' });
    expect(byId(a, 'Square.Area')).toMatchObject({ name: 'Area', owner: 'Square' });
    expect(byId(a, 'List.Push')).toMatchObject({ name: 'Push', owner: 'List' });
    expect(byId(a, 'Shape').owner).toBeUndefined();
    expect(a.chunks[0]).toMatchObject({ localId: '', name: '', kind: 'module', startByte: 0, startLine: 1 });
    expect(a.chunks[0]!.endByte).toBe(Buffer.byteLength(SHAPES));
    expect(a.goPackage).toBe('shapes');
    expect(a.exports).toEqual([]);
  });

  it('gives ranges with leading doc comments attached', async () => {
    const a = await analyzeGo(SHAPES);
    expect(textOf(SHAPES, byId(a, 'Shape'))).toBe(
      '// Shape is anything with an area.\ntype Shape interface {\n\tArea() float64\n}',
    );
    // A grouped spec is its own chunk; its doc comment inside the group comes with it.
    expect(textOf(SHAPES, byId(a, 'Circle'))).toBe('// Circle is round.\n\tCircle struct{ R float64 }');
    expect(textOf(SHAPES, byId(a, 'Square'))).toBe('Square struct{ S float64 }');
    expect(textOf(SHAPES, byId(a, 'Circle.Area'))).toMatch(
      /^\/\/ Area of a circle\.\n\/\/ Second line\.\nfunc \(c \*Circle\)/,
    );
    expect(byId(a, 'Circle.Area').startLine).toBe(17);
    expect(byId(a, 'Circle.Area').endLine).toBe(19);
    // An ungrouped type declaration includes its `type` keyword.
    expect(textOf(SHAPES, byId(a, 'List'))).toBe(
      '// List holds items.\ntype List[T any] struct{ items []T }',
    );
    expect(textOf(SHAPES, byId(a, 'area'))).toBe('var area = func(s Shape) float64 { return s.Area() }');
    expect(textOf(SHAPES, byId(a, 'init~2'))).toBe('func init() {}');
    expectPartition(a, Buffer.byteLength(SHAPES));
    // The group's `type (` and `)` stay module code.
    const moduleText = a.segments
      .filter(([, , i]) => i === 0)
      .map(([s, e]) => Buffer.from(SHAPES).subarray(s, e).toString())
      .join('');
    expect(moduleText).toContain('type (\n\t');
    expect(moduleText).toContain('\n)\n');
    expect(moduleText).toContain('import "math"');
    expect(moduleText).not.toContain('Circle struct');
  });

  it('does not attach a comment after a blank line or a trailing comment of code', async () => {
    const src = 'package p\n\n// Detached.\n\nfunc a() {}\n\nvar x = 1 // about x\nfunc b() {}\n';
    const a = await analyzeGo(src);
    expect(textOf(src, byId(a, 'a'))).toBe('func a() {}');
    expect(textOf(src, byId(a, 'b'))).toBe('func b() {}');
  });

  it('counts byte offsets past multi-byte characters', async () => {
    const src = 'package p\n\n// Grüße, 世界 🌍\nfunc f() string { return "é" }\n\nfunc g() {}\n';
    const a = await analyzeGo(src);
    expect(textOf(src, byId(a, 'f'))).toBe('// Grüße, 世界 🌍\nfunc f() string { return "é" }');
    expect(textOf(src, byId(a, 'g'))).toBe('func g() {}');
    expectPartition(a, Buffer.byteLength(src));
  });

  it('records refs: package-level names, imported members, types; not locals or itself', async () => {
    const src = `package p

import "fmt"

func Count(items []Item, limit int) (n int) {
	for _, it := range items {
		if it.Weight > limit {
			n += helper(it)
		}
	}
	fmt.Println(n, Max)
	a.b.c.d.e()
	return Count(nil, 0)
}
`;
    const a = await analyzeGo(src);
    const c = byId(a, 'Count');
    expect(c.refs).toEqual(
      expect.arrayContaining([
        { name: 'Item', members: [] },
        { name: 'int', members: [] },
        { name: 'helper', members: [] },
        { name: 'fmt', members: ['Println'] },
        { name: 'Max', members: [] },
        { name: 'a', members: ['b', 'c', 'd'] },
      ]),
    );
    const names = c.refs.map((r) => r.name);
    for (const local of ['items', 'limit', 'n', 'it', 'Count', 'Weight']) expect(names).not.toContain(local);
    // Deduplicated.
    expect(new Set(c.refs.map((r) => `${r.name}.${r.members.join('.')}`)).size).toBe(c.refs.length);
    expect(c.selfRefs).toEqual([]);
  });

  it('records qualified types and composite-literal keys the way the graph needs them', async () => {
    const src = `package p

import "net/http"

type Options struct{ Name string; Mode Kind }

func F(name string) (*http.Server, Options, map[Kind]string) {
	o := Options{Name: name, Mode: KindA}
	return &http.Server{Handler: nil}, o, map[Kind]string{KindB: "b"}
}
`;
    const a = await analyzeGo(src);
    const refs = byId(a, 'F').refs;
    expect(refs).toEqual(
      expect.arrayContaining([
        { name: 'http', members: ['Server'] },
        { name: 'Options', members: [] },
        { name: 'KindA', members: [] },
        { name: 'KindB', members: [] },
      ]),
    );
    const names = refs.map((r) => r.name);
    // Keys of a struct declared in this file are field names, not references.
    expect(names).not.toContain('Name');
    expect(names).not.toContain('Mode');
    expect(byId(a, 'Options').refs).toEqual(
      expect.arrayContaining([
        { name: 'string', members: [] },
        { name: 'Kind', members: [] },
      ]),
    );
  });

  it('records selfRefs off the receiver and the owner, without the method itself', async () => {
    const src = `package p

type Stack[T any] struct{ items []T }

func (s *Stack[T]) Pop() (T, bool) {
	if s.Len() == 0 {
		var zero T
		return zero, false
	}
	top := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	if false {
		return s.Pop()
	}
	return top, true
}
`;
    const a = await analyzeGo(src);
    const m = byId(a, 'Stack.Pop');
    expect(m.owner).toBe('Stack');
    expect(m.selfRefs.sort()).toEqual(['Len', 'items']);
    expect(m.refs).toEqual(expect.arrayContaining([{ name: 'Stack', members: [] }]));
    const names = m.refs.map((r) => r.name);
    for (const local of ['s', 'T', 'zero', 'top', 'Pop']) expect(names).not.toContain(local);
  });

  it('records imports in the exact shapes the resolver expects', async () => {
    const src = `package p

import "fmt"
import (
	str "strings"
	_ "embed"
	. "math"
	"gopkg.in/yaml.v3"
	"github.com/org/mod/v2"
	"github.com/org/client-go"
	"github.com/mattn/go-sqlite3"
	"example.com/a/b/pkg"
)
`;
    const a = await analyzeGo(src);
    expect(a.imports).toEqual([
      { local: 'fmt', specifier: 'fmt', imported: '*' },
      { local: 'str', specifier: 'strings', imported: '*' },
      { local: '', specifier: 'embed', imported: '*' },
      { local: '.', specifier: 'math', imported: '*' },
      { local: 'yaml', specifier: 'gopkg.in/yaml.v3', imported: '*' },
      { local: 'mod', specifier: 'github.com/org/mod/v2', imported: '*' },
      { local: 'client', specifier: 'github.com/org/client-go', imported: '*' },
      { local: 'sqlite3', specifier: 'github.com/mattn/go-sqlite3', imported: '*' },
      { local: 'pkg', specifier: 'example.com/a/b/pkg', imported: '*' },
    ]);
    for (const i of a.imports) expect(i).not.toHaveProperty('chunk');
  });

  it('maps top-level names to their chunks, module code to the empty id, methods not at all', async () => {
    const src = `package p

var (
	A, b = 1, 2
	h    = func() {}
)

const C = 3

var _ = 4

type T struct{}

func (T) M() {}

func F() {}

func init() {}

func init() {}
`;
    const a = await analyzeGo(src);
    expect(a.topLevel).toEqual({ A: '', b: '', h: 'h', C: '', T: 'T', F: 'F', init: 'init' });
    expect(byId(a, 'T.M').kind).toBe('method');
    expect(byId(a, 'h').kind).toBe('variable');
  });

  it('keeps Go names that are also Object.prototype keys as plain top-level names', async () => {
    const a = await analyzeGo(
      'package p\n\nfunc constructor() {}\n\nvar toString = 1\n\nfunc __proto__() {}\n',
    );
    expect(Object.keys(a.topLevel).sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(Object.hasOwn(a.topLevel, 'constructor') && a.topLevel.constructor).toBe('constructor');
    expect(Object.getOwnPropertyDescriptor(a.topLevel, '__proto__')?.value).toBe('__proto__');
    expect(Object.hasOwn(a.topLevel, 'toString') && a.topLevel.toString).toBe('');
  });

  it('still yields chunks for what parses in a file with syntax errors', async () => {
    const src = `package p

func ok() int { return 1 }

func broken() int {
	return 1 +
}

}}}

func after(x int) int { return x * 2 }

type T struct { A int }
`;
    const a = await analyzeGo(src);
    expect(a.status).toBe('parse-error');
    expect(a.reason).toMatch(/syntax error/);
    const ids = a.chunks.map((c) => c.localId);
    expect(ids).toEqual(expect.arrayContaining(['', 'ok', 'broken', 'after', 'T']));
    expectPartition(a, Buffer.byteLength(src));
    // The intact function hashes as it would in a clean file.
    const clean = await analyzeGo('package p\n\nfunc ok() int { return 1 }\n');
    expect(byId(a, 'ok').hash).toBe(byId(clean, 'ok').hash);
  });

  it('never throws on truncated or empty input', async () => {
    for (const src of [
      '',
      'package',
      'package p\nfunc (',
      'package p\ntype (',
      'func f() {',
      'package p\nvar x = func(',
    ]) {
      const a = await analyzeGo(src);
      expect(a.chunks[0]!.kind).toBe('module');
      expectPartition(a, Buffer.byteLength(src));
    }
  });
});

describe('Go chunks: a realistic package (fixtures/go/sample/lru.go)', () => {
  const path = fileURLToPath(new URL('../../fixtures/go/sample/lru.go', import.meta.url));
  const src = readFileSync(path, 'utf8');

  it('partitions the whole file into the chunks it finds', async () => {
    const a = await analyzeGo(src);
    expect(a.status).toBe('ok');
    expect(a.goPackage).toBe('lru');
    expect(a.chunks.map((c) => c.localId)).toEqual([
      '',
      'EvictCallback',
      'entry',
      'Stats',
      'Sizer',
      'Cache',
      'New',
      'NewDefault',
      'Cache.WithTTL',
      'Cache.Add',
      'Cache.Get',
      'Cache.Len',
      'Cache.removeOldest',
      'Cache.removeElement',
      'Stats.String',
      'now',
    ]);
    expectPartition(a, Buffer.byteLength(src));
    for (const c of a.chunks) {
      expect(c.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(c.interfaceHash).toMatch(/^[0-9a-f]{64}$/);
      expect(c.startLine).toBeLessThanOrEqual(c.endLine);
    }
    expect(new Set(a.chunks.map((c) => c.hash)).size).toBe(a.chunks.length);
    expect(byId(a, 'Sizer').kind).toBe('interface');
    expect(byId(a, 'now').kind).toBe('variable');
    expect(byId(a, 'Cache.Add').startLine).toBe(91);
    expect(textOf(src, byId(a, 'Cache.Add'))).toMatch(/^\/\/ Add inserts or replaces key\./);
  });

  it('resolves refs, selfRefs and imports across the package', async () => {
    const a = await analyzeGo(src);
    expect(a.imports.map((i) => i.local)).toEqual(['list', 'errors', 'fmt', 'sync', 'time']);
    expect(a.topLevel).toMatchObject({
      Cache: 'Cache',
      New: 'New',
      ErrInvalidSize: '',
      DefaultSize: '',
      now: 'now',
    });
    expect(a.topLevel).not.toHaveProperty('Cache.Add');
    const add = byId(a, 'Cache.Add');
    expect(add.owner).toBe('Cache');
    expect(add.selfRefs).toEqual(
      expect.arrayContaining(['mu', 'ttl', 'items', 'll', 'size', 'removeOldest']),
    );
    expect(add.refs).toEqual(
      expect.arrayContaining([
        { name: 'now', members: [] },
        { name: 'entry', members: [] },
        { name: 'noExpiry', members: [] },
        { name: 'time', members: ['Time'] },
      ]),
    );
    const newRefs = byId(a, 'New').refs.map((r) => r.name);
    expect(newRefs).toEqual(expect.arrayContaining(['ErrInvalidSize', 'Cache', 'EvictCallback', 'list']));
    // Struct-literal keys of the file's own Cache type are fields, not references.
    expect(newRefs).not.toContain('ttl');
    expect(newRefs).not.toContain('items');
    expect(byId(a, 'NewDefault').refs).toEqual(
      expect.arrayContaining([
        { name: 'New', members: [] },
        { name: 'fmt', members: ['Sprintf'] },
      ]),
    );
  });

  it('keeps every hash when the file is reformatted and its comments are removed', async () => {
    const a = await analyzeGo(src);
    const stripped = src
      .split('\n')
      .filter((l) => !/^\s*\/\//.test(l))
      .map((l) => l.replace(/^\t+/, '  '))
      .join('\n');
    const b = await analyzeGo(stripped);
    expect(b.chunks.map((c) => [c.localId, c.hash, c.interfaceHash])).toEqual(
      a.chunks.map((c) => [c.localId, c.hash, c.interfaceHash]),
    );
  });
});
