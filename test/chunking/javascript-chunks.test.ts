/** Chunks, ranges, imports, exports and references of the JavaScript/TypeScript analyzer. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { FileAnalysis, Language } from '../../src/chunking/types.js';
import { analyzeText } from '../helpers/analyze.js';
import { REPO_ROOT } from '../helpers/cli.js';

const analyze = (src: string, language: Language = 'typescript'): Promise<FileAnalysis> =>
  analyzeText(src, language);

/** The segment partition covers [0, bytes) exactly, in order, without gaps or overlaps. */
function expectPartition(a: FileAnalysis, bytes: number): void {
  let pos = 0;
  for (const [s, e, i] of a.segments) {
    expect(s).toBe(pos);
    expect(e).toBeGreaterThan(s);
    expect(i).toBeLessThan(a.chunks.length);
    pos = e;
  }
  expect(pos).toBe(bytes);
  const total = a.chunks.reduce((n, c) => n + c.size, 0);
  expect(total).toBe(bytes);
}

describe('chunks of a TypeScript file', () => {
  const src = `import { h } from './h';
import * as ns from "./ns";
import def, { a as b } from 'pkg';
import './side-effect';
import t = require('./t');
const { r1, r2: rr } = require('./r');

export interface Shape { w: number }
export type Id = string;
export enum Color { Red, Green }
export namespace NS { export const x = 1; }

/** Adds. */
export function add(x: number, y: number): number {
  return h(x) + ns.util.go(y) + K;
}

const K = 1;
export const arrow = async (v: Shape) => v.w;
export default class Box extends Base {
  size = 0;
  get area(): number { return this.size * this.size; }
  set area(v: number) { this.size = Math.sqrt(v); }
  grow(): void { this.size = add(this.size, 1); this.grow(); }
}
export { add as plus, K };
export * from './all';
export * as everything from './every';
export { z } from './zed';
`;

  it('finds every chunk with its kind and id, in source order', async () => {
    const a = await analyze(src);
    expect(a.chunks.map((c) => [c.localId, c.kind])).toEqual([
      ['', 'module'],
      ['Shape', 'interface'],
      ['Id', 'type'],
      ['Color', 'enum'],
      ['NS', 'namespace'],
      ['add', 'function'],
      ['arrow', 'variable'],
      ['Box', 'class'],
      ['Box.area', 'method'],
      ['Box.area~2', 'method'],
      ['Box.grow', 'method'],
    ]);
    expect(a.status).toBe('ok');
  });

  it('attaches the doc comment and partitions the file', async () => {
    const a = await analyze(src);
    const add = a.chunks.find((c) => c.localId === 'add')!;
    expect(src.slice(add.startByte, add.startByte + 13)).toBe('/** Adds. */\n');
    expect(add.startLine).toBe(13);
    expect(add.endLine).toBe(16);
    expectPartition(a, Buffer.byteLength(src));
    const box = a.chunks.find((c) => c.localId === 'Box')!;
    const methods = a.chunks.filter((c) => c.owner === 'Box');
    expect(box.size).toBe(
      box.endByte - box.startByte - methods.reduce((n, m) => n + m.endByte - m.startByte, 0),
    );
  });

  it('records imports, require and exports as the graph expects them', async () => {
    const a = await analyze(src);
    expect(a.imports).toEqual(
      expect.arrayContaining([
        { local: 'h', specifier: './h', imported: 'h' },
        { local: 'ns', specifier: './ns', imported: '*' },
        { local: 'def', specifier: 'pkg', imported: 'default' },
        { local: 'b', specifier: 'pkg', imported: 'a' },
        { local: '', specifier: './side-effect', imported: '*' },
        { local: 't', specifier: './t', imported: '*' },
        { local: 'r1', specifier: './r', imported: 'r1' },
        { local: 'rr', specifier: './r', imported: 'r2' },
      ]),
    );
    expect(a.exports).toEqual(
      expect.arrayContaining([
        { exported: 'Shape', local: 'Shape' },
        { exported: 'add', local: 'add' },
        { exported: 'default', local: 'Box' },
        { exported: 'plus', local: 'add' },
        { exported: 'K', local: 'K' },
        { exported: '*', specifier: './all', imported: '*' },
        { exported: 'everything', specifier: './every', imported: '*' },
        { exported: 'z', specifier: './zed', imported: 'z' },
      ]),
    );
    expect(a.topLevel).toMatchObject({ add: 'add', K: '', Box: 'Box', arrow: 'arrow', Shape: 'Shape' });
    expect(a.topLevel.h).toBeUndefined();
  });

  it('collects free names with member chains, and this.m as selfRefs', async () => {
    const a = await analyze(src);
    const add = a.chunks.find((c) => c.localId === 'add')!;
    expect(add.refs).toEqual(
      expect.arrayContaining([
        { name: 'h', members: [] },
        { name: 'ns', members: ['util', 'go'] },
        { name: 'K', members: [] },
      ]),
    );
    expect(add.refs.map((r) => r.name)).not.toContain('x');
    const arrow = a.chunks.find((c) => c.localId === 'arrow')!;
    expect(arrow.refs).toEqual([{ name: 'Shape', members: [] }]);
    const grow = a.chunks.find((c) => c.localId === 'Box.grow')!;
    expect(grow.selfRefs).toContain('size');
    expect(grow.refs).toEqual(expect.arrayContaining([{ name: 'add', members: [] }]));
    const box = a.chunks.find((c) => c.localId === 'Box')!;
    expect(box.refs).toEqual([{ name: 'Base', members: [] }]);
  });
});

describe('JavaScript and CommonJS', () => {
  it('records module.exports and exports.x, and require inside a function', async () => {
    const src = `const path = require('path');
function helper(p) { const fs = require('fs'); return path.join(p, fs.sep); }
module.exports = { helper, other: helper };
exports.extra = helper;
`;
    const a = await analyze(src, 'javascript');
    expect(a.imports).toEqual(
      expect.arrayContaining([
        { local: 'path', specifier: 'path', imported: '*' },
        { local: '', specifier: 'fs', imported: '*', chunk: 'helper' },
      ]),
    );
    expect(a.exports).toEqual(
      expect.arrayContaining([
        { exported: 'helper', local: 'helper' },
        { exported: 'other', local: 'helper' },
        { exported: 'extra', local: 'helper' },
      ]),
    );
  });

  it('takes a variable holding a parenthesized function as a function chunk', async () => {
    const bare = 'export const isLike = <T>(x: any): x is T => x && typeof x === "object";';
    const wrapped = 'export const isLike = (<T>(x: any): x is T => x && typeof x === "object");';
    const [a, b] = await Promise.all([analyze(bare), analyze(wrapped)]);
    expect(b.chunks.map((c) => [c.localId, c.kind])).toEqual(a.chunks.map((c) => [c.localId, c.kind]));
    expect(b.chunks[1]).toMatchObject({ localId: 'isLike', kind: 'variable' });
    expect(b.chunks[1]!.hash).toBe(a.chunks[1]!.hash);
  });

  it('indexes what parses in a file with a syntax error', async () => {
    const src = 'function ok(a) { return a; }\nfunction broken( { return ; \n';
    const a = await analyze(src, 'javascript');
    expect(a.status).toBe('parse-error');
    expect(a.reason).toMatch(/^syntax error at line 2/);
    expect(a.chunks.some((c) => c.localId === 'ok')).toBe(true);
    expectPartition(a, Buffer.byteLength(src));
  });

  it('maps ranges to UTF-8 bytes in files with non-ASCII text', async () => {
    const src = "const s = 'héllo 🚀';\nexport function f() { return '漢字'; }\n";
    const a = await analyze(src);
    const f = a.chunks.find((c) => c.localId === 'f')!;
    const bytes = Buffer.from(src);
    expect(bytes.subarray(f.startByte, f.endByte).toString()).toBe("export function f() { return '漢字'; }");
    expectPartition(a, bytes.length);
  });

  it('handles the mixed fixture files without throwing', async () => {
    for (const rel of ['src/a.ts', 'src/util/math.ts', 'src/ünïcode.ts', 'src/crlf.ts']) {
      const bytes = readFileSync(path.join(REPO_ROOT, 'fixtures/chunk/mixed', rel));
      const a = await analyzeText(bytes.toString('utf8'), 'typescript');
      expectPartition(a, bytes.length);
    }
  });
});
