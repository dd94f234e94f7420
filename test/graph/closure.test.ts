import { describe, expect, it } from 'vitest';
import { type ClosureInput, computeClosureHashes } from '../../src/graph/closure.js';
import { resolveGraph } from '../../src/graph/resolve.js';
import { analysis, exportLocal, imp, repo, sha } from './helpers.js';

function node(
  id: string,
  deps: string[] = [],
  externalDeps: string[] = [],
  hash = sha(`body ${id}`),
): ClosureInput {
  return { id, hash, deps, externalDeps };
}

function closures(chunks: ClosureInput[], locked: Record<string, string> = {}): Map<string, string> {
  return computeClosureHashes(chunks, new Map(Object.entries(locked)));
}

/** Same chunks with one chunk's hash replaced. */
function withHash(chunks: ClosureInput[], id: string, hash: string): ClosureInput[] {
  return chunks.map((c) => (c.id === id ? { ...c, hash } : c));
}

/** Deterministic Fisher-Yates shuffle of chunks and of each chunk's deps. */
function shuffled(chunks: ClosureInput[], seed: number): ClosureInput[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const shuffle = <T>(list: T[]): T[] => {
    const out = [...list];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  };
  return shuffle(chunks.map((c) => ({ ...c, deps: shuffle(c.deps), externalDeps: shuffle(c.externalDeps) })));
}

const chain = [node('a', ['b']), node('b', ['c']), node('c'), node('unrelated', [], ['lodash'])];

describe('computeClosureHashes', () => {
  it('gives a lowercase hex SHA-256 for every chunk', () => {
    const result = closures(chain);
    expect([...result.keys()].sort()).toEqual(['a', 'b', 'c', 'unrelated']);
    for (const value of result.values()) expect(value).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(result.values()).size).toBe(4);
  });

  it('changes when a transitive dependency changes, and not for an unrelated chunk', () => {
    const before = closures(chain);
    const leafChanged = closures(withHash(chain, 'c', sha('new c')));
    expect(leafChanged.get('a')).not.toBe(before.get('a'));
    expect(leafChanged.get('b')).not.toBe(before.get('b'));
    expect(leafChanged.get('unrelated')).toBe(before.get('unrelated'));
    const unrelatedChanged = closures(withHash(chain, 'unrelated', sha('new unrelated')));
    expect(unrelatedChanged.get('a')).toBe(before.get('a'));
    expect(unrelatedChanged.get('c')).toBe(before.get('c'));
  });

  it('changes when a dependency is added or removed', () => {
    const before = closures(chain);
    expect(closures([node('a', ['b', 'c']), ...chain.slice(1)]).get('a')).not.toBe(before.get('a'));
    expect(closures([node('a'), ...chain.slice(1)]).get('a')).not.toBe(before.get('a'));
    expect(closures([node('a', ['b'], ['react']), ...chain.slice(1)]).get('a')).not.toBe(before.get('a'));
  });

  it('does not depend on input order, duplicate deps, a self dep or unknown ids', () => {
    const graph = [
      node('a', ['b', 'c', 'x'], ['react', 'node:fs']),
      node('b', ['a', 'd']),
      node('c', ['d']),
      node('d', ['c', 'e']),
      node('e', [], ['lodash']),
      node('x', ['x', 'y']),
      node('y'),
    ];
    const expected = closures(graph, { lodash: '4.17.21' });
    for (let seed = 1; seed <= 5; seed++) {
      expect(closures(shuffled(graph, seed), { lodash: '4.17.21' })).toEqual(expected);
    }
    const noisy = graph.map((c) => ({ ...c, deps: [...c.deps, ...c.deps, c.id, 'not-a-chunk'] }));
    expect(closures(noisy, { lodash: '4.17.21' })).toEqual(expected);
  });

  it('does not depend on ids (paths) outside cycles', () => {
    const a = closures([
      node('src/a.ts#f', ['src/b.ts#g'], [], sha('f')),
      node('src/b.ts#g', [], [], sha('g')),
    ]);
    const b = closures([
      node('lib/x.ts#f', ['lib/y.ts#g'], [], sha('f')),
      node('lib/y.ts#g', [], [], sha('g')),
    ]);
    expect(b.get('lib/x.ts#f')).toBe(a.get('src/a.ts#f'));
  });

  it('hashes a cycle as one component that every member covers', () => {
    const cycle = [
      node('even', ['odd']),
      node('odd', ['even', 'leaf']),
      node('leaf'),
      node('caller', ['even']),
    ];
    const before = closures(cycle);
    expect(before.get('even')).not.toBe(before.get('odd'));
    for (const changed of ['even', 'odd', 'leaf']) {
      const after = closures(withHash(cycle, changed, sha(`new ${changed}`)));
      expect(after.get('even')).not.toBe(before.get('even'));
      expect(after.get('odd')).not.toBe(before.get('odd'));
      expect(after.get('caller')).not.toBe(before.get('caller'));
    }
    // The edge leaving the cycle moves from one member to the other: still a different component.
    const moved = closures([
      node('even', ['odd', 'leaf']),
      node('odd', ['even']),
      node('leaf'),
      node('caller', ['even']),
    ]);
    expect(moved.get('even')).not.toBe(before.get('even'));
  });

  it('changes the closure of users of an external package when its locked version changes', () => {
    const graph = [node('a', [], ['lodash']), node('b', ['a']), node('c', [], ['react'])];
    const v1 = closures(graph, { lodash: '4.17.20', react: '18.0.0' });
    const v2 = closures(graph, { lodash: '4.17.21', react: '18.0.0' });
    const none = closures(graph, { react: '18.0.0' });
    expect(v2.get('a')).not.toBe(v1.get('a'));
    expect(v2.get('b')).not.toBe(v1.get('b'));
    expect(none.get('a')).not.toBe(v1.get('a'));
    expect(v2.get('c')).toBe(v1.get('c'));
  });

  it('handles dependency chains and cycles thousands deep', () => {
    const n = 50_000;
    const deep: ClosureInput[] = [];
    for (let i = 0; i < n; i++) deep.push(node(`c${i}`, i + 1 < n ? [`c${i + 1}`] : []));
    const ring = deep.map((c, i) => (i === n - 1 ? { ...c, deps: ['c0'] } : c));
    const chainResult = closures(deep);
    const ringResult = closures(ring);
    expect(chainResult.size).toBe(n);
    expect(new Set(chainResult.values()).size).toBe(n);
    expect(new Set(ringResult.values()).size).toBe(n);
    expect(ringResult.get('c0')).not.toBe(chainResult.get('c0'));
  });

  it('rejects two chunks with one id', () => {
    expect(() => closures([node('a'), node('a')])).toThrow(/given twice/);
  });

  it('recomputes a part of the graph from the known closure hashes of the rest', () => {
    // top -> {x, y}; x <-> y (a cycle); y -> leaf; leaf -> base; other -> base.
    const all = [
      node('top', ['x', 'y']),
      node('x', ['y']),
      node('y', ['x', 'leaf'], ['lodash']),
      node('leaf', ['base']),
      node('base'),
      node('other', ['base']),
    ];
    const full = closures(all, { lodash: '4.17.21' });
    // What reaches `leaf`, with everything else known.
    const part = all.filter((c) => ['top', 'x', 'y', 'leaf'].includes(c.id));
    const known = new Map([...full].filter(([id]) => !part.some((c) => c.id === id)));
    const partial = computeClosureHashes(part, new Map([['lodash', '4.17.21']]), known);
    for (const c of part) expect(partial.get(c.id), c.id).toBe(full.get(c.id));
    expect(partial.has('base')).toBe(false);
  });
});

describe('resolveGraph + computeClosureHashes', () => {
  function build(bodyOfG: string) {
    const { files, context } = repo({
      'a.ts': analysis({
        chunks: [{ id: 'f', refs: ['g'] }, { id: 'unrelated' }],
        imports: [imp('g', './b', 'g')],
        exports: [exportLocal('f'), exportLocal('unrelated')],
      }),
      'b.ts': analysis({
        chunks: [{ id: 'g', refs: ['f'], hash: sha(bodyOfG) }],
        imports: [imp('f', './a', 'f')],
        exports: [exportLocal('g')],
      }),
      'c.ts': analysis({ chunks: [{ id: 'h', refs: ['f'] }], imports: [imp('f', './a', 'f')] }),
    });
    const graph = resolveGraph(files, context);
    const input = files.flatMap((file) =>
      file.analysis.chunks.map((chunk) => {
        const id = chunk.localId === '' ? file.path : `${file.path}#${chunk.localId}`;
        const links = graph.links.get(id)!;
        return { id, hash: chunk.hash, deps: links.deps, externalDeps: links.externalDeps };
      }),
    );
    return computeClosureHashes(input, graph.lockedVersions);
  }

  it('gives modules importing each other one component, covered by both members', () => {
    const before = build('g v1');
    const after = build('g v2');
    expect(after.get('a.ts#f')).not.toBe(before.get('a.ts#f'));
    expect(after.get('b.ts#g')).not.toBe(before.get('b.ts#g'));
    expect(after.get('c.ts#h')).not.toBe(before.get('c.ts#h'));
    expect(after.get('a.ts#unrelated')).toBe(before.get('a.ts#unrelated'));
  });
});
