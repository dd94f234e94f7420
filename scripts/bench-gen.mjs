#!/usr/bin/env node
// `npm run bench:gen`: what ccx's decoding loop and syntax checks cost.
//
// 1. Loop overhead: greedy and beam decoding on tiny decoder models (scripts/tiny-model.mjs)
//    against the time spent inside `session.run` during the same decoding (median of --runs).
//    Overhead = ccx's wall time per token over the in-session time, minus one: feeds, logits,
//    KV-cache reordering, picks, syntax checks.
// 2. Syntax check cost per candidate token: real functions (Python standard library, rxjs's
//    TypeScript sources and its compiled JavaScript, fetched with npm pack) fed to the checker in
//    pieces of four characters, the size of a typical code-model token, as one beam would.
// 3. Tokens per second of greedy and beam search on the tiny models.
// 4. The memory-bandwidth ceiling of decoding for real model sizes: a decoder reads every weight
//    once per token, so tokens/s <= bandwidth / weight bytes. This machine's bandwidth is measured
//    here (a 1 GiB buffer copy, bytes read + written); the H200's is the device's measured figure,
//    passed with --gpu-bandwidth GBPS when a session had one.
//
//   node scripts/bench-gen.mjs [--runs 5] [--gpu-bandwidth 4300] [--no-write]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocsBlock } from './docs-block.mjs';
import { fetchCorpus } from './fetch-corpus.mjs';
import { realFunctions } from './real-functions.mjs';
import { writeDecoderModel } from './tiny-model.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const runs = Number(flag('--runs', 5));
const gpuBandwidth = flag('--gpu-bandwidth', undefined);
const write = !args.includes('--no-write');
const scratch = mkdtempSync(path.join(tmpdir(), 'ccx-bench-gen-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const { loadCausalLM, loadOrt } = await import(path.join(root, 'dist/gen/model.js'));
const { greedyDecode, beamSearch } = await import(path.join(root, 'dist/gen/decode.js'));
const { SyntaxChecker } = await import(path.join(root, 'dist/gen/syntax.js'));
const ort = await loadOrt();

// ---- 1 and 3: the decoding loop --------------------------------------------------------------
const MODELS = {
  'tiny (2 layers, 2×8 heads, hidden 270)': { layers: 2, heads: 2, headDim: 8, mlp: 32 },
  'small (4 layers, 8×32 heads, hidden 270, MLP 1024)': { layers: 4, heads: 8, headDim: 32, mlp: 1024 },
  // 530 more tokens widen the vocabulary, which sets the hidden size in the hand-set mode.
  'medium (6 layers, 8×64 heads, hidden 800, MLP 2048)': {
    layers: 6,
    heads: 8,
    headDim: 64,
    mlp: 2048,
    extra: 530,
  },
};
const PREFIX = 'def running_total(values, start=0):\n    """Sum of the values after start."""\n';
const TOKENS = 48;
// Hand-set weights that write the same line for ever, so that every run decodes TOKENS tokens
// (random weights end a Python function within a few tokens); the graph is the full one.
const LINE = '    total += 1\n';
const CHAIN = { tokens: [LINE], bigram: { '\n': { [LINE]: 0 }, [LINE]: { [LINE]: 0 } } };

const loopRows = [];
for (const [name, shape] of Object.entries(MODELS)) {
  const dir = path.join(scratch, name.split(' ')[0]);
  const { extra = 0, ...dims } = shape;
  const filler = Array.from({ length: extra }, (_, i) => ` w${i}`);
  writeDecoderModel(dir, { ...dims, ...CHAIN, tokens: [...CHAIN.tokens, ...filler], seed: 11 });
  const model = await loadCausalLM(dir);
  const checker = await SyntaxChecker.create('python');
  const base = { prompt: PREFIX, prefix: PREFIX, language: 'python', maxNewTokens: TOKENS };
  for (const [mode, options, batch] of [
    ['greedy', base, 1],
    ['greedy, syntax-aware', { ...base, syntax: checker }, 1],
    ['beam 4', { ...base, beams: 4 }, 4],
    ['beam 4, syntax-aware', { ...base, beams: 4, syntax: checker }, 4],
  ]) {
    const ccx = [];
    const bare = [];
    let tokens = 0;
    let checks = 0;
    for (let r = 0; r < runs + 1; r++) {
      let inRun = 0;
      const checksBefore = checker.stats.checks;
      const timed = { ...options, onStep: (ms) => (inRun += ms) };
      const t0 = performance.now();
      const out = batch === 1 ? [await greedyDecode(model, timed)] : await beamSearch(model, timed);
      const ms = performance.now() - t0;
      // Steps the decoding made: the longest sequence (beams advance together).
      const steps = Math.max(...out.map((s) => s.tokens.length));
      if (r === 0) continue; // warm-up
      tokens = steps;
      checks = options.syntax ? (checker.stats.checks - checksBefore) / steps : 0;
      ccx.push(ms / steps);
      bare.push(inRun / steps);
    }
    loopRows.push({
      model: name,
      mode,
      tokens,
      ccx: median(ccx),
      bare: median(bare),
      overhead: median(ccx) / median(bare) - 1,
      tps: 1000 / median(ccx),
      checks,
    });
  }
  await model.release();
}

// ---- 2: syntax checks per candidate token ---------------------------------------------------
const stdlib = fetchCorpus('python-stdlib');
const rxjs = fetchCorpus('rxjs');
const corpora = [
  ['python', 'Python standard library', stdlib, '.py'],
  ['typescript', 'rxjs 7.8.1 src (TypeScript)', rxjs, '.ts'],
  ['javascript', 'rxjs 7.8.1 dist/esm (JavaScript)', path.join(rxjs, '..', 'dist', 'esm'), '.js'],
];
const syntaxRows = [];
for (const [language, label, dir, extension] of corpora) {
  const functions = await realFunctions(dir, extension, language, 300);
  const checker = await SyntaxChecker.create(language);
  const times = [];
  let rejected = 0;
  let fallback = 0;
  for (const fn of functions) {
    const split = fn.indexOf(language === 'python' ? ':\n' : '{\n');
    if (split < 0) continue;
    const prefix = fn.slice(0, split + 2);
    let state = checker.start(prefix).state;
    const body = fn.slice(split + 2);
    for (let i = 0; i < body.length; i += 4) {
      const before = checker.stats.fallback;
      const t0 = performance.now();
      const step = checker.extend(state, body.slice(i, i + 4));
      times.push(performance.now() - t0);
      fallback += checker.stats.fallback > before ? 1 : 0;
      if (!step.viable) rejected++;
      state = step.state;
    }
  }
  // Injected errors: a stray `= =` after a random space of the body; counted where it breaks the
  // parse, detected when some later prefix is judged not viable.
  let injected = 0;
  let detected = 0;
  const distances = [];
  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (const fn of functions) {
    const split = fn.indexOf(language === 'python' ? ':\n' : '{\n') + 2;
    if (split < 2) continue;
    const spaces = [];
    for (let i = split; i < fn.length; i++) if (fn[i] === ' ' && fn[i - 1] !== ' ') spaces.push(i);
    if (spaces.length === 0) continue;
    const at = spaces[Math.floor(random() * spaces.length)];
    const broken = `${fn.slice(0, at)} = =${fn.slice(at)}`;
    if (checker.isComplete(broken)) continue;
    injected++;
    let state = checker.start(broken.slice(0, split)).state;
    for (let i = split; i < broken.length; i += 4) {
      const step = checker.extend(state, broken.slice(i, i + 4));
      if (!step.viable) {
        detected++;
        distances.push(Math.max(0, i + 4 - at));
        break;
      }
      state = step.state;
    }
  }
  syntaxRows.push({
    injected,
    detected,
    distance: distances.length ? median(distances) : 0,
    label,
    functions: functions.length,
    checks: times.length,
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    p50: pct(times, 0.5),
    p95: pct(times, 0.95),
    fallback: fallback / times.length,
    rejected,
  });
}

// ---- 4: the memory-bandwidth ceiling ----------------------------------------------------------
function cpuBandwidth() {
  const size = 1 << 30;
  const src = Buffer.alloc(size, 1);
  const dst = Buffer.alloc(size);
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    src.copy(dst);
    times.push(performance.now() - t0);
  }
  // Bytes read and written, per second, in GB/s.
  return (2 * size) / (median(times) / 1000) / 1e9;
}
const cpuGbps = cpuBandwidth();
const SIZES = [
  ['0.5B (Qwen2.5-Coder-0.5B)', 0.49e9],
  ['1.5B (Qwen2.5-Coder-1.5B)', 1.54e9],
  ['7B (Qwen2.5-Coder-7B)', 7.6e9],
  ['15B (StarCoder2-15B)', 16e9],
];
const BYTES = { fp32: 4, fp16: 2, q8: 1, q4: 0.5 };

// ---- the report --------------------------------------------------------------------------------
const f = (x, d = 2) => x.toFixed(d);
const lines = [];
lines.push(
  `Measured by \`npm run bench:gen\` (scripts/bench-gen.mjs) on ${new Date().toISOString().slice(0, 10)}, ${runs} runs after a warm-up, median; CPU, onnxruntime-node ${ort.env.versions?.node ?? ''}.`,
  '',
  '**Decoding loop against the bare `session.run` calls** (the time inside `session.run` during the same decoding). Per generated token.',
  '',
  '| model | decoding | tokens | ccx ms/token | bare session.run ms/token | overhead | tokens/s | tree-sitter checks/token |',
  '|---|---|---:|---:|---:|---:|---:|---:|',
  ...loopRows.map(
    (r) =>
      `| ${r.model} | ${r.mode} | ${r.tokens} | ${f(r.ccx, 3)} | ${f(r.bare, 3)} | ${f(r.overhead * 100, 1)}% | ${f(r.tps, 0)} | ${f(r.checks, 1)} |`,
  ),
  '',
  '**Syntax check per candidate token** (incremental tree-sitter parse of the completed text; functions fed in 4-character pieces).',
  '',
  '| corpus | functions | checks | mean ms | p50 ms | p95 ms | checks needing a fallback parse | prefixes of valid code judged not viable | injected errors caught | characters from error to prune (median) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...syntaxRows.map(
    (r) =>
      `| ${r.label} | ${r.functions} | ${r.checks} | ${f(r.mean, 3)} | ${f(r.p50, 3)} | ${f(r.p95, 3)} | ${f(r.fallback * 100, 1)}% | ${r.rejected} | ${r.detected}/${r.injected} (${f((100 * r.detected) / Math.max(1, r.injected), 1)}%) | ${r.distance} |`,
  ),
  '',
  `**Memory-bandwidth ceiling of decoding** (tokens/s <= bandwidth / weight bytes; KV cache and activations ignored). This machine: ${f(cpuGbps, 1)} GB/s measured (1 GiB buffer copy, read + write)${gpuBandwidth ? `; H200: ${gpuBandwidth} GB/s measured on the device (see below)` : ''}.`,
  '',
  `| model | dtype | weights GB | CPU here tokens/s | ${gpuBandwidth ? 'H200 tokens/s |' : ''}`,
  `|---|---|---:|---:|${gpuBandwidth ? '---:|' : ''}`,
);
for (const [name, params] of SIZES)
  for (const [dtype, bytes] of Object.entries(BYTES)) {
    const gb = (params * bytes) / 1e9;
    lines.push(
      `| ${name} | ${dtype} | ${f(gb, 1)} | ${f(cpuGbps / gb, 1)} | ${gpuBandwidth ? `${f(Number(gpuBandwidth) / gb, 0)} |` : ''}`,
    );
  }
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
if (write) writeDocsBlock('gen', 'ccx gen: the decoding loop, syntax checks, bandwidth (issue 6)', table);
rmSync(scratch, { recursive: true, force: true });
