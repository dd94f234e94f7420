/**
 * src/gen/verify.ts: a generated function is run against its spec's examples in the sandbox
 * (python3 or node, real runs), and each result compared as JSON. Candidates that pass, fail
 * some examples, do not parse, throw for one example, loop forever, run out of memory, print
 * fake results or reach for the network; context modules in Python and CommonJS / ES module
 * JavaScript and TypeScript; jsonEqual on its own.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { CommandNotFoundError, detectSandbox } from '../../src/exec/sandbox.js';
import { type GenExample, jsonEqual, type VerifyTarget, verifyCandidate } from '../../src/gen/verify.js';

const noBubblewrap = (await detectSandbox()).kind !== 'bubblewrap';

const ADD_EXAMPLES: GenExample[] = [
  { input: { a: 1, b: 2 }, output: 3 },
  { input: { a: 2, b: 2 }, output: 4 },
  { input: { a: 5, b: -1 }, output: 4 },
];

function target(
  language: VerifyTarget['language'],
  functionName: string,
  parameters: string[],
  examples: GenExample[],
): VerifyTarget {
  return { language, functionName, parameters, examples };
}

const add = (language: VerifyTarget['language']) => target(language, 'add', ['a', 'b'], ADD_EXAMPLES);

describe('candidates that pass', () => {
  it('runs a Python function with keyword arguments', async () => {
    const r = await verifyCandidate('def add(a, b):\n    return a + b\n', add('python'));
    expect(r).toMatchObject({ passed: 3, total: 3, errors: [] });
    expect(r.outcomes).toEqual([
      { passed: true, actual: 3 },
      { passed: true, actual: 4 },
      { passed: true, actual: 4 },
    ]);
    expect(r.sandbox).toBe((await detectSandbox()).kind);
  });

  it('runs a JavaScript function with positional arguments in parameter order', async () => {
    const examples = [{ input: { b: 10, a: 1 }, output: [1, 10] }];
    const r = await verifyCandidate(
      'function pair(a, b) { return [a, b]; }',
      target('javascript', 'pair', ['a', 'b'], examples),
    );
    expect(r).toMatchObject({ passed: 1, total: 1, errors: [] });
  });

  it('runs a CommonJS-style JavaScript candidate', async () => {
    const r = await verifyCandidate(
      'module.exports = function add(a, b) { return a + b; };',
      add('javascript'),
    );
    expect(r).toMatchObject({ passed: 3, total: 3 });
  });

  it('transpiles and runs a TypeScript function with types, an interface and an export', async () => {
    const code = [
      'interface Pair { a: number; b: number }',
      'const sum = ({ a, b }: Pair): number => a + b;',
      'export function add(a: number, b: number): number {',
      '  return sum({ a, b } satisfies Pair);',
      '}',
    ].join('\n');
    const r = await verifyCandidate(code, add('typescript'));
    expect(r).toMatchObject({ passed: 3, total: 3, errors: [] });
  });

  it('awaits an async JavaScript function', async () => {
    const code =
      'async function add(a, b) {\n  await new Promise((r) => setTimeout(r, 5));\n  return a + b;\n}';
    const r = await verifyCandidate(code, add('javascript'));
    expect(r).toMatchObject({ passed: 3, total: 3 });
  });

  it('runs as a plain process when asked to', async () => {
    const r = await verifyCandidate('def add(a, b):\n    return a + b\n', add('python'), {
      prefer: 'process',
    });
    expect(r).toMatchObject({ passed: 3, total: 3, sandbox: 'process' });
  });
});

describe('candidates that fail', () => {
  it('counts the examples that pass and names expected and actual for the others', async () => {
    const r = await verifyCandidate('def add(a, b):\n    return a * b\n', add('python'));
    expect(r.passed).toBe(1);
    expect(r.total).toBe(3);
    expect(r.outcomes.map((o) => o.passed)).toEqual([false, true, false]);
    expect(r.outcomes[0]).toEqual({ passed: false, actual: 2, error: 'expected 3, got 2' });
    expect(r.errors).toEqual(['example 1: expected 3, got 2', 'example 3: expected 4, got -5']);
  });

  it('reports a Python syntax error for every example, with the line in the code', async () => {
    const r = await verifyCandidate('def add(a, b)\n    return a + b\n', add('python'));
    expect(r.passed).toBe(0);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(/^syntax error: .*\(line 1\): def add\(a, b\)$/);
    expect(r.outcomes.every((o) => !o.passed && o.error === r.errors[0])).toBe(true);
  });

  it('reports JavaScript and TypeScript syntax errors with their line', async () => {
    const js = await verifyCandidate('function add(a, b) {\n  return a +* b;\n}', add('javascript'));
    expect(js.passed).toBe(0);
    expect(js.errors).toEqual(["syntax error: Unexpected token '*' (line 2): return a +* b;"]);
    const ts = await verifyCandidate(
      'export function add(a: number, b: number {\n  return a + b;\n}',
      add('typescript'),
    );
    expect(ts.passed).toBe(0);
    expect(ts.errors[0]).toMatch(/^syntax error: .*\(line 1\)/);
    expect(ts.outcomes).toHaveLength(3);
  });

  it('fails every example when the function is missing or the code cannot load', async () => {
    const missing = await verifyCandidate('def plus(a, b):\n    return a + b\n', add('python'));
    expect(missing.passed).toBe(0);
    expect(missing.errors).toEqual(["the code defines no function named 'add'"]);
    const badImport = await verifyCandidate(
      'import no_such_module_x\ndef add(a, b):\n    return a + b\n',
      add('python'),
    );
    expect(badImport.errors).toEqual([
      "failed to load: ModuleNotFoundError: No module named 'no_such_module_x' (line 1)",
    ]);
    const jsMissing = await verifyCandidate('function plus(a, b) { return a + b; }', add('javascript'));
    expect(jsMissing.errors).toEqual(['the code defines no function named "add"']);
  });

  it('fails only the example a Python function raises for, naming the exception and line', async () => {
    const code = 'def add(a, b):\n    if b < 0:\n        raise ValueError("negative b")\n    return a + b\n';
    const r = await verifyCandidate(code, add('python'));
    expect(r.outcomes.map((o) => o.passed)).toEqual([true, true, false]);
    expect(r.errors).toEqual(['example 3: ValueError: negative b (line 3)']);
  });

  it('fails only the example a JavaScript function throws for, also for sys.exit-like exits', async () => {
    const code = 'function add(a, b) {\n  if (b < 0) throw new RangeError("negative b");\n  return a + b;\n}';
    const r = await verifyCandidate(code, add('javascript'));
    expect(r.outcomes.map((o) => o.passed)).toEqual([true, true, false]);
    expect(r.errors).toEqual(['example 3: RangeError: negative b (line 2)']);

    const exits = await verifyCandidate(
      'import sys\ndef add(a, b):\n    if a == 1:\n        sys.exit(3)\n    return a + b\n',
      add('python'),
    );
    expect(exits.outcomes.map((o) => o.passed)).toEqual([false, true, true]);
    expect(exits.errors).toEqual(['example 1: SystemExit: 3 (line 4)']);
  });

  it('fails an async JavaScript function that rejects for one example', async () => {
    const code = 'async function add(a, b) {\n  if (b < 0) throw new Error("no");\n  return a + b;\n}';
    const r = await verifyCandidate(code, add('javascript'));
    expect(r.passed).toBe(2);
    expect(r.errors).toEqual(['example 3: Error: no (line 2)']);
  });

  it('stops a Python candidate that loops forever at the time limit, keeping the examples already done', async () => {
    const code = 'def add(a, b):\n    while a == 2:\n        pass\n    return a + b\n';
    const r = await verifyCandidate(code, add('python'), { timeLimitMs: 1500 });
    expect(r.outcomes).toEqual([
      { passed: true, actual: 3 },
      { passed: false, error: 'timed out' },
      { passed: false, error: 'timed out' },
    ]);
    expect(r.errors).toEqual(['timed out after 1500 ms']);
  });

  it('stops a JavaScript candidate that loops forever at the time limit', async () => {
    const r = await verifyCandidate('function add(a, b) { for (;;) {} }', add('javascript'), {
      timeLimitMs: 1500,
    });
    expect(r.passed).toBe(0);
    expect(r.outcomes.every((o) => o.error === 'timed out')).toBe(true);
    expect(r.errors).toEqual(['timed out after 1500 ms']);
  });

  it('reports the memory limit, for the one example in Python and for the rest when Node.js dies', async () => {
    const py = await verifyCandidate(
      'def add(a, b):\n    if a == 2:\n        return len(bytearray(1 << 30))\n    return a + b\n',
      add('python'),
      { memoryLimitMb: 256 },
    );
    expect(py.outcomes.map((o) => o.error)).toEqual([undefined, 'exceeded the memory limit', undefined]);
    expect(py.errors).toEqual(['example 2: exceeded the memory limit (256 MiB)']);

    const code =
      'function add(a, b) {\n  if (a === 2) { const keep = []; for (;;) keep.push(new Array(1e6).fill(a)); }\n  return a + b;\n}';
    const js = await verifyCandidate(code, add('javascript'), { memoryLimitMb: 1536, timeLimitMs: 30_000 });
    expect(js.outcomes.map((o) => o.error)).toEqual([
      undefined,
      'exceeded the memory limit',
      'exceeded the memory limit',
    ]);
    expect(js.errors).toEqual(['exceeded the memory limit (1536 MiB)']);
  });
});

describe('results compared as JSON', () => {
  it('compares a Python tuple as an array and floats with a relative tolerance', async () => {
    const examples = [
      { input: { x: 0.1, y: 0.2 }, output: [0.30000000000000004, 'sum'] },
      { input: { x: 0.1, y: 0.2 }, output: [0.3, 'sum'] },
      { input: { x: 1, y: 1e-6 }, output: [1, 'sum'] },
    ];
    const r = await verifyCandidate(
      'def total(x, y):\n    return (x + y, "sum")\n',
      target('python', 'total', ['x', 'y'], examples),
    );
    expect(r.outcomes.map((o) => o.passed)).toEqual([true, true, false]);
    expect(r.outcomes[1]!.actual).toEqual([0.30000000000000004, 'sum']);
    expect(r.errors).toEqual(['example 3: expected [1,"sum"], got [1.000001,"sum"]']);
  });

  it('gives Python sets, NaN, bytes, dataclasses and dict keys a JSON form, and fails what has none', async () => {
    const code = [
      'import dataclasses',
      '@dataclasses.dataclass',
      'class P:',
      '    x: int',
      '    y: list',
      'class Opaque:',
      '    pass',
      'def conv(n):',
      '    if n == 0: return {3, 1, 2}',
      '    if n == 1: return float("nan")',
      '    if n == 2: return b"hi"',
      '    if n == 3: return P(1, [2])',
      '    if n == 4: return {1: True, None: (1,)}',
      '    if n == 5: return Opaque()',
      '    return (i for i in range(2))',
    ].join('\n');
    const outputs = [[1, 2, 3], 'NaN', 'hi', { x: 1, y: [2] }, { 1: true, null: [1] }, null, null];
    const examples = outputs.map((output, n) => ({ input: { n }, output }));
    const r = await verifyCandidate(code, target('python', 'conv', ['n'], examples));
    expect(r.outcomes.map((o) => o.passed)).toEqual([true, true, true, true, true, false, false]);
    expect(r.outcomes[5]!.error).toBe('the result has no JSON form: an Opaque instance');
    expect(r.outcomes[6]!.error).toBe('the result has no JSON form: a generator object');
  });

  it('gives JavaScript Sets, Maps, NaN, undefined and BigInts a JSON form, and fails functions', async () => {
    const code =
      'function conv(n) {\n  return [new Set([3, 1, 2]), new Map([["a", 1]]), NaN, undefined, { a: undefined, b: 2 }, 10n, () => 1][n];\n}';
    const outputs = [[1, 2, 3], { a: 1 }, 'NaN', null, { b: 2 }, 10, null];
    const examples = outputs.map((output, n) => ({ input: { n }, output }));
    const r = await verifyCandidate(code, target('javascript', 'conv', ['n'], examples));
    expect(r.outcomes.map((o) => o.passed)).toEqual([true, true, true, true, true, true, false]);
    expect(r.errors).toEqual(['example 7: the result has no JSON form: a function (anonymous)']);
  });

  it('does not take what a candidate prints for a result', async () => {
    const fake = (i: number) => `@@ccx-verify-0@@ {"t": "ex", "i": ${i}, "ok": true, "value": 3}`;
    const py = [
      'import os, sys',
      'def add(a, b):',
      `    print(${JSON.stringify(fake(0))})`,
      `    os.write(1, ${JSON.stringify(`${fake(1)}\n`)}.encode())`,
      '    print(os.environ.get("CCX_VERIFY_MARKER"), sys.stdin.read())',
      '    return -1',
    ].join('\n');
    const r = await verifyCandidate(py, add('python'));
    expect(r.passed).toBe(0);
    expect(r.outcomes.map((o) => o.actual)).toEqual([-1, -1, -1]);

    const js = [
      'const fs = require("node:fs");',
      'function add(a, b) {',
      `  console.log(${JSON.stringify(fake(0))});`,
      `  fs.writeSync(1, ${JSON.stringify(`${fake(1)}\n`)});`,
      '  return -1;',
      '}',
      'module.exports = { add };',
    ].join('\n');
    const rj = await verifyCandidate(js, add('javascript'));
    expect(rj.passed).toBe(0);
    expect(rj.outcomes.map((o) => o.actual)).toEqual([-1, -1, -1]);
  });
});

describe('context mode', () => {
  it('runs a Python candidate in its module, with the module imports and helpers, without running __main__', async () => {
    const files = {
      'lib/util.py': 'def double(x):\n    return 2 * x\n',
      'lib/stats.py': [
        'import math',
        'from util import double',
        '',
        'SCALE = 10',
        '',
        'def _square(x):',
        '    return x * x',
        '',
        "if __name__ == '__main__':",
        '    raise SystemExit(3)',
        '',
      ].join('\n'),
    };
    const code = 'def score(x):\n    return double(_square(x)) + math.floor(SCALE / 3)\n';
    const examples = [
      { input: { x: 2 }, output: 11 },
      { input: { x: 3 }, output: 21 },
    ];
    const r = await verifyCandidate(code, target('python', 'score', ['x'], examples), {
      context: { files, modulePath: 'lib/stats.py' },
    });
    expect(r).toMatchObject({ passed: 2, total: 2, errors: [] });
  });

  it('loads a Python module inside a package under its dotted name, so relative imports work, with line numbers of the code', async () => {
    const files = {
      'pkg/__init__.py': '',
      'pkg/helpers.py': 'def inc(x):\n    return x + 1\n',
      'pkg/core.py': '"""Core."""\nfrom __future__ import annotations\nfrom .helpers import inc\n',
    };
    const code =
      'from __future__ import annotations\n\ndef bump(x: int) -> int:\n    if x < 0:\n        raise ValueError(__name__)\n    return inc(x)\n';
    const examples = [
      { input: { x: 1 }, output: 2 },
      { input: { x: -1 }, output: 0 },
    ];
    const r = await verifyCandidate(code, target('python', 'bump', ['x'], examples), {
      context: { files, modulePath: 'pkg/core.py' },
    });
    expect(r.passed).toBe(1);
    expect(r.errors).toEqual(['example 2: ValueError: pkg.core (line 5)']);
  });

  it('runs a CommonJS candidate in its module, with a helper and a require of a relative file', async () => {
    const files = {
      'lib/square.js': 'exports.square = (x) => x * x;\n',
      'lib/math.js': [
        "const { square } = require('./square');",
        'const OFFSET = 1;',
        'function helper(x) {',
        '  return square(x) + OFFSET;',
        '}',
        'module.exports = Object.freeze({ helper });',
        '',
      ].join('\n'),
    };
    const code =
      'function twice(x) {\n  if (x < 0) throw new TypeError("negative");\n  return 2 * helper(x);\n}';
    const examples = [
      { input: { x: 2 }, output: 10 },
      { input: { x: 0 }, output: 2 },
      { input: { x: -1 }, output: 4 },
    ];
    const r = await verifyCandidate(code, target('javascript', 'twice', ['x'], examples), {
      context: { files, modulePath: 'lib/math.js' },
    });
    expect(r.passed).toBe(2);
    expect(r.errors).toEqual(['example 3: TypeError: negative (line 2)']);
  });

  it('runs a candidate in an ES module (package.json type module) and in a TypeScript module', async () => {
    const files = {
      'package.json': '{ "type": "module" }\n',
      'src/square.js': 'export const square = (x) => x * x;\n',
      'src/math.js': "import { square } from './square.js';\nexport const OFFSET = 1;\n",
    };
    const examples = [{ input: { x: 3 }, output: 10 }];
    const esm = await verifyCandidate(
      'export function next(x) {\n  return square(x) + OFFSET;\n}',
      target('javascript', 'next', ['x'], examples),
      { context: { files, modulePath: 'src/math.js' } },
    );
    expect(esm).toMatchObject({ passed: 1, total: 1 });

    const tsFiles = {
      'src/square.ts': 'export const square = (x: number): number => x * x;\n',
      'src/math.ts': "import { square } from './square.js';\nexport const OFFSET: number = 1;\n",
    };
    const ts = await verifyCandidate(
      'export function next(x: number): number {\n  return square(x) + OFFSET;\n}',
      target('typescript', 'next', ['x'], examples),
      { context: { files: tsFiles, modulePath: 'src/math.ts' } },
    );
    expect(ts).toMatchObject({ passed: 1, total: 1 });
  });

  it('refuses context paths outside the environment and a module not among the files', async () => {
    const t = target('python', 'f', [], []);
    await expect(
      verifyCandidate('', t, { context: { files: { '../x.py': '' }, modulePath: '../x.py' } }),
    ).rejects.toThrow(UsageError);
    await expect(
      verifyCandidate('', t, { context: { files: { 'a.py': '' }, modulePath: 'b.py' } }),
    ).rejects.toThrow(UsageError);
  });
});

describe('the sandbox', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket) => {
      connections++;
      socket.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it.skipIf(noBubblewrap)('refuses the candidate the network under bubblewrap', async () => {
    const code = [
      'import socket',
      'def probe(port):',
      '    try:',
      '        socket.create_connection(("127.0.0.1", port), timeout=3).close()',
      '        return "connected"',
      '    except OSError:',
      '        return "blocked"',
    ].join('\n');
    const r = await verifyCandidate(
      code,
      target('python', 'probe', ['port'], [{ input: { port }, output: 'blocked' }]),
    );
    expect(r.sandbox).toBe('bubblewrap');
    expect(r.outcomes).toEqual([{ passed: true, actual: 'blocked' }]);
    expect(connections).toBe(0);
  });

  it('removes its temporary directories', async () => {
    const ours = () => readdirSync(tmpdir()).filter((n) => n.startsWith('ccx-verify-'));
    const before = ours();
    await verifyCandidate('def add(a, b):\n    return a + b\n', add('python'));
    await verifyCandidate('function add(a, b) { for (;;) {} }', add('javascript'), { timeLimitMs: 500 });
    expect(ours()).toEqual(before);
  });

  it('throws CommandNotFoundError, not a verdict, when python3 is not on PATH', async () => {
    const saved = process.env.PATH;
    const empty = mkdtempSync(path.join(tmpdir(), 'ccx-test-empty-path-'));
    process.env.PATH = empty;
    try {
      await expect(verifyCandidate('def add(a, b):\n    return a + b\n', add('python'))).rejects.toThrow(
        CommandNotFoundError,
      );
    } finally {
      process.env.PATH = saved;
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('refuses a memory limit Node.js cannot start under', async () => {
    await expect(verifyCandidate('', add('javascript'), { memoryLimitMb: 512 })).rejects.toThrow(UsageError);
  });
});

describe('jsonEqual', () => {
  it('compares numbers with a relative tolerance of 1e-9', () => {
    expect(jsonEqual(0.1 + 0.2, 0.3)).toBe(true);
    expect(jsonEqual(1e20 + 1e10, 1e20)).toBe(true);
    expect(jsonEqual(1.000001, 1)).toBe(false);
    expect(jsonEqual(1e-20, 0)).toBe(false);
    expect(jsonEqual(0, -0)).toBe(true);
  });

  it('ignores object key order and compares arrays in order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual({ a: 1, b: 2 }, { a: 1, c: 2 })).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
    expect(jsonEqual({ 0: 'x' }, ['x'])).toBe(false);
  });

  it('does not mix types', () => {
    expect(jsonEqual(1, true)).toBe(false);
    expect(jsonEqual('1', 1)).toBe(false);
    expect(jsonEqual(null, 0)).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual(null, null)).toBe(true);
    expect(jsonEqual('NaN', 'NaN')).toBe(true);
  });
});
