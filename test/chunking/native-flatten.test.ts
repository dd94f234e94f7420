/**
 * The native flattener (native/flatten.c) and the JavaScript cursor walk must give the same
 * analysis, byte for byte, so that which one a machine has never changes a hash.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceAnalyzer } from '../../src/chunking/analyze.js';
import { languageForPath } from '../../src/chunking/discover.js';
import { loadNativeFlatten } from '../../src/chunking/native.js';
import type { Language } from '../../src/chunking/types.js';
import { REPO_ROOT } from '../helpers/cli.js';

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listSources(p));
    else if (languageForPath(e.name) !== undefined) out.push(p);
  }
  return out;
}

const native = loadNativeFlatten();

describe.skipIf(native === null)('native flattener', () => {
  it('is used by default when built', () => {
    expect(new SourceAnalyzer().usesNative).toBe(true);
  });

  it('gives the same analysis as the JavaScript walk on every fixture source file', async () => {
    const withNative = new SourceAnalyzer();
    const files = listSources(path.join(REPO_ROOT, 'fixtures'));
    expect(files.length).toBeGreaterThan(10);
    const jsOnly = new SourceAnalyzer({ native: false });
    expect(jsOnly.usesNative).toBe(false);
    const stdlib = execFileSync(
      'python3',
      ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'],
      {
        encoding: 'utf8',
      },
    ).trim();
    const real = ['json/decoder.py', 'argparse.py', 'asyncio/locks.py', 'dataclasses.py', 'typing.py'].map(
      (f) => path.join(stdlib, f),
    );
    for (const file of [...files, ...real]) {
      const bytes = readFileSync(file);
      const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
      const text = bytes.subarray(bom).toString('utf8');
      const language = languageForPath(file) as Language;
      const a = await withNative.analyze(text, language, bom, bytes.length);
      const b = await jsOnly.analyze(text, language, bom, bytes.length);
      expect(a, path.relative(REPO_ROOT, file)).toEqual(b);
    }
  });

  it('reports syntax errors the same way', async () => {
    const src = 'def f(:\n    return 1\n\nx = (1,\n';
    const jsOnly = new SourceAnalyzer({ native: false });
    const a = await new SourceAnalyzer().analyze(src, 'python', 0, src.length);
    const b = await jsOnly.analyze(src, 'python', 0, src.length);
    expect(a.status).toBe('parse-error');
    expect(a.reason).toBe(b.reason);
  });
});
