/** `ccx deps ID`: direct or transitive dependencies, or dependents. */
import type { Command } from 'commander';
import { storeOption, waitOption } from '../program.js';
import { type CommonOptions, printJson } from '../render.js';

export function registerDepsCommand(program: Command): void {
  program
    .command('deps')
    .description('list the chunks a chunk depends on (or, with --reverse, those depending on it)')
    .argument('<id>', 'chunk id (path#name) or a name that matches one chunk')
    .option('--reverse', 'dependents instead of dependencies')
    .option('--closure', 'transitively')
    .option('--snapshot <id>', 'snapshot id or unique prefix')
    .option('--json', 'print as JSON')
    .addOption(storeOption('./.ccx'))
    .addOption(waitOption())
    .action(async (id: string, opts: CommonOptions & { reverse?: boolean; closure?: boolean }) => {
      const { deps } = await import('../../chunking/queries.js');
      const result = await deps({
        id,
        reverse: opts.reverse === true,
        closure: opts.closure === true,
        store: opts.store,
        snapshot: opts.snapshot,
        wait: opts.wait ?? false,
      });
      if (opts.json) {
        printJson(result);
        return;
      }
      for (const d of result.deps) process.stdout.write(`${d}\n`);
      for (const e of result.externalDeps) process.stdout.write(`${e} (external)\n`);
    });
}
