#!/usr/bin/env node
// `npm run bench:env`: prewarmed environments against on-demand assembly (issue 5), on the tape
// tests of qs and resolve (npm pack, their own tests). Each test file runs once for real under
// `ccx run`; a Zipf (s = 1.1) sequence of --requests requests over them is split in time: the
// first 70% is the history (imported, then `ccx train`), the last 30% are the held-out requests.
// For each K, `ccx env prewarm --top K` builds environments from the history, then every held-out
// request is resolved in order (`ccx resolve`, in process): hit, partial or miss, and the time
// until its directory is ready. Baselines in the same run: on-demand assembly (every request a
// miss: the environments are deleted after each) and copying the full package directory.
// Every distinct held-out submission is then run in its environment (sandboxed) and its exit
// status compared with the one recorded in the full package.
//
//   node scripts/bench-env.mjs [--requests 200] [--no-write]
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocsBlock } from './docs-block.mjs';
import { replayLines, zipfSequence } from './replay.mjs';
import { fetchPackage, testFiles } from './test-packages.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ccx = path.join(root, 'bin', 'ccx.js');
const args = process.argv.slice(2);
const total = Number(args.includes('--requests') ? args[args.indexOf('--requests') + 1] : 200);
const write = !args.includes('--no-write');
const scratch = mkdtempSync(path.join(tmpdir(), 'ccx-bench-env-'));
const { resolveSubmission } = await import(path.join(root, 'dist', 'env', 'resolve.js'));
const { prewarm } = await import(path.join(root, 'dist', 'env', 'environment.js'));
const { openStore } = await import(path.join(root, 'dist', 'store', 'store.js'));

function ccxRun(argv, cwd) {
  const r = spawnSync(process.execPath, [ccx, ...argv], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0 && argv[0] !== 'run') throw new Error(`ccx ${argv.join(' ')}: ${r.stderr}`);
  return r;
}

function percentile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

function treeBytes(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) n += statSync(path.join(e.parentPath, e.name)).size;
  return n;
}

async function clearEnvironments(store) {
  const s = await openStore(store, { create: false });
  const ids = (await s.listEnvironments()).map((e) => e.id);
  await s.deleteEnvironments(ids);
  await s.close();
  rmSync(path.join(store, 'environments'), { recursive: true, force: true });
}

const mib = (b) => (b / 1024 / 1024).toFixed(2);
const results = [];
for (const spec of ['qs@6.13.0', 'resolve@1.22.8']) {
  process.stderr.write(`${spec}\n`);
  const dir = fetchPackage(spec);
  const tests = testFiles(dir);
  const baseStore = path.join(scratch, `base-${spec.replace(/\W/g, '_')}`);
  ccxRun(['chunk', dir, '--store', baseStore, '--quiet'], root);
  for (const t of tests) ccxRun(['run', '--quiet', '--store', baseStore, '--', 'node', t], dir);
  const real = JSON.parse(ccxRun(['history', 'ls', '--json', '--store', baseStore], dir).stdout);
  const sequence = zipfSequence(real, total, 7);
  const cut = Math.floor(total * 0.7);
  const lines = replayLines(sequence.slice(0, cut));
  // The real runs are the first records of the history; the replay follows them.
  const file = path.join(scratch, 'history.jsonl');
  writeFileSync(file, `${lines.join('\n')}\n`);
  ccxRun(['history', 'import', file, '--store', baseStore], dir);
  ccxRun(['train', '--store', baseStore], dir);
  const heldOut = sequence.slice(cut);

  // The full repository: its size, and the time to copy it as a fresh environment.
  const fullBytes = treeBytes(dir);
  const copyMs = [];
  for (let i = 0; i < 5; i++) {
    const target = path.join(scratch, `full-copy-${i}`);
    const t = performance.now();
    cpSync(dir, target, { recursive: true });
    copyMs.push(performance.now() - t);
    rmSync(target, { recursive: true, force: true });
  }

  // On demand: every held-out request assembled from scratch.
  const odStore = path.join(scratch, 'on-demand');
  cpSync(baseStore, odStore, { recursive: true });
  await clearEnvironments(odStore);
  const onDemand = [];
  for (const r of heldOut) {
    const out = await resolveSubmission(path.join(dir, r.submission.entry), { root: dir, store: odStore });
    onDemand.push(out.readyMs);
    await clearEnvironments(odStore);
  }
  rmSync(odStore, { recursive: true, force: true });

  const rows = [];
  for (const k of [1, 2, 4, 8, 16]) {
    if (k > real.length * 2) break;
    const store = path.join(scratch, `k${k}`);
    cpSync(baseStore, store, { recursive: true });
    const t = performance.now();
    const warmed = await prewarm({ root: dir, store, top: k });
    const prewarmMs = performance.now() - t;
    const prewarmedIds = new Set(warmed.environments.map((e) => e.id));
    const used = new Set();
    const counts = { hit: 0, partial: 0, miss: 0 };
    const ready = [];
    for (const r of heldOut) {
      const out = await resolveSubmission(path.join(dir, r.submission.entry), { root: dir, store });
      counts[out.match]++;
      ready.push(out.readyMs);
      if (out.matched !== null) used.add(out.matched);
      used.add(out.environment);
    }
    // Every distinct held-out submission, run in its environment: the same exit status?
    let same = 0;
    let ran = 0;
    for (const entry of new Set(heldOut.map((r) => r.submission.entry))) {
      const recorded = real.find((x) => x.submission.entry === entry).exitCode;
      const out = await resolveSubmission(path.join(dir, entry), {
        root: dir,
        store,
        run: true,
        capture: true,
      });
      ran++;
      if (out.run.exitCode === recorded) same++;
    }
    const layers = new Map();
    for (const e of warmed.environments) for (const l of e.layers) layers.set(l.digest, l);
    const sharedSaved = [...layers.values()].reduce((n, l) => n + l.size * (l.shared - 1), 0);
    const wasted = warmed.environments.filter((e) => !used.has(e.id)).reduce((n, e) => n + e.bytes, 0);
    rows.push({
      k,
      envs: warmed.environments.length,
      prewarmBytes: warmed.bytes,
      layerBytes: warmed.layerBytes,
      sharedSaved,
      meanEnvBytes: warmed.bytes / Math.max(1, warmed.environments.length),
      counts,
      p50: percentile(ready, 0.5),
      p95: percentile(ready, 0.95),
      wasted,
      prewarmMs,
      same,
      ran,
      coverage: `${warmed.coveredRequests}/${warmed.totalRequests}`,
      prewarmedUsed: [...prewarmedIds].filter((id) => used.has(id)).length,
    });
    rmSync(store, { recursive: true, force: true });
  }
  results.push({
    spec,
    tests: tests.length,
    heldOut: heldOut.length,
    fullBytes,
    copyP50: percentile(copyMs, 0.5),
    odP50: percentile(onDemand, 0.5),
    odP95: percentile(onDemand, 0.95),
    rows,
  });
}

const out = [
  `Measured by \`npm run bench:env\` (scripts/bench-env.mjs) on ${new Date().toISOString().slice(0, 10)}: ${total} requests over each package's tape test files in a Zipf (s = 1.1) order; the first 70% are the history (\`ccx train\`), the last 30% held out and resolved in order after \`ccx env prewarm --top K\`. Ready time: from the call to \`ccx resolve\` (in process, the root chunked again first) until the environment's directory is ready to run in. On demand: the same requests with every environment deleted after each. Full copy: \`cp -r\` of the package directory (sources and node_modules).`,
];
for (const r of results) {
  out.push(
    '',
    `**${r.spec}** (${r.tests} test files, ${r.heldOut} held-out requests; full package ${mib(r.fullBytes)} MiB, copied in ${r.copyP50.toFixed(0)} ms p50; on-demand assembly ${r.odP50.toFixed(0)} ms p50, ${r.odP95.toFixed(0)} ms p95):`,
    '',
    '| K | envs | history covered | hit / partial / miss | ready p50 ms | ready p95 ms | on-demand / prewarmed p50 | prewarmed MiB | distinct layer MiB (gzip) | saved by shared layers MiB | wasted MiB | mean env / full package | same exit status | prewarm s |',
    '| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.rows.map(
      (x) =>
        `| ${x.k} | ${x.envs} | ${x.coverage} | ${x.counts.hit} / ${x.counts.partial} / ${x.counts.miss} | ${x.p50.toFixed(1)} | ${x.p95.toFixed(1)} | ${(r.odP50 / x.p50).toFixed(1)}x | ${mib(x.prewarmBytes)} | ${mib(x.layerBytes)} | ${mib(x.sharedSaved)} | ${mib(x.wasted)} | ${(x.meanEnvBytes / r.fullBytes).toFixed(3)} | ${x.same}/${x.ran} | ${(x.prewarmMs / 1000).toFixed(1)} |`,
    ),
  );
}
const table = out.join('\n');
process.stdout.write(`${table}\n`);
if (write) writeDocsBlock('env', 'ccx env and ccx resolve: prewarmed environments (issue 5)', table);
rmSync(scratch, { recursive: true, force: true });
