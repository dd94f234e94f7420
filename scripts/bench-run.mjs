#!/usr/bin/env node
// `npm run bench:run`: what recording costs. Each test file of real packages (qs, resolve: npm
// pack, tape tests) and some modules of the Python standard library's own test suite run as they
// are and under `ccx run`, as whole processes, median of --runs. Written to docs/benchmarks.md
// between the run markers and printed.
//
//   node scripts/bench-run.mjs [--runs 3] [--no-write]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeDocsBlock } from './docs-block.mjs';
import { fetchPackage, testFiles } from './test-packages.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ccx = path.join(root, 'bin', 'ccx.js');
const args = process.argv.slice(2);
const runs = Number(args.includes('--runs') ? args[args.indexOf('--runs') + 1] : 3);
const write = !args.includes('--no-write');
const scratch = mkdtempSync(path.join(tmpdir(), 'ccx-bench-run-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function timed(cmd, argv, cwd) {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  return { ms: performance.now() - t0, status: r.status, stderr: r.stderr };
}

function chunkInto(dir, store) {
  const r = spawnSync(process.execPath, [ccx, 'chunk', dir, '--store', store, '--quiet'], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`ccx chunk ${dir} failed: ${r.stderr}`);
}

/** Each command run as it is and under ccx run (alternating), median of `runs` each. */
function measure(suite, dir, commands) {
  const store = path.join(scratch, `store-${suite.replace(/\W/g, '_')}`);
  chunkInto(dir, store);
  let direct = 0;
  let recorded = 0;
  for (const command of commands) {
    const plain = [];
    const traced = [];
    for (let i = 0; i < runs; i++) {
      plain.push(timed(command[0], command.slice(1), dir).ms);
      traced.push(
        timed(process.execPath, [ccx, 'run', '--quiet', '--store', store, '--', ...command], dir).ms,
      );
    }
    direct += median(plain);
    recorded += median(traced);
  }
  const list = spawnSync(process.execPath, [ccx, 'history', 'ls', '--json', '--store', store], {
    encoding: 'utf8',
  });
  const records = JSON.parse(list.stdout);
  const meanChunks = records.reduce((n, r) => n + r.chunksUsed.length, 0) / Math.max(1, records.length);
  return { suite, commands: commands.length, direct, recorded, meanChunks };
}

const rows = [];
for (const spec of ['qs@6.13.0', 'resolve@1.22.8']) {
  const dir = fetchPackage(spec);
  process.stderr.write(`${spec}\n`);
  rows.push(
    measure(
      `${spec} (tape)`,
      dir,
      testFiles(dir).map((t) => ['node', t]),
    ),
  );
}
const stdlib = spawnSync('python3', ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], {
  encoding: 'utf8',
}).stdout.trim();
const modules = ['test_json', 'test_textwrap', 'test_difflib', 'test_shlex', 'test_fractions'];
process.stderr.write(`python stdlib ${stdlib}\n`);
rows.push(
  measure(
    'Python stdlib tests (unittest)',
    stdlib,
    modules.map((m) => ['python3', '-m', 'unittest', '-q', `test.${m}`]),
  ),
);

const lines = [
  `Measured by \`npm run bench:run\` (scripts/bench-run.mjs) on ${new Date().toISOString().slice(0, 10)}: each command as a whole process, as it is and under \`ccx run\`, median of ${runs}; times summed over the commands of a suite.`,
  '',
  '| suite | commands | as is ms | under ccx run ms | overhead | chunks recorded per run (mean) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${r.suite} | ${r.commands} | ${Math.round(r.direct)} | ${Math.round(r.recorded)} | ${Math.round((100 * (r.recorded - r.direct)) / r.direct)}% | ${r.meanChunks.toFixed(0)} |`,
  ),
];
const table = lines.join('\n');
process.stdout.write(`${table}\n`);
if (write) writeDocsBlock('run', 'ccx run: recording overhead (issue 4)', table);
rmSync(scratch, { recursive: true, force: true });
