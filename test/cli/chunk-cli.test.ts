/**
 * The built CLI end to end, as a process: `ccx chunk` and its companion commands on the mixed
 * fixture (TypeScript, JavaScript, Python, Go; CRLF, BOM, non-ASCII names, a syntax error).
 */
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram } from '../../src/cli/program.js';
import type { Manifest } from '../../src/manifest.js';
import {
  copyFixture,
  manifestValidator,
  REPO_ROOT,
  removeTemps,
  runCcx,
  runCcxBytes,
} from '../helpers/cli.js';

afterAll(removeTemps);

describe('ccx --help and --version', () => {
  it('prints the help text the program exports, and exits 0', async () => {
    const r = await runCcx(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(createProgram().helpInformation());
    for (const cmd of ['chunk', 'manifest', 'log', 'show', 'deps', 'cat', 'verify'])
      expect(r.stdout).toContain(cmd);
  });

  it('prints the version from package.json', async () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await runCcx(['--version']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('gives every command its own --help', async () => {
    const r = await runCcx(['chunk', '--help']);
    expect(r.exitCode).toBe(0);
    for (const opt of ['--store', '--json', '--jobs', '--max-file-bytes', '--strict', '--quiet', '--wait']) {
      expect(r.stdout).toContain(opt);
    }
  });

  it('loads no native module (tree-sitter, LevelDB, onnxruntime) nor the type checker to print help', async () => {
    const script = `
      const { createProgram } = await import(${JSON.stringify(path.join(REPO_ROOT, 'dist/cli/program.js'))});
      createProgram().helpInformation();
      const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8');
      const { createRequire } = await import('node:module');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({
        treeSitter: /tree.sitter/i.test(maps),
        level: /classic.level/i.test(maps),
        onnx: /onnxruntime/i.test(maps),
        checker: loaded.some((p) => /node_modules[\\/](ts-morph|@ts-morph|typescript|picomatch)[\\/]/.test(p)),
      }));
    `;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO_ROOT });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.on('error', reject);
      child.on('close', () => resolve(text));
    });
    expect(JSON.parse(out)).toEqual({ treeSitter: false, level: false, onnx: false, checker: false });
  });

  it('exits 2 with usage help on an unknown command or a bad option value', async () => {
    const unknown = await runCcx(['frobnicate']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const bad = await runCcx(['chunk', '.', '--jobs', 'zero']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--jobs');
  });
});

describe('ccx chunk on the mixed fixture', () => {
  let root: string;
  let store: string;
  let manifest: Manifest;

  beforeAll(async () => {
    root = copyFixture('chunk/mixed');
    store = path.join(root, '.ccx');
    const r = await runCcx(['chunk', root, '--json']);
    expect(r.exitCode).toBe(0);
    manifest = JSON.parse(r.stdout) as Manifest;
  });

  it('prints a manifest valid against shared/spec/manifest.schema.json', () => {
    const validate = manifestValidator();
    const valid = validate(manifest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('lists every source file with its language and status', () => {
    const byPath = new Map(manifest.files.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort()).toEqual(
      [
        'go/lib/lib.go',
        'go/main.go',
        'py/bom.py',
        'py/broken.py',
        'py/pkg/__init__.py',
        'py/pkg/m.py',
        'src/a.ts',
        'src/crlf.ts',
        'src/empty.js',
        'src/types.ts',
        'src/util/index.ts',
        'src/util/math.ts',
        'src/ünïcode.ts',
      ].sort(),
    );
    expect(byPath.get('py/broken.py')?.status).toBe('parse-error');
    expect(byPath.get('py/broken.py')?.reason).toMatch(/line 5/);
    expect(byPath.get('src/a.ts')?.language).toBe('typescript');
    expect(byPath.get('go/main.go')?.language).toBe('go');
    expect(manifest.stats.parseErrors).toBe(1);
  });

  it('indexes what parses in a file with a syntax error', () => {
    expect(manifest.chunks.some((c) => c.id === 'py/broken.py#fine')).toBe(true);
  });

  it('resolves dependencies across files and languages', () => {
    const byId = new Map(manifest.chunks.map((c) => [c.id, c]));
    expect(byId.get('src/a.ts#area')?.deps).toEqual(['src/types.ts#Shape', 'src/util/math.ts#double']);
    expect(byId.get('src/a.ts#Box.area')?.deps).toContain('src/a.ts#area');
    expect(byId.get('src/a.ts#Box.twice')?.deps).toContain('src/a.ts#Box.area');
    expect(byId.get('py/pkg/m.py#Walker.name')?.deps).toContain('py/pkg/m.py#helper');
    expect(byId.get('py/pkg/m.py#helper')?.externalDeps).toEqual(['os']);
    expect(byId.get('go/main.go#main')?.deps).toContain('go/lib/lib.go#Sum');
    expect(byId.get('go/main.go#main')?.externalDeps).toEqual(['fmt']);
    // Mutual recursion: one strongly connected component, covered by both closure hashes.
    const even = byId.get('src/util/math.ts#isEven')!;
    const odd = byId.get('src/util/math.ts#isOdd')!;
    expect(even.deps).toContain(odd.id);
    expect(odd.deps).toContain(even.id);
    expect(even.closureHash).not.toBe(odd.closureHash);
  });

  it('gives every indexed file back byte for byte with ccx cat (CRLF, BOM, non-ASCII names)', async () => {
    for (const f of manifest.files.filter((x) => x.status !== 'skipped')) {
      const r = await runCcxBytes(['cat', f.path, '--store', store]);
      expect(r.exitCode, f.path).toBe(0);
      expect(r.stdout.equals(readFileSync(path.join(root, f.path))), f.path).toBe(true);
    }
  });

  it('passes ccx verify', async () => {
    const r = await runCcx(['verify', '--store', store]);
    expect(r.stdout).toContain('store ok');
    expect(r.exitCode).toBe(0);
  });

  it('shows a chunk by name with its code, and lists the chunks an ambiguous name matches', async () => {
    const one = await runCcx(['show', 'greet', '--store', store]);
    expect(one.exitCode).toBe(0);
    expect(one.stdout).toContain('src/ünïcode.ts#greet');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the chunk's source text contains a template literal
    expect(one.stdout).toContain('héllo ${name} 🚀');
    const many = await runCcx(['show', 'area', '--store', store]);
    expect(many.exitCode).toBe(0);
    expect(many.stdout).toContain('2 chunks match "area"');
    expect(many.stdout).toContain('src/a.ts#Box.area');
    const none = await runCcx(['show', 'nothing-like-this', '--store', store]);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('error: no chunk matches');
  });

  it('answers deps, deps --reverse and deps --closure', async () => {
    const direct = await runCcx(['deps', 'src/a.ts#Box.twice', '--store', store]);
    expect(direct.stdout.trim().split('\n')).toEqual(['src/a.ts#Box.area']);
    const closure = await runCcx(['deps', 'src/a.ts#Box.twice', '--closure', '--store', store]);
    expect(closure.stdout).toContain('src/util/math.ts#double');
    const reverse = await runCcx(['deps', 'src/util/math.ts#double', '--reverse', '--store', store]);
    expect(reverse.stdout).toContain('src/a.ts#area');
  });

  it('lists the snapshot in ccx log and prints the same manifest with ccx manifest --json', async () => {
    const log = await runCcx(['log', '--store', store]);
    expect(log.stdout).toContain(manifest.snapshot.slice(0, 12));
    const again = await runCcx(['manifest', '--json', '--store', store]);
    const m = JSON.parse(again.stdout) as Manifest;
    expect(m.snapshot).toBe(manifest.snapshot);
    expect(m.chunks).toEqual(manifest.chunks);
    expect(m.files).toEqual(manifest.files);
  });

  it('reuses every file and adds no snapshot when nothing changed', async () => {
    const r = await runCcx(['chunk', root, '--json']);
    const m = JSON.parse(r.stdout) as Manifest;
    expect(m.snapshot).toBe(manifest.snapshot);
    expect(m.stats.reusedFiles).toBe(manifest.files.filter((f) => f.status !== 'skipped').length);
    expect(m.stats.newChunks).toBe(0);
  });
});

describe('ccx chunk on bad input', () => {
  it('reports binary, huge, non-UTF-8 files and bad symlinks once, completes, and --strict exits 1', async () => {
    const root = copyFixture('chunk/mixed');
    writeFileSync(path.join(root, 'src', 'binary.ts'), Buffer.from([0x63, 0x6f, 0x00, 0x01, 0x02]));
    writeFileSync(path.join(root, 'src', 'latin1.ts'), Buffer.from('const s = "caf\xe9";\n', 'latin1'));
    writeFileSync(path.join(root, 'src', 'huge.js'), `// ${'x'.repeat(5000)}\n`);
    symlinkSync('/etc/hostname', path.join(root, 'src', 'outside.ts'));
    symlinkSync('loop-b.py', path.join(root, 'py', 'loop-a.py'));
    symlinkSync('loop-a.py', path.join(root, 'py', 'loop-b.py'));
    const r = await runCcx(['chunk', root, '--max-file-bytes', '4096']);
    expect(r.exitCode).toBe(0);
    const lines = r.stderr.trim().split('\n');
    const expectOnce = (needle: string, reason: RegExp) => {
      const hits = lines.filter((l) => l.includes(needle));
      expect(hits, needle).toHaveLength(1);
      expect(hits[0]).toMatch(reason);
    };
    expectOnce('src/binary.ts', /binary/);
    expectOnce('src/latin1.ts', /not valid UTF-8/);
    expectOnce('src/huge.js', /larger than 4096 bytes/);
    expectOnce('src/outside.ts', /outside the root/);
    expectOnce('py/loop-a.py', /loop/);
    expectOnce('py/broken.py', /syntax error/);
    expect(r.stdout, r.stderr).toMatch(/chunked .*: 19 files \(12 ok, 1 with parse errors, 6 skipped\)/);
    const m = JSON.parse(
      (await runCcx(['manifest', '--json', '--store', path.join(root, '.ccx')])).stdout,
    ) as Manifest;
    expect(m.files.find((f) => f.path === 'src/a.ts')?.status).toBe('ok');
    const strict = await runCcx(['chunk', root, '--max-file-bytes', '4096', '--strict', '--quiet']);
    expect(strict.exitCode).toBe(1);
    expect(strict.stdout).toBe('');
  });

  it('says clearly when the directory does not exist', async () => {
    const r = await runCcx(['chunk', '/nonexistent/ccx-dir']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
