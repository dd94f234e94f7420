/**
 * The viable-prefix rule (src/gen/syntax.ts): unclosed brackets and strings and an unfinished
 * line are fine; a bracket that closes nothing, a line ended inside a string, and an error
 * before the line being written are not.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { fetchCorpus } from '../../scripts/fetch-corpus.mjs';
// @ts-expect-error: a plain .mjs script without types
import { realFunctions } from '../../scripts/real-functions.mjs';
import { type GenLanguage, SyntaxChecker } from '../../src/gen/syntax.js';

const PY = 'def f(a, b):\n';
const JS = 'function f(a, b) {\n';
const TS = 'function f(a: number, b: number[]): number {\n';

const viable: [GenLanguage, string, string][] = [
  ['python', PY, ''],
  ['python', PY, '    return a +'],
  ['python', PY, '    return (a'],
  ['python', PY, '    x = [1, 2,\n        3'],
  ['python', PY, '    s = "abc'],
  ['python', PY, '    s = """doc\n  more'],
  ['python', PY, '    if a'],
  ['python', PY, '    if a > b:\n'],
  ['python', PY, '    for i in range(a):\n        b +='],
  ['python', PY, '    return a if a else'],
  ['python', PY, '    return a.'],
  ['python', PY, '    retu'],
  ['python', PY, '    # a comment with ) and "\n    return a'],
  ['python', PY, '    return a\n'],
  ['javascript', JS, ''],
  ['javascript', JS, '  return a +'],
  ['javascript', JS, '  if (a'],
  ['javascript', JS, '  if (a) {\n    return `x${a'],
  ['javascript', JS, '  const r = /[(]/.test(a'],
  ['javascript', JS, '  return { x: 1,'],
  ['javascript', JS, '  for (let i = 0; i < a; i++) {\n    b +='],
  ['javascript', JS, '  // ) unbalanced in a comment\n  return a'],
  ['javascript', JS, '  return a / b'],
  ['typescript', TS, '  const x: number[] = b.map((v) =>'],
  ['typescript', TS, '  return a as'],
];

const notViable: [GenLanguage, string, string, RegExp][] = [
  ['python', PY, '    return a )', /closes nothing/],
  ['python', PY, '    return [a)', /does not close/],
  ['python', PY, '    s = "abc\n', /inside a string/],
  ['python', PY, '    return a b\n    x = (', /before the line being written/],
  ['python', PY, '    x = = 1\n    return', /before the line being written/],
  ['javascript', JS, '  return a )', /does not close/],
  ['javascript', JS, '  const s = "abc\n', /inside a string/],
  ['javascript', JS, '  return a b;\n  const x = (', /before the line being written/],
  ['typescript', TS, '  let x: = 1;\n  return', /before the line being written/],
];

describe('viable prefixes', () => {
  it.each(viable)('%s: %j + %j is viable', async (language, prefix, body) => {
    const checker = await SyntaxChecker.create(language);
    const start = checker.start(prefix);
    expect(start.viable).toBe(true);
    const result = checker.extend(start.state, body);
    expect(result.reason).toBeUndefined();
    expect(result.viable).toBe(true);
  });

  it.each(notViable)('%s: %j + %j is not viable', async (language, prefix, body, reason) => {
    const checker = await SyntaxChecker.create(language);
    const result = checker.extend(checker.start(prefix).state, body);
    expect(result.viable).toBe(false);
    expect(result.reason).toMatch(reason);
  });

  it('gives the same answer token by token, incrementally, as for the whole text at once', async () => {
    const checker = await SyntaxChecker.create('python');
    const body = '    total = 0\n    for i in range(a):\n        total += i * b\n    return total\n';
    let state = checker.start(PY).state;
    for (let i = 0; i < body.length; i += 3) {
      const piece = body.slice(i, i + 3);
      const step = checker.extend(state, piece);
      const whole = checker.start(PY + body.slice(0, i + 3));
      expect(step.viable).toBe(whole.viable);
      expect(step.state.tree.rootNode.toString()).toBe(whole.state.tree.rootNode.toString());
      state = step.state;
    }
    expect(checker.isComplete(PY + body)).toBe(true);
    expect(checker.isComplete(`${PY}    return (a\n`)).toBe(false);
  });
});

describe('[slow] real code', () => {
  const rxjs = () => (fetchCorpus as (name: string) => string)('rxjs');
  const corpora: [GenLanguage, string, () => string, string][] = [
    [
      'python',
      'the Python standard library',
      () => (fetchCorpus as (name: string) => string)('python-stdlib'),
      '.py',
    ],
    ['typescript', 'rxjs 7.8.1 sources', rxjs, '.ts'],
    ['javascript', 'rxjs 7.8.1 dist/esm', () => path.join(rxjs(), '..', 'dist', 'esm'), '.js'],
  ];
  it.each(corpora)(
    '%s: every prefix of functions of %s is viable, fed four characters at a time',
    async (language, _name, dir, extension) => {
      const functions: string[] = await realFunctions(dir(), extension, language, 150);
      expect(functions.length).toBe(150);
      const checker = await SyntaxChecker.create(language);
      const rejected: string[] = [];
      for (const fn of functions) {
        const split = fn.indexOf(language === 'python' ? ':\n' : '{\n') + 2;
        let state = checker.start(fn.slice(0, split)).state;
        for (let i = split; i < fn.length; i += 4) {
          const step = checker.extend(state, fn.slice(i, i + 4));
          if (!step.viable) rejected.push(`${step.reason}: ${JSON.stringify(step.state.text.slice(-80))}`);
          state = step.state;
        }
        expect(checker.isComplete(state.text)).toBe(true);
      }
      expect(rejected).toEqual([]);
    },
  );
});
