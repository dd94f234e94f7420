#!/usr/bin/env node
// `npm run bench:predict`: ccx eval on real workloads (issue 4). Each workload's submissions
// run once for real under `ccx run`; a history of --records runs is then replayed from them in a
// skewed (Zipf, s = 1.1) order over simulated time (one run a minute), imported into a fresh
// store with `ccx history import`, and `ccx eval --json` scores the methods. Written to
// docs/benchmarks.md between the predict markers and printed.
//
//   node scripts/bench-predict.mjs [--records 300] [--no-write]
//
// Each workload is also evaluated with `--embed-model` (the tiny model of scripts/tiny-model.mjs,
// as no real model can be fetched here) twice: the first eval embeds the submissions' chunks, the
// second finds them all in the store's cache.
//
// Workloads: the tape test files of qs and resolve (npm pack, their own tests), and 30 modules
// of the Python standard library's own test suite (unittest).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocsBlock } from './docs-block.mjs';
import { replayLines, zipfSequence } from './replay.mjs';
import { fetchPackage, testFiles } from './test-packages.mjs';
import { writeEmbeddingModel } from './tiny-model.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ccx = path.join(root, 'bin', 'ccx.js');
const args = process.argv.slice(2);
const total = Number(args.includes('--records') ? args[args.indexOf('--records') + 1] : 300);
const write = !args.includes('--no-write');
const scratch = mkdtempSync(path.join(tmpdir(), 'ccx-bench-predict-'));
const embedModel = path.join(scratch, 'tiny-embedding');
writeEmbeddingModel(embedModel, { dim: 64 });

function ccxRun(argv, cwd) {
  const r = spawnSync(process.execPath, [ccx, ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  return r;
}

/** A seeded Zipf sampler over ranks 0..n-1. */
/** Runs each command once under ccx run in `dir`, replays them, and evaluates. */
function workload(name, dir, commands) {
  const store = path.join(scratch, `store-${name.replace(/\W/g, '_')}`);
  let r = ccxRun(['chunk', dir, '--store', store, '--quiet'], root);
  if (r.status !== 0) throw new Error(`chunk ${dir}: ${r.stderr}`);
  for (const command of commands) {
    r = ccxRun(['run', '--quiet', '--store', store, '--', ...command], dir);
  }
  const real = JSON.parse(ccxRun(['history', 'ls', '--json', '--store', store], dir).stdout);
  // Ranks: a fixed shuffle of the submissions, so that popularity is not alphabetical.
  const lines = replayLines(zipfSequence(real, total, 42), (base) => ({ labels: { replayOf: base.id } }));
  const replayStore = path.join(scratch, `replay-${name.replace(/\W/g, '_')}`);
  ccxRun(['chunk', dir, '--store', replayStore, '--quiet'], root);
  const file = path.join(scratch, `${name.replace(/\W/g, '_')}.jsonl`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  r = ccxRun(['history', 'import', file, '--store', replayStore], dir);
  if (r.status !== 0) throw new Error(`import: ${r.stderr}`);
  let t = performance.now();
  const evaluation = JSON.parse(ccxRun(['eval', '--json', '--store', replayStore], dir).stdout);
  const plainMs = performance.now() - t;
  const embedded = [];
  for (let pass = 0; pass < 2; pass++) {
    t = performance.now();
    r = ccxRun(['eval', '--json', '--store', replayStore, '--embed-model', embedModel], dir);
    if (r.status !== 0) throw new Error(`eval --embed-model: ${r.stderr}`);
    embedded.push({ ms: performance.now() - t, evaluation: JSON.parse(r.stdout) });
  }
  return {
    plainMs,
    embedded,
    name,
    submissions: real.length,
    meanUsed: real.reduce((n, x) => n + x.chunksUsed.length, 0) / real.length,
    evaluation,
  };
}

const results = [];
for (const spec of ['qs@6.13.0', 'resolve@1.22.8']) {
  process.stderr.write(`${spec}\n`);
  const dir = fetchPackage(spec);
  results.push(
    workload(
      `${spec} tape tests`,
      dir,
      testFiles(dir).map((t) => ['node', t]),
    ),
  );
}
const stdlib = spawnSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], {
  encoding: 'utf8',
}).stdout.trim();
const modules = [
  'test_json',
  'test_textwrap',
  'test_difflib',
  'test_shlex',
  'test_fractions',
  'test_statistics',
  'test_heapq',
  'test_bisect',
  'test_string',
  'test_base64',
  'test_csv',
  'test_colorsys',
  'test_calendar',
  'test_decimal',
  'test_ipaddress',
  'test_uuid',
  'test_pprint',
  'test_enum',
  'test_dataclasses',
  'test_functools',
  'test_itertools',
  'test_collections',
  'test_operator',
  'test_copy',
  'test_contextlib',
  'test_abc',
  'test_keyword',
  'test_html',
  'test_urlparse',
  'test_glob',
];
process.stderr.write(`python stdlib ${stdlib}\n`);
results.push(
  workload(
    'Python stdlib test modules',
    stdlib,
    modules.map((m) => ['python3', '-m', 'unittest', '-q', `test.${m}`]),
  ),
);

const lines = [
  `Measured by \`npm run bench:predict\` (scripts/bench-predict.mjs) on ${new Date().toISOString().slice(0, 10)}: each submission run once for real under \`ccx run\`, then ${total} runs replayed in a Zipf (s = 1.1) order, one a minute, and \`ccx eval\` (each record predicted from the ones before it).`,
];
for (const r of results) {
  lines.push(
    '',
    `**${r.name}** (${r.submissions} submissions, ${r.meanUsed.toFixed(0)} chunks used per run on average, ${r.evaluation.records} records):`,
    '',
    '| method | recall | precision | full-hit rate | mean chunks | mean bytes | p50 ms | p95 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.evaluation.methods.map(
      (m) =>
        `| ${m.name} | ${m.recall.toFixed(3)} | ${m.precision.toFixed(3)} | ${m.fullHitRate.toFixed(3)} | ${m.meanChunks} | ${m.meanBytes} | ${m.p50Ms} | ${m.p95Ms} |`,
    ),
  );
}
lines.push(
  '',
  `**With \`--embed-model\`** (the 64-dimension tiny model of scripts/tiny-model.mjs; eval wall time of the whole replay, the first pass embedding every submission's chunks, the second reading them from the store's cache):`,
  '',
  '| workload | eval ms | first eval --embed-model ms | second ms | knn full-hit (plain → embed) | hybrid full-hit (plain → embed) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...results.map((r) => {
    const hit = (e, name) => e.methods.find((m) => m.name === name).fullHitRate.toFixed(3);
    const [first, second] = r.embedded;
    return `| ${r.name} | ${r.plainMs.toFixed(0)} | ${first.ms.toFixed(0)} | ${second.ms.toFixed(0)} | ${hit(r.evaluation, 'knn')} → ${hit(second.evaluation, 'knn')} | ${hit(r.evaluation, 'hybrid')} → ${hit(second.evaluation, 'hybrid')} |`;
  }),
);
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
if (write) writeDocsBlock('predict', 'ccx eval: co-usage prediction on real workloads (issue 4)', table);
rmSync(scratch, { recursive: true, force: true });
