/**
 * Very deep nesting: analyzed normally up to the limit, and beyond it reported as a parse error
 * with the whole file kept as one module chunk (so it still round-trips), never a crash.
 */
import { describe, expect, it } from 'vitest';
import { MAX_NESTING } from '../../src/chunking/analyze.js';
import type { Language } from '../../src/chunking/types.js';
import { analyzeText } from '../helpers/analyze.js';

function nested(language: Language, depth: number): string {
  const open = language === 'go' ? '('.repeat(depth) : '['.repeat(depth);
  const close = language === 'go' ? ')'.repeat(depth) : ']'.repeat(depth);
  if (language === 'python') return `def f():\n    return ${open}1${close}\n`;
  if (language === 'go') return `package m\n\nfunc f() int { return ${open}1${close} }\n`;
  return `function f() { return ${open}1${close}; }\n`;
}

describe.each<Language>(['javascript', 'typescript', 'python', 'go'])('deep nesting in %s', (language) => {
  it('analyzes nesting just under the limit', async () => {
    const src = nested(language, MAX_NESTING - 100);
    const a = await analyzeText(src, language);
    expect(a.status).toBe('ok');
    expect(a.chunks.map((c) => c.localId)).toEqual(['', 'f']);
  });

  it('keeps a file nested beyond the limit as one module chunk with a reason', async () => {
    const src = nested(language, MAX_NESTING * 3);
    const a = await analyzeText(src, language);
    expect(a.status).toBe('parse-error');
    expect(a.reason).toMatch(/nested \d+ levels deep \(limit 1500\)/);
    expect(a.chunks).toHaveLength(1);
    expect(a.segments).toEqual([[0, Buffer.byteLength(src), 0]]);
  });
});
