import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkId, resolveGraph } from '../../src/graph/resolve.js';
import { analysis, exportLocal, imp, reexport, repo } from './helpers.js';

function graph(...args: Parameters<typeof repo>) {
  const { files, context } = repo(...args);
  return resolveGraph(files, context);
}

function deps(result: ReturnType<typeof resolveGraph>, id: string): string[] {
  const links = result.links.get(id);
  if (links === undefined) throw new Error(`no links for ${id}`);
  return links.deps;
}

function externals(result: ReturnType<typeof resolveGraph>, id: string): string[] {
  return result.links.get(id)!.externalDeps;
}

describe('resolveGraph: JavaScript and TypeScript', () => {
  it('names chunks path#localId and the module chunk by its path', () => {
    expect(chunkId('src/a.ts', '')).toBe('src/a.ts');
    expect(chunkId('src/a.ts', 'C.m')).toBe('src/a.ts#C.m');
  });

  it('links refs to top-level names of the same file, never to the chunk itself or to globals', () => {
    const result = graph({
      'a.ts': analysis({
        chunks: [{ id: 'f', refs: ['g', 'f', 'console.log', 'constructor', 'toString'] }, { id: 'g' }],
        moduleRefs: ['f'],
      }),
    });
    expect(deps(result, 'a.ts#f')).toEqual(['a.ts#g']);
    expect(deps(result, 'a.ts#g')).toEqual([]);
    expect(deps(result, 'a.ts')).toEqual(['a.ts#f']);
    expect(externals(result, 'a.ts#f')).toEqual([]);
    expect([...result.links.keys()].sort()).toEqual(['a.ts', 'a.ts#f', 'a.ts#g']);
  });

  it('resolves named, default and namespace imports through exports', () => {
    const result = graph({
      'lib.ts': analysis({
        chunks: [{ id: 'f' }, { id: 'Main', kind: 'class' }, { id: 'hidden' }],
        exports: [exportLocal('f'), exportLocal('default', 'Main'), exportLocal('renamed', 'hidden')],
      }),
      'use.ts': analysis({
        chunks: [{ id: 'run', refs: ['f', 'M', 'ns.renamed', 'ns', 'r'] }],
        imports: [
          imp('f', './lib', 'f'),
          imp('M', './lib', 'default'),
          imp('ns', './lib', '*'),
          imp('r', './lib', 'renamed'),
        ],
      }),
    });
    expect(deps(result, 'use.ts#run')).toEqual(['lib.ts', 'lib.ts#Main', 'lib.ts#f', 'lib.ts#hidden']);
    // The module chunk holds the import statements.
    expect(deps(result, 'use.ts')).toEqual(['lib.ts', 'lib.ts#Main', 'lib.ts#f', 'lib.ts#hidden']);
  });

  it('falls back to a top-level name, then to the module chunk, when exports do not name it', () => {
    const result = graph({
      'cjs.js': analysis({ language: 'javascript', chunks: [{ id: 'helper' }] }),
      'use.js': analysis({
        language: 'javascript',
        chunks: [
          { id: 'a', refs: ['helper'] },
          { id: 'b', refs: ['other'] },
          { id: 'c', refs: ['m.helper'] },
        ],
        imports: [
          imp('helper', './cjs.js', 'helper'),
          imp('other', './cjs.js', 'nope'),
          imp('m', './cjs.js', '*'),
        ],
      }),
    });
    expect(deps(result, 'use.js#a')).toEqual(['cjs.js#helper']);
    expect(deps(result, 'use.js#b')).toEqual(['cjs.js']);
    expect(deps(result, 'use.js#c')).toEqual(['cjs.js#helper']);
  });

  it('finds files by extension, .js written for .ts, index files and package.json entry points', () => {
    const result = graph(
      {
        'src/a.ts': analysis({ chunks: [{ id: 'a' }], exports: [exportLocal('a')] }),
        'src/b.tsx': analysis({ language: 'tsx', chunks: [{ id: 'b' }], exports: [exportLocal('b')] }),
        'src/c.mts': analysis({ chunks: [{ id: 'c' }], exports: [exportLocal('c')] }),
        'src/dir/index.ts': analysis({ chunks: [{ id: 'd' }], exports: [exportLocal('d')] }),
        'src/pkg/lib/main.js': analysis({
          language: 'javascript',
          chunks: [{ id: 'p' }],
          exports: [exportLocal('p')],
        }),
        'src/types.d.ts': analysis({ chunks: [{ id: 'T', kind: 'interface' }], exports: [exportLocal('T')] }),
        'src/use.ts': analysis({
          chunks: [{ id: 'u', refs: ['a', 'b', 'c', 'd', 'p', 'T', 'data'] }],
          imports: [
            imp('a', './a.js', 'a'),
            imp('b', './b.jsx', 'b'),
            imp('c', './c.mjs', 'c'),
            imp('d', './dir', 'd'),
            imp('p', './pkg', 'p'),
            imp('T', './types', 'T'),
            imp('data', './data.json', 'default'),
            imp('logo', './logo.svg', 'default'),
          ],
        }),
      },
      { 'src/pkg/package.json': '{ "main": "./lib/main.js" }', 'src/data.json': '{}' },
    );
    expect(deps(result, 'src/use.ts#u')).toEqual([
      'src/a.ts#a',
      'src/b.tsx#b',
      'src/c.mts#c',
      'src/dir/index.ts#d',
      'src/pkg/lib/main.js#p',
      'src/types.d.ts#T',
    ]);
    // A JSON file is in the repo but has no chunks: no edge, no warning; nor for an asset the
    // listing does not hold.
    expect(result.warnings).toEqual([]);
  });

  it('prefers the TypeScript source over a built .js beside it for a TypeScript importer', () => {
    const result = graph({
      'a.ts': analysis({ chunks: [{ id: 'x' }], exports: [exportLocal('x')] }),
      'a.js': analysis({ language: 'javascript', chunks: [{ id: 'x' }], exports: [exportLocal('x')] }),
      'use.ts': analysis({ chunks: [{ id: 'u', refs: ['x'] }], imports: [imp('x', './a.js', 'x')] }),
      'use.mjs': analysis({
        language: 'javascript',
        chunks: [{ id: 'u', refs: ['x'] }],
        imports: [imp('x', './a.js', 'x')],
      }),
    });
    expect(deps(result, 'use.ts#u')).toEqual(['a.ts#x']);
    expect(deps(result, 'use.mjs#u')).toEqual(['a.js#x']);
  });

  it('follows tsconfig paths and baseUrl (extends, JSONC) from the nearest tsconfig', () => {
    const root = path.resolve('fixtures/graph/ts-paths');
    const configs = ['tsconfig.json', 'tsconfig.base.json', 'packages/app/tsconfig.json'];
    const result = graph(
      {
        'src/lib/x.ts': analysis({ chunks: [{ id: 'x' }], exports: [exportLocal('x')] }),
        'src/utils/y.ts': analysis({ chunks: [{ id: 'y' }], exports: [exportLocal('y')] }),
        'shared/index.ts': analysis({ chunks: [{ id: 's' }], exports: [exportLocal('s')] }),
        'src/app.ts': analysis({
          chunks: [{ id: 'main', refs: ['x', 'y', 's', 'React', 'gone'] }],
          imports: [
            imp('x', '@lib/x', 'x'),
            imp('y', 'utils/y', 'y'),
            imp('s', '@shared', 's'),
            imp('React', 'react', 'default'),
            imp('gone', '@lib/missing', 'gone'),
          ],
        }),
        'packages/app/src/z.ts': analysis({ chunks: [{ id: 'z' }], exports: [exportLocal('z')] }),
        'packages/app/main.ts': analysis({
          chunks: [{ id: 'm', refs: ['z', 'x'] }],
          imports: [imp('z', '~/z', 'z'), imp('x', '@lib/x', 'x')],
        }),
      },
      Object.fromEntries(configs.map((c) => [c, readFileSync(path.join(root, c), 'utf8')])),
      root,
    );
    expect(deps(result, 'src/app.ts#main')).toEqual([
      'shared/index.ts#s',
      'src/lib/x.ts#x',
      'src/utils/y.ts#y',
    ]);
    expect(externals(result, 'src/app.ts#main')).toEqual(['react']);
    // The nearest tsconfig applies: the root's `@lib/*` does not reach packages/app.
    expect(deps(result, 'packages/app/main.ts#m')).toEqual(['packages/app/src/z.ts#z']);
    expect(externals(result, 'packages/app/main.ts#m')).toEqual(['@lib/x']);
    expect(result.warnings).toContain("src/app.ts: cannot resolve import '@lib/missing'");
    expect(result.warnings.some((w) => w.startsWith('packages/app/tsconfig.json:'))).toBe(true);
  });

  it('follows barrel re-exports: export {x} from, export *, chains, export * as ns', () => {
    const result = graph({
      'impl/x.ts': analysis({ chunks: [{ id: 'x' }], exports: [exportLocal('x')] }),
      'impl/y.ts': analysis({
        chunks: [{ id: 'y' }, { id: 'yy' }],
        exports: [exportLocal('y'), exportLocal('yy')],
      }),
      'impl/z.ts': analysis({ chunks: [{ id: 'zf' }], exports: [exportLocal('zf')] }),
      'impl/index.ts': analysis({
        exports: [
          reexport('x', './x'),
          reexport('renamedY', './y', 'y'),
          reexport('*', './y', '*'),
          reexport('z', './z', '*'),
        ],
      }),
      'barrel.ts': analysis({ exports: [reexport('*', './impl', '*')] }),
      'use.ts': analysis({
        chunks: [{ id: 'u', refs: ['x', 'ry', 'yy', 'z.zf', 'all.z.zf'] }],
        imports: [
          imp('x', './barrel', 'x'),
          imp('ry', './barrel', 'renamedY'),
          imp('yy', './impl', 'yy'),
          imp('z', './impl', 'z'),
          imp('all', './barrel', '*'),
        ],
      }),
    });
    expect(deps(result, 'use.ts#u')).toEqual(['impl/x.ts#x', 'impl/y.ts#y', 'impl/y.ts#yy', 'impl/z.ts#zf']);
    // A barrel's module chunk depends on what it re-exports.
    expect(deps(result, 'impl/index.ts')).toEqual(['impl/x.ts#x', 'impl/y.ts', 'impl/y.ts#y', 'impl/z.ts']);
    expect(deps(result, 'barrel.ts')).toEqual(['impl/index.ts']);
  });

  it('follows export { local } of an imported name, and survives export * cycles', () => {
    const result = graph({
      'a.ts': analysis({ chunks: [{ id: 'fa' }], exports: [exportLocal('fa'), reexport('*', './b', '*')] }),
      'b.ts': analysis({
        exports: [reexport('*', './a', '*'), exportLocal('g', 'g')],
        imports: [imp('g', './c', 'h')],
      }),
      'c.ts': analysis({ chunks: [{ id: 'h' }], exports: [exportLocal('h')] }),
      'use.ts': analysis({
        chunks: [{ id: 'u', refs: ['fa', 'g', 'missing'] }],
        imports: [imp('fa', './b', 'fa'), imp('g', './a', 'g'), imp('missing', './a', 'missing')],
      }),
    });
    expect(deps(result, 'use.ts#u')).toEqual(['a.ts', 'a.ts#fa', 'c.ts#h']);
  });

  it('resolves require bound inside a chunk before the file-level names', () => {
    const result = graph({
      'x.js': analysis({ language: 'javascript', chunks: [{ id: 'g' }, { id: 'k' }] }),
      'use.js': analysis({
        language: 'javascript',
        chunks: [{ id: 'f', refs: ['x.g', 'x'] }, { id: 'x' }, { id: 'other', refs: ['x'] }],
        imports: [imp('x', './x', '*', 'f')],
      }),
    });
    expect(deps(result, 'use.js#f')).toEqual(['x.js', 'x.js#g']);
    expect(deps(result, 'use.js#other')).toEqual(['use.js#x']);
  });

  it('names external packages: subpaths, scopes, Node builtins', () => {
    const result = graph({
      'use.ts': analysis({
        chunks: [{ id: 'u', refs: ['fp', 'p', 'fs1', 'fs2', 'fs3', 'test', 'q'] }],
        imports: [
          imp('fp', 'lodash/fp', '*'),
          imp('p', '@scope/pkg/deep/x', 'p'),
          imp('fs1', 'fs', '*'),
          imp('fs2', 'node:fs', 'readFile'),
          imp('fs3', 'fs/promises', 'default'),
          imp('test', 'node:test', 'test'),
          imp('q', 'query-string', 'default'),
        ],
      }),
    });
    expect(externals(result, 'use.ts#u')).toEqual([
      '@scope/pkg',
      'lodash',
      'node:fs',
      'node:test',
      'query-string',
    ]);
    expect(deps(result, 'use.ts#u')).toEqual([]);
  });

  it('links side-effect imports from the chunk holding them', () => {
    const result = graph({
      'polyfill.ts': analysis(),
      'lazy.ts': analysis({ chunks: [{ id: 'l' }] }),
      'main.ts': analysis({
        chunks: [{ id: 'load' }],
        imports: [
          imp('', './polyfill', '*'),
          imp('', 'reflect-metadata', '*'),
          imp('', './lazy', '*', 'load'),
        ],
      }),
    });
    expect(deps(result, 'main.ts')).toEqual(['polyfill.ts']);
    expect(externals(result, 'main.ts')).toEqual(['reflect-metadata']);
    expect(deps(result, 'main.ts#load')).toEqual(['lazy.ts']);
  });

  it('links a class to its methods and this.m to the sibling method', () => {
    const result = graph({
      'c.ts': analysis({
        chunks: [
          { id: 'C', kind: 'class' },
          { id: 'C.a', owner: 'C', selfRefs: ['b', 'field'] },
          { id: 'C.b', owner: 'C' },
          { id: 'C.Inner', kind: 'class', owner: 'C' },
          { id: 'C.Inner.m', owner: 'Inner', selfRefs: ['n'] },
          { id: 'C.Inner.n', owner: 'Inner' },
        ],
      }),
    });
    expect(deps(result, 'c.ts#C')).toEqual(['c.ts#C.Inner', 'c.ts#C.a', 'c.ts#C.b']);
    expect(deps(result, 'c.ts#C.a')).toEqual(['c.ts#C.b']);
    expect(deps(result, 'c.ts#C.Inner')).toEqual(['c.ts#C.Inner.m', 'c.ts#C.Inner.n']);
    expect(deps(result, 'c.ts#C.Inner.m')).toEqual(['c.ts#C.Inner.n']);
  });

  it('warns once per file and specifier for a relative import that resolves nowhere', () => {
    const result = graph({
      'a.ts': analysis({
        chunks: [{ id: 'f', refs: ['x', 'y'] }],
        imports: [imp('x', './missing', 'x'), imp('y', './missing', 'y')],
      }),
      'b.ts': analysis({ imports: [imp('', './missing', '*')] }),
    });
    expect(deps(result, 'a.ts#f')).toEqual([]);
    expect(externals(result, 'a.ts#f')).toEqual([]);
    expect(result.warnings).toEqual([
      "a.ts: cannot resolve import './missing'",
      "b.ts: cannot resolve import './missing'",
    ]);
  });

  it('reads locked versions from package-lock.json v3 and v1', () => {
    const files = { 'a.ts': analysis() };
    const v3 = graph(files, {
      'package-lock.json': JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'x' },
          'node_modules/lodash': { version: '4.17.21' },
          'node_modules/@scope/pkg': { version: '1.2.3' },
          'node_modules/a/node_modules/lodash': { version: '3.0.0' },
        },
      }),
    });
    expect(Object.fromEntries(v3.lockedVersions)).toEqual({ lodash: '4.17.21', '@scope/pkg': '1.2.3' });
    const v1 = graph(files, {
      'package-lock.json': JSON.stringify({
        lockfileVersion: 1,
        dependencies: { lodash: { version: '4.0.0' } },
      }),
    });
    expect(Object.fromEntries(v1.lockedVersions)).toEqual({ lodash: '4.0.0' });
  });

  it('finds configs through readFile when the listing holds only source files', () => {
    const { files, context } = repo(
      {
        'src/pkg/main.js': analysis({ language: 'javascript', chunks: [{ id: 'p' }] }),
        'src/use.js': analysis({
          language: 'javascript',
          chunks: [{ id: 'u', refs: ['p'] }],
          imports: [imp('p', './pkg', 'p')],
        }),
      },
      {},
      '/nonexistent',
      (rel) => (rel === 'src/pkg/package.json' ? '{"main":"main.js"}' : undefined),
    );
    expect(deps(resolveGraph(files, context), 'src/use.js#u')).toEqual(['src/pkg/main.js#p']);
  });
});
