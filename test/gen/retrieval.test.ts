/**
 * Repository retrieval for `ccx gen` (src/gen/retrieval.ts): the BM25 index over a snapshot's
 * chunks, prompt budgets, the embedding re-ranking hook, and the `retrieve` technique (signature
 * fit, renaming, the files a candidate runs in) on fixtures/gen/retrieval and on modules of the
 * Python standard library.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { writeEmbeddingModel } from '../../scripts/tiny-model.mjs';
import { chunk } from '../../src/chunking/chunk.js';
import { loadHeadSnapshot, loadSnapshotManifest } from '../../src/chunking/snapshot.js';
import {
  buildChunkIndex,
  type ChunkIndex,
  type EmbedTexts,
  findRetrieveCandidates,
  type RetrievedChunk,
  readFunctionSignature,
  rerankWithEmbeddings,
  selectForPrompt,
  specLanguages,
  specQueryTerms,
  tokenizeCode,
} from '../../src/gen/retrieval.js';
import type { GenParameter, GenSpec } from '../../src/gen/spec-types.js';
import type { Manifest } from '../../src/manifest.js';
import { loadEmbedder } from '../../src/predict/embeddings.js';
import { type ChunkStore, openStore, type Snapshot } from '../../src/store/store.js';
import { copyFixture, makeTemp, removeTemps } from '../helpers/cli.js';

afterAll(removeTemps);

function spec(
  function_name: string,
  language: GenSpec['language'],
  parameters: Array<string | GenParameter>,
  description = '',
): GenSpec {
  return {
    function_name,
    language,
    description,
    ast: {
      name: function_name,
      parameters: parameters.map((p) => (typeof p === 'string' ? { name: p } : p)),
    },
  };
}

interface Opened {
  root: string;
  store: ChunkStore;
  snapshot: Snapshot;
  manifest: Manifest;
}

/** Chunks a directory and opens its store at the head snapshot (closed by the caller). */
async function chunkAndOpen(root: string): Promise<Opened> {
  await chunk({ root, manifest: false });
  const store = await openStore(path.join(root, '.ccx'), { create: false });
  const snapshot = await loadHeadSnapshot(store, root);
  const manifest = await loadSnapshotManifest(store, snapshot);
  return { root, store, snapshot, manifest };
}

/** Writes a candidate's files into a fresh directory with its code appended to its module. */
function materialize(files: Record<string, string>, modulePath: string, code: string): string {
  const dir = makeTemp('ccx-retrieve-run-');
  for (const [rel, text] of Object.entries(files)) {
    const full = path.join(dir, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, rel === modulePath ? `${text}\n\n${code}\n` : text);
  }
  return dir;
}

async function runPython(cwd: string, script: string): Promise<string> {
  const result = await execa('python3', ['-c', script], { cwd, reject: false });
  expect(result.stderr).toBe('');
  expect(result.exitCode).toBe(0);
  return String(result.stdout).trim();
}

describe('retrieval on fixtures/gen/retrieval', () => {
  let opened: Opened;
  let index: ChunkIndex;

  beforeAll(async () => {
    opened = await chunkAndOpen(copyFixture('gen/retrieval'));
    index = await buildChunkIndex(opened.store, opened.manifest);
  });
  afterAll(async () => {
    await opened?.store.close();
  });

  describe('terms', () => {
    it('splits identifiers into sub-tokens and drops stop words, keywords and single letters', () => {
      expect(tokenizeCode('parseQueryString')).toEqual(['parse', 'query', 'string']);
      expect(tokenizeCode('rgb_to_hsv(r, g, b)')).toEqual(['rgb', 'hsv']);
      expect(tokenizeCode('rgb2hsv HTTPServer base64')).toEqual([
        'rgb2hsv',
        'rgb',
        'hsv',
        'http',
        'server',
        'base64',
        'base',
      ]);
      expect(tokenizeCode('def f(self): return None  # the values of the entries')).toEqual([
        'value',
        'entry',
      ]);
      expect(tokenizeCode('const x = function () { return this.total }')).toEqual(['total']);
    });

    it('queries a spec by name (with ordered bigrams), description, parameters and return type', () => {
      const terms = specQueryTerms({
        ...spec('rgb_to_hsv_color', 'python', [{ name: 'red_level', type: 'float' }], 'Convert colors'),
        ast: { name: 'x', parameters: [{ name: 'red_level', type: 'float' }], return_type: 'tuple' },
      });
      expect(terms).toEqual([
        'rgb',
        'hsv',
        'color',
        'rgb_hsv',
        'hsv_color',
        'convert',
        'red',
        'level',
        'float',
        'tuple',
      ]);
    });

    it('maps a spec language to the chunk languages it can use', () => {
      expect(specLanguages('python')).toEqual(['python']);
      expect(specLanguages('javascript')).toEqual(['typescript', 'tsx', 'javascript']);
      expect(specLanguages('typescript')).toEqual(specLanguages('javascript'));
    });
  });

  describe('the BM25 index', () => {
    it('holds one document per function, method, class and function-valued variable', () => {
      const expected = opened.manifest.chunks.filter((c) => ['function', 'method', 'class'].includes(c.kind));
      expect(index.size).toBe(expected.length + 1);
      const lerp = index.search('linear interpolation', { limit: 1 })[0];
      expect(lerp).toMatchObject({
        id: 'js/math.js#lerp',
        kind: 'variable',
        language: 'javascript',
        startLine: 13,
      });
      expect(index.search('numeric helpers')).toEqual([]);
    });

    it('finds a function by its description first', () => {
      const vowels = index.search(
        specQueryTerms(spec('count_vowel_letters', 'python', ['text'], 'count how many vowels a text has')),
      );
      expect(vowels[0]?.id).toBe('pylib/strings.py#count_vowels');
      expect(vowels[0]?.text).toBe(
        'def count_vowels(text):\n    """Count the vowels (a, e, i, o, u) in a text, ignoring case."""\n' +
          '    return sum(1 for ch in text.lower() if ch in "aeiou")',
      );
      const gcd = index.search(
        specQueryTerms(
          spec('greatestDivisor', 'javascript', ['x', 'y'], 'greatest common divisor of two integers'),
        ),
        { languages: specLanguages('javascript') },
      );
      expect(gcd[0]?.id).toBe('js/math.js#gcd');
      expect(gcd.every((h, i) => i === 0 || h.score <= gcd[i - 1]!.score)).toBe(true);
    });

    it('keeps methods indented as in their file', () => {
      const add = index.search('count the words of a text', { kinds: ['method'] })[0];
      expect(add?.id).toBe('pylib/strings.py#Counter.add');
      expect(add?.text.startsWith('    def add(self, text):\n')).toBe(true);
    });

    it('filters by language and kind', () => {
      const query = 'reduce a fraction to lowest terms';
      const all = index.search(query, { limit: 50 });
      expect(index.search(query, { kinds: ['function'] })[0]?.id).toBe('js/fraction.ts#reduceFraction');
      expect(
        index.search(query, { languages: ['python'], limit: 50 }).every((h) => h.language === 'python'),
      ).toBe(true);
      const js = index.search(query, { languages: specLanguages('javascript'), limit: 50 });
      expect(js.map((h) => h.id)).toEqual(all.filter((h) => h.language !== 'python').map((h) => h.id));
      expect(
        index.search(query, { languages: ['javascript'] }).every((h) => h.language === 'javascript'),
      ).toBe(true);
      expect(index.search(query, { kinds: ['class'] }).map((h) => h.id)).toEqual(['js/fraction.ts#Fraction']);
    });

    it('builds from a snapshot as well as a manifest, and indexes module chunks on request', async () => {
      const fromSnapshot = await buildChunkIndex(opened.store, opened.snapshot);
      expect(fromSnapshot.size).toBe(index.size);
      const withModules = await buildChunkIndex(opened.store, opened.manifest, { includeModules: true });
      expect(withModules.size).toBe(index.size + opened.manifest.files.length);
      // The module docstring is the module chunk's own code, not its functions'.
      expect(withModules.search('slugs casing counting', { limit: 1 })[0]?.id).toBe('pylib/strings.py');
      const pythonOnly = await buildChunkIndex(opened.store, opened.manifest, { languages: ['python'] });
      expect(pythonOnly.search('fraction')).toEqual([]);
    });
  });

  describe('prompt budgets', () => {
    const chunkOf = (id: string, score: number, length: number): RetrievedChunk => ({
      id,
      name: id,
      kind: 'function',
      language: 'python',
      file: 'f.py',
      score,
      text: 'x'.repeat(length),
      startLine: 1,
    });

    it('takes the best-scoring chunks that fit, skipping a long one rather than cutting it', () => {
      const chunks = [chunkOf('c', 1, 30), chunkOf('a', 3, 50), chunkOf('b', 2, 80), chunkOf('d', 0.5, 20)];
      expect(selectForPrompt(chunks, 100).map((c) => c.id)).toEqual(['a', 'c', 'd']);
      expect(selectForPrompt(chunks, 49).map((c) => c.id)).toEqual(['c']);
      expect(selectForPrompt(chunks, 100, 10).map((c) => c.id)).toEqual(['a', 'c']);
      expect(selectForPrompt(chunks, 10)).toEqual([]);
    });

    it('selects real search results within the budget', () => {
      const hits = index.search('text words', { limit: 20 });
      const chosen = selectForPrompt(hits, 300);
      expect(chosen.length).toBeGreaterThan(0);
      expect(chosen.reduce((n, c) => n + c.text.length, 0)).toBeLessThanOrEqual(300);
      expect(chosen.length).toBeLessThan(hits.length);
    });
  });

  describe('dense re-ranking', () => {
    it('fuses BM25 and cosine ranks by reciprocal rank fusion with k = 60', async () => {
      const ranked = [item('first', 9, 'alpha'), item('second', 5, 'beta'), item('third', 1, 'gamma')];
      // The query is closest to the second text, then the third, then the first.
      const vectors: Record<string, number[]> = { q: [1, 0], alpha: [0, 1], beta: [1, 0], gamma: [1, 1] };
      const embed: EmbedTexts = async (texts) => texts.map((t) => Float32Array.from(vectors[t]!));
      const fused = await rerankWithEmbeddings('q', ranked, embed);
      expect(fused.map((c) => c.id)).toEqual(['second', 'first', 'third']);
      expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 61, 12);
      expect(fused[1]!.score).toBeCloseTo(1 / 61 + 1 / 63, 12);
      expect(fused[2]!.score).toBeCloseTo(1 / 63 + 1 / 62, 12);
      expect(ranked[0]!.score).toBe(9);

      function item(id: string, score: number, text: string): RetrievedChunk {
        return {
          id,
          name: id,
          kind: 'function',
          language: 'python',
          file: 'f.py',
          score,
          text,
          startLine: 1,
        };
      }
    });

    it('re-ranks a BM25 pool with the tiny embedding model', async () => {
      const modelDir = path.join(makeTemp(), 'tiny-embedding');
      writeEmbeddingModel(modelDir, { dim: 32, seed: 7 });
      const embedder = await loadEmbedder(modelDir);
      const query = specQueryTerms(spec('wordsOf', 'python', ['text'], 'split a text into words'));
      const bm25 = index.search(query, { limit: 6 });
      const hybrid = await index.searchHybrid(query, {
        limit: 6,
        pool: 6,
        embed: (texts) => embedder.embed(texts),
        queryText: 'split a text into words',
      });
      expect(hybrid.map((h) => h.id).sort()).toEqual(bm25.map((h) => h.id).sort());
      expect(hybrid.every((h) => h.score > 0 && h.score <= 2 / 61)).toBe(true);
      const candidates = await findRetrieveCandidates(
        opened.store,
        opened.manifest,
        spec('split_text', 'python', ['text'], 'split a text into words'),
        { index, embed: (texts) => embedder.embed(texts), limit: 2 },
      );
      expect(candidates).toHaveLength(2);
      expect(candidates.map((c) => c.chunkId)).toContain('pylib/textutil.py#split_words');
    });
  });

  describe('signatures', () => {
    it('counts required and total parameters of Python functions (keyword calls)', async () => {
      const sig = (code: string) => readFunctionSignature(code, 'python');
      expect(await sig('def slugify(title, separator="-"):\n    pass\n')).toMatchObject({
        name: 'slugify',
        required: 1,
        total: 2,
        names: ['title', 'separator'],
      });
      expect(await sig('def join_all(*parts, sep=" "):\n    pass\n')).toMatchObject({
        required: 0,
        total: 1,
        variadic: true,
        kwargs: false,
      });
      expect(
        await sig('def clamp(value: float, low: int = 0, *, high, **options: object) -> float:\n    pass\n'),
      ).toMatchObject({
        required: 2,
        total: 3,
        names: ['value', 'low', 'high'],
        kwargs: true,
      });
      expect(await sig('@functools.cache\n# note\ndef f(*args: int):\n    pass\n')).toMatchObject({
        name: 'f',
        required: 0,
        total: 0,
        variadic: true,
      });
      expect(await sig('class C:\n    pass\n')).toBeUndefined();
      expect(await sig('def broken(:\n')).toBeUndefined();
    });

    it('counts required and total parameters of JavaScript and TypeScript functions (positional calls)', async () => {
      expect(
        await readFunctionSignature('export function gcd(a, b) { return a; }', 'javascript'),
      ).toMatchObject({
        name: 'gcd',
        required: 2,
        total: 2,
      });
      expect(await readFunctionSignature('function sumAll(...numbers) {}', 'javascript')).toMatchObject({
        required: 0,
        total: Number.POSITIVE_INFINITY,
        variadic: true,
      });
      expect(
        await readFunctionSignature('export const lerp = (start, end, t = 0.5) => start;', 'javascript'),
      ).toMatchObject({
        name: 'lerp',
        required: 2,
        total: 3,
      });
      expect(await readFunctionSignature('const inc = x => x + 1;', 'javascript')).toMatchObject({
        required: 1,
        total: 1,
      });
      expect(await readFunctionSignature('function f(a = 1, { b }, [c]) {}', 'javascript')).toMatchObject({
        required: 3,
        total: 3,
        names: ['a', null, null],
      });
      expect(
        await readFunctionSignature(
          'function f(this: Window, a: number, b?: string, ...r: number[]): void {}',
          'typescript',
        ),
      ).toMatchObject({ required: 1, total: Number.POSITIVE_INFINITY, names: ['a', 'b'] });
      expect(await readFunctionSignature('const limit = 10;', 'javascript')).toBeUndefined();
      expect(
        await readFunctionSignature('declare function f(a: number): void;', 'typescript'),
      ).toBeUndefined();
    });
  });

  describe('the retrieve technique', () => {
    const find = (s: GenSpec, limit?: number) =>
      findRetrieveCandidates(
        opened.store,
        opened.manifest,
        s,
        limit === undefined ? { index } : { index, limit },
      );
    const ids = async (s: GenSpec) => (await find(s, 50)).map((c) => c.chunkId);

    it('renames a recursive JavaScript function and runs it in its module', async () => {
      const [best] = await find(
        spec('greatestDivisor', 'javascript', ['x', 'y'], 'greatest common divisor of integers'),
      );
      expect(best).toMatchObject({ chunkId: 'js/math.js#gcd', originalName: 'gcd', language: 'javascript' });
      expect(best!.code).toBe(
        "/** Greatest common divisor of two integers, by Euclid's algorithm (recursive). */\n" +
          'export function greatestDivisor(a, b) {\n  return b === 0 ? Math.abs(a) : greatestDivisor(b, a % b);\n}',
      );
      expect(Object.keys(best!.context.files)).toEqual(['js/math.js']);
      const module = best!.context.files['js/math.js']!;
      expect(module.slice(best!.context.chunkSpan.start, best!.context.chunkSpan.end)).toMatch(
        /^\/\*\* Greatest[\s\S]*gcd\(b, a % b\);\n}$/,
      );
      const dir = materialize(best!.context.files, best!.context.modulePath, best!.code);
      writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }\n');
      const result = await execa(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import { greatestDivisor } from './js/math.js'; console.log(greatestDivisor(84, 36));",
        ],
        { cwd: dir, reject: false },
      );
      expect(result.stderr).toBe('');
      expect(String(result.stdout).trim()).toBe('12');
    });

    it('fits JavaScript by parameter counts: required, defaults and rest', async () => {
      const adding = 'sum of all the numbers given';
      expect(await ids(spec('addAll', 'javascript', ['a', 'b', 'c', 'd', 'e'], adding))).toEqual([
        'js/math.js#sumAll',
      ]);
      expect(await ids(spec('addNone', 'javascript', [], adding))).toEqual(['js/math.js#sumAll']);
      const interpolation = 'linear interpolation between start and end';
      expect(await ids(spec('mix', 'javascript', ['a', 'b'], interpolation))).toContain('js/math.js#lerp');
      expect(await ids(spec('mix', 'javascript', ['a', 'b', 'c'], interpolation))).toContain(
        'js/math.js#lerp',
      );
      expect(await ids(spec('mix', 'javascript', ['a', 'b', 'c', 'd'], interpolation))).not.toContain(
        'js/math.js#lerp',
      );
      expect(await ids(spec('mix', 'javascript', ['a'], interpolation))).not.toContain('js/math.js#lerp');
      // A spec parameter with a default may be left out, so the function must not require it.
      const optional = spec('mix', 'javascript', ['a', { name: 'b', default: 1 }], interpolation);
      expect(await ids(optional)).not.toContain('js/math.js#lerp');
      const [mix] = await find(spec('mix', 'javascript', ['a', 'b'], interpolation));
      expect(mix?.code).toBe(
        '/** Linear interpolation between start and end by a fraction t (default halfway). */\n' +
          'export const mix = (start, end, t = 0.5) => start + (end - start) * t;',
      );
    });

    it('never offers methods, classes or Python chunks for a JavaScript spec', async () => {
      const found = await ids(
        spec('reducedFraction', 'typescript', ['n', 'd'], 'fraction in lowest terms words text'),
      );
      expect(found).toContain('js/fraction.ts#reduceFraction');
      expect(found).not.toContain('js/fraction.ts#Fraction.reduced');
      expect(found.every((id) => id.startsWith('js/'))).toBe(true);
    });

    it('turns an export default into a named export', async () => {
      const [avg] = await find(spec('average', 'javascript', ['numbers'], 'arithmetic mean of numbers'));
      expect(avg?.chunkId).toBe('js/stats.js#mean');
      expect(avg?.code).toBe(
        '/** Arithmetic mean (average) of a list of numbers. */\nexport function average(values) {\n' +
          '  return values.reduce((total, x) => total + x, 0) / values.length;\n}',
      );
    });

    it("brings the files of a function's dependencies across files", async () => {
      const [reduce] = await find(
        spec('lowestTerms', 'typescript', ['a', 'b'], 'reduce a fraction to lowest terms'),
      );
      expect(reduce?.chunkId).toBe('js/fraction.ts#reduceFraction');
      expect(reduce?.context.modulePath).toBe('js/fraction.ts');
      expect(Object.keys(reduce!.context.files)).toEqual(['js/fraction.ts', 'js/math.js']);
      expect(reduce!.context.files['js/math.js']).toBe(
        readFileSync(path.join(opened.root, 'js/math.js'), 'utf8'),
      );
    });

    it('renames Python parameters to the spec names and runs the function with keywords', async () => {
      const [slug] = await find(spec('make_slug', 'python', ['text'], 'turn a title into a url slug'));
      expect(slug).toMatchObject({
        chunkId: 'pylib/strings.py#slugify',
        originalName: 'slugify',
        language: 'python',
      });
      expect(slug!.code).toBe(
        'def make_slug(text, separator="-"):\n' +
          '    """Turn a title into a lower-case URL slug, joining the words with a separator."""\n' +
          '    return separator.join(word.lower() for word in split_words(text))',
      );
      expect(Object.keys(slug!.context.files)).toEqual([
        'pylib/strings.py',
        'pylib/__init__.py',
        'pylib/textutil.py',
      ]);
      for (const [rel, text] of Object.entries(slug!.context.files)) {
        expect(text).toBe(readFileSync(path.join(opened.root, rel), 'utf8'));
      }
      const dir = materialize(slug!.context.files, slug!.context.modulePath, slug!.code);
      const out = await runPython(
        dir,
        'from pylib.strings import make_slug\nprint(make_slug(**{"text": "Hello, Big World"}))',
      );
      expect(out).toBe('hello-big-world');
    });

    it('keeps Python parameter names that already match, in any order, and uses **kwargs for extra names', async () => {
      const [slug] = await find(
        spec('slug', 'python', [{ name: 'separator', default: '-' }, 'title'], 'url slug of a title'),
      );
      expect(slug?.code.startsWith('def slug(title, separator="-"):')).toBe(true);
      const clampSpec = spec(
        'bounded',
        'python',
        ['value', 'low', 'high', 'strict'],
        'clamp a value to a range',
      );
      const [clamp] = await find(clampSpec);
      expect(clamp?.chunkId).toBe('pylib/strings.py#clamp');
      expect(clamp?.code.startsWith('def bounded(value, low=0, high=1, **options):')).toBe(true);
      const dir = materialize(clamp!.context.files, clamp!.context.modulePath, clamp!.code);
      const out = await runPython(
        dir,
        'from pylib.strings import bounded\nprint(bounded(value=5, low=1, high=3, strict=True))',
      );
      expect(out).toBe('3');
    });

    it('applies the Python fit rules: *args takes no keywords, required parameters need spec values', async () => {
      const joining = 'join any number of parts with a separator';
      expect(await ids(spec('join', 'python', ['parts', 'sep'], joining))).not.toContain(
        'pylib/strings.py#join_all',
      );
      expect(await ids(spec('join', 'python', ['sep'], joining))).toContain('pylib/strings.py#join_all');
      const slugging = 'turn a title into a url slug';
      expect(await ids(spec('s', 'python', ['a', 'b', 'c'], slugging))).not.toContain(
        'pylib/strings.py#slugify',
      );
      expect(await ids(spec('s', 'python', [], slugging))).not.toContain('pylib/strings.py#slugify');
      expect(await ids(spec('s', 'python', [{ name: 'a', default: 'x' }], slugging))).not.toContain(
        'pylib/strings.py#slugify',
      );
      expect(await ids(spec('s', 'python', ['a', 'b'], slugging))).toContain('pylib/strings.py#slugify');
      // Methods are never candidates; a decorated top-level function is.
      const counting = 'count the words of a text';
      expect(await ids(spec('add', 'python', ['text'], counting))).not.toContain(
        'pylib/strings.py#Counter.add',
      );
      const [total] = await find(spec('total', 'python', ['items'], 'sum the prices of the items'));
      expect(total?.chunkId).toBe('pylib/strings.py#decorated_total');
      expect(total?.code.startsWith('@staticmethod\ndef total(items):\n')).toBe(true);
    });

    it('renames a recursive Python function and its parameter together', async () => {
      const [fact] = await find(spec('fact', 'python', ['k'], 'n factorial, product of the integers'));
      expect(fact?.chunkId).toBe('pylib/strings.py#factorial');
      expect(fact?.code).toBe(
        'def fact(k):\n' +
          '    """Return n factorial, the product of the integers from 1 to n, computed recursively."""\n' +
          '    if k <= 1:\n        return 1\n    return k * fact(k - 1)',
      );
      const dir = materialize(fact!.context.files, fact!.context.modulePath, fact!.code);
      expect(await runPython(dir, 'from pylib.strings import fact\nprint(fact(k=6))')).toBe('720');
    });

    it('leaves names in default values alone: they are evaluated outside the function', async () => {
      const [hyphen] = await find(spec('hyphen_words', 'python', ['HYPHEN'], 'join words with hyphens'));
      expect(hyphen?.chunkId).toBe('pylib/textutil.py#hyphenate');
      expect(hyphen?.code).toBe(
        'def hyphen_words(HYPHEN, joiner=HYPHEN):\n    """Join words with hyphens."""\n    return joiner.join(HYPHEN)',
      );
      expect(Object.keys(hyphen!.context.files)).toEqual(['pylib/textutil.py', 'pylib/__init__.py']);
      const dir = materialize(hyphen!.context.files, hyphen!.context.modulePath, hyphen!.code);
      const out = await runPython(
        dir,
        'from pylib.textutil import hyphen_words\nprint(hyphen_words(HYPHEN=["a", "b"]))',
      );
      expect(out).toBe('a-b');
    });

    it('refuses a rename whose new name is already used in the function', async () => {
      const vowels = 'count the vowels in a text';
      expect(await ids(spec('vowels', 'python', ['ch'], vowels))).not.toContain(
        'pylib/strings.py#count_vowels',
      );
      expect(await ids(spec('sum', 'python', ['text'], vowels))).not.toContain(
        'pylib/strings.py#count_vowels',
      );
      expect(await ids(spec('vowels', 'python', ['phrase'], vowels))).toContain(
        'pylib/strings.py#count_vowels',
      );
      const divisor = 'greatest common divisor';
      expect(await ids(spec('b', 'javascript', ['x', 'y'], divisor))).not.toContain('js/math.js#gcd');
      // `Math.abs` is a property, not a use of the name `abs`.
      expect(await ids(spec('abs', 'javascript', ['x', 'y'], divisor))).toContain('js/math.js#gcd');
    });

    it('returns at most limit candidates, best first, and none for a spec nothing fits', async () => {
      const found = await find(spec('words', 'python', ['text'], 'text words split count'), 2);
      expect(found).toHaveLength(2);
      expect(found[0]!.score).toBeGreaterThanOrEqual(found[1]!.score);
      expect(
        await find(spec('nothing', 'python', ['a', 'b', 'c', 'd', 'e'], 'quantum chromodynamics')),
      ).toEqual([]);
      expect(await find(spec('words', 'python', ['text'], 'text words'), 0)).toEqual([]);
    });

    it('builds its own index from a snapshot when given none', async () => {
      const [best] = await findRetrieveCandidates(
        opened.store,
        opened.snapshot,
        spec('greatestDivisor', 'javascript', ['x', 'y'], 'greatest common divisor of integers'),
      );
      expect(best?.chunkId).toBe('js/math.js#gcd');
    });
  });
});

/** The Python standard library of the python3 on PATH. */
async function pythonStdlib(): Promise<string> {
  const result = await execa('python3', ['-c', 'import sysconfig;print(sysconfig.get_paths()["stdlib"])'], {
    reject: false,
  });
  expect(result.exitCode).toBe(0);
  return String(result.stdout).trim();
}

describe('[slow] retrieval on the Python standard library', () => {
  let stdlib: string;
  beforeAll(async () => {
    stdlib = await pythonStdlib();
  });

  it('retrieves colorsys.rgb_to_hsv for an rgb_to_hsv_color spec, renamed, with colorsys.py to run in', async () => {
    const root = path.join(makeTemp(), 'colors');
    mkdirSync(root);
    for (const f of ['colorsys.py', 'textwrap.py']) cpSync(path.join(stdlib, f), path.join(root, f));
    const { store, manifest } = await chunkAndOpen(root);
    try {
      const s = spec(
        'rgb_to_hsv_color',
        'python',
        ['r', 'g', 'b'],
        'convert red green blue to hue saturation value',
      );
      const candidates = await findRetrieveCandidates(store, manifest, s);
      expect(candidates.length).toBeGreaterThan(1);
      const [best] = candidates;
      expect(best).toMatchObject({ chunkId: 'colorsys.py#rgb_to_hsv', originalName: 'rgb_to_hsv' });
      expect(best!.code.startsWith('def rgb_to_hsv_color(r, g, b):\n')).toBe(true);
      expect(best!.code).not.toMatch(/\brgb_to_hsv\b/);
      expect(best!.context.modulePath).toBe('colorsys.py');
      expect(best!.context.files).toEqual({
        'colorsys.py': readFileSync(path.join(stdlib, 'colorsys.py'), 'utf8'),
      });
      const dir = materialize(best!.context.files, 'colorsys.py', best!.code);
      const out = await runPython(
        dir,
        'import sys; sys.path.insert(0, ".")\nimport colorsys\n' +
          'print(colorsys.rgb_to_hsv_color(**{"r": 0.2, "g": 0.4, "b": 0.6}) == colorsys.rgb_to_hsv(0.2, 0.4, 0.6))',
      );
      expect(out).toBe('True');
      // Others fit by count and are renamed to r, g, b; hsv_to_rgb ranks below.
      const reverse = candidates.find((c) => c.chunkId === 'colorsys.py#hsv_to_rgb');
      expect(reverse?.code.startsWith('def rgb_to_hsv_color(r, g, b):\n')).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('indexes and searches 100 modules (timings reported, not asserted)', async () => {
    const root = path.join(makeTemp(), 'stdlib100');
    mkdirSync(root);
    const modules = readdirSync(stdlib)
      .filter((f) => f.endsWith('.py') && statSync(path.join(stdlib, f)).isFile())
      .sort()
      .slice(0, 100);
    let bytes = 0;
    for (const f of modules) {
      cpSync(path.join(stdlib, f), path.join(root, f));
      bytes += statSync(path.join(root, f)).size;
    }
    const t0 = performance.now();
    const { store, manifest } = await chunkAndOpen(root);
    const tChunk = performance.now() - t0;
    try {
      const t1 = performance.now();
      const index = await buildChunkIndex(store, manifest);
      const tBuild = performance.now() - t1;
      const queries = [
        spec('parse_args', 'python', ['argv'], 'parse command line arguments into options'),
        spec('b64encode_text', 'python', ['data'], 'encode bytes with base64'),
        spec('read_csv_rows', 'python', ['f'], 'read rows of a csv file'),
        spec('date_from_iso', 'python', ['text'], 'parse a date from an ISO format string'),
        spec('quote_url', 'python', ['s'], 'quote special characters of a url'),
      ].map(specQueryTerms);
      const runs = 200;
      const t2 = performance.now();
      let results = 0;
      for (let i = 0; i < runs; i++)
        results += index.search(queries[i % queries.length]!, { limit: 10 }).length;
      const tSearch = (performance.now() - t2) / runs;
      const t3 = performance.now();
      const candidates = await findRetrieveCandidates(
        store,
        manifest,
        spec('b64_encode', 'python', ['s'], 'encode bytes with base64'),
        {
          index,
        },
      );
      const tRetrieve = performance.now() - t3;
      console.info(
        `[retrieval timing] ${modules.length} modules, ${(bytes / 1024).toFixed(0)} KiB, ${manifest.chunks.length} chunks, ` +
          `${index.size} indexed: chunk ${tChunk.toFixed(0)} ms, index build ${tBuild.toFixed(0)} ms, ` +
          `search ${tSearch.toFixed(3)} ms/query, retrieve ${tRetrieve.toFixed(0)} ms (${candidates.length} candidates: ` +
          `${candidates.map((c) => c.chunkId).join(', ')})`,
      );
      expect(index.size).toBeGreaterThan(1000);
      expect(results).toBe(runs * 10);
      expect(candidates[0]?.chunkId).toMatch(/^base64\.py#/);
    } finally {
      await store.close();
    }
  });
});
