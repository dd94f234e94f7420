import { describe, expect, it } from 'vitest';
import { resolveGraph } from '../../src/graph/resolve.js';
import type { FileSpec } from './helpers.js';
import { analysis, imp, repo } from './helpers.js';

const go = (goPackage: string, spec: FileSpec = {}) => analysis({ language: 'go', goPackage, ...spec });

const GO_MOD = `module example.com/app

go 1.22

require (
\tgithub.com/pkg/errors v0.9.1
\tgolang.org/x/sync v0.7.0 // indirect
)

require gopkg.in/yaml.v3 v3.0.1
`;

function graph(...args: Parameters<typeof repo>) {
  const { files, context } = repo(...args);
  return resolveGraph(files, context);
}

describe('resolveGraph: Go', () => {
  it('resolves names and receiver methods across the files of one package', () => {
    const result = graph(
      {
        'server/server.go': go('server', {
          chunks: [
            { id: 'Server', kind: 'class' },
            { id: 'Server.Start', owner: 'Server', selfRefs: ['listen', 'addr'], refs: ['defaultPort'] },
          ],
        }),
        'server/listen.go': go('server', {
          chunks: [{ id: 'Server.listen', owner: 'Server', refs: ['helper', 'len'] }, { id: 'helper' }],
          topLevel: { helper: 'helper', defaultPort: '' },
        }),
      },
      { 'go.mod': GO_MOD },
    );
    const deps = (id: string) => result.links.get(id)!.deps;
    expect(deps('server/server.go#Server.Start')).toEqual([
      'server/listen.go',
      'server/listen.go#Server.listen',
    ]);
    expect(deps('server/listen.go#Server.listen')).toEqual(['server/listen.go#helper']);
    // A type depends on its methods in every file of the package.
    expect(deps('server/server.go#Server')).toEqual([
      'server/listen.go#Server.listen',
      'server/server.go#Server.Start',
    ]);
  });

  it('resolves in-module imports through go.mod and names externals by import path with versions', () => {
    const result = graph(
      {
        'util/strings.go': go('util', { chunks: [{ id: 'Reverse' }] }),
        'util/other.go': go('util', { chunks: [{ id: 'Helper' }] }),
        'go-yaml/yaml.go': go('yaml', { chunks: [{ id: 'Parse' }] }),
        'utils-x/u.go': go('utilsx', { chunks: [{ id: 'U' }] }),
        'cmd/main.go': go('main', {
          chunks: [
            {
              id: 'main',
              refs: [
                'util.Reverse',
                'u2.Helper',
                'yaml.Parse',
                'utilsx.U',
                'fmt.Println',
                'errors.Wrap',
                'yamlv3.Unmarshal',
                'http.Get',
              ],
            },
          ],
          imports: [
            imp('util', 'example.com/app/util', '*'),
            imp('u2', 'example.com/app/util', '*'),
            // The analyzer guesses `yaml` and `utils` from the paths; `utils-x` declares `package utilsx`.
            imp('yaml', 'example.com/app/go-yaml', '*'),
            imp('utils', 'example.com/app/utils-x', '*'),
            imp('fmt', 'fmt', '*'),
            imp('errors', 'github.com/pkg/errors', '*'),
            imp('yamlv3', 'gopkg.in/yaml.v3', '*'),
            imp('http', 'net/http', '*'),
            imp('', 'example.com/app/util', '*'),
          ],
        }),
      },
      { 'go.mod': GO_MOD },
    );
    const links = result.links.get('cmd/main.go#main')!;
    expect(links.deps).toEqual([
      'go-yaml/yaml.go#Parse',
      'util/other.go#Helper',
      'util/strings.go#Reverse',
      'utils-x/u.go#U',
    ]);
    expect(links.externalDeps).toEqual(['fmt', 'github.com/pkg/errors', 'gopkg.in/yaml.v3', 'net/http']);
    // The module chunk holds the imports; a blank import loads every file of the package.
    expect(result.links.get('cmd/main.go')!.deps).toEqual([
      'go-yaml/yaml.go',
      'util/other.go',
      'util/strings.go',
      'utils-x/u.go',
    ]);
    expect(result.lockedVersions.get('github.com/pkg/errors')).toBe('v0.9.1');
    expect(result.lockedVersions.get('gopkg.in/yaml.v3')).toBe('v3.0.1');
    expect(result.lockedVersions.has('fmt')).toBe(false);
  });

  it('maps an import path to the longest required module prefix, per nested go.mod', () => {
    const result = graph(
      {
        'main.go': go('main', {
          chunks: [{ id: 'main', refs: ['sub.F'] }],
          imports: [imp('sub', 'github.com/x/y/sub', '*')],
        }),
        'tools/gen.go': go('main', {
          chunks: [{ id: 'gen', refs: ['sub.F'] }],
          imports: [imp('sub', 'github.com/x/y/z/sub', '*')],
        }),
      },
      {
        'go.mod': 'module example.com/app\nrequire github.com/x/y v1.0.0\n',
        'tools/go.mod':
          'module example.com/tools\nrequire (\n  github.com/x/y v1.0.0\n  github.com/x/y/z v2.0.0\n)\n',
      },
    );
    expect(result.lockedVersions.get('github.com/x/y/sub')).toBe('v1.0.0');
    expect(result.lockedVersions.get('github.com/x/y/z/sub')).toBe('v2.0.0');
  });

  it('keeps _test.go names and _test packages out of non-test files', () => {
    const result = graph(
      {
        'lib/lib.go': go('lib', { chunks: [{ id: 'Do', refs: ['testHelper'] }] }),
        'lib/export_test.go': go('lib', { chunks: [{ id: 'testHelper' }] }),
        'lib/lib_test.go': go('lib_test', {
          chunks: [{ id: 'TestDo', refs: ['lib.Do', 'lib.testHelper'] }],
          imports: [imp('lib', 'example.com/app/lib', '*')],
        }),
        'lib/internal_test.go': go('lib', { chunks: [{ id: 'TestInternal', refs: ['testHelper', 'Do'] }] }),
        'use/use.go': go('use', {
          chunks: [{ id: 'Use', refs: ['lib.Do', 'lib.testHelper'] }],
          imports: [imp('lib', 'example.com/app/lib', '*')],
        }),
      },
      { 'go.mod': GO_MOD },
    );
    expect(result.links.get('lib/lib.go#Do')!.deps).toEqual([]);
    expect(result.links.get('lib/lib_test.go#TestDo')!.deps).toEqual([
      'lib/export_test.go#testHelper',
      'lib/lib.go#Do',
    ]);
    expect(result.links.get('lib/internal_test.go#TestInternal')!.deps).toEqual([
      'lib/export_test.go#testHelper',
      'lib/lib.go#Do',
    ]);
    expect(result.links.get('use/use.go#Use')!.deps).toEqual(['lib/lib.go#Do']);
  });

  it('resolves dot imports and vendored packages', () => {
    const result = graph(
      {
        'vendor/github.com/v/dep/dep.go': go('dep', { chunks: [{ id: 'V' }] }),
        'main.go': go('main', {
          chunks: [{ id: 'main', refs: ['V', 'dep.V'] }],
          imports: [imp('.', 'github.com/v/dep', '*'), imp('dep', 'github.com/v/dep', '*')],
        }),
      },
      { 'go.mod': GO_MOD },
    );
    expect(result.links.get('main.go#main')!.deps).toEqual(['vendor/github.com/v/dep/dep.go#V']);
  });
});
