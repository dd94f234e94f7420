/**
 * `ccx gen` end to end: techniques on tiny models with hand-set weights (scripts/tiny-model.mjs),
 * verification choosing the passing candidate, retrieval from a chunked store (a fixture and the
 * Python standard library's colorsys), the result against shared/spec/gen-result.schema.json,
 * and the errors a user meets: an invalid spec, no model, no CUDA provider.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { writeDecoderModel } from '../../scripts/tiny-model.mjs';
import { chunk } from '../../src/chunking/chunk.js';
import { GEN_HELP_AFTER } from '../../src/cli/commands/gen.js';
import { buildRagPrompt, confidenceScore, type GenResult, gen } from '../../src/gen/gen.js';
import { GEN_RESULT_SCHEMA, GEN_SPEC_SCHEMA } from '../../src/gen/schemas.js';
import { buildFunctionHeader, SpecError, validateSpec } from '../../src/gen/spec.js';
import { copyFixture, makeTemp, REPO_ROOT, removeTemps, runCcx, SPEC_DIR } from '../helpers/cli.js';
import { ADD_BIGRAM, ADD_TOKENS } from '../helpers/tiny-models.js';

afterAll(removeTemps);

const SPECS = path.join(REPO_ROOT, 'fixtures', 'gen', 'specs');
const spec = (name: string) => path.join(SPECS, name);

const ajv = new Ajv2020.default({ allErrors: true, strict: false });
const validateResult = ajv.compile(
  JSON.parse(readFileSync(path.join(SPEC_DIR, 'gen-result.schema.json'), 'utf8')),
);
function expectValidResult(result: unknown): void {
  const ok = validateResult(result);
  expect(ajv.errorsText(validateResult.errors)).toBe('No errors');
  expect(ok).toBe(true);
}

let addModel: string;
let pyRoot: string;

beforeAll(async () => {
  addModel = path.join(makeTemp('ccx-gen-model-'), 'add');
  writeDecoderModel(addModel, { tokens: ADD_TOKENS, bigram: ADD_BIGRAM, fp16: true });
  pyRoot = copyFixture('gen/retrieval');
  await chunk({ root: pyRoot, manifest: false });
});

describe('the spec', () => {
  it('keeps the schemas copied in src/gen/schemas.ts equal to shared/spec', () => {
    expect(GEN_SPEC_SCHEMA).toEqual(
      JSON.parse(readFileSync(path.join(SPEC_DIR, 'gen-spec.schema.json'), 'utf8')),
    );
    expect(GEN_RESULT_SCHEMA).toEqual(
      JSON.parse(readFileSync(path.join(SPEC_DIR, 'gen-result.schema.json'), 'utf8')),
    );
  });

  it('lists every problem of an invalid spec', async () => {
    const bad = JSON.parse(readFileSync(spec('invalid.json'), 'utf8'));
    const error = await validateSpec(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    const problems = (error as SpecError).problems.join('\n');
    expect(problems).toMatch(/language must be equal to one of the allowed values/);
    expect(problems).toMatch(/ast\.parameters\.1 must have required property 'name'/);
    expect(problems).toMatch(/examples\.0 must have required property 'output'/);
    // What the schema cannot say, once the schema holds.
    const semantic = await validateSpec({
      function_name: '2add',
      language: 'python',
      ast: { name: 'add', parameters: [{ name: 'a' }, { name: 'a', default: 1 }] },
      examples: [{ input: { c: 1 }, output: 1 }],
    }).catch((e: unknown) => (e as SpecError).problems);
    expect(semantic).toEqual([
      'function_name "2add" is not a python identifier',
      'parameter "a" is given twice',
      'examples.0.input names "c", which is not a parameter',
      'examples.0.input lacks "a", which has no default',
    ]);
  });

  it('builds the signature and doc comment each language expects', async () => {
    const py = buildFunctionHeader(
      await validateSpec({
        function_name: 'scale',
        language: 'python',
        description: 'Scale the values.',
        ast: {
          name: 'scale',
          parameters: [
            { name: 'values', type: 'number[]' },
            { name: 'factor', type: 'float', default: 2 },
            { name: 'strict', type: 'boolean', default: false },
            { name: 'unit', type: 'Unit' },
          ],
          return_type: 'list[float]',
        },
        examples: [{ input: { values: [1], unit: null }, output: [2] }],
      }),
    );
    expect(py.prefix).toBe(
      'def scale(values: list[float], factor: float = 2, strict: bool = False, unit: "Unit") -> list[float]:\n' +
        '    """Scale the values.\n\n    >>> scale(values=[1], unit=None)\n    [2]\n    """\n',
    );
    const ts = buildFunctionHeader(
      await validateSpec({
        function_name: 'scale',
        language: 'typescript',
        ast: {
          name: 'scale',
          parameters: [
            { name: 'values', type: 'list[int]' },
            { name: 'factor', default: 2 },
          ],
          return_type: 'int',
        },
      }),
    );
    expect(ts.prefix).toBe(
      '/**\n * @param values\n * @param factor\n */\nfunction scale(values: number[], factor = 2): number {\n',
    );
  });
});

describe('techniques on a tiny model', () => {
  it('keeps the beam candidate that passes the examples over the greedy one that does not', async () => {
    const { result } = await gen({ spec: spec('add.json'), technique: 'all', model: addModel, root: pyRoot });
    expectValidResult(result);
    expect(result.status).toBe('success');
    expect(result.request_id).toBe('add-1');
    expect(result.result.program_ast.code).toMatch(/\n {4}return b \+ a\n$/);
    expect(result.result.model?.device).toBe('cpu');
    const byStrategy = (s: string) => result.result.candidates.filter((c) => c.strategy === s);
    expect(byStrategy('greedy')).toHaveLength(1);
    expect(byStrategy('greedy')[0]!.passed).toBe(0);
    expect(byStrategy('greedy')[0]!.errors?.[0]).toMatch(/^example 1: expected 3, got /);
    expect(byStrategy('beam').some((c) => c.passed === 2)).toBe(true);
    // Hierarchical: the outline is in the code, and the plain beams stand beside it.
    expect(
      byStrategy('hierarchical').some((c) => c.code.includes('    # Steps:\n    # 1. add b to a\n')),
    ).toBe(true);
    expect(byStrategy('rag').length).toBeGreaterThan(0);
    // Ranked by passes, then log-probability.
    const passes = result.result.candidates.map((c) => c.passed);
    expect(passes).toEqual([...passes].sort((a, b) => b - a));
    expect(result.result.confidence_score).toBeGreaterThan(0.5);
    expect(result.result.confidence_score).toBeLessThanOrEqual(1);
  });

  it('says greedy alone is unverified, with confidence below one half', async () => {
    const { result } = await gen({ spec: spec('add.json'), technique: 'greedy', model: addModel });
    expectValidResult(result);
    expect(result.status).toBe('unverified');
    expect(result.result.confidence_score).toBe(0);
    expect(result.result.strategy).toBe('greedy');
  });

  it('keeps both the outline and the plain beams for hierarchical alone', async () => {
    const { result } = await gen({ spec: spec('add.json'), technique: 'hierarchical', model: addModel });
    const strategies = new Set(result.result.candidates.map((c) => c.strategy));
    expect(strategies).toEqual(new Set(['hierarchical', 'hierarchical-without-outline']));
    expect(result.status).toBe('success');
  });

  it('draws seeded samples: the same seed gives the same candidates', async () => {
    const first = await gen({
      spec: spec('add.json'),
      technique: 'sample',
      model: addModel,
      samples: 6,
      seed: 1,
    });
    const again = await gen({
      spec: spec('add.json'),
      technique: 'sample',
      model: addModel,
      samples: 6,
      seed: 1,
    });
    expectValidResult(first.result);
    expect(first.result.result.seed).toBe(1);
    expect(first.result.result.candidates.every((c) => c.strategy === 'sample')).toBe(true);
    expect(again.result.result.candidates.map((c) => c.code)).toEqual(
      first.result.result.candidates.map((c) => c.code),
    );
    // Six samples of a two-way choice find both bodies here; the passing one is chosen.
    expect(first.result.result.candidates.length).toBeGreaterThan(1);
    expect(first.result.status).toBe('success');
  });

  it('reads the fp16 file with --dtype fp16 and finds the same function', async () => {
    const { result } = await gen({
      spec: spec('add.json'),
      technique: 'beam',
      model: addModel,
      dtype: 'fp16',
    });
    expect(result.result.model?.dtype).toBe('fp16');
    expect(result.result.program_ast.code).toMatch(/return b \+ a\n$/);
  });

  it('computes confidence from passes and the mean token probability', () => {
    expect(confidenceScore(2, 2, Math.log(1))).toBe(1);
    expect(confidenceScore(2, 2, Math.log(0.5))).toBe(0.75);
    expect(confidenceScore(1, 2, undefined)).toBe(0.5);
    expect(confidenceScore(0, 0, Math.log(0.8))).toBe(0.4);
  });
});

describe('retrieval from the store', () => {
  it('puts the relevant chunks in the rag prompt and records their ids', async () => {
    // The tiny model has 512 positions and writes about a byte a token: leave room for the context.
    const { result } = await gen({
      spec: spec('count-vowels.json'),
      technique: 'rag',
      model: addModel,
      root: pyRoot,
      maxNewTokens: 24,
    });
    expectValidResult(result);
    expect(result.result.retrieved?.[0]).toBe('pylib/strings.py#count_vowels');
    const header = buildFunctionHeader(JSON.parse(readFileSync(spec('count-vowels.json'), 'utf8')));
    const prompt = buildRagPrompt(JSON.parse(readFileSync(spec('count-vowels.json'), 'utf8')), header, [
      {
        id: 'x.py#f',
        name: 'f',
        kind: 'function',
        language: 'python',
        file: 'x.py',
        score: 1,
        text: 'def f():\n    return 1\n',
        startLine: 1,
      },
    ]);
    expect(prompt).toBe(
      `# the below code fragment can be found in: x.py\n# def f():\n#     return 1\n\n${header.prefix}`,
    );
  });

  it('retrieve finds an existing Python function, renames it and verifies it, with no model', async () => {
    const { result } = await gen({ spec: spec('count-vowels.json'), technique: 'retrieve', root: pyRoot });
    expectValidResult(result);
    expect(result.status).toBe('success');
    expect(result.result.model).toBeNull();
    expect(result.result.strategy).toBe('retrieve');
    expect(result.result.retrieved?.[0]).toBe('pylib/strings.py#count_vowels');
    expect(result.result.program_ast.code).toMatch(/^def vowel_count\(text\):/);
  });

  it('retrieve verifies a JavaScript function in its module', async () => {
    const { result } = await gen({ spec: spec('gcd.json'), technique: 'retrieve', root: pyRoot });
    expect(result.status).toBe('success');
    expect(result.result.program_ast.code).toMatch(/function greatestCommonDivisor\(a, b\)/);
    expect(result.result.program_ast.code).toMatch(/greatestCommonDivisor\(b, a % b\)/);
  });

  it('[slow] retrieve finds colorsys.rgb_to_hsv in the Python standard library from a spec written for it', async () => {
    const stdlib = (
      await execa('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'])
    ).stdout.trim();
    const root = makeTemp('ccx-gen-stdlib-');
    for (const file of [
      'colorsys.py',
      'textwrap.py',
      'bisect.py',
      'heapq.py',
      'statistics.py',
      'fractions.py',
    ])
      copyFileSync(path.join(stdlib, file), path.join(root, file));
    const chunked = await runCcx(['chunk', root, '--quiet']);
    expect(chunked.exitCode).toBe(0);
    const out = await runCcx([
      'gen',
      '--spec',
      spec('rgb-to-hsv.json'),
      '--technique',
      'retrieve',
      '--root',
      root,
      '--json',
    ]);
    expect(out.exitCode).toBe(0);
    const result = JSON.parse(out.stdout) as GenResult;
    expectValidResult(result);
    expect(result.status).toBe('success');
    expect(result.result.retrieved?.[0]).toBe('colorsys.py#rgb_to_hsv');
    expect(result.result.program_ast.code).toMatch(
      /^def rgb_to_hsv_color\(r, g, b\):\n {4}maxc = max\(r, g, b\)/,
    );
    expect(result.result.candidates[0]!.passed).toBe(3);
  });
});

describe('ccx gen (CLI)', () => {
  it('documents the techniques, models and exit codes in --help', async () => {
    const help = await runCcx(['gen', '--help']);
    expect(help.exitCode).toBe(0);
    for (const option of [
      '--spec',
      '--technique',
      '--model',
      '--device',
      '--dtype',
      '--beams',
      '--samples',
      '--max-new-tokens',
      '--seed',
      '--output',
      '--json',
      '--store',
    ])
      expect(help.stdout).toContain(option);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(GEN_HELP_AFTER.trim().replace(/\s+/g, ' '));
  });

  it('prints a summary and the code, exits 0 on success and 1 when nothing passes', async () => {
    const ok = await runCcx(['gen', '--spec', spec('add.json'), '--model', addModel, '--technique', 'beam']);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/^success: add by beam, 2\/2 examples pass, confidence 0\.\d+/);
    expect(ok.stdout).toMatch(/\n {4}return b \+ a\n$/);
    const greedy = await runCcx([
      'gen',
      '--spec',
      spec('add.json'),
      '--model',
      addModel,
      '--technique',
      'greedy',
      '--json',
    ]);
    expect(greedy.exitCode).toBe(1);
    expect(JSON.parse(greedy.stdout).status).toBe('unverified');
  });

  it('writes only the code with --output', async () => {
    const dir = makeTemp('ccx-gen-out-');
    const file = path.join(dir, 'add.py');
    const out = await runCcx([
      'gen',
      '--spec',
      spec('add.json'),
      '--model',
      addModel,
      '--technique',
      'beam',
      '--output',
      file,
    ]);
    expect(out.exitCode).toBe(0);
    expect(out.stdout).toBe('');
    expect(readFileSync(file, 'utf8')).toMatch(/^def add\(a, b\):\n[\s\S]*return b \+ a\n$/);
  });

  it('lists what is wrong with a spec and exits 2', async () => {
    const out = await runCcx(['gen', '--spec', spec('invalid.json'), '--technique', 'retrieve']);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/^error: .*invalid\.json is not a valid ccx gen spec:\n {2}- /);
    expect(out.stderr).toMatch(/ {2}- examples\.0 must have required property 'output'/);
    expect(out.stderr).toMatch(/hint: the format is shared\/spec\/gen-spec\.schema\.json/);
    const dir = makeTemp('ccx-gen-bad-');
    writeFileSync(path.join(dir, 'broken.json'), '{"function_name": ');
    const broken = await runCcx(['gen', '--spec', path.join(dir, 'broken.json')]);
    expect(broken.exitCode).toBe(2);
    expect(broken.stderr).toMatch(/not valid JSON/);
  });

  it('says how to get a model when a technique needs one, and runs retrieve alone without one', async () => {
    const beam = await runCcx(['gen', '--spec', spec('add.json'), '--technique', 'beam']);
    expect(beam.exitCode).toBe(2);
    expect(beam.stderr).toMatch(/needs a model: pass --model DIR or set CCX_MODEL/);
    expect(beam.stderr).toMatch(/ccx model pull REPO_ID/);
    const all = await runCcx(['gen', '--spec', spec('count-vowels.json'), '--root', pyRoot, '--json']);
    expect(all.exitCode).toBe(0);
    expect(all.stderr).toMatch(/no model: only retrieve ran/);
    expect(JSON.parse(all.stdout).result.strategy).toBe('retrieve');
  });

  it('refuses --device cuda without the CUDA provider, naming the install flag; --device auto says it chose the CPU', async () => {
    const empty = makeTemp('ccx-ort-bin-');
    const env = { CCX_ORT_BIN_DIR: empty };
    const cuda = await runCcx(
      ['gen', '--spec', spec('add.json'), '--model', addModel, '--technique', 'greedy', '--device', 'cuda'],
      { env },
    );
    expect(cuda.exitCode).toBe(2);
    expect(cuda.stderr).toMatch(
      /error: --device cuda: onnxruntime-node was installed without its CUDA provider/,
    );
    expect(cuda.stderr).toMatch(/--onnxruntime-node-install=cuda12/);
    const auto = await runCcx(
      [
        'gen',
        '--spec',
        spec('add.json'),
        '--model',
        addModel,
        '--technique',
        'beam',
        '--device',
        'auto',
        '--json',
      ],
      { env },
    );
    expect(auto.exitCode).toBe(0);
    expect(auto.stderr).toMatch(
      /--device auto: CPU \(onnxruntime-node was installed without its CUDA provider/,
    );
    expect(JSON.parse(auto.stdout).result.model.device).toBe('cpu');
  });

  it('explains a model directory that is not one', async () => {
    const dir = makeTemp('ccx-not-model-');
    mkdirSync(path.join(dir, 'onnx'));
    writeFileSync(path.join(dir, 'config.json'), '{}');
    writeFileSync(path.join(dir, 'tokenizer.json'), '{}');
    const out = await runCcx(['gen', '--spec', spec('add.json'), '--model', dir, '--technique', 'greedy']);
    expect(out.exitCode).toBe(2);
    expect(out.stderr).toMatch(/has no fp32 model \(looked for onnx\/model\.onnx\)/);
  });
});
