#!/usr/bin/env node
// `npm run bench:change`: the measurements of `ccx diff` and `ccx affected` on real packages
// (issue 3), written to docs/benchmarks.md between the change markers and printed.
//
//   node scripts/bench-change.mjs [--packages resolve@1.22.8,qs@6.13.0] [--mutations 40] [--no-write]
//
// 1. Prettier round trip: rxjs and @trpc/server sources reformatted in two styles (scripts/reformat.mjs).
// 2. Consecutive versions: rxjs 7.8.0 -> 7.8.1.
// 3. Test selection: packages that ship their tests (npm pack) are installed with their dev
//    dependencies; every test file runs once under NODE_V8_COVERAGE to learn which functions it
//    executes (the ground truth); then, one at a time, N function chunks get a functional change
//    (`void 0;` as the first statement of the body) and `ccx affected` selects tests. Compared
//    with the truth (misses) and with a file-level baseline (test files whose transitive imports
//    reach the changed file, from the same graph collapsed to files).
// 4. The wall time of `ccx affected` for such a change against a cold `ccx chunk` of the package.
// 5. `--precise`: edges the TypeScript checker adds to the name-based graph of rxjs and trpc, and
//    its time and memory (scripts/precise-edges.mjs, one process per corpus).
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { affected } from '../dist/change/affected.js';
import { diff } from '../dist/change/diff.js';
import { chunk } from '../dist/chunking/chunk.js';
import { manifest as loadManifest } from '../dist/chunking/queries.js';
import { reachable } from '../dist/graph/walk.js';
import { writeDocsBlock } from './docs-block.mjs';
import { fetchCorpus } from './fetch-corpus.mjs';
import { reformatTree } from './reformat.mjs';
import { fetchPackage, testFiles } from './test-packages.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const packages = opt('packages', 'resolve@1.22.8,qs@6.13.0').split(',');
const mutations = Number(opt('mutations', '40'));
const write = !args.includes('--no-write');
const scratch = mkdtempSync(path.join(tmpdir(), 'ccx-bench-change-'));
const log = (line) => process.stderr.write(`${line}\n`);

// ---------------------------------------------------------------- 1 and 2: ccx diff

async function prettierRoundTrip(corpus, style) {
  const before = path.join(scratch, `${corpus}-${style}-a`);
  const after = path.join(scratch, `${corpus}-${style}-b`);
  cpSync(fetchCorpus(corpus), before, { recursive: true });
  cpSync(fetchCorpus(corpus), after, { recursive: true });
  const { rewritten } = await reformatTree(after, style);
  const store = path.join(scratch, `store-${corpus}-${style}`);
  const result = await diff({ from: before, to: after, store });
  const m = await loadManifest({ store, snapshot: result.to });
  const broken = m.files.filter((f) => f.status === 'parse-error').map((f) => f.path);
  return { corpus, style, rewritten, summary: result.summary, broken };
}

async function versionDiff() {
  const before = fetchCorpus('rxjs-7.8.0');
  const after = fetchCorpus('rxjs');
  const store = path.join(scratch, 'store-versions');
  const result = await diff({ from: before, to: after, store });
  return { result, sample: result.changes.filter((c) => c.kind !== 'reformatted').slice(0, 12) };
}

// ---------------------------------------------------------------- 3 and 4: ccx affected

function sh(cmd, argv, cwd, env = {}) {
  return execFileSync(cmd, argv, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Per test file, the functions it executes: `file -> [start, end][]` (V8 block coverage, count > 0). */
function coverageOf(repo, test) {
  const out = path.join(scratch, `cov-${Math.random().toString(36).slice(2)}`);
  try {
    execFileSync(process.execPath, [test], {
      cwd: repo,
      env: { ...process.env, NODE_V8_COVERAGE: out },
      stdio: 'ignore',
      timeout: 120_000,
    });
  } catch {
    // A failing test still tells what it executed.
  }
  const ran = new Map();
  for (const name of existsSync(out) ? readdirSync(out) : []) {
    const report = JSON.parse(readFileSync(path.join(out, name), 'utf8'));
    for (const script of report.result) {
      if (!script.url.startsWith('file://')) continue;
      const file = path.relative(repo, fileURLToPath(script.url)).split(path.sep).join('/');
      if (file.startsWith('..') || file.startsWith('node_modules/')) continue;
      for (const fn of script.functions) {
        const top = fn.ranges[0];
        if (top === undefined || top.count === 0 || (fn.functionName === '' && top.startOffset === 0))
          continue;
        const list = ran.get(file) ?? [];
        list.push([top.startOffset, top.endOffset]);
        ran.set(file, list);
      }
    }
  }
  rmSync(out, { recursive: true, force: true });
  return ran;
}

/** Files each file reaches through its chunks' dependencies (file-level import closure). */
function fileClosure(m) {
  const fileOf = new Map(m.chunks.map((c) => [c.id, c.file]));
  const direct = new Map();
  for (const c of m.chunks) {
    const set = direct.get(c.file) ?? new Set();
    for (const d of c.deps) set.add(fileOf.get(d));
    direct.set(c.file, set);
  }
  const reach = (file) => reachable([file], (f) => direct.get(f));
  return reach;
}

/** A seeded choice of `n` of `items`, in their order. */
function sample(items, n, seed = 20261121) {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n).sort((a, b) => (a.id < b.id ? -1 : 1));
}

async function selection(spec, budget) {
  const repo = path.join(scratch, spec.replace(/[/@]/g, '_'));
  cpSync(fetchPackage(spec), repo, { recursive: true });
  writeFileSync(path.join(repo, '.gitignore'), 'node_modules/\n.ccx/\n');
  const git = (...a) =>
    sh('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...a], repo);
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'package as published');
  const tests = testFiles(repo);
  const isTest = (f) => tests.includes(f);
  log(`${spec}: ${tests.length} test files; coverage...`);
  const ran = new Map(tests.map((t) => [t, coverageOf(repo, t)]));

  const coldStore = path.join(scratch, `cold-${spec.replace(/[/@]/g, '_')}`);
  const t0 = performance.now();
  await chunk({ root: repo, store: coldStore, manifest: false });
  const coldMs = performance.now() - t0;

  const store = path.join(scratch, `store-${spec.replace(/[/@]/g, '_')}`);
  await affected({ dir: repo, store });
  const m = await loadManifest({ store });
  const reach = fileClosure(m);
  const candidates = m.chunks.filter(
    (c) =>
      ['function', 'method', 'variable'].includes(c.kind) && !isTest(c.file) && !c.file.startsWith('test/'),
  );
  const chosen = sample(candidates, budget);
  const rows = [];
  for (const c of chosen) {
    const file = path.join(repo, c.file);
    const original = readFileSync(file);
    const text = original.toString('utf8');
    const body = text.indexOf('{', text.indexOf(')', c.startByte));
    if (body < 0 || body >= c.endByte) continue;
    writeFileSync(file, `${text.slice(0, body + 1)} void 0;${text.slice(body + 1)}`);
    const t1 = performance.now();
    const r = await affected({ dir: repo, store, tests });
    const ms = performance.now() - t1;
    writeFileSync(file, original);
    if (!r.changed.includes(c.id)) {
      log(`  ${c.id}: the mutation did not change the chunk's hash; skipped`);
      continue;
    }
    const truth = tests.filter((t) =>
      (ran.get(t).get(c.file) ?? []).some(([s, e]) => s >= c.startByte && e <= c.endByte),
    );
    const baseline = tests.filter((t) => reach(t).has(c.file));
    const selected = r.tests;
    const misses = truth.filter((t) => !selected.includes(t));
    rows.push({ id: c.id, truth, selected, baseline, misses, ms });
    if (misses.length > 0) log(`  MISS ${c.id}: ${misses.join(', ')}`);
  }
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
  return {
    spec,
    tests: tests.length,
    mutations: rows.length,
    misses: rows.reduce((n, r) => n + r.misses.length, 0),
    missed: rows.filter((r) => r.misses.length > 0).map((r) => `${r.id}: ${r.misses.join(', ')}`),
    meanTruth: mean(rows.map((r) => r.truth.length)),
    meanSelected: mean(rows.map((r) => r.selected.length)),
    meanBaseline: mean(rows.map((r) => r.baseline.length)),
    affectedMs: median(rows.map((r) => r.ms)),
    coldMs,
  };
}

// ---------------------------------------------------------------- report

const round = [];
for (const [corpus, style] of [
  ['rxjs', 'narrow'],
  ['rxjs', 'wide'],
  ['trpc', 'narrow'],
  ['trpc', 'wide'],
]) {
  log(`prettier round trip: ${corpus} ${style}`);
  round.push(await prettierRoundTrip(corpus, style));
}
log('rxjs 7.8.0 -> 7.8.1');
const versions = await versionDiff();
const precise = [];
for (const corpus of ['rxjs', 'trpc']) {
  log(`precise edges: ${corpus}`);
  const out = execFileSync(
    process.execPath,
    [path.join(root, 'scripts', 'precise-edges.mjs'), fetchCorpus(corpus)],
    {
      encoding: 'utf8',
    },
  );
  precise.push({ corpus, ...JSON.parse(out) });
}
const perPackage = Math.ceil(mutations / packages.length);
const selections = [];
for (const spec of packages) selections.push(await selection(spec, perPackage));

const fmt = (n, d = 1) => n.toFixed(d);
const summary = (s) =>
  ['added', 'removed', 'modified', 'renamed', 'moved', 'reformatted', 'unchanged']
    .map((k) => s[k])
    .join(' / ');
const lines = [
  `Measured by \`npm run bench:change\` (scripts/bench-change.mjs) on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}.`,
  '',
  '**Prettier round trip** (sources reformatted by prettier 3 in two styles far from their own; scripts/reformat.mjs):',
  '',
  '| corpus | style | files rewritten | added / removed / modified / renamed / moved / reformatted / unchanged | files tree-sitter cannot parse after prettier |',
  '| --- | --- | ---: | --- | --- |',
  ...round.map(
    (r) =>
      `| ${r.corpus} | ${r.style} | ${r.rewritten} | ${summary(r.summary)} | ${r.broken.length === 0 ? 'none' : r.broken.join(', ')} |`,
  ),
  '',
  `**Consecutive versions**: rxjs 7.8.0 -> 7.8.1 (src): ${summary(versions.result.summary)} (added / removed / modified / renamed / moved / reformatted / unchanged). Changes other than reformatting:`,
  '',
  ...versions.sample.map(
    (c) =>
      `- ${c.kind} \`${c.to ?? c.from}\`${c.from !== null && c.to !== null && c.from !== c.to ? ` (was \`${c.from}\`)` : ''}${c.interfaceChanged ? ', interface changed' : ''}`,
  ),
  '',
  '**Test selection** (one function changed at a time; truth from V8 coverage of each test file):',
  '',
  '| package | test files | mutations | misses | mean tests: truth | ccx | file-level baseline | ccx affected ms (median) | cold ccx chunk ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...selections.map(
    (s) =>
      `| ${s.spec} | ${s.tests} | ${s.mutations} | ${s.misses} | ${fmt(s.meanTruth)} | ${fmt(s.meanSelected)} | ${fmt(s.meanBaseline)} | ${Math.round(s.affectedMs)} | ${Math.round(s.coldMs)} |`,
  ),
  ...selections.flatMap((s) => s.missed.map((m) => `- missed in ${s.spec}: ${m}`)),
  '',
  '**`--precise`** (edges between chunks of TypeScript files; the checker run in its own process):',
  '',
  '| corpus | TS files | ts-morph projects | name-based edges | checker edges | checker edges the names miss | checker ms | peak RSS MiB before / after |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...precise.map(
    (p) =>
      `| ${p.corpus} | ${p.files} | ${p.projects} | ${p.nameEdges} | ${p.checkerEdges} | ${p.added} (+${Math.round((100 * p.added) / p.nameEdges)}%) | ${p.ms} | ${p.rssBeforeMiB} / ${p.rssMiB} |`,
  ),
];
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
if (write) writeDocsBlock('change', 'ccx diff and ccx affected (issue 3)', table);
rmSync(scratch, { recursive: true, force: true });
