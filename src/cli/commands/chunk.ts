/** `ccx chunk [DIR]`: options -> chunk() -> summary or manifest JSON. */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { ChunkResult } from '../../chunking/chunk.js';
import { DEFAULT_MAX_FILE_BYTES } from '../../chunking/defaults.js';
import { parsePositiveInt, storeOption, waitOption } from '../program.js';
import { formatCount, formatMs, printJson, shortId } from '../render.js';

interface ChunkCliOptions {
  store?: string;
  json?: boolean;
  jobs?: number;
  maxFileBytes?: number;
  strict?: boolean;
  quiet?: boolean;
  wait?: number | true;
}

/** At most this many problem lines on stderr; the rest are counted. */
const MAX_PROBLEM_LINES = 20;

export function registerChunkCommand(program: Command): void {
  program
    .command('chunk')
    .description('split every source file under DIR into chunks and store a snapshot')
    .argument('[dir]', 'directory to chunk', '.')
    .addOption(storeOption('DIR/.ccx'))
    .option('--json', 'print the manifest as JSON (shared/spec/manifest.schema.json)')
    .addOption(
      new Option('--jobs <n>', 'worker threads (default: the number of cores)').argParser(parsePositiveInt),
    )
    .addOption(
      new Option('--max-file-bytes <n>', 'skip files larger than this')
        .argParser(parsePositiveInt)
        .default(DEFAULT_MAX_FILE_BYTES, '2 MiB'),
    )
    .option('--strict', 'exit 1 when any file was skipped or failed to parse')
    .option('--quiet', 'print nothing but errors (and the manifest with --json)')
    .addOption(waitOption())
    .action(async (dir: string, opts: ChunkCliOptions) => {
      const spinner = await startSpinner(opts.quiet === true || opts.json === true);
      let result: ChunkResult;
      try {
        // Loaded here so that `ccx --help` does not load tree-sitter, LevelDB or the workers.
        const { chunk } = await import('../../chunking/chunk.js');
        result = await chunk({
          root: dir,
          store: opts.store,
          jobs: opts.jobs,
          maxFileBytes: opts.maxFileBytes,
          wait: opts.wait === undefined ? false : opts.wait,
          manifest: opts.json === true,
          onProgress: spinner
            ? throttle((done, total) => {
                spinner.text = `chunking ${formatCount(done)}/${formatCount(total)} files`;
              })
            : undefined,
        });
      } finally {
        spinner?.stop();
      }
      reportProblems(result);
      if (opts.json) printJson(result.manifest);
      else if (!opts.quiet) printSummary(result);
      if (opts.strict && (result.stats.skipped > 0 || result.stats.parseErrors > 0)) process.exitCode = 1;
    });
}

/**
 * An ora spinner on stderr when it is a terminal with a known width; none otherwise, so CI logs
 * stay clean (and a pseudo-terminal without a size cannot make ora redraw without end).
 */
async function startSpinner(silent: boolean) {
  const columns = process.stderr.columns ?? 0;
  if (silent || !process.stderr.isTTY || columns < 20) return undefined;
  const { default: ora } = await import('ora');
  return ora({ text: 'listing files', stream: process.stderr, discardStdin: false }).start();
}

/** Skipped files and parse errors, once each, on stderr. */
function reportProblems(result: ChunkResult): void {
  const lines = result.problems.map(
    (f) => `${f.status === 'skipped' ? 'skipped' : 'parse error'}: ${f.path}: ${f.reason}`,
  );
  for (const w of result.warnings) lines.push(`warning: ${w}`);
  for (const line of lines.slice(0, MAX_PROBLEM_LINES)) process.stderr.write(`${line}\n`);
  if (lines.length > MAX_PROBLEM_LINES) {
    process.stderr.write(
      `... and ${lines.length - MAX_PROBLEM_LINES} more (the --json manifest lists them all)\n`,
    );
  }
}

function printSummary(result: ChunkResult): void {
  const s = result.stats;
  const ok = s.files - s.parseErrors - s.skipped;
  const out = [
    `chunked ${result.root}: ${formatCount(s.files)} files (${formatCount(ok)} ok, ${formatCount(s.parseErrors)} with parse errors, ${formatCount(s.skipped)} skipped) into ${formatCount(s.chunks)} chunks in ${formatMs(s.ms)}`,
    `  languages: ${formatCounts(result.chunksByLanguage)}`,
    `  kinds:     ${formatCounts(result.chunksByKind)}`,
    `  reused ${formatCount(s.reusedFiles)} unchanged files; ${formatCount(s.newChunks)} chunk hashes new to the store`,
    result.newSnapshot
      ? `  snapshot ${shortId(result.snapshot)} (parent ${shortId(result.parent)}) in ${result.storePath}`
      : `  nothing changed since snapshot ${shortId(result.snapshot)} in ${result.storePath}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  if (entries.length === 0) return 'none';
  return entries
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k, n]) => `${k} ${formatCount(n)}`)
    .join(', ');
}

/** Calls `fn` at most every 100 ms (and always for the last item), so redraws stay cheap. */
function throttle(fn: (done: number, total: number) => void): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    fn(done, total);
  };
}
