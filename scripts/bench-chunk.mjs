#!/usr/bin/env node
// `npm run bench`: ccx chunk against a bare tree-sitter parse of the same files, measured in one
// run on the same machine, on real corpora (scripts/fetch-corpus.mjs). Writes the table to
// docs/benchmarks.md and prints it.
//
//   node scripts/bench-chunk.mjs [--corpora python-stdlib,rxjs,trpc,effect] [--runs 3] [--no-write]
//
// Every figure is the median of --runs runs. Baselines:
//   bare parse  one process, the same grammars, every file read and parsed with tree-sitter,
//               nothing else (scripts/bare-parse.mjs)
//   ctags       universal-ctags `ctags -R` on the same tree (a reference: no graph, no hashes)
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchCorpus } from './fetch-corpus.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? fallback : args[i + 1];
};
const corpora = opt('corpora', 'python-stdlib,rxjs,trpc,effect').split(',');
const runs = Number(opt('runs', '3'));
const write = !args.includes('--no-write');
const ccx = path.join(root, 'bin', 'ccx.js');

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};

function timed(cmd, argv, env = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

function dirBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** ccx chunk run with CCX_TIMING=1: wall ms, peak RSS (MiB) and the summary line. */
function chunkRun(dir, store, extra = []) {
  const r = timed(process.execPath, [ccx, 'chunk', dir, '--store', store, ...extra], { CCX_TIMING: '1' });
  const rss = /ccx timing: peak rss (\d+) KiB/.exec(r.stderr);
  return { ms: r.ms, rssMiB: rss ? Number(rss[1]) / 1024 : Number.NaN, stdout: r.stdout };
}

function hasCtags() {
  return spawnSync('ctags', ['--version'], { encoding: 'utf8' }).stdout?.includes('Universal Ctags') ?? false;
}

const rows = [];
for (const name of corpora) {
  const source = fetchCorpus(name);
  // Work on a private copy so that the one-file edit never touches the cache.
  const work = mkdtempSync(path.join(tmpdir(), `ccx-bench-${name}-`));
  const dir = path.join(work, 'src');
  cpSync(source, dir, { recursive: true, verbatimSymlinks: true });
  const bare = JSON.parse(
    timed(process.execPath, [path.join(root, 'scripts', 'bare-parse.mjs'), dir]).stdout,
  );
  const bareMs = [];
  const bareWallMs = [];
  const cold = [];
  const noChange = [];
  const oneEdit = [];
  let storeBytes = 0;
  let summary = '';
  for (let i = 0; i < runs; i++) {
    const b = timed(process.execPath, [path.join(root, 'scripts', 'bare-parse.mjs'), dir]);
    bareMs.push(JSON.parse(b.stdout).ms);
    bareWallMs.push(b.ms);
    const store = path.join(work, `store${i}`);
    const c = chunkRun(dir, store);
    cold.push(c);
    summary = c.stdout.split('\n')[0];
    storeBytes = dirBytes(store);
    noChange.push(chunkRun(dir, store));
    // Edit one file: append a function to the largest file of the corpus's language.
    const target = path.join(dir, bare.largest);
    const before = readFileSync(target);
    appendFileSync(
      target,
      bare.language === 'python'
        ? `\n\ndef ccx_bench_${i}(x):\n    return x + ${i}\n`
        : `\nexport function ccxBench${i}(x: number) { return x + ${i}; }\n`,
    );
    oneEdit.push(chunkRun(dir, store));
    writeFileSync(target, before);
    rmSync(store, { recursive: true, force: true });
  }
  let ctagsMs = Number.NaN;
  if (hasCtags()) {
    const tags = path.join(work, 'tags');
    ctagsMs = median(Array.from({ length: runs }, () => timed('ctags', ['-R', '-f', tags, dir]).ms));
  }
  const coldMs = median(cold.map((c) => c.ms));
  rows.push({
    name,
    files: bare.files,
    lines: bare.lines,
    sourceBytes: bare.bytes,
    bareMs: median(bareMs),
    bareWallMs: median(bareWallMs),
    coldMs,
    coldRssMiB: median(cold.map((c) => c.rssMiB)),
    noChangeMs: median(noChange.map((c) => c.ms)),
    oneEditMs: median(oneEdit.map((c) => c.ms)),
    storeBytes,
    ctagsMs,
    summary,
  });
  rmSync(work, { recursive: true, force: true });
  process.stderr.write(`${name}: done\n`);
}

const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# Benchmarks',
  '',
  `Measured by \`npm run bench\` (scripts/bench-chunk.mjs) on ${new Date().toISOString().slice(0, 10)}: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}. Median of ${runs} runs; every ratio is against a baseline measured in the same run.`,
  '',
  "- **bare parse**: one process reads and parses every file with the same tree-sitter grammars and does nothing else (scripts/bare-parse.mjs); *in-process* is the time of the read-and-parse loop alone, *process* the wall time of the whole process (start-up, grammar loading, directory walk), measured like ccx's.",
  '- **cold**: `ccx chunk` into an empty store (parse, analyze, hash, graph, closure, store, snapshot), default `--jobs` (all cores).',
  '- **no change**: the same command again on the unchanged tree; **one edit**: again after appending a function to the largest file.',
  '- **peak RSS**: of the whole cold `ccx chunk` process, worker threads included.',
  '- **ctags**: `ctags -R` (universal-ctags) on the same tree, a reference that keeps no graph and no hashes.',
  '',
  '| corpus | files | lines | bare parse ms (in-process / process) | cold ms | cold / bare (in-process / process) | no change ms | no change / cold | one edit ms | one edit / cold | peak RSS MiB | store / source bytes | ctags ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${f0(r.files)} | ${f0(r.lines)} | ${f0(r.bareMs)} / ${f0(r.bareWallMs)} | ${f0(r.coldMs)} | ${f2(r.coldMs / r.bareMs)} / ${f2(r.coldMs / r.bareWallMs)} | ${f0(r.noChangeMs)} | ${pct(r.noChangeMs / r.coldMs)} | ${f0(r.oneEditMs)} | ${pct(r.oneEditMs / r.coldMs)} | ${f0(r.coldRssMiB)} | ${f2(r.storeBytes / r.sourceBytes)} | ${f0(r.ctagsMs)} |`,
  ),
  '',
  'Targets (issue 2): cold at most 1.5x bare parse (goal 1.0x), no change at most 5% of cold, one edit at most 10% of cold, peak RSS at most 400 MB on the Python standard library.',
  '',
  'What ccx printed for each cold run:',
  '',
  ...rows.map((r) => `- ${r.name}: \`${r.summary.replace(/ \/tmp\/\S+/g, ' …')}\``),
  '',
];
const table = lines.join('\n');
process.stdout.write(table);
// docs/benchmarks.md keeps its hand-written analysis; only the part between the markers is
// replaced.
if (write) {
  const file = path.join(root, 'docs', 'benchmarks.md');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  let doc = '';
  try {
    doc = readFileSync(file, 'utf8');
  } catch {
    doc = '';
  }
  const body = `${start}\n${table.replace(/^# Benchmarks\n\n/, '')}${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  doc = i !== -1 && j > i ? doc.slice(0, i) + body + doc.slice(j + end.length) : `# Benchmarks\n\n${body}\n`;
  writeFileSync(file, doc);
}
