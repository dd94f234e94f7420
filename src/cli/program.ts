/**
 * The commander program: every command, its options and help. Builds, never parses; the one
 * place that parses and maps errors to exit codes is src/cli/main.ts.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { registerAffectedCommand } from './commands/affected.js';
import { registerCatCommand } from './commands/cat.js';
import { registerChunkCommand } from './commands/chunk.js';
import { registerDepsCommand } from './commands/deps.js';
import { registerDiffCommand } from './commands/diff.js';
import { registerEnvCommand, registerResolveCommand } from './commands/env.js';
import { registerGenCommand } from './commands/gen.js';
import { registerHistoryCommand } from './commands/history.js';
import { registerLogCommand } from './commands/log.js';
import { registerManifestCommand } from './commands/manifest.js';
import { registerModelCommand } from './commands/model.js';
import { registerPredictCommands } from './commands/predict.js';
import { registerRunCommand } from './commands/run.js';
import { registerShowCommand } from './commands/show.js';
import { registerVerifyCommand } from './commands/verify.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Parses a positive integer option value. */
export function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

/** `--store PATH`, shared by every command. */
export function storeOption(defaultText: string): Option {
  return new Option('--store <path>', `store directory (default: ${defaultText}, or $CCX_STORE)`);
}

/** `--wait [ms]`, shared by every command that opens the store. */
export function waitOption(): Option {
  return new Option(
    '--wait [ms]',
    'wait for a store in use by another process (for ever, or this many ms)',
  ).argParser((v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected milliseconds');
    return n;
  });
}

/** Builds the `ccx` program with every command registered. */
export function createProgram(): Command {
  const program = new Command('ccx')
    .description(
      'Understand a code base as semantic chunks (functions, classes, methods, modules): semantic hashes,\n' +
        'a dependency graph and a content-addressed store with snapshots.',
    )
    .version(packageVersion(), '-V, --version', 'print the ccx version')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (str, write) => write(str) })
    // Throw instead of exiting, so src/cli/main.ts maps every outcome to an exit code; set
    // before the commands are added so that they inherit it.
    .exitOverride();
  registerChunkCommand(program);
  registerDiffCommand(program);
  registerAffectedCommand(program);
  registerRunCommand(program);
  registerHistoryCommand(program);
  registerPredictCommands(program);
  registerEnvCommand(program);
  registerResolveCommand(program);
  registerManifestCommand(program);
  registerLogCommand(program);
  registerShowCommand(program);
  registerDepsCommand(program);
  registerCatCommand(program);
  registerVerifyCommand(program);
  registerGenCommand(program);
  registerModelCommand(program);
  return program;
}
