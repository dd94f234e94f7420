/** `ccx model pull REPO_ID` and `ccx model ls`: models for `ccx gen` from a Hugging Face Hub. */
import { type Command, Option } from 'commander';
import type { ModelDtype } from '../../gen/hub.js';
import { printJson, shortId } from '../render.js';

interface ModelCliOptions {
  revision?: string;
  dtype?: ModelDtype;
  cacheDir?: string;
  json?: boolean;
}

const CACHE_HELP =
  'model cache (default: $CCX_MODEL_CACHE, else $XDG_CACHE_HOME/ccx/models or ~/.cache/ccx/models)';

export function registerModelCommand(program: Command): void {
  const model = program
    .command('model')
    .description('models for ccx gen: download from a Hugging Face Hub, list');
  const load = () => import('../../gen/hub.js');

  model
    .command('pull')
    .description('download what ccx gen needs of a Hugging Face Hub repository in the ONNX layout')
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  HF_ENDPOINT  Hub endpoint (default: https://huggingface.co)',
        '  HF_TOKEN     access token, for private or gated repositories',
        '',
        'Files go to {cache}/{owner}--{name}/{commit}/ with a ccx-model.json record; pass that',
        'directory to ccx gen --model. Running the command again resumes an interrupted pull.',
      ].join('\n'),
    )
    .argument('<repo>', 'repository id, owner/name')
    .option('--revision <rev>', 'branch, tag or commit', 'main')
    .addOption(
      new Option('--dtype <dtype>', 'precision of the ONNX file')
        .choices(['fp32', 'fp16', 'q8', 'q4'])
        .default('fp32'),
    )
    .option('--cache-dir <dir>', CACHE_HELP)
    .option('--json', 'print the ccx-model.json record (with dir) as JSON')
    .action(async (repo: string, opts: ModelCliOptions) => {
      const hub = await load();
      const spinner = await startSpinner(`pulling ${repo}`);
      let result: Awaited<ReturnType<typeof hub.pullModel>>;
      try {
        result = await hub.pullModel(repo, {
          revision: opts.revision,
          dtype: opts.dtype,
          cacheDir: opts.cacheDir,
          onProgress: spinner
            ? ({ file, bytes, total }) => {
                const of = total === undefined ? '' : ` / ${formatBytes(total)}`;
                const pct = total ? ` (${Math.floor((100 * bytes) / total)}%)` : '';
                spinner.text = `${file}  ${formatBytes(bytes)}${of}${pct}`;
              }
            : undefined,
        });
      } finally {
        spinner?.stop();
      }
      if (opts.json) {
        printJson(result);
        return;
      }
      const bytes = result.files.reduce((sum, f) => sum + f.bytes, 0);
      const lines = [
        `pulled ${result.repo}@${result.revision} (commit ${shortId(result.commit)}), ${result.dtype}: ${result.files.length} files, ${formatBytes(bytes)}`,
        `  dir: ${result.dir}`,
        `hint: ccx gen --model ${shellQuote(result.dir)}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  model
    .command('ls')
    .description('models in the cache')
    .option('--cache-dir <dir>', CACHE_HELP)
    .option('--json', 'print the ccx-model.json records (with dir) as JSON')
    .action(async (opts: ModelCliOptions) => {
      const hub = await load();
      const models = await hub.listModels({ cacheDir: opts.cacheDir });
      if (opts.json) {
        printJson(models);
        return;
      }
      if (models.length === 0)
        process.stderr.write(`no models in ${hub.resolveModelCacheDir({ cacheDir: opts.cacheDir })}\n`);
      const rows = models.map((m) => [
        m.repo,
        m.revision,
        shortId(m.commit),
        m.dtype,
        formatBytes(m.files.reduce((sum, f) => sum + f.bytes, 0)),
        m.dir,
      ]);
      const widths = [0, 1, 2, 3, 4].map((i) => Math.max(0, ...rows.map((r) => r[i]!.length)));
      for (const r of rows)
        process.stdout.write(
          `${r.map((cell, i) => (i < widths.length ? cell.padEnd(widths[i]!) : cell)).join('  ')}\n`,
        );
    });
}

/** An ora spinner on stderr when it is a terminal with a known width; none otherwise (see chunk.ts). */
async function startSpinner(text: string) {
  const columns = process.stderr.columns ?? 0;
  if (!process.stderr.isTTY || columns < 20) return undefined;
  const { default: ora } = await import('ora');
  return ora({ text, stream: process.stderr, discardStdin: false }).start();
}

/** `512 B`, `1.5 KiB`, `2.3 GiB`. */
function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The path as one shell word (single quotes only when it needs them). */
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
