import { describe, expect, it } from 'vitest';
import { resolveGraph } from '../../src/graph/resolve.js';
import type { FileSpec } from './helpers.js';
import { analysis, imp, repo } from './helpers.js';

const py = (spec: FileSpec = {}) => analysis({ language: 'python', ...spec });

function graph(...args: Parameters<typeof repo>) {
  const { files, context } = repo(...args);
  return resolveGraph(files, context);
}

/** A small package layout used by several tests. */
function layout() {
  return {
    'pkg/__init__.py': py({ imports: [imp('helper', '.impl', 'helper'), imp('impl', '.', 'impl')] }),
    'pkg/impl.py': py({ chunks: [{ id: 'helper' }, { id: 'other' }] }),
    'pkg/consts.py': py({ topLevel: { X: '', Y: '' } }),
    'pkg/sub/__init__.py': py(),
    'pkg/sub/mod.py': py({ chunks: [{ id: 'f' }, { id: 'g' }] }),
    'pkg/sub/sibling.py': py({ chunks: [{ id: 's' }] }),
  };
}

describe('resolveGraph: Python', () => {
  it('resolves absolute, relative and `from . import` imports', () => {
    const result = graph({
      ...layout(),
      'pkg/sub/use.py': py({
        chunks: [{ id: 'u', refs: ['f', 'g', 'sibling.s', 'impl_mod.other', 'up'] }],
        imports: [
          imp('f', 'pkg.sub.mod', 'f'),
          imp('g', '.mod', 'g'),
          imp('sibling', '.', 'sibling'),
          imp('impl_mod', '..impl', '*'),
          imp('up', '..', 'helper'),
        ],
      }),
    });
    expect(result.links.get('pkg/sub/use.py#u')!.deps).toEqual([
      'pkg/impl.py#helper',
      'pkg/impl.py#other',
      'pkg/sub/mod.py#f',
      'pkg/sub/mod.py#g',
      'pkg/sub/sibling.py#s',
    ]);
    expect(result.warnings).toEqual([]);
  });

  it('follows `import a.b.c` member chains to the longest module, then a name in it', () => {
    const result = graph({
      ...layout(),
      'main.py': py({
        chunks: [
          { id: 'a', refs: ['pkg.sub.mod.f'] },
          { id: 'b', refs: ['pkg.helper'] },
          { id: 'c', refs: ['s.mod.g'] },
          { id: 'd', refs: ['pkg'] },
        ],
        imports: [imp('pkg', 'pkg.sub.mod', '*'), imp('s', 'pkg.sub', '*')],
      }),
    });
    const deps = (id: string) => result.links.get(`main.py#${id}`)!.deps;
    expect(deps('a')).toEqual(['pkg/sub/mod.py#f']);
    // `pkg.helper` is re-exported by pkg/__init__.py.
    expect(deps('b')).toEqual(['pkg/impl.py#helper']);
    expect(deps('c')).toEqual(['pkg/sub/mod.py#g']);
    expect(deps('d')).toEqual(['pkg/__init__.py']);
    // The module chunk holds `import pkg.sub.mod`: it loads the whole chain's last module.
    expect(result.links.get('main.py')!.deps).toEqual(['pkg/sub/__init__.py', 'pkg/sub/mod.py']);
  });

  it('follows re-exports through __init__.py, cycle-safe', () => {
    const result = graph({
      ...layout(),
      'loop/__init__.py': py({ imports: [imp('x', '.a', 'x')] }),
      'loop/a.py': py({ imports: [imp('x', 'loop', 'x')] }),
      'main.py': py({
        chunks: [{ id: 'm', refs: ['helper', 'impl.other', 'x'] }],
        imports: [imp('helper', 'pkg', 'helper'), imp('impl', 'pkg', 'impl'), imp('x', 'loop', 'x')],
      }),
    });
    expect(result.links.get('main.py#m')!.deps).toEqual([
      'loop/__init__.py',
      'pkg/impl.py#helper',
      'pkg/impl.py#other',
    ]);
  });

  it('resolves names through `from m import *`, the later star import first', () => {
    const result = graph({
      ...layout(),
      'other.py': py({ topLevel: { X: '' } }),
      'main.py': py({
        chunks: [{ id: 'm', refs: ['X', 'Y', 'len', 'helper'] }],
        imports: [imp('*', 'pkg.consts', '*'), imp('*', 'other', '*'), imp('*', 'pkg', '*')],
      }),
    });
    expect(result.links.get('main.py#m')!.deps).toEqual(['other.py', 'pkg/consts.py', 'pkg/impl.py#helper']);
    expect(result.links.get('main.py')!.deps).toEqual(['other.py', 'pkg/__init__.py', 'pkg/consts.py']);
  });

  it('names external modules by their first component; relative imports are never external', () => {
    const result = graph(
      {
        'main.py': py({
          chunks: [{ id: 'm', refs: ['np.array', 'os.path.join', 'join', 'gone'] }],
          imports: [
            imp('np', 'numpy', '*'),
            imp('os', 'os.path', '*'),
            imp('join', 'os.path', 'join'),
            imp('gone', '.missing', 'gone'),
          ],
        }),
      },
      {
        'requirements.txt':
          'numpy==1.26.4  # pinned\nrequests>=2\nTyping-Extensions[x]==4.12.0 ; python_version<"3.11"\n',
      },
    );
    expect(result.links.get('main.py#m')!.externalDeps).toEqual(['numpy', 'os']);
    expect(result.links.get('main.py#m')!.deps).toEqual([]);
    expect(result.warnings).toEqual(["main.py: cannot resolve import '.missing'"]);
    expect(result.lockedVersions.get('numpy')).toBe('1.26.4');
    expect(result.lockedVersions.get('typing_extensions')).toBe('4.12.0');
    expect(result.lockedVersions.has('requests')).toBe(false);
  });

  it('registers src/ layouts by package name and by the dotted path from the root', () => {
    const result = graph({
      'src/app/__init__.py': py(),
      'src/app/core.py': py({ chunks: [{ id: 'run' }] }),
      'tests/test_core.py': py({
        chunks: [
          { id: 't1', refs: ['run'] },
          { id: 't2', refs: ['core.run'] },
        ],
        imports: [imp('run', 'app.core', 'run'), imp('core', 'src.app.core', '*')],
      }),
    });
    expect(result.links.get('tests/test_core.py#t1')!.deps).toEqual(['src/app/core.py#run']);
    expect(result.links.get('tests/test_core.py#t2')!.deps).toEqual(['src/app/core.py#run']);
  });

  it('takes a lone module outside any package only from its own directory', () => {
    const result = graph({
      'scripts/utils.py': py({ chunks: [{ id: 'u' }] }),
      'scripts/run.py': py({
        chunks: [{ id: 'r', refs: ['utils.u'] }],
        imports: [imp('utils', 'utils', '*')],
      }),
      'tools/utils.py': py({ chunks: [{ id: 'u' }] }),
      'tools/run.py': py({ chunks: [{ id: 'r', refs: ['utils.u'] }], imports: [imp('utils', 'utils', '*')] }),
      'other/run.py': py({ chunks: [{ id: 'r', refs: ['utils.u'] }], imports: [imp('utils', 'utils', '*')] }),
    });
    expect(result.links.get('scripts/run.py#r')!.deps).toEqual(['scripts/utils.py#u']);
    expect(result.links.get('tools/run.py#r')!.deps).toEqual(['tools/utils.py#u']);
    expect(result.links.get('other/run.py#r')!.externalDeps).toEqual(['utils']);
  });

  it('resolves namespace packages, and names outside them as external', () => {
    const result = graph({
      'google/cloud/ext.py': py({ chunks: [{ id: 'f' }] }),
      'types/index.ts': analysis(),
      'main.py': py({
        chunks: [
          { id: 'm', refs: ['pb.Message', 'ext.f', 'f', 'types.SimpleNamespace', 'google.cloud.ext.f'] },
        ],
        imports: [
          imp('pb', 'google.protobuf', '*'),
          imp('ext', 'google.cloud', 'ext'),
          imp('f', 'google.cloud.ext', 'f'),
          imp('types', 'types', '*'),
          imp('google', 'google.cloud.ext', '*'),
        ],
      }),
    });
    expect(result.links.get('main.py#m')!.deps).toEqual(['google/cloud/ext.py#f']);
    expect(result.links.get('main.py#m')!.externalDeps).toEqual(['google', 'types']);
  });

  it('links a class to its methods and self.m to the sibling method', () => {
    const result = graph({
      'm.py': py({
        chunks: [
          { id: 'C', kind: 'class' },
          { id: 'C.__init__', owner: 'C', selfRefs: ['setup', 'value'] },
          { id: 'C.setup', owner: 'C', refs: ['C'] },
        ],
      }),
    });
    expect(result.links.get('m.py#C')!.deps).toEqual(['m.py#C.__init__', 'm.py#C.setup']);
    expect(result.links.get('m.py#C.__init__')!.deps).toEqual(['m.py#C.setup']);
    expect(result.links.get('m.py#C.setup')!.deps).toEqual(['m.py#C']);
  });

  it('resolves an import held by a function body before top-level names', () => {
    const result = graph({
      ...layout(),
      'main.py': py({
        chunks: [{ id: 'f', refs: ['helper'] }, { id: 'helper' }, { id: 'g', refs: ['helper'] }],
        imports: [imp('helper', 'pkg.impl', 'helper', 'f')],
      }),
    });
    expect(result.links.get('main.py#f')!.deps).toEqual(['pkg/impl.py#helper']);
    expect(result.links.get('main.py#g')!.deps).toEqual(['main.py#helper']);
  });
});
